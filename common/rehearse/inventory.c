/* inventory.c — what a database holds, as a rehearsal compares it: tables
 * with their exact row counts, columns with their types and how many
 * values are not NULL, constraints; read through the engine in one
 * consistent read, kept as TSV between db-rehearse's two steps, and the
 * checksum that proves an original unchanged. */
#include "rehearse/impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/checksum.h"
#include "base/io.h"
#include "base/output.h"

const struct rh_engine *rh_engine_of(const char *engine)
{
	if (!engine)
		return NULL;
	if (!strcmp(engine, "postgres"))
		return &rh_pg;
	if (!strcmp(engine, "mysql"))
		return &rh_mysql;
	if (!strcmp(engine, "sqlite"))
		return &rh_sqlite;
	return NULL;
}

void rh_split(const char *s, int sep, struct strvec *out)
{
	if (!s || !*s)
		return;
	for (;;) {
		const char *e = strchr(s, sep);
		if (!e) {
			sv_push(out, s);
			return;
		}
		sv_push_owned(out, xstrndup(s, (size_t)(e - s)));
		s = e + 1;
	}
}

int rh_rows_of(struct dbconn *c, const char *sql, struct strvec *rows, char *err, size_t errlen)
{
	char *value = NULL;
	int rc = db_query_value(c, sql, &value, err, errlen);
	rh_split(value, RH_RS, rows);
	free(value);
	return rc;
}

int rh_schema_read(struct dbconn *c, const char *const sql[3], int with_ref, struct rh_inventory *inv, char *err,
                   size_t errlen)
{
	struct strvec rows = STRVEC_INIT, f = STRVEC_INIT;
	int rc = rh_rows_of(c, sql[0], &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		sv_free(&f);
		rh_split(rows.v[i], RH_FS, &f);
		if (f.n < 1 + (size_t)with_ref)
			continue;
		char *ref = with_ref ? xstrdup(f.v[1]) : db_quote_ident(c, f.v[0]);
		struct rh_table *t = rh_table_add(inv, f.v[0], ref);
		free(ref);
		struct strvec pk = STRVEC_INIT;
		if (f.n > 1 + (size_t)with_ref)
			rh_split(f.v[1 + with_ref], '\x1d', &pk);
		for (size_t k = 0; k < pk.n; k++)
			rh_pk_add(t, pk.v[k]);
		sv_free(&pk);
	}
	sv_free(&rows);
	if (rc == 0)
		rc = rh_rows_of(c, sql[1], &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		sv_free(&f);
		rh_split(rows.v[i], RH_FS, &f);
		struct rh_table *t = f.n == 4 ? rh_table_find(inv, f.v[0]) : NULL;
		if (t)
			rh_column_add(t, f.v[1], f.v[2], !strcmp(f.v[3], "1"));
	}
	sv_free(&rows);
	if (rc == 0)
		rc = rh_rows_of(c, sql[2], &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		sv_free(&f);
		rh_split(rows.v[i], RH_FS, &f);
		struct rh_table *t = f.n >= 5 ? rh_table_find(inv, f.v[0]) : NULL;
		if (t)
			rh_constraint_add(t, f.v[1][0], f.v[2], f.v[3], f.n == 6 ? f.v[4] : "", !strcmp(f.v[f.n - 1], "1"));
	}
	sv_free(&rows);
	sv_free(&f);
	return rc;
}

struct rh_table *rh_table_add(struct rh_inventory *inv, const char *name, const char *ref)
{
	inv->t = xrealloc(inv->t, (inv->n + 1) * sizeof *inv->t);
	struct rh_table *t = &inv->t[inv->n++];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(name);
	t->ref = xstrdup(ref);
	t->pk = xcalloc(1, sizeof *t->pk);
	return t;
}

void rh_column_add(struct rh_table *t, const char *name, const char *type, int notnull)
{
	t->col = xrealloc(t->col, (t->ncol + 1) * sizeof *t->col);
	t->col[t->ncol++] = (struct rh_column){ xstrdup(name), xstrdup(type), notnull };
}

void rh_constraint_add(struct rh_table *t, char kind, const char *name, const char *def,
                       const char *ref, int cascade)
{
	t->con = xrealloc(t->con, (t->ncon + 1) * sizeof *t->con);
	t->con[t->ncon++] = (struct rh_constraint){ kind, xstrdup(name), xstrdup(def),
	                                            xstrdup(ref && *ref ? ref : NULL), cascade };
}

