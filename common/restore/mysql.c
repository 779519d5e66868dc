/* mysql.c — restoring MySQL/MariaDB, which cannot rename a schema: a scratch
 * schema whose tables are moved in by one atomic RENAME TABLE, the unfinished
 * step recorded in the store so that the next run can finish it.  See
 * restore.h. */
#include "restore/impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/term.h"
#include "base/output.h"
#include "base/process.h"
#include "base/xalloc.h"

/* The SQL of one encoded field (see struct rows). */
static char *myf(const char *expr)
{
	return xasprintf("IFNULL(CONCAT('v', HEX(%s)), 'n')", expr);
}

struct ddl {
	char *kind;      /* PROCEDURE FUNCTION VIEW TRIGGER EVENT */
	char *name;
	char *sql_mode;  /* NULL for views */
	char *tz;        /* events */
	char *create;
	char *cs, *coll; /* the client character set and collation it was made with */
};

struct ddl_list {
	struct ddl *v;
	size_t n;
};

static void ddl_free(struct ddl_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].kind), free(l->v[i].name), free(l->v[i].sql_mode);
		free(l->v[i].tz), free(l->v[i].create), free(l->v[i].cs), free(l->v[i].coll);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Every object of the connection's database: kind, name, and for all but
 * tables the character set and collation of the client that made it. */
static const char my_objects_sql[] =
	"SELECT GROUP_CONCAT(CONCAT_WS(',', CONCAT('v', HEX(k)), CONCAT('v', HEX(n)),"
	" IFNULL(CONCAT('v', HEX(cs)), 'n'), IFNULL(CONCAT('v', HEX(co)), 'n')) ORDER BY o, s SEPARATOR ' ')"
	" FROM (SELECT 1 AS o, 0 AS s, ROUTINE_TYPE AS k, ROUTINE_NAME AS n, CHARACTER_SET_CLIENT AS cs,"
	"  COLLATION_CONNECTION AS co FROM information_schema.ROUTINES"
	"  WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')"
	" UNION ALL SELECT 2, 0, 'VIEW', TABLE_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION"
	"  FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
	" UNION ALL SELECT 3, ACTION_ORDER, 'TRIGGER', TRIGGER_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION"
	"  FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
	" UNION ALL SELECT 4, 0, 'EVENT', EVENT_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION"
	"  FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
	" UNION ALL SELECT 5, 0, 'TABLE', TABLE_NAME, NULL, NULL FROM information_schema.TABLES"
	"  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE')) x";

/* Every object of the connection's database: kind and name. */
static int my_objects(struct dbconn *c, struct rows *r, char *err, size_t errlen)
{
	if (db_exec(c, "SET SESSION group_concat_max_len = 4294967295", err, errlen) < 0)
		return -1;
	return query_rows(c, my_objects_sql, 4, r, err, errlen);
}

static int my_connect_db(const struct target *t, const char *db, struct dbconn **c)
{
	struct target s;
	copy_with_db(&s, t, db);
	char err[ERRLEN];
	int rc = db_connect(&s, c, err, sizeof err);
	target_free(&s);
	if (rc != DG_OK)
		error("%s", err);
	return rc;
}

/* Run SHOW CREATE for the objects objs[idx[k]] whose client character set
 * is cs, through the mariadb client with that character set (so the text
 * comes back as the bytes it was made of), each row on one line of its
 * batch output.  Fills out->v[k] for those.  0 or -1 (reported). */
