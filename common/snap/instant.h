/* instant.h — what makes a snapshot cost little (issue 14): reusing the
 * newest snapshot when the database provably has not changed
 * (doc/change-detection.md), and the clone tier (doc/clone-tier.md): a
 * PostgreSQL clone inside the server, a SQLite file copied as it is (a
 * reflink where the file system shares blocks), their retention
 * (keep_clones), removal and verification.  Used by db-snap. */
#ifndef DBGUARD_SNAP_INSTANT_H
#define DBGUARD_SNAP_INSTANT_H

#include <stddef.h>

#include "model/target.h"
#include "snap/snapshot.h"
#include "store/store.h"

/* The newest good snapshot of t in store (malloc'd path) when the
 * database's fingerprint equals the one recorded with it, it is of the
 * same database and server, asks for no other label, and (a clone) its
 * clone still exists; else NULL.  -v says which and why. */
char *snap_unchanged_since(const char *store, const struct target *t, struct snapshot_job *job,
                           const char *label);

/* The tier for this snapshot: o_tier (--tier) or [db-snap] tier
 * ("auto", "clone", "dump"); exits 2 on another value. */
const char *snap_tier(const char *o_tier);
/* Whether the tier asks for a clone of t: "clone", or "auto" and the
 * server on this machine (SQLite: always). */
int snap_wants_clone(const char *tier, const struct target *t);

/* Under the store's lock: drop the clones of runs that died before their
 * snapshot was complete, and remove their files. */
void snap_clean_stale_clones(const char *store, const char *dbkey, const struct target *t);

/* A PostgreSQL clone of t into store: DG_OK with *path (malloc'd), -1 when
 * a dump must be taken instead (-v says why: other sessions), or another
 * status after an error line.  The job's session must be closed first. */
int snap_take_pg_clone(const char *store, const struct target *t, const char *dbkey,
                       const char *label, const char *reason, char **path);
/* A SQLite database copied as it is into store: DG_OK with *path. */
int snap_take_sqlite_clone(const char *store, const struct target *t, struct snapshot_job *job,
                           const char *dbkey, const char *label, const char *reason, char **path);

/* Remove a snapshot of t; a PostgreSQL clone's database goes first (t NULL:
 * refused for clones).  0, or -1 after an error line. */
int snap_remove(const struct snapshot *s, const struct target *t);
/* keep_clones: t's clones beyond the newest [db-snap] keep_clones go (room:
 * one fewer, for a clone about to be made; else never the newest snapshot). */
void snap_keep_clones(const char *store, const struct target *t, int room);
/* [db-snap] keep_clones (default 3). */
long snap_keep_clones_limit(void);

/* A PostgreSQL clone as recorded in m: it exists on t's server and has the
 * recorded row counts.  0, or -1 with the problem in err. */
int snap_verify_clone(const struct target *t, const struct snapshot_meta *m, char *err, size_t errlen);

#endif