void rh_pk_add(struct rh_table *t, const char *col)
{
	t->pk = xrealloc(t->pk, (t->npk + 2) * sizeof *t->pk);
	t->pk[t->npk++] = xstrdup(col);
	t->pk[t->npk] = NULL;
}

void rh_inventory_free(struct rh_inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++) {
		struct rh_table *t = &inv->t[i];
		free(t->name);
		free(t->ref);
		for (size_t k = 0; k < t->npk; k++)
			free(t->pk[k]);
		free(t->pk);
		for (size_t k = 0; k < t->ncol; k++) {
			free(t->col[k].name);
			free(t->col[k].type);
		}
		free(t->col);
		for (size_t k = 0; k < t->ncon; k++) {
			free(t->con[k].name);
			free(t->con[k].def);
			free(t->con[k].ref);
		}
		free(t->con);
	}
	free(inv->t);
	inv->t = NULL;
	inv->n = 0;
}

struct rh_table *rh_table_find(const struct rh_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n; i++)
		if (!strcmp(inv->t[i].name, name))
			return &inv->t[i];
	return NULL;
}

struct rh_column *rh_column_find(const struct rh_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncol; i++)
		if (!strcmp(t->col[i].name, name))
			return &t->col[i];
	return NULL;
}

/* Row counts of every table (and, with hashes, one hash or mark of each
 * table's content) in one statement.  No column is read: counting the
 * non-NULL values of every column doubled the scans of large tables, and
 * only the columns a command dropped or changed need them (diff.c reads
 * those). */
static int read_counts(struct dbconn *c, const struct rh_engine *e, struct rh_inventory *inv,
                       struct strvec *hashes, int marks, char *err, size_t errlen)
{
	if (inv->n == 0)
		return 0;
	/* Each table's aggregates in a derived table of its own, not a scalar
	 * subquery: PostgreSQL scans those in parallel. */
	struct strbuf from = STRBUF_INIT;
	struct strvec cols = STRVEC_INIT;
	for (size_t i = 0; i < inv->n; i++) {
		struct rh_table *t = &inv->t[i];
		struct strvec exprs = STRVEC_INIT;
		sv_push(&exprs, "count(*)");
		if (hashes)
			sv_push_owned(&exprs, marks ? e->row_mark(c, t) : e->row_hash(c, t));
		char *row = e->concat(exprs.v, exprs.n, RH_FS);
		sb_addf(&from, "%s(SELECT %s AS v FROM %s x) t%zu", i ? ", " : "", row, t->ref, i);
		sv_pushf(&cols, "t%zu.v", i);
		free(row);
		sv_free(&exprs);
	}
	char *all = e->concat(cols.v, cols.n, RH_RS);
	char *sql = xasprintf("SELECT %s FROM %s", all, sb_str(&from));
	free(all);
	sb_free(&from);
	sv_free(&cols);
	struct strvec rows = STRVEC_INIT;
	int rc = rh_rows_of(c, sql, &rows, err, errlen);
	free(sql);
	if (rc < 0)
		return -1;
	if (rows.n != inv->n) {
		snprintf(err, errlen, "the row counts of %zu tables came back as %zu", inv->n, rows.n);
		sv_free(&rows);
		return -1;
	}
	for (size_t i = 0; i < inv->n; i++) {
		struct rh_table *t = &inv->t[i];
		struct strvec f = STRVEC_INIT;
		rh_split(rows.v[i], RH_FS, &f);
		if (f.n != 1 + (hashes ? 1 : 0)) {
			snprintf(err, errlen, "the counts of table '%s' came back malformed", t->name);
			sv_free(&f);
			sv_free(&rows);
			return -1;
		}
		t->rows = strtoll(f.v[0], NULL, 10);
		if (hashes)
			sv_pushf(hashes, "%s\t%s", t->name, f.v[1]);
		sv_free(&f);
	}
	sv_free(&rows);
	return 0;
}

static int inventory_read(struct dbconn *c, struct rh_inventory *inv, struct strvec *hashes, int marks,
                          char *err, size_t errlen)
{
	const struct rh_engine *e = rh_engine_of(db_engine(c));
	memset(inv, 0, sizeof *inv);
	if (e->session_setup && db_exec(c, e->session_setup, err, errlen) < 0)
		return -1;
	if (db_exec(c, e->begin, err, errlen) < 0)
		return -1;
	int rc = e->schema(c, inv, err, errlen);
	if (rc == 0)
		rc = read_counts(c, e, inv, hashes, marks, err, errlen);
	char ignore[256];
	db_exec(c, e->end, ignore, sizeof ignore);
	if (rc < 0)
		rh_inventory_free(inv);
	return rc;
}

