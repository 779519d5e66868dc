/* db-restore — put a snapshot back: verified first, confirmed, a safety
 * snapshot of the current state taken, and never a half-restored database
 * (the loading and swapping is common/restore/). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "model/dburl.h"
#include "engine/engine.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "restore/restore.h"
#include "base/secret.h"
#include "store/store.h"
#include "model/target.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "model/project.h"
#include "resolve/resolve.h"
#include "model/confirm.h"
#include "docker/volsnap.h"

static const char usage_text[] =
	"usage: db-restore [-qv] [-C DIR] [--url=URL | --target=N] [--test-run]\n"
	"                  [--confirm=NAME] [--allow-production] [--no-safety-snap]\n"
	"                  [--keep-old] [--terminate-connections] [--into=URL|NAME]\n"
	"                  [--meta=FILE | --unverified] [SNAPSHOT | -]\n"
	"       db-restore --volume=NAME [-qv] [-C DIR] [--confirm=NAME] [--no-safety-snap] [SNAPSHOT]\n"
	"       db-restore --check [-qv] [-C DIR] [--url=URL | --target=N] [SNAPSHOT]\n"
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
		      "matching its metadata, 6 not confirmed.\n", stdout);
	exit(status);
}

struct opts {
	const char *url, *confirm, *into, *meta_file, *snapshot, *volume;
	int target_n, test_run, allow_production, no_safety, keep_old, terminate, unverified;
	int check, list, all, format;
};

static char *utc(time_t t, const char *fmt)
{
	char buf[64];
	struct tm tm;
	strftime(buf, sizeof buf, fmt, gmtime_r(&t, &tm));
	return xstrdup(buf);
}

/* ------------------------------------------------------------ choosing */

