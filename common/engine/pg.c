/* pg.c — the PostgreSQL adapter over libpq.  Connection values go in
 * through PQconnectdbParams, never through a connection string built from
 * them, so no password can break out of its field.  The production marker
 * is the database's comment, which pg_dump leaves out of a plain dump: a
 * restore never carries one database's marker into another. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "engine/impl.h"
#include "base/exitcodes.h"
#include "base/xalloc.h"

struct pgconn {
	struct dbconn base;
	PGconn *pg;
	char version[32];
};

#define PG(c) (((struct pgconn *)(c))->pg)

static const char marker_prefix[] = "dbguard:";

/* libpq prints notices (DROP ... IF EXISTS, a nested BEGIN) on stderr by
 * default; our stderr belongs to the program's own messages. */
static void quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Turn a failed connection into one line and a status: reached but refused
 * (DG_NO) when the server answered with a FATAL error or asked for a
 * password we could not give; not reached (DG_UNREACHABLE) otherwise. */
static int pg_fail(const struct target *t, PGconn *pg, const char *db, char *err, size_t errlen)
{
	char *line = engine_first_line(PQerrorMessage(pg));
	const char *d = line, *f = strstr(line, " failed: ");
	if (f)
		d = f + strlen(" failed: ");
	int server = strncmp(d, "FATAL:", 6) == 0;
	if (server)
		for (d += 6; *d == ' '; d++)
			;
	char *where = engine_where(t);
	const char *user = PQuser(pg) && *PQuser(pg) ? PQuser(pg) : "(default)";
	int rc;
	if (server && (strstr(d, "the database system is") || strstr(d, "too many clients"))) {
		engine_err(err, errlen, "postgres at %s is not accepting connections: %s", where, d);
		rc = DG_UNREACHABLE;
	} else if (server && db && strstr(d, "database \"") && strstr(d, "\" does not exist")) {
		engine_err(err, errlen, "database '%s' does not exist on %s", db, where);
		rc = DG_NO;
	} else if (server || strstr(d, "fe_sendauth") || strstr(d, "password")) {
		char *hint = engine_auth_hint(t);
		engine_err(err, errlen, "access denied for user '%s' on %s: %s%s", user, where, d, hint);
		free(hint);
		rc = DG_NO;
	} else {
		engine_err(err, errlen, "cannot reach postgres at %s: %s", where, d);
		rc = DG_UNREACHABLE;
	}
	free(where);
	free(line);
	return rc;
}

/* The port as libpq takes it: with several hosts, a list ("5433,5432")
 * that pairs with them, so each host is tried on its own port. */
static const char *pg_port(const struct target *t, char buf[16])
{
	const char *p = target_get(t, TF_PORT);
	if (p && strchr(p, ','))
		return p;
	snprintf(buf, 16, "%d", target_port(t));
	return buf;
}

static PGconn *pg_open(const struct target *t, const char *db)
{
	const char *kw[8], *val[8];
	char port[16];
	int n = 0;
	kw[n] = "host", val[n++] = target_host(t);
	kw[n] = "port", val[n++] = pg_port(t, port);
	if (db)
		kw[n] = "dbname", val[n++] = db;
	if (target_get(t, TF_USER))
		kw[n] = "user", val[n++] = target_get(t, TF_USER);
	if (target_get(t, TF_PASSWORD))
		kw[n] = "password", val[n++] = target_get(t, TF_PASSWORD);
	kw[n] = "connect_timeout", val[n++] = "5";
	kw[n] = "application_name", val[n++] = "dbguard";
	kw[n] = NULL, val[n] = NULL;
	/* expand_dbname 0: a database named like a URL stays a name. */
	return PQconnectdbParams(kw, val, 0);
}

