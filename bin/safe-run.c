/* safe-run — the prefix guard: check which database COMMAND will touch,
 * refuse production, snapshot, run COMMAND untouched, journal, roll back.
 * It composes the other programs (db-envcheck, db-snap, db-restore) as
 * children, exactly as a user's script could. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "cli/cli.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/secret.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "model/project.h"
#include "rehearsal/rehearsal.h"
#include "saferun/command.h"
#include "saferun/journal.h"
#include "saferun/plan.h"
#include "saferun/targets.h"
#include "saferun/undo.h"
#include "docker/guard.h"
#include "store/store.h"

static const char usage_text[] =
	"usage: safe-run [-qvR] [--allow-production] [--confirm=NAME]... [--require-db]\n"
	"                [--no-snap] [--test-run] [--dry-run] [--] COMMAND [ARG...]\n"
	"       safe-run --undo [N] [--confirm=NAME]... [--dry-run] [-qv]\n"
	"       safe-run --rehearse [--format=human|json] [--then-run [-R] [--accept-loss]]\n"
	"                [-qv] [--allow-production] [--confirm=NAME] [--no-snap] [--test-run]\n"
	"                [--] COMMAND [ARG...]\n"
	"       safe-run --journal [-n N] [--format=human|tsv|json]\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	if (!status)
		fputs("\n"
		      "Check which database COMMAND will touch, refuse production, take a verified\n"
		      "snapshot, run COMMAND untouched, journal it, and offer or perform rollback.\n"
		      "\n"
		      "      --allow-production    run against production after the name is confirmed\n"
		      "      --confirm=NAME        confirm without a terminal (the database name;\n"
		      "                            once per database)\n"
		      "      --require-db          refuse when no database is found\n"
		      "      --no-snap             run without a snapshot (and despite a failed one)\n"
		      "      --test-run            treat COMMAND as a test command\n"
		      "  -R, --rollback-on-failure restore the snapshot when COMMAND fails\n"
		      "      --dry-run             say what would happen, do nothing\n"
		      "      --undo [N]            put every database back as it was before run N\n"
		      "                            of the journal (default 1: the last one that\n"
		      "                            took a snapshot); each name confirmed\n"
		      "      --journal             print the last runs, undo points numbered\n"
		      "      --rehearse            run COMMAND on throwaway copies of the databases and\n"
		      "                            report what it would lose (safe-run(1), REHEARSAL)\n"
		      "      --then-run            with --rehearse: when nothing would be lost, run\n"
		      "                            COMMAND on the real databases (snapshot first)\n"
		      "      --accept-loss         with --then-run: run it even if data would be lost\n"
		      "  -n N                      with --journal: how many (default 10)\n"
		      "      --format=FORMAT       with --journal: human, tsv or json; with --rehearse:\n"
		      "                            human or json\n"
		      "  -q, --quiet               only errors\n"
		      "  -v, --verbose             say each step\n"
		      "  -h, --help                this help\n"
		      "      --version             version\n"
		      "\n"
		      "Exit status: COMMAND's own; 125 refused or failed before running it;\n"
		      "126 COMMAND cannot be executed; 127 COMMAND not found; 2 usage error.\n"
		      "--rehearse: 0 nothing lost, 1 data would be lost or COMMAND failed on the\n"
		      "copy, 125 the rehearsal could not be made or COMMAND changed an original.\n", stdout);
	exit(status);
}

static struct {
	int allow_production, require_db, no_snap, test_run, rollback, dry_run;
	int rehearse, then_run, accept_loss;
	struct strvec confirms;     /* every --confirm=NAME */
} opt;

static volatile sig_atomic_t child_pid;

/* The Docker volumes the command deletes, and their snapshots. */
static struct dk_guard docker_guard;

/* What this run found and decided, freed on every way out of main. */
static struct {
	struct found_list found;
	struct command_info ci;
	char *masked;
	struct plan plan;
} run;

static int finish(int status)
{
	found_list_free(&run.found);
	command_info_free(&run.ci);
	free(run.masked);
	saferun_plan_free(&run.plan);
	sv_free(&opt.confirms);
	dk_guard_free(&docker_guard);
	return status;
}

static void journal(double start, double end, const char *status)
{
	journal_record(run.masked, start, end, &run.found, status, cmd_class_name(run.ci.cls), opt.test_run,
	               &run.plan.notes);
}

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Can argv[0] be found at all?  Checked before any snapshot is taken. */
static int command_status(const char *cmd)
{
	if (strchr(cmd, '/'))
		return access(cmd, F_OK) != 0 ? DG_NOT_FOUND : access(cmd, X_OK) != 0 ? DG_CANNOT_EXEC : 0;
	const char *names[] = { cmd, NULL };
	char *p = find_on_path(names);
	free(p);
	return p ? 0 : DG_NOT_FOUND;
}

