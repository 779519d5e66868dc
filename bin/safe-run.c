/* safe-run — the prefix guard: check which database COMMAND will touch,
 * refuse production, snapshot, run COMMAND untouched, journal, roll back.
 * It composes the other programs (db-envcheck, db-snap, db-restore) as
 * children, exactly as a user's script could. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/classify.h"
#include "model/config.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/secret.h"
#include "store/store.h"
#include "model/target.h"
#include "base/xalloc.h"
#include "model/project.h"
#include "model/confirm.h"
#include "docker/guard.h"
#include "store/store.h"

static const char usage_text[] =
	"usage: safe-run [-qvR] [--allow-production] [--confirm=NAME] [--require-db]\n"
	"                [--no-snap] [--test-run] [--dry-run] [--] COMMAND [ARG...]\n"
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
		      "      --confirm=NAME        confirm without a terminal (the database name)\n"
		      "      --require-db          refuse when no database is found\n"
		      "      --no-snap             run without a snapshot (and despite a failed one)\n"
		      "      --test-run            treat COMMAND as a test command\n"
		      "  -R, --rollback-on-failure restore the snapshot when COMMAND fails\n"
		      "      --dry-run             say what would happen, do nothing\n"
		      "      --journal             print the last runs from the journal\n"
		      "  -n N                      with --journal: how many (default 10)\n"
		      "      --format=FORMAT       with --journal: human, tsv or json\n"
		      "  -q, --quiet               only errors\n"
		      "  -v, --verbose             say each step\n"
		      "  -h, --help                this help\n"
		      "      --version             version\n"
		      "\n"
		      "Exit status: COMMAND's own; 125 refused or failed before running it;\n"
		      "126 COMMAND cannot be executed; 127 COMMAND not found; 2 usage error.\n", stdout);
	exit(status);
}

/* One database as db-envcheck reported it (its --format=tsv columns). */
enum { C_ROLE, C_ENGINE, C_HOST, C_PORT, C_DATABASE, C_USER, C_CLASS, C_SOURCE, C_RULE, C_COUNT };
struct found {
	char *col[C_COUNT];
	char *snapshot;       /* path taken by db-snap, or NULL */
	char *describe;
};

static struct {
	int allow_production, require_db, no_snap, test_run, rollback, dry_run;
	const char *confirm;
} opt;

static volatile sig_atomic_t child_pid;

/* The Docker volumes the command deletes, and their snapshots. */
static struct dk_guard docker_guard;

/* What this run found and said, freed on every way out of main. */
static struct {
	struct found *found;
	size_t nfound;
	char *masked, *refusal;
} run;

static int finish(int status)
{
	for (size_t i = 0; i < run.nfound; i++) {
		for (int c = 0; c < C_COUNT; c++)
			free(run.found[i].col[c]);
		free(run.found[i].snapshot);
		free(run.found[i].describe);
	}
	free(run.found);
	free(run.masked);
	free(run.refusal);
	dk_guard_free(&docker_guard);
	return status;
}

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static const char *const command_classes[][2] = {
	{ "docker_destructive_commands", "destructive-docker" },
	{ "wipe_commands", "wipe" },
	{ "seed_commands", "seed" },
	{ "migration_commands", "migration" },
	{ "test_commands", "test" },
	{ "client_commands", "client" },
};

/* The class of a command line from the [safe-run] pattern lists, matched
 * against the words as typed and with the program's directory dropped. */
