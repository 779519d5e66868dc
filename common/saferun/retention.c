/* retention.c — retention with undo points kept (retention.h). */
#include "saferun/retention.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/msg.h"
#include "model/config.h"
#include "saferun/journal.h"

void retention_policy(struct prune_policy *p)
{
	prune_policy_from_config(p, "db-snap", "keep");
}

void retention_keep_undo(struct prune_policy *p, struct strvec *paths)
{
	long runs = config_get_long("db-snap", "keep_undo", 10);
	char *path = journal_path(NULL);
	struct journal j;
	if (runs > 0 && journal_read(path, &j) == 0) {
		journal_recent_snapshots(&j, runs > 100000 ? 100000 : (int)runs, paths);
		journal_free(&j);
	}
	free(path);
	p->keep_paths = sv_argv(paths);
}

void retention_after_snapshot(const char *store, const struct target *t, long keep_clones,
                              int (*remove)(void *arg, const struct snapshot *s), void *arg)
{
	if (!config_get_bool("db-snap", "auto_prune", 1))
		return;
	struct prune_policy p;
	retention_policy(&p);
	p.keep_clones = keep_clones;
	struct strvec undo = STRVEC_INIT;
	retention_keep_undo(&p, &undo);
	struct snapshot_list l;
	store_list_target(store, t, &l);
	verbose("retention after the snapshot: keep = %ld, and the undo points", p.keep_last);
	store_prune_with(&l, &p, time(NULL), 0, NULL, remove, arg);
	snapshot_list_free(&l);
	sv_free(&undo);
}
