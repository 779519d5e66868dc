/* pg.c — restoring PostgreSQL: a scratch database on the same server, made
 * with the target's properties, loaded by psql, checked, and swapped with the
 * target by two renames in one transaction.  See restore.h. */
#include "restore/impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/msg.h"
#include "base/term.h"
#include "base/xalloc.h"

/* The SQL of one encoded field (see struct rows). */
static char *pgf(const char *expr)
{
	return xasprintf("coalesce('v' || encode(convert_to((%s)::text, 'UTF8'), 'hex'), 'n')", expr);
}

struct pginfo {
	int exists;
	char *owner, *encoding, *collate, *ctype, *provider, *locale, *tablespace, *connlimit,
	     *comment, *acl;
};

static void pginfo_free(struct pginfo *p)
{
	free(p->owner), free(p->encoding), free(p->collate), free(p->ctype), free(p->provider);
	free(p->locale), free(p->tablespace), free(p->connlimit), free(p->comment), free(p->acl);
	memset(p, 0, sizeof *p);
}

static int pg_admin(const struct target *t, struct dbconn **c)
{
	char err[ERRLEN];
	const char *db = target_get(t, TF_DATABASE);
	int rc;
	/* One cannot rename the database one is connected to. */
	if (db && strcmp(db, "postgres") == 0) {
		struct target a;
		copy_with_db(&a, t, "template1");
		rc = db_connect(&a, c, err, sizeof err);
		target_free(&a);
	} else {
		rc = db_connect_admin(t, c, err, sizeof err);
	}
	if (rc != DG_OK)
		error("%s", err);
	return rc;
}

static int pg_info(struct dbconn *c, const char *db, struct pginfo *pi, char *err, size_t errlen)
{
	memset(pi, 0, sizeof *pi);
	int major = db_server_major(c);
	const char *exprs[] = {
		"pg_catalog.pg_get_userbyid(d.datdba)", "pg_catalog.pg_encoding_to_char(d.encoding)",
		"d.datcollate", "d.datctype",
		major >= 15 ? "d.datlocprovider" : "NULL",
		major >= 17 ? "d.datlocale" : major >= 15 ? "d.daticulocale" : "NULL",
		"s.spcname", "d.datconnlimit",
		"pg_catalog.shobj_description(d.oid, 'pg_database')", "d.datacl",
	};
	size_t nf = sizeof exprs / sizeof *exprs;
	char *fields = fields_sql(pgf, exprs, nf);
	char *lit = db_quote_literal(c, db);
	char *sql = xasprintf("SELECT %s FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace s"
	                      " ON s.oid = d.dattablespace WHERE d.datname = %s", fields, lit);
	struct rows r;
	int rc = query_rows(c, sql, nf, &r, err, errlen);
	free(fields);
	free(lit);
	free(sql);
	if (rc < 0)
		return -1;
	if (r.n == 1) {
		char **v[] = { &pi->owner, &pi->encoding, &pi->collate, &pi->ctype, &pi->provider,
		               &pi->locale, &pi->tablespace, &pi->connlimit, &pi->comment, &pi->acl };
		for (size_t f = 0; f < nf; f++) {
			*v[f] = CELL(&r, 0, f);
			CELL(&r, 0, f) = NULL;
		}
		pi->exists = 1;
	}
	rows_free(&r);
	return 0;
}

/* A new database name: empty (template0) with the properties of pi, or a
 * copy of clone (a clone snapshot: its files, with its own properties). */
