/* diff.c — what a command did to a database, from the inventory of the
 * copy before it and after it: tables and columns dropped with what they
 * held, rows gone (and those a cascade took), types changed with the
 * values the conversion changed (read by primary key from the original,
 * which is the copy before, and from the copy), constraints added,
 * renames, new tables and columns. */
#include "rehearse/impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/msg.h"

static struct rh_finding *add(struct rh_report *r, enum rh_kind kind, const char *table)
{
	r->f = xrealloc(r->f, (r->n + 1) * sizeof *r->f);
	struct rh_finding *f = &r->f[r->n++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->table = xstrdup(table);
	return f;
}

/* Same columns with the same types: a table renamed, not a new one. */
static int same_columns(const struct rh_table *a, const struct rh_table *b)
{
	if (a->ncol != b->ncol)
		return 0;
	for (size_t i = 0; i < a->ncol; i++) {
		const struct rh_column *c = rh_column_find(b, a->col[i].name);
		if (!c || strcmp(c->type, a->col[i].type))
			return 0;
	}
	return 1;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

/* Equal as text, or as numbers ("12" and "12.0" after integer -> numeric). */
static int same_value(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return 1;
	char *ea, *eb;
	errno = 0;
	double x = strtod(a, &ea), y = strtod(b, &eb);
	return *a && *b && !*ea && !*eb && !errno && x == y && !isnan(x);
}

/* Sort the rows of v by key: an index of pointers to (key, val) pairs. */
static char ***sorted(const struct rh_values *v)
{
	char ***idx = xcalloc(v->n + 1, sizeof *idx);
	for (size_t i = 0; i < v->n; i++) {
		idx[i] = xmalloc(2 * sizeof **idx);
		idx[i][0] = v->key[i];
		idx[i][1] = v->val[i];
	}
	qsort(idx, v->n, sizeof *idx, by_key);
	return idx;
}

/* Old and new values of one column, matched by primary key. */
static int compare_values(struct dbconn *orig, struct dbconn *copy, const struct rh_table *tb,
                          const struct rh_table *ta, const char *col, long long *changed, long long *truncated)
{
	for (size_t k = 0; k < tb->npk; k++)
		if (!rh_column_find(ta, tb->pk[k]))
			return 0;
	if (!tb->npk)
		return 0;
	struct rh_values old, new;
	char err[1024];
	if (rh_values_read(orig, tb, col, &old, err, sizeof err) < 0) {
		warn("cannot read the values of %s.%s from the original: %s", tb->name, col, err);
		return 0;
	}
	/* The copy's table has the after name but the before's primary key. */
	struct rh_table key_of_after = *ta;
	key_of_after.pk = tb->pk;
	key_of_after.npk = tb->npk;
	if (rh_values_read(copy, &key_of_after, col, &new, err, sizeof err) < 0) {
		warn("cannot read the values of %s.%s from the copy: %s", ta->name, col, err);
		rh_values_free(&old);
		return 0;
	}
	char ***o = sorted(&old), ***n = sorted(&new);
	size_t i = 0, j = 0;
	while (i < old.n && j < new.n) {
		int c = strcmp(o[i][0], n[j][0]);
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			const char *a = o[i][1], *b = n[j][1];
			if (strcmp(a, RH_NULL) && !same_value(a, b)) {
				if (strcmp(b, RH_NULL) && strlen(b) < strlen(a) && !strncmp(a, b, strlen(b)))
					(*truncated)++;
				else
					(*changed)++;
			}
			i++;
			j++;
		}
	}
	for (size_t k = 0; k < old.n; k++)
		free(o[k]);
	for (size_t k = 0; k < new.n; k++)
		free(n[k]);
	free(o);
	free(n);
	rh_values_free(&old);
	rh_values_free(&new);
	return 1;
}

/* The values of column col of table t that are not NULL, counted where c
 * is connected: the original for a table before the command (the
 * original is the copy before it: the report proves that), the copy for
 * one after it.  -1, with a warning, when they cannot be counted. */
static long long nonnull(struct dbconn *c, const struct rh_table *t, const char *col)
{
	char *q = db_quote_ident(c, col), *v = NULL, err[1024] = "";
	char *sql = xasprintf("SELECT count(x.%s) FROM %s x", q, t->ref);
	long long n = db_query_value(c, sql, &v, err, sizeof err) == 0 && v ? strtoll(v, NULL, 10) : -1;
	if (n < 0)
		warn("cannot count the values of %s.%s: %s", t->name, col, *err ? err : "no answer");
	free(v);
	free(sql);
	free(q);
	return n;
}

static int has_constraint(const struct rh_table *t, const struct rh_constraint *x)
{
	for (size_t i = 0; i < t->ncon; i++)
		if (t->con[i].kind == x->kind && !strcmp(t->con[i].def, x->def))
			return 1;
	return 0;
}

static const char *constraint_kind(char k)
{
	return k == 'p' ? "primary key" : k == 'u' ? "unique" : k == 'f' ? "foreign key" : "check";
}

/* One table that is in both: before tb, after ta (renamed or not). */
static void diff_table(struct rh_report *r, const struct rh_table *tb, const struct rh_table *ta,
                       struct dbconn *orig, struct dbconn *copy)
{
	if (ta->rows < tb->rows) {
		struct rh_finding *f = add(r, RK_ROWS_FELL, ta->name);
		f->n = tb->rows;
		f->m = ta->rows;
		f->loss = 1;
	}
	/* Columns gone and new; a gone one and a new one of the same type
	 * holding as many values (not none: a NULL column dropped and another
	 * added are just that) is a rename. */
	int *matched = xcalloc(ta->ncol + 1, sizeof *matched);
	long long *after = xcalloc(ta->ncol + 1, sizeof *after);   /* counted + 1; 0: not yet */
	for (size_t i = 0; i < tb->ncol; i++)
		if (rh_column_find(ta, tb->col[i].name))
			matched[rh_column_find(ta, tb->col[i].name) - ta->col] = 1;
	for (size_t i = 0; i < tb->ncol; i++) {
		const struct rh_column *cb = &tb->col[i], *ca = rh_column_find(ta, cb->name);
		if (ca) {
			if (strcmp(cb->type, ca->type)) {
				struct rh_finding *f = add(r, RK_TYPE_CHANGED, ta->name);
				f->column = xstrdup(cb->name);
				f->from = xstrdup(cb->type);
				f->to = xstrdup(ca->type);
				if (nonnull(orig, tb, cb->name) != 0) {
					f->compared = compare_values(orig, copy, tb, ta, cb->name, &f->n, &f->m);
					f->loss = !f->compared || f->n + f->m > 0;
				} else {
					f->compared = 1;
				}
			}
			if (!cb->notnull && ca->notnull) {
				struct rh_finding *f = add(r, RK_CONSTRAINT_ADDED, ta->name);
				f->column = xstrdup(cb->name);
				f->from = xstrdup("not null");
				f->to = xasprintf("%s NOT NULL", cb->name);
			}
			continue;
		}
		long long held = nonnull(orig, tb, cb->name);
		const struct rh_column *to = NULL;
		for (size_t k = 0; k < ta->ncol && !to && held > 0; k++) {
			if (matched[k] || rh_column_find(tb, ta->col[k].name) || strcmp(ta->col[k].type, cb->type))
				continue;
			if (!after[k])
				after[k] = nonnull(copy, ta, ta->col[k].name) + 1;
			if (after[k] - 1 == held) {
				to = &ta->col[k];
				matched[k] = 1;
			}
		}
		if (to) {
			struct rh_finding *f = add(r, RK_COLUMN_RENAMED, ta->name);
			f->from = xstrdup(cb->name);
			f->to = xstrdup(to->name);
			continue;
		}
		struct rh_finding *f = add(r, RK_COLUMN_DROPPED, ta->name);
		f->column = xstrdup(cb->name);
		f->n = held;
		f->loss = held != 0;   /* not counted (-1): lost, to be safe */
	}
	free(after);
	for (size_t k = 0; k < ta->ncol; k++) {
		if (matched[k])
			continue;
		struct rh_finding *f = add(r, RK_COLUMN_ADDED, ta->name);
		f->column = xstrdup(ta->col[k].name);
		f->to = xstrdup(ta->col[k].type);
	}
	free(matched);
	for (size_t i = 0; i < ta->ncon; i++) {
		if (has_constraint(tb, &ta->con[i]))
			continue;
		struct rh_finding *f = add(r, RK_CONSTRAINT_ADDED, ta->name);
		f->from = xstrdup(constraint_kind(ta->con[i].kind));
		f->to = xstrdup(ta->con[i].def);
	}
}

/* Rows a cascade took: a table whose count fell, with an ON DELETE CASCADE
 * foreign key to a table whose count fell too. */
static void mark_cascades(struct rh_report *r, const struct rh_inventory *before)
{
	for (size_t i = 0; i < r->n; i++) {
		struct rh_finding *f = &r->f[i];
		const struct rh_table *t = f->kind == RK_ROWS_FELL ? rh_table_find(before, f->table) : NULL;
		for (size_t k = 0; t && k < t->ncon && !f->ref; k++) {
			const struct rh_constraint *x = &t->con[k];
			if (x->kind != 'f' || !x->cascade || !x->ref)
				continue;
			for (size_t j = 0; j < r->n; j++)
				if (r->f[j].kind == RK_ROWS_FELL && !strcmp(r->f[j].table, x->ref) && j != i)
					f->ref = xstrdup(x->ref);
		}
	}
}

struct rh_report *rh_diff(const struct rh_inventory *before, const struct rh_inventory *after,
                          struct dbconn *orig, struct dbconn *copy)
{
	struct rh_report *r = xcalloc(1, sizeof *r);
	int *taken = xcalloc(after->n + 1, sizeof *taken);
	for (size_t i = 0; i < before->n; i++) {
		const struct rh_table *tb = &before->t[i], *ta = rh_table_find(after, tb->name);
		if (ta) {
			taken[ta - after->t] = 1;
			diff_table(r, tb, ta, orig, copy);
		}
	}
	for (size_t i = 0; i < before->n; i++) {
		const struct rh_table *tb = &before->t[i];
		if (rh_table_find(after, tb->name))
			continue;
		/* A new table with the same columns is this one renamed: one
		 * holding as many rows first, else one that lost some. */
		const struct rh_table *to = NULL;
		for (int pass = 0; pass < 2 && !to; pass++)
			for (size_t k = 0; k < after->n && !to; k++)
				if (!taken[k] && !rh_table_find(before, after->t[k].name) && same_columns(tb, &after->t[k]) &&
				    (pass || after->t[k].rows == tb->rows)) {
					to = &after->t[k];
					taken[k] = 1;
				}
		if (to) {
			struct rh_finding *f = add(r, RK_TABLE_RENAMED, to->name);
			f->from = xstrdup(tb->name);
			f->to = xstrdup(to->name);
			diff_table(r, tb, to, orig, copy);
			continue;
		}
		struct rh_finding *f = add(r, RK_TABLE_DROPPED, tb->name);
		f->n = tb->rows;
		f->loss = tb->rows > 0;
	}
	for (size_t k = 0; k < after->n; k++) {
		if (taken[k])
			continue;
		struct rh_finding *f = add(r, RK_TABLE_ADDED, after->t[k].name);
		f->n = after->t[k].rows;
	}
	free(taken);
	mark_cascades(r, before);
	return r;
}

int rh_report_loss(const struct rh_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->f[i].loss)
			return 1;
	return 0;
}

void rh_report_free(struct rh_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->f[i].table);
		free(r->f[i].column);
		free(r->f[i].from);
		free(r->f[i].to);
		free(r->f[i].ref);
	}
	free(r->f);
	free(r);
}
