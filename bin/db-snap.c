/* db-snap — take a compressed, checksummed, atomic snapshot of the project's
 * database into the snapshot store; list, verify and prune the store.  The
 * modes are in common/snapcli/, one file each. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "cli/cli.h"
#include "base/msg.h"
#include "model/config.h"
#include "model/project.h"
#include "snap/guard.h"
#include "snapcli/export.h"
#include "snapcli/list.h"
#include "snapcli/prune.h"
#include "snapcli/remote.h"
#include "snapcli/take.h"
#include "snapcli/verify.h"

static const char usage_text[] =
	"usage: db-snap [-qv] [-C DIR] [--url=URL] [--test-run] [--target=N] [--label=NAME] [--reason=TEXT]\n"
	"               [--compress=zstd[:LEVEL]|gzip[:LEVEL]|none] [--always] [--tier=auto|clone|dump]\n"
	"               [-o FILE|- [--meta=FILE]]\n"
	"       db-snap [-qv] [-C DIR] --volume=NAME [--label=NAME] [--reason=TEXT] [--compress=C]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --list [--all] [--format=human|tsv|json]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --latest\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --export SNAPSHOT -o FILE|- [--meta=FILE]\n"
	"               [--compress=zstd[:LEVEL]|gzip[:LEVEL]|none] [--reason=TEXT]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --verify [--all] [SNAPSHOT...]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --prune [--keep=N] [--keep-days=D]\n"
	"               [--keep-hourly=N] [--keep-daily=N] [--keep-weekly=N] [--keep-monthly=N]\n"
	"               [--prune-labelled] [--all] [--dry-run] [--remote]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --list --remote [--all] [--format=human|tsv|json]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --verify --remote [--all]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --push [--all] [SNAPSHOT...]\n"
	"       db-snap [-qv] [-C DIR] --pull SNAPSHOT...\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	if (!status)
		fputs("\n"
		      "Snapshot the project's database (PostgreSQL, MySQL/MariaDB or SQLite) into\n"
		      "the snapshot store and print the snapshot's path; list, verify and prune\n"
		      "the store.\n"
		      "\n"
		      "  -C DIR               run as if started in DIR\n"
		      "      --url=URL        snapshot URL instead of the project's database\n"
		      "      --test-run       resolve the database as for a test run\n"
		      "      --target=N       the Nth database configured (db-envcheck's order; 1 = primary)\n"
		      "      --volume=NAME    snapshot the Docker volume NAME (a tar stream read by a\n"
		      "                       helper container); with --list, --latest, --verify\n"
		      "                       and --prune: that volume's snapshots\n"
		      "      --label=NAME     a label for the snapshot (in its name; kept by --prune)\n"
		      "      --reason=TEXT    why it was taken, recorded in the metadata\n"
		      "      --compress=C     zstd[:LEVEL] (default), gzip[:LEVEL] or none\n"
		      "      --always         a new snapshot even when the database provably has\n"
		      "                       not changed since the newest one (else that one's\n"
		      "                       path is printed)\n"
		      "      --tier=T         clone (a copy by the engine: PostgreSQL, SQLite),\n"
		      "                       dump, or auto (clone for a local server); default:\n"
		      "                       [db-snap] tier\n"
		      "  -o, --output=FILE    write the snapshot to FILE (metadata to FILE.meta)\n"
		      "  -o -                 stream it to standard output\n"
		      "      --meta=FILE      write the metadata to FILE (with -o -: else stderr)\n"
		      "      --list           the snapshots of the database, newest first\n"
		      "      --format=FORMAT  for --list: human, tsv or json\n"
		      "      --latest         print the newest good snapshot's path\n"
		      "      --export SNAP    write the portable dump of the clone SNAP to -o\n"
		      "      --verify         check checksum, compression and metadata of the\n"
		      "                       given snapshots, else of all the database's\n"
		      "      --prune          remove old snapshots (see the retention options)\n"
		      "      --keep=N         keep the N newest (default: [db-snap] keep, 30)\n"
		      "      --keep-days=D    keep those younger than D days\n"
		      "      --keep-hourly=N  keep the newest of each of the last N hours\n"
		      "      --keep-daily=N   ... days, --keep-weekly=N ISO weeks,\n"
		      "      --keep-monthly=N ... months (periods that have a snapshot)\n"
		      "      --prune-labelled labelled snapshots may go too\n"
		      "      --dry-run        with --prune: show what would go, remove nothing\n"
		      "      --all            every database in the store, not just this one\n"
		      "      --remote         --list, --verify, --prune: the remote store ([store] remote)\n"
		      "      --push           copy snapshots to the remote (default: the newest; with\n"
		      "                       --all: every good one it lacks)\n"
		      "      --pull           copy remote snapshots into the store, verified\n"
		      "  -q, --quiet          only errors on stderr\n"
		      "  -v, --verbose        more detail on stderr\n"
		      "  -h, --help           this help\n"
		      "      --version        version\n"
		      "\n"
		      "Exit status: 0 done, 1 failed (nothing left behind), 2 usage or\n"
		      "configuration error, 3 no database or no snapshot, 4 database unreachable,\n"
		      "5 verification failed.  With a remote: 2 also for a missing rclone or age,\n"
		      "an unknown remote or refused credentials, 4 the remote unreachable.\n", stdout);
	exit(status);
}

static long parse_count(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0) {
		error("%s wants a whole number of 0 or more, not '%s'", opt, s);
		usage(DG_USAGE);
	}
	return v;
}

static void set_keep(struct opts *o, long *field, const char *opt)
{
	*field = parse_count(opt, optarg);
	o->retention = o->policy_given = 1;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_URL = CLI_OPT_FIRST, OPT_TEST_RUN, OPT_TARGET, OPT_LABEL, OPT_REASON, OPT_COMPRESS, OPT_META, OPT_LIST,
	       OPT_LATEST, OPT_VERIFY, OPT_PRUNE, OPT_ALL, OPT_FORMAT, OPT_KEEP, OPT_KEEP_DAYS,
	       OPT_KEEP_HOURLY, OPT_KEEP_DAILY, OPT_KEEP_WEEKLY, OPT_KEEP_MONTHLY, OPT_PRUNE_LABELLED,
	       OPT_DRY_RUN, OPT_ALWAYS, OPT_TIER, OPT_EXPORT, OPT_REMOTE, OPT_PUSH, OPT_PULL, OPT_VOLUME };
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, OPT_URL },
		{ "volume", required_argument, NULL, OPT_VOLUME },
		{ "test-run", no_argument, NULL, OPT_TEST_RUN },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "compress", required_argument, NULL, OPT_COMPRESS },
		{ "output", required_argument, NULL, 'o' },
		{ "meta", required_argument, NULL, OPT_META },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "latest", no_argument, NULL, OPT_LATEST },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "prune", no_argument, NULL, OPT_PRUNE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "keep-days", required_argument, NULL, OPT_KEEP_DAYS },
		{ "keep-hourly", required_argument, NULL, OPT_KEEP_HOURLY },
		{ "keep-daily", required_argument, NULL, OPT_KEEP_DAILY },
		{ "keep-weekly", required_argument, NULL, OPT_KEEP_WEEKLY },
		{ "keep-monthly", required_argument, NULL, OPT_KEEP_MONTHLY },
		{ "prune-labelled", no_argument, NULL, OPT_PRUNE_LABELLED },
		{ "prune-labeled", no_argument, NULL, OPT_PRUNE_LABELLED },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "always", no_argument, NULL, OPT_ALWAYS },
		{ "tier", required_argument, NULL, OPT_TIER },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ "remote", no_argument, NULL, OPT_REMOTE },
		{ "push", no_argument, NULL, OPT_PUSH },
		{ "pull", no_argument, NULL, OPT_PULL },
		CLI_COMMON_LONGOPTS
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhC:o:", longopts, NULL)) != -1) {
		enum mode m = MODE_SNAP;
		switch (opt) {
		case OPT_URL: o->url = optarg; break;
		case OPT_VOLUME: o->volume = optarg; break;
		case OPT_TEST_RUN: o->test_run = 1; break;
		case OPT_TARGET:
			o->target = cli_target_number(optarg, usage);
			break;
		case OPT_LABEL: o->label = optarg; break;
		case OPT_REASON: o->reason = optarg; break;
		case OPT_COMPRESS: o->compress = optarg; break;
		case 'o': o->output = optarg; break;
		case OPT_META: o->meta = optarg; break;
		case OPT_LIST: m = MODE_LIST; break;
		case OPT_LATEST: m = MODE_LATEST; break;
		case OPT_VERIFY: m = MODE_VERIFY; break;
		case OPT_PRUNE: m = MODE_PRUNE; break;
		case OPT_ALL: o->all = 1; break;
		case OPT_FORMAT:
			o->format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_TSV | CLI_FMT_JSON, usage);
			break;
		case OPT_KEEP: set_keep(o, &o->policy.keep_last, "--keep"); break;
		case OPT_KEEP_DAYS: set_keep(o, &o->policy.keep_days, "--keep-days"); break;
		case OPT_KEEP_HOURLY: set_keep(o, &o->policy.keep_hourly, "--keep-hourly"); break;
		case OPT_KEEP_DAILY: set_keep(o, &o->policy.keep_daily, "--keep-daily"); break;
		case OPT_KEEP_WEEKLY: set_keep(o, &o->policy.keep_weekly, "--keep-weekly"); break;
		case OPT_KEEP_MONTHLY: set_keep(o, &o->policy.keep_monthly, "--keep-monthly"); break;
		case OPT_PRUNE_LABELLED: o->policy.prune_labelled = o->retention = 1; break;
		case OPT_DRY_RUN: o->dry_run = 1; break;
		case OPT_ALWAYS: o->always = 1; break;
		case OPT_TIER:
			if (strcmp(optarg, "auto") && strcmp(optarg, "clone") && strcmp(optarg, "dump")) {
				error("--tier: '%s' is not auto, clone or dump", optarg);
				usage(DG_USAGE);
			}
			o->tier = optarg;
			break;
		case OPT_EXPORT: m = MODE_EXPORT; o->export = optarg; break;
		case OPT_REMOTE: o->remote = 1; break;
		case OPT_PUSH: m = MODE_PUSH; break;
		case OPT_PULL: m = MODE_PULL; break;
		default: cli_common(opt, optarg, usage);
		}
		if (m != MODE_SNAP) {
			if (o->mode_set && o->mode != m) {
				error("--list, --latest, --verify, --prune, --export, --push and --pull go one at a time");
				usage(DG_USAGE);
			}
			o->mode = m;
			o->mode_set = 1;
		}
	}
}

/* Options that do not go together. */
static void check_args(int argc, char **argv, const struct opts *o)
{
	if (optind < argc && o->mode != MODE_VERIFY && o->mode != MODE_PUSH && o->mode != MODE_PULL) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	if ((o->retention || o->dry_run) && o->mode != MODE_PRUNE) {
		error("the retention options and --dry-run go with --prune");
		usage(DG_USAGE);
	}
	if (o->remote && o->mode != MODE_LIST && o->mode != MODE_VERIFY && o->mode != MODE_PRUNE) {
		error("--remote goes with --list, --verify and --prune");
		usage(DG_USAGE);
	}
	if (o->remote && optind < argc) {
		error("--verify --remote checks the whole remote: no SNAPSHOT operands");
		usage(DG_USAGE);
	}
	if (o->mode == MODE_PULL && optind == argc) {
		error("--pull wants the SNAPSHOT to copy (db-snap --list --remote lists them)");
		usage(DG_USAGE);
	}
	if (o->all && o->mode == MODE_PULL) {
		error("--pull takes SNAPSHOT names, not --all");
		usage(DG_USAGE);
	}
	if (o->format >= 0 && o->mode != MODE_LIST) {
		error("--format goes with --list");
		usage(DG_USAGE);
	}
	if (o->all && (o->mode == MODE_SNAP || o->mode == MODE_LATEST)) {
		error("--all goes with --list, --verify and --prune");
		usage(DG_USAGE);
	}
	if (o->volume && (o->url || o->test_run || o->target != 1 || o->output || o->meta || o->export)) {
		error("--volume goes without --url, --test-run, --target, -o, --meta and --export");
		usage(DG_USAGE);
	}
	if (o->label && strlen(o->label) > 64) {
		error("--label: at most 64 characters, it goes into file names");
		usage(DG_USAGE);
	}
	if (o->mode != MODE_SNAP && o->mode != MODE_EXPORT &&
	    (o->output || o->meta || o->label || o->reason || o->compress || o->always || o->tier)) {
		error("-o, --meta, --label, --reason, --compress, --always and --tier go with taking a snapshot");
		usage(DG_USAGE);
	}
	if (o->mode == MODE_EXPORT && (!o->output || o->label || o->always || o->tier)) {
		error("--export takes -o FILE (or -o -), and --meta, --reason and --compress");
		usage(DG_USAGE);
	}
}