int rh_inventory_read(struct dbconn *c, struct rh_inventory *inv, char *err, size_t errlen)
{
	return inventory_read(c, inv, NULL, 0, err, errlen);
}

/* ---- as TSV ---- */

static void fields(FILE *f, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			putc('\t', f);
		tsv_field(f, v[i]);
	}
	putc('\n', f);
}

int rh_inventory_write(FILE *f, const struct rh_inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++) {
		const struct rh_table *t = &inv->t[i];
		char rows[32];
		snprintf(rows, sizeof rows, "%lld", t->rows);
		fields(f, (const char *[]){ "table", t->name, t->ref, rows }, 4);
		for (size_t k = 0; k < t->npk; k++)
			fields(f, (const char *[]){ "pk", t->pk[k] }, 2);
		for (size_t k = 0; k < t->ncol; k++)
			fields(f, (const char *[]){ "column", t->col[k].name, t->col[k].type,
			                            t->col[k].notnull ? "1" : "0" }, 4);
		for (size_t k = 0; k < t->ncon; k++) {
			const struct rh_constraint *x = &t->con[k];
			char kind[2] = { x->kind, 0 };
			fields(f, (const char *[]){ "constraint", kind, x->name, x->def, x->ref ? x->ref : "",
			                            x->cascade ? "1" : "0" }, 6);
		}
	}
	return ferror(f) ? -1 : 0;
}

int rh_inventory_load(const char *path, struct rh_inventory *inv, char *err, size_t errlen)
{
	memset(inv, 0, sizeof *inv);
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	struct rh_table *t = NULL;
	char *save = NULL;
	int bad = 0;
	for (char *line = strtok_r(text, "\n", &save); line && !bad; line = strtok_r(NULL, "\n", &save)) {
		char *f[8];
		int n = tsv_split(line, f, 8);
		if (n == 4 && !strcmp(f[0], "table")) {
			t = rh_table_add(inv, f[1], f[2]);
			t->rows = strtoll(f[3], NULL, 10);
		} else if (n == 2 && t && !strcmp(f[0], "pk")) {
			rh_pk_add(t, f[1]);
		} else if (n == 4 && t && !strcmp(f[0], "column")) {
			rh_column_add(t, f[1], f[2], !strcmp(f[3], "1"));
		} else if (n == 6 && t && !strcmp(f[0], "constraint")) {
			rh_constraint_add(t, f[1][0], f[2], f[3], f[4], !strcmp(f[5], "1"));
		} else {
			bad = 1;
		}
	}
	free(text);
	if (bad) {
		snprintf(err, errlen, "'%s' is not an inventory written by db-rehearse", path);
		rh_inventory_free(inv);
		return -1;
	}
	return 0;
}

/* ---- the checksum of an original ---- */

static char *hash_text(const char *engine, const char *text, size_t len, char *err, size_t errlen)
{
	struct sha256 h;
	char hex[SHA256_HEX_SIZE];
	if (sha256_init(&h) < 0) {
		snprintf(err, errlen, "cannot compute a SHA-256: out of memory");
		return NULL;
	}
	sha256_update(&h, text, len);
	if (sha256_final(&h, hex) < 0) {
		snprintf(err, errlen, "cannot compute a SHA-256");
		return NULL;
	}
	return xasprintf("%s:%s", engine, hex);
}

/* A SQLite database is its file (and its write-ahead log): hash the bytes. */
static char *sqlite_checksum(const char *path, char *err, size_t errlen)
{
	struct strbuf all = STRBUF_INIT;
	const char *suffixes[] = { "", "-wal" };
	for (size_t i = 0; i < 2; i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);
		size_t len;
		char *data = read_file(p, &len);
		if (!data && (i == 0 || errno != ENOENT)) {
			snprintf(err, errlen, "cannot read '%s': %s", p, strerror(errno));
			free(p);
			sb_free(&all);
			return NULL;
		}
		free(p);
		sb_addf(&all, "%s%zu\n", suffixes[i], data ? len : 0);
		if (data)
			sb_add(&all, data, len);
		free(data);
	}
	char *sum = hash_text("sqlite", all.buf ? all.buf : "", all.len, err, errlen);
	sb_free(&all);
	return sum;
}

/* The checksum's kind, in its prefix: "<engine>:" (the rows' content) or
 * "<engine>+marks:" (the engine's row marks). */
#define RH_MARKS_KIND "+marks"

