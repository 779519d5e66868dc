/* targets.h — the databases of a safe-run, as db-envcheck reports them, and
 * the db-snap and db-restore children that snapshot and put them back.
 * safe-run composes the other programs exactly as a user's script could. */
#ifndef DBGUARD_SAFERUN_TARGETS_H
#define DBGUARD_SAFERUN_TARGETS_H

#include <stddef.h>

#include "base/xalloc.h"

/* db-envcheck --format=tsv --ping columns. */
enum {
	C_ROLE, C_ENGINE, C_HOST, C_PORT, C_DATABASE, C_USER, C_CLASS, C_SOURCE, C_RULE,
	C_REACHABLE, C_VERSION, C_SIZE, C_TABLES, C_MARKER, C_COUNT
};
#define C_BASIC 9

struct found {
	char *col[C_COUNT];         /* "" for a column db-envcheck did not print */
	char *snapshot;             /* path taken by db-snap, or NULL */
	char *describe;             /* "postgres app@127.0.0.1:5432/app_dev", "sqlite db.sqlite" */
};
struct found_list {
	struct found *v;
	size_t n;
};

/* Run db-envcheck (in dir when not NULL) with --ping; fills *out.  Returns
 * its exit status, or -1 when it could not run (reported). */
int saferun_envcheck(const char *dir, int test_run, struct found_list *out);
void found_list_free(struct found_list *l);

/* The name a confirmation must give: the database, a SQLite file's base name. */
const char *found_confirm_name(const struct found *f);
/* Nothing persistent to lose: an in-memory SQLite database or a SQLite
 * file not created yet. */
int found_nothing_yet(const struct found *f);
/* The server answered that the database does not exist (yet). */
int found_missing(const struct found *f);
/* db-envcheck could not reach it. */
int found_unreachable(const struct found *f);

/* db-snap of target number index (0 = primary) with this reason; sets
 * f->snapshot.  Returns db-snap's exit status. */
int saferun_snapshot(struct found *f, size_t index, const char *reason, int test_run);

/* db-restore of snapshot into target number index, confirmed by name, run in
 * dir when not NULL; --terminate-connections when terminate is set, or when
 * [safe-run] terminate_connections = yes and the database is local.  Its
 * output goes to stderr.  Returns its exit status, or -1 (reported). */
int saferun_restore(const char *dir, const struct found *f, size_t index, int test_run,
                    const char *snapshot, int terminate);

/* db-restore --volume=VOLUME of a volume snapshot (confirmed by the volume's
 * name, which the caller has asked for), run in dir when not NULL, its
 * output on stderr.  Returns its exit status, or -1 (reported). */
int saferun_restore_volume(const char *dir, const char *volume, const char *snapshot);

/* -R: db-restore every database of l that has a snapshot, then every
 * volume of volume_snaps ("volume\tsnapshot" lines), each said. */
void saferun_rollback(const struct found_list *l, int test_run, const struct strvec *volume_snaps);

#endif