static int pg_connect(const struct target *t, int admin, struct dbconn **out,
                      char *err, size_t errlen)
{
	const char *db = admin ? "postgres" : target_get(t, TF_DATABASE);
	PGconn *pg = pg_open(t, db);
	if (admin && pg && PQstatus(pg) != CONNECTION_OK &&
	    strstr(PQerrorMessage(pg), "\"postgres\" does not exist")) {
		PQfinish(pg);
		db = "template1";
		pg = pg_open(t, db);
	}
	if (!pg) {
		engine_err(err, errlen, "cannot connect to postgres: out of memory");
		return DG_NO;
	}
	if (PQstatus(pg) != CONNECTION_OK) {
		int rc = pg_fail(t, pg, db, err, errlen);
		PQfinish(pg);
		return rc;
	}
	PQsetNoticeProcessor(pg, quiet_notices, NULL);
	struct pgconn *c = xcalloc(1, sizeof *c);
	c->base.ops = &engine_pg_ops;
	c->pg = pg;
	int v = PQserverVersion(pg);
	if (v >= 100000)
		snprintf(c->version, sizeof c->version, "%d.%d", v / 10000, v % 10000);
	else
		snprintf(c->version, sizeof c->version, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
	*out = &c->base;
	return DG_OK;
}

static void pg_close(struct dbconn *c)
{
	PQfinish(PG(c));
	free(c);
}

static const char *pg_version(struct dbconn *c) { return ((struct pgconn *)c)->version; }
static int pg_major(struct dbconn *c) { return PQserverVersion(PG(c)) / 10000; }

static void pg_error(struct dbconn *c, const PGresult *r, char *err, size_t errlen)
{
	const char *m = r ? PQresultErrorMessage(r) : "";
	if (!m || !*m)
		m = PQerrorMessage(PG(c));
	char *line = engine_first_line(m);
	const char *d = line;
	if (strncmp(d, "ERROR:", 6) == 0 || strncmp(d, "FATAL:", 6) == 0)
		for (d += 6; *d == ' '; d++)
			;
	engine_err(err, errlen, "%s", d);
	free(line);
}

static PGresult *pg_run(struct dbconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(PG(c), sql);
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		return r;
	pg_error(c, r, err, errlen);
	PQclear(r);
	return NULL;
}

static int pg_exec(struct dbconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *r = pg_run(c, sql, err, errlen);
	PQclear(r);
	return r ? 0 : -1;
}

static int pg_query_value(struct dbconn *c, const char *sql, char **value, char *err, size_t errlen)
{
	PGresult *r = pg_run(c, sql, err, errlen);
	if (!r)
		return -1;
	if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
		*value = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

static char *pg_quote_ident(struct dbconn *c, const char *name)
{
	char *q = PQescapeIdentifier(PG(c), name, strlen(name));
	if (!q)   /* only on an encoding error or no memory: quote by hand */
		return xasprintf("\"%s\"", name);
	char *r = xstrdup(q);
	PQfreemem(q);
	return r;
}

static char *pg_quote_literal(struct dbconn *c, const char *value)
{
	char *q = PQescapeLiteral(PG(c), value, strlen(value));
	if (!q) {
		struct strbuf sb = STRBUF_INIT;
		sb_addc(&sb, '\'');
		for (const char *p = value; *p; p++) {
			if (*p == '\'')
				sb_addc(&sb, '\'');
			sb_addc(&sb, *p);
		}
		sb_addc(&sb, '\'');
		return sb_detach(&sb);
	}
	char *r = xstrdup(q);
	PQfreemem(q);
	return r;
}

static long long pg_size(struct dbconn *c, char *err, size_t errlen)
{
	char *v = NULL;
	if (pg_query_value(c, "SELECT pg_catalog.pg_database_size(current_database())", &v,
	                   err, errlen) < 0)
		return -1;
	long long n = v ? strtoll(v, NULL, 10) : -1;
	if (!v)
		engine_err(err, errlen, "the server did not report the database size");
	free(v);
	return n;
}

static int pg_list_tables(struct dbconn *c, struct strvec *names, struct strvec *refs,
                          char *err, size_t errlen)
{
	PGresult *r = pg_run(c,
		"SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
		" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema'"
		" AND n.nspname !~ '^pg_' ORDER BY 1, 2", err, errlen);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *schema = PQgetvalue(r, i, 0), *table = PQgetvalue(r, i, 1);
		char *qs = pg_quote_ident(c, schema), *qt = pg_quote_ident(c, table);
		if (strcmp(schema, "public") == 0)
			sv_push(names, table);
		else
			sv_pushf(names, "%s.%s", schema, table);
		sv_pushf(refs, "%s.%s", qs, qt);
		free(qs);
		free(qt);
	}
	PQclear(r);
	return 0;
}

static int pg_in_transaction(struct dbconn *c)
{
	return PQtransactionStatus(PG(c)) != PQTRANS_IDLE;
}

static int pg_table_exists(struct dbconn *c, const char *name, char *err, size_t errlen)
{
	char *lit = pg_quote_literal(c, name);
	char *sql = xasprintf("SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
	                      " ON n.oid = c.relnamespace WHERE c.relname = %s"
	                      " AND n.nspname = current_schema()", lit);
	char *v = NULL;
	int rc = pg_query_value(c, sql, &v, err, errlen);
	free(lit);
	free(sql);
	free(v);
	return rc < 0 ? -1 : v != NULL;
}

/* The marker is the word "dbguard:<class>" at the start of the comment or
 * after a blank; whatever else a team wrote in the comment is kept. */
static const char *find_marker(const char *comment)
{
	for (const char *p = comment; (p = strstr(p, marker_prefix)); p++)
		if (p == comment || isspace((unsigned char)p[-1]))
			return p;
	return NULL;
}

static char *comment_without_marker(const char *comment)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = comment, *m;
	while ((m = find_marker(p))) {
		sb_add(&sb, p, (size_t)(m - p));
		for (p = m; *p && !isspace((unsigned char)*p); p++)
			;
		while (isspace((unsigned char)*p))
			p++;
	}
	sb_adds(&sb, p);
	while (sb.len > 0 && isspace((unsigned char)sb.buf[sb.len - 1]))
		sb.buf[--sb.len] = '\0';
	return sb_detach(&sb);
}

