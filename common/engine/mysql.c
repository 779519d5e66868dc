/* mysql.c — the MySQL/MariaDB adapter over libmysqlclient (MariaDB
 * Connector/C).  A host starting with '/' is the server's socket; the client
 * programs get their credentials from an option file in memory (a memfd they
 * inherit), never from argv or a file on disk. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "engine/impl.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/xalloc.h"

struct myconn {
	struct dbconn base;
	MYSQL *my;
};

#define MY(c) (((struct myconn *)(c))->my)

/* With a connect timeout the client connects without blocking and reports
 * EINPROGRESS for a refused port and a silent host alike; one blocking
 * connect tells them apart.  Returns the errno, or 0 if it connects now. */
static int tcp_errno(const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	char service[16];
	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0)
		return EHOSTUNREACH;
	int e = ETIMEDOUT;
	for (a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		e = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno == EINPROGRESS ? ETIMEDOUT : errno;
		close(fd);
		if (e == 0)
			break;
	}
	freeaddrinfo(ai);
	return e;
}

/* "Can't connect to server on 'h' (111)" says less than "Connection refused":
 * the number in brackets is an errno, or a getaddrinfo code when negative. */
static char *client_reason(const struct target *t, const char *msg)
{
	char *line = engine_first_line(msg);
	size_t n = strlen(line);
	char *open = strrchr(line, '(');
	if (n > 0 && line[n - 1] == ')' && open) {
		char *end;
		long code = strtol(open + 1, &end, 10);
		if (end != open + 1 && *end == ')') {
			if (code == EINPROGRESS && target_host(t)[0] != '/')
				code = tcp_errno(target_host(t), target_port(t));
			if (code == 0)
				return line;
			char *r = xstrdup(code > 0 ? strerror((int)code) : gai_strerror((int)code));
			free(line);
			return r;
		}
	}
	return line;
}

static int my_fail(const struct target *t, MYSQL *my, const char *db, char *err, size_t errlen)
{
	unsigned int no = mysql_errno(my);
	char *where = engine_where(t);
	const char *user = target_get(t, TF_USER) ? target_get(t, TF_USER) : "(default)";
	char *line = engine_first_line(mysql_error(my));
	int rc = DG_NO;
	switch (no) {
	case ER_ACCESS_DENIED_ERROR: {
		char *hint = engine_auth_hint(t);
		engine_err(err, errlen, "access denied for user '%s' on %s%s", user, where, hint);
		free(hint);
		break;
	}
	case ER_BAD_DB_ERROR:
		engine_err(err, errlen, "database '%s' does not exist on %s", db ? db : "", where);
		break;
	case ER_DBACCESS_DENIED_ERROR:
		engine_err(err, errlen, "access denied for user '%s' to database '%s' on %s",
		           user, db ? db : "", where);
		break;
	case ER_CON_COUNT_ERROR:
		engine_err(err, errlen, "mysql at %s is not accepting connections: %s", where, line);
		rc = DG_UNREACHABLE;
		break;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST: {
		char *why = client_reason(t, mysql_error(my));
		engine_err(err, errlen, "cannot reach mysql at %s: %s", where, why);
		free(why);
		rc = DG_UNREACHABLE;
		break;
	}
	default:
		/* Below 2000 the server answered and said no; from 2000 on the
		 * client gave up, mostly before a server was reached. */
		if (no >= 2000 && no != CR_AUTH_PLUGIN_CANNOT_LOAD) {
			engine_err(err, errlen, "cannot reach mysql at %s: %s", where, line);
			rc = DG_UNREACHABLE;
		} else {
			engine_err(err, errlen, "mysql at %s refused the connection: %s", where, line);
		}
	}
	free(line);
	free(where);
	return rc;
}

static int my_connect(const struct target *t, int admin, struct dbconn **out,
                      char *err, size_t errlen)
{
	MYSQL *my = mysql_init(NULL);
	if (!my) {
		engine_err(err, errlen, "cannot connect to mysql: out of memory");
		return DG_NO;
	}
	unsigned int timeout = 5;
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	const char *host = target_host(t), *sock = NULL;
	if (host[0] == '/') {
		sock = host;
		host = "localhost";
	}
	const char *db = admin ? NULL : target_get(t, TF_DATABASE);
	if (!mysql_real_connect(my, host, target_get(t, TF_USER), target_get(t, TF_PASSWORD), db,
	                        (unsigned int)target_port(t), sock, 0)) {
		int rc = my_fail(t, my, db, err, errlen);
		mysql_close(my);
		return rc;
	}
	struct myconn *c = xcalloc(1, sizeof *c);
	c->base.ops = &engine_mysql_ops;
	c->my = my;
	*out = &c->base;
	return DG_OK;
}

