/* libFuzzer target: dotenv files (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/dotenv.h"
#include "base/io.h"
#include "base/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[] = "/tmp/fuzz-dotenv-XXXXXX";
	static int fd = -1;
	msg_verbosity = -1;
	if (fd < 0 && (fd = mkstemp(path)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct dotenv d;
	if (dotenv_load(path, &d) == 0)
		dotenv_free(&d);
	return 0;
}
