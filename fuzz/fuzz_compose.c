/* libFuzzer target: compose files through libyaml, merge keys, extends and
 * interpolation (make fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/compose.h"
#include "model/config.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int loaded;
	if (!loaded++)
		config_load(NULL);
	msg_verbosity = -1;
	const char *path = fuzz_file("compose.yaml", data, size, NULL);
	struct strvec files = STRVEC_INIT;
	sv_push(&files, path);
	struct compose_project p;
	memset(&p, 0, sizeof p);
	compose_load(&p, &files);
	compose_free(&p);
	sv_free(&files);
	return 0;
}
