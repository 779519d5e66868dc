/* db-snap — take a compressed, checksummed, atomic snapshot of the project's
 * database into the snapshot store; list, verify and prune the store. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "cli/cli.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "model/project.h"
#include "model/target.h"
#include "remote/remote.h"
#include "resolve/resolve.h"
#include "docker/volsnap.h"
#include "snap/clone.h"
#include "snap/guard.h"
#include "snap/instant.h"
#include "snap/output.h"
#include "snap/snapshot.h"
#include "store/compress.h"
#include "store/store.h"
#include "saferun/retention.h"

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

/* A second snapshot of one database may wait this long for the first. */
#define LOCK_WAIT_SECONDS 600

enum mode { MODE_SNAP, MODE_LIST, MODE_LATEST, MODE_VERIFY, MODE_PRUNE, MODE_EXPORT, MODE_PUSH, MODE_PULL };

struct opts {
	enum mode mode;
	int mode_set, all, dry_run, test_run, format, always, remote;
	const char *tier;           /* NULL: [db-snap] tier */
	const char *export;         /* --export SNAPSHOT */
	long target;                /* 1 = primary; N = the Nth database db-envcheck lists */
	const char *url, *label, *reason, *compress, *output, *meta, *volume;
	struct prune_policy policy;
	int policy_given, retention;
};

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

/* ---- shared by every mode ---- */

struct ctx {
	char *project, *store;
	struct target_list targets;
	int resolved;
	/* --export: the clone to dump, and the database it is a clone of. */
	struct target *override;
	const char *export_of;
};

/* The primary target, or exit 3/2 saying why there is none. */
static struct target *primary(struct ctx *cx, const struct opts *o)
{
	if (cx->override)
		return cx->override;
	if (!cx->resolved) {
		struct resolve_opts ro = { o->url, o->test_run, NULL };
		resolve_targets(&ro, &cx->targets);
		cx->resolved = 1;
		if (cx->targets.config_errors)
			exit(DG_USAGE);
	}
	if (cx->targets.n == 0)
		die(DG_NOTHING, "no database configured here: no --url, DATABASE_URL, DB_* variables "
		    "or .env naming one%s", o->mode == MODE_SNAP ? "" : " (--all works on the whole store)");
	return cli_pick_target(&cx->targets, (int)o->target);
}

/* ---- taking a snapshot ---- */

/* The compression from --compress, from -o FILE's extension, or from the
 * configuration. */
static void choose_compression(const struct opts *o, struct compress_spec *spec)
{
	char *err = NULL;
	const char *cfg = config_get("db-snap", "compress");
	if (o->compress) {
		if (compress_parse(o->compress, spec, &err) < 0)
			die(DG_USAGE, "--compress: %s", err);
		return;
	}
	if (compress_parse(cfg ? cfg : "zstd", spec, &err) < 0)
		die(DG_USAGE, "%s: compress: %s", config_source("db-snap", "compress"), err);
	if (o->output && strcmp(o->output, "-") != 0)
		compress_spec_for_name(spec, o->output);
}

/* The uncompressed size of the last good snapshot of t in the store, or 0. */
static unsigned long long last_dump_bytes(struct ctx *cx, const struct target *t, const char *engine)
{
	struct snapshot_list l;
	store_list_target(cx->store, t, &l);
	unsigned long long raw = 0;
	for (size_t i = 0; i < l.n && !raw; i++)
		if (l.v[i].good && l.v[i].meta.engine && !strcmp(l.v[i].meta.engine, engine))
			raw = l.v[i].meta.raw_bytes;
	snapshot_list_free(&l);
	return raw;
}

/* In the store, under its lock: the newest snapshot when nothing changed
 * since, or a clone when the tier asks for one and the engine can make it.
 * DG_OK with the path printed, another status after an error line, or -1:
 * take a dump (with *job, which may have been reopened). */
static int without_dump(struct ctx *cx, const struct opts *o, struct target *t,
                        struct snapshot_job **job, struct snap_output *d, const char *dbkey,
                        const char *label)
{
	if (snap_output_lock(d, cx->store, LOCK_WAIT_SECONDS, dbkey, t) < 0)
		return DG_NO;
	char *path = o->always ? NULL : snap_unchanged_since(cx->store, t, *job, label);
	int rc = DG_OK;
	const char *tier = snap_tier(o->tier);
	if (path) {
		verbose("unchanged since %s", path);
	} else if (!snap_wants_clone(tier, t)) {
		return -1;
	} else if (strcmp(snapshot_engine(*job), "sqlite") == 0) {
		rc = snap_take_sqlite_clone(cx->store, t, *job, dbkey, label, o->reason, &path);
	} else {
		/* A session of ours on the database would stop the copy. */
		snapshot_close(*job);
		*job = NULL;
		rc = snap_take_pg_clone(cx->store, t, dbkey, label, o->reason, &path);
		if (rc == -1) {
			char err[512];
			int r = snapshot_open(t, job, err, sizeof err);
			if (r != DG_OK) {
				error("%s", err);
				return r;
			}
		}
	}
	if (path)
		printf("%s\n", path);
	free(path);
	return rc;
}

