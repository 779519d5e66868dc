/* restore.c — db-restore's restore: confirmed, a safety snapshot taken,
 * loaded beside the target under the store's lock and swapped in. */
#include "restorecli/restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "model/classify.h"
#include "model/confirm.h"
#include "restore/restore.h"
#include "restore/summary.h"
#include "store/store.h"

/* What is there now, the class, the confirmation, the other sessions. */
static int confirm(struct ctx *cx, const struct opts *o, struct restore_job *j)
{
	int will_prompt = !o->confirm && !(getenv("DBGUARD_CONFIRM") && *getenv("DBGUARD_CONFIRM")) &&
	                  term_can_prompt();
	/* --into refuses a database that holds anything, unless confirmed. */
	int rc = target_now_read(&j->tgt, &cx->now, will_prompt, will_prompt || o->pick.into);
	if (rc != DG_OK && rc != DG_NOTHING)
		return rc;
	classify_target(&j->tgt);
	const char *name = target_confirm_name(&j->tgt);
	if (class_refused(j->tgt.cls) && cx->now.exists && !o->allow_production) {
		error("refusing to restore into %s database '%s': %s; add --allow-production (and confirm)"
		      " if you mean it; nothing was changed", tclass_name(j->tgt.cls), name, j->tgt.rule);
		return DG_NO;
	}
	if (!o->pick.into || (cx->now.exists && cx->now.tables != 0)) {
		if (will_prompt)
			print_summary(&j->tgt, &cx->now, j->snap.name, j->snap.m);
		char *what = confirm_question(name, j->snap.name, j->snap.m, o->pick.into != NULL);
		rc = target_confirm(&j->tgt, o->confirm, what);
		free(what);
		if (rc != DG_OK)
			return rc;
	}
	rc = cx->now.exists ? restore_sessions(&j->tgt, o->pick.terminate) : DG_OK;
	if (rc != DG_OK && restore_sessions_found() && j->snap.path && j->index >= 0) {
		char target_opt[32] = "";
		if (j->index > 0)
			snprintf(target_opt, sizeof target_opt, "--target=%d ", j->index + 1);
		error("to end them and restore: db-restore --terminate-connections --confirm=%s %s%s'%s'", name,
		      o->test_run ? "--test-run " : "", target_opt, j->snap.path);
	}
	return rc;
}

/* Under the target's lock in the store: clean up after killed runs, finish
 * one that stopped while replacing. */
static int prepare(struct ctx *cx, struct restore_job *j, const char *name)
{
	if (store_ensure(cx->store) < 0) {
		error("cannot create the snapshot store '%s':", cx->store);
		return DG_NO;
	}
	int lock = store_lock(cx->store, j->dbkey, 0);
	if (lock < 0) {
		info("waiting for another snapshot or restore of '%s' to finish", name);
		lock = store_lock(cx->store, j->dbkey, 600);
	}
	if (lock < 0) {
		error("cannot lock '%s' in the store '%s':", name, cx->store);
		return DG_NO;
	}
	store_clean_stale(cx->store, j->dbkey);
	int rc = restore_prepare(&j->tgt, &j->ropt, 1);
	fault_point("restore.locked");
	store_unlock(lock);
	return rc;
}

int do_restore(struct ctx *cx, const struct opts *o, struct restore_job *j)
{
	int status = job_open(cx, o, j);
	if (status == DG_OK)
		status = confirm(cx, o, j);
	if (status != DG_OK)
		return status;
	const char *name = target_confirm_name(&j->tgt);
	status = prepare(cx, j, name);
	if (status != DG_OK)
		return status;
	restore_catch_signals();
	if (!o->no_safety && cx->now.exists) {
		char *base = j->snap.path ? path_base(j->snap.path) : xstrdup("standard input");
		cx->safety = safety_snapshot(&j->tgt, base);
		free(base);
		if (!cx->safety)
			return restore_interrupted() ? 128 + restore_interrupted() : DG_NO;
		info("safety snapshot of '%s' as it is now: %s", name, cx->safety);
		fault_point("restore.safety");
		j->ropt.safety_path = cx->safety;
	}
	if (restore_interrupted())
		return 128 + restore_interrupted();
	int lock = store_lock(cx->store, j->dbkey, 600);
	if (lock < 0) {
		error("cannot lock '%s' in the store '%s':", name, cx->store);
		return DG_NO;
	}
	status = restore_interrupted() ? 128 + restore_interrupted() : restore_load(&j->tgt, &j->in, &j->ropt);
	if (status == DG_OK)
		fault_point("restore.done");
	progress_stage_end();
	store_unlock(lock);
	if (status == DG_OK)
		print_restored(j, &o->pick, o->test_run, cx->safety);
	else if (status < 128)
		error("'%s' was not changed", name);
	return status;
}
