/* targets.c — db-envcheck, db-snap and db-restore as safe-run's children
 * (targets.h). */
#include "saferun/targets.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/xalloc.h"
#include "model/config.h"

int saferun_envcheck(const char *dir, int test_run, struct found_list *out)
{
	out->v = NULL;
	out->n = 0;
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-envcheck"));
	if (dir) {
		sv_push(&av, "-C");
		sv_push(&av, dir);
	}
	/* --ping reads the production marker, so a copy of production under an
	 * innocent name is still refused, and says what is reachable. */
	sv_push(&av, "--format=tsv");
	sv_push(&av, "--ping");
	if (test_run)
		sv_push(&av, "--test-run");
	/* Its errors (a malformed .env) still show; the verdict is ours to say once. */
	sv_push(&av, "-q");
	char *text = NULL;
	int ws = run_capture(sv_argv(&av), NULL, -1, &text, NULL);
	if (ws < 0) {
		error("cannot run '%s':", av.v[0]);
		sv_free(&av);
		return -1;
	}
	sv_free(&av);
	char *save = NULL;
	int header = 1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (header) {
			header = 0;
			continue;
		}
		char *cols[C_COUNT + 8];
		int n = tsv_split(line, cols, C_COUNT + 8);
		if (n < C_BASIC)
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		struct found *f = &out->v[out->n++];
		memset(f, 0, sizeof *f);
		for (int c = 0; c < C_COUNT; c++)
			f->col[c] = xstrdup(c < n ? cols[c] : "");
		if (!strcmp(f->col[C_ENGINE], "sqlite"))
			f->describe = xasprintf("sqlite %s", f->col[C_DATABASE]);
		else
			f->describe = xasprintf("%s %s%s%s:%s/%s", *f->col[C_ENGINE] ? f->col[C_ENGINE] : "database",
			                        f->col[C_USER], *f->col[C_USER] ? "@" : "", f->col[C_HOST],
			                        f->col[C_PORT], f->col[C_DATABASE]);
	}
	free(text);
	return exit_status_of(ws);
}

void found_list_free(struct found_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (int c = 0; c < C_COUNT; c++)
			free(l->v[i].col[c]);
		free(l->v[i].snapshot);
		free(l->v[i].describe);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const char *found_confirm_name(const struct found *f)
{
	const char *db = f->col[C_DATABASE];
	const char *slash = strrchr(db, '/');
	return strcmp(f->col[C_ENGINE], "sqlite") == 0 && slash ? slash + 1 : db;
}

int found_nothing_yet(const struct found *f)
{
	if (strcmp(f->col[C_ENGINE], "sqlite"))
		return 0;
	return !strcmp(f->col[C_DATABASE], ":memory:") || access(f->col[C_DATABASE], F_OK) != 0;
}

int found_missing(const struct found *f)
{
	return strcmp(f->col[C_ENGINE], "sqlite") != 0 && strcmp(f->col[C_REACHABLE], "missing") == 0;
}

int found_unreachable(const struct found *f)
{
	return strcmp(f->col[C_REACHABLE], "no") == 0;
}

int saferun_snapshot(struct found *f, size_t index, const char *reason, int test_run)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-snap"));
	sv_push(&av, "--reason");
	sv_push(&av, reason);
	if (test_run)
		sv_push(&av, "--test-run");
	if (index > 0)
		sv_pushf(&av, "--target=%zu", index + 1);
	if (msg_verbosity < 1)
		sv_push(&av, "-q");
	verbose("snapshot of %s: %s", f->describe, av.v[0]);
	char *out = NULL;
	int ws = run_capture(sv_argv(&av), NULL, -1, &out, NULL);
	int status = ws < 0 ? DG_REFUSED : exit_status_of(ws);
	if (ws < 0)
		error("cannot run '%s':", av.v[0]);
	if (status == 0 && out) {
		out[strcspn(out, "\n")] = '\0';
		if (*out)
			f->snapshot = xstrdup(out);
		else
			status = DG_NO;
	}
	free(out);
	sv_free(&av);
	if (ws >= 0 && WIFSIGNALED(ws) && (WTERMSIG(ws) == SIGINT || WTERMSIG(ws) == SIGTERM)) {
		/* The user interrupted the snapshot: stop here, as the shell would. */
		signal(WTERMSIG(ws), SIG_DFL);
		raise(WTERMSIG(ws));
	}
	return status;
}

static int run_db_restore(struct strvec *av);

int saferun_restore(const char *dir, const struct found *f, size_t index, int test_run,
                    const char *snapshot, int terminate)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-restore"));
	if (dir) {
		sv_push(&av, "-C");
		sv_push(&av, dir);
	}
	sv_pushf(&av, "--confirm=%s", found_confirm_name(f));
	if (test_run)
		sv_push(&av, "--test-run");
	if (index > 0)
		sv_pushf(&av, "--target=%zu", index + 1);
	if (terminate || (!strcmp(f->col[C_CLASS], "local") &&
	                  config_get_bool("safe-run", "terminate_connections", 0)))
		sv_push(&av, "--terminate-connections");
	if (msg_verbosity < 1)
		sv_push(&av, "-q");
	sv_push(&av, snapshot);
	return run_db_restore(&av);
}

int saferun_restore_volume(const char *dir, const char *volume, const char *snapshot)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-restore"));
	if (dir) {
		sv_push(&av, "-C");
		sv_push(&av, dir);
	}
	sv_pushf(&av, "--volume=%s", volume);
	sv_pushf(&av, "--confirm=%s", volume);
	if (msg_verbosity < 1)
		sv_push(&av, "-q");
	sv_push(&av, snapshot);
	return run_db_restore(&av);
}

/* Run the db-restore of av (freed) with its stdout on our stderr. */
static int run_db_restore(struct strvec *av)
{
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.fd_out = 2;   /* db-restore's data output is talk here: stdout belongs to the command */
	pid_t pid;
	int ws = 0, err = spawn_child(sv_argv(av), &so, &pid);
	if (err) {
		errno = err;
		error("cannot run '%s':", av->v[0]);
		sv_free(av);
		return -1;
	}
	wait_child(pid, &ws);
	sv_free(av);
	return exit_status_of(ws);
}

void saferun_rollback(const struct found_list *l, int test_run, const struct strvec *volume_snaps)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct found *f = &l->v[i];
		if (!f->snapshot)
			continue;
		info("rolling back %s to '%s'", f->describe, f->snapshot);
		int status = saferun_restore(NULL, f, i, test_run, f->snapshot, 0);
		if (status == 0)
			info("rolled back: %s is back as it was before the command (row counts match the snapshot)",
			     f->describe);
		else if (status > 0)
			error("rollback of %s failed (db-restore exit %d); the snapshot is still at '%s'", f->describe,
			      status, f->snapshot);
	}
	for (size_t i = 0; i < volume_snaps->n; i++) {
		const char *line = volume_snaps->v[i], *tab = strchr(line, '\t');
		if (!tab)
			continue;
		char *volume = xstrndup(line, (size_t)(tab - line));
		info("rolling back volume %s to '%s'", volume, tab + 1);
		int status = saferun_restore_volume(NULL, volume, tab + 1);
		if (status == 0)
			info("rolled back: volume %s is back as it was before the command", volume);
		else if (status > 0)
			error("rollback of volume %s failed (db-restore exit %d); the snapshot is still at '%s'", volume,
			      status, tab + 1);
		free(volume);
	}
}
