/* sqlite.c — the SQLite adapter over libsqlite3.  A database file is
 * opened read-write but never created: a path that names nothing is an
 * unreachable database, not an invitation to make an empty one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "engine/impl.h"
#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/xalloc.h"

struct liteconn {
	struct dbconn base;
	sqlite3 *db;
};

#define DB(c) (((struct liteconn *)(c))->db)

static int lite_connect(const struct target *t, int admin, struct dbconn **out,
                        char *err, size_t errlen)
{
	const char *path = target_get(t, TF_DATABASE);
	if (admin) {
		engine_err(err, errlen, "sqlite has no server to administer");
		return DG_USAGE;
	}
	if (!path) {
		engine_err(err, errlen, "no SQLite database file given");
		return DG_USAGE;
	}
	if (strcmp(path, ":memory:") != 0) {
		struct stat st;
		if (stat(path, &st) < 0) {
			if (errno == ENOENT)
				engine_err(err, errlen, "no such database file '%s'", path);
			else
				engine_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
			return DG_UNREACHABLE;
		}
		if (S_ISDIR(st.st_mode)) {
			engine_err(err, errlen, "'%s' is a directory, not a SQLite database", path);
			return DG_NO;
		}
	}
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		engine_err(err, errlen, "cannot open '%s': %s", path,
		           db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return DG_UNREACHABLE;
	}
	/* Another program (the application itself) may hold a write lock. */
	sqlite3_busy_timeout(db, 5000);
	/* A checkpoint is a write: closing the last connection must not move
	 * a WAL database's pages, or every look at it would change it
	 * (doc/change-detection.md). */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* Opening is lazy: only a read shows whether this is a database. */
	char *msg = NULL;
	rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		if (rc == SQLITE_NOTADB)
			engine_err(err, errlen, "'%s' is not a SQLite database", path);
		else
			engine_err(err, errlen, "cannot read '%s': %s", path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		sqlite3_close(db);
		return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? DG_UNREACHABLE : DG_NO;
	}
	struct liteconn *c = xcalloc(1, sizeof *c);
	c->base.ops = &engine_sqlite_ops;
	c->db = db;
	*out = &c->base;
	return DG_OK;
}

static void lite_close(struct dbconn *c)
{
	sqlite3_close(DB(c));
	free(c);
}

static const char *lite_version(struct dbconn *c) { (void)c; return sqlite3_libversion(); }
static int lite_major(struct dbconn *c) { (void)c; return sqlite3_libversion_number() / 1000000; }

