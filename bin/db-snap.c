/* db-snap — take a compressed, checksummed, atomic snapshot of the project's
 * database into the snapshot store; list, verify and prune the store. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "store/compress.h"
#include "model/config.h"
#include "engine/engine.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "snap/snapshot.h"
#include "store/store.h"
#include "model/target.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "model/project.h"
#include "resolve/resolve.h"
#include "docker/volsnap.h"

static const char usage_text[] =
	"usage: db-snap [-qv] [-C DIR] [--url=URL] [--test-run] [--target=N] [--label=NAME] [--reason=TEXT]\n"
	"               [--compress=zstd[:LEVEL]|gzip[:LEVEL]|none] [-o FILE|- [--meta=FILE]]\n"
	"       db-snap [-qv] [-C DIR] --volume=NAME [--label=NAME] [--reason=TEXT] [--compress=C]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --list [--all] [--format=human|tsv|json]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --latest\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --verify [--all] [SNAPSHOT...]\n"
	"       db-snap [-qv] [-C DIR] [--url=URL] --prune [--keep=N] [--keep-days=D]\n"
	"               [--keep-hourly=N] [--keep-daily=N] [--keep-weekly=N] [--keep-monthly=N]\n"
	"               [--prune-labelled] [--all] [--dry-run]\n";

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
		      "  -o, --output=FILE    write the snapshot to FILE (metadata to FILE.meta)\n"
		      "  -o -                 stream it to standard output\n"
		      "      --meta=FILE      write the metadata to FILE (with -o -: else stderr)\n"
		      "      --list           the snapshots of the database, newest first\n"
		      "      --format=FORMAT  for --list: human, tsv or json\n"
		      "      --latest         print the newest good snapshot's path\n"
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
		      "  -q, --quiet          only errors on stderr\n"
		      "  -v, --verbose        more detail on stderr\n"
		      "  -h, --help           this help\n"
		      "      --version        version\n"
		      "\n"
		      "Exit status: 0 done, 1 failed (nothing left behind), 2 usage or\n"
		      "configuration error, 3 no database or no snapshot, 4 database unreachable,\n"
		      "5 verification failed.\n", stdout);
	exit(status);
}

/* A second snapshot of one database may wait this long for the first. */
#define LOCK_WAIT_SECONDS 600

enum mode { MODE_SNAP, MODE_LIST, MODE_LATEST, MODE_VERIFY, MODE_PRUNE };

struct opts {
	enum mode mode;
	int mode_set, all, dry_run, test_run, format;
	long target;                /* 1 = primary; N = the Nth database db-envcheck lists */
	const char *url, *label, *reason, *compress, *output, *meta, *volume;
	struct prune_policy policy;
	int policy_given;
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
};

/* The primary target, or exit 3/2 saying why there is none. */
static struct target *primary(struct ctx *cx, const struct opts *o)
{
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
	if ((size_t)o->target > cx->targets.n)
		die(DG_NOTHING, "--target=%ld: only %zu database%s configured here (db-envcheck --format=tsv lists them)",
		    o->target, cx->targets.n, cx->targets.n == 1 ? " is" : "s are");
	return &cx->targets.v[o->target - 1];
}

/* ---- taking a snapshot ---- */

struct progress_arg {
	struct progress p;
};

static void on_progress(void *arg, unsigned long long raw)
{
	progress_update(&((struct progress_arg *)arg)->p, raw);
}

static int file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	/* Some file systems cannot promise "no replace"; the lock and the
	 * existence check before the dump are then all we have. */
	if (errno == EINVAL || errno == ENOSYS)
		return rename(from, to);
	return -1;
}

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
	if (!o->output || strcmp(o->output, "-") == 0)
		return;
	size_t n = strlen(o->output);
	enum compress_kind want = spec->kind;
	if (n > 4 && strcmp(o->output + n - 4, ".zst") == 0)
		want = COMPRESS_ZSTD;
	else if (n > 3 && strcmp(o->output + n - 3, ".gz") == 0)
		want = COMPRESS_GZIP;
	else if ((n > 4 && strcmp(o->output + n - 4, ".sql") == 0) ||
	         (n > 7 && strcmp(o->output + n - 7, ".sqlite") == 0) ||
	         (n > 3 && strcmp(o->output + n - 3, ".db") == 0))
		want = COMPRESS_NONE;
	if (want != spec->kind) {
		spec->kind = want;
		spec->level = want == COMPRESS_ZSTD ? COMPRESS_ZSTD_DEFAULT_LEVEL
		            : want == COMPRESS_GZIP ? COMPRESS_GZIP_DEFAULT_LEVEL : 0;
	}
}

