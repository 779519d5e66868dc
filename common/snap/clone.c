/* clone.c — see clone.h.  Every statement about a database goes through the
 * maintenance database: a session on the source would stop CREATE DATABASE
 * from copying it. */
#include "snap/clone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/checksum.h"
#include "base/exitcodes.h"
#include "base/xalloc.h"
#include "engine/engine.h"

char *clone_pg_name(const char *db, time_t when)
{
	char stamp[32], hex[SHA256_HEX_SIZE] = "000000000000";
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime_r(&when, &tm));
	struct sha256 h;
	if (sha256_init(&h) == 0) {
		sha256_update(&h, db, strlen(db));
		sha256_final(&h, hex);
	}
	return xasprintf("%s%s_%.12s", CLONE_PG_PREFIX, stamp, hex);
}

static void clone_target(const struct target *t, const char *name, struct target *out)
{
	target_copy(out, t);
	target_set(out, TF_DATABASE, name, "clone");
}

static int admin(const struct target *t, struct dbconn **c, char *err, size_t errlen)
{
	return db_connect_admin(t, c, err, errlen);
}

/* The other sessions on database db, described ("2 other sessions: psql,
 * app"), or NULL when none; -1 with err. */
static int other_sessions(struct dbconn *c, const char *db, char **who, char *err, size_t errlen)
{
	char *lit = db_quote_literal(c, db);
	char *sql = xasprintf("SELECT count(*) || ' other session' || CASE WHEN count(*) > 1 THEN 's'"
	                      " ELSE '' END || ' (' || string_agg(DISTINCT COALESCE(NULLIF("
	                      "application_name, ''), 'pid ' || pid), ', ') || ')'"
	                      " FROM pg_catalog.pg_stat_activity WHERE datname = %s"
	                      " AND pid <> pg_catalog.pg_backend_pid() HAVING count(*) > 0", lit);
	int rc = db_query_value(c, sql, who, err, errlen);
	free(lit);
	free(sql);
	return rc;
}

/* The other sessions still there after half a second: a client that has
 * just disconnected (our own fingerprint's, a psql a moment ago) stays
 * listed until its server process has exited, a little later. */
