/* check.c — db-restore --check: load a snapshot into a throwaway
 * database beside the target, compare its row counts, drop it. */
#include "restorecli/check.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/process.h"
#include "base/term.h"
#include "restore/restore.h"

/* Without the client nothing can be loaded: that says nothing of the snapshot. */
static int check_client(const struct restore_job *j)
{
	const char *engine = target_get(&j->tgt, TF_ENGINE);
	if (!engine || !strcmp(engine, "sqlite"))
		return DG_OK;
	int pg = !strcmp(engine, "postgres");
	const char *pgc[] = { "psql", NULL }, *myc[] = { "mariadb", "mysql", NULL };
	char *client = find_on_path(pg ? pgc : myc);
	if (client) {
		free(client);
		return DG_OK;
	}
	error("cannot check '%s': the client %s is not installed (Debian: %s); the snapshot was not checked",
	      j->snap.name, pg ? "psql" : "mariadb", pg ? "postgresql-client" : "mariadb-client");
	return DG_NO;
}

int do_check(struct ctx *cx, const struct opts *o, struct restore_job *j)
{
	int status = job_open(cx, o, j);
	if (status != DG_OK)
		return status;
	if ((status = check_client(j)) != DG_OK)
		return status;
	status = restore_prepare(&j->tgt, &j->ropt, 0);
	if (status == DG_OK) {
		restore_catch_signals();
		status = restore_check(&j->tgt, &j->in, &j->ropt);
		progress_stage_end();
	}
	const struct snapshot_meta *m = j->snap.m;
	if (status == DG_OK)
		info("'%s' is good: it loads, and its %zu table%s hold%s the %lld row%s recorded", j->snap.name,
		     m->tables.n, m->tables.n == 1 ? "" : "s", m->tables.n == 1 ? "s" : "", m->rows,
		     m->rows == 1 ? "" : "s");
	else if (status == DG_UNREACHABLE)
		error("'%s' was not checked: the server cannot be reached", j->snap.name);
	else if (status < 128)
		error("'%s' failed the check", j->snap.name);
	return status;
}
