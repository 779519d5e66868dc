/* list.c — db-restore --list: the snapshots of the target, of a Docker
 * volume, or of the whole store. */
#include "restorecli/list.h"

#include <stdio.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/term.h"
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
	int fmt = o->format >= 0 ? o->format : term_is_tty(1) ? FMT_HUMAN : FMT_TSV;
	if (sl.n == 0 && fmt == FMT_HUMAN)
		info("no snapshots%s%s%s in '%s'", one ? " of '" : "",
		     one ? target_confirm_name(&cx->targets.v[ti]) : "", one ? "'" : "", cx->store);
	else
		store_print_list(stdout, &sl, fmt, !one);
	snapshot_list_free(&sl);
	return DG_OK;
}
