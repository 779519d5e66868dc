/* output.h — where a snapshot is written: a new file in the store, a file
 * named with -o, or a stream (standard output, or a device or pipe such as
 * /dev/null, /dev/stdout or a FIFO, written as it is, never replaced).  A
 * file is written beside its name and renamed into place, its metadata
 * last (snapshot_commit). */
#ifndef DBGUARD_SNAP_OUTPUT_H
#define DBGUARD_SNAP_OUTPUT_H

#include <time.h>

#include "snap/snapshot.h"

struct snapshot_meta;

struct snap_output {
	const char *output;         /* NULL: a new file in the store; "-": standard output */
	const char *meta;           /* the metadata's file instead of beside the data, or NULL */
	int to_stdout, direct;      /* direct: a stream */
	const char *shown;          /* the output's name in messages */
	char *path, *meta_path;     /* a file and its metadata (not direct) */
	char *tmp;                  /* the file being written beside path */
	char *scratch;              /* where the engine's scratch files go */
	int fd, lock;
};

/* Look at the output before connecting: 1 when it is a terminal (which
 * the caller refuses), else 0. */
int snap_output_init(struct snap_output *d, const char *output, const char *meta);
/* In the store: create it, lock dbkey (waiting up to lock_wait seconds for
 * another snapshot or restore), drop the clones of t (not NULL) and remove
 * the files a killed run left.  Done by snap_output_open when not yet.
 * 0, or -1 after an error() line. */
int snap_output_lock(struct snap_output *d, const char *store, int lock_wait, const char *dbkey,
                     const struct target *t);
/* Name the output and open it (d->fd).  In the store: lock dbkey (waiting
 * up to lock_wait seconds for another snapshot or restore), remove what a
 * killed run left, check the space and take a free name, whose time goes
 * in *created.  0, or -1 after an error() line. */
int snap_output_open(struct snap_output *d, const char *store, int lock_wait,
                     struct snapshot_job *job, const struct compress_spec *spec,
                     const char *dbkey, const char *label, time_t *created);
/* Put the written snapshot's metadata m where it belongs: for a file,
 * close it and commit it atomically (snapshot_commit); for a stream, to
 * d->meta or else to standard error.  DG_OK or DG_NO. */
int snap_output_finish(struct snap_output *d, const struct snapshot_meta *m);
void snap_output_free(struct snap_output *d);

#endif
