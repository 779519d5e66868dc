/* remote.h — the remote copy of the snapshot store ([store] remote =
 * REMOTE:PATH, DBGUARD_REMOTE), reached through rclone: push, list, pull,
 * retention, verification.  Used by db-snap and db-restore.
 *
 * On the remote a snapshot is two objects beside each other:
 *   <name>[.age]   the data (encrypted with age when [store] encrypt_to is set)
 *   <name>.meta    its metadata: the local metadata, plus
 *                    remote_object=<name>[.age]
 *                    remote_size=<bytes of the object>
 *                    remote_sha256=<SHA-256 of the object>
 *                    remote_hash=md5:<hex>   (a hash the backend reports, if
 *                                             not SHA-256; may be absent)
 *                    encryption=age          (when encrypted)
 * A push writes the data under a temporary name (".<name>.part-…"), checks
 * it, moves it into place and writes the metadata last, also through a
 * temporary name: only a snapshot with its metadata is listed. */
#ifndef DBGUARD_REMOTE_H
#define DBGUARD_REMOTE_H

#include <stddef.h>

#include "base/xalloc.h"
#include "model/target.h"
#include "store/store.h"

struct remote;

/* What the remote metadata adds to a listed snapshot. */
struct remote_extra {
	char *object;               /* the data object's name */
	int have_object;            /* it exists */
	unsigned long long object_size, size;   /* its size there / recorded */
	char *sha256;               /* recorded SHA-256 of the object */
	char *hash_type, *hash;     /* recorded backend hash ("md5", hex), or NULL */
	int encrypted;
};

/* The configured remote.  DG_OK with *out; DG_NOTHING when none is
 * configured; DG_USAGE when it is malformed (reported). */
int remote_open(struct remote **out);
void remote_close(struct remote *r);
const char *remote_spec(const struct remote *r);

/* A remote listing: the snapshots (where = "remote" or "local+remote",
 * path = REMOTE:PATH/<name>), newest first, and what else lies there. */
struct remote_listing {
	struct snapshot_list l;
	struct remote_extra *x;     /* parallel to l.v */
	struct strvec orphans;      /* data objects without metadata, temporary
	                               objects of killed pushes */
	struct strvec no_meta;      /* of those: data objects without metadata */
};
/* List the remote: dbkey NULL for every database, else that database's
 * snapshots (engine, if not NULL: less the good ones of another engine).
 * local_store marks those also in the local store.  DG_OK (an empty or
 * absent directory is an empty listing) or an exit status (reported). */
int remote_list(struct remote *r, const char *dbkey, const char *engine, const char *local_store,
                struct remote_listing *out);
void remote_listing_free(struct remote_listing *rl);

/* Push the local snapshot at path (verified against its metadata first).
 * DG_OK (also when the remote already has it), or an exit status (reported);
 * the local snapshot is never touched. */
int remote_push(struct remote *r, const char *path);
/* Push in the background: a detached `db-snap --push PATH`, its messages
 * appended to <store>/.push.log.  0, or -1 (reported as a warning). */
int remote_push_background(const char *path, const char *store);
enum push_mode { PUSH_NO, PUSH_YES, PUSH_BACKGROUND };
/* [store] push; DG_USAGE (reported) when it is none of no, yes, background. */
int remote_push_mode(enum push_mode *mode);

/* Download rl->l.v[i] into the store, decrypt it, verify it against its
 * metadata; *local (malloc'd) is its path there.  A copy already in the
 * store with the same checksum is used as it is.  DG_OK, DG_INTEGRITY
 * (corrupt, missing metadata or data: nothing is left behind), DG_USAGE,
 * DG_UNREACHABLE (reported). */
int remote_pull(struct remote *r, const struct remote_listing *rl, size_t i, const char *store,
                const char *project_dir, char **local);
/* db-restore --remote: pull the snapshot name names (NULL: the newest good
 * one of target t) from the configured remote into the store; *path is its
 * local path.  DG_OK or a status (reported). */
int remote_fetch(const char *name, const struct target *t, const char *store, const char *project_dir,
                 char **path);
/* The index in rl of the snapshot an operand names (its name, with or
 * without ".meta"/".age", or its REMOTE:PATH/name), or -1. */
long remote_find(const struct remote *r, const struct remote_listing *rl, const char *operand);

/* Retention on the remote (policy as db-snap --prune; the limits from
 * [store] remote_keep, remote_keep_days... when given is 0): removes what
 * the plan does not keep (metadata first), prints each on stdout.  dry_run
 * removes nothing.  DG_OK or DG_NO / an rclone failure's status. */
void remote_prune_policy(struct prune_policy *p);
int remote_prune(struct remote *r, struct remote_listing *rl, const struct prune_policy *p, int dry_run);

/* Check every listed snapshot's object against its metadata (size, and a
 * hash the backend reports, else SHA-256 of a download), and report
 * orphans and missing metadata.  Lines "<path>: OK" (with verbose),
 * "<path>: FAILED", "<path>: MISSING METADATA", "<path>: ORPHAN" on
 * stdout.  DG_OK, DG_INTEGRITY, or an rclone failure's status. */
int remote_verify(struct remote *r, struct remote_listing *rl);

#endif
