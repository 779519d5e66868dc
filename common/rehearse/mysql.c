/* mysql.c — MySQL/MariaDB for a rehearsal: information_schema read into
 * an inventory, the SQL dialect of the shared queries; a copy is a
 * scratch schema of the same tables filled by INSERT ... SELECT and the
 * same views pointed at the copy (the server has no copy of its own), or,
 * when the schema holds triggers, routines, events or sequences, a
 * snapshot loaded into it (copy.c). */
#include "rehearse/impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"

static int my_schema(struct dbconn *c, struct rh_inventory *inv, char *err, size_t errlen)
{
	static const char tables_sql[] =
		"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), t.TABLE_NAME,"
		" COALESCE((SELECT GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR '\x1d')"
		"  FROM information_schema.KEY_COLUMN_USAGE k WHERE k.TABLE_SCHEMA = DATABASE()"
		"  AND k.TABLE_NAME = t.TABLE_NAME AND k.CONSTRAINT_NAME = 'PRIMARY'), ''))"
		" ORDER BY t.TABLE_NAME SEPARATOR '\x1e')"
		" FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = DATABASE()"
		" AND t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_NAME <> 'dbguard_marker'";
	static const char columns_sql[] =
		"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), TABLE_NAME, COLUMN_NAME, COLUMN_TYPE,"
		" IF(IS_NULLABLE = 'NO', '1', '0')) ORDER BY TABLE_NAME, ORDINAL_POSITION SEPARATOR '\x1e')"
		" FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()";
	static const char constraints_sql[] =
		"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), tc.TABLE_NAME,"
		" CASE tc.CONSTRAINT_TYPE WHEN 'PRIMARY KEY' THEN 'p' WHEN 'UNIQUE' THEN 'u'"
		"  WHEN 'FOREIGN KEY' THEN 'f' ELSE 'c' END, tc.CONSTRAINT_NAME,"
		" CONCAT(tc.CONSTRAINT_TYPE, ' (', COALESCE((SELECT GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION)"
		"  FROM information_schema.KEY_COLUMN_USAGE k WHERE k.TABLE_SCHEMA = DATABASE()"
		"  AND k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA"
		"  AND k.TABLE_NAME = tc.TABLE_NAME AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME),"
		"  (SELECT cc.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS cc"
		"  WHERE cc.CONSTRAINT_SCHEMA = DATABASE() AND cc.TABLE_NAME = tc.TABLE_NAME"
		"  AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME), ''), ')',"
		"  COALESCE(CONCAT(' REFERENCES ', rc.REFERENCED_TABLE_NAME, ' ON DELETE ', rc.DELETE_RULE), '')),"
		" COALESCE(rc.REFERENCED_TABLE_NAME, ''), IF(rc.DELETE_RULE = 'CASCADE', '1', '0'))"
		" ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME SEPARATOR '\x1e')"
		" FROM information_schema.TABLE_CONSTRAINTS tc"
		" LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = DATABASE()"
		"  AND rc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND rc.TABLE_NAME = tc.TABLE_NAME"
		" WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.CONSTRAINT_SCHEMA = DATABASE()"
		" AND tc.TABLE_NAME <> 'dbguard_marker'";
	static const char *const sql[3] = { tables_sql, columns_sql, constraints_sql };
	return rh_schema_read(c, sql, 0, inv, err, errlen);
}

static char *my_concat(char *const *exprs, size_t n, int sep)
{
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "CONCAT_WS(CHAR(%d USING utf8mb4)", sep);
	for (size_t i = 0; i < n; i++)
		sb_addf(&sb, ", %s", exprs[i]);
	sb_addc(&sb, ')');
	return sb_detach(&sb);
}

static char *my_agg(const char *expr)
{
	return xasprintf("GROUP_CONCAT(%s SEPARATOR '\x1e')", expr);
}

static char *my_text(const char *col)
{
	return xasprintf("COALESCE(CAST(x.%s AS CHAR), CHAR(2 USING utf8mb4))", col);
}

