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
 * every byte outside [A-Za-z0-9_.-] replaced by '-'; likewise the label.
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
#include <time.h>

#include "engine.h"

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
	int good;                   /* metadata parses and the file's size matches it */
	char *problem;              /* why not good, or NULL */
	struct snapshot_meta meta;
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
void store_meta_free(struct snapshot_meta *m);

/* Every snapshot in dir (dbkey NULL: all databases), newest first, good or
 * not; stray temporary files are not listed. */
void store_list(const char *dir, const char *dbkey, struct snapshot_list *out);
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

#endif
