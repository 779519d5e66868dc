/* snapshot.h — "snapshot this target": a consistent dump of one database
 * (pg_dump in an exported MVCC snapshot, mariadb-dump --single-transaction,
 * or a SQLite online-backup copy) fed into a compressor, with the row count
 * of every table taken from exactly the data dumped.  Also the guard that
 * removes a snapshot's files and stops its dump when a fatal signal comes. */
#ifndef DBGUARD_SNAPSHOT_H
#define DBGUARD_SNAPSHOT_H

#include <stddef.h>
#include <sys/types.h>

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
/* The database's size in bytes (what a snapshot may grow to), -1 if unknown. */
long long snapshot_size_estimate(const struct snapshot_job *j);
/* Bytes of scratch space the snapshot needs besides its output (the SQLite
 * copy), so the caller can check free space. */
long long snapshot_scratch_bytes(const struct snapshot_job *j);

struct snapshot_result {
	struct table_counts counts;  /* sorted by name, as db_tables() names them */
	int write_errno;             /* the compressor's writer failed (ENOSPC, EFBIG, EPIPE) */
	/* db_fingerprint() of exactly the state dumped (read before the dump
	 * and again after it, kept only when both agree), or NULL and why. */
	char *fingerprint, *fingerprint_why;
};

/* The database's fingerprint now (db_fingerprint), to compare with a
 * snapshot's: 0 with *fp, or with *fp NULL and *why saying why none. */
void snapshot_fingerprint(struct snapshot_job *j, char **fp, char **why);

/* Dump into c (which the caller opened and will close).  Scratch files (the
 * SQLite copy) are made beside tmp_beside as ".<base>.copy.tmp.XXXXXX" and
 * removed.  progress, if not NULL, is told the uncompressed bytes produced
 * so far.  DG_OK with res filled, or DG_NO with one line in err (and
 * res->write_errno set when the output could not be written). */
int snapshot_run(struct snapshot_job *j, struct compressor *c, const char *tmp_beside,
                 void (*progress)(void *arg, unsigned long long raw), void *arg,
                 struct snapshot_result *res, char *err, size_t errlen);
/* SQLite only: the database copied as it is into out_path (an existing,
 * empty file): a reflink (FICLONE) when the file system shares blocks and
 * the WAL is empty, else a page copy through the online backup API; *how
 * says which.  res as for snapshot_run.  DG_OK, or DG_NO with err. */
int snapshot_copy(struct snapshot_job *j, const char *out_path, const char **how,
                  struct snapshot_result *res, char *err, size_t errlen);
void snapshot_close(struct snapshot_job *j);
void snapshot_result_free(struct snapshot_result *res);

/* The fatal-signal guard.  After snapshot_guard_install(), SIGINT, SIGTERM
 * and SIGHUP unlink every registered path (rmdir for directories), send
 * SIGTERM to the registered child, and then kill the process with the same
 * signal.  Paths are copied; at most 16 at once. */
void snapshot_guard_install(void);
void snapshot_guard_path(const char *path, int is_dir);
void snapshot_guard_forget(const char *path);
void snapshot_guard_child(pid_t pid);    /* 0: none */
/* Block / unblock the guarded signals around a step that must not be cut. */
void snapshot_guard_hold(int hold);

#endif