/* Refuse to start when the output's file system cannot hold the snapshot
 * as far as the database size lets us guess: compressed dumps are far
 * smaller than the database, so half of it is a generous estimate. */
static int check_space(const char *dir, struct snapshot_job *job, const struct compress_spec *spec,
                       const char *what)
{
	long long size = snapshot_size_estimate(job);
	struct statvfs vfs;
	if (size <= 0 || statvfs(dir, &vfs) < 0)
		return 0;
	unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	unsigned long long need = (unsigned long long)(spec->kind == COMPRESS_NONE ? size : size / 2)
	                        + (unsigned long long)snapshot_scratch_bytes(job) + (1u << 20);
	if (avail >= need)
		return 0;
	char a[32], nd[32], s[32];
	error("not enough free space in '%s' for a snapshot of '%s': %s free, about %s needed "
	      "(database size %s); free some space, remove old snapshots with --prune, "
	      "or write elsewhere with -o FILE", dir, what, human_bytes(avail, a, sizeof a),
	      human_bytes(need, nd, sizeof nd), human_bytes((unsigned long long)size, s, sizeof s));
	return -1;
}

static int isatty_path(const char *path)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int tty = fd >= 0 && isatty(fd);
	if (fd >= 0)
		close(fd);
	return tty;
}

/* Metadata into a file: replaced atomically when it is a regular file (or
 * does not exist yet), written as it is when it is a device or a pipe —
 * renaming over /dev/null would replace the device itself. */
static int write_meta_file(const char *path, const char *text)
{
	struct stat st;
	if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
		return atomic_write_file(path, text, strlen(text), 0600);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = write_all(fd, text, strlen(text));
	int e = errno;
	if (close(fd) < 0 && rc == 0)
		return -1;
	errno = e;
	return rc;
}

static int write_meta(const char *path, const struct snapshot_meta *m)
{
	char *text = store_meta_format(m);
	int rc = write_meta_file(path, text);
	int e = errno;
	free(text);
	errno = e;
	return rc;
}

static char *sanitized_label(const char *label)
{
	if (!label || !*label)
		return NULL;
	/* The name's rules; the metadata records what the name says. */
	char *name = store_snapshot_name("x", 0, label, "sql");
	char *l = NULL;
	store_parse_name(name, NULL, NULL, &l, NULL);
	free(name);
	return l;
}

static int take_volume_snapshot(struct ctx *cx, const struct opts *o)
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

