/* snapshot.c — see snapshot.h: open a snapshot job (engine, server version,
 * size, dump program) and run it through the engine's file (pg.c, mysql.c,
 * sqlite.c).
 * Row counts come from the dump stream itself: COPY blocks of pg_dump (one
 * line per row up to "\."), the tuples of mariadb-dump's INSERT statements,
 * and for SQLite the backup copy.  What is counted is therefore exactly
 * what was dumped, however busy the database was. */
#include "snap/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "snap/guard.h"
#include "snap/impl.h"
#include "store/meta.h"

void snap_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- opening: connect, version, size, dump program ---- */

int snapshot_open(const struct target *t, struct snapshot_job **out, char *err, size_t errlen)
{
	*out = NULL;
	const char *engine = target_get(t, TF_ENGINE);
	enum engine_kind kind;
	if (engine && strcmp(engine, "postgres") == 0)
		kind = ENG_PG;
	else if (engine && strcmp(engine, "mysql") == 0)
		kind = ENG_MY;
	else if (engine && strcmp(engine, "sqlite") == 0)
		kind = ENG_LITE;
	else {
		snap_err(err, errlen, "cannot snapshot a database whose engine is %s%s%s",
		           engine ? "'" : "", engine ? engine : "unknown", engine ? "'" : "");
		return DG_USAGE;
	}
	if (kind == ENG_LITE && target_get(t, TF_DATABASE) &&
	    strcmp(target_get(t, TF_DATABASE), ":memory:") == 0) {
		snap_err(err, errlen, "cannot snapshot an in-memory SQLite database");
		return DG_USAGE;
	}
	struct dbconn *c;
	int rc = db_connect(t, &c, err, errlen);
	if (rc != DG_OK)
		return rc;
	struct snapshot_job *j = xcalloc(1, sizeof *j);
	j->kind = kind;
	target_copy(&j->t, t);
	j->version = xstrdup(db_server_version(c));
	j->size = db_size(c, NULL, 0);
	/* Kept open: PostgreSQL's holds the exported snapshot, and every
	 * engine's reads the fingerprints around the dump. */
	j->conn = c;
	if (kind == ENG_PG) {
		rc = snap_find_pg_dump(j, db_server_major(c), err, errlen);
		if (rc == DG_OK)
			verbose("dump program: %s", j->prog);
	} else {
		if (kind == ENG_MY) {
			const char *names[] = { "mariadb-dump", "mysqldump", NULL };
			j->prog = find_on_path(names);
			if (!j->prog) {
				snap_err(err, errlen, "mariadb-dump not found; install the Debian package "
				           "mariadb-client (or put mariadb-dump or mysqldump on PATH)");
				rc = DG_NO;
			} else {
				verbose("dump program: %s", j->prog);
			}
		}
	}
	if (rc != DG_OK) {
		snapshot_close(j);
		return rc;
	}
	*out = j;
	return DG_OK;
}

const char *snapshot_engine(const struct snapshot_job *j)
{
	return j->kind == ENG_PG ? "postgres" : j->kind == ENG_MY ? "mysql" : "sqlite";
}

const char *snapshot_server_version(const struct snapshot_job *j) { return j->version; }
/* The database's size in bytes (what a snapshot may grow to), -1 if unknown. */
static long long snapshot_size_estimate(const struct snapshot_job *j) { return j->size; }

/* Bytes of scratch space the snapshot needs besides its output (the SQLite
 * copy). */
static long long snapshot_scratch_bytes(const struct snapshot_job *j)
{
	return j->kind == ENG_LITE && j->size > 0 ? j->size : 0;
}

void snapshot_close(struct snapshot_job *j)
{
	if (!j)
		return;
	db_close(j->conn);
	target_free(&j->t);
	free(j->version);
	free(j->prog);
	free(j->tmp_beside);
	free(j);
}

void snapshot_result_free(struct snapshot_result *res)
{
	table_counts_free(&res->counts);
	free(res->fingerprint);
	free(res->fingerprint_why);
	res->fingerprint = res->fingerprint_why = NULL;
}

void snapshot_fingerprint(struct snapshot_job *j, char **fp, char **why)
{
	char err[512];
	if (db_fingerprint(j->conn, 0, fp, why, err, sizeof err) < 0)
		*why = xasprintf("cannot read the change signals: %s", err);
}

