/* list.c — db-restore --list: the snapshots of the target, of a Docker
 * volume, or of the whole store. */
#include "restorecli/list.h"

#include <stdio.h>

#include "base/exitcodes.h"
#include "cli/cli.h"
#include "docker/volsnap.h"
#include "store/store.h"

int do_restore_list(struct ctx *cx, const struct opts *o)
{
	int ti = cx->ti, one = ti >= 0 && !o->all;
	struct snapshot_list sl;
	if (o->volume && !o->all)
		volsnap_list(cx->store, o->volume, &sl);
	else if (one)
		store_list_target(cx->store, &cx->targets.v[ti], &sl);
	else
		store_list(cx->store, NULL, &sl);
	store_show_list(&sl, cli_format_default(o->format), !one, one ? target_confirm_name(&cx->targets.v[ti]) : NULL,
	                cx->store);
	snapshot_list_free(&sl);
	return DG_OK;
}
