/* run.c — the flow of a rehearsal: snapshot each original (so a command
 * that ignores the redirect can be undone), db-rehearse --prepare a copy of
 * each, run the command with its environment pointed at the copies and its
 * output kept, db-rehearse --report each copy (which proves the original
 * unchanged and drops the copy), then one report and one verdict.  The
 * copies are dropped on every way out, ^C included. */
#include "rehearsal/rehearsal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* What a run holds, for the clean-up on every way out. */
struct db {
	struct rehearsal_target *t;
	char *snapshot;       /* db-snap's path, or NULL */
	char *copy;           /* made by db-rehearse --prepare, or NULL */
	char *section;        /* db-rehearse --report's output */
	int report_status;    /* its exit status */
	int skipped;          /* an in-memory SQLite database: nothing to copy */
};

static volatile sig_atomic_t interrupted, child;

static void on_signal(int sig)
{
	interrupted = sig;
	if (child > 0)
		kill((pid_t)child, sig);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void common_args(struct strvec *av, size_t index, const struct rehearsal_opts *o)
{
	sv_pushf(av, "--target=%zu", index + 1);
	if (o->test_run)
		sv_push(av, "--test-run");
	if (msg_verbosity < 1)
		sv_push(av, "-q");
	else if (msg_verbosity > 1)
		sv_push(av, "-v");
}

/* Run a child, its stdout into *out; the exit status, or -1 (reported). */
static int run_child(struct strvec *av, char **out)
{
	child = 0;
	char *text = NULL;
	int ws = run_capture(sv_argv(av), NULL, -1, &text, NULL);
	if (ws < 0) {
		error("cannot run '%s':", av->v[0]);
		free(text);
		return -1;
	}
	if (out)
		*out = text;
	else
		free(text);
	/* A child ended by ^C (or a kill of the group): the user's, so ours too. */
	if (WIFSIGNALED(ws) && !interrupted &&
	    (WTERMSIG(ws) == SIGINT || WTERMSIG(ws) == SIGTERM || WTERMSIG(ws) == SIGHUP))
		interrupted = WTERMSIG(ws);
	return exit_status_of(ws);
}

static int prepare(struct db *d, size_t index, const char *dir, const char *masked,
                   const struct rehearsal_opts *o)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-rehearse"));
	sv_push(&av, "--prepare");
	sv_pushf(&av, "--dir=%s", dir);
	sv_pushf(&av, "--id=%ld", (long)getpid());
	if (!o->no_snap)
		sv_pushf(&av, "--snap=safe-run --rehearse: %s", masked);
	common_args(&av, index, o);
	char *out = NULL;
	int rc = run_child(&av, &out);
	sv_free(&av);
	/* COPY <tab> HOW <tab> SNAPSHOT; a snapshot is kept for the undo even
	 * when no copy could be made. */
	struct strvec f = STRVEC_INIT;
	if (out) {
		out[strcspn(out, "\n")] = '\0';
		for (char *p = out, *tab; p; p = tab ? tab + 1 : NULL) {
			tab = strchr(p, '\t');
			sv_push_owned(&f, xstrndup(p, tab ? (size_t)(tab - p) : strlen(p)));
		}
	}
	if (f.n == 3 && *f.v[2])
		d->snapshot = xstrdup(f.v[2]);
	if (rc == 0 && f.n == 3 && *f.v[0]) {
		d->copy = xstrdup(f.v[0]);
		verbose("rehearsing %s on its copy '%s' (made by %s)", d->t->describe, d->copy, f.v[1]);
	} else {
		error("cannot rehearse: no copy of %s could be made (db-rehearse exit %d)", d->t->describe, rc);
		rc = rc ? rc : DG_NO;
	}
	sv_free(&f);
	free(out);
	return rc;
}

static void drop(struct db *d, size_t index, const struct rehearsal_opts *o)
{
	if (!d->copy)
		return;
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-rehearse"));
	sv_pushf(&av, "--drop=%s", d->copy);
	common_args(&av, index, o);
	/* Also after a ^C: the clean-up must not be interrupted by it. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	char *out = NULL;
	int ws = run_capture(sv_argv(&av), NULL, -1, &out, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(out);
	if (ws < 0 || exit_status_of(ws) != 0)
		error("the copy '%s' was not dropped; the next rehearsal drops it, or: db-rehearse --drop=%s",
		      d->copy, d->copy);
	sv_free(&av);
	free(d->copy);
	d->copy = NULL;
}

/* The environment db-rehearse --prepare wrote for each copy (0600, with
 * any password): read and removed at once. */
static void load_env(const char *dir, size_t n, struct strvec *env)
{
	for (size_t i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof name, "%zu.env", i + 1);
		char *p = path_join(dir, name);
		size_t len;
		char *text = read_file(p, &len);
		unlink(p);
		free(p);
		if (!text)
			continue;
		char *save = NULL;
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (strchr(line, '='))
				sv_push(env, line);
		memset(text, 0, len);
		free(text);
	}
}

