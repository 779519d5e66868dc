/* libFuzzer target: database URLs and keyword strings (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/dburl.h"
#include "model/target.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct target t;
	memset(&t, 0, sizeof t);
	char err[256];
	if (dburl_parse(s, &t, "fuzz", err, sizeof err) == 0) {
		free(dburl_format(&t, 1));
		free(target_describe(&t));
	}
	target_free(&t);
	free(s);
	return 0;
}
