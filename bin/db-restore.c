/* db-restore — put a snapshot back: verified first, confirmed, a safety
 * snapshot of the current state taken, and never a half-restored database.
 * Choosing the snapshot and the target, the summary and the safety
 * snapshot, and the loading and swapping are in common/restore/. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "cli/cli.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "model/classify.h"
#include "model/config.h"
#include "model/confirm.h"
#include "docker/volsnap.h"
#include "model/project.h"
#include "model/target.h"
#include "remote/remote.h"
#include "resolve/resolve.h"
#include "restore/pick.h"
#include "restore/restore.h"
#include "restore/summary.h"
#include "store/store.h"

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

struct opts {
	struct pick_opts pick;  /* SNAPSHOT, --meta, --url, --target, --into, --check, ... */
	const char *confirm, *volume;
	int test_run, allow_production, no_safety, unverified, list, all, format, remote;
};

/* What every mode shares: the project, its store, the configured targets. */
struct ctx {
	char *project, *store;
	struct target_list targets;
	int ti;                         /* the configured target named, -1 when none */
	struct target_now now;          /* what the target holds before a restore */
	char *safety;                   /* the safety snapshot taken */
	char *pulled;                   /* --remote: the snapshot pulled into the store */
};

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

/* A snapshot file (or a name in the store). */
static char *snapshot_operand(const char *store, const char *arg)
{
	if (access(arg, F_OK) == 0 || strchr(arg, '/'))
		return xstrdup(arg);
	char *p = path_join(store, arg);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return xstrdup(arg);
}

/* Does the metadata of arg say engine=volume? */
static int is_volume_snapshot(const char *store, const char *arg)
{
	char *path = snapshot_operand(store, arg);
	char *meta = xasprintf("%s.meta", path);
	struct snapshot_meta m;
	char err[256];
	int vol = store_meta_read(meta, &m, err, sizeof err) == 0 && strcmp(m.engine, "volume") == 0;
	store_meta_free(&m);
	free(meta);
	free(path);
	return vol;
}

/* db-restore --volume=NAME, or a volume snapshot: common/docker/volsnap. */
static int do_restore_volume(struct ctx *cx, const struct opts *o)
{
	const struct pick_opts *p = &o->pick;
	if (p->url || p->target_n || p->into || p->check || p->keep_old || p->terminate || p->meta_file ||
	    o->unverified || o->allow_production || o->test_run || (p->snapshot && strcmp(p->snapshot, "-") == 0)) {
		error("a volume restore takes --volume, --confirm, --no-safety-snap and a snapshot file only");
		return DG_USAGE;
	}
	char *path = NULL;
	if (p->snapshot) {
		path = snapshot_operand(cx->store, p->snapshot);
	} else {
		struct snapshot_list sl;
		volsnap_list(cx->store, o->volume, &sl);
		const struct snapshot *s = store_latest(&sl);
		if (s)
			path = xstrdup(s->path);
		snapshot_list_free(&sl);
		if (!path) {
			error("no good snapshot of volume '%s' in '%s' (db-snap --volume=%s takes one)", o->volume,
			      cx->store, o->volume);
			return DG_NOTHING;
		}
	}
	struct volrestore_opts vo = { cx->store, path, o->volume, o->confirm, o->no_safety };
	int rc = volsnap_restore(&vo);
	free(path);
	return rc;
}

static int do_list(struct ctx *cx, const struct opts *o)
{
	int ti = cx->ti, one = ti >= 0 && !o->all;
	struct snapshot_list sl;
	if (o->volume && !o->all)
		volsnap_list(cx->store, o->volume, &sl);
	else if (one)
		store_list_target(cx->store, &cx->targets.v[ti], &sl);
	else
		store_list(cx->store, NULL, &sl);
	int fmt = o->format >= 0 ? o->format : term_is_tty(1) ? FMT_HUMAN : FMT_TSV;
	if (sl.n == 0 && fmt == FMT_HUMAN)
		info("no snapshots%s%s%s in '%s'", one ? " of '" : "",
		     one ? target_confirm_name(&cx->targets.v[ti]) : "", one ? "'" : "", cx->store);
	else
		store_print_list(stdout, &sl, fmt, !one);
	snapshot_list_free(&sl);
	return DG_OK;
}