/* The run's directory holds only files db-rehearse and we wrote. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char *p = path_join(dir, e->d_name);
			unlink(p);
			free(p);
		}
	closedir(d);
	if (rmdir(dir) < 0)
		warn("cannot remove the rehearsal's directory '%s':", dir);
}

/* The command, its output into a file of dir; the wait status, or -1. */
static int run_command(char **cmd, struct strvec *env, const char *dir, char **output, double *duration)
{
	char *path = path_join(dir, "output");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		error("cannot create '%s':", path);
		free(path);
		return -1;
	}
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.fd_out = fd;
	so.fd_err = fd;
	so.env_add = sv_argv(env);
	pid_t pid;
	double start = now();
	int err = spawn_child(cmd, &so, &pid);
	if (err) {
		errno = err;
		error("cannot run '%s':", cmd[0]);
		close(fd);
		free(path);
		return -1;
	}
	child = pid;
	int ws = 0;
	wait_child(pid, &ws);
	child = 0;
	*duration = now() - start;
	close(fd);
	size_t len;
	*output = read_file(path, &len);
	free(path);
	return ws;
}

/* db-rehearse --report of each copy (which drops it): whether an original
 * changed, whether anything would be lost; -1 when a report failed. */
static int report_all(struct db *dbs, size_t n, const char *dir, const struct rehearsal_opts *o, int *changed,
                      int *loss)
{
	for (size_t i = 0; i < n; i++) {
		struct db *d = &dbs[i];
		if (d->skipped)
			continue;
		struct strvec av = STRVEC_INIT;
		sv_push_owned(&av, find_sibling_program("db-rehearse"));
		sv_push(&av, "--report");
		sv_pushf(&av, "--dir=%s", dir);
		sv_pushf(&av, "--format=%s", o->json ? "json" : "human");
		common_args(&av, i, o);
		d->report_status = run_child(&av, &d->section);
		sv_free(&av);
		/* A report that ran to its end dropped the copy; else drop() will. */
		if (d->report_status == DG_OK || d->report_status == DG_NO || d->report_status == DG_INTEGRITY) {
			free(d->copy);
			d->copy = NULL;
		}
		/* 1 is a loss when a report was printed, else a failure. */
		int printed = d->section && *d->section;
		if (d->report_status == DG_INTEGRITY && printed) {
			*changed = 1;
		} else if (d->report_status == DG_NO && printed) {
			*loss = 1;
		} else if (d->report_status != DG_OK || !printed) {
			error("cannot report on %s (db-rehearse exit %d)", d->t->describe, d->report_status);
			return -1;
		}
	}
	return 0;
}

static void json_targets(FILE *o, struct db *dbs, size_t n)
{
	fputs("[", o);
	int first = 1;
	for (size_t i = 0; i < n; i++) {
		if (!dbs[i].section)
			continue;
		fprintf(o, "%s%s", first ? "" : ",", dbs[i].section);
		first = 0;
	}
	fputs("]", o);
}

static void print_report(const struct rehearsal_opts *o, const char *masked, struct db *dbs, size_t n, int ws,
                         double duration, const char *output, const char *verdict)
{
	int failed = ws < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0;
	char status[64];
	if (ws < 0)
		snprintf(status, sizeof status, "not run");
	else if (WIFSIGNALED(ws))
		snprintf(status, sizeof status, "signal %s", sigabbrev_np(WTERMSIG(ws)) ? sigabbrev_np(WTERMSIG(ws)) : "?");
	else
		snprintf(status, sizeof status, "exit %d", WEXITSTATUS(ws));
	if (o->json) {
		fputs("{\"rehearsal\":1,\"command\":", stdout);
		json_string(stdout, masked);
		fputs(",\"status\":", stdout);
		json_string(stdout, status);
		fprintf(stdout, ",\"exit\":%d,\"duration\":%.3f,\"output\":", ws >= 0 ? exit_status_of(ws) : -1, duration);
		json_string(stdout, failed ? (output ? output : "") : NULL);
		fputs(",\"verdict\":", stdout);
		json_string(stdout, verdict);
		fputs(",\"databases\":", stdout);
		json_targets(stdout, dbs, n);
		fputs("}\n", stdout);
		return;
	}
	printf("rehearsal of '%s' on copies of its database%s\n", masked, n == 1 ? "" : "s");
	printf("command: %s after %.2f s%s\n", status, duration, failed ? " (on the copy)" : "");
	if ((failed || msg_verbosity > 1) && output && *output) {
		printf("output of the command:\n");
		for (const char *p = output; *p;) {
			size_t len = strcspn(p, "\n");
			printf("  | %.*s\n", (int)len, p);
			p += len + (p[len] == '\n');
		}
	}
	for (size_t i = 0; i < n; i++)
		if (dbs[i].section)
			fputs(dbs[i].section, stdout);
	printf("verdict: %s\n", verdict);
}