char *rh_checksum_inventory(struct dbconn *c, int marks, struct rh_inventory *inv, char *err, size_t errlen)
{
	const struct rh_engine *e = rh_engine_of(db_engine(c));
	marks = marks && e->row_mark;
	struct strvec hashes = STRVEC_INIT;
	if (inventory_read(c, inv, &hashes, marks, err, errlen) < 0) {
		sv_free(&hashes);
		return NULL;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	rh_inventory_write(mem, inv);
	for (size_t i = 0; i < hashes.n; i++)
		fprintf(mem, "hash\t%s\n", hashes.v[i]);
	fclose(mem);
	char *kind = xasprintf("%s%s", db_engine(c), marks ? RH_MARKS_KIND : "");
	char *sum = hash_text(kind, buf, len, err, errlen);
	free(kind);
	free(buf);
	sv_free(&hashes);
	if (!sum)
		rh_inventory_free(inv);
	return sum;
}

char *rh_checksum(const struct target *t, struct dbconn *c, const char *like, char *err, size_t errlen)
{
	if (target_is(t, "sqlite"))
		return sqlite_checksum(target_get(t, TF_DATABASE), err, errlen);
	const char *colon = like ? strchr(like, ':') : NULL;
	size_t k = strlen(RH_MARKS_KIND);
	int marks = colon && colon - like >= (ptrdiff_t)k && !strncmp(colon - k, RH_MARKS_KIND, k);
	struct rh_inventory inv;
	char *sum = rh_checksum_inventory(c, marks, &inv, err, errlen);
	if (sum)
		rh_inventory_free(&inv);
	return sum;
}

struct checksum_job {
	const struct target *t;
	struct dbconn *c;
	const char *like;
	char *sum, *err;
	size_t errlen;
};

static void *checksum_thread(void *arg)
{
	struct checksum_job *j = arg;
	j->sum = rh_checksum(j->t, j->c, j->like, j->err, j->errlen);
	return NULL;
}

int rh_checksum_beside(const struct target *t, struct dbconn *c, const char *like, char **sum, char *sum_err,
                       size_t sum_errlen, struct dbconn *cc, struct rh_inventory *inv, char *err, size_t errlen)
{
	struct checksum_job j = { t, c, like, NULL, sum_err, sum_errlen };
	pthread_t th;
	int threaded = !*sum && pthread_create(&th, NULL, checksum_thread, &j) == 0;
	int rc = rh_inventory_read(cc, inv, err, errlen);
	if (threaded)
		pthread_join(th, NULL);
	else if (!*sum)
		checksum_thread(&j);
	if (!*sum)
		*sum = j.sum;
	if (!*sum)
		return -1;
	return rc;
}

/* ---- values by primary key ---- */

int rh_values_read(struct dbconn *c, const struct rh_table *tab, const char *col,
                   struct rh_values *out, char *err, size_t errlen)
{
	const struct rh_engine *e = rh_engine_of(db_engine(c));
	memset(out, 0, sizeof *out);
	if (e->session_setup && db_exec(c, e->session_setup, err, errlen) < 0)
		return -1;
	struct strvec key = STRVEC_INIT;
	for (size_t k = 0; k < tab->npk; k++) {
		char *q = db_quote_ident(c, tab->pk[k]);
		sv_push_owned(&key, e->text(q));
		free(q);
	}
	char *qc = db_quote_ident(c, col);
	sv_push_owned(&key, e->text(qc));
	free(qc);
	char *row = e->concat(key.v, key.n, RH_FS);
	char *agg = e->agg(row);
	char *sql = xasprintf("SELECT %s FROM %s x", agg, tab->ref);
	free(row);
	free(agg);
	sv_free(&key);
	struct strvec rows = STRVEC_INIT;
	int rc = rh_rows_of(c, sql, &rows, err, errlen);
	free(sql);
	if (rc < 0)
		return -1;
	out->key = xcalloc(rows.n + 1, sizeof *out->key);
	out->val = xcalloc(rows.n + 1, sizeof *out->val);
	for (size_t i = 0; i < rows.n; i++) {
		char *last = strrchr(rows.v[i], RH_FS);
		if (!last)
			continue;
		out->key[out->n] = xstrndup(rows.v[i], (size_t)(last - rows.v[i]));
		out->val[out->n++] = xstrdup(last + 1);
	}
	sv_free(&rows);
	return 0;
}

void rh_values_free(struct rh_values *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->key[i]);
		free(v->val[i]);
	}
	free(v->key);
	free(v->val);
	memset(v, 0, sizeof *v);
}
