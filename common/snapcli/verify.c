/* verify.c — db-snap --verify: checksum, compression and metadata of
 * snapshots, and a PostgreSQL clone in its server too. */
#include "snapcli/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "snap/instant.h"
#include "snapcli/list.h"

struct verify_arg {
	struct ctx *cx;
	const struct opts *o;
};

/* A PostgreSQL clone is also checked in its server. */
static int check_clone(void *arg, const struct snapshot_meta *m, char *err, size_t errlen)
{
	struct verify_arg *a = arg;
	if (!m->clone)
		return 0;
	struct target *t = server_of(a->cx, a->o, m);
	if (!t) {
		snprintf(err, errlen, "no database configured here is on its server %s:%d, so the clone "
		         "cannot be checked (--url names one)", m->host, m->port);
		return -1;
	}
	return snap_verify_clone(t, m, err, errlen);
}

int do_verify(struct ctx *cx, const struct opts *o, char **operands, int nops)
{
	struct strvec paths = STRVEC_INIT;
	char *dbkey = NULL;
	if (nops > 0) {
		for (int i = 0; i < nops; i++)
			sv_push_owned(&paths, store_find(cx->store, operands[i]));
	} else {
		struct snapshot_list l;
		list_store(cx, o, &l, &dbkey);
		for (size_t i = 0; i < l.n; i++)
			sv_push(&paths, l.v[i].path);
		snapshot_list_free(&l);
		if (paths.n == 0) {
			error("no snapshots%s%s%s in '%s' to verify", dbkey ? " of '" : "",
			      dbkey ? dbkey : "", dbkey ? "'" : "", cx->store);
			free(dbkey);
			return DG_NOTHING;
		}
	}
	/* A snapshot that is not there is no snapshot (3), not a corrupt one (5). */
	struct strvec there = STRVEC_INIT;
	size_t missing = 0;
	for (size_t i = 0; i < paths.n; i++) {
		if (access(paths.v[i], F_OK) == 0) {
			sv_push(&there, paths.v[i]);
		} else {
			error("no snapshot '%s'", paths.v[i]);
			missing++;
		}
	}
	struct verify_arg va = { cx, o };
	size_t bad = there.n ? store_verify_all_with(there.v, there.n, stdout, check_clone, &va) : 0;
	sv_free(&there);
	sv_free(&paths);
	free(dbkey);
	return bad ? DG_INTEGRITY : missing ? DG_NOTHING : DG_OK;
}