static int my_fetch_group(const struct target *t, const char *db, const struct rows *objs,
                          const size_t *idx, size_t n, const char *cs, struct ddl_list *out)
{
	struct strbuf stmts = STRBUF_INIT;
	for (size_t k = 0; k < n; k++) {
		const char *c = CELL(objs, idx[k], 2);
		if (out->v[k].kind || strcmp(c ? c : "", cs))
			continue;
		struct strbuf q = STRBUF_INIT;
		sb_addc(&q, '`');
		for (const char *p = CELL(objs, idx[k], 1); *p; p++) {
			if (*p == '`')
				sb_addc(&q, '`');
			sb_addc(&q, *p);
		}
		sb_addc(&q, '`');
		sb_addf(&stmts, "SHOW CREATE %s %s;\n", CELL(objs, idx[k], 0), sb_str(&q));
		sb_free(&q);
	}
	const char *const names[] = { "mariadb", "mysql", NULL };
	char *prog = find_on_path(names);
	if (!prog) {
		error("cannot run 'mariadb': not found; install mariadb-client");
		sb_free(&stmts);
		return -1;
	}
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	sv_push_owned(&argv, prog);
	char *cleanup = NULL, err[ERRLEN];
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("%s", err);
		sv_free(&argv);
		sv_free(&env);
		sb_free(&stmts);
		return -1;
	}
	sv_push(&argv, "--batch");
	sv_push(&argv, "--skip-column-names");
	sv_pushf(&argv, "--default-character-set=%s", *cs ? cs : "utf8mb4");
	sv_pushf(&argv, "--database=%s", db);
	sv_push(&argv, "-e");
	sv_push(&argv, sb_str(&stmts));
	char *text = NULL;
	int st = run_capture(sv_argv(&argv), sv_argv(&env), -1, &text, NULL);
	db_client_cleanup(cleanup);
	sv_free(&argv);
	sv_free(&env);
	sb_free(&stmts);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		error("cannot read the definitions of the views, triggers and routines of '%s'", db);
		free(text);
		return -1;
	}
	char *save = NULL;
	char *line = strtok_r(text, "\n", &save);
	for (size_t k = 0; k < n; k++) {
		const char *c = CELL(objs, idx[k], 2);
		if (out->v[k].kind || strcmp(c ? c : "", cs))
			continue;
		const char *kind = CELL(objs, idx[k], 0);
		char *f[8];
		int nf = line ? tsv_split(line, f, 8) : 0;
		/* Columns: VIEW name, create, ...; TRIGGER/PROCEDURE/FUNCTION name,
		 * sql_mode, create, ...; EVENT name, sql_mode, time_zone, create, ... */
		int is_view = strcmp(kind, "VIEW") == 0, is_event = strcmp(kind, "EVENT") == 0;
		int ci = is_view ? 1 : is_event ? 3 : 2;
		if (nf <= ci || strcmp(f[ci], "NULL") == 0) {
			error("cannot read the definition of %s '%s' in '%s'", kind, CELL(objs, idx[k], 1), db);
			free(text);
			return -1;
		}
		struct ddl *d = &out->v[k];
		d->kind = xstrdup(kind);
		d->name = xstrdup(CELL(objs, idx[k], 1));
		d->sql_mode = is_view ? NULL : xstrdup(f[1]);
		d->tz = is_event ? xstrdup(f[2]) : NULL;
		d->create = xstrdup(f[ci]);
		d->cs = xstrdup(c);
		d->coll = xstrdup(CELL(objs, idx[k], 3));
		line = strtok_r(NULL, "\n", &save);
	}
	free(text);
	return 0;
}

/* The definitions of db's routines, views, triggers and events, as SHOW
 * CREATE gives them with db the current database (so without its name in
 * them), in the order they are to be made. */
static int my_fetch_ddl(const struct target *t, const char *db, const struct rows *objs,
                        struct ddl_list *out)
{
	memset(out, 0, sizeof *out);
	size_t *idx = xcalloc(objs->n + 1, sizeof *idx), n = 0;
	for (size_t i = 0; i < objs->n; i++)
		if (CELL(objs, i, 0) && CELL(objs, i, 1) && strcmp(CELL(objs, i, 0), "TABLE"))
			idx[n++] = i;
	out->v = xcalloc(n + 1, sizeof *out->v);
	out->n = n;
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++)
		if (!out->v[k].kind) {
			const char *cs = CELL(objs, idx[k], 2);
			rc = my_fetch_group(t, db, objs, idx, n, cs ? cs : "", out);
		}
	free(idx);
	if (rc < 0)
		ddl_free(out);
	return rc;
}