static int same_file(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra && rb && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

/* The configured target the snapshot came from: engine and database equal,
 * host and port too if possible.  -1 when none. */
static int target_of_meta(const struct target_list *l, const struct snapshot_meta *m)
{
	int best = -1, best_score = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct target *t = &l->v[i];
		const char *e = target_get(t, TF_ENGINE), *db = target_get(t, TF_DATABASE);
		if (!e || !db || !m->engine || !m->database || strcmp(e, m->engine))
			continue;
		int sqlite = strcmp(e, "sqlite") == 0;
		if (sqlite ? !same_file(db, m->database) : strcmp(db, m->database) != 0)
			continue;
		int score = 1;
		if (!sqlite && m->host && strcmp(target_host(t), m->host) == 0 && target_port(t) == m->port)
			score = 2;
		if (score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

static int looks_like_url(const char *s)
{
	return strstr(s, "://") || strncmp(s, "sqlite:", 7) == 0 || strncmp(s, "file:", 5) == 0 ||
	       strchr(s, '=');
}

/* The target --into names: a URL, or a database on the target's server (a
 * file for SQLite). */
static int into_target(const char *into, const struct target *base, struct target *out)
{
	memset(out, 0, sizeof *out);
	char err[256];
	if (looks_like_url(into)) {
		if (dburl_parse(into, out, "--into", err, sizeof err) < 0) {
			error("--into: %s", err);
			return DG_USAGE;
		}
		out->origin = xstrdup("--into");
		return DG_OK;
	}
	if (!base) {
		error("--into=%s names a database, but there is no server to find it on; give a URL", into);
		return DG_NOTHING;
	}
	target_copy(out, base);
	target_set(out, TF_DATABASE, into, "--into");
	free(out->origin);
	out->origin = xstrdup("--into");
	return DG_OK;
}

/* What the target holds now.  Returns DG_OK (reachable), DG_NOTHING (does
 * not exist yet: it will be created), or DG_UNREACHABLE/DG_NO (reported). */
struct now {
	int exists;
	long long size;
	long tables;
	char *marker;
};

static int target_now(struct target *t, struct now *n, int count_tables)
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
	if (count_tables) {
		n->size = db_size(c, err, sizeof err);
		struct table_counts tc;
		if (db_tables(c, &tc, err, sizeof err) == 0)
			n->tables = (long)tc.n;
		table_counts_free(&tc);
	}
	db_close(c);
	return DG_OK;
}

/* ------------------------------------------------------ safety snapshot */

/* db-snap as a child, aimed at the same database.  The path it printed, or
 * NULL (reported). */
static char *safety_snapshot(const struct target *t, const char *snapshot_name)
{
	struct strvec av = STRVEC_INIT, env = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-snap"));
	sv_push(&av, "--label");
	sv_push(&av, "pre-restore");
	sv_push(&av, "--reason");
	sv_pushf(&av, "before restoring %s", snapshot_name);
	if (msg_verbosity < 1)
		sv_push(&av, "-q");
	/* The very database we restore into, named by the strongest source
	 * db-snap reads; through the environment, as a password never goes
	 * into an argv. */
	char *u = dburl_format(t, 1);
	sv_pushf(&env, "DATABASE_URL=%s", u);
	memset(u, 0, strlen(u));
	free(u);
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

/* ------------------------------------------------------------ main */

static void print_summary(const struct target *t, const struct now *n, const char *snap,
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

static void die_of_signal(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
	exit(128 + sig);
}

/* A snapshot file (or a name in the store) whose metadata says engine=volume. */
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
static int restore_volume(const struct opts *o, const char *store)
{
	if (o->url || o->target_n || o->into || o->check || o->keep_old || o->terminate || o->meta_file ||
	    o->unverified || o->allow_production || o->test_run || (o->snapshot && strcmp(o->snapshot, "-") == 0)) {
		error("a volume restore takes --volume, --confirm, --no-safety-snap and a snapshot file only");
		return DG_USAGE;
	}
	char *path = NULL;
	if (o->snapshot) {
		path = snapshot_operand(store, o->snapshot);
	} else {
		struct snapshot_list sl;
		volsnap_list(store, o->volume, &sl);
		const struct snapshot *s = store_latest(&sl);
		if (s)
			path = xstrdup(s->path);
		snapshot_list_free(&sl);
		if (!path) {
			error("no good snapshot of volume '%s' in '%s' (db-snap --volume=%s takes one)", o->volume,
			      store, o->volume);
			return DG_NOTHING;
		}
	}
	struct volrestore_opts vo = { store, path, o->volume, o->confirm, o->no_safety };
	int rc = volsnap_restore(&vo);
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	enum { OPT_URL = 256, OPT_TARGET, OPT_TEST_RUN, OPT_CONFIRM, OPT_ALLOW_PRODUCTION, OPT_NO_SAFETY,
	       OPT_KEEP_OLD, OPT_TERMINATE, OPT_INTO, OPT_META, OPT_UNVERIFIED, OPT_CHECK, OPT_LIST, OPT_ALL,
	       OPT_FORMAT, OPT_VERSION, OPT_VOLUME };
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
		{ "list", no_argument, NULL, OPT_LIST },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	memset(&o, 0, sizeof o);
	o.format = -1;
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhC:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_URL: o.url = optarg; break;
		case OPT_TARGET: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || n < 1 || n > 1000) {
				error("--target=%s: expected a number from 1 (the primary database)", optarg);
				usage(DG_USAGE);
			}
			o.target_n = (int)n;
			break;
		}
		case OPT_TEST_RUN: o.test_run = 1; break;
		case OPT_CONFIRM: o.confirm = optarg; break;
		case OPT_ALLOW_PRODUCTION: o.allow_production = 1; break;
		case OPT_NO_SAFETY: o.no_safety = 1; break;
		case OPT_KEEP_OLD: o.keep_old = 1; break;
		case OPT_TERMINATE: o.terminate = 1; break;
		case OPT_INTO: o.into = optarg; break;
		case OPT_VOLUME: o.volume = optarg; break;
		case OPT_META: o.meta_file = optarg; break;
		case OPT_UNVERIFIED: o.unverified = 1; break;
		case OPT_CHECK: o.check = 1; break;
		case OPT_LIST: o.list = 1; break;
		case OPT_ALL: o.all = 1; break;
		case OPT_FORMAT:
			o.format = out_format_parse(optarg);
			if (o.format != FMT_HUMAN && o.format != FMT_TSV && o.format != FMT_JSON) {
				error("unknown format '%s'; use human, tsv or json", optarg);
				usage(DG_USAGE);
			}
			break;
		case 'C':
			if (chdir(optarg) < 0)
				die(DG_USAGE, "cannot change to '%s':", optarg);
			break;
		case 'q': msg_verbosity = 0; break;
		case 'v': msg_verbosity = 2; break;
		case 'h': usage(DG_OK); break;
		case OPT_VERSION: print_version();
		default: usage(DG_USAGE);
		}
	}
	if (optind < argc)
		o.snapshot = argv[optind++];
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	if (o.list + o.check > 1 || (o.list && o.snapshot)) {
		error("--list takes no snapshot and goes with no --check");
		usage(DG_USAGE);
	}
	if (o.url && o.target_n > 1) {
		error("--url names the only target: --target=%d does not go with it", o.target_n);
		usage(DG_USAGE);
	}
	int from_stdin = o.snapshot && strcmp(o.snapshot, "-") == 0;
	if ((o.meta_file || o.unverified) && !from_stdin) {
		error("--meta and --unverified are for a snapshot read from standard input ('-')");
		usage(DG_USAGE);
	}
	if (from_stdin && !o.meta_file && !o.unverified) {
		error("a snapshot on standard input needs its metadata (--meta=FILE), or --unverified"
		      " to restore it without any check");
		usage(DG_USAGE);
	}
	if (o.check && (o.into || from_stdin)) {
		error("--check loads a snapshot file into a throwaway database: no --into, no '-'");
		usage(DG_USAGE);
	}
	if (o.all && !o.list) {
		error("--all goes with --list");
		usage(DG_USAGE);
	}

	signal(SIGPIPE, SIG_IGN);
	struct snapshot_meta meta;
	memset(&meta, 0, sizeof meta);
	struct target tgt;
	memset(&tgt, 0, sizeof tgt);
	struct now now;
	memset(&now, 0, sizeof now);
	char *snap_path = NULL, *dbkey = NULL, *safety = NULL;
	int fd = -1, have_meta = 0;
	char err[512];
	char *project = project_dir_find();
	int errors = config_load(project);
	struct resolve_opts ro = { o.url, o.test_run, NULL };
	struct target_list l;
	resolve_targets(&ro, &l);
	errors += l.config_errors;
	char *store = store_dir(project);
	int status = DG_OK;
	if (errors) {
		status = DG_USAGE;
		goto out;
	}
	if (o.target_n > 0 && (size_t)o.target_n > l.n) {
		error("--target=%d: %zu database%s configured here (see db-envcheck)", o.target_n, l.n,
		      l.n == 1 ? " is" : "s are");
		status = DG_USAGE;
		goto out;
	}
	int ti = l.n ? (o.target_n ? o.target_n - 1 : 0) : -1;

	if (!o.list && (o.volume || (o.snapshot && !from_stdin && is_volume_snapshot(store, o.snapshot)))) {
		status = restore_volume(&o, store);
		goto out;
	}
	if (o.list) {
		struct snapshot_list sl;
		if (o.volume && !o.all)
			volsnap_list(store, o.volume, &sl);
		else if (o.all || ti < 0)
			store_list(store, NULL, &sl);
		else
			store_list_target(store, &l.v[ti], &sl);
		int fmt = o.format >= 0 ? o.format : term_is_tty(1) ? FMT_HUMAN : FMT_TSV;
		if (sl.n == 0 && fmt == FMT_HUMAN)
			info("no snapshots%s%s%s in '%s'", ti >= 0 && !o.all ? " of '" : "",
			     ti >= 0 && !o.all ? target_confirm_name(&l.v[ti]) : "", ti >= 0 && !o.all ? "'" : "", store);
		else
			store_print_list(stdout, &sl, fmt, o.all || ti < 0);
		snapshot_list_free(&sl);
		goto out;
	}

	/* The snapshot, verified before anything else happens. */
	if (from_stdin) {
		if (o.meta_file) {
			if (store_meta_read(o.meta_file, &meta, err, sizeof err) < 0) {
				error("cannot use the metadata '%s': %s", o.meta_file, err);
				status = DG_INTEGRITY;
				goto out;
			}
			have_meta = 1;
		}
	} else if (o.snapshot) {
		struct stat st;
		snap_path = xstrdup(o.snapshot);
		if (stat(snap_path, &st) < 0 && !strchr(o.snapshot, '/')) {
			char *in_store = path_join(store, o.snapshot);
			if (stat(in_store, &st) == 0) {
				free(snap_path);
				snap_path = in_store;
			} else {
				free(in_store);
			}
		}
		if (stat(snap_path, &st) < 0) {
			error("no snapshot '%s':", o.snapshot);
			status = DG_NOTHING;
			goto out;
		}
	} else {
		if (ti < 0) {
			error("no database configured here: no --url, DATABASE_URL, DB_* variables or .env"
			      " naming one");
			status = DG_NOTHING;
			goto out;
		}
		struct snapshot_list sl;
		store_list_target(store, &l.v[ti], &sl);
		const struct snapshot *s = store_latest(&sl);
		if (s)
			snap_path = xstrdup(s->path);
		else
			error("no good snapshot of '%s' in '%s'; take one with db-snap",
			      target_confirm_name(&l.v[ti]), store);
		snapshot_list_free(&sl);
		if (!snap_path) {
			status = DG_NOTHING;
			goto out;
		}
	}
	if (snap_path) {
		if (store_verify(snap_path, &meta, err, sizeof err) < 0) {
			error("'%s' failed verification: %s; nothing was changed", snap_path, err);
			status = DG_INTEGRITY;
			goto out;
		}
		have_meta = 1;
		verbose("'%s' verified: checksum, compressed stream and metadata", snap_path);
	}
	const struct snapshot_meta *m = have_meta ? &meta : NULL;
	const char *snap_name = snap_path ? snap_path : "standard input";
	if (!m)
		warn("restoring an UNVERIFIED stream: its checksum, its engine and its row counts cannot"
		     " be checked; only a stream that loads completely replaces the target");

	/* The target: --url, --target=N, the configured database the
	 * snapshot came from, else the primary. */
	if (m && !o.url && !o.target_n) {
		int k = target_of_meta(&l, m);
		if (k >= 0 && k != ti) {
			verbose("the snapshot is of '%s', configured as database %d", m->database, k + 1);
			ti = k;
		}
	}
	int tgt_index = ti;
	if (o.into) {
		status = into_target(o.into, ti >= 0 ? &l.v[ti] : NULL, &tgt);
		if (status != DG_OK)
			goto out;
		tgt_index = -1;
	} else if (ti >= 0) {
		target_copy(&tgt, &l.v[ti]);
		if (o.url)
			tgt_index = -1;
	} else if (o.check && m && m->engine && strcmp(m->engine, "sqlite") == 0) {
		/* A SQLite snapshot is checked in a temporary file: no server needed. */
		target_set(&tgt, TF_ENGINE, "sqlite", "snapshot metadata");
		target_set(&tgt, TF_DATABASE, m->database ? m->database : "snapshot.sqlite", "snapshot metadata");
	} else {
		error("no database configured here to restore into: use --url, or run in the project");
		status = DG_NOTHING;
		goto out;
	}
	const char *engine = target_get(&tgt, TF_ENGINE);
	if (!engine || (strcmp(engine, "postgres") && strcmp(engine, "mysql") && strcmp(engine, "sqlite"))) {
		error("the engine of %s is unknown; set DB_CONNECTION or use --url", target_confirm_name(&tgt));
		status = DG_USAGE;
		goto out;
	}
	if (m && m->engine && strcmp(m->engine, engine) != 0) {
		if (o.check && strcmp(m->engine, "sqlite") == 0) {
			target_free(&tgt);
			memset(&tgt, 0, sizeof tgt);
			target_set(&tgt, TF_ENGINE, "sqlite", "snapshot metadata");
			target_set(&tgt, TF_DATABASE, m->database ? m->database : "snapshot.sqlite", "snapshot metadata");
			engine = "sqlite";
		} else {
			char *d = target_describe(&tgt);
			error("'%s' is a %s snapshot; it cannot be restored into %s", snap_name, m->engine, d);
			free(d);
			status = DG_USAGE;
			goto out;
		}
	}
	dbkey = store_dbkey(&tgt);
	struct restore_opts ropt = { o.terminate, o.keep_old, store, dbkey, snap_path, NULL };
	fd = from_stdin ? 0 : open(snap_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error("cannot open '%s':", snap_path);
		status = DG_NO;
		goto out;
	}
	struct stat fst;
	struct restore_input in = { fd, snap_name, m, !from_stdin && fstat(fd, &fst) == 0 ? (unsigned long long)fst.st_size : 0 };

	if (o.check) {
		status = restore_prepare(&tgt, &ropt, 0);
		if (status == DG_OK) {
			restore_catch_signals();
			status = restore_check(&tgt, &in, &ropt);
		}
		if (status == DG_OK)
			info("'%s' is good: it loads, and its %zu table%s hold%s the %lld row%s recorded", snap_name,
			     m->tables.n, m->tables.n == 1 ? "" : "s", m->tables.n == 1 ? "s" : "", m->rows,
			     m->rows == 1 ? "" : "s");
		else if (status < 128)
			error("'%s' failed the check", snap_name);
		goto out;
	}

	/* What is there now, the class, and the confirmation. */
	int will_prompt = !o.confirm && !(getenv("DBGUARD_CONFIRM") && *getenv("DBGUARD_CONFIRM")) &&
	                  term_can_prompt();
	int r = target_now(&tgt, &now, will_prompt);
	if (r != DG_OK && r != DG_NOTHING) {
		status = r;
		goto out;
	}
	classify_target(&tgt);
	const char *name = target_confirm_name(&tgt);
	if (o.into && now.exists && now.tables < 0) {
		/* --into refuses a database that holds anything, unless confirmed. */
		struct dbconn *c;
		if (db_connect(&tgt, &c, err, sizeof err) == DG_OK) {
			struct table_counts tc;
			if (db_tables(c, &tc, err, sizeof err) == 0)
				now.tables = (long)tc.n;
			table_counts_free(&tc);
			db_close(c);
		}
	}
	int must_confirm = !o.into || (now.exists && now.tables != 0);
	if (class_refused(tgt.cls) && now.exists && !o.allow_production) {
		error("refusing to restore into %s database '%s': %s; add --allow-production (and confirm)"
		      " if you mean it; nothing was changed", tclass_name(tgt.cls), name, tgt.rule);
		status = DG_NO;
		goto out;
	}
	if (must_confirm) {
		if (will_prompt)
			print_summary(&tgt, &now, snap_name, m);
		char *when = m ? utc(m->created, "%Y-%m-%d %H:%M:%S UTC") : xstrdup("an unverified stream");
		char *what = o.into ? xasprintf("'%s' is not empty: restoring '%s' into it replaces everything in it",
		                                name, snap_name)
		                    : xasprintf("this replaces the database '%s' with the snapshot of %s", name, when);
		status = target_confirm(&tgt, o.confirm, what);
		free(when);
		free(what);
		if (status != DG_OK)
			goto out;
	}
	if (now.exists) {
		status = restore_sessions(&tgt, o.terminate);
		if (status != DG_OK)
			goto out;
	}

	if (store_ensure(store) < 0) {
		error("cannot create the snapshot store '%s':", store);
		status = DG_NO;
		goto out;
	}
	int lock = store_lock(store, dbkey, 0);
	if (lock < 0) {
		info("waiting for another snapshot or restore of '%s' to finish", name);
		lock = store_lock(store, dbkey, 600);
	}
	if (lock < 0) {
		error("cannot lock '%s' in the store '%s':", name, store);
		status = DG_NO;
		goto out;
	}
	status = restore_prepare(&tgt, &ropt, 1);
	store_unlock(lock);
	if (status != DG_OK)
		goto out;

	restore_catch_signals();
	if (!o.no_safety && now.exists) {
		char *base = snap_path ? path_base(snap_path) : xstrdup("standard input");
		safety = safety_snapshot(&tgt, base);
		free(base);
		if (!safety) {
			status = restore_interrupted() ? 128 + restore_interrupted() : DG_NO;
			goto out;
		}
		info("safety snapshot of '%s' as it is now: %s", name, safety);
		ropt.safety_path = safety;
	}
	if (restore_interrupted()) {
		status = 128 + restore_interrupted();
		goto out;
	}
	lock = store_lock(store, dbkey, 600);
	if (lock < 0) {
		error("cannot lock '%s' in the store '%s':", name, store);
		status = DG_NO;
		goto out;
	}
	status = restore_interrupted() ? 128 + restore_interrupted() : restore_load(&tgt, &in, &ropt);
	store_unlock(lock);
	if (status == DG_OK) {
		if (m)
			info("restored '%s' from '%s': %zu table%s, %lld row%s, every count as recorded", name,
			     snap_name, m->tables.n, m->tables.n == 1 ? "" : "s", m->rows, m->rows == 1 ? "" : "s");
		else
			info("restored '%s' from %s (unverified)", name, snap_name);
		if (safety) {
			char target_opt[32] = "";
			if (tgt_index > 0)
				snprintf(target_opt, sizeof target_opt, "--target=%d ", tgt_index + 1);
			/* The same target again; a URL only without its password. */
			char *where = NULL;
			if (o.into && !looks_like_url(o.into))
				where = xasprintf("--into='%s' ", o.into);
			else if (tgt_index < 0 && (o.url || o.into)) {
				char *u = dburl_format(&tgt, 0);
				where = xasprintf("--url='%s' ", u);
				free(u);
			}
			info("to undo it: db-restore %s%s%s'%s'", o.test_run && tgt_index >= 0 ? "--test-run " : "",
			     target_opt, where ? where : "", safety);
			free(where);
		}
	} else if (status < 128) {
		error("'%s' was not changed", name);
	}
out:
	free(safety);
	free(now.marker);
	if (fd > 0)
		close(fd);
	free(dbkey);
	store_meta_free(&meta);
	free(snap_path);
	free(store);
	free(project);
	target_list_free(&l);
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	if (status >= 128 && status < 128 + 65) {
		error("interrupted; %s%s%s was not changed", tgt.val[TF_DATABASE] ? "'" : "",
		      tgt.val[TF_DATABASE] ? target_confirm_name(&tgt) : "the database", tgt.val[TF_DATABASE] ? "'" : "");
		target_free(&tgt);
		die_of_signal(status - 128);
	}
	target_free(&tgt);
	return status;
}