static int pg_create(struct dbconn *c, const char *name, const struct pginfo *pi, int with_owner,
                     const char *clone, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	char *q = db_quote_ident(c, name);
	if (clone) {
		char *qc = db_quote_ident(c, clone);
		sb_addf(&sb, "CREATE DATABASE %s WITH TEMPLATE = %s%s", q, qc,
		        db_server_major(c) >= 15 ? " STRATEGY = FILE_COPY" : "");
		free(qc);
		if (pi->exists && with_owner && pi->owner) {
			char *v = db_quote_ident(c, pi->owner);
			sb_addf(&sb, " OWNER = %s", v);
			free(v);
		}
	} else {
		sb_addf(&sb, "CREATE DATABASE %s WITH TEMPLATE = template0", q);
	}
	free(q);
	if (pi->exists && !clone) {
		char *v;
		if (with_owner && pi->owner) {
			v = db_quote_ident(c, pi->owner);
			sb_addf(&sb, " OWNER = %s", v);
			free(v);
		}
		const char *const keys[] = { "ENCODING", "LC_COLLATE", "LC_CTYPE" };
		const char *const vals[] = { pi->encoding, pi->collate, pi->ctype };
		for (size_t i = 0; i < 3; i++)
			if (vals[i]) {
				v = db_quote_literal(c, vals[i]);
				sb_addf(&sb, " %s = %s", keys[i], v);
				free(v);
			}
		if (pi->provider && pi->locale && (pi->provider[0] == 'i' || pi->provider[0] == 'b')) {
			v = db_quote_literal(c, pi->locale);
			sb_addf(&sb, pi->provider[0] == 'i' ? " LOCALE_PROVIDER = icu ICU_LOCALE = %s"
			                                    : " LOCALE_PROVIDER = builtin BUILTIN_LOCALE = %s", v);
			free(v);
		} else if (pi->provider && pi->provider[0] == 'c') {
			sb_adds(&sb, " LOCALE_PROVIDER = libc");
		}
		if (pi->tablespace && strcmp(pi->tablespace, "pg_default") != 0) {
			v = db_quote_ident(c, pi->tablespace);
			sb_addf(&sb, " TABLESPACE = %s", v);
			free(v);
		}
		if (pi->connlimit && strcmp(pi->connlimit, "-1") != 0)
			sb_addf(&sb, " CONNECTION LIMIT = %d", atoi(pi->connlimit));
	}
	int rc = db_exec(c, sb_str(&sb), err, errlen);
	sb_free(&sb);
	return rc;
}

static void pg_drop(struct dbconn *c, const char *name)
{
	char err[ERRLEN];
	char *q = db_quote_ident(c, name);
	/* WITH (FORCE) ends a loader's session still finishing; before 13,
	 * give that session a moment to go. */
	int force = db_server_major(c) >= 13;
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s%s", q, force ? " WITH (FORCE)" : "");
	int rc = -1;
	for (int i = 0; i < (force ? 1 : 20) && rc < 0; i++) {
		if (i)
			usleep(250000);
		rc = db_exec(c, sql, err, sizeof err);
	}
	if (rc < 0)
		warn("cannot drop the database '%s': %s", name, err);
	free(q);
	free(sql);
}

/* Other client sessions on db, one line each; 0 and *list NULL when none. */
static int pg_session_list(struct dbconn *c, const char *db, char **list, char *err, size_t errlen)
{
	char *lit = db_quote_literal(c, db);
	char *sql = xasprintf(
		"SELECT string_agg(format('pid %%s, user %%s, application %%s, from %%s, %%s',"
		" a.pid, coalesce(a.usename, '?'),"
		" coalesce(nullif(translate(a.application_name, E'\\n\\t', '  '), ''), '?'),"
		" coalesce(host(a.client_addr), 'local socket'), coalesce(a.state, '?')), E'\\n' ORDER BY a.pid)"
		" FROM pg_catalog.pg_stat_activity a WHERE a.datname = %s"
		" AND a.pid <> pg_catalog.pg_backend_pid() AND a.backend_type = 'client backend'", lit);
	int rc = db_query_value(c, sql, list, err, errlen);
	free(lit);
	free(sql);
	return rc;
}

