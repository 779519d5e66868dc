/* db-restore — put a snapshot back: verified first, confirmed, a safety
 * snapshot of the current state taken, and never a half-restored database.
 * The modes are in common/restorecli/ (one file each); choosing the
 * snapshot and the target, the summary and the safety snapshot, and the
 * loading and swapping are in common/restore/. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "cli/cli.h"
#include "base/msg.h"
#include "base/process.h"
#include "model/config.h"
#include "model/project.h"
#include "resolve/resolve.h"
#include "restorecli/check.h"
#include "restorecli/list.h"
#include "restorecli/restore.h"
#include "restorecli/volume.h"

static const char usage_text[] =
	"usage: db-restore [-qv] [-C DIR] [--url=URL | --target=N] [--test-run]\n"
	"                  [--confirm=NAME] [--allow-production] [--no-safety-snap]\n"
	"                  [--keep-old] [--terminate-connections] [--into=URL|NAME]\n"
	"                  [--meta=FILE | --unverified] [SNAPSHOT | -]\n"
	"       db-restore --remote [-qv] [-C DIR] [--url=URL | --target=N] [--test-run]\n"
	"                  [--confirm=NAME] [--allow-production] [--no-safety-snap]\n"
	"                  [--keep-old] [--terminate-connections] [--into=URL|NAME] [SNAPSHOT]\n"
	"       db-restore --volume=NAME [-qv] [-C DIR] [--confirm=NAME] [--no-safety-snap] [SNAPSHOT]\n"
	"       db-restore --check [-qv] [-C DIR] [--url=URL | --target=N] [--remote] [SNAPSHOT]\n"
	"       db-restore --list [--all] [--format=human|tsv|json] [-C DIR]\n"
	"                  [--url=URL | --target=N]\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	if (!status)
		fputs("\n"
		      "Put a snapshot taken by db-snap back into its database: verified first,\n"
		      "confirmed, after a safety snapshot of the current state, and never half\n"
		      "done.  Without SNAPSHOT, the newest good snapshot of the target.\n"
		      "\n"
		      "  -C DIR                   run as if started in DIR\n"
		      "      --url=URL            restore into URL instead of the project's database\n"
		      "      --target=N           the Nth database db-envcheck lists (1 = primary)\n"
		      "      --test-run           resolve the databases of a test run\n"
		      "      --confirm=NAME       confirm without a terminal: the database name\n"
		      "      --allow-production   allow a production target (still confirmed)\n"
		      "      --no-safety-snap     take no snapshot of the current state first\n"
		      "      --keep-old           PostgreSQL: keep the replaced database, renamed\n"
		      "      --terminate-connections  end other sessions on the target\n"
		      "      --into=URL|NAME      restore into another database, leaving the target\n"
		      "      --volume=NAME        restore a volume snapshot into the Docker volume NAME\n"
		      "                           (a volume snapshot without it: into its own volume)\n"
		      "      --meta=FILE          metadata of a snapshot read from standard input\n"
		      "      --unverified         restore a stream from standard input without metadata\n"
		      "      --remote             from the remote store ([store] remote): pulled into\n"
		      "                           the store and verified first\n"
		      "      --check              load into a throwaway database, compare, drop it\n"
		      "      --list               list the snapshots in the store, newest first\n"
		      "      --all                with --list: of every database\n"
		      "      --format=FORMAT      with --list: human (on a terminal), tsv or json\n"
		      "  -q, --quiet              only errors on stderr\n"
		      "  -v, --verbose            more detail on stderr\n"
		      "  -h, --help               this help\n"
		      "      --version            version\n"
		      "\n"
		      "Exit status: 0 done, 1 failed (and cleaned up), a row count differs, or the\n"
		      "target is in use or production, 2 usage error or engine mismatch, 3 no\n"
		      "snapshot or no database, 4 database unreachable, 5 snapshot corrupt or not\n"
		      "matching its metadata, 6 not confirmed.  With --remote: 2 also for a missing\n"
		      "rclone or age, an unknown remote or refused credentials, 4 the remote\n"
		      "unreachable.\n", stdout);
	exit(status);
}

/* The options that do not go together: exits 2 saying why. */
static void check_usage(const struct opts *o)
{
	if (o->list + o->pick.check > 1 || (o->list && o->pick.snapshot)) {
		error("--list takes no snapshot and goes with no --check");
		usage(DG_USAGE);
	}
	if (o->pick.url && o->pick.target_n > 1) {
		error("--url names the only target: --target=%d does not go with it", o->pick.target_n);
		usage(DG_USAGE);
	}
	int from_stdin = o->pick.snapshot && strcmp(o->pick.snapshot, "-") == 0;
	if ((o->pick.meta_file || o->unverified) && !from_stdin) {
		error("--meta and --unverified are for a snapshot read from standard input ('-')");
		usage(DG_USAGE);
	}
	if (from_stdin && !o->pick.meta_file && !o->unverified) {
		error("a snapshot on standard input needs its metadata (--meta=FILE), or --unverified"
		      " to restore it without any check");
		usage(DG_USAGE);
	}
	if (o->pick.check && (o->pick.into || from_stdin)) {
		error("--check loads a snapshot file into a throwaway database: no --into, no '-'");
		usage(DG_USAGE);
	}
	if (o->remote && (o->list || from_stdin)) {
		error("--remote takes a snapshot from the remote store: no --list (db-snap --list --remote"
		      " lists it), no '-'");
		usage(DG_USAGE);
	}
	if (o->all && !o->list) {
		error("--all goes with --list");
		usage(DG_USAGE);
	}
}

