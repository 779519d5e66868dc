/* list.h — the snapshots in the store: listing them (newest first, good or
 * not), finding one, and printing the listing. */
#ifndef DBGUARD_STORE_LIST_H
#define DBGUARD_STORE_LIST_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "base/output.h"
#include "model/target.h"
#include "store/meta.h"

struct snapshot {
	char *path;                 /* the data file */
	char *meta_path;            /* path + ".meta" */
	char *name;                 /* base name of path */
	char *dbkey;                /* the <database> part of the name */
	time_t when;                /* the time in the name: the order of the
	                               listing and what retention goes by */
	int good;                   /* metadata parses and the file's size matches it */
	char *problem;              /* why not good, or NULL */
	struct snapshot_meta meta;
	char *where;                /* remote listings: "remote" or "local+remote"; else NULL */
};

struct snapshot_list {
	struct snapshot *v;
	size_t n;                   /* sorted newest first */
};

/* Every snapshot in dir (dbkey NULL: all databases), newest first, good or
 * not; stray temporary files are not listed. */
void store_list(const char *dir, const char *dbkey, struct snapshot_list *out);
/* The snapshots of target t: store_list with t's dbkey, less the good ones
 * of another engine (a MySQL and a PostgreSQL database may share a name). */
void store_list_target(const char *dir, const struct target *t, struct snapshot_list *out);
void snapshot_list_free(struct snapshot_list *l);
/* The snapshot an operand names: a file (or its ".meta"), else a name in
 * the store dir when no such file exists (malloc'd path). */
char *store_find(const char *dir, const char *arg);
/* The newest good snapshot of dbkey, or NULL. */
const struct snapshot *store_latest(const struct snapshot_list *l);

/* The listing db-snap --list and db-restore --list print: fmt FMT_HUMAN (a
 * table; with_db adds the database column), FMT_TSV (a header line, then
 * path, database, engine, created, label, size, raw_bytes, compression,
 * tables, rows, status, reason, problem, kind) or FMT_JSON (an array of objects).
 * When the first snapshot has a where, a WHERE column (tsv: where, last;
 * json: "where") says where each one is. */
void store_print_list(FILE *f, const struct snapshot_list *l, enum out_format fmt, int with_db);
/* --list of db-snap and db-restore: l on stdout, or for an empty list in
 * human form one line on stderr, "no snapshots of 'OF' in 'DIR'" (no "of"
 * part when of is NULL). */
void store_show_list(const struct snapshot_list *l, enum out_format fmt, int with_db, const char *of,
                     const char *dir);

#endif
