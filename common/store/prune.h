/* prune.h — retention: which snapshots a policy keeps, and removing the
 * others. */
#ifndef DBGUARD_STORE_PRUNE_H
#define DBGUARD_STORE_PRUNE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "store/list.h"

/* Retention (db-snap --prune).  A field of -1 is not set.  A snapshot stays
 * when any rule keeps it:
 *   keep_last N     the N newest;
 *   keep_days D     created less than D days before now;
 *   keep_hourly N   (daily, weekly, monthly likewise) the newest snapshot of
 *                   each of the N most recent hours (UTC days, ISO weeks,
 *                   months) that have a snapshot, as restic and borg count;
 * and always: the newest good snapshot of each database, every snapshot that
 * is not good (a file we cannot parse is never removed), and labelled
 * snapshots unless prune_labelled.  On top, keep_clones: clones (kind=clone)
 * beyond the newest keep_clones go whatever keeps them (but the newest). */
struct prune_policy {
	long keep_last, keep_days, keep_hourly, keep_daily, keep_weekly, keep_monthly;
	int prune_labelled;
	char *const *keep_paths;    /* NULL-terminated, or NULL: never removed (safe-run's undo points) */
	long keep_clones;           /* clones kept per database; -1: no limit of their own */
};
#define PRUNE_POLICY_INIT { -1, -1, -1, -1, -1, -1, 0, NULL, -1 }
/* The retention rules of config section `section`, keys named `prefix`
 * ("keep"), prefix_days, _hourly, _daily, _weekly, _monthly; the newest
 * 30 kept when prefix itself is not set. */
void prune_policy_from_config(struct prune_policy *p, const char *section, const char *prefix);
/* For every l->v[i] (grouped by database), why it stays, in keep[i]
 * (malloc'd; the reasons store_prune_with gives), or NULL when it goes.
 * keep has l->n entries; the caller frees each.  Also used for the remote
 * store's retention (remote/prune.c). */
void store_prune_plan(const struct snapshot_list *l, const struct prune_policy *p, time_t now, char **keep);
/* Apply p to l: remove (unless dry_run) each snapshot no rule keeps,
 * printing its path on out (out NULL: print nothing, and the summary only
 * with -v); clones beyond keep_clones go too.  remove (NULL: store_remove)
 * takes a snapshot away (for a clone, its database is dropped first) and
 * returns 0, or -1 after saying what failed.  Why each other one stays
 * ("newest", "labelled", "not good", "last 30", "within 7 days", "hourly",
 * "daily", "weekly", "monthly", several joined by ", ") goes to verbose(),
 * failures to error(), a summary to info().  Returns how many could not be
 * removed. */
size_t store_prune_with(const struct snapshot_list *l, const struct prune_policy *p, time_t now,
                        int dry_run, FILE *out, int (*remove)(void *arg, const struct snapshot *s),
                        void *arg);
/* Remove a snapshot: the data file, then its metadata, then fsync the
 * directory.  0, or -1 with errno. */
int store_remove(const struct snapshot *s);

#endif