static int pg_comment(struct dbconn *c, char **comment, char *err, size_t errlen)
{
	return pg_query_value(c, "SELECT pg_catalog.shobj_description(d.oid, 'pg_database')"
	                         " FROM pg_catalog.pg_database d"
	                         " WHERE d.datname = current_database()", comment, err, errlen);
}

static int pg_marker_read(struct dbconn *c, char **marker, char *err, size_t errlen)
{
	char *comment = NULL;
	if (pg_comment(c, &comment, err, errlen) < 0)
		return -1;
	const char *m = comment ? find_marker(comment) : NULL;
	if (m) {
		m += strlen(marker_prefix);
		size_t n = 0;
		while (islower((unsigned char)m[n]))
			n++;
		if (n)
			*marker = xstrndup(m, n);
	}
	free(comment);
	return 0;
}

static int pg_marker_write(struct dbconn *c, const char *marker, char *err, size_t errlen)
{
	char *comment = NULL;
	if (pg_comment(c, &comment, err, errlen) < 0)
		return -1;
	char *rest = comment_without_marker(comment ? comment : "");
	free(comment);
	char *text = marker ? xasprintf("%s%s%s%s", marker_prefix, marker, *rest ? " " : "", rest)
	                    : xstrdup(rest);
	char *db = pg_quote_ident(c, PQdb(PG(c)));
	char *lit = *text ? pg_quote_literal(c, text) : xstrdup("NULL");
	char *sql = xasprintf("COMMENT ON DATABASE %s IS %s", db, lit);
	int rc = pg_exec(c, sql, err, errlen);
	free(rest);
	free(text);
	free(db);
	free(lit);
	free(sql);
	return rc;
}

static int pg_client_args(const struct target *t, struct strvec *argv, struct strvec *env,
                          char **cleanup_path, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*cleanup_path = NULL;
	sv_push(argv, "-h");
	sv_push(argv, target_host(t));
	char port[16];
	sv_push(argv, "-p");
	sv_push(argv, pg_port(t, port));
	if (target_get(t, TF_USER)) {
		sv_push(argv, "-U");
		sv_push(argv, target_get(t, TF_USER));
	}
	if (target_get(t, TF_PASSWORD))
		sv_pushf(env, "PGPASSWORD=%s", target_get(t, TF_PASSWORD));
	sv_push(env, "PGCONNECT_TIMEOUT=5");
	return 0;
}

