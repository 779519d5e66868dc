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

#endif