static void report_sessions(const char *db, const char *list, int terminate)
{
	size_t n = 1;
	for (const char *p = list; *p; p++)
		n += *p == '\n';
	if (terminate)
		warn("'%s' has %zu other session%s open; ending %s (--terminate-connections)",
		     db, n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
	else
		error("'%s' has %zu other session%s open", db, n, n == 1 ? "" : "s");
	char *copy = xstrdup(list);
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (terminate)
			warn("  %s", line);
		else
			error("  %s", line);
	free(copy);
}

/* Database-level properties a restore must keep: the comment (and with it
 * the dbguard marker), privileges and settings.  pg_dump leaves them out of
 * a plain dump, so the scratch database gets the target's. */
static void pg_copy_properties(struct dbconn *c, const char *target, const char *scratch,
                               const struct pginfo *pi)
{
	char err[ERRLEN];
	char *qs = db_quote_ident(c, scratch);
	if (pi->comment) {
		char *lit = db_quote_literal(c, pi->comment);
		char *sql = xasprintf("COMMENT ON DATABASE %s IS %s", qs, lit);
		if (db_exec(c, sql, err, sizeof err) < 0)
			warn("cannot keep the comment (and marker) of '%s': %s", target, err);
		free(lit);
		free(sql);
	}
	char *lit = db_quote_literal(c, target);
	if (pi->acl) {
		const char *exprs[] = { "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END",
		                        "a.privilege_type", "CASE WHEN a.is_grantable THEN 'y' ELSE '' END" };
		char *fields = fields_sql(pgf, exprs, 3);
		char *sql = xasprintf("SELECT string_agg(%s, ' ') FROM pg_catalog.pg_database d,"
		                      " pg_catalog.aclexplode(d.datacl) a WHERE d.datname = %s", fields, lit);
		struct rows r;
		if (query_rows(c, sql, 3, &r, err, sizeof err) == 0) {
			char *rev = xasprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", qs);
			db_exec(c, rev, NULL, 0);
			free(rev);
			for (size_t i = 0; i < r.n; i++) {
				const char *who = CELL(&r, i, 0), *priv = CELL(&r, i, 1), *grant = CELL(&r, i, 2);
				if (!who || !priv)
					continue;
				char *qw = strcmp(who, "PUBLIC") == 0 ? xstrdup("PUBLIC") : db_quote_ident(c, who);
				char *g = xasprintf("GRANT %s ON DATABASE %s TO %s%s", priv, qs, qw,
				                    grant && *grant ? " WITH GRANT OPTION" : "");
				if (db_exec(c, g, err, sizeof err) < 0)
					warn("cannot keep the privilege %s of %s on '%s': %s", priv, who, target, err);
				free(qw);
				free(g);
			}
			rows_free(&r);
		} else {
			warn("cannot read the privileges on '%s': %s", target, err);
		}
		free(fields);
		free(sql);
	}
	char *f = pgf("s.c");
	char *sql = xasprintf("SELECT string_agg(%s, ' ') FROM pg_catalog.pg_db_role_setting r"
	                      " JOIN pg_catalog.pg_database d ON d.oid = r.setdatabase,"
	                      " unnest(r.setconfig) s(c) WHERE r.setrole = 0 AND d.datname = %s", f, lit);
	struct rows r;
	if (query_rows(c, sql, 1, &r, err, sizeof err) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			char *setting = CELL(&r, i, 0);
			char *eq = setting ? strchr(setting, '=') : NULL;
			if (!eq)
				continue;
			*eq = '\0';
			char *qn = db_quote_ident(c, setting);
			struct strbuf v = STRBUF_INIT;
			/* List settings are stored as "a, b"; each element is its own literal. */
			int list = !strcmp(setting, "search_path") || !strcmp(setting, "temp_tablespaces") ||
			           strstr(setting, "preload_libraries");
			if (list) {
				char *copy = xstrdup(eq + 1);
				for (char *save = NULL, *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
					while (*e == ' ')
						e++;
					size_t n = strlen(e);
					if (n >= 2 && e[0] == '"' && e[n - 1] == '"') {
						e[n - 1] = '\0';
						e++;
					}
					char *l = db_quote_literal(c, e);
					sb_addf(&v, "%s%s", v.len ? ", " : "", l);
					free(l);
				}
				free(copy);
			} else {
				char *l = db_quote_literal(c, eq + 1);
				sb_adds(&v, l);
				free(l);
			}
			char *alter = xasprintf("ALTER DATABASE %s SET %s TO %s", qs, qn, sb_str(&v));
			if (db_exec(c, alter, err, sizeof err) < 0)
				warn("cannot keep the setting %s of '%s': %s", setting, target, err);
			free(alter);
			free(qn);
			sb_free(&v);
		}
		rows_free(&r);
	} else {
		warn("cannot read the settings of '%s': %s", target, err);
	}
	free(f);
	free(sql);
	free(lit);
	free(qs);
}

static char *pg_program(const char *name, int major)
{
	char *p = xasprintf("/usr/lib/postgresql/%d/bin/%s", major, name);
	if (major > 0 && access(p, X_OK) == 0)
		return p;
	free(p);
	return xstrdup(name);
}