/* Without the client nothing can be loaded: that says nothing of the snapshot. */
static int check_client(const struct restore_job *j)
{
	const char *engine = target_get(&j->tgt, TF_ENGINE);
	if (!engine || !strcmp(engine, "sqlite"))
		return DG_OK;
	int pg = !strcmp(engine, "postgres");
	const char *pgc[] = { "psql", NULL }, *myc[] = { "mariadb", "mysql", NULL };
	char *client = find_on_path(pg ? pgc : myc);
	if (client) {
		free(client);
		return DG_OK;
	}
	error("cannot check '%s': the client %s is not installed (Debian: %s); the snapshot was not checked",
	      j->snap.name, pg ? "psql" : "mariadb", pg ? "postgresql-client" : "mariadb-client");
	return DG_NO;
}

/* Pick and open the snapshot; with --remote, the one pulled from the
 * remote store into the local one first (verified there). */
static int job_open(struct ctx *cx, const struct opts *o, struct restore_job *j)
{
	struct pick_opts po = o->pick;
	if (o->remote) {
		int rc = remote_fetch(po.snapshot, cx->ti >= 0 ? &cx->targets.v[cx->ti] : NULL, cx->store,
		                      cx->project, &cx->pulled);
		if (rc != DG_OK)
			return rc;
		po.snapshot = cx->pulled;
	}
	return restore_job_open(j, &po, cx->store, &cx->targets, cx->ti);
}

static int do_check(struct ctx *cx, const struct opts *o, struct restore_job *j)
{
	int status = job_open(cx, o, j);
	if (status != DG_OK)
		return status;
	if ((status = check_client(j)) != DG_OK)
		return status;
	status = restore_prepare(&j->tgt, &j->ropt, 0);
	if (status == DG_OK) {
		restore_catch_signals();
		status = restore_check(&j->tgt, &j->in, &j->ropt);
		progress_stage_end();
	}
	const struct snapshot_meta *m = j->snap.m;
	if (status == DG_OK)
		info("'%s' is good: it loads, and its %zu table%s hold%s the %lld row%s recorded", j->snap.name,
		     m->tables.n, m->tables.n == 1 ? "" : "s", m->tables.n == 1 ? "s" : "", m->rows,
		     m->rows == 1 ? "" : "s");
	else if (status == DG_UNREACHABLE)
		error("'%s' was not checked: the server cannot be reached", j->snap.name);
	else if (status < 128)
		error("'%s' failed the check", j->snap.name);
	return status;
}

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
	int rc = restore_prepare(&j->tgt, &j->ropt, 1);
	store_unlock(lock);
	return rc;
}

static int do_restore(struct ctx *cx, const struct opts *o, struct restore_job *j)
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
	progress_stage_end();
	store_unlock(lock);
	if (status == DG_OK)
		print_restored(j, &o->pick, o->test_run, cx->safety);
	else if (status < 128)
		error("'%s' was not changed", name);
	return status;
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

int main(int argc, char **argv)
{
	msg_init(argv[0]);
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
	struct opts o;
	memset(&o, 0, sizeof o);
	o.format = -1;
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhC:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_URL: o.pick.url = optarg; break;
		case OPT_TARGET: o.pick.target_n = cli_target_number(optarg, usage); break;
		case OPT_TEST_RUN: o.test_run = 1; break;
		case OPT_CONFIRM: o.confirm = optarg; break;
		case OPT_ALLOW_PRODUCTION: o.allow_production = 1; break;
		case OPT_NO_SAFETY: o.no_safety = 1; break;
		case OPT_KEEP_OLD: o.pick.keep_old = 1; break;
		case OPT_TERMINATE: o.pick.terminate = 1; break;
		case OPT_INTO: o.pick.into = optarg; break;
		case OPT_VOLUME: o.volume = optarg; break;
		case OPT_META: o.pick.meta_file = optarg; break;
		case OPT_UNVERIFIED: o.unverified = 1; break;
		case OPT_CHECK: o.pick.check = 1; break;
		case OPT_REMOTE: o.remote = 1; break;
		case OPT_LIST: o.list = 1; break;
		case OPT_ALL: o.all = 1; break;
		case OPT_FORMAT:
			o.format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_TSV | CLI_FMT_JSON, usage);
			break;
		default: cli_common(opt, optarg, usage);
		}
	}
	if (optind < argc)
		o.pick.snapshot = argv[optind++];
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
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
		status = o.list ? do_list(&cx, &o) : volume ? do_restore_volume(&cx, &o) : o.pick.check ? do_check(&cx, &o, &j)
		       : do_restore(&cx, &o, &j);
	return finish(&cx, &j, status);
}
