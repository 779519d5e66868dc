/* snapshot.c — see snapshot.h: open a snapshot job (engine, server version,
 * size, dump program) and run it through the engine's file (pg.c, mysql.c,
 * sqlite.c).
 * Row counts come from the dump stream itself: COPY blocks of pg_dump (one
 * line per row up to "\."), the tuples of mariadb-dump's INSERT statements,
 * and for SQLite the backup copy.  What is counted is therefore exactly
 * what was dumped, however busy the database was. */
#include "snap/snapshot.h"
#include "snap/impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/xalloc.h"

void set_err(char *err, size_t errlen, const char *fmt, ...)
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
		set_err(err, errlen, "cannot snapshot a database whose engine is %s%s%s",
		           engine ? "'" : "", engine ? engine : "unknown", engine ? "'" : "");
		return DG_USAGE;
	}
	if (kind == ENG_LITE && target_get(t, TF_DATABASE) &&
	    strcmp(target_get(t, TF_DATABASE), ":memory:") == 0) {
		set_err(err, errlen, "cannot snapshot an in-memory SQLite database");
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
	if (kind == ENG_PG) {
		rc = find_pg_dump(j, db_server_major(c), err, errlen);
		j->conn = c;
		if (rc == DG_OK)
			verbose("dump program: %s", j->prog);
	} else {
		db_close(c);
		if (kind == ENG_MY) {
			const char *names[] = { "mariadb-dump", "mysqldump", NULL };
			j->prog = find_on_path(names);
			if (!j->prog) {
				set_err(err, errlen, "mariadb-dump not found; install the Debian package "
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
long long snapshot_size_estimate(const struct snapshot_job *j) { return j->size; }

long long snapshot_scratch_bytes(const struct snapshot_job *j)
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
}

int by_name(const void *a, const void *b)
{
	return strcmp(((const struct table_count *)a)->name, ((const struct table_count *)b)->name);
}

int snapshot_run(struct snapshot_job *j, struct compressor *c, const char *tmp_beside,
                 void (*progress)(void *arg, unsigned long long raw), void *arg,
                 struct snapshot_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	free(j->tmp_beside);
	j->tmp_beside = xstrdup(tmp_beside);
	struct observer ob = { .progress = progress, .arg = arg };
	switch (j->kind) {
	case ENG_PG: return pg_run(j, c, &ob, res, err, errlen);
	case ENG_MY: return my_run(j, c, &ob, res, err, errlen);
	default: return lite_run(j, c, &ob, res, err, errlen);
	}
}
