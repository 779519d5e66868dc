/* remote.c — db-snap and the remote store ([store] remote): --list,
 * --verify and --prune with --remote, --push, --pull, and [store] push
 * after a new snapshot. */
#include "snapcli/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/output.h"
#include "cli/cli.h"
#include "base/xalloc.h"
#include "snapcli/list.h"

struct remote *open_remote(void)
{
	struct remote *r;
	int rc = remote_open(&r);
	if (rc == DG_NOTHING)
		die(DG_USAGE, "no remote store is configured: set [store] remote = REMOTE:PATH (an rclone "
		    "remote) in .dbguard.conf, or DBGUARD_REMOTE");
	if (rc != DG_OK)
		exit(rc);
	return r;
}

/* The remote listing of this database (or of all with --all). */
static int list_remote(struct ctx *cx, const struct opts *o, struct remote *r, struct remote_listing *rl)
{
	if (o->all)
		return remote_list(r, NULL, NULL, cx->store, rl);
	struct target *t = primary(cx, o);
	char *dbkey = store_dbkey(t);
	int rc = remote_list(r, dbkey, target_get(t, TF_ENGINE), cx->store, rl);
	free(dbkey);
	return rc;
}

int do_remote(struct ctx *cx, const struct opts *o)
{
	struct remote *r = open_remote();
	struct remote_listing rl;
	int rc = list_remote(cx, o, r, &rl);
	if (rc != DG_OK) {
		remote_close(r);
		return rc;
	}
	if (o->mode == MODE_LIST) {
		int fmt = cli_format_default(o->format);
		if (rl.l.n == 0 && fmt == FMT_HUMAN)
			info("no snapshots on '%s'", remote_spec(r));
		else
			store_print_list(stdout, &rl.l, fmt, o->all);
	} else if (o->mode == MODE_VERIFY) {
		if (rl.l.n == 0 && rl.orphans.n == 0) {
			error("no snapshots on '%s' to verify", remote_spec(r));
			rc = DG_NOTHING;
		} else {
			rc = remote_verify(r, &rl);
		}
	} else {
		struct prune_policy p = o->policy;
		if (!o->policy_given) {
			remote_prune_policy(&p);
			p.prune_labelled = o->policy.prune_labelled;
		}
		rc = remote_prune(r, &rl, &p, o->dry_run);
	}
	remote_listing_free(&rl);
	remote_close(r);
	return rc;
}

int do_push(struct ctx *cx, const struct opts *o, char **operands, int nops)
{
	struct remote *r = open_remote();
	struct strvec paths = STRVEC_INIT;
	int rc = DG_OK;
	if (nops > 0) {
		for (int i = 0; i < nops; i++)
			sv_push_owned(&paths, store_find(cx->store, operands[i]));
	} else {
		struct snapshot_list l;
		char *dbkey;
		list_store(cx, o, &l, &dbkey);
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].good && (o->all || paths.n == 0))
				sv_push(&paths, l.v[i].path);
		if (paths.n == 0) {
			error("no good snapshot%s%s%s in '%s' to push", dbkey ? " of '" : "", dbkey ? dbkey : "",
			      dbkey ? "'" : "", cx->store);
			rc = DG_NOTHING;
		}
		snapshot_list_free(&l);
		free(dbkey);
	}
	for (size_t i = 0; i < paths.n; i++) {
		int e = remote_push(r, paths.v[i]);
		if (e != DG_OK && rc == DG_OK)
			rc = e;
		if (e == DG_UNREACHABLE || e == DG_USAGE)
			break;
	}
	sv_free(&paths);
	remote_close(r);
	return rc;
}

int do_pull(struct ctx *cx, char **operands, int nops)
{
	struct remote *r = open_remote();
	struct remote_listing rl;
	int rc = remote_list(r, NULL, NULL, cx->store, &rl);
	for (int i = 0; rc == DG_OK && i < nops; i++) {
		long k = remote_find(r, &rl, operands[i]);
		int e;
		char *local = NULL;
		if (k < 0) {
			const char *base = strrchr(operands[i], '/') ? strrchr(operands[i], '/') + 1
			                 : strchr(operands[i], ':') ? strchr(operands[i], ':') + 1 : operands[i];
			int nometa = 0;
			for (size_t j = 0; j < rl.no_meta.n; j++)
				nometa |= strncmp(rl.no_meta.v[j], base, strlen(base)) == 0;
			error(nometa ? "'%s' has no metadata on '%s': not a whole snapshot; refused"
			             : "no snapshot '%s' on '%s' (db-snap --list --remote --all lists them)",
			      operands[i], remote_spec(r));
			e = nometa ? DG_INTEGRITY : DG_NOTHING;
		} else if ((e = remote_pull(r, &rl, (size_t)k, cx->store, cx->project, &local)) == DG_OK) {
			printf("%s\n", local);
		}
		free(local);
		if (e != DG_OK && rc == DG_OK)
			rc = e;
	}
	remote_listing_free(&rl);
	remote_close(r);
	return rc;
}

/* [store] push after a new snapshot in the store (the remote opened
 * before the snapshot, so a configuration error costs no snapshot). */
int push_new(struct ctx *cx, struct remote *r, enum push_mode mode, const char *path)
{
	int rc = DG_OK;
	fflush(stdout);
	if (mode == PUSH_BACKGROUND)
		remote_push_background(path, cx->store);
	else
		rc = remote_push(r, path);
	return rc;
}
