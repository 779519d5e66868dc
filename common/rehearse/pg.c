/* pg.c — PostgreSQL for a rehearsal: the catalog read into an inventory,
 * the SQL dialect of the shared queries, and copies made with CREATE
 * DATABASE ... TEMPLATE, the server's own file copy. */
#include "rehearse/impl.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"

/* "users" for public.users, "audit.log" otherwise: the names users see. */
#define PG_NAME(ns, rel) "CASE WHEN " ns ".nspname = 'public' THEN " rel ".relname::text" \
	" ELSE " ns ".nspname || '.' || " rel ".relname END"
#define PG_USER_TABLES "c.relkind IN ('r', 'p') AND NOT c.relispartition" \
	" AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'"

static int pg_schema(struct dbconn *c, struct rh_inventory *inv, char *err, size_t errlen)
{
	static const char tables_sql[] =
		"SELECT string_agg(concat_ws(chr(31), " PG_NAME("n", "c") ", c.oid::regclass::text,"
		" coalesce((SELECT string_agg(a.attname, chr(29) ORDER BY k.ord) FROM pg_catalog.pg_constraint p"
		"  CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)"
		"  JOIN pg_catalog.pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.attnum"
		"  WHERE p.conrelid = c.oid AND p.contype = 'p'), '')), chr(30)"
		" ORDER BY " PG_NAME("n", "c") ")"
		" FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" WHERE " PG_USER_TABLES;
	static const char columns_sql[] =
		"SELECT string_agg(concat_ws(chr(31), " PG_NAME("n", "c") ", a.attname,"
		" pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull::int::text), chr(30)"
		" ORDER BY " PG_NAME("n", "c") ", a.attnum)"
		" FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
		" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" WHERE " PG_USER_TABLES " AND a.attnum > 0 AND NOT a.attisdropped";
	static const char constraints_sql[] =
		"SELECT string_agg(concat_ws(chr(31), " PG_NAME("n", "c") ", p.contype::text, p.conname,"
		" pg_catalog.pg_get_constraintdef(p.oid),"
		" coalesce(CASE WHEN rc.oid IS NULL THEN NULL ELSE " PG_NAME("rn", "rc") " END, ''),"
		" (p.contype = 'f' AND p.confdeltype = 'c')::int::text), chr(30)"
		" ORDER BY " PG_NAME("n", "c") ", p.conname)"
		" FROM pg_catalog.pg_constraint p JOIN pg_catalog.pg_class c ON c.oid = p.conrelid"
		" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
		" LEFT JOIN pg_catalog.pg_class rc ON rc.oid = p.confrelid"
		" LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace"
		" WHERE " PG_USER_TABLES " AND p.contype IN ('p', 'u', 'f', 'c')";
	static const char *const sql[3] = { tables_sql, columns_sql, constraints_sql };
	return rh_schema_read(c, sql, 1, inv, err, errlen);
}

static char *pg_concat(char *const *exprs, size_t n, int sep)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addf(&sb, " || chr(%d) || ", sep);
		sb_addf(&sb, "(%s)::text", exprs[i]);
	}
	return sb_detach(&sb);
}

static char *pg_agg(const char *expr)
{
	return xasprintf("string_agg(%s, chr(30))", expr);
}

static char *pg_text(const char *col)
{
	return xasprintf("coalesce(x.%s::text, chr(2))", col);
}

static char *pg_row_hash(struct dbconn *c, const struct rh_table *tab)
{
	(void)c;
	(void)tab;
	return xstrdup("coalesce(sum(hashtext(x::text)::bigint), 0)");
}

/* The newest row version of the table: the xid of its creator (xmin) as a
 * 32-bit number, from age() against this transaction's fixed reference
 * (age('3') is that reference less 3), -1 for an empty table.  With the
 * row count it proves a table unchanged since a template copy of it was
 * made: the template had no session (CREATE DATABASE requires it), so no
 * transaction was writing to it; any row written later, by an UPDATE too,
 * is a version whose xid is newer than every one the copy holds, so either
 * a written row survives and the newest xmin moves, or none does and the
 * count falls unless nothing was deleted either.  A row frozen meanwhile
 * can only move it (a needless "changed"), never the other way. */
static char *pg_row_mark(struct dbconn *c, const struct rh_table *tab)
{
	(void)c;
	(void)tab;
	return xstrdup("coalesce(((age('3'::xid)::bigint + 3 - min(age(x.xmin))::bigint) % 4294967296"
	               " + 4294967296) % 4294967296, -1)");
}

static int pg_copy(const struct target *t, struct dbconn *s, const char *copy, const char **how, char *err,
                   size_t errlen)
{
	char *qc = db_quote_ident(s, copy), *qo = db_quote_ident(s, target_get(t, TF_DATABASE));
	char *sql = xasprintf("CREATE DATABASE %s TEMPLATE %s", qc, qo);
	char why[512];
	int rc = db_exec(s, sql, why, sizeof why);
	free(sql);
	free(qc);
	free(qo);
	if (rc == 0) {
		*how = "template";
		return DG_OK;
	}
	/* Other sessions on the original (the usual reason): a snapshot's restore. */
	snprintf(err, errlen, "CREATE DATABASE ... TEMPLATE failed: %s", why);
	return DG_NO;
}

static int pg_drop(const struct target *t, struct dbconn *s, const char *copy, char *err, size_t errlen)
{
	(void)t;
	char *q = db_quote_ident(s, copy);
	/* WITH (FORCE): a server the command left running does not keep it. */
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s%s", q, db_server_major(s) >= 13 ? " WITH (FORCE)" : "");
	int rc = db_exec(s, sql, err, errlen);
	free(sql);
	free(q);
	return rc;
}

static int pg_list(const struct target *t, struct dbconn *s, struct strvec *out, char *err, size_t errlen)
{
	(void)t;
	return rh_rows_of(s, "SELECT string_agg(datname, chr(30)) FROM pg_catalog.pg_database"
	                     " WHERE strpos(datname, '" RH_MARK "') > 0", out, err, errlen);
}

const struct rh_engine rh_pg = {
	.name = "postgres",
	.schema = pg_schema,
	.concat = pg_concat,
	.agg = pg_agg,
	.text = pg_text,
	.row_hash = pg_row_hash,
	.row_mark = pg_row_mark,
	.begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	.end = "COMMIT",
	.copy = pg_copy,
	.drop = pg_drop,
	.list = pg_list,
};
