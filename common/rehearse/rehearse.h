/* rehearse.h — the engine work of a rehearsal (safe-run --rehearse), done by
 * db-rehearse: a throwaway copy of a database beside it (copy.c), the schema
 * and row counts of a database (inventory.c and one file per engine), a
 * checksum proving an original unchanged, what a command lost between two
 * inventories (diff.c, report.c), and the environment that points a
 * command at the copy instead of the original (redirect.c). */
#ifndef DBGUARD_REHEARSE_H
#define DBGUARD_REHEARSE_H

#include <stddef.h>
#include <stdio.h>
#include "engine/engine.h"
#include "model/target.h"

/* What names a copy, so nobody mistakes it and a later run finds the
 * leftovers of a killed one: <database>__dbguard_rehearse_<pid>. */
#define RH_MARK "__dbguard_rehearse_"

/* ---- inventory: schema, row counts and non-NULL counts ---- */

struct rh_column {
	char *name, *type;
	int notnull;
};

struct rh_constraint {
	char kind;            /* 'p' primary key, 'u' unique, 'f' foreign key, 'c' check */
	char *name, *def;     /* def: the engine's own text, compared as is */
	char *ref;            /* 'f': the table referred to */
	int cascade;          /* 'f': ON DELETE CASCADE */
};

struct rh_table {
	char *name;           /* as shown: "users", "audit.log" */
	char *ref;            /* quoted for SQL */
	long long rows;
	char **pk;            /* primary key columns, NULL-terminated (empty: none) */
	size_t npk;
	struct rh_column *col;
	size_t ncol;
	struct rh_constraint *con;
	size_t ncon;
};

struct rh_inventory {
	struct rh_table *t;
	size_t n;
};

void rh_inventory_free(struct rh_inventory *inv);
struct rh_table *rh_table_find(const struct rh_inventory *inv, const char *name);
struct rh_column *rh_column_find(const struct rh_table *t, const char *name);
/* Read the inventory of the database c is connected to (one consistent
 * read where the engine has one).  0, or -1 with err. */
int rh_inventory_read(struct dbconn *c, struct rh_inventory *inv, char *err, size_t errlen);
/* As lines of TSV (the files db-rehearse keeps between its two steps). */
int rh_inventory_write(FILE *f, const struct rh_inventory *inv);
int rh_inventory_load(const char *path, struct rh_inventory *inv, char *err, size_t errlen);

/* A checksum of an original's schema and content ("<engine>:<sha256 hex>"),
 * equal before and after only when nothing in it changed.  t is the
 * original; c an open connection to it (NULL for sqlite, which hashes
 * the file); like, when not NULL, the checksum from before, whose kind
 * (content or row marks) this one takes.  malloc'd, or NULL with err. */
char *rh_checksum(const struct target *t, struct dbconn *c, const char *like, char *err, size_t errlen);
/* The same checksum of the database c is connected to (a server's, not a
 * SQLite file) and, read in the same pass, its inventory into *inv.  With
 * marks, the engine's row marks stand for the rows' content where it has
 * them ("<engine>+marks:<hex>"): only for a database nobody wrote to while
 * it was read, as a PostgreSQL template copy (pg.c says why). */
char *rh_checksum_inventory(struct dbconn *c, int marks, struct rh_inventory *inv, char *err, size_t errlen);
/* rh_checksum(t, c, like) into *sum (unless *sum is already set: a SQLite
 * file's, hashed first) while, on connection cc, the inventory of the copy
 * is read into *inv: the two scans in parallel, each on its own
 * connection.  0; -1 with *sum NULL and sum_err, or with err. */
int rh_checksum_beside(const struct target *t, struct dbconn *c, const char *like, char **sum, char *sum_err,
                       size_t sum_errlen, struct dbconn *cc, struct rh_inventory *inv, char *err, size_t errlen);

/* The values of column col of table tab, keyed by the primary key: rows
 * of "key\x1fvalue" (value "\x02" for NULL), unsorted.  0, or -1 with err. */
struct rh_values {
	char **key, **val;
	size_t n;
};
int rh_values_read(struct dbconn *c, const struct rh_table *tab, const char *col,
                   struct rh_values *out, char *err, size_t errlen);
void rh_values_free(struct rh_values *v);

/* ---- copies ---- */

/* The copy's database name (a file path for sqlite) for original t and run
 * id pid.  malloc'd. */
char *rh_copy_name(const struct target *t, long pid);
/* t with its database replaced by the copy's. */
void rh_copy_target(const struct target *t, const char *copy, struct target *out);
/* A snapshot of target number target_no by db-snap (reason for its
 * metadata): its path (malloc'd), or NULL with the reason reported. */
char *rh_snapshot(int target_no, int test_run, const char *reason);
/* A connection to t's server that may create and drop databases (the
 * maintenance database), shared by the steps below; NULL for sqlite (which
 * needs none) or when it cannot be made (reported). */
struct dbconn *rh_server_connect(const struct target *t);
/* Make the copy of t on server connection s: PostgreSQL CREATE DATABASE ...
 * TEMPLATE when no other session uses the original, MySQL a schema of the
 * same tables filled by INSERT ... SELECT when it holds nothing else; else
 * db-restore --into=COPY of the snapshot *snapshot, taken first (and
 * returned there, malloc'd) when *snapshot is NULL; SQLite the online
 * backup API.  *how says which ("template", "tables", "snapshot",
 * "backup").  DG_OK, or an exit status with the reason reported. */
int rh_copy_make(const struct target *t, struct dbconn *s, int target_no, int test_run, const char *copy,
                 char **snapshot, const char **how);
/* Drop a copy (never a name without RH_MARK) on server connection s (NULL:
 * one is opened).  0, or -1 reported. */
int rh_copy_drop(const struct target *t, struct dbconn *s, const char *copy);
/* Drop the copies of t's database left by runs that no longer exist (on s,
 * as above); how many were dropped. */
int rh_copy_clean(const struct target *t, struct dbconn *s);

/* ---- the loss report ---- */

struct rh_report;
/* Compare before (the copy before the command) with after (the copy after
 * it); orig and copy are open connections to the original (unchanged, so
 * equal to the copy before) and the copy, for the values of the columns
 * whose type changed.  Never NULL. */
struct rh_report *rh_diff(const struct rh_inventory *before, const struct rh_inventory *after,
                          struct dbconn *orig, struct dbconn *copy);
/* 1 when something would be lost. */
int rh_report_loss(const struct rh_report *r);
/* One database's section, human or JSON (an object of safe-run(1)'s
 * REHEARSAL schema); target_desc and copy name it, unchanged says whether
 * the original's checksum held. */
void rh_report_print(FILE *f, const struct rh_report *r, int json, const char *target_desc,
                     const char *engine, const char *database, const char *copy, int unchanged);
void rh_report_free(struct rh_report *r);

/* ---- the redirect ---- */

/* The environment that points a command at copy instead of t: "KEY=value"
 * for each variable that named t's database (in the process environment
 * or a dotenv file), rewritten.  When a source cannot be overridden through
 * the environment (a framework file with a literal value), returns -1 and
 * *pinned (malloc'd) names it: "bootstrap/cache/config.php:12 ...". */
int rh_redirect(const struct target *t, const char *copy, int primary, struct strvec *env, char **pinned);

#endif
