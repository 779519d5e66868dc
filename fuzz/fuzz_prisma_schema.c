/* libFuzzer target: prisma/schema.prisma datasource blocks (make fuzz). */
#include <stdint.h>
#include <stdlib.h>

#include "resolve/framework.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct prisma_ds ds;
	char err[256];
	prisma_parse(s, &ds, err, sizeof err);
	prisma_ds_free(&ds);
	free(s);
	return 0;
}