static const char *command_class(char *const argv[])
{
	struct strbuf as_typed = STRBUF_INIT, bare = STRBUF_INIT;
	for (int i = 0; argv[i]; i++) {
		const char *w = argv[i], *slash = strrchr(w, '/');
		sb_addf(&as_typed, "%s%s", i ? " " : "", w);
		sb_addf(&bare, "%s%s", i ? " " : "", i == 0 && slash ? slash + 1 : w);
	}
	const char *cls = "other";
	for (size_t c = 0; c < sizeof command_classes / sizeof *command_classes && !strcmp(cls, "other"); c++)
		for (char **p = config_get_list("safe-run", command_classes[c][0]); *p; p++)
			if (fnmatch(*p, sb_str(&as_typed), 0) == 0 || fnmatch(*p, sb_str(&bare), 0) == 0) {
				cls = command_classes[c][1];
				break;
			}
	sb_free(&as_typed);
	sb_free(&bare);
	return cls;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *confirm_name_of(const struct found *f)
{
	const char *db = f->col[C_DATABASE];
	const char *slash = strrchr(db, '/');
	return strcmp(f->col[C_ENGINE], "sqlite") == 0 && slash ? slash + 1 : db;
}

/* Run db-envcheck; fills *found.  Returns its exit status, or -1 when it
 * could not run (reported). */
static int run_envcheck(struct found **found, size_t *nfound)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-envcheck"));
	/* --ping reads the production marker, so a copy of production under an
	 * innocent name is still refused. */
	sv_push(&av, "--format=tsv");
	sv_push(&av, "--ping");
	if (opt.test_run)
		sv_push(&av, "--test-run");
	/* Its errors (a malformed .env) still show; the verdict is ours to say once. */
	sv_push(&av, "-q");
	char *out = NULL;
	int ws = run_capture(sv_argv(&av), NULL, -1, &out, NULL);
	if (ws < 0) {
		error("cannot run '%s':", av.v[0]);
		sv_free(&av);
		return -1;
	}
	sv_free(&av);
	*found = NULL;
	*nfound = 0;
	char *save = NULL;
	int header = 1;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (header) {
			header = 0;
			continue;
		}
		char *cols[C_COUNT + 8];
		int n = tsv_split(line, cols, C_COUNT + 8);
		if (n < C_COUNT)
			continue;
		*found = xrealloc(*found, (*nfound + 1) * sizeof **found);
		struct found *f = &(*found)[(*nfound)++];
		memset(f, 0, sizeof *f);
		for (int c = 0; c < C_COUNT; c++)
			f->col[c] = xstrdup(cols[c]);
		if (!strcmp(f->col[C_ENGINE], "sqlite"))
			f->describe = xasprintf("sqlite %s", f->col[C_DATABASE]);
		else
			f->describe = xasprintf("%s %s%s%s:%s/%s", *f->col[C_ENGINE] ? f->col[C_ENGINE] : "database",
			                        f->col[C_USER], *f->col[C_USER] ? "@" : "", f->col[C_HOST],
			                        f->col[C_PORT], f->col[C_DATABASE]);
	}
	free(out);
	return exit_status_of(ws);
}

/* A class name from db-envcheck's output; one we cannot read is refused. */
static int refused_class(const char *cls)
{
	enum tclass c;
	return tclass_parse(cls, &c) < 0 || class_refused(c);
}

/* Nothing persistent to lose: an in-memory SQLite database, or a SQLite file
 * that does not exist yet (the command will create it). */
static int nothing_to_snapshot(const struct found *f)
{
	if (strcmp(f->col[C_ENGINE], "sqlite"))
		return 0;
	return !strcmp(f->col[C_DATABASE], ":memory:") || access(f->col[C_DATABASE], F_OK) != 0;
}

/* db-snap for target number index (0 = primary).  Returns db-snap's status. */
static int snapshot(struct found *f, size_t index, const char *masked)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-snap"));
	sv_push(&av, "--reason");
	sv_pushf(&av, "safe-run: %s", masked);
	if (opt.test_run)
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

static char *journal_path(void)
{
	char *project = project_dir_find();
	char *dir = config_backup_dir(project);
	char *path = path_join(dir, "journal");
	free(project);
	free(dir);
	return path;
}