static int my_create_one(struct dbconn *c, const struct ddl *d, char *err, size_t errlen)
{
	int rc = 0;
	if (d->sql_mode) {
		char *lit = db_quote_literal(c, d->sql_mode);
		char *sql = xasprintf("SET SESSION sql_mode = %s", lit);
		rc = db_exec(c, sql, err, errlen);
		free(lit);
		free(sql);
	}
	if (rc == 0 && d->tz) {
		char *lit = db_quote_literal(c, d->tz);
		char *sql = xasprintf("SET SESSION time_zone = %s", lit);
		rc = db_exec(c, sql, err, errlen);
		free(lit);
		free(sql);
	}
	/* Made again with the character set it was made with, from the bytes
	 * fetched in that character set: the same definition, byte for byte. */
	if (rc == 0 && d->cs && d->coll) {
		char *cs = db_quote_literal(c, d->cs), *coll = db_quote_literal(c, d->coll);
		char *sql = xasprintf("SET SESSION character_set_client = %s, character_set_results = %s,"
		                      " collation_connection = %s", cs, cs, coll);
		rc = db_exec(c, sql, err, errlen);
		free(cs);
		free(coll);
		free(sql);
	}
	if (rc == 0)
		rc = db_exec(c, d->create, err, errlen);
	db_exec(c, "SET NAMES utf8mb4", NULL, 0);
	db_exec(c, "SET SESSION sql_mode = @dbguard_sql_mode, time_zone = @dbguard_time_zone", NULL, 0);
	return rc;
}

/* Create the objects in the connection's database: routines, then views
 * (again and again while a view waits for another), triggers, events. */
static int my_create_objects(struct dbconn *c, const struct ddl_list *l, char *err, size_t errlen)
{
	db_exec(c, "SET @dbguard_sql_mode = @@SESSION.sql_mode, @dbguard_time_zone = @@SESSION.time_zone", NULL, 0);
	const char *const order[] = { "PROCEDURE", "FUNCTION", "VIEW", "TRIGGER", "EVENT" };
	for (size_t k = 0; k < 5; k++) {
		char *done = xcalloc(l->n + 1, 1);
		int progress = 1, left = 1;
		while (progress && left) {
			progress = left = 0;
			for (size_t i = 0; i < l->n; i++) {
				if (done[i] || strcmp(l->v[i].kind, order[k]))
					continue;
				if (my_create_one(c, &l->v[i], err, errlen) == 0) {
					done[i] = 1;
					progress = 1;
				} else {
					left = 1;
				}
			}
			if (strcmp(order[k], "VIEW") != 0)
				break;
		}
		free(done);
		if (left)
			return -1;
	}
	return 0;
}

static char *my_ident(struct dbconn *c, const char *a, const char *b)
{
	char *qa = db_quote_ident(c, a), *qb = b ? db_quote_ident(c, b) : NULL;
	char *r = qb ? xasprintf("%s.%s", qa, qb) : xstrdup(qa);
	free(qa);
	free(qb);
	return r;
}

/* Drop the schema name; a failure is a warning naming it as what. */
static void my_drop(struct dbconn *c, const char *name, const char *what)
{
	char err[ERRLEN];
	char *q = my_ident(c, name, NULL);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s", q);
	if (db_exec(c, sql, err, sizeof err) < 0)
		warn("cannot drop the %s '%s': %s", what, name, err);
	free(q);
	free(sql);
}

static char *state_path(const struct restore_opts *o)
{
	return o->store && o->dbkey ? xasprintf("%s/.restore-%s.state", o->store, o->dbkey) : NULL;
}

static char *abs_path(const char *p)
{
	if (!p)
		return NULL;
	char *r = realpath(p, NULL);
	return r ? r : xstrdup(p);
}

static void state_write(const struct restore_opts *o, const struct target *t, const char *scratch,
                        const char *old)
{
	char *path = state_path(o);
	if (!path)
		return;
	char *snap = abs_path(o->snapshot_path), *safety = abs_path(o->safety_path);
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "format=dbguard-restore-state-1\nengine=mysql\n");
	sb_addf(&sb, "host=%s\nport=%d\ndatabase=%s\nscratch=%s\nold=%s\nsnapshot=%s\nsafety=%s\n",
	        target_host(t), target_port(t), target_get(t, TF_DATABASE), scratch, old,
	        snap ? snap : "", safety ? safety : "");
	if (atomic_write_file(path, sb.buf, sb.len, 0600) < 0)
		warn("cannot record the restore in '%s':", path);
	sb_free(&sb);
	free(snap);
	free(safety);
	free(path);
}

