/* store.h — the snapshot store (DESIGN.md "The snapshot store"): where
 * snapshots live, how they are named, their metadata, listing, verification,
 * locking and pruning.  Shared by db-snap, db-restore and safe-run.
 *
 * A snapshot is two files in the store directory:
 *   <database>_<YYYYMMDDTHHMMSSZ>[_<label>].<ext>       the data
 *   <database>_<YYYYMMDDTHHMMSSZ>[_<label>].<ext>.meta  its metadata
 * <ext> is sql.zst, sql.gz or sql (PostgreSQL, MySQL: plain SQL dumps) and
 * sqlite.zst, sqlite.gz or sqlite (a SQLite database file).  <database> is
 * the database name (a SQLite file's base name without its extension) with
 * every byte outside [A-Za-z0-9_.-] replaced by '-', and a leading '.' too
 * (names starting with '.' are temporary files); likewise the label.
 *
 * The metadata is "key=value" lines, readable with grep, written last and
 * atomically: a snapshot without valid metadata is not a snapshot.
 *   format=dbguard-snapshot-1
 *   engine=postgres | mysql | sqlite
 *   server_version=15.18
 *   database=app_dev            (name, or the SQLite file path)
 *   host=127.0.0.1              (no credentials, ever; empty for sqlite)
 *   port=5432
 *   created=2026-11-21T16:30:00Z
 *   dbguard_version=0.1.0
 *   label=pre-restore           (may be empty)
 *   reason=safe-run: npm test   (may be empty; newlines become spaces)
 *   compression=zstd | gzip | none
 *   raw_bytes=123456            (uncompressed size)
 *   size=34567                  (size of the snapshot file)
 *   sha256=<64 hex>             (of the snapshot file, as sha256sum prints it)
 *   tables=2
 *   rows=2500
 *   table=<name>\t<rows>        (one line per table, sorted by name, as of
 *                                the snapshot itself)
 * Unknown keys are ignored when reading, so later versions may add some.
 */
#ifndef DBGUARD_STORE_H
#define DBGUARD_STORE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "model/tables.h"
#include "model/target.h"
#include "base/output.h"

struct snapshot_meta {
	char *engine, *server_version, *database, *host, *label, *reason;
	char *compression, *sha256, *dbguard_version;
	int port;
	time_t created;             /* UTC */
	unsigned long long raw_bytes, size;
	long long rows;
	struct table_counts tables;
};

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

/* The store directory for a project: config backup_dir / DBGUARD_BACKUP_DIR. */
char *store_dir(const char *project_dir);
/* Create the store (mode 0700) with a ".gitignore" of "*"; 0 or -1 with errno. */
int store_ensure(const char *dir);
/* "<database>" part of snapshot names for target t (sanitised). */
char *store_dbkey(const struct target *t);
/* Build a new snapshot's base name: dbkey_YYYYMMDDTHHMMSSZ[_label].ext */
char *store_snapshot_name(const char *dbkey, time_t when, const char *label, const char *ext);

/* Read and write metadata.  store_meta_read: 0, or -1 with a reason in err. */
int store_meta_read(const char *meta_path, struct snapshot_meta *m, char *err, size_t errlen);
/* Atomically write m to meta_path (temp file, fsync, rename, fsync dir). */
int store_meta_write(const char *meta_path, const struct snapshot_meta *m);
/* The metadata text store_meta_write writes (malloc'd).  rows and the
 * tables= count are computed from m->tables. */
char *store_meta_format(const struct snapshot_meta *m);
void store_meta_free(struct snapshot_meta *m);

/* Every snapshot in dir (dbkey NULL: all databases), newest first, good or
 * not; stray temporary files are not listed. */
void store_list(const char *dir, const char *dbkey, struct snapshot_list *out);
/* The snapshots of target t: store_list with t's dbkey, less the good ones
 * of another engine (a MySQL and a PostgreSQL database may share a name). */
void store_list_target(const char *dir, const struct target *t, struct snapshot_list *out);
void snapshot_list_free(struct snapshot_list *l);
/* The newest good snapshot of dbkey, or NULL. */
const struct snapshot *store_latest(const struct snapshot_list *l);

/* Full verification: metadata present and consistent, size, SHA-256 of the
 * file equal to the metadata's, and the compressed stream intact to its end.
 * 0 when good, else -1 with the first problem in err. */
int store_verify(const char *snapshot_path, struct snapshot_meta *m, char *err, size_t errlen);

/* An exclusive lock per database in the store (flock on <dir>/.lock.<dbkey>),
 * so two snapshots or restores of one database never interleave.  Waits up to
 * wait_seconds; returns an fd to pass to store_unlock, or -1 (errno EWOULDBLOCK
 * on timeout). */
int store_lock(const char *dir, const char *dbkey, int wait_seconds);
void store_unlock(int fd);
/* Remove temporary files of dbkey left by a killed run (call under the lock). */
void store_clean_stale(const char *dir, const char *dbkey);

/* Split a snapshot file name into its parts (any may be NULL): the <database>
 * part, the time, the label (NULL when none) and the extension ("sql.zst").
 * 0, or -1 when name is not a snapshot name. */
int store_parse_name(const char *name, char **dbkey, time_t *when, char **label, char **ext);
/* "2026-11-21T16:30:00Z" <-> time_t (UTC).  store_parse_time: 0 or -1. */
void store_format_time(time_t t, char buf[32]);
int store_parse_time(const char *s, time_t *out);

/* The listing db-snap --list and db-restore --list print: fmt FMT_HUMAN (a
 * table; with_db adds the database column), FMT_TSV (a header line, then
 * path, database, engine, created, label, size, raw_bytes, compression,
 * tables, rows, status, reason, problem) or FMT_JSON (an array of objects).
 * When the first snapshot has a where, a WHERE column (tsv: where, last;
 * json: "where") says where each one is. */
void store_print_list(FILE *f, const struct snapshot_list *l, enum out_format fmt, int with_db);

/* Retention (db-snap --prune).  A field of -1 is not set.  A snapshot stays
 * when any rule keeps it:
 *   keep_last N     the N newest;
 *   keep_days D     created less than D days before now;
 *   keep_hourly N   (daily, weekly, monthly likewise) the newest snapshot of
 *                   each of the N most recent hours (UTC days, ISO weeks,
 *                   months) that have a snapshot, as restic and borg count;
 * and always: the newest good snapshot of each database, every snapshot that
 * is not good (a file we cannot parse is never removed), and labelled
 * snapshots unless prune_labelled. */
struct prune_policy {
	long keep_last, keep_days, keep_hourly, keep_daily, keep_weekly, keep_monthly;
	int prune_labelled;
};
#define PRUNE_POLICY_INIT { -1, -1, -1, -1, -1, -1, 0 }
/* For every l->v[i] (grouped by database), why it stays — "newest",
 * "labelled", "not good", "last 30", "within 7 days", "hourly", "daily",
 * "weekly", "monthly" (several joined by ", ") — in keep[i] (malloc'd), or
 * NULL when it goes.  keep has l->n entries; the caller frees each. */
void store_prune_plan(const struct snapshot_list *l, const struct prune_policy *p,
                      time_t now, char **keep);
/* Remove a snapshot: the data file, then its metadata, then fsync the
 * directory.  0, or -1 with errno. */
int store_remove(const struct snapshot *s);

#endif
