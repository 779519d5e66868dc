/* job.c — the snapshot a db-restore run loads: picked and opened, pulled
 * from the remote store first with --remote. */
#include "restorecli/restorecli.h"

#include "base/exitcodes.h"
#include "remote/remote.h"

/* Pick and open the snapshot; with --remote, the one pulled from the
 * remote store into the local one first (verified there). */
int job_open(struct ctx *cx, const struct opts *o, struct restore_job *j)
{
	struct pick_opts po = o->pick;
	if (o->remote) {
		int rc = remote_fetch(po.snapshot, cx->ti >= 0 ? &cx->targets.v[cx->ti] : NULL, cx->store,
		                      cx->project, &cx->pulled);
		if (rc != DG_OK)
			return rc;
		po.snapshot = cx->pulled;
	}
	return restore_job_open(j, &po, cx->store, &cx->targets, cx->ti);
}
