/* mysql.c — MySQL/MariaDB for a rehearsal: information_schema read into
 * an inventory, the SQL dialect of the shared queries; a copy is a
 * snapshot loaded into a scratch schema (copy.c), as the server has no
 * copy of its own. */
#include "rehearse/impl.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"

static int rows_of(struct dbconn *c, const char *sql, struct strvec *rows, char *err, size_t errlen)
{
	char *value = NULL;
	int rc = db_query_value(c, sql, &value, err, errlen);
	rh_split(value, RH_RS, rows);
	free(value);
	return rc;
}

static int my_schema(struct dbconn *c, struct rh_inventory *inv, char *err, size_t errlen)
{
	static const char tables_sql[] =
		"SELECT GROUP_CONCAT(CONCAT_WS(CHAR(31 USING utf8mb4), t.TABLE_NAME,"
		" COALESCE((SELECT GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR '\x1d')"
		"  FROM information_schema.KEY_COLUMN_USAGE k WHERE k.TABLE_SCHEMA = t.TABLE_SCHEMA"
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
		"  FROM information_schema.KEY_COLUMN_USAGE k WHERE k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA"
		"  AND k.TABLE_NAME = tc.TABLE_NAME AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME),"
		"  (SELECT cc.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS cc"
		"  WHERE cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.TABLE_NAME = tc.TABLE_NAME"
		"  AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME), ''), ')',"
		"  COALESCE(CONCAT(' REFERENCES ', rc.REFERENCED_TABLE_NAME, ' ON DELETE ', rc.DELETE_RULE), '')),"
		" COALESCE(rc.REFERENCED_TABLE_NAME, ''), IF(rc.DELETE_RULE = 'CASCADE', '1', '0'))"
		" ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME SEPARATOR '\x1e')"
		" FROM information_schema.TABLE_CONSTRAINTS tc"
		" LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA"
		"  AND rc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND rc.TABLE_NAME = tc.TABLE_NAME"
		" WHERE tc.CONSTRAINT_SCHEMA = DATABASE() AND tc.TABLE_NAME <> 'dbguard_marker'";
	struct strvec rows = STRVEC_INIT;
	int rc = rows_of(c, tables_sql, &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		struct strvec f = STRVEC_INIT;
		rh_split(rows.v[i], RH_FS, &f);
		if (f.n >= 1) {
			char *ref = db_quote_ident(c, f.v[0]);
			struct rh_table *t = rh_table_add(inv, f.v[0], ref);
			free(ref);
			struct strvec pk = STRVEC_INIT;
			if (f.n >= 2)
				rh_split(f.v[1], '\x1d', &pk);
			for (size_t k = 0; k < pk.n; k++)
				rh_pk_add(t, pk.v[k]);
			sv_free(&pk);
		}
		sv_free(&f);
	}
	sv_free(&rows);
	if (rc == 0)
		rc = rows_of(c, columns_sql, &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		struct strvec f = STRVEC_INIT;
		rh_split(rows.v[i], RH_FS, &f);
		struct rh_table *t = f.n == 4 ? rh_table_find(inv, f.v[0]) : NULL;
		if (t)
			rh_column_add(t, f.v[1], f.v[2], !strcmp(f.v[3], "1"));
		sv_free(&f);
	}
	sv_free(&rows);
	if (rc == 0)
		rc = rows_of(c, constraints_sql, &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		struct strvec f = STRVEC_INIT;
		rh_split(rows.v[i], RH_FS, &f);
		struct rh_table *t = f.n >= 5 ? rh_table_find(inv, f.v[0]) : NULL;
		if (t)
			rh_constraint_add(t, f.v[1][0], f.v[2], f.v[3], f.n == 6 ? f.v[4] : "",
			                  !strcmp(f.v[f.n - 1], "1"));
		sv_free(&f);
	}
	sv_free(&rows);
	return rc;
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

static int my_copy(const struct target *t, const char *copy, const char **how, char *err, size_t errlen)
{
	(void)t;
	(void)copy;
	(void)how;
	snprintf(err, errlen, "MySQL copies a schema by dump and load");
	return DG_NO;
}

static int my_drop(const struct target *t, const char *copy, char *err, size_t errlen)
{
	struct dbconn *c;
	if (db_connect_admin(t, &c, err, errlen) != DG_OK)
		return -1;
	char *q = db_quote_ident(c, copy);
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s", q);
	int rc = db_exec(c, sql, err, errlen);
	free(sql);
	free(q);
	db_close(c);
	return rc;
}

static int my_list(const struct target *t, struct strvec *out, char *err, size_t errlen)
{
	struct dbconn *c;
	if (db_connect_admin(t, &c, err, errlen) != DG_OK)
		return -1;
	int rc = rows_of(c, "SELECT GROUP_CONCAT(SCHEMA_NAME SEPARATOR '\x1e') FROM information_schema.SCHEMATA"
	                    " WHERE LOCATE('" RH_MARK "', SCHEMA_NAME) > 0", out, err, errlen);
	db_close(c);
	return rc;
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