void snap_fingerprint_before(struct snapshot_job *j, struct snapshot_result *res)
{
	char err[512];
	if (db_fingerprint(j->conn, 1, &res->fingerprint, &res->fingerprint_why, err, sizeof err) < 0)
		res->fingerprint_why = xasprintf("cannot read the change signals: %s", err);
}

void snap_fingerprint_after(struct snapshot_job *j, struct snapshot_result *res)
{
	char err[512], *fp = NULL, *why = NULL;
	if (!res->fingerprint)
		return;
	if (db_fingerprint(j->conn, 0, &fp, &why, err, sizeof err) < 0 || !fp ||
	    strcmp(fp, res->fingerprint) != 0) {
		free(res->fingerprint);
		res->fingerprint = NULL;
		free(res->fingerprint_why);
		res->fingerprint_why = xstrdup("the database changed while it was being dumped");
	}
	free(fp);
	free(why);
}

int snapshot_copy(struct snapshot_job *j, const char *out_path, const char **how,
                  struct snapshot_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	if (j->kind != ENG_LITE) {
		snap_err(err, errlen, "only a SQLite database is copied as it is");
		return DG_USAGE;
	}
	snap_fingerprint_before(j, res);
	int rc = snap_lite_copy(target_get(&j->t, TF_DATABASE), out_path, 1, how, &res->write_errno,
	                        err, errlen);
	if (rc == DG_OK) {
		snap_fingerprint_after(j, res);
		struct target ct = { 0 };
		target_set(&ct, TF_ENGINE, "sqlite", "snapshot");
		target_set(&ct, TF_DATABASE, out_path, "snapshot");
		struct dbconn *dc;
		rc = db_connect(&ct, &dc, err, errlen);
		target_free(&ct);
		if (rc == DG_OK) {
			rc = db_tables(dc, &res->counts, err, errlen) < 0 ? DG_NO : DG_OK;
			db_close(dc);
		} else {
			rc = DG_NO;
		}
	}
	/* Opening the copy may have left these beside it. */
	char *side = xasprintf("%s-wal", out_path);
	unlink(side);
	free(side);
	side = xasprintf("%s-shm", out_path);
	unlink(side);
	free(side);
	if (rc != DG_OK)
		snapshot_result_free(res);
	return rc;
}

int snap_by_name(const void *a, const void *b)
{
	return strcmp(((const struct table_count *)a)->name, ((const struct table_count *)b)->name);
}

/* Dump into c.  progress, if not NULL, is told the uncompressed bytes
 * produced so far.  DG_OK with res filled, or DG_NO with one line in err
 * (and res->write_errno set when the output could not be written). */
static int snapshot_run(struct snapshot_job *j, struct compressor *c, const char *tmp_beside,
                        void (*progress)(void *arg, unsigned long long raw), void *arg,
                        struct snapshot_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	free(j->tmp_beside);
	j->tmp_beside = xstrdup(tmp_beside);
	struct observer ob = { .progress = progress, .arg = arg };
	switch (j->kind) {
	case ENG_PG: return snap_pg_run(j, c, &ob, res, err, errlen);
	case ENG_MY: return snap_my_run(j, c, &ob, res, err, errlen);
	default: return snap_lite_run(j, c, &ob, res, err, errlen);
	}
}

/* ---- writing a snapshot: space, the compression pipeline, the commit ---- */

/* Compressed dumps are far smaller than the database, so half of it is a
 * generous estimate. */
int snapshot_check_space(const struct snapshot_job *j, const char *dir,
                         const struct compress_spec *spec, const char *what)
{
	long long size = snapshot_size_estimate(j);
	struct statvfs vfs;
	if (size <= 0 || statvfs(dir, &vfs) < 0)
		return 0;
	unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	unsigned long long need = (unsigned long long)(spec->kind == COMPRESS_NONE ? size : size / 2)
	                        + (unsigned long long)snapshot_scratch_bytes(j) + (1u << 20);
	if (avail >= need)
		return 0;
	char a[32], nd[32], s[32];
	error("not enough free space in '%s' for a snapshot of '%s': %s free, about %s needed "
	      "(database size %s); free some space, remove old snapshots with --prune, "
	      "or write elsewhere with -o FILE", dir, what, human_bytes(avail, a, sizeof a),
	      human_bytes(need, nd, sizeof nd), human_bytes((unsigned long long)size, s, sizeof s));
	return -1;
}

