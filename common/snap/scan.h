/* scan.h — the dump scanners: they count the rows of every table in a dump
 * stream as it passes to the compressor, fed in pieces of any size, so
 * that a snapshot's row counts are exactly what it holds.  The stream holds
 * whatever the database holds, so they take any bytes at all (fuzzed by
 * fuzz/fuzz_dump_scan.c). */
#ifndef DBGUARD_SNAP_SCAN_H
#define DBGUARD_SNAP_SCAN_H

#include <stddef.h>

#include "base/xalloc.h"

/* ---- PostgreSQL (scan_pg.c) ----
 * Rows per table in the COPY blocks of a pg_dump plain-format stream.  The
 * tables are known beforehand (pg.c reads them from the catalog in the
 * snapshot pg_dump dumps); a COPY block of a table not added is skipped. */
struct pgtable {
	char *schema, *name, *display;
	unsigned long oid;
	long long own;               /* rows in its own COPY block */
};

struct pgscan {
	int state, data_entry;
	struct strbuf line;
	struct pgtable *tabs;        /* sorted by (schema, name) */
	size_t n, cap;
	long cur;                    /* table of the open COPY block, -1 unknown */
};

void pgscan_init(struct pgscan *s);
/* Add a table (any order), then pgscan_ready() once before the first bytes. */
void pgscan_add_table(struct pgscan *s, unsigned long oid, const char *schema, const char *name);
void pgscan_ready(struct pgscan *s);
/* Feed the next len bytes of the stream (an observer's scan callback). */
void pg_scan(void *arg, const char *buf, size_t len);
void pgscan_free(struct pgscan *s);

/* ---- MySQL / MariaDB (scan_mysql.c) ----
 * Tuples per table in the INSERT statements of a mariadb-dump stream; the
 * tables are learnt from its CREATE TABLE statements, in dump order. */
struct myscan {
	int state, delim_normal;
	int for_insert;              /* MY_NAME reads an INSERT's table, else a CREATE TABLE's */
	int tick;                    /* saw a backtick inside a name */
	int depth;
	char quote;
	long cur;
	struct strbuf line, name;
	struct strvec tables;        /* from CREATE TABLE, in dump order */
	long long *rows;
	size_t cap;
};

void myscan_init(struct myscan *s);
/* Feed the next len bytes of the stream (an observer's scan callback). */
void my_scan(void *arg, const char *buf, size_t len);
void myscan_free(struct myscan *s);

#endif