static void rollback(void)
{
	for (size_t i = 0; i < run.found.n; i++) {
		const struct found *f = &run.found.v[i];
		if (!f->snapshot)
			continue;
		info("rolling back %s to '%s'", f->describe, f->snapshot);
		int status = saferun_restore(NULL, f, i, opt.test_run, f->snapshot, 0);
		if (status == 0)
			info("rolled back: %s is back as it was before the command (row counts match the snapshot)",
			     f->describe);
		else if (status > 0)
			error("rollback of %s failed (db-restore exit %d); the snapshot is still at '%s'", f->describe,
			      status, f->snapshot);
	}
}

static int snapshots_taken(void)
{
	for (size_t i = 0; i < run.found.n; i++)
		if (run.found.v[i].snapshot)
			return 1;
	return 0;
}

/* --rehearse: the command on copies, journaled with its verdict.  Returns
 * the exit status, or -1 to go on and run it on the real databases
 * (--then-run, with *start reset). */
static int rehearse(char **cmd, int json, double *start)
{
	struct found_list *l = &run.found;
	struct rehearsal_target *rt = xcalloc(l->n + 1, sizeof *rt);
	for (size_t i = 0; i < l->n; i++)
		rt[i] = (struct rehearsal_target){ l->v[i].col[C_ENGINE], l->v[i].col[C_DATABASE], l->v[i].describe,
		                                   NULL };
	struct rehearsal_opts ro = { json, opt.test_run, opt.no_snap };
	char *verdict = NULL;
	int loss_only = 0, rc = rehearsal_run(cmd, run.masked, rt, l->n, &ro, &verdict, &loss_only);
	for (size_t i = 0; i < l->n; i++)
		l->v[i].snapshot = rt[i].snapshot;
	free(rt);
	journal(*start, now(), verdict);
	free(verdict);
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].snapshot);
		l->v[i].snapshot = NULL;
	}
	if (rc < 0)
		die_of_signal(finish(-rc));
	if (!opt.then_run || (rc != 0 && !(loss_only && opt.accept_loss))) {
		if (opt.then_run && rc != 0)
			error("not running '%s' on the real databases: %s", run.masked,
			      loss_only ? "data would be lost (--accept-loss runs it anyway)" : "the rehearsal did not pass");
		return rc;
	}
	info("the rehearsal %s; running '%s' on the real databases", rc ? "lost data (--accept-loss)" : "passed",
	     run.masked);
	*start = now();
	return -1;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	enum { OPT_ALLOW = CLI_OPT_FIRST, OPT_CONFIRM, OPT_REQUIRE, OPT_NO_SNAP, OPT_TEST_RUN, OPT_DRY,
	       OPT_JOURNAL, OPT_UNDO, OPT_FORMAT, OPT_REHEARSE, OPT_THEN_RUN, OPT_ACCEPT_LOSS };
	static const struct option longopts[] = {
		{ "allow-production", no_argument, NULL, OPT_ALLOW },
		{ "confirm", required_argument, NULL, OPT_CONFIRM },
		{ "require-db", no_argument, NULL, OPT_REQUIRE },
		{ "no-snap", no_argument, NULL, OPT_NO_SNAP },
		{ "test-run", no_argument, NULL, OPT_TEST_RUN },
		{ "rollback-on-failure", no_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "journal", no_argument, NULL, OPT_JOURNAL },
		{ "undo", no_argument, NULL, OPT_UNDO },
		{ "rehearse", no_argument, NULL, OPT_REHEARSE },
		{ "then-run", no_argument, NULL, OPT_THEN_RUN },
		{ "accept-loss", no_argument, NULL, OPT_ACCEPT_LOSS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_COMMON_LONGOPTS
	};
	int show_journal_mode = 0, undo_mode = 0, format = FMT_HUMAN, c;
	long journal_n = 10;
	/* '+': stop at the first operand, so "safe-run pg_dump -Fc" keeps -Fc;
	 * but --undo N and --journal wrap no command, and take options after N. */
	const char *optstring = "+qvhRn:";
	for (int i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--undo") || !strcmp(argv[i], "--journal"))
			optstring = "qvhRn:";
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALLOW: opt.allow_production = 1; break;
		case OPT_CONFIRM: sv_push(&opt.confirms, optarg); break;
		case OPT_REQUIRE: opt.require_db = 1; break;
		case OPT_NO_SNAP: opt.no_snap = 1; break;
		case OPT_TEST_RUN: opt.test_run = 1; break;
		case 'R': opt.rollback = 1; break;
		case OPT_DRY: opt.dry_run = 1; break;
		case OPT_JOURNAL: show_journal_mode = 1; break;
		case OPT_UNDO: undo_mode = 1; break;
		case OPT_REHEARSE: opt.rehearse = 1; break;
		case OPT_THEN_RUN: opt.then_run = 1; break;
		case OPT_ACCEPT_LOSS: opt.accept_loss = 1; break;
		case 'n': {
			char *end;
			journal_n = strtol(optarg, &end, 10);
			if (*end || journal_n <= 0) {
				error("-n wants a positive number, not '%s'", optarg);
				usage(DG_USAGE);
			}
			break;
		}
		case OPT_FORMAT: format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_TSV | CLI_FMT_JSON, usage); break;
		default: cli_common(c, optarg, usage);
		}
	}
	char *project = project_dir_find();
	int config_errors = config_load(project);
	free(project);
	if (show_journal_mode + undo_mode + opt.rehearse > 1) {
		error("--journal, --undo and --rehearse go one at a time");
		usage(DG_USAGE);
	}
	if ((opt.then_run && !opt.rehearse) || (opt.accept_loss && !opt.then_run)) {
		error("%s", opt.accept_loss && !opt.then_run ? "--accept-loss goes with --rehearse --then-run"
		                                            : "--then-run goes with --rehearse");
		usage(DG_USAGE);
	}
	if (opt.rehearse && (format == FMT_TSV || opt.dry_run)) {
		error("%s", opt.dry_run ? "--rehearse and --dry-run go alone" : "--rehearse reports in human or json");
		usage(DG_USAGE);
	}
	if (show_journal_mode) {
		int rc = saferun_show_journal(journal_n, format);
		return finish(close_stdout() < 0 && rc == 0 ? DG_NO : rc);
	}
	if (undo_mode) {
		long n = 1;
		if (optind < argc) {
			char *end;
			n = strtol(argv[optind], &end, 10);
			if (*end || n <= 0 || n > 100000 || optind + 1 < argc) {
				error("--undo takes one run number (safe-run --journal shows them), not '%s'", argv[optind]);
				usage(DG_USAGE);
			}
		}
		if (config_errors)
			die(DG_USAGE, "the configuration has errors (above); fix them first");
		int rc = saferun_undo((int)n, opt.confirms.n ? sv_argv(&opt.confirms) : NULL, opt.dry_run);
		return finish(close_stdout() < 0 && rc == 0 ? DG_NO : rc);
	}
	if (optind >= argc) {
		error("no command given");
		usage(DG_USAGE);
	}
	if (config_errors)
		die(DG_REFUSED, "refusing to run: the configuration has errors (above); fix them first");
	if (!opt.require_db)
		opt.require_db = config_get_bool("safe-run", "require_db", 0);

	char **cmd = argv + optind;
	run.masked = mask_command(cmd);
	command_classify(cmd, &run.ci);
	if (run.ci.cls == CMD_TEST)
		opt.test_run = 1;
	verbose("command class: %s (%s)", cmd_class_name(run.ci.cls), run.ci.why);
	double start = now();

	dk_guard_plan(cmd, opt.no_snap, &docker_guard);
	int env_status = saferun_envcheck(NULL, opt.test_run, &run.found);
	const struct found_list *l = &run.found;
	struct plan_opts po = { opt.allow_production, opt.require_db, opt.no_snap, opt.dry_run, opt.test_run,
	                        &opt.confirms, run.masked, run.ci.cls, 0 };
	po.docker_volumes = docker_guard.doomed.n + (docker_guard.problem != NULL);
	saferun_plan(env_status, l, &po, &run.plan);
	if (opt.dry_run) {
		saferun_plan_print(l, &po, &run.plan);
		for (size_t i = 0; i < docker_guard.doomed.n; i++)
			printf("volume:   %s (deleted by the command)%s\n", docker_guard.doomed.v[i],
			       opt.no_snap || run.plan.refusal ? "" : "; snapshot by db-snap --volume");
		return finish(close_stdout() < 0 ? DG_NO : run.plan.refusal ? DG_REFUSED : DG_OK);
	}
	if (run.plan.refusal) {
		error("refusing to run '%s': %s", run.masked, run.plan.refusal);
		journal(start, now(), "refused");
		return finish(DG_REFUSED);
	}
	if (env_status == DG_NOTHING && docker_guard.doomed.n == 0)
		warn("no database found for '%s'; nothing was snapshotted", run.masked);

	int cmd_status = command_status(cmd[0]);
	if (cmd_status) {
		error("%s: '%s'", cmd_status == DG_NOT_FOUND ? "command not found" : "cannot execute", cmd[0]);
		journal(start, now(), cmd_status == DG_NOT_FOUND ? "not-found" : "cannot-execute");
		return finish(cmd_status);
	}

	if (docker_guard.up && dk_guard_up_check(&docker_guard, &opt.confirms) < 0) {
		error("refusing to run '%s': a database service would start on an empty volume; confirm with "
		      "--confirm=VOLUME (the volume named above) if that is what you want", run.masked);
		journal(start, now(), "refused");
		return finish(DG_REFUSED);
	}
	if (docker_guard.deletes && !opt.no_snap) {
		char *project = project_dir_find(), *store = store_dir(project);
		char *reason = xasprintf("safe-run: %s", run.masked);
		int vrc = dk_guard_snapshot(&docker_guard, store, reason);
		free(reason);
		free(store);
		free(project);
		if (vrc < 0) {
			error("refusing to run '%s': the volumes it deletes could not be snapshotted; fix that, "
			      "or run without: safe-run --no-snap", run.masked);
			journal(start, now(), "refused");
			return finish(DG_REFUSED);
		}
	}
	if (opt.rehearse) {
		int rc = rehearse(cmd, format == FMT_JSON, &start);
		if (rc >= 0)
			return finish(rc);
	}

	for (size_t i = 0; i < run.plan.notes.n; i++)
		verbose("%s", run.plan.notes.v[i]);
	for (size_t i = 0; i < l->n; i++) {
		if (!run.plan.take[i])
			continue;
		char *reason = xasprintf("safe-run: %s", run.masked);
		int rc = saferun_snapshot(&l->v[i], i, reason, opt.test_run);
		free(reason);
		if (rc == 0) {
			verbose("snapshot of %s: %s", l->v[i].describe, l->v[i].snapshot);
		} else if (rc == DG_UNREACHABLE && i > 0 && run.ci.cls != CMD_DOCKER_DESTRUCTIVE) {
			warn("%s is unreachable from here; not snapshotted", l->v[i].describe);
			sv_pushf(&run.plan.notes, "%s is unreachable from here; not snapshotted", l->v[i].describe);
		} else {
			error("refusing to run '%s': the snapshot of %s failed (db-snap exit %d); "
			      "fix that, or run without one: safe-run --no-snap", run.masked, l->v[i].describe, rc);
			journal(start, now(), "refused");
			return finish(DG_REFUSED);
		}
	}

	/* The command owns the terminal: ^C and ^\ reach it, not us. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, fwd = { .sa_handler = forward_signal };
	sigemptyset(&ign.sa_mask);
	sigemptyset(&fwd.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGTERM, &fwd, NULL);
	sigaction(SIGHUP, &fwd, NULL);
	struct spawn_opts so = SPAWN_OPTS_INIT;
	pid_t pid;
	int err = spawn_child(cmd, &so, &pid);
	if (err) {
		int status = exit_status_for_spawn_error(err);
		errno = err;
		error("cannot run '%s':", cmd[0]);
		journal(start, now(), status == DG_NOT_FOUND ? "not-found" : "cannot-execute");
		return finish(status);
	}
	child_pid = pid;
	int ws = 0;
	wait_child(pid, &ws);
	child_pid = 0;
	double end = now();

	char status_text[64];
	if (WIFSIGNALED(ws))
		snprintf(status_text, sizeof status_text, "signal %s", sigabbrev_np(WTERMSIG(ws)) ? sigabbrev_np(WTERMSIG(ws)) : "?");
	else
		snprintf(status_text, sizeof status_text, "exit %d", WEXITSTATUS(ws));
	journal(start, end, status_text);
	dk_guard_hint(&docker_guard);

	/* One line, however many databases: the journal knows the snapshots. */
	if (WIFSIGNALED(ws)) {
		if (snapshots_taken())
			error("to undo: safe-run --undo");
		die_of_signal(finish(WTERMSIG(ws)));
	}
	int status = WEXITSTATUS(ws);
	if (status != 0 && opt.rollback)
		rollback();
	else if (status != 0 && snapshots_taken())
		error("to undo: safe-run --undo");
	else if (status == 0 && snapshots_taken() && cmd_class_destructive(run.ci.cls))
		info("to undo: safe-run --undo");
	return finish(status);
}