static char *my_row_hash(struct dbconn *c, const struct rh_table *tab)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "COALESCE(SUM(CRC32(CONCAT_WS(CHAR(31 USING utf8mb4), ''");
	for (size_t k = 0; k < tab->ncol; k++) {
		char *q = db_quote_ident(c, tab->col[k].name);
		sb_addf(&sb, ", x.%s, ISNULL(x.%s)", q, q);
		free(q);
	}
	sb_adds(&sb, "))), 0)");
	return sb_detach(&sb);
}

/* The schema's tables with their columns that take values (not generated),
 * quoted: "table \x1f `a`,`b`" rows; and its foreign keys as ALTER TABLE
 * clauses on the copy, "table \x1f ADD CONSTRAINT ..." rows. */
#define MY_Q(col) "CONCAT('`', REPLACE(" col ", '`', '``'), '`')"
static const char my_tables_sql[] =
	"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), t.TABLE_NAME,"
	" (SELECT GROUP_CONCAT(" MY_Q("c.COLUMN_NAME") " ORDER BY c.ORDINAL_POSITION)"
	"  FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = %1$s AND c.TABLE_NAME = t.TABLE_NAME"
	"  AND COALESCE(c.GENERATION_EXPRESSION, '') = '')) SEPARATOR '\x1e')"
	" FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = %1$s AND t.TABLE_TYPE = 'BASE TABLE'";
static const char my_fks_sql[] =
	"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), rc.TABLE_NAME, CONCAT('ADD CONSTRAINT ', "
	MY_Q("rc.CONSTRAINT_NAME") ", ' FOREIGN KEY (',"
	" (SELECT GROUP_CONCAT(" MY_Q("k.COLUMN_NAME") " ORDER BY k.ORDINAL_POSITION) FROM information_schema.KEY_COLUMN_USAGE k"
	"  WHERE k.TABLE_SCHEMA = %1$s AND k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = rc.TABLE_NAME"
	"  AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME), ') REFERENCES ',"
	" IF(rc.UNIQUE_CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA, '', CONCAT(" MY_Q("rc.UNIQUE_CONSTRAINT_SCHEMA") ", '.')),"
	" " MY_Q("rc.REFERENCED_TABLE_NAME") ", ' (',"
	" (SELECT GROUP_CONCAT(" MY_Q("k.REFERENCED_COLUMN_NAME") " ORDER BY k.ORDINAL_POSITION)"
	"  FROM information_schema.KEY_COLUMN_USAGE k WHERE k.TABLE_SCHEMA = %1$s AND k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA"
	"  AND k.TABLE_NAME = rc.TABLE_NAME AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME),"
	" ') ON DELETE ', rc.DELETE_RULE, ' ON UPDATE ', rc.UPDATE_RULE)) SEPARATOR '\x1e')"
	" FROM information_schema.REFERENTIAL_CONSTRAINTS rc WHERE rc.CONSTRAINT_SCHEMA = %1$s";
/* The views: "name \x1f charset \x1f collation \x1f head \x1f definition
 * \x1f check option" rows, head the clauses before VIEW (MariaDB's
 * ALGORITHM column: on MySQL the query fails and the copy goes by dump and
 * load).  A definition holding \x1e or \x1f splits into rows of the wrong
 * shape, which fail the copy the same way. */
static const char my_views_sql[] =
	"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), TABLE_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION,"
	" CONCAT('ALGORITHM=', ALGORITHM, ' DEFINER=', IF(LOCATE('@', DEFINER) = 0, " MY_Q("DEFINER") ","
	"  CONCAT(" MY_Q("LEFT(DEFINER, LENGTH(DEFINER) - LENGTH(SUBSTRING_INDEX(DEFINER, '@', -1)) - 1)") ", '@',"
	"  " MY_Q("SUBSTRING_INDEX(DEFINER, '@', -1)") ")), ' SQL SECURITY ', SECURITY_TYPE),"
	" VIEW_DEFINITION, IF(CHECK_OPTION = 'NONE', '', CONCAT(' WITH ', CHECK_OPTION, ' CHECK OPTION')))"
	" SEPARATOR '\x1e') FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s";