/* A snapshot, then [store] push (the remote opened before the snapshot,
 * so a configuration error costs no snapshot). */
static int snap_and_push(struct ctx *cx, const struct opts *o)
{
	enum push_mode pm = PUSH_NO;
	struct remote *r = NULL;
	char *made = NULL;
	int status = o->output ? DG_OK : remote_push_mode(&pm);
	if (status != DG_OK)
		return status;
	if (pm != PUSH_NO)
		r = open_remote();
	status = do_snap(cx, o, &made);
	if (status == DG_OK && made && r)
		status = push_new(cx, r, pm, made);
	remote_close(r);
	free(made);
	return status;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	struct opts o = { .mode = MODE_SNAP, .format = -1, .target = 1, .policy = PRUNE_POLICY_INIT };
	parse_args(argc, argv, &o);
	check_args(argc, argv, &o);

	/* A reader gone away, or a file-size limit, must fail a write with an
	 * error we report and clean up after, not kill us mid-way. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	snapshot_guard_install();

	struct ctx cx = { 0 };
	cx.project = project_dir_find();
	if (config_load(cx.project) > 0)
		return DG_USAGE;
	cx.store = store_dir(cx.project);

	int status;
	switch (o.mode) {
	case MODE_LIST:
	case MODE_VERIFY:
	case MODE_PRUNE:
		if (o.remote) {
			status = do_remote(&cx, &o);
			break;
		}
		status = o.mode == MODE_LIST ? do_list(&cx, &o) : o.mode == MODE_VERIFY
		         ? do_verify(&cx, &o, argv + optind, argc - optind) : do_prune(&cx, &o);
		break;
	case MODE_LATEST: status = do_latest(&cx, &o); break;
	case MODE_EXPORT: status = do_export(&cx, &o); break;
	case MODE_PUSH: status = do_push(&cx, &o, argv + optind, argc - optind); break;
	case MODE_PULL: status = do_pull(&cx, argv + optind, argc - optind); break;
	default: status = snap_and_push(&cx, &o); break;
	}
	if (cx.resolved)
		target_list_free(&cx.targets);
	free(cx.project);
	free(cx.store);
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	return status;
}
