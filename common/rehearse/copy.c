/* copy.c — the throwaway copy a rehearsal runs the command against: its
 * name, how it is made (the engine's own copy, else a snapshot restored
 * into a scratch database by db-restore --into), dropped, and the leftovers
 * of killed runs found by that name and dropped. */
#include "rehearse/impl.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/process.h"

char *rh_copy_name(const struct target *t, long pid)
{
	const char *db = target_get(t, TF_DATABASE);
	char suffix[64];
	snprintf(suffix, sizeof suffix, RH_MARK "%ld", pid);
	if (target_is(t, "sqlite")) {
		/* Beside the original, keeping its extension: app__dbguard_rehearse_42.sqlite */
		char *dir = path_dir(db), *base = path_base(db);
		char *dot = strrchr(base, '.');
		char *name = dot && dot != base ? xasprintf("%.*s%s%s", (int)(dot - base), base, suffix, dot)
		                                : xasprintf("%s%s", base, suffix);
		char *path = path_join(dir, name);
		free(dir);
		free(base);
		free(name);
		return path;
	}
	/* PostgreSQL names stop at 63 bytes, MySQL's at 64. */
	size_t room = 63 - strlen(suffix), len = strlen(db);
	return xasprintf("%.*s%s", (int)(len < room ? len : room), db, suffix);
}

void rh_copy_target(const struct target *t, const char *copy, struct target *out)
{
	target_copy(out, t);
	target_set(out, TF_DATABASE, copy, "rehearsal copy");
}

/* Run a sibling program quietly; its stdout (a snapshot's path) into *out. */
static int run_sibling(struct strvec *av, char **out)
{
	char *text = NULL;
	int ws = run_capture(sv_argv(av), NULL, -1, &text, NULL);
	if (ws < 0) {
		error("cannot run '%s':", av->v[0]);
		return DG_NO;
	}
	if (out) {
		if (text)
			text[strcspn(text, "\n")] = '\0';
		*out = text;
	} else {
		free(text);
	}
	return exit_status_of(ws);
}

char *rh_snapshot(int target_no, int test_run, const char *reason)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-snap"));
	sv_push(&av, "-q");
	sv_pushf(&av, "--reason=%s", reason);
	sv_pushf(&av, "--target=%d", target_no);
	if (test_run)
		sv_push(&av, "--test-run");
	char *taken = NULL;
	int rc = run_sibling(&av, &taken);
	sv_free(&av);
	if (rc != 0 || !taken || !*taken) {
		error("the snapshot of database %d failed (db-snap exit %d)", target_no, rc);
		free(taken);
		return NULL;
	}
	return taken;
}

static int restore_into(int target_no, int test_run, const char *copy, char **snapshot)
{
	if (!*snapshot && !(*snapshot = rh_snapshot(target_no, test_run, "safe-run --rehearse: the copy's source")))
		return DG_NO;
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-restore"));
	sv_push(&av, "-q");
	sv_pushf(&av, "--into=%s", copy);
	sv_pushf(&av, "--confirm=%s", copy);
	sv_push(&av, "--no-safety-snap");
	sv_pushf(&av, "--target=%d", target_no);
	if (test_run)
		sv_push(&av, "--test-run");
	sv_push(&av, *snapshot);
	int rc = run_sibling(&av, NULL);
	sv_free(&av);
	if (rc != 0)
		error("cannot make the copy '%s': db-restore --into of '%s' failed (exit %d)", copy, *snapshot, rc);
	return rc;
}

struct dbconn *rh_server_connect(const struct target *t)
{
	if (target_is(t, "sqlite"))
		return NULL;
	struct dbconn *s = NULL;
	char err[1024];
	if (db_connect_admin(t, &s, err, sizeof err) != DG_OK) {
		error("%s", err);
		return NULL;
	}
	return s;
}

int rh_copy_make(const struct target *t, struct dbconn *s, int target_no, int test_run, const char *copy,
                 char **snapshot, const char **how)
{
	const struct rh_engine *e = rh_engine_of(target_get(t, TF_ENGINE));
	if (!e) {
		error("cannot copy a database of engine '%s'", target_get(t, TF_ENGINE) ? target_get(t, TF_ENGINE) : "?");
		return DG_USAGE;
	}
	if (!s && !target_is(t, "sqlite"))
		return DG_UNREACHABLE;
	char err[1024] = "";
	int rc = e->copy(t, s, copy, how, err, sizeof err);
	if (rc == DG_OK)
		return DG_OK;
	if (rc != DG_NO || target_is(t, "sqlite")) {
		error("cannot make the copy '%s': %s", copy, err);
		return rc;
	}
	verbose("%s; loading a snapshot into '%s' instead", err, copy);
	rc = restore_into(target_no, test_run, copy, snapshot);
	if (rc == 0)
		*how = "snapshot";
	else
		rh_copy_drop(t, s, copy);
	return rc;
}

int rh_copy_drop(const struct target *t, struct dbconn *s, const char *copy)
{
	const struct rh_engine *e = rh_engine_of(target_get(t, TF_ENGINE));
	if (!e || !strstr(copy, RH_MARK)) {
		error("will not drop '%s': not a rehearsal copy", copy);
		return -1;
	}
	struct dbconn *own = NULL;
	if (!s && !target_is(t, "sqlite") && !(s = own = rh_server_connect(t))) {
		error("cannot drop the rehearsal copy '%s'", copy);
		return -1;
	}
	char err[1024] = "";
	int rc = e->drop(t, s, copy, err, sizeof err);
	db_close(own);
	if (rc < 0) {
		error("cannot drop the rehearsal copy '%s': %s", copy, err);
		return -1;
	}
	return 0;
}

/* The run that made a copy: the number after the mark, alive or not. */
static int copy_orphaned(const char *name)
{
	const char *m = strstr(name, RH_MARK);
	if (!m)
		return 0;
	char *end;
	errno = 0;
	long pid = strtol(m + strlen(RH_MARK), &end, 10);
	if (errno || pid <= 0 || (*end && *end != '.'))
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int rh_copy_clean(const struct target *t, struct dbconn *s)
{
	const struct rh_engine *e = rh_engine_of(target_get(t, TF_ENGINE));
	if (!e)
		return 0;
	struct dbconn *own = NULL;
	if (!s && !target_is(t, "sqlite") && !(s = own = rh_server_connect(t)))
		return 0;
	struct strvec names = STRVEC_INIT;
	char err[1024] = "";
	int dropped = 0;
	if (e->list(t, s, &names, err, sizeof err) < 0)
		verbose("cannot look for leftover rehearsal copies: %s", err);
	for (size_t i = 0; i < names.n; i++) {
		if (!copy_orphaned(names.v[i]))
			continue;
		if (rh_copy_drop(t, s, names.v[i]) == 0) {
			info("dropped '%s', the copy of a rehearsal that did not finish", names.v[i]);
			dropped++;
		}
	}
	sv_free(&names);
	db_close(own);
	return dropped;
}
