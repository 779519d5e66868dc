/* retention.h — the configured retention of the snapshot store, applied by
 * db-snap after each snapshot ([db-snap] auto_prune) and by --prune, with
 * safe-run's undo points kept: a snapshot that one of the last keep_undo
 * runs of the journal refers to is never removed. */
#ifndef DBGUARD_RETENTION_H
#define DBGUARD_RETENTION_H

#include "store/store.h"

/* The policy of the configuration: [db-snap] keep (default 30), keep_days,
 * keep_hourly, keep_daily, keep_weekly, keep_monthly. */
void retention_policy(struct prune_policy *p);

/* For every l->v[i] that an undo point refers to, add "undo point" to
 * keep[i] (as store_prune_plan fills it). */
void retention_keep_undo(const struct snapshot_list *l, char **keep);

/* After a snapshot of t into store (its lock held): remove what the
 * configured retention lets go, unless auto_prune = no.  Says what it
 * removed in verbose mode; a removal that fails is a warning.  Returns how
 * many were removed. */
size_t retention_after_snapshot(const char *store, const struct target *t);

#endif
