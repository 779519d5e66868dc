/* scan_pg.c — the PostgreSQL dump scanner: counts the rows of every COPY
 * block of a pg_dump plain-format stream, fed in pieces of any size. */
#include "snap/scan.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define PG_LINE_MAX (4u << 20)

enum { PG_BOL, PG_PREFIX, PG_COLLECT, PG_SKIP, PG_IN_BOL, PG_IN_BS, PG_IN_SKIP };

static int pgtable_cmp(const void *a, const void *b)
{
	const struct pgtable *x = a, *y = b;
	int r = strcmp(x->schema, y->schema);
	return r ? r : strcmp(x->name, y->name);
}

/* An identifier as pg_dump prints it (fmtId): bare, or in double quotes
 * with "" for a quote. */
static char *pg_ident(const char **pp)
{
	const char *p = *pp;
	struct strbuf sb = STRBUF_INIT;
	if (*p == '"') {
		for (p++;; p++) {
			if (!*p) {
				sb_free(&sb);
				return NULL;
			}
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			sb_addc(&sb, *p);
		}
		p++;
	} else {
		while (*p && *p != '.' && *p != ' ' && *p != '(')
			sb_addc(&sb, *p++);
	}
	*pp = p;
	if (!sb.len) {
		sb_free(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

static long pg_copy_table(struct pgscan *s, const char *line)
{
	const char *p = line + 5;
	char *schema = pg_ident(&p), *name = NULL;
	long idx = -1;
	if (schema && *p == '.') {
		p++;
		name = pg_ident(&p);
	}
	if (name) {
		struct pgtable key = { .schema = schema, .name = name };
		struct pgtable *hit = bsearch(&key, s->tabs, s->n, sizeof *s->tabs, pgtable_cmp);
		if (hit)
			idx = hit - s->tabs;
	}
	free(schema);
	free(name);
	return idx;
}

static void pg_line(struct pgscan *s)
{
	const char *l = sb_str(&s->line);
	if (strncmp(l, "-- ", 3) == 0) {
		s->data_entry = strstr(l, "; Type: TABLE DATA;") != NULL;
	} else if (s->data_entry) {
		size_t n = strlen(l);
		s->data_entry = 0;
		if (n > 12 && strcmp(l + n - 12, " FROM stdin;") == 0) {
			/* Even a block of a table we do not know must be skipped as
			 * data, or its rows would be read as statements. */
			s->cur = pg_copy_table(s, l);
			s->state = PG_IN_BOL;
		}
	}
	sb_reset(&s->line);
}

void pgscan_init(struct pgscan *s)
{
	memset(s, 0, sizeof *s);
	s->state = PG_BOL;
	s->cur = -1;
}

void pgscan_add_table(struct pgscan *s, unsigned long oid, const char *schema, const char *name)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->tabs = xrealloc(s->tabs, s->cap * sizeof *s->tabs);
	}
	struct pgtable *t = &s->tabs[s->n++];
	t->oid = oid;
	t->schema = xstrdup(schema);
	t->name = xstrdup(name);
	t->display = strcmp(schema, "public") == 0 ? xstrdup(name) : xasprintf("%s.%s", schema, name);
	t->own = 0;
}

void pgscan_ready(struct pgscan *s)
{
	if (s->n)
		qsort(s->tabs, s->n, sizeof *s->tabs, pgtable_cmp);
}

void pgscan_free(struct pgscan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->tabs[i].schema);
		free(s->tabs[i].name);
		free(s->tabs[i].display);
	}
	free(s->tabs);
	sb_free(&s->line);
	memset(s, 0, sizeof *s);
}

static const char pg_copy_prefix[] = "COPY ";
static const char pg_data_prefix[] = "-- Data for Name: ";

void pg_scan(void *arg, const char *buf, size_t len)
{
	struct pgscan *s = arg;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		switch (s->state) {
		case PG_BOL:
		case PG_PREFIX: {
			char c = *p++;
			if (c == '\n') {
				sb_reset(&s->line);
				s->state = PG_BOL;
				break;
			}
			sb_addc(&s->line, c);
			const char *l = s->line.buf;
			size_t n = s->line.len;
			int copy = n <= 5 && memcmp(l, pg_copy_prefix, n) == 0;
			int data = n <= 18 && memcmp(l, pg_data_prefix, n) == 0;
			if ((copy && n == 5) || (data && n == 18))
				s->state = PG_COLLECT;
			else if (copy || data)
				s->state = PG_PREFIX;
			else {
				sb_reset(&s->line);
				s->state = PG_SKIP;
			}
			break;
		}
		case PG_COLLECT: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = (size_t)((nl ? nl : end) - p);
			if (s->line.len + n <= PG_LINE_MAX)
				sb_add(&s->line, p, n);
			p += n;
			if (nl) {
				p++;
				s->state = PG_BOL;
				pg_line(s);
			}
			break;
		}
		case PG_SKIP:
		case PG_IN_SKIP: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				p = end;
				break;
			}
			p = nl + 1;
			s->state = s->state == PG_SKIP ? PG_BOL : PG_IN_BOL;
			break;
		}
		case PG_IN_BOL: {
			/* One line per row; only the end marker starts with "\." (a
			 * backslash in data is written "\\"). */
			char c = *p++;
			if (c == '\\') {
				s->state = PG_IN_BS;
				break;
			}
			if (s->cur >= 0)
				s->tabs[s->cur].own++;
			if (c != '\n')
				s->state = PG_IN_SKIP;
			break;
		}
		case PG_IN_BS: {
			char c = *p++;
			if (c == '.') {
				s->state = PG_SKIP;
				s->cur = -1;
				break;
			}
			if (s->cur >= 0)
				s->tabs[s->cur].own++;
			s->state = c == '\n' ? PG_IN_BOL : PG_IN_SKIP;
			break;
		}
		}
	}
}
