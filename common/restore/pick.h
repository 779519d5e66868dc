/* pick.h — what db-restore restores and where: the snapshot (a file, a
 * name in the store, the newest good one, or standard input), verified
 * before anything else happens, and the database it goes into.  Each
 * function reports its own errors.  Used by db-restore. */
#ifndef DBGUARD_RESTORE_PICK_H
#define DBGUARD_RESTORE_PICK_H

#include "model/target.h"
#include "restore/restore.h"
#include "store/store.h"

struct picked_snapshot {
	char *path;                 /* NULL: standard input */
	const char *name;           /* for messages: the path, or "standard input" */
	struct snapshot_meta meta;
	const struct snapshot_meta *m;   /* &meta, or NULL for an unverified stream */
};

/* arg "-" is standard input, with its metadata read from meta_file (NULL:
 * unverified); another arg a file, or the name of one in store; no arg the
 * newest good snapshot of t (NULL: no database configured).  DG_OK,
 * DG_NOTHING or DG_INTEGRITY.  Free p with picked_snapshot_free either way. */
int pick_snapshot(const char *arg, const char *meta_file, const char *store,
                  const struct target *t, struct picked_snapshot *p);
void picked_snapshot_free(struct picked_snapshot *p);

struct pick_opts {
	const char *snapshot;   /* SNAPSHOT, "-" or NULL */
	const char *meta_file;  /* --meta=FILE */
	const char *url;        /* --url: the target is that URL */
	int target_n;           /* --target=N, 0 when not given */
	const char *into;       /* --into=URL|NAME */
	int check;              /* --check: a SQLite snapshot needs no configured target */
	int terminate, keep_old;
};

/* The database to restore p into: --into, else the configured one the
 * snapshot came from (unless --url or --target chose), else l->v[ti] (ti
 * -1: none configured).  *index is its place in l (-1 when given by a URL
 * or --into), for the undo hint.  The engine must be known and the
 * snapshot's.  DG_OK, DG_USAGE or DG_NOTHING; free *out either way. */
int pick_target(const struct target_list *l, int ti, const struct picked_snapshot *p,
                const struct pick_opts *po, struct target *out, int *index);

/* A snapshot on its way into a target. */
struct restore_job {
	struct picked_snapshot snap;
	struct target tgt;
	int index;                  /* as pick_target sets it */
	char *dbkey;                /* tgt's name in the store */
	int fd;                     /* the snapshot: -1 not open, 0 standard input */
	struct restore_input in;
	struct restore_opts ropt;
};

/* Pick the snapshot (verified) and the target, and open the snapshot.
 * DG_OK, or a status (reported).  Free j with restore_job_free either way. */
int restore_job_open(struct restore_job *j, const struct pick_opts *po, const char *store,
                     const struct target_list *l, int ti);
void restore_job_free(struct restore_job *j);

/* Does --into name a URL (else a database on the target's server)? */
int into_is_url(const char *into);

#endif
