/* safe-run — the prefix guard: check which database COMMAND will touch,
 * refuse production, snapshot, run COMMAND untouched, journal, roll back.
 * It composes the other programs (db-envcheck, db-snap, db-restore, and for
 * Docker commands portcheck volumes and db-snap --volume) as children,
 * exactly as a user's script could; it links no database, YAML or XML library. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
#include "saferun/exec.h"
#include "saferun/journal.h"
#include "saferun/plan.h"
#include "saferun/targets.h"
#include "saferun/undo.h"
#include "docker/guard.h"

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
	int rehearse, then_run, accept_loss, journal, undo;
	struct strvec confirms;     /* every --confirm=NAME */
} opt;

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
	journal_record(run.masked, start, end, &run.found, &docker_guard.snaps, status, cmd_class_name(run.ci.cls),
	               opt.test_run, &run.plan.notes);
}

static int snapshots_taken(void)
{
	size_t n = docker_guard.snaps.n;
	for (size_t i = 0; i < run.found.n; i++)
		n += run.found.v[i].snapshot != NULL;
	return n > 0;
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
	journal(*start, saferun_now(), verdict);
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
	*start = saferun_now();
	return -1;
}

/* The options into opt, -n's value into *journal_n, --format's into *format. */
static void parse_options(int argc, char **argv, long *journal_n, int *format)
{
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
	int c;
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
		case OPT_JOURNAL: opt.journal = 1; break;
		case OPT_UNDO: opt.undo = 1; break;
		case OPT_REHEARSE: opt.rehearse = 1; break;
		case OPT_THEN_RUN: opt.then_run = 1; break;
		case OPT_ACCEPT_LOSS: opt.accept_loss = 1; break;
		case 'n': {
			char *end;
			*journal_n = strtol(optarg, &end, 10);
			if (*end || *journal_n <= 0) {
				error("-n wants a positive number, not '%s'", optarg);
				usage(DG_USAGE);
			}
			break;
		}
		case OPT_FORMAT: *format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_TSV | CLI_FMT_JSON, usage); break;
		default: cli_common(c, optarg, usage);
		}
	}
}

/* The options that go together, checked after the configuration is read. */
static void check_options(int format)
{
	if (opt.journal + opt.undo + opt.rehearse > 1) {
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
}

static int do_undo(int argc, char **argv, int config_errors)
{
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
	return close_stdout() < 0 && rc == 0 ? DG_NO : rc;
}

/* Refused: said, journaled; the exit status. */
static int refuse(double start, const char *why)
{
	error("refusing to run '%s': %s", run.masked, why);
	journal(start, saferun_now(), "refused");
	return DG_REFUSED;
}

/* The Docker part before the command: the empty-volume trap before `up`,
 * the snapshots of the volumes it deletes.  0, or the exit status. */
static int docker_before(double start)
{
	if (docker_guard.up && dk_guard_up_check(&docker_guard, &opt.confirms) < 0)
		return refuse(start, "a database service would start on an empty volume; "
		                     "confirm with --confirm=VOLUME (the volume named above) if that is what you want");
	if (docker_guard.deletes && !opt.no_snap) {
		char *reason = xasprintf("safe-run: %s", run.masked);
		int vrc = dk_guard_snapshot(&docker_guard, reason);
		free(reason);
		if (vrc < 0)
			return refuse(start, "the volumes it deletes could not be "
			                     "snapshotted; fix that, or run without: safe-run --no-snap");
	}
	return 0;
}

/* The databases' snapshots the plan takes.  0, or the exit status. */
static int take_snapshots(double start)
{
	const struct found_list *l = &run.found;
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
			journal(start, saferun_now(), "refused");
			return DG_REFUSED;
		}
	}
	return 0;
}

