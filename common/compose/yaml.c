/* yaml.c — reading a compose file with libyaml.  libyaml's events are built
 * into a tree whose aliases point at their anchors (nothing copied), then
 * flattened once with a node budget, so an alias bomb costs at most
 * COMPOSE_MAX_NODES nodes before it is refused.  Scalars keep the byte range
 * of their text in the file, which is what lets apply rewrite exactly a port
 * and nothing else. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "base/io.h"
#include "base/msg.h"
#include "compose/impl.h"

/* ---- nodes ---- */

static struct node *new_node(struct priv *pv, int kind, struct cfile *f, int line, int col)
{
	struct node *n = xcalloc(1, sizeof *n);
	n->kind = kind;
	n->file = f;
	n->line = line;
	n->col = col;
	n->off = -1;
	if (pv->narena == pv->carena) {
		pv->carena = pv->carena ? pv->carena * 2 : 256;
		pv->arena = xrealloc(pv->arena, pv->carena * sizeof *pv->arena);
	}
	pv->arena[pv->narena++] = n;
	return n;
}

void node_push(struct node *parent, struct node *kid)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = xrealloc(parent->kids, parent->cap * sizeof *parent->kids);
	}
	parent->kids[parent->n++] = kid;
}

struct node *node_copy(struct priv *pv, const struct node *n)
{
	struct node *c = new_node(pv, n->kind, n->file, n->line, n->col);
	c->tag = xstrdup(n->tag);
	return c;
}

int node_is_null(const struct node *n)
{
	if (!n)
		return 1;
	if (n->kind != N_SCALAR)
		return 0;
	if (n->tag && strcmp(n->tag, "tag:yaml.org,2002:null") == 0)
		return 1;
	if (n->style != YAML_PLAIN_SCALAR_STYLE || n->tag)
		return 0;
	return !*n->value || !strcmp(n->value, "~") || !strcmp(n->value, "null") || !strcmp(n->value, "Null") ||
	       !strcmp(n->value, "NULL");
}

int node_has_tag(const struct node *n, const char *tag)
{
	return n && n->tag && strcmp(n->tag, tag) == 0;
}

struct node *node_get(const struct node *m, const char *key)
{
	if (!m || m->kind != N_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (strcmp(m->kids[i]->value, key) == 0)
			return m->kids[i + 1];
	return NULL;
}

const char *node_kind(const struct node *n)
{
	if (!n)
		return "nothing";
	return n->kind == N_MAP ? "a mapping" : n->kind == N_SEQ ? "a list" : "a scalar";
}

/* ---- reading a file ---- */

static void index_lines(struct cfile *f)
{
	size_t cap = 64;
	f->lines = xmalloc(cap * sizeof *f->lines);
	f->nlines = 0;
	size_t start = f->len >= 3 && memcmp(f->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	f->lines[f->nlines++] = start;
	for (size_t i = start; i < f->len; i++) {
		int brk = 0;
		if (f->text[i] == '\n')
			brk = 1;
		else if (f->text[i] == '\r' && (i + 1 >= f->len || f->text[i + 1] != '\n'))
			brk = 1;
		if (brk) {
			if (f->nlines == cap) {
				cap *= 2;
				f->lines = xrealloc(f->lines, cap * sizeof *f->lines);
			}
			f->lines[f->nlines++] = i + 1;
		}
	}
}

/* libyaml counts columns in characters; walk them as UTF-8 to find bytes. */
static long byte_offset(const struct cfile *f, size_t line, size_t col)
{
	if (line >= f->nlines)
		return line == f->nlines ? (long)f->len : -1;
	size_t p = f->lines[line];
	for (size_t c = 0; c < col; c++) {
		if (p >= f->len || f->text[p] == '\n')
			return -1;
		unsigned char b = (unsigned char)f->text[p];
		p += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
	}
	return p <= f->len ? (long)p : -1;
}

/* Record where the scalar's value is written, when the raw bytes are the value
 * (plain, or quoted without escapes and on one line). */
static void scalar_bytes(struct node *n, const yaml_event_t *e)
{
	const struct cfile *f = n->file;
	long s = byte_offset(f, e->start_mark.line, e->start_mark.column);
	long t = byte_offset(f, e->end_mark.line, e->end_mark.column);
	if (s < 0 || t < s)
		return;
	int style = e->data.scalar.style;
	if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		if (t - s < 2)
			return;
		s++;
		t--;
	} else if (style != YAML_PLAIN_SCALAR_STYLE) {
		return;
	}
	size_t vlen = e->data.scalar.length;
	if ((size_t)(t - s) != vlen || memcmp(f->text + s, e->data.scalar.value, vlen) != 0)
		return;
	n->off = s;
	n->len = t - s;
}

struct loader {
	struct priv *pv;
	struct cfile *f;
	struct node *stack[COMPOSE_MAX_DEPTH + 2];
	int depth;
	struct anchor {
		char *name;
		struct node *node;
	} *anchors;
	size_t nanchors;
	long count;
	int failed;
};

static void add_anchor(struct loader *L, const yaml_char_t *name, struct node *n)
{
	if (!name)
		return;
	L->anchors = xrealloc(L->anchors, (L->nanchors + 1) * sizeof *L->anchors);
	L->anchors[L->nanchors].name = xstrdup((const char *)name);
	L->anchors[L->nanchors++].node = n;
}

static void clear_anchors(struct loader *L)
{
	for (size_t i = 0; i < L->nanchors; i++)
		free(L->anchors[i].name);
	free(L->anchors);
	L->anchors = NULL;
	L->nanchors = 0;
}

static struct node *find_anchor(struct loader *L, const char *name)
{
	/* A later anchor of the same name replaces an earlier one. */
	for (size_t i = L->nanchors; i-- > 0;)
		if (strcmp(L->anchors[i].name, name) == 0)
			return L->anchors[i].node;
	return NULL;
}

static void fail_at(struct loader *L, int line, int col, const char *fmt, const char *arg)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, arg);
	error("%s:%d:%d: %s", L->f->path, line, col, msg);
	L->failed = 1;
}

