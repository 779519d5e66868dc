/* export.c — db-snap --export: the portable dump of a clone, taken by
 * connecting to the clone on its server. */
#include "snapcli/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "snap/clone.h"
#include "snapcli/take.h"

struct export_arg {
	struct ctx *cx;
	struct opts o;
};

static int export_clone(void *arg, const struct target *clone)
{
	struct export_arg *a = arg;
	a->cx->override = (struct target *)clone;
	int rc = do_snap(a->cx, &a->o, NULL);
	a->cx->override = NULL;
	return rc;
}

/* --export: a clone's portable dump, into -o FILE or standard output. */
int do_export(struct ctx *cx, const struct opts *o)
{
	char *path = store_find(cx->store, o->export), err[512] = "";
	struct snapshot_meta m;
	int rc = DG_OK;
	if (store_verify(path, &m, err, sizeof err) < 0) {
		error("'%s' failed verification: %s", path, err);
		rc = access(path, F_OK) == 0 ? DG_INTEGRITY : DG_NOTHING;
	} else if (!m.clone) {
		error("'%s' is a %s, portable as it is: copy it (or restore it with db-restore)", path,
		      store_meta_is_clone(&m) ? "SQLite database file" : "dump");
		rc = DG_USAGE;
	} else {
		struct target *t = server_of(cx, o, &m);
		if (!t) {
			error("no database configured here is on the server %s:%d of '%s'; --url names one",
			      m.host, m.port, path);
			rc = DG_NOTHING;
		} else {
			struct export_arg a = { cx, *o };
			a.o.always = 1;
			a.o.tier = "dump";
			a.o.mode = MODE_SNAP;
			cx->export_of = m.database;
			verbose("dumping the clone '%s' of '%s'", m.clone, m.database);
			rc = clone_pg_with_connections(t, m.clone, export_clone, &a, err, sizeof err);
			cx->export_of = NULL;
			if (rc != DG_OK && *err)
				error("cannot dump the clone '%s': %s", m.clone, err);
		}
	}
	store_meta_free(&m);
	free(path);
	return rc;
}
