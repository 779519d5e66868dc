/* impl.h — what each engine's file of rehearse/ provides (private to
 * the files of rehearse/): the catalog queries, the SQL dialect bits the shared
 * queries are built from, and how a copy is made, dropped and found. */
#ifndef DBGUARD_REHEARSE_IMPL_H
#define DBGUARD_REHEARSE_IMPL_H

#include "rehearse/rehearse.h"
#include "base/xalloc.h"

/* Field and row separators of the one-value answers the catalog queries
 * give (db_query_value returns one value: rows are aggregated into it). */
#define RH_FS '\x1f'
#define RH_RS '\x1e'
#define RH_NULL "\x02"

struct rh_engine {
	const char *name;
	/* Tables (name, ref, primary key), columns (name, type, NOT NULL) and
	 * constraints of the connected database; counts are left to inventory.c. */
	int (*schema)(struct dbconn *c, struct rh_inventory *inv, char *err, size_t errlen);
	/* exprs joined as text with the character sep between them. */
	char *(*concat)(char *const *exprs, size_t n, int sep);
	/* An aggregate of the text expr over the rows, separated by RH_RS. */
	char *(*agg)(const char *expr);
	/* col (quoted) as text, RH_NULL for NULL. */
	char *(*text)(const char *col);
	/* An aggregate hashing every row of table tab (aliased x) with its
	 * columns, or NULL when the engine has none (sqlite hashes the file). */
	char *(*row_hash)(struct dbconn *c, const struct rh_table *tab);
	/* Cheaper than row_hash where the engine can prove a table unchanged
	 * by something else than its content (NULL: none); only for a
	 * database nobody wrote to while its first value was read, as a
	 * template copy of it (see pg.c). */
	char *(*row_mark)(struct dbconn *c, const struct rh_table *tab);
	const char *begin;            /* a consistent read */
	const char *end;
	/* Before aggregating large answers (MySQL's group_concat_max_len). */
	const char *session_setup;
	/* s: a connection to the server that may create and drop databases
	 * (NULL for sqlite, which works on files).  Make the copy; *how as
	 * rh_copy_make.  DG_OK, DG_NO to fall back to a snapshot's restore (said
	 * why in err), or an exit status with err. */
	int (*copy)(const struct target *t, struct dbconn *s, const char *copy, const char **how, char *err,
	            size_t errlen);
	int (*drop)(const struct target *t, struct dbconn *s, const char *copy, char *err, size_t errlen);
	/* Names (database names or file paths) of every copy of t's database. */
	int (*list)(const struct target *t, struct dbconn *s, struct strvec *out, char *err, size_t errlen);
};

extern const struct rh_engine rh_pg, rh_mysql, rh_sqlite;
const struct rh_engine *rh_engine_of(const char *engine);

/* The one value sql answers, split into rows at RH_RS.  0, or -1 with err. */
int rh_rows_of(struct dbconn *c, const char *sql, struct strvec *rows, char *err, size_t errlen);
/* The schema of a server's database into inv from three catalog queries,
 * each answering rows (RH_RS) of fields (RH_FS): tables "name [ref] pk"
 * (ref, the name quoted for SQL, when with_ref, else quoted here; pk the
 * primary key's columns separated by \x1d), columns "table name type
 * notnull(0/1)", constraints "table kind name definition referred-table
 * cascade(0/1)".  0, or -1 with err. */
int rh_schema_read(struct dbconn *c, const char *const sql[3], int with_ref, struct rh_inventory *inv, char *err,
                   size_t errlen);
/* Split s at sep into out (copies); an empty s gives nothing. */
void rh_split(const char *s, int sep, struct strvec *out);
/* Append a table / column / constraint to inv. */
struct rh_table *rh_table_add(struct rh_inventory *inv, const char *name, const char *ref);
void rh_column_add(struct rh_table *t, const char *name, const char *type, int notnull);
void rh_constraint_add(struct rh_table *t, char kind, const char *name, const char *def,
                       const char *ref, int cascade);
void rh_pk_add(struct rh_table *t, const char *col);

#endif

/* What rh_diff found, one entry per finding; report.c prints them. */
enum rh_kind {
	RK_TABLE_DROPPED,     /* table, n = rows it held */
	RK_ROWS_FELL,         /* table, n = rows before, m = after, ref = cascade from (or NULL) */
	RK_COLUMN_DROPPED,    /* table, column, n = values not NULL */
	RK_TYPE_CHANGED,      /* table, column, from, to, n = changed, m = truncated, compared */
	RK_CONSTRAINT_ADDED,  /* table, column (NOT NULL) or NULL, from = kind, to = definition */
	RK_TABLE_RENAMED,     /* from, to */
	RK_COLUMN_RENAMED,    /* table, from, to */
	RK_TABLE_ADDED,       /* table, n = rows */
	RK_COLUMN_ADDED,      /* table, column, to = type */
	RK_COUNT
};

struct rh_finding {
	enum rh_kind kind;
	char *table, *column, *from, *to, *ref;
	long long n, m;
	int compared;         /* RK_TYPE_CHANGED: values compared by primary key */
	int loss;             /* this finding loses data */
};

struct rh_report {
	struct rh_finding *f;
	size_t n;
};