static int take_snapshot(struct ctx *cx, const struct opts *o)
{
	if (o->volume)
		return take_volume_snapshot(cx, o);
	struct target *t = primary(cx, o);
	struct compress_spec spec;
	choose_compression(o, &spec);
	/* A stream: standard output, or an -o that names a device or a pipe
	 * (/dev/null, /dev/stdout, a FIFO), written as it is, never replaced. */
	int to_stdout = o->output && strcmp(o->output, "-") == 0;
	struct stat ost;
	int direct = to_stdout || (o->output && stat(o->output, &ost) == 0 && !S_ISREG(ost.st_mode));
	const char *out_name = to_stdout ? "standard output" : o->output;
	if ((to_stdout && term_is_tty(1)) || (direct && !to_stdout && S_ISCHR(ost.st_mode) &&
	                                      isatty_path(o->output)))
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
	char *label = sanitized_label(o->label);
	int lock = -1, fd = -1;
	char *path = NULL, *meta_path = NULL, *tmp = NULL, *scratch = NULL;
	struct compressor *comp = NULL;
	struct snapshot_result res = { 0 };
	struct snapshot_meta m = { 0 };
	time_t created = time(NULL);
	rc = DG_NO;
	verbose("%s %s, server %s", snapshot_engine(job), dbkey, snapshot_server_version(job));

	if (!o->output) {
		if (store_ensure(cx->store) < 0) {
			error("cannot create the snapshot store '%s':", cx->store);
			goto out;
		}
		lock = store_lock(cx->store, dbkey, 0);
		if (lock < 0 && errno == EWOULDBLOCK) {
			info("waiting for another snapshot or restore of '%s' to finish", dbkey);
			lock = store_lock(cx->store, dbkey, LOCK_WAIT_SECONDS);
		}
		if (lock < 0) {
			if (errno == EWOULDBLOCK)
				error("another snapshot or restore of '%s' has held the store's lock for "
				      "%d seconds; try again when it is done", dbkey, LOCK_WAIT_SECONDS);
			else
				error("cannot lock '%s/.lock.%s':", cx->store, dbkey);
			goto out;
		}
		store_clean_stale(cx->store, dbkey);
		if (check_space(cx->store, job, &spec, dbkey) < 0)
			goto out;
		char *ext = xasprintf("%s%s", strcmp(snapshot_engine(job), "sqlite") == 0 ? "sqlite" : "sql",
		                      compress_suffix(spec.kind));
		/* Names have whole seconds: a second snapshot within the same
		 * second waits for the next one rather than replace the first. */
		for (int tries = 0;; tries++) {
			created = time(NULL);
			char *name = store_snapshot_name(dbkey, created, label, ext);
			free(path);
			free(meta_path);
			path = path_join(cx->store, name);
			meta_path = xasprintf("%s.meta", path);
			free(name);
			if ((!file_exists(path) && !file_exists(meta_path)) || tries == 3)
				break;
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec = 0;
			ts.tv_nsec = 1000000000L - ts.tv_nsec;
			nanosleep(&ts, NULL);
		}
		free(ext);
		scratch = xstrdup(path);
	} else if (!direct) {
		path = xstrdup(o->output);
		meta_path = o->meta ? xstrdup(o->meta) : xasprintf("%s.meta", path);
		char *dir = path_dir(path);
		if (check_space(dir, job, &spec, dbkey) < 0) {
			free(dir);
			goto out;
		}
		free(dir);
		scratch = xstrdup(path);
	} else {
		const char *tmpdir = getenv("TMPDIR");
		scratch = path_join(tmpdir && *tmpdir ? tmpdir : "/tmp", "db-snap");
	}

	if (to_stdout) {
		fd = 1;
	} else if (direct) {
		fd = open(o->output, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			error("cannot open '%s':", o->output);
			goto out;
		}
	} else {
		fd = make_temp_beside(path, &tmp, 0600);
		if (fd < 0) {
			error("cannot create a temporary file beside '%s':", path);
			goto out;
		}
		snapshot_guard_path(tmp, 0);
	}
	comp = compressor_open(fd, spec.kind, spec.level);
	if (!comp) {
		error("cannot start %s compression:", compress_name(spec.kind));
		goto out;
	}
	struct progress_arg pa;
	long long est = snapshot_size_estimate(job);
	progress_start(&pa.p, dbkey, est > 0 ? (unsigned long long)est : 0);
	rc = snapshot_run(job, comp, scratch, on_progress, &pa, &res, err, sizeof err);
	progress_end(&pa.p);
	if (rc != DG_OK) {
		compressor_abort(comp);
		comp = NULL;
		if (res.write_errno)
			error("cannot write '%s': %s", direct ? out_name : path, strerror(res.write_errno));
		else
			error("%s", err);
		rc = DG_NO;
		goto out;
	}
	struct compress_result cres;
	int cr = compressor_close(comp, &cres);
	comp = NULL;
	if (cr < 0) {
		error("cannot write '%s':", direct ? out_name : path);
		rc = DG_NO;
		goto out;
	}
	rc = DG_NO;
	if (!direct) {
		struct stat st;
		if (fsync(fd) < 0 || fstat(fd, &st) < 0) {
			error("cannot write '%s':", path);
			goto out;
		}
		if ((unsigned long long)st.st_size != cres.out_bytes) {
			error("cannot write '%s': %llu bytes on disk, %llu written", path,
			      (unsigned long long)st.st_size, cres.out_bytes);
			goto out;
		}
		if (close(fd) < 0) {
			fd = -1;
			error("cannot write '%s':", path);
			goto out;
		}
		fd = -1;
	}

	const char *db = target_get(t, TF_DATABASE);
	char *real = strcmp(snapshot_engine(job), "sqlite") == 0 ? realpath(db, NULL) : NULL;
	m.engine = xstrdup(snapshot_engine(job));
	m.server_version = xstrdup(snapshot_server_version(job));
	m.database = xstrdup(real ? real : db);
	free(real);
	m.host = xstrdup(target_host(t) ? target_host(t) : "");
	m.port = target_port(t);
	m.created = created;
	m.dbguard_version = xstrdup(DBGUARD_VERSION);
	m.label = xstrdup(label ? label : "");
	m.reason = xstrdup(o->reason ? o->reason : "");
	m.compression = xstrdup(compress_name(spec.kind));
	m.raw_bytes = cres.raw_bytes;
	m.size = cres.out_bytes;
	m.sha256 = xstrdup(cres.sha256);
	m.tables = res.counts;
	res.counts.v = NULL;
	res.counts.n = 0;
	for (size_t i = 0; i < m.tables.n; i++)
		m.rows += m.tables.v[i].rows;

	if (direct) {
		char *text = store_meta_format(&m);
		int bad = o->meta ? write_meta_file(o->meta, text) : write_all(2, text, strlen(text));
		if (bad < 0 && o->meta)
			error("cannot write '%s':", o->meta);
		free(text);
		if (bad < 0)
			goto out;
		rc = DG_OK;
		goto out;
	}

	/* Rename, then the metadata: a data file without metadata is never
	 * taken for a snapshot, and a signal now removes both. */
	struct stat mst;
	int meta_is_file = stat(meta_path, &mst) < 0 || S_ISREG(mst.st_mode);
	snapshot_guard_hold(1);
	snapshot_guard_path(path, 0);
	if (meta_is_file)
		snapshot_guard_path(meta_path, 0);
	if ((o->output ? rename(tmp, path) : rename_noreplace(tmp, path)) < 0) {
		error("cannot rename '%s' to '%s':", tmp, path);
	} else if (fsync_dir_of(path) < 0 || write_meta(meta_path, &m) < 0) {
		error("cannot write '%s':", meta_path);
		unlink(path);
		if (meta_is_file)
			unlink(meta_path);
	} else {
		rc = DG_OK;
	}
	snapshot_guard_forget(path);
	snapshot_guard_forget(meta_path);
	snapshot_guard_hold(0);
	if (rc != DG_OK)
		goto out;
	if (msg_verbosity >= 2) {
		char sz[32], raw[32];
		verbose("%zu tables, %lld rows; %s (%s uncompressed)", m.tables.n, m.rows,
		        human_bytes(m.size, sz, sizeof sz), human_bytes(m.raw_bytes, raw, sizeof raw));
	}
	printf("%s\n", path);
out:
	if (comp)
		compressor_abort(comp);
	if (fd > 2)
		close(fd);
	if (tmp) {
		unlink(tmp);
		snapshot_guard_forget(tmp);
		free(tmp);
	}
	store_unlock(lock);
	snapshot_result_free(&res);
	store_meta_free(&m);
	snapshot_close(job);
	free(dbkey);
	free(label);
	free(path);
	free(meta_path);
	free(scratch);
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

/* An operand names a file, or a snapshot in the store by its name. */
static char *operand_path(const struct ctx *cx, const char *arg)
{
	size_t n = strlen(arg);
	char *p = n > 5 && strcmp(arg + n - 5, ".meta") == 0 ? xstrndup(arg, n - 5) : xstrdup(arg);
	if (!file_exists(p) && !strchr(p, '/')) {
		char *in_store = path_join(cx->store, p);
		if (file_exists(in_store)) {
			free(p);
			return in_store;
		}
		free(in_store);
	}
	return p;
}

static int do_verify(struct ctx *cx, const struct opts *o, char **operands, int nops)
{
	struct strvec paths = STRVEC_INIT;
	char *dbkey = NULL;
	if (nops > 0) {
		for (int i = 0; i < nops; i++)
			sv_push_owned(&paths, operand_path(cx, operands[i]));
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
	size_t bad = 0;
	for (size_t i = 0; i < paths.n; i++) {
		char err[512];
		struct snapshot_meta m;
		if (store_verify(paths.v[i], &m, err, sizeof err) == 0) {
			if (msg_verbosity >= 1)
				printf("%s: OK\n", paths.v[i]);
		} else {
			printf("%s: FAILED\n", paths.v[i]);
			fflush(stdout);
			error("'%s' failed verification: %s", paths.v[i], err);
			bad++;
		}
		store_meta_free(&m);
	}
	if (bad && paths.n > 1)
		error("%zu of %zu snapshots failed verification", bad, paths.n);
	sv_free(&paths);
	free(dbkey);
	return bad ? DG_INTEGRITY : DG_OK;
}

static int do_prune(struct ctx *cx, const struct opts *o)
{
	struct prune_policy p = o->policy;
	if (!o->policy_given)
		p.keep_last = config_get_long("db-snap", "keep", 30);
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
	struct snapshot_list l;
	if (t)
		store_list_target(cx->store, t, &l);
	else if (dbkey)
		volsnap_list(cx->store, o->volume, &l);
	else
		store_list(cx->store, NULL, &l);
	char **keep = xcalloc(l.n ? l.n : 1, sizeof *keep);
	store_prune_plan(&l, &p, time(NULL), keep);
	size_t gone = 0, failed = 0;
	unsigned long long bytes = 0;
	for (size_t i = 0; i < l.n; i++) {
		const struct snapshot *s = &l.v[i];
		if (keep[i]) {
			verbose("keep %s (%s)", s->name, keep[i]);
			continue;
		}
		if (!o->dry_run && store_remove(s) < 0) {
			error("cannot remove '%s':", s->path);
			failed++;
			continue;
		}
		printf("%s\n", s->path);
		gone++;
		bytes += s->meta.size;
	}
	char b[32];
	info("%s %zu snapshot%s (%s), kept %zu", o->dry_run ? "would remove" : "removed", gone,
	     gone == 1 ? "" : "s", human_bytes(bytes, b, sizeof b), l.n - gone - failed);
	for (size_t i = 0; i < l.n; i++)
		free(keep[i]);
	free(keep);
	snapshot_list_free(&l);
	store_unlock(lock);
	free(dbkey);
	return failed ? DG_NO : DG_OK;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	enum { OPT_URL = 256, OPT_TEST_RUN, OPT_TARGET, OPT_LABEL, OPT_REASON, OPT_COMPRESS, OPT_META, OPT_LIST,
	       OPT_LATEST, OPT_VERIFY, OPT_PRUNE, OPT_ALL, OPT_FORMAT, OPT_KEEP, OPT_KEEP_DAYS,
	       OPT_KEEP_HOURLY, OPT_KEEP_DAILY, OPT_KEEP_WEEKLY, OPT_KEEP_MONTHLY, OPT_PRUNE_LABELLED,
	       OPT_DRY_RUN, OPT_VERSION, OPT_VOLUME };
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
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .mode = MODE_SNAP, .format = -1, .target = 1, .policy = PRUNE_POLICY_INIT };
	int retention = 0, opt;
	while ((opt = getopt_long(argc, argv, "qvhC:o:", longopts, NULL)) != -1) {
		enum mode m = MODE_SNAP;
		switch (opt) {
		case OPT_URL: o.url = optarg; break;
		case OPT_VOLUME: o.volume = optarg; break;
		case OPT_TEST_RUN: o.test_run = 1; break;
		case OPT_TARGET:
			o.target = parse_count("--target", optarg);
			if (o.target < 1) {
				error("--target counts from 1 (the primary database)");
				usage(DG_USAGE);
			}
			break;
		case OPT_LABEL: o.label = optarg; break;
		case OPT_REASON: o.reason = optarg; break;
		case OPT_COMPRESS: o.compress = optarg; break;
		case 'o': o.output = optarg; break;
		case OPT_META: o.meta = optarg; break;
		case OPT_LIST: m = MODE_LIST; break;
		case OPT_LATEST: m = MODE_LATEST; break;
		case OPT_VERIFY: m = MODE_VERIFY; break;
		case OPT_PRUNE: m = MODE_PRUNE; break;
		case OPT_ALL: o.all = 1; break;
		case OPT_FORMAT:
			o.format = out_format_parse(optarg);
			if (o.format != FMT_HUMAN && o.format != FMT_TSV && o.format != FMT_JSON) {
				error("unknown format '%s'; use human, tsv or json", optarg);
				usage(DG_USAGE);
			}
			break;
		case OPT_KEEP: o.policy.keep_last = parse_count("--keep", optarg); retention = o.policy_given = 1; break;
		case OPT_KEEP_DAYS: o.policy.keep_days = parse_count("--keep-days", optarg); retention = o.policy_given = 1; break;
		case OPT_KEEP_HOURLY: o.policy.keep_hourly = parse_count("--keep-hourly", optarg); retention = o.policy_given = 1; break;
		case OPT_KEEP_DAILY: o.policy.keep_daily = parse_count("--keep-daily", optarg); retention = o.policy_given = 1; break;
		case OPT_KEEP_WEEKLY: o.policy.keep_weekly = parse_count("--keep-weekly", optarg); retention = o.policy_given = 1; break;
		case OPT_KEEP_MONTHLY: o.policy.keep_monthly = parse_count("--keep-monthly", optarg); retention = o.policy_given = 1; break;
		case OPT_PRUNE_LABELLED: o.policy.prune_labelled = retention = 1; break;
		case OPT_DRY_RUN: o.dry_run = 1; break;
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
		if (m != MODE_SNAP) {
			if (o.mode_set && o.mode != m) {
				error("--list, --latest, --verify and --prune go one at a time");
				usage(DG_USAGE);
			}
			o.mode = m;
			o.mode_set = 1;
		}
	}
	if (optind < argc && o.mode != MODE_VERIFY) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	if ((retention || o.dry_run) && o.mode != MODE_PRUNE) {
		error("the retention options and --dry-run go with --prune");
		usage(DG_USAGE);
	}
	if (o.format >= 0 && o.mode != MODE_LIST) {
		error("--format goes with --list");
		usage(DG_USAGE);
	}
	if (o.all && (o.mode == MODE_SNAP || o.mode == MODE_LATEST)) {
		error("--all goes with --list, --verify and --prune");
		usage(DG_USAGE);
	}
	if (o.volume && (o.url || o.test_run || o.target != 1 || o.output || o.meta)) {
		error("--volume goes without --url, --test-run, --target, -o and --meta");
		usage(DG_USAGE);
	}
	if (o.label && strlen(o.label) > 64) {
		error("--label: at most 64 characters, it goes into file names");
		usage(DG_USAGE);
	}
	if (o.mode != MODE_SNAP && (o.output || o.meta || o.label || o.reason || o.compress)) {
		error("-o, --meta, --label, --reason and --compress go with taking a snapshot");
		usage(DG_USAGE);
	}

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
	case MODE_LIST: status = do_list(&cx, &o); break;
	case MODE_LATEST: status = do_latest(&cx, &o); break;
	case MODE_VERIFY: status = do_verify(&cx, &o, argv + optind, argc - optind); break;
	case MODE_PRUNE: status = do_prune(&cx, &o); break;
	default: status = take_snapshot(&cx, &o); break;
	}
	if (cx.resolved)
		target_list_free(&cx.targets);
	free(cx.project);
	free(cx.store);
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	return status;
}
