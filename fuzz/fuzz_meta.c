/* libFuzzer target: snapshot metadata, the ".meta" files of the store
 * (make fuzz).  Each input is parsed as it is (the seal, its last
 * meta_sha256 line, checked first) and again sealed, so that the parser
 * behind the seal is reached too.  Whatever parses must format to text that
 * parses again to the same metadata: store_meta_format(store_meta_parse(x))
 * is a fixed point after one round. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checksum.h"
#include "base/xalloc.h"
#include "store/meta.h"

static void round_trip(const char *data, size_t size)
{
	struct snapshot_meta m, again;
	char err[256];
	if (store_meta_parse(data, size, &m, err, sizeof err) < 0)
		return;
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip((const char *)data, size);
	/* The same lines sealed as db-snap seals them. */
	struct strbuf sb = STRBUF_INIT;
	sb_add(&sb, (const char *)data, size);
	if (size && data[size - 1] != '\n')
		sb_addc(&sb, '\n');
	struct sha256 h;
	char hex[SHA256_HEX_SIZE];
	if (sha256_init(&h) < 0)
		abort();
	sha256_update(&h, sb.buf ? sb.buf : "", sb.len);
	if (sha256_final(&h, hex) < 0)
		abort();
	sb_addf(&sb, "meta_sha256=%s\n", hex);
	round_trip(sb.buf, sb.len);
	sb_free(&sb);
	return 0;
}