static void my_close(struct dbconn *c)
{
	mysql_close(MY(c));
	free(c);
}

static const char *my_version(struct dbconn *c) { return mysql_get_server_info(MY(c)); }
static int my_major(struct dbconn *c) { return (int)(mysql_get_server_version(MY(c)) / 10000); }

static void my_error(struct dbconn *c, char *err, size_t errlen)
{
	char *line = engine_first_line(mysql_error(MY(c)));
	engine_err(err, errlen, "%s", line);
	free(line);
}

/* Run sql; its result set (NULL when it has none) in *res. */
static int my_run(struct dbconn *c, const char *sql, MYSQL_RES **res, char *err, size_t errlen)
{
	*res = NULL;
	if (mysql_real_query(MY(c), sql, strlen(sql)) != 0) {
		my_error(c, err, errlen);
		return -1;
	}
	*res = mysql_store_result(MY(c));
	if (!*res && mysql_field_count(MY(c)) != 0) {
		my_error(c, err, errlen);
		return -1;
	}
	return 0;
}

static int my_exec(struct dbconn *c, const char *sql, char *err, size_t errlen)
{
	MYSQL_RES *res;
	if (my_run(c, sql, &res, err, errlen) < 0)
		return -1;
	mysql_free_result(res);
	return 0;
}

static int my_query_value(struct dbconn *c, const char *sql, char **value, char *err, size_t errlen)
{
	MYSQL_RES *res;
	if (my_run(c, sql, &res, err, errlen) < 0)
		return -1;
	if (res) {
		MYSQL_ROW row = mysql_fetch_row(res);
		if (row && mysql_num_fields(res) > 0 && row[0])
			*value = xstrdup(row[0]);
		mysql_free_result(res);
	}
	return 0;
}

static char *my_quote_ident(struct dbconn *c, const char *name)
{
	(void)c;
	struct strbuf sb = STRBUF_INIT;
	sb_addc(&sb, '`');
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			sb_addc(&sb, '`');
		sb_addc(&sb, *p);
	}
	sb_addc(&sb, '`');
	return sb_detach(&sb);
}

static char *my_quote_literal(struct dbconn *c, const char *value)
{
	size_t n = strlen(value);
	char *q = xmalloc(2 * n + 3);
	/* The connection knows the character set and NO_BACKSLASH_ESCAPES. */
	unsigned long len = mysql_real_escape_string(MY(c), q + 1, value, (unsigned long)n);
	q[0] = '\'';
	q[len + 1] = '\'';
	q[len + 2] = '\0';
	return q;
}