static int pg_load(const struct target *t, const char *scratch, const struct restore_input *in, int major)
{
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	sv_push_owned(&argv, pg_program("psql", major));
	sv_push(&argv, "-X");
	sv_push(&argv, "-q");
	sv_push(&argv, "-v");
	sv_push(&argv, "ON_ERROR_STOP=1");
	sv_push(&argv, "--single-transaction");
	char *cleanup = NULL, err[ERRLEN];
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("%s", err);
		sv_free(&argv);
		sv_free(&env);
		return DG_NO;
	}
	/* The name goes through the environment: psql would read a "-d" that
	 * looks like a connection string as one. */
	sv_pushf(&env, "PGDATABASE=%s", scratch);
	sv_push(&env, "PGAPPNAME=dbguard-restore");
	char *label = xasprintf("restoring %s", target_get(t, TF_DATABASE));
	static const char *const bad[] = { "\\connect", "\\c ", "\\!", NULL };
	int rc = run_loader(sv_argv(&argv), sv_argv(&env), in, label, bad);
	free(label);
	db_client_cleanup(cleanup);
	sv_free(&argv);
	sv_free(&env);
	return rc;
}

/* The swap: one transaction renaming the target away and the scratch
 * database in.  0, or -1 with err. */
static int pg_swap(struct dbconn *c, const char *db, const char *scratch, const char *old,
                   int exists, int terminate, char *err, size_t errlen)
{
	char *qd = db_quote_ident(c, db), *qs = db_quote_ident(c, scratch), *qo = db_quote_ident(c, old);
	char *lit = db_quote_literal(c, db);
	char *kill = xasprintf("SELECT count(pg_catalog.pg_terminate_backend(pid%s))"
	                       " FROM pg_catalog.pg_stat_activity WHERE datname = %s"
	                       " AND pid <> pg_catalog.pg_backend_pid()",
	                       db_server_major(c) >= 14 ? ", 5000" : "", lit);
	char *away = xasprintf("ALTER DATABASE %s RENAME TO %s", qd, qo);
	char *in = xasprintf("ALTER DATABASE %s RENAME TO %s", qs, qd);
	int rc = -1;
	/* A session may arrive between ending the others and the rename. */
	for (int attempt = 0; attempt < 3 && rc < 0; attempt++) {
		if (attempt)
			db_exec(c, "ROLLBACK", NULL, 0);
		if (db_exec(c, "BEGIN", err, errlen) < 0)
			break;
		if ((exists && terminate && db_exec(c, kill, err, errlen) < 0) ||
		    (exists && db_exec(c, away, err, errlen) < 0) ||
		    (fault_point("restore.swap"), db_exec(c, in, err, errlen)) < 0)
			continue;
		if (db_exec(c, "COMMIT", err, errlen) == 0)
			rc = 0;
		if (!terminate)
			break;
	}
	if (rc < 0)
		db_exec(c, "ROLLBACK", NULL, 0);
	free(qd), free(qs), free(qo), free(lit), free(kill), free(away), free(in);
	return rc;
}