void snapshot_expect_bytes(struct snapshot_job *j, unsigned long long raw)
{
	j->expect = raw;
}

static void on_progress(void *arg, unsigned long long raw)
{
	progress_update(arg, raw);
}

int snapshot_write(struct snapshot_job *j, int fd, const struct compress_spec *spec,
                   const char *scratch, const char *label, const char *shown, int is_file,
                   struct compress_result *cres, struct snapshot_result *res)
{
	struct compressor *comp = compressor_open(fd, spec->kind, spec->level);
	if (!comp) {
		error("cannot start %s compression:", compress_name(spec->kind));
		return DG_NO;
	}
	char err[512];
	struct progress p;
	/* A dump is much smaller than the database it comes from: its percentage
	 * is of the last dump's size, so it reaches 100; a SQLite file is
	 * copied whole. */
	long long est = j->kind == ENG_LITE ? snapshot_size_estimate(j) : 0;
	progress_start(&p, label, j->expect ? j->expect : est > 0 ? (unsigned long long)est : 0);
	int rc = snapshot_run(j, comp, scratch, on_progress, &p, res, err, sizeof err);
	progress_end(&p);
	if (rc != DG_OK) {
		compressor_abort(comp);
		if (res->write_errno)
			error("cannot write '%s': %s", shown, strerror(res->write_errno));
		else
			error("%s", err);
		return DG_NO;
	}
	if (compressor_close(comp, cres) < 0) {
		error("cannot write '%s':", shown);
		return DG_NO;
	}
	fault_point("snap.written");
	if (!is_file)
		return DG_OK;
	struct stat st;
	if (fsync(fd) < 0 || fstat(fd, &st) < 0) {
		error("cannot write '%s':", shown);
		return DG_NO;
	}
	if ((unsigned long long)st.st_size != cres->out_bytes) {
		error("cannot write '%s': %llu bytes on disk, %llu written", shown,
		      (unsigned long long)st.st_size, cres->out_bytes);
		return DG_NO;
	}
	return DG_OK;
}

void snapshot_describe(const struct snapshot_job *j, time_t created, const char *label,
                       const char *reason, enum compress_kind kind,
                       const struct compress_result *cres, struct snapshot_result *res,
                       struct snapshot_meta *m)
{
	const struct target *t = &j->t;
	const char *db = target_get(t, TF_DATABASE);
	char *real = j->kind == ENG_LITE ? realpath(db, NULL) : NULL;
	memset(m, 0, sizeof *m);
	m->engine = xstrdup(snapshot_engine(j));
	m->server_version = xstrdup(snapshot_server_version(j));
	m->database = xstrdup(real ? real : db);
	free(real);
	m->host = xstrdup(target_host(t) ? target_host(t) : "");
	m->port = target_port(t);
	m->created = created;
	m->dbguard_version = xstrdup(DBGUARD_VERSION);
	m->label = xstrdup(label ? label : "");
	m->reason = xstrdup(reason ? reason : "");
	m->compression = xstrdup(compress_name(kind));
	m->raw_bytes = cres->raw_bytes;
	m->size = cres->out_bytes;
	m->sha256 = xstrdup(cres->sha256);
	m->fingerprint = res->fingerprint;
	res->fingerprint = NULL;
	if (!m->fingerprint)
		verbose("no fingerprint recorded: %s", res->fingerprint_why ? res->fingerprint_why : "unknown");
	m->tables = res->counts;
	res->counts.v = NULL;
	res->counts.n = 0;
	for (size_t i = 0; i < m->tables.n; i++)
		m->rows += m->tables.v[i].rows;
}

int snapshot_commit(const char *tmp, const char *path, const char *meta_path, int replace,
                    const struct snapshot_meta *m)
{
	int rc = DG_NO;
	struct stat mst;
	int meta_is_file = stat(meta_path, &mst) < 0 || S_ISREG(mst.st_mode);
	snapshot_guard_hold(1);
	snapshot_guard_path(path, 0);
	if (meta_is_file)
		snapshot_guard_path(meta_path, 0);
	if ((replace ? rename(tmp, path) : rename_noclobber(tmp, path)) < 0) {
		error("cannot rename '%s' to '%s':", tmp, path);
	} else if (fsync_dir_of(path) < 0 || (fault_point("snap.renamed"), store_meta_write(meta_path, m)) < 0) {
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
	if (rc == DG_OK)
		fault_point("snap.committed");
	return rc;
}