static int is_merge_key(const struct node *k)
{
	if (k->kind != N_SCALAR)
		return 0;
	if (node_has_tag(k, "tag:yaml.org,2002:merge"))
		return 1;
	return k->style == YAML_PLAIN_SCALAR_STYLE && !k->tag && strcmp(k->value, "<<") == 0;
}

struct pair {
	struct node *k, *v;
	int prio;             /* 0 explicit, 1.. the merge source it came from */
	size_t order;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->k->value, y->k->value);
	if (c)
		return c;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int order_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	return x->order < y->order ? -1 : x->order > y->order;
}

static struct node *flatten(struct loader *L, struct node *n, int depth, const struct node *via);

static struct node *deref(struct node *n)
{
	while (n && n->kind == N_ALIAS)
		n = n->target;
	return n;
}

/* A mapping with its merge keys applied: explicit keys win, then the merged
 * mappings in the order listed.  Duplicate explicit keys are an error, as
 * in compose. */
static struct node *flatten_map(struct loader *L, struct node *n, int depth, const struct node *via)
{
	struct pair *pairs = NULL;
	size_t np = 0, cp = 0;
	int prio = 0;
	struct node *out = node_copy(L->pv, n);
	for (size_t i = 0; i + 1 < n->n && !L->failed; i += 2) {
		struct node *k = flatten(L, n->kids[i], depth + 1, via);
		if (L->failed)
			break;
		if (k->kind != N_SCALAR) {
			fail_at(L, k->line, k->col, "a mapping key must be a scalar, not %s", node_kind(k));
			break;
		}
		if (is_merge_key(k)) {
			struct node *src = deref(n->kids[i + 1]);
			struct node **srcs = &src;
			size_t nsrc = 1;
			if (src && src->kind == N_SEQ) {
				srcs = src->kids;
				nsrc = src->n;
			}
			for (size_t s = 0; s < nsrc && !L->failed; s++) {
				const struct node *alias = src && src->kind == N_SEQ ? srcs[s] : n->kids[i + 1];
				struct node *m = flatten(L, srcs[s], depth + 1, alias->kind == N_ALIAS ? alias : via);
				if (L->failed)
					break;
				if (m->kind != N_MAP) {
					fail_at(L, k->line, k->col, "'<<' merges a mapping or a list of mappings, not %s", node_kind(m));
					break;
				}
				prio++;
				for (size_t j = 0; j + 1 < m->n; j += 2) {
					if (np == cp)
						pairs = xrealloc(pairs, (cp = cp ? cp * 2 : 16) * sizeof *pairs);
					pairs[np] = (struct pair){ m->kids[j], m->kids[j + 1], prio, np };
					np++;
				}
			}
			continue;
		}
		struct node *v = flatten(L, n->kids[i + 1], depth + 1, via);
		if (L->failed)
			break;
		if (np == cp)
			pairs = xrealloc(pairs, (cp = cp ? cp * 2 : 16) * sizeof *pairs);
		pairs[np] = (struct pair){ k, v, 0, np };
		np++;
	}
	if (!L->failed && np) {
		qsort(pairs, np, sizeof *pairs, pair_cmp);
		size_t kept = 0;
		for (size_t i = 0; i < np && !L->failed; i++) {
			if (i > 0 && strcmp(pairs[i].k->value, pairs[i - 1].k->value) == 0) {
				if (pairs[i].prio == 0)
					fail_at(L, pairs[i].k->line, pairs[i].k->col, "duplicate key '%s' in this mapping",
					        pairs[i].k->value);
				continue;
			}
			pairs[kept++] = pairs[i];
		}
		/* Merged keys follow the explicit ones; keep the written order. */
		for (size_t i = 0; i < kept; i++)
			if (pairs[i].prio)
				pairs[i].order += (size_t)1 << (sizeof(size_t) * 4);
		qsort(pairs, kept, sizeof *pairs, order_cmp);
		for (size_t i = 0; i < kept; i++) {
			node_push(out, pairs[i].k);
			node_push(out, pairs[i].v);
		}
	}
	free(pairs);
	return out;
}

