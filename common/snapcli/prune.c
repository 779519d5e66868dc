/* prune.c — db-snap --prune in the store: the retention policy from the
 * options or the configuration, undo points kept, under the lock. */
#include "snapcli/prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "docker/volsnap.h"
#include "saferun/retention.h"
#include "snap/instant.h"

int prune_remove(void *arg, const struct snapshot *s)
{
	return snap_remove(s, ((struct prune_arg *)arg)->t);
}

int do_prune(struct ctx *cx, const struct opts *o)
{
	struct prune_policy p = o->policy;
	if (!o->policy_given) {
		retention_policy(&p);
		p.prune_labelled = o->policy.prune_labelled;
	}
	struct target *t = o->all || o->volume ? NULL : primary(cx, o);
	char *dbkey = t ? store_dbkey(t) : o->volume && !o->all ? volsnap_dbkey(o->volume) : NULL;
	/* Under the lock a snapshot being written cannot be mistaken for
	 * debris, and the newest one cannot change under our feet. */
	int lock = -1;
	if (dbkey && !o->dry_run && access(cx->store, F_OK) == 0) {
		lock = store_lock(cx->store, dbkey, LOCK_WAIT_SECONDS);
		if (lock < 0) {
			error("cannot lock the store for '%s':", dbkey);
			free(dbkey);
			return DG_NO;
		}
	}
	if (lock >= 0)
		store_clean_stale(cx->store, dbkey);
	struct strvec undo = STRVEC_INIT;
	retention_keep_undo(&p, &undo);
	struct snapshot_list l;
	if (t)
		store_list_target(cx->store, t, &l);
	else if (dbkey)
		volsnap_list(cx->store, o->volume, &l);
	else
		store_list(cx->store, NULL, &l);
	p.keep_clones = snap_keep_clones_limit();
	struct prune_arg pa = { t };
	/* -q: nothing at all on success. */
	size_t failed = store_prune_with(&l, &p, time(NULL), o->dry_run, msg_verbosity >= 1 ? stdout : NULL,
	                                 prune_remove, &pa);
	snapshot_list_free(&l);
	sv_free(&undo);
	store_unlock(lock);
	free(dbkey);
	return failed ? DG_NO : DG_OK;
}
