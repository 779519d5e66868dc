/* libFuzzer target: safe-run's command-line classifier (saferun/command.c),
 * the input split at NUL bytes into argv words (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/msg.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "saferun/command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int loaded;
	if (!loaded) {
		config_load(NULL);
		loaded = 1;
	}
	msg_verbosity = -1;
	struct strvec av = STRVEC_INIT;
	size_t start = 0;
	for (size_t i = 0; i <= size; i++)
		if (i == size || data[i] == 0) {
			sv_push_owned(&av, xstrndup((const char *)data + start, i - start));
			start = i + 1;
		}
	struct command_info ci;
	command_classify(sv_argv(&av), &ci);
	if (!cmd_class_name(ci.cls) || !ci.why)
		abort();
	command_info_free(&ci);
	sv_free(&av);
	return 0;
}