static struct node *flatten(struct loader *L, struct node *n, int depth, const struct node *via)
{
	if (++L->count > COMPOSE_MAX_NODES) {
		const struct node *at = via ? via : n;
		char lim[32];
		snprintf(lim, sizeof lim, "%ld", COMPOSE_MAX_NODES);
		fail_at(L, at->line, at->col,
		        via ? "aliases expand to more than %s nodes (an alias bomb?); refusing to expand them"
		            : "the document has more than %s nodes; refusing to read it", lim);
		return n;
	}
	if (depth > COMPOSE_MAX_DEPTH) {
		const struct node *at = via ? via : n;
		char lim[16];
		snprintf(lim, sizeof lim, "%d", COMPOSE_MAX_DEPTH);
		fail_at(L, at->line, at->col, "nested deeper than %s levels once aliases are expanded", lim);
		return n;
	}
	switch (n->kind) {
	case N_ALIAS:
		return flatten(L, n->target, depth, n);
	case N_SCALAR:
		return n;   /* shared: every alias of it is the same text in the file */
	case N_SEQ: {
		struct node *out = node_copy(L->pv, n);
		for (size_t i = 0; i < n->n && !L->failed; i++)
			node_push(out, flatten(L, n->kids[i], depth + 1, via));
		return out;
	}
	default:
		return flatten_map(L, n, depth, via);
	}
}

static void attach(struct loader *L, struct node *n, struct node **root)
{
	if (L->depth > 0)
		node_push(L->stack[L->depth - 1], n);
	else
		*root = n;
}

/* The file's bytes and where its lines start; the size limits first. */
static int read_text(struct cfile *f)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error("cannot open '%s':", f->path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		error("cannot read '%s':", f->path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		error("%s:1: not a regular file", f->path);
		close(fd);
		return -1;
	}
	close(fd);
	if (st.st_size > COMPOSE_MAX_BYTES) {
		error("%s:1: the file is larger than %ld MiB; refusing to parse it", f->path, COMPOSE_MAX_BYTES >> 20);
		return -1;
	}
	f->text = read_file(f->path, &f->len);
	if (!f->text) {
		error("cannot read '%s':", f->path);
		return -1;
	}
	if (f->len > (size_t)COMPOSE_MAX_BYTES) {
		error("%s:1: the file is larger than %ld MiB; refusing to parse it", f->path, COMPOSE_MAX_BYTES >> 20);
		return -1;
	}
	index_lines(f);
	return 0;
}