/* What CREATE TABLE ... LIKE, INSERT ... SELECT and the views would not
 * carry over. */
static const char my_others_sql[] =
	"SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %1$s"
	"  AND TABLE_TYPE NOT IN ('BASE TABLE', 'VIEW'))"
	" + (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %1$s)"
	" + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %1$s)"
	" + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %1$s)";

static int my_sqlf(struct dbconn *s, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int my_sqlf(struct dbconn *s, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *sql = NULL;
	if (vasprintf(&sql, fmt, ap) < 0)
		sql = NULL;
	va_end(ap);
	if (!sql) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = db_exec(s, sql, err, errlen);
	free(sql);
	return rc;
}

static int my_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* One view of the original made in the copy qc, pointed at the copy: in
 * the view's own client character set and collation (as mysqldump loads
 * it) when its text is ASCII, the same in any of them; else only when the
 * session's are the view's.  0, 1 when it names a view not made yet, or
 * -1 with err. */
static int my_copy_view(struct dbconn *s, const struct strvec *f, const char *db, const char *qc,
                        const char *session_cs, char *err, size_t errlen)
{
	int hits;
	char *def = mysql_requalify(f->v[4], db, qc, &hits);
	if (!def) {
		snprintf(err, errlen, "cannot read the definition of the view '%s'", f->v[0]);
		return -1;
	}
	int rc = 0;
	int ascii = my_ascii(def) && my_ascii(f->v[0]) && my_ascii(f->v[3]) && my_ascii(qc);
	if (!ascii && strcmp(f->v[1], session_cs)) {
		snprintf(err, errlen, "the view '%s' is in the character set %s", f->v[0], f->v[1]);
		rc = -1;
	}
	char *ql = db_quote_literal(s, f->v[1]), *qk = db_quote_literal(s, f->v[2]);
	if (rc == 0)
		rc = my_sqlf(s, err, errlen, "SET SESSION character_set_client = %s, collation_connection = %s", ql, qk);
	char *qv = db_quote_ident(s, f->v[0]);
	if (rc == 0)
		rc = my_sqlf(s, err, errlen, "CREATE %s VIEW %s.%s AS %s%s", f->v[3], qc, qv, def, f->v[5]);
	free(qv);
	free(ql);
	free(qk);
	free(def);
	/* ER_NO_SUCH_TABLE: a view over a view made later in this pass. */
	return rc < 0 && strstr(err, "doesn't exist") ? 1 : rc;
}

/* The views of schema lit (named db) in qc, each after those it reads, then
 * proven to name nothing of the original: a view left reading the
 * original would show the rehearsed command the original's rows. */