static int lite_exec(struct dbconn *c, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(DB(c), sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		engine_err(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int lite_query_value(struct dbconn *c, const char *sql, char **value,
                            char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(DB(c), sql, -1, &st, NULL) != SQLITE_OK) {
		engine_err(err, errlen, "%s", sqlite3_errmsg(DB(c)));
		return -1;
	}
	int rc = st ? sqlite3_step(st) : SQLITE_DONE;
	if (rc == SQLITE_ROW && sqlite3_column_count(st) > 0 &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		*value = xstrdup((const char *)sqlite3_column_text(st, 0));
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		engine_err(err, errlen, "%s", sqlite3_errmsg(DB(c)));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static char *lite_quote(const char *fmt, const char *s)
{
	char *q = sqlite3_mprintf(fmt, s);
	if (!q)
		die(DG_NO, "out of memory");
	char *r = xstrdup(q);
	sqlite3_free(q);
	return r;
}

static char *lite_quote_ident(struct dbconn *c, const char *name)
{
	(void)c;
	return lite_quote("\"%w\"", name);
}

static char *lite_quote_literal(struct dbconn *c, const char *value)
{
	(void)c;
	return lite_quote("%Q", value);
}

static long long lite_size(struct dbconn *c, char *err, size_t errlen)
{
	const char *path = sqlite3_db_filename(DB(c), "main");
	if (!path || !*path) {   /* in memory: pages are all there is */
		char *pages = NULL, *psize = NULL;
		if (lite_query_value(c, "PRAGMA page_count", &pages, err, errlen) < 0 ||
		    lite_query_value(c, "PRAGMA page_size", &psize, err, errlen) < 0) {
			free(pages);
			return -1;
		}
		long long n = (pages ? strtoll(pages, NULL, 10) : 0) * (psize ? strtoll(psize, NULL, 10) : 0);
		free(pages);
		free(psize);
		return n;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		engine_err(err, errlen, "cannot stat '%s': %s", path, strerror(errno));
		return -1;
	}
	long long n = (long long)st.st_size;
	/* Committed pages not yet checkpointed live in the write-ahead log. */
	char *wal = xasprintf("%s-wal", path);
	if (stat(wal, &st) == 0)
		n += (long long)st.st_size;
	free(wal);
	return n;
}

static int lite_list_tables(struct dbconn *c, struct strvec *names, struct strvec *refs,
                            char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(DB(c),
	        "SELECT name FROM sqlite_master WHERE type = 'table'"
	        " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'dbguard_marker'"
	        " ORDER BY name", -1, &st, NULL) != SQLITE_OK) {
		engine_err(err, errlen, "%s", sqlite3_errmsg(DB(c)));
		return -1;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!name)
			continue;
		sv_push(names, name);
		sv_push_owned(refs, lite_quote_ident(c, name));
	}
	if (rc != SQLITE_DONE)
		engine_err(err, errlen, "%s", sqlite3_errmsg(DB(c)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int lite_in_transaction(struct dbconn *c)
{
	return !sqlite3_get_autocommit(DB(c));
}

static int lite_table_exists(struct dbconn *c, const char *name, char *err, size_t errlen)
{
	char *lit = lite_quote_literal(c, name);
	char *sql = xasprintf("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", lit);
	char *v = NULL;
	int rc = lite_query_value(c, sql, &v, err, errlen);
	free(lit);
	free(sql);
	free(v);
	return rc < 0 ? -1 : v != NULL;
}

static int lite_client_args(const struct target *t, struct strvec *argv, struct strvec *env,
                            char **cleanup_path, char *err, size_t errlen)
{
	/* The sqlite3 program needs only the file name, which the caller adds. */
	(void)t, (void)argv, (void)env, (void)err, (void)errlen;
	*cleanup_path = NULL;
	return 0;
}

/* Change detection (doc/change-detection.md).  A commit writes the
 * database file (rollback journal) or the -wal file (WAL mode), and every
 * write sets the file's ctime, which no user can set back (the -wal's
 * mtime: see lite_file_state); the inode says whether it was replaced.  File times advance in clock ticks, so a
 * file written within the last second proves nothing yet.  The header's
 * change counter and schema cookie, and the WAL's salts and size, are
 * read too.  Only on local file systems: a network client's view of
 * times and contents may lag. */
#define LITE_FRESH_NS 1000000000LL

static long long ts_ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

static int lite_local_fs(const char *path, char **why)
{
	static const long local[] = {
		0xEF53,        /* ext2/3/4 */
		0x58465342,    /* xfs */
		0x9123683E,    /* btrfs */
		0x01021994,    /* tmpfs */
		0x794C7630,    /* overlayfs */
		0xF2F52010,    /* f2fs */
		0x2FC12FC1,    /* zfs */
	};
	struct statfs fs;
	if (statfs(path, &fs) < 0) {
		*why = xasprintf("cannot tell the file system of '%s': %s", path, strerror(errno));
		return 0;
	}
	for (size_t i = 0; i < sizeof local / sizeof *local; i++)
		if ((long)fs.f_type == local[i])
			return 1;
	*why = xasprintf("'%s' is on a file system (type 0x%lx) whose file times dbguard does "
	                 "not trust to show every change", path, (unsigned long)fs.f_type);
	return 0;
}

/* stat and the first n bytes of path into state; 0, 1 when the file does
 * not exist or is empty, -1 with why.  with_ctime 0 for the -wal: SQLite
 * running as root chowns it at every open, which sets its ctime. */
static int lite_file_state(const char *path, size_t n, int with_ctime, long long now,
                           struct strbuf *state, char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return 1;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*why = xasprintf("cannot read '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		return 1;
	}
	unsigned char head[100];
	ssize_t got = pread(fd, head, n < sizeof head ? n : sizeof head, 0);
	close(fd);
	if (got < 0) {
		*why = xasprintf("cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	struct timespec changed = with_ctime ? st.st_ctim : st.st_mtim;
	if (now - ts_ns(changed) < LITE_FRESH_NS || now - ts_ns(st.st_mtim) < LITE_FRESH_NS) {
		*why = xasprintf("'%s' was written within the last second (file times are too coarse "
		                 "to tell a later write)", path);
		return -1;
	}
	sb_addf(state, "%llu:%llu %lld %lld.%09ld %lld.%09ld ", (unsigned long long)st.st_dev,
	        (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
	        st.st_mtim.tv_nsec, (long long)changed.tv_sec, changed.tv_nsec);
	for (ssize_t i = 0; i < got; i++)
		sb_addf(state, "%02x", head[i]);
	sb_addc(state, '\n');
	return 0;
}

static int lite_fingerprint(struct dbconn *c, int for_snapshot, struct strbuf *state, char **why,
                            char *err, size_t errlen)
{
	(void)for_snapshot, (void)err, (void)errlen;
	const char *path = sqlite3_db_filename(DB(c), "main");
	if (!path || !*path) {
		*why = xstrdup("an in-memory database has no file to watch");
		return 0;
	}
	if (!lite_local_fs(path, why))
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char *wal = xasprintf("%s-wal", path), *journal = xasprintf("%s-journal", path);
	sb_adds(state, "db ");
	int r = lite_file_state(path, 100, 1, ts_ns(now), state, why);
	if (r == 1 && !*why)
		*why = xasprintf("'%s' is empty or gone", path);
	if (r == 0) {
		/* An empty -wal holds nothing (SQLite makes one when it opens a
		 * WAL database and removes it when the last connection closes). */
		sb_adds(state, "wal ");
		r = lite_file_state(wal, 32, 0, ts_ns(now), state, why);
		if (r == 1)
			sb_adds(state, "none\n");
	}
	if (r >= 0) {
		/* A journal starting with its magic: a writer is mid-transaction. */
		static const unsigned char magic[8] = { 0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7 };
		unsigned char head[8];
		int fd = open(journal, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && pread(fd, head, 8, 0) == 8 && memcmp(head, magic, 8) == 0)
			*why = xasprintf("a transaction is being written to '%s'", path);
		if (fd >= 0)
			close(fd);
	}
	free(wal);
	free(journal);
	return 0;
}

const struct engine_ops engine_sqlite_ops = {
	.name = "sqlite",
	.connect = lite_connect,
	.close = lite_close,
	.version = lite_version,
	.major = lite_major,
	.size = lite_size,
	.list_tables = lite_list_tables,
	.begin_read_sql = "BEGIN",
	.in_transaction = lite_in_transaction,
	.table_exists = lite_table_exists,
	.marker_read = NULL,
	.marker_write = NULL,
	.exec = lite_exec,
	.query_value = lite_query_value,
	.quote_ident = lite_quote_ident,
	.quote_literal = lite_quote_literal,
	.client_args = lite_client_args,
	.fingerprint = lite_fingerprint,
};