static void journal(double start, double end, const char *masked, const struct found *found, size_t nfound,
                    const char *status)
{
	char *path = journal_path();
	char *dir = path_dir(path);
	if (store_ensure(dir) < 0) {
		error("cannot create the store '%s' for the journal:", dir);
		free(dir);
		free(path);
		return;
	}
	free(dir);
	char when[32], cwd[4096];
	time_t t = (time_t)start;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	if (!getcwd(cwd, sizeof cwd))
		strcpy(cwd, "?");
	struct passwd *pw = getpwuid(getuid());
	char user[64];
	snprintf(user, sizeof user, "%s", pw ? pw->pw_name : "?");
	struct strbuf targets = STRBUF_INIT, classes = STRBUF_INIT, snaps = STRBUF_INIT;
	for (size_t i = 0; i < nfound; i++) {
		sb_addf(&targets, "%s%s", i ? ", " : "", found[i].describe);
		sb_addf(&classes, "%s%s", i ? ", " : "", found[i].col[C_CLASS]);
		if (found[i].snapshot)
			sb_addf(&snaps, "%s%s", snaps.len ? ", " : "", found[i].snapshot);
	}
	char duration[32];
	snprintf(duration, sizeof duration, "%.3f", end - start);
	const char *fields[] = { when, duration, user, cwd, masked, nfound ? sb_str(&targets) : "-",
	                         nfound ? sb_str(&classes) : "-", snaps.len ? sb_str(&snaps) : "-", status };
	/* One write(2) to an O_APPEND file: concurrent runs never interleave lines. */
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
		if (i)
			putc('\t', mem);
		tsv_field(mem, fields[i]);
	}
	putc('\n', mem);
	fclose(mem);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, buf, len) < 0 || close(fd) < 0)
		error("cannot write the journal '%s':", path);
	free(buf);
	sb_free(&targets);
	sb_free(&classes);
	sb_free(&snaps);
	free(path);
}

static const char *const journal_columns[] = {
	"start", "duration", "user", "cwd", "command", "target", "class", "snapshot", "status",
};
#define NCOLS (sizeof journal_columns / sizeof *journal_columns)

static int show_journal(long n, int format)
{
	char *path = journal_path();
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		int e = errno;
		if (e == ENOENT) {
			error("no journal yet at '%s': safe-run has not run here", path);
			free(path);
			return DG_NOTHING;
		}
		error("cannot read the journal '%s': %s", path, strerror(e));
		free(path);
		return DG_NO;
	}
	free(path);
	struct strvec lines = STRVEC_INIT;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		sv_push(&lines, l);
	free(text);
	size_t first = lines.n > (size_t)n ? lines.n - (size_t)n : 0;
	if (format == FMT_TSV) {
		for (size_t c = 0; c < NCOLS; c++)
			printf("%s%s", c ? "\t" : "", journal_columns[c]);
		putchar('\n');
	} else if (format == FMT_JSON) {
		putchar('[');
	}
	for (size_t i = first; i < lines.n; i++) {
		if (format == FMT_TSV) {
			printf("%s\n", lines.v[i]);
			continue;
		}
		char *cols[NCOLS + 1];
		int nc = tsv_split(lines.v[i], cols, NCOLS + 1);
		if (nc != (int)NCOLS)
			continue;
		if (format == FMT_JSON) {
			printf("%s{", i > first ? "," : "");
			for (size_t c = 0; c < NCOLS; c++) {
				printf("%s", c ? "," : "");
				json_string(stdout, journal_columns[c]);
				putchar(':');
				json_string(stdout, cols[c]);
			}
			putchar('}');
		} else {
			printf("%s  %7ss  %-14s %s\n", cols[0], cols[1], cols[8], cols[4]);
			printf("    %s (%s)  snapshot: %s\n", cols[5], cols[6], cols[7]);
		}
	}
	if (format == FMT_JSON)
		printf("]\n");
	sv_free(&lines);
	return DG_OK;
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