/* Run the command, journal it, and say how to undo it (or roll back). */
static int run_command(char **cmd, double start)
{
	int ws = 0, err = saferun_exec(cmd, &ws);
	if (err) {
		int status = exit_status_for_spawn_error(err);
		errno = err;
		error("cannot run '%s':", cmd[0]);
		journal(start, saferun_now(), status == DG_NOT_FOUND ? "not-found" : "cannot-execute");
		return status;
	}
	char status_text[64];
	saferun_status_text(ws, status_text, sizeof status_text);
	journal(start, saferun_now(), status_text);
	dk_guard_hint(&docker_guard);
	/* One line, however many databases and volumes: the journal knows the snapshots. */
	if (WIFSIGNALED(ws)) {
		if (snapshots_taken())
			error("to undo: safe-run --undo");
		die_of_signal(finish(WTERMSIG(ws)));
	}
	int status = WEXITSTATUS(ws);
	if (status != 0 && opt.rollback)
		saferun_rollback(&run.found, opt.test_run, &docker_guard.snaps);
	else if (status != 0 && snapshots_taken())
		error("to undo: safe-run --undo");
	else if (status == 0 && snapshots_taken() && cmd_class_destructive(run.ci.cls))
		info("to undo: safe-run --undo");
	return status;
}

/* The guarded run: find the databases, decide, snapshot, run. */
static int do_run(char **cmd, int format)
{
	if (!opt.require_db)
		opt.require_db = config_get_bool("safe-run", "require_db", 0);
	run.masked = mask_command(cmd);
	command_classify(cmd, &run.ci);
	if (run.ci.cls == CMD_TEST)
		opt.test_run = 1;
	verbose("command class: %s (%s)", cmd_class_name(run.ci.cls), run.ci.why);
	double start = saferun_now();
	dk_guard_plan(cmd, opt.no_snap, &docker_guard);
	int env_status = saferun_envcheck(NULL, opt.test_run, &run.found);
	struct plan_opts po = { opt.allow_production, opt.require_db, opt.no_snap, opt.dry_run, opt.test_run,
	                        &opt.confirms, run.masked, run.ci.cls, 0 };
	po.docker_volumes = docker_guard.doomed.n + (docker_guard.problem != NULL);
	saferun_plan(env_status, &run.found, &po, &run.plan);
	if (opt.dry_run) {
		saferun_plan_print(&run.found, &po, &run.plan);
		for (size_t i = 0; i < docker_guard.doomed.n; i++)
			printf("volume:   %s (deleted by the command)%s\n", docker_guard.doomed.v[i],
			       opt.no_snap || run.plan.refusal ? "" : "; snapshot by db-snap --volume");
		return close_stdout() < 0 ? DG_NO : run.plan.refusal ? DG_REFUSED : DG_OK;
	}
	if (run.plan.refusal)
		return refuse(start, run.plan.refusal);
	if (env_status == DG_NOTHING && docker_guard.doomed.n == 0)
		warn("no database found for '%s'; nothing was snapshotted", run.masked);
	int status = saferun_command_status(cmd[0]);
	if (status) {
		error("%s: '%s'", status == DG_NOT_FOUND ? "command not found" : "cannot execute", cmd[0]);
		journal(start, saferun_now(), status == DG_NOT_FOUND ? "not-found" : "cannot-execute");
		return status;
	}
	if ((status = docker_before(start)) != 0)
		return status;
	if (opt.rehearse && (status = rehearse(cmd, format == FMT_JSON, &start)) >= 0)
		return status;
	if ((status = take_snapshots(start)) != 0)
		return status;
	return run_command(cmd, start);
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	int format = FMT_HUMAN;
	long journal_n = 10;
	parse_options(argc, argv, &journal_n, &format);
	char *project = project_dir_find();
	int config_errors = config_load(project);
	free(project);
	check_options(format);
	if (opt.journal) {
		int rc = saferun_show_journal(journal_n, format);
		return finish(close_stdout() < 0 && rc == 0 ? DG_NO : rc);
	}
	if (opt.undo)
		return finish(do_undo(argc, argv, config_errors));
	if (optind >= argc) {
		error("no command given");
		usage(DG_USAGE);
	}
	if (config_errors)
		die(DG_REFUSED, "refusing to run: the configuration has errors (above); fix them first");
	return finish(do_run(argv + optind, format));
}