struct prune_arg {
	const struct target *t;
};

static int prune_remove(void *arg, const struct snapshot *s)
{
	return snap_remove(s, ((struct prune_arg *)arg)->t);
}

/* [db-snap] retention after each snapshot in the store: a dump, a clone,
 * or the newest one reused because nothing changed (the store then holds
 * what the configuration and the journal's undo points say, whichever
 * kind of snapshot the database got). */
static void retention(struct ctx *cx, const struct target *t)
{
	struct prune_arg pa = { t };
	retention_after_snapshot(cx->store, t, snap_keep_clones_limit(), prune_remove, &pa);
}

static int do_snap_volume(struct ctx *cx, const struct opts *o)
{
	struct volsnap_opts vo = { cx->store, o->volume, o->label, o->reason, { 0 } };
	choose_compression(o, &vo.spec);
	char err[512], *path = NULL;
	int rc = volsnap_take(&vo, &path, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	printf("%s\n", path);
	free(path);
	return DG_OK;
}

static int do_snap(struct ctx *cx, const struct opts *o, char **made)
{
	if (o->volume)
		return do_snap_volume(cx, o);
	struct target *t = primary(cx, o);
	struct compress_spec spec;
	choose_compression(o, &spec);
	struct snap_output d;
	if (snap_output_init(&d, o->output, o->meta))
		die(DG_USAGE, "refusing to write a snapshot to a terminal; redirect standard output "
		    "or use -o FILE");
	if (o->meta && !o->output)
		die(DG_USAGE, "--meta goes with -o FILE or -o -");

	char err[512];
	struct snapshot_job *job;
	int rc = snapshot_open(t, &job, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	char *dbkey = store_dbkey(t);
	char *label = store_label(o->label);
	struct snapshot_result res = { 0 };
	struct snapshot_meta m = { 0 };
	struct compress_result cres;
	time_t created = time(NULL);
	verbose("%s %s, server %s", snapshot_engine(job), dbkey, snapshot_server_version(job));

	snapshot_expect_bytes(job, last_dump_bytes(cx, t, snapshot_engine(job)));
	char *what = label && !strcmp(label, "pre-restore") ? xasprintf("safety snapshot of %s", dbkey)
	                                                    : xstrdup(dbkey);
	rc = DG_NO;
	if (!o->output) {
		rc = without_dump(cx, o, t, &job, &d, dbkey, label);
		if (rc == DG_OK)
			retention(cx, t);
		if (rc != -1)
			goto out;
		rc = DG_NO;
	}
	if (snap_output_open(&d, cx->store, LOCK_WAIT_SECONDS, job, &spec, dbkey, label, &created) == 0 &&
	    snapshot_write(job, d.fd, &spec, d.scratch, what, d.shown, !d.direct, &cres, &res) == DG_OK) {
		snapshot_describe(job, created, label, o->reason, spec.kind, &cres, &res, &m);
		if (cx->export_of) {
			free(m.database);
			m.database = xstrdup(cx->export_of);
		}
		rc = snap_output_finish(&d, &m);
	}
	if (rc == DG_OK && !d.direct) {
		if (msg_verbosity >= 2) {
			char sz[32], raw[32];
			verbose("%zu tables, %lld rows; %s (%s uncompressed)", m.tables.n, m.rows,
			        human_bytes(m.size, sz, sizeof sz), human_bytes(m.raw_bytes, raw, sizeof raw));
		}
		if (!o->output)
			retention(cx, t);
		printf("%s\n", d.path);
		if (made)
			*made = xstrdup(d.path);
	}
out:
	snap_output_free(&d);
	free(what);
	snapshot_result_free(&res);
	store_meta_free(&m);
	snapshot_close(job);
	free(dbkey);
	free(label);
	return rc;
}

/* ---- the store: list, latest, verify, prune ---- */

static void list_store(struct ctx *cx, const struct opts *o, struct snapshot_list *l, char **dbkey)
{
	if (o->volume && !o->all) {
		*dbkey = volsnap_dbkey(o->volume);
		volsnap_list(cx->store, o->volume, l);
		return;
	}
	if (o->all) {
		*dbkey = NULL;
		store_list(cx->store, NULL, l);
		return;
	}
	struct target *t = primary(cx, o);
	*dbkey = store_dbkey(t);
	store_list_target(cx->store, t, l);
}

static int do_list(struct ctx *cx, const struct opts *o)
{
	struct snapshot_list l;
	char *dbkey;
	list_store(cx, o, &l, &dbkey);
	int fmt = o->format >= 0 ? o->format : term_is_tty(1) ? FMT_HUMAN : FMT_TSV;
	if (l.n == 0 && fmt == FMT_HUMAN)
		info("no snapshots%s%s%s in '%s'", dbkey ? " of '" : "", dbkey ? dbkey : "",
		     dbkey ? "'" : "", cx->store);
	else
		store_print_list(stdout, &l, fmt, o->all);
	snapshot_list_free(&l);
	free(dbkey);
	return DG_OK;
}

static int do_latest(struct ctx *cx, const struct opts *o)
{
	struct snapshot_list l;
	char *dbkey;
	list_store(cx, o, &l, &dbkey);
	const struct snapshot *s = store_latest(&l);
	int rc = DG_OK;
	if (s) {
		printf("%s\n", s->path);
	} else {
		error("no good snapshot of '%s' in '%s'%s", dbkey, cx->store,
		      l.n ? " (only ones that fail their metadata check)" : "");
		rc = DG_NOTHING;
	}
	snapshot_list_free(&l);
	free(dbkey);
	return rc;
}

/* The configured target whose server holds clone m (its credentials reach
 * the clone), or NULL. */
static struct target *server_of(struct ctx *cx, const struct opts *o, const struct snapshot_meta *m)
{
	if (!cx->resolved) {
		struct resolve_opts ro = { o->url, o->test_run, NULL };
		resolve_targets(&ro, &cx->targets);
		cx->resolved = 1;
	}
	for (size_t i = 0; i < cx->targets.n; i++) {
		struct target *t = &cx->targets.v[i];
		const char *e = target_get(t, TF_ENGINE);
		if (e && strcmp(e, "postgres") == 0 && target_port(t) == m->port &&
		    strcmp(target_host(t) ? target_host(t) : "", m->host ? m->host : "") == 0)
			return t;
	}
	return NULL;
}

struct verify_arg {
	struct ctx *cx;
	const struct opts *o;
};

/* A PostgreSQL clone is also checked in its server. */
static int check_clone(void *arg, const struct snapshot_meta *m, char *err, size_t errlen)
{
	struct verify_arg *a = arg;
	if (!m->clone)
		return 0;
	struct target *t = server_of(a->cx, a->o, m);
	if (!t) {
		snprintf(err, errlen, "no database configured here is on its server %s:%d, so the clone "
		         "cannot be checked (--url names one)", m->host, m->port);
		return -1;
	}
	return snap_verify_clone(t, m, err, errlen);
}

static int do_verify(struct ctx *cx, const struct opts *o, char **operands, int nops)
{
	struct strvec paths = STRVEC_INIT;
	char *dbkey = NULL;
	if (nops > 0) {
		for (int i = 0; i < nops; i++)
			sv_push_owned(&paths, store_find(cx->store, operands[i]));
	} else {
		struct snapshot_list l;
		list_store(cx, o, &l, &dbkey);
		for (size_t i = 0; i < l.n; i++)
			sv_push(&paths, l.v[i].path);
		snapshot_list_free(&l);
		if (paths.n == 0) {
			error("no snapshots%s%s%s in '%s' to verify", dbkey ? " of '" : "",
			      dbkey ? dbkey : "", dbkey ? "'" : "", cx->store);
			free(dbkey);
			return DG_NOTHING;
		}
	}
	/* A snapshot that is not there is no snapshot (3), not a corrupt one (5). */
	struct strvec there = STRVEC_INIT;
	size_t missing = 0;
	for (size_t i = 0; i < paths.n; i++) {
		if (access(paths.v[i], F_OK) == 0) {
			sv_push(&there, paths.v[i]);
		} else {
			error("no snapshot '%s'", paths.v[i]);
			missing++;
		}
	}
	struct verify_arg va = { cx, o };
	size_t bad = there.n ? store_verify_all_with(there.v, there.n, stdout, check_clone, &va) : 0;
	sv_free(&there);
	sv_free(&paths);
	free(dbkey);
	return bad ? DG_INTEGRITY : missing ? DG_NOTHING : DG_OK;
}

struct export_arg {
	struct ctx *cx;
	struct opts o;
};

static int export_clone(void *arg, const struct target *clone)
{
	struct export_arg *a = arg;
	a->cx->override = (struct target *)clone;
	int rc = do_snap(a->cx, &a->o, NULL);
	a->cx->override = NULL;
	return rc;
}

/* --export: a clone's portable dump, into -o FILE or standard output. */
static int do_export(struct ctx *cx, const struct opts *o)
{
	char *path = store_find(cx->store, o->export), err[512] = "";
	struct snapshot_meta m;
	int rc = DG_OK;
	if (store_verify(path, &m, err, sizeof err) < 0) {
		error("'%s' failed verification: %s", path, err);
		rc = access(path, F_OK) == 0 ? DG_INTEGRITY : DG_NOTHING;
	} else if (!m.clone) {
		error("'%s' is a %s, portable as it is: copy it (or restore it with db-restore)", path,
		      store_meta_is_clone(&m) ? "SQLite database file" : "dump");
		rc = DG_USAGE;
	} else {
		struct target *t = server_of(cx, o, &m);
		if (!t) {
			error("no database configured here is on the server %s:%d of '%s'; --url names one",
			      m.host, m.port, path);
			rc = DG_NOTHING;
		} else {
			struct export_arg a = { cx, *o };
			a.o.always = 1;
			a.o.tier = "dump";
			a.o.mode = MODE_SNAP;
			cx->export_of = m.database;
			verbose("dumping the clone '%s' of '%s'", m.clone, m.database);
			rc = clone_pg_with_connections(t, m.clone, export_clone, &a, err, sizeof err);
			cx->export_of = NULL;
			if (rc != DG_OK && *err)
				error("cannot dump the clone '%s': %s", m.clone, err);
		}
	}
	store_meta_free(&m);
	free(path);
	return rc;
}

static int do_prune(struct ctx *cx, const struct opts *o)
{
	struct prune_policy p = o->policy;
	if (!o->policy_given) {
		retention_policy(&p);
		p.prune_labelled = o->policy.prune_labelled;
	}
	struct target *t = o->all || o->volume ? NULL : primary(cx, o);
	char *dbkey = t ? store_dbkey(t) : o->volume && !o->all ? volsnap_dbkey(o->volume) : NULL;
	/* Under the lock a snapshot being written cannot be mistaken for
	 * debris, and the newest one cannot change under our feet. */
	int lock = -1;
	if (dbkey && !o->dry_run && access(cx->store, F_OK) == 0) {
		lock = store_lock(cx->store, dbkey, LOCK_WAIT_SECONDS);
		if (lock < 0) {
			error("cannot lock the store for '%s':", dbkey);
			free(dbkey);
			return DG_NO;
		}
	}
	if (lock >= 0)
		store_clean_stale(cx->store, dbkey);
	struct strvec undo = STRVEC_INIT;
	retention_keep_undo(&p, &undo);
	struct snapshot_list l;
	if (t)
		store_list_target(cx->store, t, &l);
	else if (dbkey)
		volsnap_list(cx->store, o->volume, &l);
	else
		store_list(cx->store, NULL, &l);
	p.keep_clones = snap_keep_clones_limit();
	struct prune_arg pa = { t };
	/* -q: nothing at all on success. */
	size_t failed = store_prune_with(&l, &p, time(NULL), o->dry_run, msg_verbosity >= 1 ? stdout : NULL,
	                                 prune_remove, &pa);
	snapshot_list_free(&l);
	sv_free(&undo);
	store_unlock(lock);
	free(dbkey);
	return failed ? DG_NO : DG_OK;
}

/* ---- the remote store ([store] remote) ---- */

static struct remote *open_remote(void)
{
	struct remote *r;
	int rc = remote_open(&r);
	if (rc == DG_NOTHING)
		die(DG_USAGE, "no remote store is configured: set [store] remote = REMOTE:PATH (an rclone "
		    "remote) in .dbguard.conf, or DBGUARD_REMOTE");
	if (rc != DG_OK)
		exit(rc);
	return r;
}

/* The remote listing of this database (or of all with --all). */
static int list_remote(struct ctx *cx, const struct opts *o, struct remote *r, struct remote_listing *rl)
{
	if (o->all)
		return remote_list(r, NULL, NULL, cx->store, rl);
	struct target *t = primary(cx, o);
	char *dbkey = store_dbkey(t);
	int rc = remote_list(r, dbkey, target_get(t, TF_ENGINE), cx->store, rl);
	free(dbkey);
	return rc;
}

static int do_remote(struct ctx *cx, const struct opts *o)
{
	struct remote *r = open_remote();
	struct remote_listing rl;
	int rc = list_remote(cx, o, r, &rl);
	if (rc != DG_OK) {
		remote_close(r);
		return rc;
	}
	if (o->mode == MODE_LIST) {
		int fmt = o->format >= 0 ? o->format : term_is_tty(1) ? FMT_HUMAN : FMT_TSV;
		if (rl.l.n == 0 && fmt == FMT_HUMAN)
			info("no snapshots on '%s'", remote_spec(r));
		else
			store_print_list(stdout, &rl.l, fmt, o->all);
	} else if (o->mode == MODE_VERIFY) {
		if (rl.l.n == 0 && rl.orphans.n == 0) {
			error("no snapshots on '%s' to verify", remote_spec(r));
			rc = DG_NOTHING;
		} else {
			rc = remote_verify(r, &rl);
		}
	} else {
		struct prune_policy p = o->policy;
		if (!o->policy_given) {
			remote_prune_policy(&p);
			p.prune_labelled = o->policy.prune_labelled;
		}
		rc = remote_prune(r, &rl, &p, o->dry_run);
	}
	remote_listing_free(&rl);
	remote_close(r);
	return rc;
}

static int do_push(struct ctx *cx, const struct opts *o, char **operands, int nops)
{
	struct remote *r = open_remote();
	struct strvec paths = STRVEC_INIT;
	int rc = DG_OK;
	if (nops > 0) {
		for (int i = 0; i < nops; i++)
			sv_push_owned(&paths, store_find(cx->store, operands[i]));
	} else {
		struct snapshot_list l;
		char *dbkey;
		list_store(cx, o, &l, &dbkey);
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].good && (o->all || paths.n == 0))
				sv_push(&paths, l.v[i].path);
		if (paths.n == 0) {
			error("no good snapshot%s%s%s in '%s' to push", dbkey ? " of '" : "", dbkey ? dbkey : "",
			      dbkey ? "'" : "", cx->store);
			rc = DG_NOTHING;
		}
		snapshot_list_free(&l);
		free(dbkey);
	}
	for (size_t i = 0; i < paths.n; i++) {
		int e = remote_push(r, paths.v[i]);
		if (e != DG_OK && rc == DG_OK)
			rc = e;
		if (e == DG_UNREACHABLE || e == DG_USAGE)
			break;
	}
	sv_free(&paths);
	remote_close(r);
	return rc;
}