/* The project, its configuration and store, the targets it names. */
static int setup(struct ctx *cx, const struct opts *o)
{
	cx->project = project_dir_find();
	int errors = config_load(cx->project);
	struct resolve_opts ro = { o->pick.url, o->test_run, NULL };
	resolve_targets(&ro, &cx->targets);
	errors += cx->targets.config_errors;
	cx->store = store_dir(cx->project);
	cx->ti = -1;
	if (errors)
		return DG_USAGE;
	size_t n = cx->targets.n;
	if (o->pick.target_n > 0)
		cli_pick_target(&cx->targets, o->pick.target_n);   /* past the end: exit 3 */
	cx->ti = n ? (o->pick.target_n ? o->pick.target_n - 1 : 0) : -1;
	return DG_OK;
}

/* Free everything; a run ended by a signal ends by that signal. */
static int finish(struct ctx *cx, struct restore_job *j, int status)
{
	free(cx->safety);
	free(cx->pulled);
	target_now_free(&cx->now);
	free(cx->store);
	free(cx->project);
	target_list_free(&cx->targets);
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	const struct target *t = &j->tgt;
	int sig = status >= 128 && status < 128 + 65 ? status - 128 : 0;
	if (sig)
		error("interrupted; %s%s%s was not changed", t->val[TF_DATABASE] ? "'" : "",
		      t->val[TF_DATABASE] ? target_confirm_name(t) : "the database", t->val[TF_DATABASE] ? "'" : "");
	restore_job_free(j);
	if (sig)
		die_of_signal(sig);
	return status;
}

/* The options and the SNAPSHOT operand into o; exits 2 on a usage error. */
static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_URL = CLI_OPT_FIRST, OPT_TARGET, OPT_TEST_RUN, OPT_CONFIRM, OPT_ALLOW_PRODUCTION, OPT_NO_SAFETY,
	       OPT_KEEP_OLD, OPT_TERMINATE, OPT_INTO, OPT_META, OPT_UNVERIFIED, OPT_CHECK, OPT_LIST, OPT_ALL,
	       OPT_FORMAT, OPT_REMOTE, OPT_VOLUME };
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, OPT_URL },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "test-run", no_argument, NULL, OPT_TEST_RUN },
		{ "confirm", required_argument, NULL, OPT_CONFIRM },
		{ "allow-production", no_argument, NULL, OPT_ALLOW_PRODUCTION },
		{ "no-safety-snap", no_argument, NULL, OPT_NO_SAFETY },
		{ "keep-old", no_argument, NULL, OPT_KEEP_OLD },
		{ "terminate-connections", no_argument, NULL, OPT_TERMINATE },
		{ "into", required_argument, NULL, OPT_INTO },
		{ "volume", required_argument, NULL, OPT_VOLUME },
		{ "meta", required_argument, NULL, OPT_META },
		{ "unverified", no_argument, NULL, OPT_UNVERIFIED },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "remote", no_argument, NULL, OPT_REMOTE },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "format", required_argument, NULL, OPT_FORMAT },
		CLI_COMMON_LONGOPTS
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhC:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_URL: o->pick.url = optarg; break;
		case OPT_TARGET: o->pick.target_n = cli_target_number(optarg, usage); break;
		case OPT_TEST_RUN: o->test_run = 1; break;
		case OPT_CONFIRM: o->confirm = optarg; break;
		case OPT_ALLOW_PRODUCTION: o->allow_production = 1; break;
		case OPT_NO_SAFETY: o->no_safety = 1; break;
		case OPT_KEEP_OLD: o->pick.keep_old = 1; break;
		case OPT_TERMINATE: o->pick.terminate = 1; break;
		case OPT_INTO: o->pick.into = optarg; break;
		case OPT_VOLUME: o->volume = optarg; break;
		case OPT_META: o->pick.meta_file = optarg; break;
		case OPT_UNVERIFIED: o->unverified = 1; break;
		case OPT_CHECK: o->pick.check = 1; break;
		case OPT_REMOTE: o->remote = 1; break;
		case OPT_LIST: o->list = 1; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_FORMAT:
			o->format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_TSV | CLI_FMT_JSON, usage);
			break;
		default: cli_common(opt, optarg, usage);
		}
	}
	if (optind < argc)
		o->pick.snapshot = argv[optind++];
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	struct opts o;
	memset(&o, 0, sizeof o);
	o.format = -1;
	parse_args(argc, argv, &o);
	check_usage(&o);

	signal(SIGPIPE, SIG_IGN);
	struct ctx cx;
	memset(&cx, 0, sizeof cx);
	struct restore_job j;
	memset(&j, 0, sizeof j);
	j.fd = -1;
	int status = setup(&cx, &o);
	int volume = !o.list && (o.volume || (o.pick.snapshot && strcmp(o.pick.snapshot, "-") != 0 &&
	                                      is_volume_snapshot(cx.store, o.pick.snapshot)));
	if (status == DG_OK)
		status = o.list ? do_restore_list(&cx, &o) : volume ? do_restore_volume(&cx, &o) : o.pick.check ? do_check(&cx, &o, &j)
		       : do_restore(&cx, &o, &j);
	return finish(&cx, &j, status);
}