static int my_copy_views(struct dbconn *s, const char *lit, const char *db, const char *qc, const char *copy_lit,
                         char *err, size_t errlen)
{
	struct strvec views = STRVEC_INIT, f = STRVEC_INIT, defs = STRVEC_INIT;
	char *sql = xasprintf(my_views_sql, lit), *cs = NULL;
	int rc = rh_rows_of(s, sql, &views, err, errlen);
	free(sql);
	if (rc == 0 && views.n)
		rc = db_query_value(s, "SELECT CONCAT_WS(CHAR(31 USING utf8mb4), @@character_set_client,"
		                       " @@collation_connection)", &cs, err, errlen);
	struct strvec saved = STRVEC_INIT;
	if (cs)
		rh_split(cs, RH_FS, &saved);
	if (rc == 0 && views.n && saved.n != 2) {
		snprintf(err, errlen, "cannot read the session's character set");
		rc = -1;
	}
	char *made = xcalloc(views.n ? views.n : 1, 1);
	/* Passes until all are made; a pass that makes none fails (a view
	 * naming one that is not there: err says which). */
	for (size_t left = views.n, before = 0; rc == 0 && left;) {
		before = left;
		for (size_t i = 0; rc == 0 && i < views.n; i++) {
			if (made[i])
				continue;
			sv_free(&f);
			rh_split(views.v[i], RH_FS, &f);
			if (f.n != 6) {
				snprintf(err, errlen, "cannot read the views of the database");
				rc = -1;
				break;
			}
			int r = my_copy_view(s, &f, db, qc, saved.v[0], err, errlen);
			if (r < 0) {
				rc = -1;
			} else if (r == 0) {
				made[i] = 1;
				left--;
			}
		}
		if (rc == 0 && left == before)
			rc = -1;
	}
	if (saved.n == 2) {
		char *ql = db_quote_literal(s, saved.v[0]), *qk = db_quote_literal(s, saved.v[1]);
		my_sqlf(s, (char[128]){ 0 }, 128, "SET SESSION character_set_client = %s, collation_connection = %s", ql, qk);
		free(ql);
		free(qk);
	}
	sql = xasprintf("SELECT GROUP_CONCAT(VIEW_DEFINITION SEPARATOR '\x1e') FROM information_schema.VIEWS"
	                " WHERE TABLE_SCHEMA = %s", copy_lit);
	if (rc == 0 && views.n)
		rc = rh_rows_of(s, sql, &defs, err, errlen);
	free(sql);
	for (size_t i = 0; rc == 0 && i < defs.n; i++) {
		int hits = 0;
		char *d = mysql_requalify(defs.v[i], db, "", &hits);
		if (!d || hits) {
			snprintf(err, errlen, "a view of the copy still reads the original");
			rc = -1;
		}
		free(d);
	}
	free(made);
	free(cs);
	sv_free(&saved);
	sv_free(&views);
	sv_free(&f);
	sv_free(&defs);
	return rc;
}

/* The tables (structure, foreign keys, then rows) of schema qo into qc. */
static int my_copy_tables(struct dbconn *s, const char *lit, const char *qo, const char *qc, char *err,
                          size_t errlen)
{
	struct strvec tables = STRVEC_INIT, fks = STRVEC_INIT;
	char *sql = xasprintf(my_tables_sql, lit);
	int rc = rh_rows_of(s, sql, &tables, err, errlen);
	free(sql);
	sql = xasprintf(my_fks_sql, lit);
	if (rc == 0)
		rc = rh_rows_of(s, sql, &fks, err, errlen);
	free(sql);
	struct strvec f = STRVEC_INIT;
	for (size_t i = 0; rc == 0 && i < tables.n; i++) {
		sv_free(&f);
		rh_split(tables.v[i], RH_FS, &f);
		char *qt = db_quote_ident(s, f.v[0]);
		rc = my_sqlf(s, err, errlen, "CREATE TABLE %s.%s LIKE %s.%s", qc, qt, qo, qt);
		free(qt);
	}
	for (size_t i = 0; rc == 0 && i < fks.n; i++) {
		sv_free(&f);
		rh_split(fks.v[i], RH_FS, &f);
		char *qt = f.n == 2 ? db_quote_ident(s, f.v[0]) : NULL;
		rc = qt ? my_sqlf(s, err, errlen, "ALTER TABLE %s.%s %s", qc, qt, f.v[1]) : -1;
		free(qt);
	}
	/* One transaction: the shared locks INSERT ... SELECT takes on what
	 * it reads are held to the end, so the copy is one state of the
	 * original even while something writes to it. */
	if (rc == 0)
		rc = db_exec(s, "START TRANSACTION", err, errlen);
	for (size_t i = 0; rc == 0 && i < tables.n; i++) {
		sv_free(&f);
		rh_split(tables.v[i], RH_FS, &f);
		if (f.n < 2)
			continue;
		char *qt = db_quote_ident(s, f.v[0]);
		rc = my_sqlf(s, err, errlen, "INSERT INTO %s.%s (%s) SELECT %s FROM %s.%s", qc, qt, f.v[1], f.v[1], qo, qt);
		free(qt);
	}
	if (rc == 0)
		rc = db_exec(s, "COMMIT", err, errlen);
	else
		db_exec(s, "ROLLBACK", (char[64]){ 0 }, 64);
	sv_free(&f);
	sv_free(&tables);
	sv_free(&fks);
	return rc;
}

