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

struct pick_opts {
	const char *snapshot;   /* SNAPSHOT, "-" or NULL */
	const char *meta_file;  /* --meta=FILE */
	const char *url;        /* --url: the target is that URL */
	int target_n;           /* --target=N, 0 when not given */
	const char *into;       /* --into=URL|NAME */
	int check;              /* --check: a SQLite snapshot needs no configured target */
	int terminate, keep_old;
};

/* A snapshot on its way into a target. */
struct restore_job {
	struct picked_snapshot snap;
	struct target tgt;
	int index;                  /* tgt among the configured targets, -1 for --url or --into */
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