/* libyaml's events into a tree of nodes, each document flattened. */
static int load_file(struct priv *pv, struct cfile *f)
{
	if (read_text(f) < 0)
		return -1;
	struct loader L;
	memset(&L, 0, sizeof L);
	L.pv = pv;
	L.f = f;
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)f->text, f->len);
	struct node *root = NULL;
	int done = 0;
	while (!done && !L.failed) {
		yaml_event_t e;
		if (!yaml_parser_parse(&parser, &e)) {
			yaml_mark_t m = parser.problem_mark;
			if (parser.context)
				error("%s:%zu:%zu: %s %s", f->path, m.line + 1, m.column + 1, parser.problem, parser.context);
			else
				error("%s:%zu:%zu: %s", f->path, m.line + 1, m.column + 1,
				      parser.problem ? parser.problem : "cannot parse YAML");
			L.failed = 1;
			break;
		}
		int line = (int)e.start_mark.line + 1, col = (int)e.start_mark.column + 1;
		struct node *n = NULL;
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			clear_anchors(&L);
			root = NULL;
			L.count = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			if (root) {
				struct node *flat = flatten(&L, root, 0, NULL);
				if (!L.failed) {
					f->docs = xrealloc(f->docs, (f->ndocs + 1) * sizeof *f->docs);
					f->docs[f->ndocs++] = flat;
				}
			}
			break;
		case YAML_SCALAR_EVENT:
			n = new_node(pv, N_SCALAR, f, line, col);
			n->value = xstrndup((const char *)e.data.scalar.value, e.data.scalar.length);
			n->style = e.data.scalar.style;
			n->tag = xstrdup((const char *)e.data.scalar.tag);
			if (strlen(n->value) != e.data.scalar.length) {
				fail_at(&L, line, col, "%s", "a NUL character in a value");
				break;
			}
			scalar_bytes(n, &e);
			add_anchor(&L, e.data.scalar.anchor, n);
			attach(&L, n, &root);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (L.depth >= COMPOSE_MAX_DEPTH) {
				char lim[16];
				snprintf(lim, sizeof lim, "%d", COMPOSE_MAX_DEPTH);
				fail_at(&L, line, col, "nested deeper than %s levels; refusing to read further", lim);
				break;
			}
			n = new_node(pv, e.type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP, f, line, col);
			n->open = 1;
			n->tag = xstrdup((const char *)(e.type == YAML_SEQUENCE_START_EVENT ? e.data.sequence_start.tag
			                                                                     : e.data.mapping_start.tag));
			add_anchor(&L, e.type == YAML_SEQUENCE_START_EVENT ? e.data.sequence_start.anchor
			                                                   : e.data.mapping_start.anchor, n);
			attach(&L, n, &root);
			L.stack[L.depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (L.depth > 0)
				L.stack[--L.depth]->open = 0;
			break;
		case YAML_ALIAS_EVENT: {
			const char *name = (const char *)e.data.alias.anchor;
			struct node *t = find_anchor(&L, name);
			if (!t) {
				fail_at(&L, line, col, "unknown alias '*%s'", name);
				break;
			}
			if (t->open) {
				fail_at(&L, line, col, "alias '*%s' refers to a node that contains it", name);
				break;
			}
			n = new_node(pv, N_ALIAS, f, line, col);
			n->value = xstrdup(name);
			n->target = t;
			attach(&L, n, &root);
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	clear_anchors(&L);
	return L.failed ? -1 : 0;
}

struct cfile *cfile_get(struct priv *pv, const char *path, int *err)
{
	for (size_t i = 0; i < pv->nfiles; i++)
		if (strcmp(pv->files[i]->path, path) == 0)
			return pv->files[i];
	struct cfile *f = xcalloc(1, sizeof *f);
	f->path = xstrdup(path);
	pv->files = xrealloc(pv->files, (pv->nfiles + 1) * sizeof *pv->files);
	pv->files[pv->nfiles++] = f;
	if (load_file(pv, f) < 0) {
		*err = 1;
		return NULL;
	}
	return f;
}
