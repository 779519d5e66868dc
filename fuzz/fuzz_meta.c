/* libFuzzer target: snapshot metadata, the ".meta" files of the store
 * (make fuzz).  Whatever parses must format to text that parses again to
 * the same metadata: store_meta_format(store_meta_parse(x)) is a fixed
 * point after one round. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot_meta m, again;
	char err[256];
	if (store_meta_parse((const char *)data, size, &m, err, sizeof err) < 0)
		return 0;
	char *text = store_meta_format(&m);
	if (store_meta_parse(text, strlen(text), &again, err, sizeof err) < 0) {
		fprintf(stderr, "formatted metadata does not parse: %s\n%s", err, text);
		abort();
	}
	char *text2 = store_meta_format(&again);
	if (strcmp(text, text2) != 0 || m.rows != again.rows) {
		fprintf(stderr, "metadata changes on a round trip:\n%s----\n%s", text, text2);
		abort();
	}
	free(text);
	free(text2);
	store_meta_free(&m);
	store_meta_free(&again);
	return 0;
}
