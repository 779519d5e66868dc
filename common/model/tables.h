/* tables.h — the tables of a database with their exact row counts: what a
 * snapshot records and what a restore is checked against. */
#ifndef DBGUARD_TABLES_H
#define DBGUARD_TABLES_H

#include <stddef.h>

struct table_count {
	char *name;      /* schema-qualified for PostgreSQL outside "public": "audit.log" */
	long long rows;  /* exact: SELECT count(*) */
};

struct table_counts {
	struct table_count *v;
	size_t n;
};

void table_counts_free(struct table_counts *tc);

/* Append the table of one "NAME<TAB>ROWS" value (a snapshot metadata's
 * table= line) to tc, growing it by *cap.  0, or -1 when it does not parse. */
int table_counts_add_line(struct table_counts *tc, size_t *cap, const char *value);

/* The table= lines of a snapshot's metadata text, in their order (nothing
 * else is checked: the seal is the store's).  0, or -1 on a bad line. */
int table_counts_from_meta(const char *text, struct table_counts *out);

#endif