static int do_pull(struct ctx *cx, char **operands, int nops)
{
	struct remote *r = open_remote();
	struct remote_listing rl;
	int rc = remote_list(r, NULL, NULL, cx->store, &rl);
	for (int i = 0; rc == DG_OK && i < nops; i++) {
		long k = remote_find(r, &rl, operands[i]);
		int e;
		char *local = NULL;
		if (k < 0) {
			const char *base = strrchr(operands[i], '/') ? strrchr(operands[i], '/') + 1
			                 : strchr(operands[i], ':') ? strchr(operands[i], ':') + 1 : operands[i];
			int nometa = 0;
			for (size_t j = 0; j < rl.no_meta.n; j++)
				nometa |= strncmp(rl.no_meta.v[j], base, strlen(base)) == 0;
			error(nometa ? "'%s' has no metadata on '%s': not a whole snapshot; refused"
			             : "no snapshot '%s' on '%s' (db-snap --list --remote --all lists them)",
			      operands[i], remote_spec(r));
			e = nometa ? DG_INTEGRITY : DG_NOTHING;
		} else if ((e = remote_pull(r, &rl, (size_t)k, cx->store, cx->project, &local)) == DG_OK) {
			printf("%s\n", local);
		}
		free(local);
		if (e != DG_OK && rc == DG_OK)
			rc = e;
	}
	remote_listing_free(&rl);
	remote_close(r);
	return rc;
}

/* [store] push after a new snapshot in the store (the remote opened
 * before the snapshot, so a configuration error costs no snapshot). */
static int push_new(struct ctx *cx, struct remote *r, enum push_mode mode, const char *path)
{
	int rc = DG_OK;
	fflush(stdout);
	if (mode == PUSH_BACKGROUND)
		remote_push_background(path, cx->store);
	else
		rc = remote_push(r, path);
	return rc;
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