static void state_remove(const struct restore_opts *o)
{
	char *path = state_path(o);
	if (path && unlink(path) == 0)
		fsync_dir_of(path);
	free(path);
}

static int my_put_back(const struct target *t, const struct restore_opts *o, const char *old);

/* A view of a database that joins another one is printed with every name
 * in full, its own database's too: loaded into scratch from a snapshot of
 * from, it still reads from.  Each name of from or of scratch (dropped at
 * the end) becomes db's, so that a restore into another database (--into)
 * reads its own tables.  Only views: the server prints their definitions
 * itself, every name backquoted.  Left as they are, with a warning: a view
 * in a client character set where '`' or '\\' can be part of a character
 * (sjis, big5, gbk...), or one whose definition does not scan. */
static void my_repoint_views(struct dbconn *c, struct ddl_list *l, const char *from, const char *scratch,
                             const char *db)
{
	static const char *const unsafe[] = { "sjis", "cp932", "big5", "gbk", "gb18030", NULL };
	const char *names[] = { scratch, from && strcmp(from, db) ? from : NULL, NULL };
	char *qdb = db_quote_ident(c, db);
	for (size_t i = 0; i < l->n; i++) {
		struct ddl *d = &l->v[i];
		int skip = strcmp(d->kind, "VIEW") != 0;
		for (size_t k = 0; unsafe[k] && !skip; k++)
			skip = d->cs && !strcmp(d->cs, unsafe[k]);
		for (size_t k = 0; names[k] && !skip; k++) {
			int hits = 0;
			char *r = mysql_requalify(d->create, names[k], qdb, &hits);
			if (!r) {
				warn("the view '%s' is made as the snapshot has it: its definition does not scan", d->name);
				break;
			}
			if (hits) {
				free(d->create);
				d->create = r;
			} else {
				free(r);
			}
		}
	}
	free(qdb);
}

/* Replace the target's objects by the scratch schema's (loaded from a
 * snapshot of the database from, NULL when not known).  0 or -1 (reported). */