int pg_run(const struct target *t, const struct restore_input *in,
           const struct restore_opts *o, int check_only)
{
	struct dbconn *c;
	int rc = pg_admin(t, &c);
	if (rc != DG_OK)
		return rc;
	char err[ERRLEN];
	const char *db = target_get(t, TF_DATABASE);
	int major = db_server_major(c);
	struct pginfo pi;
	if (pg_info(c, db, &pi, err, sizeof err) < 0) {
		error("cannot read the properties of '%s': %s", db, err);
		db_close(c);
		return DG_NO;
	}
	char *scratch = scratch_name(db, "restore");
	char *old = NULL;
	/* A clone snapshot is copied by the server itself, from the clone,
	 * which stays for the next restore. */
	const char *clone = in->meta && store_meta_is_clone(in->meta) ? in->meta->clone : NULL;
	if (clone && (in->meta->port != target_port(t) ||
	              strcmp(in->meta->host ? in->meta->host : "", target_host(t) ? target_host(t) : ""))) {
		error("'%s' is a clone on the server %s:%d, not on this one; db-snap --export writes its "
		      "portable dump", in->name, in->meta->host, in->meta->port);
		rc = DG_USAGE;
		goto out;
	}
	if (pg_create(c, scratch, &pi, 1, clone, err, sizeof err) < 0) {
		if (pi.exists && pi.owner && strstr(err, "must be")) {
			warn("cannot give the restored database the owner '%s' (%s); it will be owned by the"
			     " connecting user", pi.owner, err);
			rc = pg_create(c, scratch, &pi, 0, clone, err, sizeof err) < 0 ? DG_NO : DG_OK;
		} else {
			rc = DG_NO;
		}
		if (rc != DG_OK) {
			error("cannot create the scratch database '%s': %s", scratch, err);
			goto out;
		}
	}
	if (clone) {
		verbose("copied the clone '%s' into the scratch database '%s'", clone, scratch);
		rc = DG_OK;
	} else {
		verbose("loading '%s' into the scratch database '%s'", in->name, scratch);
		rc = pg_load(t, scratch, in, major);
	}
	if (rc == DG_OK) {
		fault_point("restore.load");
		rc = counts_of(t, scratch, in->meta, "the restored database");
	}
	if (rc == DG_OK)
		fault_point("restore.counted");
	if (rc == DG_OK && restore_interrupted())
		rc = 128 + restore_interrupted();
	if (rc != DG_OK || check_only) {
		pg_drop(c, scratch);
		goto out;
	}
	pg_copy_properties(c, db, scratch, &pi);

	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", gmtime_r(&now, &tm));
	if (o->keep_old) {
		char *p = name_prefix(db);
		old = xasprintf("%s_old_%s", p, stamp);
		free(p);
	} else {
		old = scratch_name(db, "old");
	}
	double t0 = now_seconds();
	progress_stage("swapping the restored database in for '%s'", db);
	/* From here the restore runs to its end: a signal only ends the run after. */
	if (pg_swap(c, db, scratch, old, pi.exists, o->terminate_connections, err, sizeof err) < 0) {
		if (strstr(err, "being accessed by other users")) {
			char *list = NULL, e2[ERRLEN];
			if (pg_session_list(c, db, &list, e2, sizeof e2) == 0 && list)
				report_sessions(db, list, 0);
			free(list);
			error("'%s' is in use; close its sessions or use --terminate-connections", db);
		} else {
			error("cannot swap the restored database in for '%s': %s", db, err);
		}
		pg_drop(c, scratch);
		rc = DG_NO;
		goto out;
	}
	verbose("swapped '%s' in for '%s' in %.3f s", scratch, db, now_seconds() - t0);
	fault_point("restore.swapped");
	if (!pi.exists)
		;
	else if (o->keep_old)
		info("the replaced database is kept as '%s'", old);
	else
		pg_drop(c, old);
	rc = DG_OK;
out:
	pginfo_free(&pi);
	free(scratch);
	free(old);
	db_close(c);
	return rc;
}

/* The databases whose names match the LIKE literal lit. */
static char *pg_list_sql(const char *lit)
{
	char *f = pgf("datname");
	char *sql = xasprintf("SELECT string_agg(%s, ' ') FROM pg_catalog.pg_database WHERE datname LIKE %s",
	                      f, lit);
	free(f);
	return sql;
}

int pg_prepare(const struct target *t, const char *db)
{
	struct dbconn *c;
	int rc = pg_admin(t, &c);
	if (rc != DG_OK)
		return rc;
	drop_leftovers(c, db, pg_list_sql, pg_drop);
	db_close(c);
	return DG_OK;
}

int pg_sessions(const struct target *t, int terminate)
{
	struct dbconn *c;
	int rc = pg_admin(t, &c);
	if (rc != DG_OK)
		return rc;
	char *list = NULL, err[ERRLEN];
	const char *db = target_get(t, TF_DATABASE);
	if (pg_session_list(c, db, &list, err, sizeof err) < 0) {
		error("cannot list the sessions on '%s': %s", db, err);
		rc = DG_NO;
	} else if (list && *list) {
		restore_in_use = 1;
		report_sessions(db, list, terminate);
		if (!terminate) {
			error("refusing to replace '%s' while it is in use; close those sessions or use"
			      " --terminate-connections; nothing was changed", db);
			rc = DG_NO;
		}
	}
	free(list);
	db_close(c);
	return rc;
}
