/* retention.h — the configured retention of the snapshot store, applied by
 * db-snap after each snapshot ([db-snap] auto_prune) and by --prune, with
 * safe-run's undo points kept: a snapshot that one of the last keep_undo
 * runs of the journal refers to is never removed. */
#ifndef DBGUARD_RETENTION_H
#define DBGUARD_RETENTION_H

#include "base/xalloc.h"
#include "model/target.h"
#include "store/store.h"

/* The policy of the configuration: [db-snap] keep (default 30), keep_days,
 * keep_hourly, keep_daily, keep_weekly, keep_monthly. */
void retention_policy(struct prune_policy *p);

/* The snapshots the last keep_undo undo points of the journal refer to,
 * into *paths; sets p->keep_paths to them (free paths after use). */
void retention_keep_undo(struct prune_policy *p, struct strvec *paths);

/* After a snapshot of t into store (its lock held): remove what the
 * configured retention lets go, unless auto_prune = no; -v names what goes.
 * Clones beyond keep_clones (-1: no limit) go too; remove (NULL: unlink the
 * files) takes a snapshot away, as store_prune_with says. */
void retention_after_snapshot(const char *store, const struct target *t, long keep_clones,
                              int (*remove)(void *arg, const struct snapshot *s), void *arg);

#endif