static int my_replace(const struct target *t, struct dbconn *adm, const char *db, const char *scratch,
                      const char *old, const char *charset_sql, const struct restore_opts *o, const char *from)
{
	char err[ERRLEN];
	struct dbconn *sc = NULL, *tc = NULL;
	struct rows sobj = { 0 }, tobj = { 0 };
	struct ddl_list ddl = { 0 };
	int rc = -1;
	if (my_connect_db(t, scratch, &sc) != DG_OK)
		return -1;
	if (my_objects(sc, &sobj, err, sizeof err) < 0) {
		error("cannot list the objects of '%s': %s", scratch, err);
		goto out;
	}
	if (my_fetch_ddl(t, scratch, &sobj, &ddl) < 0)
		goto out;
	my_repoint_views(sc, &ddl, from, scratch, db);
	if (my_connect_db(t, db, &tc) != DG_OK)
		goto out;
	if (my_objects(tc, &tobj, err, sizeof err) < 0) {
		error("cannot list the objects of '%s': %s", db, err);
		goto out;
	}

	/* From the first change to the target until the end, the store holds
	 * a record of this restore, so that the next run can finish it. */
	state_write(o, t, scratch, old);
	db_exec(tc, "SET SESSION FOREIGN_KEY_CHECKS = 0", NULL, 0);
	db_exec(sc, "SET SESSION FOREIGN_KEY_CHECKS = 0", NULL, 0);
	/* Tables with triggers cannot change schema; views of the target
	 * would stand in the way of the scratch tables' names. */
	struct strbuf sql = STRBUF_INIT;
	for (size_t i = 0; i < tobj.n; i++) {
		const char *kind = CELL(&tobj, i, 0), *name = CELL(&tobj, i, 1);
		if (!kind || !name || strcmp(kind, "TABLE") == 0)
			continue;
		char *q = my_ident(tc, name, NULL);
		sb_reset(&sql);
		sb_addf(&sql, "DROP %s IF EXISTS %s", kind, q);
		free(q);
		if (db_exec(tc, sb_str(&sql), err, sizeof err) < 0) {
			error("cannot drop %s '%s' of '%s': %s", kind, name, db, err);
			sb_free(&sql);
			goto fail;
		}
	}
	for (size_t i = 0; i < sobj.n; i++) {
		const char *kind = CELL(&sobj, i, 0), *name = CELL(&sobj, i, 1);
		if (!kind || !name || strcmp(kind, "TRIGGER"))
			continue;
		char *q = my_ident(sc, name, NULL);
		sb_reset(&sql);
		sb_addf(&sql, "DROP TRIGGER %s", q);
		free(q);
		if (db_exec(sc, sb_str(&sql), err, sizeof err) < 0) {
			error("cannot drop trigger '%s' of '%s': %s", name, scratch, err);
			sb_free(&sql);
			goto fail;
		}
	}
	/* The target has changed (its views and triggers are gone): from here
	 * the record in the store is what the next run finishes from. */
	fault_point("restore.swap");
	char *qo = my_ident(adm, old, NULL);
	sb_reset(&sql);
	sb_addf(&sql, "CREATE DATABASE %s%s", qo, charset_sql);
	free(qo);
	if (db_exec(adm, sb_str(&sql), err, sizeof err) < 0) {
		error("cannot create the schema '%s': %s", old, err);
		sb_free(&sql);
		goto fail;
	}
	progress_stage("moving the restored tables into '%s'", db);
	/* One statement moves every table: MariaDB renames all or none. */
	sb_reset(&sql);
	sb_adds(&sql, "RENAME TABLE ");
	size_t moves = 0;
	for (int side = 0; side < 2; side++) {
		const struct rows *r = side ? &sobj : &tobj;
		const char *from = side ? scratch : db, *to = side ? db : old;
		for (size_t i = 0; i < r->n; i++) {
			const char *kind = CELL(r, i, 0), *name = CELL(r, i, 1);
			if (!kind || !name || strcmp(kind, "TABLE"))
				continue;
			char *a = my_ident(adm, from, name), *b = my_ident(adm, to, name);
			sb_addf(&sql, "%s%s TO %s", moves++ ? ", " : "", a, b);
			free(a);
			free(b);
		}
	}
	double t0 = now_seconds();
	if (moves && db_exec(adm, sb_str(&sql), err, sizeof err) < 0) {
		error("cannot move the restored tables into '%s': %s", db, err);
		sb_free(&sql);
		goto fail;
	}
	sb_free(&sql);
	verbose("moved %zu tables in %.3f s", moves, now_seconds() - t0);
	if (my_create_objects(tc, &ddl, err, sizeof err) < 0) {
		error("cannot create the views, triggers and routines of the snapshot in '%s': %s", db, err);
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	rc = my_put_back(t, o, old) == DG_OK ? -2 : -1;
out:
	rows_free(&sobj);
	rows_free(&tobj);
	ddl_free(&ddl);
	db_close(sc);
	db_close(tc);
	return rc;
}

static int load_snapshot_file(const struct target *t, const char *path, const struct restore_opts *o);

/* Replacing failed part-way: back to the state before, from the safety
 * snapshot.  DG_OK when that worked (said so). */
static int my_put_back(const struct target *t, const struct restore_opts *o, const char *old)
{
	const char *db = target_get(t, TF_DATABASE);
	if (!o->safety_path) {
		error("'%s' is now partly replaced and there is no safety snapshot; its former tables"
		      " are in the schema '%s'", db, old);
		return DG_NO;
	}
	error("replacing '%s' failed part-way; putting it back from the safety snapshot '%s'",
	      db, o->safety_path);
	struct restore_opts back = *o;
	back.snapshot_path = o->safety_path;
	back.safety_path = NULL;
	int rc = load_snapshot_file(t, o->safety_path, &back);
	if (rc == DG_OK)
		error("'%s' is back as it was before, from '%s'", db, o->safety_path);
	else
		error("putting '%s' back failed too; its former tables are in the schema '%s'", db, old);
	return rc;
}

int my_run(const struct target *t, const struct restore_input *in,
           const struct restore_opts *o, int check_only)
{
	struct dbconn *c;
	char err[ERRLEN];
	int rc = db_connect_admin(t, &c, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	const char *db = target_get(t, TF_DATABASE);
	char *scratch = scratch_name(db, "restore"), *old = scratch_name(db, "old");
	char *marker = NULL, *charset_sql = xstrdup("");
	struct rows r = { 0 };
	char *lit = db_quote_literal(c, db);
	const char *exprs[] = { "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME" };
	char *fields = fields_sql(myf, exprs, 2);
	char *sql = xasprintf("SELECT %s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", fields, lit);
	int q = query_rows(c, sql, 2, &r, err, sizeof err);
	free(lit);
	free(fields);
	free(sql);
	if (q < 0) {
		error("cannot read the properties of '%s': %s", db, err);
		rc = DG_NO;
		goto out;
	}
	int exists = r.n == 1;
	if (exists && CELL(&r, 0, 0) && CELL(&r, 0, 1)) {
		free(charset_sql);
		charset_sql = xasprintf(" CHARACTER SET %s COLLATE %s", CELL(&r, 0, 0), CELL(&r, 0, 1));
	}
	rows_free(&r);
	if (exists && !check_only) {
		struct dbconn *tc;
		if (my_connect_db(t, db, &tc) != DG_OK) {
			rc = DG_NO;
			goto out;
		}
		if (db_marker_read(tc, &marker, err, sizeof err) < 0)
			warn("cannot read the marker of '%s': %s", db, err);
		db_close(tc);
	}
	char *qs = my_ident(c, scratch, NULL);
	sql = xasprintf("CREATE DATABASE %s%s", qs, charset_sql);
	q = db_exec(c, sql, err, sizeof err);
	free(sql);
	if (q < 0) {
		error("cannot create the scratch schema '%s': %s", scratch, err);
		free(qs);
		rc = DG_NO;
		goto out;
	}
	verbose("loading '%s' into the scratch schema '%s'", in->name, scratch);
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	const char *const names[] = { "mariadb", "mysql", NULL };
	char *prog = find_on_path(names);
	sv_push_owned(&argv, prog ? prog : xstrdup("mariadb"));
	char *cleanup = NULL;
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("%s", err);
		rc = DG_NO;
	} else {
		sv_pushf(&argv, "--database=%s", scratch);
		char *label = xasprintf("restoring %s", db);
		static const char *const bad[] = { "USE ", "USE\t", "CREATE DATABASE", "CREATE SCHEMA",
		                                   "DROP DATABASE", "DROP SCHEMA", "\\!", NULL };
		rc = run_loader(sv_argv(&argv), sv_argv(&env), in, label, bad);
		free(label);
	}
	db_client_cleanup(cleanup);
	sv_free(&argv);
	sv_free(&env);
	if (rc == DG_OK) {
		fault_point("restore.load");
		rc = counts_of(t, scratch, in->meta, "the restored database");
	}
	if (rc == DG_OK)
		fault_point("restore.counted");
	if (rc == DG_OK && !check_only) {
		struct dbconn *sc;
		rc = my_connect_db(t, scratch, &sc);
		if (rc == DG_OK) {
			if (db_marker_write(sc, marker, err, sizeof err) < 0) {
				error("cannot keep the marker of '%s': %s", db, err);
				rc = DG_NO;
			}
			db_close(sc);
		}
	}
	if (rc == DG_OK && restore_interrupted())
		rc = 128 + restore_interrupted();
	if (rc == DG_OK && !check_only && !exists) {
		char *qd = my_ident(c, db, NULL);
		sql = xasprintf("CREATE DATABASE %s%s", qd, charset_sql);
		if (db_exec(c, sql, err, sizeof err) < 0) {
			error("cannot create the database '%s': %s", db, err);
			rc = DG_NO;
		}
		free(qd);
		free(sql);
	}
	if (rc == DG_OK && !check_only) {
		int m = my_replace(t, c, db, scratch, old, charset_sql, o, in->meta ? in->meta->database : NULL);
		if (m == 0)
			fault_point("restore.swapped");
		rc = m == 0 ? DG_OK : DG_NO;
		if (m == 0 || m == -2) {
			/* Done, or put back from the safety snapshot: nothing to finish. */
			my_drop(c, old, "schema");
			state_remove(o);
		}
	}
	my_drop(c, scratch, "scratch schema");
	free(qs);
out:
	free(scratch);
	free(old);
	free(marker);
	free(charset_sql);
	db_close(c);
	return rc;
}

/* The schemas whose names match the LIKE literal lit. */
static char *my_list_sql(const char *lit)
{
	char *f = myf("SCHEMA_NAME");
	char *sql = xasprintf("SELECT GROUP_CONCAT(%s SEPARATOR ' ') FROM information_schema.SCHEMATA"
	                      " WHERE SCHEMA_NAME LIKE %s", f, lit);
	free(f);
	return sql;
}

static void my_drop_schema(struct dbconn *c, const char *name)
{
	my_drop(c, name, "schema");
}


/* A restore stopped while replacing: finish it from its snapshot, else go
 * back from its safety snapshot.  DG_OK when there is nothing (left) to do. */
static int my_repair(const struct target *t, const struct restore_opts *o, int repair)
{
	char *path = state_path(o);
	if (!path)
		return DG_OK;
	char *text = read_file(path, NULL);
	if (!text) {
		free(path);
		return DG_OK;
	}
	char *keys[] = { "host", "port", "database", "snapshot", "safety", "old" };
	char *vals[6] = { 0 };
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (size_t k = 0; k < 6; k++)
			if (strcmp(line, keys[k]) == 0)
				vals[k] = eq + 1;
	}
	char port[16];
	snprintf(port, sizeof port, "%d", target_port(t));
	int ours = vals[0] && vals[1] && vals[2] && strcmp(vals[0], target_host(t)) == 0 &&
	           strcmp(vals[1], port) == 0 && strcmp(vals[2], target_get(t, TF_DATABASE)) == 0;
	int rc = DG_OK;
	if (!ours)
		goto out;
	const char *snap = vals[3] && *vals[3] ? vals[3] : NULL;
	const char *safety = vals[4] && *vals[4] ? vals[4] : NULL;
	const char *db = vals[2];
	if (!repair) {
		error("a restore of '%s' from '%s' stopped while replacing the database; run db-restore"
		      " to finish it", db, snap ? snap : "a stream");
		rc = DG_OK;
		goto out;
	}
	error("a restore of '%s' from '%s' stopped while replacing the database; finishing it now",
	      db, snap ? snap : "a stream");
	struct restore_opts again = *o;
	again.snapshot_path = snap;
	again.safety_path = safety;
	rc = snap ? load_snapshot_file(t, snap, &again) : DG_NO;
	if (rc == DG_OK) {
		error("finished the interrupted restore of '%s' from '%s'", db, snap);
	} else if (safety) {
		error("cannot finish it from '%s'; going back to the state before it, from '%s'",
		      snap ? snap : "a stream", safety);
		again.snapshot_path = safety;
		again.safety_path = NULL;
		rc = load_snapshot_file(t, safety, &again);
		if (rc == DG_OK)
			error("'%s' is back as it was before the interrupted restore", db);
	}
	if (rc != DG_OK)
		error("cannot repair '%s'; its former tables are in the schema '%s'; the record is '%s'",
		      db, vals[5] ? vals[5] : "?", path);
	else
		unlink(path);
out:
	free(text);
	free(path);
	return rc;
}

