/* summary.c — see summary.h. */
#include "restore/summary.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/xalloc.h"
#include "engine/engine.h"
#include "model/dburl.h"
#include "restore/restore.h"

static char *utc(time_t t, const char *fmt)
{
	char buf[64];
	struct tm tm;
	strftime(buf, sizeof buf, fmt, gmtime_r(&t, &tm));
	return xstrdup(buf);
}

int target_now_read(struct target *t, struct target_now *n, int want_size, int want_tables)
{
	memset(n, 0, sizeof *n);
	n->size = n->tables = -1;
	const char *db = target_get(t, TF_DATABASE);
	struct stat st;
	if (strcmp(target_get(t, TF_ENGINE), "sqlite") == 0 && db && stat(db, &st) < 0 && errno == ENOENT) {
		char *dir = path_dir(db);
		int dir_ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
		free(dir);
		if (!dir_ok) {
			error("cannot restore into '%s': its directory does not exist", db);
			return DG_NO;
		}
		return DG_NOTHING;
	}
	struct dbconn *c;
	char err[512];
	int rc = db_connect(t, &c, err, sizeof err);
	if (rc == DG_NO && strstr(err, "does not exist"))
		return DG_NOTHING;
	if (rc == DG_NO && strcmp(target_get(t, TF_ENGINE), "sqlite") == 0) {
		/* A damaged file is what a restore is for. */
		warn("%s", err);
		n->exists = 1;
		return DG_OK;
	}
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	n->exists = 1;
	if (db_marker_read(c, &n->marker, err, sizeof err) < 0)
		warn("cannot read the marker of '%s': %s", target_confirm_name(t), err);
	free(t->marker);
	t->marker = xstrdup(n->marker);
	if (want_size)
		n->size = db_size(c, err, sizeof err);
	if (want_tables) {
		struct table_counts tc;
		if (db_tables(c, &tc, err, sizeof err) == 0)
			n->tables = (long)tc.n;
		table_counts_free(&tc);
	}
	db_close(c);
	return DG_OK;
}

void target_now_free(struct target_now *n)
{
	free(n->marker);
	memset(n, 0, sizeof *n);
}

void print_summary(const struct target *t, const struct target_now *n, const char *snap,
                   const struct snapshot_meta *m)
{
	char *d = target_describe(t);
	info("target:   %s", d);
	free(d);
	if (n->exists) {
		char size[32];
		info("          class %s; %s in %ld table%s; marker %s", tclass_name(t->cls),
		     n->size >= 0 ? human_bytes((unsigned long long)n->size, size, sizeof size) : "size unknown",
		     n->tables, n->tables == 1 ? "" : "s", n->marker ? n->marker : "none");
	} else {
		info("          class %s; does not exist yet: it will be created", tclass_name(t->cls));
	}
	info("snapshot: %s", snap);
	if (m) {
		char *when = utc(m->created, "%Y-%m-%d %H:%M:%S UTC");
		info("          taken %s; label %s; reason %s%s%s", when, m->label && *m->label ? m->label : "(none)",
		     m->reason && *m->reason ? "\"" : "", m->reason && *m->reason ? m->reason : "(none)",
		     m->reason && *m->reason ? "\"" : "");
		info("          %zu table%s, %lld row%s", m->tables.n, m->tables.n == 1 ? "" : "s", m->rows,
		     m->rows == 1 ? "" : "s");
		free(when);
	} else {
		info("          an unverified stream: nothing is known about it");
	}
}

char *confirm_question(const char *name, const char *snap, const struct snapshot_meta *m, int into)
{
	if (into)
		return xasprintf("'%s' is not empty: restoring '%s' into it replaces everything in it", name, snap);
	char *when = m ? utc(m->created, "%Y-%m-%d %H:%M:%S UTC") : xstrdup("an unverified stream");
	char *what = xasprintf("this replaces the database '%s' with the snapshot of %s", name, when);
	free(when);
	return what;
}

void print_restored(const struct restore_job *j, const struct pick_opts *po, int test_run,
                    const char *safety)
{
	const char *name = target_confirm_name(&j->tgt);
	const struct snapshot_meta *m = j->snap.m;
	if (m)
		info("restored '%s' from '%s': %zu table%s, %lld row%s, every count as recorded", name,
		     j->snap.name, m->tables.n, m->tables.n == 1 ? "" : "s", m->rows, m->rows == 1 ? "" : "s");
	else
		info("restored '%s' from %s (unverified)", name, j->snap.name);
	if (!safety)
		return;
	char target_opt[32] = "";
	if (j->index > 0)
		snprintf(target_opt, sizeof target_opt, "--target=%d ", j->index + 1);
	char *where = NULL;
	if (po->into && !into_is_url(po->into)) {
		where = xasprintf("--into='%s' ", po->into);
	} else if (j->index < 0 && (po->url || po->into)) {
		char *u = dburl_format(&j->tgt, 0);
		where = xasprintf("--url='%s' ", u);
		free(u);
	}
	info("to undo it: db-restore %s%s%s'%s'", test_run && j->index >= 0 ? "--test-run " : "",
	     target_opt, where ? where : "", safety);
	free(where);
}

char *safety_snapshot(const struct target *t, const char *snapshot_name)
{
	struct strvec av = STRVEC_INIT, env = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-snap"));
	sv_push(&av, "--label");
	sv_push(&av, "pre-restore");
	sv_push(&av, "--reason");
	sv_pushf(&av, "before restoring %s", snapshot_name);
	if (msg_verbosity < 1)
		sv_push(&av, "-q");
	/* The very database we restore into.  A SQLite file has no password:
	 * it goes by --url, read as a plain URL.  DATABASE_URL would be read
	 * the way the project's framework reads it, and Laravel's reader takes
	 * the first part of sqlite://database/app.sqlite for a host.  A server
	 * goes through the environment, as a password never goes into an
	 * argv; its URL names every part, so no DB_* setting fills a gap. */
	const char *engine = target_get(t, TF_ENGINE);
	if (engine && !strcmp(engine, "sqlite")) {
		const char *db = target_get(t, TF_DATABASE);
		char *cwd = db && db[0] != '/' ? getcwd(NULL, 0) : NULL;
		sv_pushf(&av, "--url=sqlite:%s%s%s", cwd ? cwd : "", cwd ? "/" : "", db ? db : "");
		free(cwd);
	} else {
		char *u = dburl_format(t, 1);
		sv_pushf(&env, "DATABASE_URL=%s", u);
		memset(u, 0, strlen(u));
		free(u);
	}
	char *out = NULL;
	int st = run_capture(sv_argv(&av), env.n ? sv_argv(&env) : NULL, -1, &out, NULL);
	int e = errno;
	char *path = NULL;
	if (st < 0) {
		error("cannot run '%s' for the safety snapshot: %s", av.v[0], strerror(e));
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (!restore_interrupted())
			error("the safety snapshot failed (db-snap exit %d); nothing was changed;"
			      " --no-safety-snap restores without one", exit_status_of(st));
	} else {
		size_t n = strlen(out);
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
			out[--n] = '\0';
		const char *last = strrchr(out, '\n');
		last = last ? last + 1 : out;
		if (*last)
			path = xstrdup(last);
		else
			error("db-snap printed no snapshot path; nothing was changed");
	}
	free(out);
	for (size_t i = 0; i < env.n; i++)
		memset(env.v[i], 0, strlen(env.v[i]));
	sv_free(&av);
	sv_free(&env);
	return path;
}
