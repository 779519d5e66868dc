/* retention.c — retention with undo points kept (retention.h). */
#include "saferun/retention.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/msg.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "saferun/journal.h"

void retention_policy(struct prune_policy *p)
{
	*p = (struct prune_policy)PRUNE_POLICY_INIT;
	p->keep_last = config_get_long("db-snap", "keep", 30);
	p->keep_days = config_get_long("db-snap", "keep_days", -1);
	p->keep_hourly = config_get_long("db-snap", "keep_hourly", -1);
	p->keep_daily = config_get_long("db-snap", "keep_daily", -1);
	p->keep_weekly = config_get_long("db-snap", "keep_weekly", -1);
	p->keep_monthly = config_get_long("db-snap", "keep_monthly", -1);
}

static int same_path(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return 1;
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra && rb && !strcmp(ra, rb);
	free(ra);
	free(rb);
	return same;
}

void retention_keep_undo(const struct snapshot_list *l, char **keep)
{
	long runs = config_get_long("db-snap", "keep_undo", 10);
	if (runs <= 0 || l->n == 0)
		return;
	char *path = journal_path(NULL);
	struct journal j;
	int rc = journal_read(path, &j);
	free(path);
	if (rc < 0)
		return;
	struct strvec refs = STRVEC_INIT;
	journal_recent_snapshots(&j, runs > 100000 ? 100000 : (int)runs, &refs);
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; k < refs.n; k++)
			if (same_path(l->v[i].path, refs.v[k])) {
				char *why = keep[i] ? xasprintf("%s, undo point", keep[i]) : xstrdup("undo point");
				free(keep[i]);
				keep[i] = why;
				break;
			}
	sv_free(&refs);
	journal_free(&j);
}

size_t retention_after_snapshot(const char *store, const struct target *t)
{
	if (!config_get_bool("db-snap", "auto_prune", 1))
		return 0;
	struct prune_policy p;
	retention_policy(&p);
	struct snapshot_list l;
	store_list_target(store, t, &l);
	char **keep = xcalloc(l.n ? l.n : 1, sizeof *keep);
	store_prune_plan(&l, &p, time(NULL), keep);
	retention_keep_undo(&l, keep);
	size_t gone = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (keep[i]) {
			free(keep[i]);
			continue;
		}
		if (store_remove(&l.v[i]) < 0) {
			warn("cannot remove the old snapshot '%s':", l.v[i].path);
			continue;
		}
		verbose("retention: removed '%s'", l.v[i].path);
		gone++;
	}
	if (gone)
		verbose("retention: removed %zu old snapshot%s (keep = %ld; db-snap --list shows the rest)", gone,
		        gone == 1 ? "" : "s", p.keep_last);
	free(keep);
	snapshot_list_free(&l);
	return gone;
}