static int other_sessions_stay(struct dbconn *c, const char *db, char **who, char *err, size_t errlen)
{
	for (int tries = 0;; tries++) {
		if (other_sessions(c, db, who, err, errlen) < 0)
			return -1;
		if (!*who || tries == 10)
			return 0;
		free(*who);
		*who = NULL;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

int clone_pg_blocked(const struct target *t, char **why, char *err, size_t errlen)
{
	*why = NULL;
	struct dbconn *c;
	if (admin(t, &c, err, errlen) != DG_OK)
		return -1;
	int rc = 0;
	char *who = NULL;
	if (db_server_major(c) < 10) {
		*why = xasprintf("PostgreSQL %s is too old to clone databases quickly", db_server_version(c));
	} else if (other_sessions_stay(c, target_get(t, TF_DATABASE), &who, err, errlen) < 0) {
		rc = -1;
	} else if (who) {
		*why = xasprintf("the database has %s, and a clone needs it to itself "
		                 "(a snapshot never ends anyone's session)", who);
	}
	free(who);
	db_close(c);
	return rc;
}

void clone_result_free(struct clone_result *res)
{
	table_counts_free(&res->counts);
	free(res->fingerprint);
	free(res->fingerprint_why);
	free(res->server_version);
	memset(res, 0, sizeof *res);
}

static int set_connections(struct dbconn *c, const char *name, int allow, char *err, size_t errlen)
{
	char *q = db_quote_ident(c, name);
	char *sql = xasprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %s", q, allow ? "true" : "false");
	int rc = db_exec(c, sql, err, errlen);
	free(q);
	free(sql);
	return rc;
}

static int count_in(const struct target *t, struct table_counts *out, char *err, size_t errlen)
{
	struct dbconn *c;
	int rc = db_connect(t, &c, err, errlen);
	if (rc != DG_OK)
		return -1;
	rc = db_tables(c, out, err, errlen);
	db_close(c);
	return rc;
}

int clone_pg_counts(const struct target *t, const char *name, struct table_counts *out,
                    char *err, size_t errlen)
{
	struct dbconn *c;
	memset(out, 0, sizeof *out);
	if (admin(t, &c, err, errlen) != DG_OK)
		return -1;
	struct target ct;
	clone_target(t, name, &ct);
	int rc = -1;
	if (set_connections(c, name, 1, err, errlen) == 0) {
		rc = count_in(&ct, out, err, errlen);
		char e2[256];
		if (set_connections(c, name, 0, e2, sizeof e2) < 0 && rc == 0) {
			snprintf(err, errlen, "%s", e2);
			rc = -1;
		}
	}
	target_free(&ct);
	db_close(c);
	return rc;
}

int clone_pg_with_connections(const struct target *t, const char *name,
                              int (*fn)(void *arg, const struct target *clone), void *arg,
                              char *err, size_t errlen)
{
	struct dbconn *c;
	if (admin(t, &c, err, errlen) != DG_OK)
		return DG_UNREACHABLE;
	struct target ct;
	clone_target(t, name, &ct);
	int rc = DG_NO;
	if (set_connections(c, name, 1, err, errlen) == 0) {
		rc = fn(arg, &ct);
		char e2[256];
		if (set_connections(c, name, 0, e2, sizeof e2) < 0 && rc == DG_OK) {
			snprintf(err, errlen, "%s", e2);
			rc = DG_NO;
		}
	}
	target_free(&ct);
	db_close(c);
	return rc;
}

int clone_pg_exists(const struct target *t, const char *name, char *err, size_t errlen)
{
	struct dbconn *c;
	if (admin(t, &c, err, errlen) != DG_OK)
		return -1;
	char *lit = db_quote_literal(c, name);
	char *sql = xasprintf("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", lit);
	char *v = NULL;
	int rc = db_query_value(c, sql, &v, err, errlen);
	free(lit);
	free(sql);
	db_close(c);
	free(v);
	return rc < 0 ? -1 : v != NULL;
}

int clone_pg_drop(const struct target *t, const char *name, char *err, size_t errlen)
{
	struct dbconn *c;
	if (admin(t, &c, err, errlen) != DG_OK)
		return -1;
	char *q = db_quote_ident(c, name);
	char *lit = db_quote_literal(c, name);
	char *busy = xasprintf("SELECT count(pg_catalog.pg_cancel_backend(pid)) FROM"
	                       " pg_catalog.pg_stat_activity WHERE state = 'active'"
	                       " AND query LIKE 'CREATE DATABASE %%' AND pg_catalog.strpos(query, %s) > 0"
	                       " AND pid <> pg_catalog.pg_backend_pid()", lit);
	for (int i = 0; i < 600; i++) {
		char *v = NULL;
		if (db_query_value(c, busy, &v, NULL, 0) < 0 || !v || strcmp(v, "0") == 0) {
			free(v);
			break;
		}
		free(v);
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
	free(busy);
	free(lit);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s", q);
	int rc = db_exec(c, sql, err, errlen);
	free(q);
	free(sql);
	db_close(c);
	return rc;
}

/* Fingerprint (its text in *text; and, when counts is not NULL, the row
 * counts) of t's database in one read-only transaction; the session ends
 * before return. */
static int source_state(const struct target *t, char **fp, char **why, char **text,
                        struct table_counts *counts, char *err, size_t errlen)
{
	struct dbconn *c;
	int rc = db_connect(t, &c, err, errlen);
	if (rc != DG_OK)
		return rc;
	rc = DG_NO;
	if (db_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0)
		goto out;
	if (db_fingerprint_text(c, 1, fp, why, text, err, errlen) < 0)
		goto out;
	if (counts && db_tables(c, counts, err, errlen) < 0)
		goto out;
	rc = DG_OK;
out:
	db_exec(c, "ROLLBACK", NULL, 0);
	db_close(c);
	return rc;
}

/* A PostgreSQL snapshot "xmin:xmax:xip,..." (xid8 values). */
struct pgsnap {
	unsigned long long xmin, xmax, *xip;
	size_t n;
};

static int pgsnap_parse(const char *text, struct pgsnap *s)
{
	memset(s, 0, sizeof *s);
	const char *p = strstr(text, "snapshot=");
	if (!p)
		return -1;
	p += 9;
	char *end;
	s->xmin = strtoull(p, &end, 10);
	if (*end != ':')
		return -1;
	s->xmax = strtoull(end + 1, &end, 10);
	if (*end != ':')
		return -1;
	p = end + 1;
	while (*p >= '0' && *p <= '9') {
		s->xip = xrealloc(s->xip, (s->n + 1) * sizeof *s->xip);
		s->xip[s->n++] = strtoull(p, &end, 10);
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

static int pgsnap_done(const struct pgsnap *s, unsigned long long x)
{
	if (x >= s->xmax)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->xip[i] == x)
			return 0;
	return 1;
}

/* Everything but the snapshot line equal, and the transactions completed
 * at after = those completed at before, and ours (x, 32 bits) alone. */
static int only_ours(const char *before, const char *after, unsigned long long x32)
{
	const char *sb = strstr(before, "snapshot="), *sa = strstr(after, "snapshot=");
	if (!sb || !sa)
		return 0;
	size_t lb = strcspn(sb, "\n"), la = strcspn(sa, "\n");
	if ((size_t)(sb - before) != (size_t)(sa - after) || strncmp(before, after, (size_t)(sb - before)) ||
	    strcmp(sb + lb, sa + la))
		return 0;
	struct pgsnap b, a;
	int ok = 0;
	if (pgsnap_parse(before, &b) == 0 && pgsnap_parse(after, &a) == 0 && a.xmax > 0) {
		/* The full xid: the epoch of the newest snapshot's xmax. */
		unsigned long long x = (a.xmax & ~0xffffffffULL) | (x32 & 0xffffffffULL);
		if (x >= a.xmax && x >= (1ULL << 32))
			x -= 1ULL << 32;
		unsigned long long lo = b.xmin < a.xmin ? b.xmin : a.xmin;
		unsigned long long hi = b.xmax > a.xmax ? b.xmax : a.xmax;
		ok = hi - lo <= 1000000;
		for (unsigned long long i = lo; ok && i < hi; i++)
			if (pgsnap_done(&a, i) != (pgsnap_done(&b, i) || i == x))
				ok = 0;
	}
	free(b.xip);
	free(a.xip);
	return ok;
}

int clone_pg_create(const struct target *t, const char *name, struct clone_result *res,
                    char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	const char *db = target_get(t, TF_DATABASE);
	char *before = NULL;
	unsigned long long xid = 0;
	int rc = source_state(t, &res->fingerprint, &res->fingerprint_why, &before, &res->counts,
	                      err, errlen);
	if (rc != DG_OK)
		return rc;
	struct dbconn *c;
	rc = admin(t, &c, err, errlen);
	if (rc != DG_OK) {
		clone_result_free(res);
		return rc;
	}
	res->server_version = xstrdup(db_server_version(c));
	char *qn = db_quote_ident(c, name), *qd = db_quote_ident(c, db);
	/* FILE_COPY copies the files after a checkpoint (15 made WAL_LOG, a
	 * page-by-page copy through the WAL, the default); before 15 it is the
	 * only way and has no name. */
	char *sql = xasprintf("CREATE DATABASE %s TEMPLATE %s%s ALLOW_CONNECTIONS false", qn, qd,
	                      db_server_major(c) >= 15 ? " STRATEGY FILE_COPY" : "");
	rc = DG_OK;
	if (db_exec(c, sql, err, errlen) < 0)
		rc = DG_NO;
	free(sql);
	if (rc == DG_OK) {
		char *lit = db_quote_literal(c, name), *v = NULL;
		sql = xasprintf("SELECT pg_catalog.pg_database_size(%s)", lit);
		if (db_query_value(c, sql, &v, NULL, 0) == 0 && v)
			res->bytes = strtoll(v, NULL, 10);
		free(v);
		free(sql);
		/* The transaction of our CREATE DATABASE, which the snapshot
		 * after it shows completed. */
		v = NULL;
		sql = xasprintf("SELECT xmin FROM pg_catalog.pg_database WHERE datname = %s", lit);
		if (db_query_value(c, sql, &v, NULL, 0) == 0 && v)
			xid = strtoull(v, NULL, 10);
		free(v);
		free(sql);
		free(lit);
	}
	free(qn);
	free(qd);
	db_close(c);
	if (rc != DG_OK) {
		free(before);
		clone_result_free(res);
		return rc;
	}
	/* The fingerprint after the copy: when no transaction but our CREATE
	 * DATABASE completed in between, the source did not change, the counts
	 * read before describe the clone, and the fingerprint after (which
	 * counts our transaction) is the clone's state as of now. */
	char *fp2 = NULL, *why2 = NULL, *after = NULL;
	char e2[256];
	int same = res->fingerprint && xid &&
	           source_state(t, &fp2, &why2, &after, NULL, e2, sizeof e2) == DG_OK && fp2 &&
	           before && after && only_ours(before, after, xid);
	if (same) {
		free(res->fingerprint);
		res->fingerprint = fp2;
		fp2 = NULL;
	}
	free(fp2);
	free(why2);
	free(before);
	free(after);
	if (!same) {
		if (res->fingerprint) {
			free(res->fingerprint);
			res->fingerprint = NULL;
			free(res->fingerprint_why);
			res->fingerprint_why = xstrdup("the database changed while it was being cloned");
		}
		table_counts_free(&res->counts);
		if (clone_pg_counts(t, name, &res->counts, err, errlen) < 0) {
			clone_pg_drop(t, name, e2, sizeof e2);
			clone_result_free(res);
			return DG_NO;
		}
	}
	return DG_OK;
}
