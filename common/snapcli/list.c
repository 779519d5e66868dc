/* list.c — db-snap --list and --latest: the snapshots of the database, of
 * a Docker volume, or of the whole store (--all). */
#include "snapcli/list.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "cli/cli.h"
#include "docker/volsnap.h"

void list_store(struct ctx *cx, const struct opts *o, struct snapshot_list *l, char **dbkey)
{
	if (o->volume && !o->all) {
		*dbkey = volsnap_dbkey(o->volume);
		volsnap_list(cx->store, o->volume, l);
		return;
	}
	if (o->all) {
		*dbkey = NULL;
		store_list(cx->store, NULL, l);
		return;
	}
	struct target *t = primary(cx, o);
	*dbkey = store_dbkey(t);
	store_list_target(cx->store, t, l);
}

int do_list(struct ctx *cx, const struct opts *o)
{
	struct snapshot_list l;
	char *dbkey;
	list_store(cx, o, &l, &dbkey);
	store_show_list(&l, cli_format_default(o->format), o->all, dbkey, cx->store);
	snapshot_list_free(&l);
	free(dbkey);
	return DG_OK;
}

int do_latest(struct ctx *cx, const struct opts *o)
{
	struct snapshot_list l;
	char *dbkey;
	list_store(cx, o, &l, &dbkey);
	const struct snapshot *s = store_latest(&l);
	int rc = DG_OK;
	if (s) {
		printf("%s\n", s->path);
	} else {
		error("no good snapshot of '%s' in '%s'%s", dbkey, cx->store,
		      l.n ? " (only ones that fail their metadata check)" : "");
		rc = DG_NOTHING;
	}
	snapshot_list_free(&l);
	free(dbkey);
	return rc;
}
