/* libFuzzer target: the dump scanners that count rows, PostgreSQL's and
 * MySQL's (make fuzz).  Each input goes to both, once whole and once in
 * pieces of sizes drawn from the input itself: the counts must not depend
 * on where the pipe happened to split the stream. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap/scan.h"

/* Tables the PostgreSQL scanner knows beforehand, as pg.c adds them from
 * the catalog: plain, quoted (fmtId), and names that need the quotes. */
static const char *const pg_tables[][2] = {
	{ "public", "users" }, { "public", "orders" }, { "app", "Weird \"Name\"" },
	{ "public", "a.b" }, { "Sch ema", "t" }, { "public", "" },
};

/* Piece lengths from the input's bytes: 1 to 64, then the rest. */
static void feed(void (*scan)(void *, const char *, size_t), void *s, const uint8_t *data,
                 size_t size, int whole)
{
	if (whole) {
		scan(s, (const char *)data, size);
		return;
	}
	for (size_t off = 0, k = 0; off < size; k++) {
		size_t n = (size_t)(data[k % size] % 64) + 1;
		if (n > size - off)
			n = size - off;
		scan(s, (const char *)data + off, n);
		off += n;
	}
}

static void pg_counts(const uint8_t *data, size_t size, int whole, long long *own)
{
	struct pgscan s;
	pgscan_init(&s);
	for (size_t i = 0; i < sizeof pg_tables / sizeof *pg_tables; i++)
		pgscan_add_table(&s, 1000 + i, pg_tables[i][0], pg_tables[i][1]);
	pgscan_ready(&s);
	feed(pg_scan, &s, data, size, whole);
	for (size_t i = 0; i < s.n; i++)
		own[i] = s.tabs[i].own;
	pgscan_free(&s);
}

static char *my_counts(const uint8_t *data, size_t size, int whole)
{
	struct myscan s;
	myscan_init(&s);
	feed(my_scan, &s, data, size, whole);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < s.tables.n; i++)
		sb_addf(&sb, "%s\t%lld\n", s.tables.v[i], s.rows[i]);
	myscan_free(&s);
	return sb_detach(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum { NT = sizeof pg_tables / sizeof *pg_tables };
	long long a[NT], b[NT];
	pg_counts(data, size, 1, a);
	pg_counts(data, size, 0, b);
	if (memcmp(a, b, sizeof a) != 0) {
		fprintf(stderr, "pg_scan: the counts depend on how the stream is split\n");
		abort();
	}
	char *x = my_counts(data, size, 1), *y = my_counts(data, size, 0);
	if (strcmp(x, y) != 0) {
		fprintf(stderr, "my_scan: the counts depend on how the stream is split:\n%s----\n%s", x, y);
		abort();
	}
	free(x);
	free(y);
	return 0;
}