static long long my_size(struct dbconn *c, char *err, size_t errlen)
{
	char *v = NULL;
	if (my_query_value(c, "SELECT COALESCE(SUM(data_length + index_length), 0)"
	                      " FROM information_schema.tables WHERE table_schema = DATABASE()",
	                   &v, err, errlen) < 0)
		return -1;
	long long n = v ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

static int my_list_tables(struct dbconn *c, struct strvec *names, struct strvec *refs,
                          char *err, size_t errlen)
{
	MYSQL_RES *res;
	if (my_run(c, "SELECT table_name FROM information_schema.tables"
	              " WHERE table_schema = DATABASE()"
	              " AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')"
	              " AND table_name <> 'dbguard_marker' ORDER BY table_name",
	           &res, err, errlen) < 0)
		return -1;
	MYSQL_ROW row;
	while (res && (row = mysql_fetch_row(res))) {
		if (!row[0])
			continue;
		sv_push(names, row[0]);
		sv_push_owned(refs, my_quote_ident(c, row[0]));
	}
	mysql_free_result(res);
	return 0;
}

static int my_in_transaction(struct dbconn *c)
{
	return (MY(c)->server_status & SERVER_STATUS_IN_TRANS) != 0;
}

static int my_table_exists(struct dbconn *c, const char *name, char *err, size_t errlen)
{
	char *lit = my_quote_literal(c, name);
	char *sql = xasprintf("SELECT 1 FROM information_schema.tables"
	                      " WHERE table_schema = DATABASE() AND table_name = %s", lit);
	char *v = NULL;
	int rc = my_query_value(c, sql, &v, err, errlen);
	free(lit);
	free(sql);
	free(v);
	return rc < 0 ? -1 : v != NULL;
}

/* A value as the client programs' option-file reader takes it back: in
 * double quotes, with \\ \" \' \n \t \r \b escaped ('#' is safe inside). */
static void cnf_value(struct strbuf *sb, const char *key, const char *s)
{
	sb_adds(sb, key);
	sb_adds(sb, "=\"");
	for (; *s; s++) {
		switch (*s) {
		case '\\': sb_adds(sb, "\\\\"); break;
		case '"': sb_adds(sb, "\\\""); break;
		case '\'': sb_adds(sb, "\\'"); break;
		case '\n': sb_adds(sb, "\\n"); break;
		case '\t': sb_adds(sb, "\\t"); break;
		case '\r': sb_adds(sb, "\\r"); break;
		case '\b': sb_adds(sb, "\\b"); break;
		default: sb_addc(sb, *s);
		}
	}
	sb_adds(sb, "\"\n");
}

static int my_client_args(const struct target *t, struct strvec *argv, struct strvec *env,
                          char **cleanup_path, char *err, size_t errlen)
{
	(void)env;
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "[client]\n");
	if (target_get(t, TF_USER))
		cnf_value(&sb, "user", target_get(t, TF_USER));
	if (target_get(t, TF_PASSWORD))
		cnf_value(&sb, "password", target_get(t, TF_PASSWORD));
	const char *host = target_host(t);
	if (host[0] == '/') {
		cnf_value(&sb, "socket", host);
	} else {
		cnf_value(&sb, "host", host);
		sb_addf(&sb, "port=%d\n", target_port(t));
	}
	/* mariadb-dump knows no connect-timeout and refuses unknown options
	 * in [client]; the mariadb client reads [mysql] as well. */
	sb_adds(&sb, "[mysql]\nconnect-timeout=5\n");
	/* An anonymous memory file, not a file in TMPDIR: nothing of it
	 * outlives the processes that hold it, however they end.  Not
	 * close-on-exec, so the client started next inherits it and opens it
	 * as /dev/fd/N; it is a regular file, and the client ignores a
	 * world-writable one, hence 0600. */
	int fd = memfd_create("dbguard-client.cnf", 0);
	if (fd >= 0 && fd <= 2) {
		/* Started with a standard stream closed: 0..2 are the child's
		 * own, and spawning it replaces them. */
		int high = fcntl(fd, F_DUPFD, 3);
		close(fd);
		fd = high;
	}
	int rc = fd < 0 || fchmod(fd, 0600) < 0 || write_all(fd, sb.buf, sb.len) < 0 ? -1 : 0;
	int saved = errno;
	/* Wipe the copy of the password we no longer need. */
	memset(sb.buf, 0, sb.len);
	sb_free(&sb);
	if (rc < 0) {
		engine_err(err, errlen, "cannot hand the client its credentials: %s", strerror(saved));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* --defaults-file, not --defaults-extra-file: a ~/.my.cnf read after
	 * the extra file would override the user and password of the target. */
	sv_pushf(argv, "--defaults-file=/dev/fd/%d", fd);
	*cleanup_path = xasprintf("/dev/fd/%d", fd);
	return 0;
}

/* Change detection (doc/change-detection.md).  InnoDB hands out one
 * counter for transaction ids and commit numbers, so Innodb_max_trx_id
 * moves with every InnoDB write and commit (in any schema).  Nothing else
 * does: views, routines, triggers and events live in files and Aria
 * tables, so their definitions are part of the fingerprint; Aria, MyISAM
 * and MEMORY tables have no signal that catches every change, so a
 * database holding one is never called unchanged.  Times have whole
 * seconds: a definition changed within the last two seconds could change
 * again unseen, so it proves nothing yet. */
static const char my_fp_sql[] =
	"SELECT 'v', VARIABLE_NAME, VARIABLE_VALUE, NULL FROM information_schema.GLOBAL_STATUS"
	" WHERE VARIABLE_NAME IN ('INNODB_MAX_TRX_ID', 'UPTIME')"
	" UNION ALL SELECT 'n', 'now', UNIX_TIMESTAMP(), NULL"
	" UNION ALL SELECT 's', SCHEMA_NAME, CONCAT_WS('|', DEFAULT_CHARACTER_SET_NAME,"
	"   DEFAULT_COLLATION_NAME), NULL FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"
	" UNION ALL SELECT 't', TABLE_NAME, CONCAT_WS('|', TABLE_TYPE, IFNULL(ENGINE, '-'),"
	"   IFNULL(ROW_FORMAT, '-'), IFNULL(AUTO_INCREMENT, '-'), IFNULL(TABLE_COLLATION, '-'),"
	"   IFNULL(CREATE_OPTIONS, '-'), IFNULL(TABLE_COMMENT, '-'), IFNULL(UNIX_TIMESTAMP(CREATE_TIME), '-')),"
	"   UNIX_TIMESTAMP(CREATE_TIME)"
	"   FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
	" UNION ALL SELECT 'w', TABLE_NAME, CONCAT_WS('|', IFNULL(VIEW_DEFINITION, '-'), CHECK_OPTION,"
	"   IS_UPDATABLE, DEFINER, SECURITY_TYPE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, ALGORITHM), NULL"
	"   FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
	" UNION ALL SELECT 'r', CONCAT(ROUTINE_TYPE, ' ', SPECIFIC_NAME), CONCAT_WS('|',"
	"   IFNULL(ROUTINE_DEFINITION, '-'), IFNULL(DTD_IDENTIFIER, '-'), IS_DETERMINISTIC, SQL_DATA_ACCESS,"
	"   SECURITY_TYPE, SQL_MODE, ROUTINE_COMMENT, DEFINER, UNIX_TIMESTAMP(CREATED),"
	"   UNIX_TIMESTAMP(LAST_ALTERED)), GREATEST(UNIX_TIMESTAMP(CREATED), UNIX_TIMESTAMP(LAST_ALTERED))"
	"   FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
	" UNION ALL SELECT 'g', TRIGGER_NAME, CONCAT_WS('|', EVENT_MANIPULATION, EVENT_OBJECT_TABLE,"
	"   ACTION_ORDER, ACTION_STATEMENT, ACTION_TIMING, SQL_MODE, DEFINER, IFNULL(CREATED, '-')),"
	"   UNIX_TIMESTAMP(CREATED) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
	" UNION ALL SELECT 'e', EVENT_NAME, CONCAT_WS('|', EVENT_DEFINITION, EVENT_TYPE,"
	"   IFNULL(EXECUTE_AT, '-'), IFNULL(INTERVAL_VALUE, '-'), IFNULL(INTERVAL_FIELD, '-'),"
	"   IFNULL(STARTS, '-'), IFNULL(ENDS, '-'), STATUS, ON_COMPLETION, SQL_MODE, DEFINER,"
	"   EVENT_COMMENT, UNIX_TIMESTAMP(CREATED), UNIX_TIMESTAMP(LAST_ALTERED)),"
	"   GREATEST(UNIX_TIMESTAMP(CREATED), UNIX_TIMESTAMP(LAST_ALTERED))"
	"   FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
	" ORDER BY 1, 2";

/* A definition newer than this many seconds proves nothing yet. */
#define MY_FRESH_SECONDS 2

/* In a fresh consistent snapshot, no other InnoDB transaction may be
 * active: one that was committing when Innodb_max_trx_id was read would
 * not be seen by a dump started now, yet would move no counter later.
 * The read view's limits ("will not see trx with id >= X, sees < Y")
 * are equal exactly when it lists no active transaction. */
static int my_quiet(struct dbconn *c, char **why, char *err, size_t errlen)
{
	char *cid = NULL, *status = NULL;
	MYSQL_RES *res = NULL;
	int rc = -1;
	if (my_query_value(c, "SELECT CONNECTION_ID()", &cid, err, errlen) < 0 || !cid)
		goto out;
	if (my_exec(c, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err, errlen) < 0)
		goto out;
	if (mysql_real_query(MY(c), "SHOW ENGINE INNODB STATUS", 25) != 0) {
		*why = xasprintf("cannot read the InnoDB status (%s); the PROCESS privilege "
		                 "lets dbguard prove that nothing changed", mysql_error(MY(c)));
		my_exec(c, "ROLLBACK", NULL, 0);
		rc = 0;
		goto out;
	}
	res = mysql_store_result(MY(c));
	MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
	if (row && mysql_num_fields(res) >= 3 && row[2])
		status = xstrdup(row[2]);
	my_exec(c, "ROLLBACK", NULL, 0);
	rc = 0;
	char *me = xasprintf(" thread id %s,", cid);
	const char *p = status ? strstr(status, me) : NULL;
	free(me);
	const char *end = p ? strstr(p, "---TRANSACTION") : NULL;
	const char *view = p ? strstr(p, "Trx read view will not see trx with id >= ") : NULL;
	unsigned long long x, y;
	if (!view || (end && view > end) ||
	    sscanf(view, "Trx read view will not see trx with id >= %llu, sees < %llu", &x, &y) != 2)
		*why = xstrdup("the InnoDB status shows no read view for this session");
	else if (x != y)
		*why = xstrdup("other InnoDB transactions were active at the snapshot");
out:
	mysql_free_result(res);
	free(cid);
	free(status);
	return rc;
}

static int my_fingerprint(struct dbconn *c, int for_snapshot, struct strbuf *state, char **why,
                          char *err, size_t errlen)
{
	MYSQL_RES *res;
	if (my_run(c, my_fp_sql, &res, err, errlen) < 0)
		return -1;
	long long now = -1, uptime = -1, fresh = 0;
	int have_trx = 0;
	MYSQL_ROW row;
	while (res && (row = mysql_fetch_row(res))) {
		const char *kind = row[0] ? row[0] : "", *name = row[1] ? row[1] : "";
		const char *val = row[2] ? row[2] : "", *when = row[3];
		if (strcmp(kind, "n") == 0) {
			now = strtoll(val, NULL, 10);
			continue;
		}
		if (strcmp(kind, "v") == 0 && strcmp(name, "UPTIME") == 0) {
			uptime = strtoll(val, NULL, 10);
			continue;
		}
		if (strcmp(kind, "v") == 0)
			have_trx = 1;
		if (strcmp(kind, "t") == 0 && !*why) {
			/* TABLE_TYPE|ENGINE|... */
			size_t tl = strcspn(val, "|");
			const char *engine = val + tl + (val[tl] == '|');
			int base = strncmp(val, "BASE TABLE|", 11) == 0 || strncmp(val, "SYSTEM VERSIONED|", 17) == 0;
			if (strncmp(val, "SEQUENCE|", 9) == 0)
				*why = xasprintf("'%s' is a sequence, whose next value moves no change signal", name);
			else if (base && strncmp(engine, "InnoDB|", 7) != 0)
				*why = xasprintf("table '%s' uses the %.*s engine, which has no signal for every "
				                 "change (only InnoDB tables do)", name,
				                 (int)strcspn(engine, "|"), engine);
		}
		if (when && strtoll(when, NULL, 10) > fresh)
			fresh = strtoll(when, NULL, 10);
		sb_addf(state, "%s\t%s\t%s\n", kind, name, val);
	}
	mysql_free_result(res);
	if (*why)
		return 0;
	if (now < 0 || uptime < 0 || !have_trx) {
		*why = xstrdup("the server does not report its InnoDB transaction counter and uptime");
		return 0;
	}
	if (fresh > now - MY_FRESH_SECONDS) {
		*why = xstrdup("a definition changed within the last seconds (its time has whole seconds)");
		return 0;
	}
	/* The start time: MEMORY tables and in-memory counters reset there. */
	sb_addf(state, "start\t%lld\n", now - uptime);
	if (for_snapshot)
		return my_quiet(c, why, err, errlen);
	return 0;
}

/* See engine.h. */
char *mysql_requalify(const char *def, const char *from, const char *to, int *hits)
{
	struct strbuf sb = STRBUF_INIT, name = STRBUF_INIT;
	*hits = 0;
	for (const char *p = def; *p;) {
		if (*p == '\'' || *p == '"') {
			const char *q = p + 1;
			for (; *q; q++) {
				if (*q == '\\' && q[1])
					q++;
				else if (*q == *p && q[1] == *p)
					q++;
				else if (*q == *p)
					break;
			}
			if (!*q)
				goto bad;
			sb_add(&sb, p, (size_t)(q + 1 - p));
			p = q + 1;
		} else if (*p == '`') {
			const char *q = p + 1;
			sb_reset(&name);
			for (; *q && !(*q == '`' && q[1] != '`'); q++) {
				if (*q == '`')
					q++;
				sb_addc(&name, *q);
			}
			if (!*q)
				goto bad;
			if (q[1] == '.' && !strcmp(sb_str(&name), from)) {
				sb_adds(&sb, to);
				(*hits)++;
			} else {
				sb_add(&sb, p, (size_t)(q + 1 - p));
			}
			p = q + 1;
		} else {
			sb_addc(&sb, *p++);
		}
	}
	sb_free(&name);
	return sb_detach(&sb);
bad:
	sb_free(&name);
	sb_free(&sb);
	return NULL;
}

const struct engine_ops engine_mysql_ops = {
	.name = "mysql",
	.connect = my_connect,
	.close = my_close,
	.version = my_version,
	.major = my_major,
	.size = my_size,
	.list_tables = my_list_tables,
	.begin_read_sql = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
	.in_transaction = my_in_transaction,
	.table_exists = my_table_exists,
	.marker_read = NULL,
	.marker_write = NULL,
	.exec = my_exec,
	.query_value = my_query_value,
	.quote_ident = my_quote_ident,
	.quote_literal = my_quote_literal,
	.client_args = my_client_args,
	.fingerprint = my_fingerprint,
};
