/* restore.h — put a snapshot back into a database without ever leaving it
 * half-restored: the snapshot is loaded beside the target (a scratch
 * database on the same server, a temporary file in the same directory),
 * checked against the snapshot's row counts, and only then swapped in.
 * Used by db-restore. */
#ifndef DBGUARD_RESTORE_H
#define DBGUARD_RESTORE_H

#include "store/store.h"
#include "model/target.h"

/* The snapshot stream to load. */
struct restore_input {
	int fd;                             /* read to its end, from where it stands */
	const char *name;                   /* for messages: the path, or "standard input" */
	const struct snapshot_meta *meta;   /* NULL: an unverified stream, nothing to compare */
	unsigned long long total;           /* compressed size for the progress line, 0 unknown */
};

struct restore_opts {
	int terminate_connections;  /* PostgreSQL: end other sessions on the target */
	int keep_old;               /* PostgreSQL: keep the replaced database under a new name */
	const char *store;          /* the store directory (MySQL's unfinished-restore record) */
	const char *dbkey;          /* the target's name in the store */
	const char *snapshot_path;  /* the snapshot, for that record (NULL for a stream) */
	const char *safety_path;    /* the safety snapshot taken before, or NULL */
};

/* Catch SIGINT, SIGTERM and SIGHUP: a restore stops at the next safe point,
 * cleans up, and restore_load returns 128 + the signal.  Once the swap has
 * begun it runs to its end first. */
void restore_catch_signals(void);
/* The signal that interrupted us, or 0. */
int restore_interrupted(void);

/* Clean up after killed runs on t's server or directory: scratch databases,
 * replaced databases not yet dropped, temporary files (only those whose
 * db-restore is gone).  For MySQL, a restore that stopped while replacing
 * the target is finished first (from its snapshot, else its safety snapshot)
 * when repair is set, else reported.  DG_OK or an exit status. */
int restore_prepare(const struct target *t, const struct restore_opts *o, int repair);

/* Other sessions connected to t (PostgreSQL): listed on stderr.  With
 * terminate they are allowed (they will be ended at the swap), else DG_NO.
 * Other engines: DG_OK.  DG_UNREACHABLE when the server cannot be asked. */
int restore_sessions(const struct target *t, int terminate);
/* Whether the last restore_sessions() found other sessions. */
int restore_sessions_found(void);

/* Replace t's contents by the snapshot (t need not exist yet).  The
 * target's production marker is kept as the target had it.  Every table's
 * row count is compared with the metadata before the swap: a mismatch names
 * the table and leaves t as it was.  Returns DG_OK; DG_NO (failed, cleaned
 * up, t untouched — or, for MySQL, put back from the safety snapshot);
 * DG_INTEGRITY (stream corrupt or not matching its metadata, t untouched);
 * DG_UNREACHABLE; or 128 + signal when interrupted before the swap. */
int restore_load(const struct target *t, const struct restore_input *in, const struct restore_opts *o);

/* Load the snapshot into a throwaway scratch database on t's server (for
 * SQLite a temporary file in the store), compare the counts, drop it.
 * DG_OK, DG_NO (counts differ, load failed), DG_INTEGRITY, DG_UNREACHABLE. */
int restore_check(const struct target *t, const struct restore_input *in, const struct restore_opts *o);

#endif
