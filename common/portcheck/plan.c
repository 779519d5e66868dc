/* plan.c — the migration plan: a new host port in the range for every
 * database binding that must move (out of range, losing a conflict, in use),
 * deterministic, each family in its block when the configuration has one;
 * a binding whose port text is not its alone is left to the hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "model/config.h"
#include "portcheck/impl.h"

struct taken {
	unsigned char used[65536];
};

static int block_of(enum db_family f, int *lo, int *hi)
{
	char key[32];
	snprintf(key, sizeof key, "block_%s", db_family_name(f));
	const char *v = config_get("portcheck", key);
	return v && parse_port_range(v, lo, hi) == 0 ? 0 : -1;
}

static int in_any_block(int port)
{
	for (int f = DBF_POSTGRES; f < DBF_COUNT; f++) {
		int lo, hi;
		if (block_of((enum db_family)f, &lo, &hi) == 0 && port >= lo && port <= hi)
			return 1;
	}
	return 0;
}

/* The first run of n free ports in [from, to], avoiding the other families'
 * blocks when outside_blocks. */
static int find_free(const struct taken *t, int from, int to, int n, int outside_blocks)
{
	for (int p = from; p >= 1 && p + n - 1 <= to; p++) {
		int ok = 1;
		for (int k = 0; k < n && ok; k++)
			ok = !t->used[p + k] && !(outside_blocks && in_any_block(p + k));
		if (ok)
			return p;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = *(struct row *const *)a, *y = *(struct row *const *)b;
	if (x->s != y->s)
		return x->order < y->order ? -1 : 1;   /* rows of a service are contiguous */
	if (x->p->pub_lo != y->p->pub_lo)
		return x->p->pub_lo < y->p->pub_lo ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void plan_ports(struct report *r, const struct listener_list *ls)
{
	struct taken *t = xcalloc(1, sizeof *t);
	for (size_t i = 0; i < ls->n; i++)
		t->used[ls->v[i].port] = 1;
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		const struct cport *p = w->p;
		if (!p->pub_lo)
			continue;
		w->change = w->db && ((w->flags & F_RANGE) || w->loses || ((w->flags & F_BUSY) && !is_container_proxy(w->busy)));
		if (!w->change)
			for (int k = p->pub_lo; k <= p->pub_hi; k++)
				t->used[k] = 1;
		w->new_lo = p->pub_lo;
		w->new_hi = p->pub_hi;
	}
	struct row **todo = xmalloc((r->nrows + 1) * sizeof *todo);
	size_t n = 0;
	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].change)
			todo[n++] = &r->rows[i];
	qsort(todo, n, sizeof *todo, row_cmp);
	const struct cservice *cur = NULL;
	int prev = 0;
	for (size_t i = 0; i < n; i++) {
		struct row *w = todo[i];
		int size = w->p->pub_hi - w->p->pub_lo + 1;
		if (w->s != cur) {
			cur = w->s;
			prev = r->lo - 1;
		}
		int blo, bhi, got = 0;
		if (block_of(w->s->family, &blo, &bhi) == 0) {
			if (blo < r->lo)
				blo = r->lo;
			if (bhi > r->hi)
				bhi = r->hi;
			got = find_free(t, blo > prev + 1 ? blo : prev + 1, bhi, size, 0);
		}
		if (!got)
			got = find_free(t, prev + 1, r->hi, size, 1);
		if (!got)
			got = find_free(t, prev + 1, r->hi, size, 0);
		if (!got)
			got = find_free(t, r->lo, r->hi, size, 0);
		if (!got) {
			w->manual = 1;
			w->why_manual = xasprintf("no %d free port%s left in %d-%d", size, size > 1 ? "s" : "", r->lo, r->hi);
			w->new_lo = w->new_hi = 0;
			r->nunplaced++;
			continue;
		}
		w->new_lo = got;
		w->new_hi = got + size - 1;
		for (int k = w->new_lo; k <= w->new_hi; k++)
			t->used[k] = 1;
		prev = w->new_hi;
	}
	free(todo);
	free(t);
	/* A change can be written only where the text is this binding's alone. */
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		if (!w->change || w->manual)
			continue;
		if (w->p->noedit || !w->p->nsites) {
			w->manual = 1;
			w->why_manual = xstrdup(w->p->noedit ? w->p->noedit : "its host port is written nowhere it can be changed");
			continue;
		}
		for (size_t j = 0; j < r->nrows && !w->manual; j++) {
			const struct row *o = &r->rows[j];
			if (o == w)
				continue;
			for (size_t a = 0; a < w->p->nsites && !w->manual; a++)
				for (size_t b = 0; b < o->p->nsites && !w->manual; b++)
					if (strcmp(w->p->sites[a].path, o->p->sites[b].path) == 0 &&
					    w->p->sites[a].off == o->p->sites[b].off) {
						w->manual = 1;
						w->why_manual = xasprintf("the same text at %s:%d also sets the port of '%s'",
						                          w->p->sites[a].path, w->p->sites[a].line, o->s->name);
					}
		}
	}
}
