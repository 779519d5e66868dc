/* libFuzzer target: dbguard.conf files (make fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/config.h"
#include "base/msg.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msg_verbosity = -1;
	const char *dir;
	fuzz_file(".dbguard.conf", data, size, &dir);
	config_load(dir);
	config_get_list("safe-run", "test_commands");
	config_get("portcheck", "range");
	return 0;
}