/* Verify and load one snapshot file (a repair, a safety snapshot). */
static int load_snapshot_file(const struct target *t, const char *path, const struct restore_opts *o)
{
	struct snapshot_meta m;
	memset(&m, 0, sizeof m);
	char err[ERRLEN];
	if (store_verify(path, &m, err, sizeof err) < 0) {
		error("cannot use '%s': %s", path, err);
		store_meta_free(&m);
		return DG_INTEGRITY;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error("cannot open '%s':", path);
		store_meta_free(&m);
		return DG_NO;
	}
	struct stat st;
	struct restore_input in = { fd, path, &m, fstat(fd, &st) == 0 ? (unsigned long long)st.st_size : 0 };
	int rc = restore_load(t, &in, o);
	close(fd);
	store_meta_free(&m);
	return rc;
}

int my_prepare(const struct target *t, const struct restore_opts *o, const char *db, int repair)
{
	int rc = my_repair(t, o, repair);
	char *p = state_path(o);
	int pending = p && access(p, F_OK) == 0;
	free(p);
	if (rc != DG_OK || pending)
		return rc;
	struct dbconn *c;
	char err[ERRLEN];
	rc = db_connect_admin(t, &c, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	drop_leftovers(c, db, my_list_sql, my_drop_schema);
	db_close(c);
	return DG_OK;
}
