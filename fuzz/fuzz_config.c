/* libFuzzer target: dbguard.conf files (make fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/config.h"
#include "base/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/fuzz-config-XXXXXX";
	static char path[sizeof dir + 16];
	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof path, "%s/.dbguard.conf", dir);
	}
	msg_verbosity = -1;
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	config_load(dir);
	config_get_list("safe-run", "test_commands");
	config_get("portcheck", "range");
	return 0;
}
