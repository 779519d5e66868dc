/* snapshot.h — "snapshot this target": a consistent dump of one database
 * (pg_dump in an exported MVCC snapshot, mariadb-dump --single-transaction,
 * or a SQLite online-backup copy) fed into a compressor, with the row count
 * of every table taken from exactly the data dumped, then put in place
 * atomically with its metadata.
 *
 * The folder: snapshot.c (this header: open, write, commit), pg.c, mysql.c
 * and sqlite.c (one file per engine), dump.c (running a dump program),
 * scan_pg.c and scan_mysql.c (the row-counting scanners, scan.h), guard.c
 * (the fatal-signal guard, guard.h), output.c (where a snapshot is written,
 * output.h); impl.h is private to the folder. */
#ifndef DBGUARD_SNAPSHOT_H
#define DBGUARD_SNAPSHOT_H

#include <stddef.h>
#include <time.h>

#include "store/compress.h"
#include "engine/engine.h"
#include "model/target.h"

struct snapshot_job;

/* Connect to t, learn the server version and the database size, and find
 * the dump program.  DG_OK, or DG_UNREACHABLE, DG_NO (refused, missing or
 * too old pg_dump), DG_USAGE, with one line in err that never holds a
 * password. */
int snapshot_open(const struct target *t, struct snapshot_job **out, char *err, size_t errlen);
const char *snapshot_engine(const struct snapshot_job *j);          /* "postgres", ... */
const char *snapshot_server_version(const struct snapshot_job *j);  /* "15.18" */

struct snapshot_result {
	struct table_counts counts;  /* sorted by name, as db_tables() names them */
	int write_errno;             /* the compressor's writer failed (ENOSPC, EFBIG, EPIPE) */
	/* db_fingerprint() of exactly the state dumped (read before the dump
	 * and again after it, kept only when both agree), or NULL and why. */
	char *fingerprint, *fingerprint_why;
};

/* The database's fingerprint now (db_fingerprint), to compare with a
 * snapshot's: *fp, or *fp NULL and *why saying why there is none. */
void snapshot_fingerprint(struct snapshot_job *j, char **fp, char **why);
/* SQLite only: the database copied as it is into out_path (an existing,
 * empty file): a reflink (FICLONE) when the file system shares blocks and
 * the WAL is empty, else a page copy through the online backup API; *how
 * says which.  res as for a dump.  DG_OK, or DG_NO with err. */
int snapshot_copy(struct snapshot_job *j, const char *out_path, const char **how,
                  struct snapshot_result *res, char *err, size_t errlen);

void snapshot_close(struct snapshot_job *j);
void snapshot_result_free(struct snapshot_result *res);

/* Writing a snapshot.  Each says what failed with error() itself. */
struct snapshot_meta;
/* Refuse to start (-1) when dir's file system cannot hold a snapshot of j
 * compressed as spec says, as far as the database size lets us guess; what
 * names the database in the message. */
int snapshot_check_space(const struct snapshot_job *j, const char *dir,
                         const struct compress_spec *spec, const char *what);
/* What the progress percentage is of: the dump's expected size (the last
 * snapshot's raw_bytes); without it a SQLite file's size, else none. */
void snapshot_expect_bytes(struct snapshot_job *j, unsigned long long raw);
/* The compression pipeline: dump j through a compressor into fd, showing
 * progress under label; shown names the output in messages.  A regular
 * file (is_file) is then fsynced and its size checked.  Scratch files (the
 * SQLite copy) are made beside scratch as ".<base>.copy.tmp.XXXXXX" and
 * removed.  DG_OK with cres and res filled, or DG_NO. */
int snapshot_write(struct snapshot_job *j, int fd, const struct compress_spec *spec,
                   const char *scratch, const char *label, const char *shown, int is_file,
                   struct compress_result *cres, struct snapshot_result *res);
/* The metadata of the snapshot just written (m is overwritten; the row
 * counts move from res into it). */
void snapshot_describe(const struct snapshot_job *j, time_t created, const char *label,
                       const char *reason, enum compress_kind kind,
                       const struct compress_result *cres, struct snapshot_result *res,
                       struct snapshot_meta *m);
/* The atomic step: rename tmp to path (without replacing an existing file
 * unless replace), fsync the directory, then write the metadata m to
 * meta_path, with the fatal signals held, so that a data file without its
 * metadata never stays.  DG_OK or DG_NO. */
int snapshot_commit(const char *tmp, const char *path, const char *meta_path, int replace,
                    const struct snapshot_meta *m);

#endif
