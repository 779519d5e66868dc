/* summary.h — what db-restore finds in the target before replacing it,
 * shows, and asks; and the safety snapshot it takes first.  Used by
 * db-restore. */
#ifndef DBGUARD_RESTORE_SUMMARY_H
#define DBGUARD_RESTORE_SUMMARY_H

#include "model/target.h"
#include "restore/pick.h"
#include "store/store.h"

/* What the target holds now. */
struct target_now {
	int exists;
	long long size;     /* bytes, -1 unknown */
	long tables;        /* -1 unknown */
	char *marker;
};

/* Look at t: whether it exists, its marker (kept in t->marker too), and
 * with want_size its size, with want_tables its number of tables.  DG_OK
 * (it exists, or is a damaged SQLite file), DG_NOTHING (it does not exist
 * yet: it will be created), DG_UNREACHABLE or DG_NO (reported). */
int target_now_read(struct target *t, struct target_now *n, int want_size, int want_tables);
void target_now_free(struct target_now *n);

/* The target and the snapshot, on stderr, before a confirmation prompt. */
void print_summary(const struct target *t, const struct target_now *n, const char *snap,
                   const struct snapshot_meta *m);

/* The question a confirmation asks before replacing name (into: a
 * non-empty --into database) with the snapshot snap (m NULL: unverified). */
char *confirm_question(const char *name, const char *snap, const struct snapshot_meta *m, int into);

/* What was restored from where, and with a safety snapshot how to undo
 * it: the same target again (by --test-run, --target, --into, or a URL
 * without its password), po as given to restore_job_open. */
void print_restored(const struct restore_job *j, const struct pick_opts *po, int test_run,
                    const char *safety);

/* Run db-snap as a child, aimed at t, for a safety snapshot before
 * restoring snapshot_name.  The path it printed, or NULL (reported unless
 * a signal came). */
char *safety_snapshot(const struct target *t, const char *snapshot_name);

#endif