/* The originals the command changed, and the one command that undoes it:
 * the rehearsal is journaled next, as the newest run with a snapshot, so
 * it is undo point 1 — safe-run's own hint after a run, `safe-run --undo`,
 * which puts back every database of the run (the unchanged ones too, to
 * the same content). */
static void undo_hint(struct db *dbs, size_t n)
{
	int snapped = 0, unsnapped = 0;
	for (size_t i = 0; i < n; i++) {
		if (dbs[i].report_status != DG_INTEGRITY)
			continue;
		error("the command did not follow the redirect: it changed %s", dbs[i].t->describe);
		if (dbs[i].snapshot) {
			snapped = 1;
		} else {
			unsnapped = 1;
			error("no snapshot was taken (--no-snap): %s cannot be put back by dbguard", dbs[i].t->describe);
		}
	}
	if (snapped && !unsnapped)
		error("to undo what it did: safe-run --undo");
}

int rehearsal_run(char **cmd, const char *masked, struct rehearsal_target *targets, size_t n,
                  const struct rehearsal_opts *o, char **verdict, int *loss_only)
{
	*loss_only = 0;
	*verdict = NULL;
	if (n == 0) {
		error("cannot rehearse '%s': no database found to copy", masked);
		*verdict = xstrdup("rehearsal: refused");
		return DG_REFUSED;
	}
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term, old_hup, old_quit;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGQUIT, &sa, &old_quit);
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/dbguard-rehearse.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	struct db *dbs = xcalloc(n, sizeof *dbs);
	struct strvec env = STRVEC_INIT;
	char *output = NULL;
	int status = DG_REFUSED, ws = -1;
	double duration = 0;
	if (!mkdtemp(dir)) {
		error("cannot create a directory for the rehearsal in '%s':", tmp && *tmp ? tmp : "/tmp");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		dbs[i].t = &targets[i];
		if (!strcmp(targets[i].engine, "sqlite") && !strcmp(targets[i].database, ":memory:")) {
			dbs[i].skipped = 1;
			continue;
		}
		if (!strcmp(targets[i].engine, "sqlite") && access(targets[i].database, F_OK) != 0) {
			error("cannot rehearse: '%s' does not exist yet, so there is nothing to copy; the command would "
			      "create it", targets[i].database);
			goto out;
		}
		if (interrupted || prepare(&dbs[i], i, dir, masked, o) != 0)
			goto out;
	}
	if (interrupted)
		goto out;
	load_env(dir, n, &env);
	info("running '%s' on the copies (its output goes into the report)", masked);
	ws = run_command(cmd, &env, dir, &output, &duration);
	if (ws < 0)
		goto out;
	if (interrupted && WIFSIGNALED(ws))
		goto out;
	int changed = 0, loss = 0;
	if (report_all(dbs, n, dir, o, &changed, &loss) < 0)
		goto out;
	int failed = !WIFEXITED(ws) || WEXITSTATUS(ws) != 0;
	if (changed) {
		*verdict = xstrdup("rehearsal: the command changed an original");
		status = DG_REFUSED;
	} else if (failed) {
		*verdict = xasprintf("rehearsal: the command failed on the copy (%s %d)", WIFEXITED(ws) ? "exit" : "signal",
		                     WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
		status = DG_NO;
	} else if (loss) {
		*verdict = xstrdup("rehearsal: data would be lost");
		status = DG_NO;
		*loss_only = 1;
	} else {
		*verdict = xstrdup("rehearsal: nothing lost");
		status = DG_OK;
	}
	print_report(o, masked, dbs, n, ws, duration, output, *verdict + strlen("rehearsal: "));
	if (changed)
		undo_hint(dbs, n);
out:
	for (size_t i = 0; i < n; i++)
		drop(&dbs[i], i, o);
	remove_dir(dir);
	if (!*verdict)
		*verdict = xstrdup(interrupted ? "rehearsal: interrupted" : "rehearsal: could not be made");
	for (size_t i = 0; i < n; i++) {
		if (dbs[i].t)
			dbs[i].t->snapshot = dbs[i].snapshot;
		else
			free(dbs[i].snapshot);
		free(dbs[i].section);
	}
	free(dbs);
	free(dir);
	free(output);
	for (size_t i = 0; i < env.n; i++)
		memset(env.v[i], 0, strlen(env.v[i]));
	sv_free(&env);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (interrupted && status == DG_REFUSED && !strcmp(*verdict, "rehearsal: interrupted"))
		return -(int)interrupted;
	return status;
}
