/* volsnap.h — snapshots of Docker volumes in the snapshot store: the volume
 * read by a throwaway helper container (read-only, no network) as a tar
 * stream, compressed, checksummed and renamed into place like any snapshot;
 * and the way back, which never leaves a volume half old, half new.
 *
 * Names: <volume>_<YYYYMMDDTHHMMSSZ>[_<label>].tar.zst (.tar.gz, .tar).
 * Metadata: the store's, with engine=volume, database=<volume>,
 * server_version=<Docker Engine version>, plus
 *   volume=<name>  driver=<driver>  compose_project=<label>
 *   compose_volume=<label>  files=<entries in the archive>
 */
#ifndef DBGUARD_DOCKER_VOLSNAP_H
#define DBGUARD_DOCKER_VOLSNAP_H

#include <stddef.h>
#include "store/compress.h"
#include "store/store.h"

struct volsnap_opts {
	const char *store;          /* the store directory */
	const char *volume;
	const char *label, *reason; /* may be NULL */
	struct compress_spec spec;
};

/* Snapshot a volume.  DG_OK with *path (malloc'd); DG_NOTHING no such
 * volume; DG_UNREACHABLE no Docker Engine; DG_NO failed (nothing left). */
int volsnap_take(const struct volsnap_opts *o, char **path, char *err, size_t errlen);

/* The <volume> part of a volume snapshot's name. */
char *volsnap_dbkey(const char *volume);

/* The volume snapshots of volume (NULL: of every volume), newest first. */
void volsnap_list(const char *store, const char *volume, struct snapshot_list *out);

/* The metadata's volume= (or database=) value of a snapshot, or NULL. */
char *volsnap_meta_volume(const char *snapshot_path);

struct volrestore_opts {
	const char *store;
	const char *snapshot;       /* path of a volume snapshot */
	const char *volume;         /* restore into this volume (NULL: the snapshot's) */
	const char *confirm;        /* --confirm value or NULL */
	int no_safety;              /* no snapshot of the current content first */
};

/* Put a volume snapshot back (see volsnap.c for the steps).  DG_OK, or
 * DG_NO (in use, failed: the old content stays), DG_INTEGRITY, DG_USAGE,
 * DG_UNREACHABLE, DG_UNCONFIRMED, with the reason reported on stderr. */
int volsnap_restore(const struct volrestore_opts *o);

#endif