/* Change detection (doc/change-detection.md).  The MVCC snapshot says
 * exactly which transactions have completed: equal snapshots mean the same
 * committed rows, catalogs, large objects and comments in every database
 * of the cluster.  What no transaction records comes on top: sequences
 * (nextval writes neither an xid nor, within log_cnt, WAL), unlogged tables
 * emptied by crash recovery, a restart, and the database's identity. */
static int pg_fingerprint(struct dbconn *c, int for_snapshot, struct strbuf *state, char **why,
                          char *err, size_t errlen)
{
	if (for_snapshot && !pg_in_transaction(c)) {
		engine_err(err, errlen, "a snapshot's fingerprint is read inside its transaction");
		return -1;
	}
	char *sql = xasprintf(
		"SELECT d.oid, pg_catalog.pg_postmaster_start_time(), pg_catalog.%s(),"
		" (SELECT count(*) FROM pg_catalog.pg_class c WHERE c.relkind = 'S'"
		"   AND c.relpersistence <> 't'"
		"   AND NOT pg_catalog.has_table_privilege(c.oid, 'SELECT')),"
		" (SELECT pg_catalog.string_agg(c.oid::text || '=' || CASE"
		"   WHEN pg_catalog.has_table_privilege(c.oid, 'SELECT') THEN"
		"   pg_catalog.query_to_xml(pg_catalog.format('SELECT last_value, is_called FROM %%s',"
		"   c.oid::pg_catalog.regclass), false, true, '')::text END, ',' ORDER BY c.oid)"
		"   FROM pg_catalog.pg_class c WHERE c.relkind = 'S' AND c.relpersistence <> 't'),"
		" (SELECT pg_catalog.string_agg(c.oid::text || '=' ||"
		"   pg_catalog.pg_relation_size(c.oid)::text, ',' ORDER BY c.oid)"
		"   FROM pg_catalog.pg_class c WHERE c.relpersistence = 'u' AND c.relkind IN ('r', 'p'))"
		" FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()",
		PQserverVersion(PG(c)) >= 130000 ? "pg_current_snapshot" : "txid_current_snapshot");
	PGresult *r = pg_run(c, sql, err, errlen);
	free(sql);
	if (!r)
		return -1;
	if (PQntuples(r) != 1 || PQnfields(r) != 6) {
		engine_err(err, errlen, "the server did not describe the current database");
		PQclear(r);
		return -1;
	}
	if (strcmp(PQgetvalue(r, 0, 3), "0") != 0) {
		*why = xasprintf("%s sequence%s cannot be read (no SELECT privilege)",
		                 PQgetvalue(r, 0, 3), strcmp(PQgetvalue(r, 0, 3), "1") ? "s" : "");
	} else {
		static const char *const keys[] = { "oid", "start", "snapshot", "", "sequences", "unlogged" };
		for (int i = 0; i < 6; i++)
			if (*keys[i])
				sb_addf(state, "%s=%s\n", keys[i], PQgetisnull(r, 0, i) ? "" : PQgetvalue(r, 0, i));
	}
	PQclear(r);
	return 0;
}

const struct engine_ops engine_pg_ops = {
	.name = "postgres",
	.connect = pg_connect,
	.close = pg_close,
	.version = pg_version,
	.major = pg_major,
	.size = pg_size,
	.list_tables = pg_list_tables,
	.begin_read_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	.in_transaction = pg_in_transaction,
	.table_exists = pg_table_exists,
	.marker_read = pg_marker_read,
	.marker_write = pg_marker_write,
	.exec = pg_exec,
	.query_value = pg_query_value,
	.quote_ident = pg_quote_ident,
	.quote_literal = pg_quote_literal,
	.client_args = pg_client_args,
	.fingerprint = pg_fingerprint,
};
