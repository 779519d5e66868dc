/* impl.h — what the files of restore/ share among themselves; not for use
 * outside the folder (the interface is restore.h).  restore.c holds the
 * engine-neutral parts (signals, scratch names, hex-encoded query results,
 * feeding a snapshot to a loader, comparing row counts, the dispatch);
 * pg.c, mysql.c and sqlite.c one engine each. */
#ifndef DBGUARD_RESTORE_IMPL_H
#define DBGUARD_RESTORE_IMPL_H

#include <stddef.h>

#include "restore/restore.h"
#include "engine/engine.h"

#define ERRLEN 512

/* ------------------------------------------------------------ names */

/* A copy of t naming database db. */
void copy_with_db(struct target *dst, const struct target *t, const char *db);
/* The start of db that our names keep (at most PREFIX_MAX bytes). */
char *name_prefix(const char *db);
/* <prefix>__dbguard_<kind>[<generation>]_<pid>. */
char *scratch_name(const char *db, const char *kind);
/* The pid at the end of one of our names, or 0. */
long name_pid(const char *name);
/* Is pid a db-restore still running (its scratch is then no leftover)? */
int restore_running(long pid);
/* Drop the scratch databases of db on c's server that db-restores now
 * gone left behind, saying so.  The engine's parts: list_sql, the query
 * listing the databases whose names match the LIKE literal lit (one
 * encoded field a row, see struct rows); drop, dropping one (a failure is
 * its warning). */
void drop_leftovers(struct dbconn *c, const char *db, char *(*list_sql)(const char *lit),
                    void (*drop)(struct dbconn *c, const char *name));

/* ------------------------------------------------- hex-encoded results */

/* Query results that may hold any bytes travel hex-encoded: rows separated
 * by ' ', fields by ',', each field 'n' (NULL) or 'v' followed by hex. */
struct rows {
	size_t n, nf;
	char **cell;
};
#define CELL(r, i, f) ((r)->cell[(i) * (r)->nf + (f)])

void rows_free(struct rows *r);
/* Run sql (one value, encoded as above) and decode it into r with nf
 * fields a row.  0, or -1 with err. */
int query_rows(struct dbconn *c, const char *sql, size_t nf, struct rows *r,
               char *err, size_t errlen);
/* "CONCAT_WS(',', f(e1), f(e2), ...)", f making the SQL of one encoded
 * field from an expression (each engine has its own). */
char *fields_sql(char *(*f)(const char *), const char *const exprs[], size_t n);

/* ------------------------------------------------ streaming the snapshot */

/* Decompress the snapshot into out_fd, checking it against its metadata;
 * a line starting with one of bad (NULL: no check) stops it.  DG_OK;
 * DG_INTEGRITY (reported); DG_NO with *werr set when writing failed (not
 * reported), or reported when reading failed; 128 + signal. */
int feed_snapshot(const struct restore_input *in, int out_fd, const char *label,
                  const char *const *bad, int *werr);
/* Run a loader (psql, mariadb) with the decompressed snapshot on its
 * stdin.  DG_OK when it read everything and succeeded; otherwise reported. */
int run_loader(char *const argv[], char *const env[], const struct restore_input *in,
               const char *label, const char *const *bad);

/* ------------------------------------------------------------ counts */

/* Compare the tables of c with the snapshot's counts.  DG_OK, or DG_NO
 * with every difference reported. */
int compare_counts(struct dbconn *c, const struct snapshot_meta *m, const char *what);
/* Connect to database db on t's server and compare its counts. */
int counts_of(const struct target *t, const char *db, const struct snapshot_meta *m,
              const char *what);

/* Seconds on the monotonic clock. */
double now_seconds(void);

/* ------------------------------------------------------------ engines */

/* Each engine's restore_load and restore_check (check_only), its part of
 * restore_prepare, and for PostgreSQL of restore_sessions. */

/* PostgreSQL (pg.c). */
int pg_run(const struct target *t, const struct restore_input *in,
           const struct restore_opts *o, int check_only);
int pg_prepare(const struct target *t, const char *db);
int pg_sessions(const struct target *t, int terminate);
/* Set by pg_sessions when other sessions were found (restore_sessions_found). */
extern int restore_in_use;

/* MySQL and MariaDB (mysql.c). */
int my_run(const struct target *t, const struct restore_input *in,
           const struct restore_opts *o, int check_only);
int my_prepare(const struct target *t, const struct restore_opts *o, const char *db, int repair);

/* SQLite (sqlite.c). */
int lite_run(const struct target *t, const struct restore_input *in,
             const struct restore_opts *o, int check_only);
void lite_cleanup(const struct target *t, const struct restore_opts *o);

#endif
