/* engine.c — the engine interface (engine.h): picks the adapter for a
 * target's engine and holds what the engines share: exact row counts in one
 * read snapshot, and the dbguard_marker table of MySQL and SQLite. */
#include "engine/engine.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/impl.h"
#include "base/checksum.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/xalloc.h"

static const struct engine_ops *ops_for(const struct target *t, char *err, size_t errlen)
{
	const char *e = target_get(t, TF_ENGINE);
	if (!e) {
		engine_err(err, errlen, "no database engine given");
		return NULL;
	}
	if (strcmp(e, "postgres") == 0)
		return &engine_pg_ops;
	if (strcmp(e, "mysql") == 0)
		return &engine_mysql_ops;
	if (strcmp(e, "sqlite") == 0)
		return &engine_sqlite_ops;
	engine_err(err, errlen, "unknown database engine '%s'", e);
	return NULL;
}

static int do_connect(const struct target *t, int admin, struct dbconn **out,
                      char *err, size_t errlen)
{
	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	const struct engine_ops *ops = ops_for(t, err, errlen);
	if (!ops)
		return DG_USAGE;
	int rc = ops->connect(t, admin, out, err, errlen);
	if (rc != DG_OK)
		engine_scrub(err, errlen, target_get(t, TF_PASSWORD));
	return rc;
}

int db_connect(const struct target *t, struct dbconn **out, char *err, size_t errlen)
{
	return do_connect(t, 0, out, err, errlen);
}

int db_connect_admin(const struct target *t, struct dbconn **out, char *err, size_t errlen)
{
	return do_connect(t, 1, out, err, errlen);
}

void db_close(struct dbconn *c)
{
	if (c)
		c->ops->close(c);
}

const char *db_engine(const struct dbconn *c) { return c->ops->name; }
const char *db_server_version(struct dbconn *c) { return c->ops->version(c); }
int db_server_major(struct dbconn *c) { return c->ops->major(c); }

long long db_size(struct dbconn *c, char *err, size_t errlen)
{
	return c->ops->size(c, err, errlen);
}

int db_exec(struct dbconn *c, const char *sql, char *err, size_t errlen)
{
	return c->ops->exec(c, sql, err, errlen);
}

int db_query_value(struct dbconn *c, const char *sql, char **value, char *err, size_t errlen)
{
	*value = NULL;
	return c->ops->query_value(c, sql, value, err, errlen);
}

char *db_quote_ident(struct dbconn *c, const char *name) { return c->ops->quote_ident(c, name); }
char *db_quote_literal(struct dbconn *c, const char *value) { return c->ops->quote_literal(c, value); }

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct table_count *)a)->name, ((const struct table_count *)b)->name);
}

int db_tables(struct dbconn *c, struct table_counts *out, char *err, size_t errlen)
{
	struct strvec names = STRVEC_INIT, refs = STRVEC_INIT;
	int rc = -1;
	memset(out, 0, sizeof *out);
	/* Counts taken one after another in autocommit mode could each see a
	 * different moment; a caller's own transaction is left alone. */
	int own = !c->ops->in_transaction(c);
	if (own && c->ops->exec(c, c->ops->begin_read_sql, err, errlen) < 0)
		return -1;
	if (c->ops->list_tables(c, &names, &refs, err, errlen) < 0)
		goto out;
	out->v = xcalloc(names.n, sizeof *out->v);
	for (size_t i = 0; i < names.n; i++) {
		char *sql = xasprintf("SELECT count(*) FROM %s", refs.v[i]);
		char *val = NULL;
		int q = c->ops->query_value(c, sql, &val, err, errlen);
		free(sql);
		if (q < 0) {
			free(val);
			goto out;
		}
		out->v[out->n].name = xstrdup(names.v[i]);
		out->v[out->n].rows = val ? strtoll(val, NULL, 10) : 0;
		out->n++;
		free(val);
	}
	qsort(out->v, out->n, sizeof *out->v, by_name);
	rc = 0;
out:
	if (own)
		c->ops->exec(c, "ROLLBACK", NULL, 0);
	sv_free(&names);
	sv_free(&refs);
	if (rc < 0)
		table_counts_free(out);
	return rc;
}


long db_table_count(struct dbconn *c, char *err, size_t errlen)
{
	struct strvec names = STRVEC_INIT, refs = STRVEC_INIT;
	long n = c->ops->list_tables(c, &names, &refs, err, errlen) < 0 ? -1 : (long)names.n;
	sv_free(&names);
	sv_free(&refs);
	return n;
}

static int marker_valid(const char *m)
{
	size_t n = strlen(m);
	if (n == 0 || n > 32)
		return 0;
	for (; *m; m++)
		if (*m < 'a' || *m > 'z')
			return 0;
	return 1;
}

static int table_marker_read(struct dbconn *c, char **marker, char *err, size_t errlen)
{
	int e = c->ops->table_exists(c, "dbguard_marker", err, errlen);
	if (e <= 0)
		return e;
	char *v = NULL;
	if (c->ops->query_value(c, "SELECT class FROM dbguard_marker", &v, err, errlen) < 0)
		return -1;
	if (v && !*v) {
		free(v);
		v = NULL;
	}
	*marker = v;
	return 0;
}