/* A schema of nothing but tables is copied on the server: CREATE TABLE ...
 * LIKE, its foreign keys, INSERT ... SELECT.  Anything else (views,
 * triggers, routines, events, sequences) goes by dump and load (DG_NO). */
static int my_copy(const struct target *t, struct dbconn *s, const char *copy, const char **how, char *err,
                   size_t errlen)
{
	const char *db = target_get(t, TF_DATABASE);
	char *lit = db_quote_literal(s, db), *qo = db_quote_ident(s, db), *qc = db_quote_ident(s, copy);
	char *sql = xasprintf(my_others_sql, lit), *others = NULL, *charset = NULL;
	int rc = db_exec(s, "SET SESSION group_concat_max_len = 4294967295", err, errlen);
	if (rc == 0)
		rc = db_query_value(s, sql, &others, err, errlen);
	free(sql);
	if (rc == 0 && others && strcmp(others, "0")) {
		snprintf(err, errlen, "the database holds triggers, routines, events or sequences, which "
		                      "MySQL copies by dump and load");
		rc = 1;
	}
	sql = xasprintf("SELECT CONCAT('CHARACTER SET ', DEFAULT_CHARACTER_SET_NAME, ' COLLATE ',"
	                " DEFAULT_COLLATION_NAME) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", lit);
	if (rc == 0)
		rc = db_query_value(s, sql, &charset, err, errlen);
	free(sql);
	/* As mysqldump loads: no checks while the rows go in, and a 0 in an
	 * AUTO_INCREMENT column stays 0. */
	if (rc == 0)
		rc = my_sqlf(s, err, errlen, "CREATE DATABASE %s %s", qc, charset ? charset : "");
	int made = rc == 0;
	if (rc == 0)
		rc = db_exec(s, "SET SESSION foreign_key_checks = 0, unique_checks = 0, sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
		             err, errlen);
	if (rc == 0)
		rc = my_copy_tables(s, lit, qo, qc, err, errlen);
	char *copy_lit = db_quote_literal(s, copy);
	if (rc == 0)
		rc = my_copy_views(s, lit, db, qc, copy_lit, err, errlen);
	free(copy_lit);
	db_exec(s, "SET SESSION foreign_key_checks = 1, unique_checks = 1", (char[64]){ 0 }, 64);
	if (rc != 0 && made)
		my_sqlf(s, (char[256]){ 0 }, 256, "DROP DATABASE IF EXISTS %s", qc);
	free(lit);
	free(qo);
	free(qc);
	free(others);
	free(charset);
	if (rc == 0) {
		*how = "tables";
		return DG_OK;
	}
	return DG_NO;
}

static int my_drop(const struct target *t, struct dbconn *s, const char *copy, char *err, size_t errlen)
{
	(void)t;
	char *q = db_quote_ident(s, copy);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s", q);
	int rc = db_exec(s, sql, err, errlen);
	free(sql);
	free(q);
	return rc;
}

static int my_list(const struct target *t, struct dbconn *s, struct strvec *out, char *err, size_t errlen)
{
	(void)t;
	return rh_rows_of(s, "SELECT GROUP_CONCAT(SCHEMA_NAME SEPARATOR '\x1e') FROM information_schema.SCHEMATA"
	                     " WHERE LOCATE('" RH_MARK "', SCHEMA_NAME) > 0", out, err, errlen);
}

const struct rh_engine rh_mysql = {
	.name = "mysql",
	.schema = my_schema,
	.concat = my_concat,
	.agg = my_agg,
	.text = my_text,
	.row_hash = my_row_hash,
	.begin = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
	.end = "COMMIT",
	.session_setup = "SET SESSION group_concat_max_len = 4294967295",
	.copy = my_copy,
	.drop = my_drop,
	.list = my_list,
};