static int rollback(const struct found *f, size_t index)
{
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-restore"));
	sv_pushf(&av, "--confirm=%s", confirm_name_of(f));
	if (opt.test_run)
		sv_push(&av, "--test-run");
	if (index > 0)
		sv_pushf(&av, "--target=%zu", index + 1);
	if (msg_verbosity < 1)
		sv_push(&av, "-q");
	sv_push(&av, f->snapshot);
	info("rolling back %s to '%s'", f->describe, f->snapshot);
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.fd_out = 2;   /* db-restore's data output is talk here: stdout belongs to the command */
	pid_t pid;
	int ws = 0, err = spawn_child(sv_argv(&av), &so, &pid);
	if (err) {
		errno = err;
		error("cannot run '%s':", av.v[0]);
		sv_free(&av);
		return -1;
	}
	wait_child(pid, &ws);
	sv_free(&av);
	int status = exit_status_of(ws);
	if (status == 0)
		info("rolled back: %s is back as it was before the command (row counts match the snapshot)", f->describe);
	else
		error("rollback of %s failed (db-restore exit %d); the snapshot is still at '%s'",
		      f->describe, status, f->snapshot);
	return status;
}

static void restore_hint(const struct found *found, size_t nfound)
{
	for (size_t i = 0; i < nfound; i++) {
		if (!found[i].snapshot)
			continue;
		char target[32] = "";
		if (i)
			snprintf(target, sizeof target, "--target=%zu ", i + 1);
		error("to undo this run: db-restore %s%s'%s'", opt.test_run ? "--test-run " : "", target,
		      found[i].snapshot);
	}
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	enum { OPT_ALLOW = 256, OPT_CONFIRM, OPT_REQUIRE, OPT_NO_SNAP, OPT_TEST_RUN, OPT_DRY, OPT_JOURNAL,
	       OPT_FORMAT, OPT_VERSION };
	static const struct option longopts[] = {
		{ "allow-production", no_argument, NULL, OPT_ALLOW },
		{ "confirm", required_argument, NULL, OPT_CONFIRM },
		{ "require-db", no_argument, NULL, OPT_REQUIRE },
		{ "no-snap", no_argument, NULL, OPT_NO_SNAP },
		{ "test-run", no_argument, NULL, OPT_TEST_RUN },
		{ "rollback-on-failure", no_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "journal", no_argument, NULL, OPT_JOURNAL },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int show_journal_mode = 0, format = FMT_HUMAN, c;
	long journal_n = 10;
	/* '+': stop at the first operand, so "safe-run pg_dump -Fc" keeps -Fc. */
	while ((c = getopt_long(argc, argv, "+qvhRn:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALLOW: opt.allow_production = 1; break;
		case OPT_CONFIRM: opt.confirm = optarg; break;
		case OPT_REQUIRE: opt.require_db = 1; break;
		case OPT_NO_SNAP: opt.no_snap = 1; break;
		case OPT_TEST_RUN: opt.test_run = 1; break;
		case 'R': opt.rollback = 1; break;
		case OPT_DRY: opt.dry_run = 1; break;
		case OPT_JOURNAL: show_journal_mode = 1; break;
		case 'n': {
			char *end;
			journal_n = strtol(optarg, &end, 10);
			if (*end || journal_n <= 0) {
				error("-n wants a positive number, not '%s'", optarg);
				usage(DG_USAGE);
			}
			break;
		}
		case OPT_FORMAT:
			format = out_format_parse(optarg);
			if (format != FMT_HUMAN && format != FMT_TSV && format != FMT_JSON) {
				error("unknown format '%s'; use human, tsv or json", optarg);
				usage(DG_USAGE);
			}
			break;
		case 'q': msg_verbosity = 0; break;
		case 'v': msg_verbosity = 2; break;
		case 'h': usage(DG_OK); break;
		case OPT_VERSION: print_version();
		default: usage(DG_USAGE);
		}
	}
	char *project = project_dir_find();
	int config_errors = config_load(project);
	free(project);
	if (show_journal_mode) {
		int rc = show_journal(journal_n, format);
		return close_stdout() < 0 && rc == 0 ? DG_NO : rc;
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
	char *masked = run.masked = mask_command(cmd);
	const char *cls = command_class(cmd);
	if (!strcmp(cls, "test"))
		opt.test_run = 1;
	verbose("command class: %s", cls);
	double start = now();

	dk_guard_plan(cmd, opt.no_snap, &docker_guard);
	int env_status = run_envcheck(&run.found, &run.nfound);
	struct found *found = run.found;
	size_t nfound = run.nfound;
	char *refusal = NULL;   /* why the command will not run */
	/* Unreachable (4) is not a refusal by itself: the snapshot step decides. */
	if (env_status < 0 || (env_status != DG_OK && env_status != DG_NO && env_status != DG_NOTHING &&
	                       env_status != DG_UNREACHABLE))
		refusal = xstrdup("db-envcheck could not tell which database this command touches (see above)");
	else if (env_status == DG_NOTHING && opt.require_db)
		refusal = xstrdup("no database found and --require-db (or require_db = yes) is set");
	else if (env_status == DG_NOTHING && !strcmp(cls, "destructive-docker") && !opt.no_snap &&
	         docker_guard.doomed.n == 0 && !docker_guard.problem)
		refusal = xstrdup("a destructive Docker command, and no database was found to snapshot first");

	/* Refused classes need --allow-production and the name of each database. */
	for (size_t i = 0; i < nfound && !refusal; i++) {
		if (!refused_class(found[i].col[C_CLASS])) {
			if (strcmp(found[i].col[C_CLASS], "local"))
				warn("%s is %s: %s", found[i].describe, found[i].col[C_CLASS], found[i].col[C_RULE]);
			continue;
		}
		if (!opt.allow_production) {
			refusal = xasprintf("%s is %s: %s; to run it anyway: safe-run --allow-production (and confirm "
			                    "the name '%s')", found[i].describe, found[i].col[C_CLASS], found[i].col[C_RULE],
			                    confirm_name_of(&found[i]));
			break;
		}
		if (opt.dry_run)
			continue;
		char *what = xasprintf("'%s' will run against %s database %s", masked, found[i].col[C_CLASS],
		                       found[i].describe);
		struct target t = { 0 };
		target_set(&t, TF_ENGINE, found[i].col[C_ENGINE], "db-envcheck");
		target_set(&t, TF_DATABASE, found[i].col[C_DATABASE], "db-envcheck");
		int rc = target_confirm(&t, opt.confirm, what);
		target_free(&t);
		free(what);
		if (rc != DG_OK)
			refusal = xstrdup("--allow-production was not confirmed with the database name");
	}

	run.refusal = refusal;
	if (opt.dry_run) {
		printf("command:  %s\n", masked);
		printf("class:    %s%s\n", cls, opt.test_run ? " (test run)" : "");
		for (size_t i = 0; i < nfound; i++)
			printf("target:   %s (%s, %s: %s)\n", found[i].describe, i ? "also configured" : "primary",
			       found[i].col[C_CLASS], found[i].col[C_RULE]);
		if (!nfound)
			printf("target:   none found\n");
		for (size_t i = 0; i < docker_guard.doomed.n; i++)
			printf("volume:   %s (deleted by the command)\n", docker_guard.doomed.v[i]);
		printf("verdict:  %s\n", refusal ? "would refuse" : "would run");
		if (refusal)
			printf("reason:   %s\n", refusal);
		for (size_t i = 0; i < nfound && !refusal; i++) {
			if (opt.no_snap || nothing_to_snapshot(&found[i]))
				printf("snapshot: none for %s (%s)\n", found[i].describe,
				       opt.no_snap ? "--no-snap" : "nothing persistent yet");
			else
				printf("snapshot: %s, by db-snap --reason 'safe-run: %s'\n", found[i].describe, masked);
		}
		for (size_t i = 0; i < docker_guard.doomed.n && !refusal; i++)
			printf("snapshot: volume %s, by db-snap --volume\n", opt.no_snap ? "none" : docker_guard.doomed.v[i]);
		return finish(close_stdout() < 0 ? DG_NO : refusal ? DG_REFUSED : DG_OK);
	}
	if (refusal) {
		error("refusing to run '%s': %s", masked, refusal);
		journal(start, now(), masked, found, nfound, "refused");
		return finish(DG_REFUSED);
	}
	if (env_status == DG_NOTHING && docker_guard.doomed.n == 0)
		warn("no database found for '%s'; nothing was snapshotted", masked);

	int cmd_status = command_status(cmd[0]);
	if (cmd_status) {
		error("%s: '%s'", cmd_status == DG_NOT_FOUND ? "command not found" : "cannot execute", cmd[0]);
		journal(start, now(), masked, found, nfound, cmd_status == DG_NOT_FOUND ? "not-found" : "cannot-execute");
		return finish(cmd_status);
	}

	if (docker_guard.up && dk_guard_up_check(&docker_guard, opt.confirm) < 0) {
		error("refusing to run '%s': a database service would start on an empty volume; confirm with "
		      "--confirm=VOLUME (the volume named above) if that is what you want", masked);
		journal(start, now(), masked, found, nfound, "refused");
		return finish(DG_REFUSED);
	}
	size_t taken = 0;
	for (size_t i = 0; i < nfound && !opt.no_snap; i++) {
		if (nothing_to_snapshot(&found[i])) {
			verbose("%s: nothing persistent to snapshot yet", found[i].describe);
			continue;
		}
		int rc = snapshot(&found[i], i, masked);
		if (rc == 0) {
			taken++;
			verbose("snapshot of %s: %s", found[i].describe, found[i].snapshot);
		} else if (rc == DG_UNREACHABLE && (i > 0 || docker_guard.up)) {
			/* Not reachable from here, so not by this command either;
			 * before `compose up` the database is simply not running yet. */
			warn("%s is unreachable from here; not snapshotted", found[i].describe);
		} else {
			error("refusing to run '%s': the snapshot of %s failed (db-snap exit %d); "
			      "fix that, or run without one: safe-run --no-snap", masked, found[i].describe, rc);
			journal(start, now(), masked, found, nfound, "refused");
			return finish(DG_REFUSED);
		}
	}
	if (docker_guard.deletes && !opt.no_snap) {
		char *project = project_dir_find(), *store = store_dir(project);
		char *reason = xasprintf("safe-run: %s", masked);
		int vrc = dk_guard_snapshot(&docker_guard, store, reason);
		free(reason);
		free(store);
		free(project);
		if (vrc < 0) {
			error("refusing to run '%s': the volumes it deletes could not be snapshotted; fix that, "
			      "or run without: safe-run --no-snap", masked);
			journal(start, now(), masked, found, nfound, "refused");
			return finish(DG_REFUSED);
		}
		taken += docker_guard.snaps.n;
	}
	if (!strcmp(cls, "destructive-docker") && !opt.no_snap && taken == 0) {
		error("refusing to run '%s': a destructive Docker command needs a snapshot first, and none could be taken",
		      masked);
		journal(start, now(), masked, found, nfound, "refused");
		return finish(DG_REFUSED);
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
		journal(start, now(), masked, found, nfound, status == DG_NOT_FOUND ? "not-found" : "cannot-execute");
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
	journal(start, end, masked, found, nfound, status_text);
	dk_guard_hint(&docker_guard);

	if (WIFSIGNALED(ws)) {
		restore_hint(found, nfound);
		die_of_signal(finish(WTERMSIG(ws)));
	}
	int status = WEXITSTATUS(ws);
	if (status != 0) {
		if (opt.rollback) {
			for (size_t i = 0; i < nfound; i++)
				if (found[i].snapshot)
					rollback(&found[i], i);
		} else {
			restore_hint(found, nfound);
		}
	}
	return finish(status);
}