static int table_marker_write(struct dbconn *c, const char *marker, char *err, size_t errlen)
{
	if (!marker)
		return c->ops->exec(c, "DROP TABLE IF EXISTS dbguard_marker", err, errlen);
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	if (c->ops->exec(c, "CREATE TABLE IF NOT EXISTS dbguard_marker "
	                    "(class VARCHAR(32) NOT NULL, set_at VARCHAR(32) NOT NULL)",
	                 err, errlen) < 0)
		return -1;
	char *cls = c->ops->quote_literal(c, marker);
	char *at = c->ops->quote_literal(c, stamp);
	char *ins = xasprintf("INSERT INTO dbguard_marker (class, set_at) VALUES (%s, %s)", cls, at);
	free(cls);
	free(at);
	/* One row, replaced as a whole: a reader never sees none or two. */
	int own = !c->ops->in_transaction(c);
	int rc = -1;
	if (own && c->ops->exec(c, "BEGIN", err, errlen) < 0)
		goto out;
	if (c->ops->exec(c, "DELETE FROM dbguard_marker", err, errlen) < 0 ||
	    c->ops->exec(c, ins, err, errlen) < 0) {
		if (own)
			c->ops->exec(c, "ROLLBACK", NULL, 0);
		goto out;
	}
	if (own && c->ops->exec(c, "COMMIT", err, errlen) < 0)
		goto out;
	rc = 0;
out:
	free(ins);
	return rc;
}

int db_marker_read(struct dbconn *c, char **marker, char *err, size_t errlen)
{
	*marker = NULL;
	if (c->ops->marker_read)
		return c->ops->marker_read(c, marker, err, errlen);
	return table_marker_read(c, marker, err, errlen);
}

int db_marker_write(struct dbconn *c, const char *marker, char *err, size_t errlen)
{
	if (marker && !marker_valid(marker)) {
		engine_err(err, errlen, "invalid marker '%s': lowercase letters only", marker);
		return -1;
	}
	if (c->ops->marker_write)
		return c->ops->marker_write(c, marker, err, errlen);
	return table_marker_write(c, marker, err, errlen);
}

/* Is some live process started with "--defaults-file=path"? */
static int option_file_in_use(const char *path)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 1;
	char *want = xasprintf("--defaults-file=%s", path);
	size_t wl = strlen(want) + 1;
	int used = 0;
	struct dirent *de;
	while (!used && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char *cl = xasprintf("/proc/%s/cmdline", de->d_name);
		size_t n;
		char *args = read_file(cl, &n);
		free(cl);
		for (size_t i = 0; args && i + wl <= n && !used; i += strlen(args + i) + 1)
			used = memcmp(args + i, want, wl) == 0;
		free(args);
	}
	closedir(d);
	free(want);
	return used;
}

/* Before the credentials went to a memfd, they went to
 * <tmp>/dbguard-my.XXXXXX/client.cnf, which a killed run left behind with a
 * password in it.  Remove such files of ours that no live client reads. */
static void clean_old_option_files(const char *tmp)
{
	DIR *d = opendir(tmp);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "dbguard-my.", 11) != 0 || strlen(de->d_name) != 17)
			continue;
		char *dir = path_join(tmp, de->d_name), *cnf = path_join(dir, "client.cnf");
		struct stat st, fst;
		/* Only a private directory of ours holding that one file. */
		int only = 0;
		DIR *sub = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
		           lstat(cnf, &fst) == 0 && S_ISREG(fst.st_mode) ? opendir(dir) : NULL;
		if (sub) {
			struct dirent *e;
			only = 1;
			while ((e = readdir(sub)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "client.cnf"))
					only = 0;
			closedir(sub);
		}
		if (only && !option_file_in_use(cnf)) {
			unlink(cnf);
			rmdir(dir);
		}
		free(cnf);
		free(dir);
	}
	closedir(d);
}

void db_client_clean_stale(void)
{
	const char *tmp = getenv("TMPDIR");
	if (tmp && *tmp == '/' && strcmp(tmp, "/tmp") != 0)
		clean_old_option_files(tmp);
	clean_old_option_files("/tmp");
}

int db_fingerprint(struct dbconn *c, int for_snapshot, char **fp, char **why,
                   char *err, size_t errlen)
{
	return db_fingerprint_text(c, for_snapshot, fp, why, NULL, err, errlen);
}

int db_fingerprint_text(struct dbconn *c, int for_snapshot, char **fp, char **why, char **text,
                        char *err, size_t errlen)
{
	struct strbuf state = STRBUF_INIT;
	*fp = NULL;
	*why = NULL;
	if (text)
		*text = NULL;
	if (c->ops->fingerprint(c, for_snapshot, &state, why, err, errlen) < 0) {
		sb_free(&state);
		free(*why);
		*why = NULL;
		return -1;
	}
	if (*why) {
		sb_free(&state);
		return 0;
	}
	struct sha256 h;
	char hex[SHA256_HEX_SIZE];
	if (sha256_init(&h) < 0) {
		engine_err(err, errlen, "cannot compute a SHA-256: out of memory");
		sb_free(&state);
		return -1;
	}
	sha256_update(&h, state.buf ? state.buf : "", state.len);
	if (text)
		*text = sb_detach(&state);
	sb_free(&state);
	if (sha256_final(&h, hex) < 0) {
		engine_err(err, errlen, "cannot compute a SHA-256");
		return -1;
	}
	*fp = xasprintf("%s1:%s", c->ops->name, hex);
	return 0;
}

int db_client_args(const struct target *t, struct strvec *argv, struct strvec *env,
                   char **cleanup_path, char *err, size_t errlen)
{
	*cleanup_path = NULL;
	const struct engine_ops *ops = ops_for(t, err, errlen);
	if (!ops)
		return -1;
	db_client_clean_stale();
	return ops->client_args(t, argv, env, cleanup_path, err, errlen);
}

void db_client_cleanup(char *cleanup_path)
{
	if (!cleanup_path)
		return;
	if (strncmp(cleanup_path, "/dev/fd/", 8) == 0)
		close(atoi(cleanup_path + 8));
	free(cleanup_path);
}
