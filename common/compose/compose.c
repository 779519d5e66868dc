/* compose.c — see compose.h.  libyaml's events are built into a tree whose
 * aliases point at their anchors (nothing copied), then flattened once with
 * a node budget, so an alias bomb costs at most COMPOSE_MAX_NODES nodes
 * before it is refused.  Scalars keep the byte range of their text in the
 * file, which is what lets apply rewrite exactly a port and nothing else. */
#include "compose/compose.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "model/config.h"
#include "model/dotenv.h"
#include "base/exitcodes.h"
#include "model/interpolate.h"
#include "base/io.h"
#include "base/msg.h"

enum { N_SCALAR, N_SEQ, N_MAP, N_ALIAS };

struct cfile;

struct node {
	int kind;
	int style;            /* yaml_scalar_style_t */
	int open;             /* container still being read: an alias to it is recursive */
	char *tag;
	char *value;          /* scalar text; anchor name for an alias */
	struct cfile *file;
	int line, col;        /* 1-based */
	long off, len;        /* bytes of the scalar's text in the file when they are its value; off -1 otherwise */
	struct node **kids;   /* a mapping holds key, value, key, value ... */
	size_t n, cap;
	struct node *target;  /* alias */
};

struct cfile {
	char *path;
	char *text;
	size_t len;
	size_t *lines;        /* byte offset where each line starts */
	size_t nlines;
	struct node **docs;   /* flattened documents */
	size_t ndocs;
};

struct priv {
	struct node **arena;
	size_t narena, carena;
	struct cfile **files;
	size_t nfiles;
	struct interp ip;
	int errors;
};

static const char *const family_names[DBF_COUNT] = { "", "postgres", "mysql", "redis", "questdb", "qdrant", "other", "admin" };

const char *db_family_name(enum db_family f)
{
	return f >= 0 && f < DBF_COUNT ? family_names[f] : "";
}

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

static void push_kid(struct node *parent, struct node *kid)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = xrealloc(parent->kids, parent->cap * sizeof *parent->kids);
	}
	parent->kids[parent->n++] = kid;
}

static struct node *copy_container(struct priv *pv, const struct node *n)
{
	struct node *c = new_node(pv, n->kind, n->file, n->line, n->col);
	c->tag = xstrdup(n->tag);
	return c;
}

static int is_null(const struct node *n)
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

static int has_tag(const struct node *n, const char *tag)
{
	return n && n->tag && strcmp(n->tag, tag) == 0;
}

static struct node *map_get(const struct node *m, const char *key)
{
	if (!m || m->kind != N_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (strcmp(m->kids[i]->value, key) == 0)
			return m->kids[i + 1];
	return NULL;
}

static const char *kind_name(const struct node *n)
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
	if (has_tag(k, "tag:yaml.org,2002:merge"))
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
	struct node *out = copy_container(L->pv, n);
	for (size_t i = 0; i + 1 < n->n && !L->failed; i += 2) {
		struct node *k = flatten(L, n->kids[i], depth + 1, via);
		if (L->failed)
			break;
		if (k->kind != N_SCALAR) {
			fail_at(L, k->line, k->col, "a mapping key must be a scalar, not %s", kind_name(k));
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
					fail_at(L, k->line, k->col, "'<<' merges a mapping or a list of mappings, not %s", kind_name(m));
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
			push_kid(out, pairs[i].k);
			push_kid(out, pairs[i].v);
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
		struct node *out = copy_container(L->pv, n);
		for (size_t i = 0; i < n->n && !L->failed; i++)
			push_kid(out, flatten(L, n->kids[i], depth + 1, via));
		return out;
	}
	default:
		return flatten_map(L, n, depth, via);
	}
}

static void attach(struct loader *L, struct node *n, struct node **root)
{
	if (L->depth > 0)
		push_kid(L->stack[L->depth - 1], n);
	else
		*root = n;
}

static int load_file(struct priv *pv, struct cfile *f)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error("cannot open '%s':", f->path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (!S_ISREG(st.st_mode))
			error("%s:1: not a regular file", f->path);
		else
			error("cannot read '%s':", f->path);
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

static struct cfile *get_file(struct priv *pv, const char *path, int *err)
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

/* ---- merging (files, extends) ---- */

/* Compose's merge: mappings key by key, sequences appended (ports and volumes
 * are made unique later), shell commands replaced; !override replaces and
 * !reset removes. */
static struct node *merge(struct priv *pv, struct node *base, struct node *over, const char *key)
{
	if (!base || has_tag(over, "!override"))
		return over;
	if (!over)
		return base;
	if (base->kind == N_MAP && over->kind == N_MAP) {
		struct node *out = copy_container(pv, base);
		for (size_t i = 0; i + 1 < base->n; i += 2) {
			push_kid(out, base->kids[i]);
			push_kid(out, base->kids[i + 1]);
		}
		for (size_t j = 0; j + 1 < over->n; j += 2) {
			const char *k = over->kids[j]->value;
			size_t at = out->n;
			for (size_t i = 0; i + 1 < out->n; i += 2)
				if (strcmp(out->kids[i]->value, k) == 0)
					at = i;
			if (has_tag(over->kids[j + 1], "!reset")) {
				if (at < out->n) {
					memmove(out->kids + at, out->kids + at + 2, (out->n - at - 2) * sizeof *out->kids);
					out->n -= 2;
				}
			} else if (at < out->n) {
				out->kids[at + 1] = merge(pv, out->kids[at + 1], over->kids[j + 1], k);
			} else {
				push_kid(out, over->kids[j]);
				push_kid(out, over->kids[j + 1]);
			}
		}
		return out;
	}
	if (base->kind == N_SEQ && over->kind == N_SEQ && key && strcmp(key, "command") && strcmp(key, "entrypoint") &&
	    strcmp(key, "test")) {
		struct node *out = copy_container(pv, base);
		for (size_t i = 0; i < base->n; i++)
			push_kid(out, base->kids[i]);
		for (size_t i = 0; i < over->n; i++)
			push_kid(out, over->kids[i]);
		return out;
	}
	return over;
}

struct ctx {
	struct compose_project *p;
	struct priv *pv;
};

static void fail(struct ctx *c, const struct node *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct ctx *c, const struct node *at, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (at)
		error("%s:%d: %s", at->file->path, at->line, sb_str(&sb));
	else
		error("%s", sb_str(&sb));
	sb_free(&sb);
	c->pv->errors++;
}

/* A scalar's value with variables interpolated; NULL for null, and NULL
 * after reporting when it is not a scalar or cannot be interpolated. */
static char *sval_r(struct ctx *c, const struct node *n, const char *what, struct interp_result *r)
{
	if (r)
		memset(r, 0, sizeof *r);
	if (is_null(n))
		return NULL;
	if (n->kind != N_SCALAR) {
		fail(c, n, "%s must be a scalar, not %s", what, kind_name(n));
		return NULL;
	}
	char *where = xasprintf("%s:%d", n->file->path, n->line);
	struct interp_result tmp;
	struct interp_result *res = r ? r : &tmp;
	int rc = interp_expand(&c->pv->ip, n->value, where, res);
	free(where);
	if (rc < 0) {
		c->pv->errors++;
		return NULL;
	}
	if (r)
		return r->text;
	return res->text ? (free(res->seg), res->text) : NULL;
}

static char *sval(struct ctx *c, const struct node *n, const char *what)
{
	return sval_r(c, n, what, NULL);
}

static int bool_value(const char *s)
{
	return s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"));
}

static struct node *services_of(struct ctx *c, struct node *root)
{
	struct node *s = map_get(root, "services");
	if (is_null(s))
		return NULL;
	if (s->kind != N_MAP) {
		fail(c, s, "'services' must be a mapping, not %s", kind_name(s));
		return NULL;
	}
	return s;
}

/* The service with its extends chain applied. */
static struct node *resolve_extends(struct ctx *c, struct cfile *f, struct node *services, const char *name,
                                    struct node *at, int depth)
{
	struct node *svc = map_get(services, name);
	if (!svc) {
		fail(c, at, "extends: no service '%s' in '%s'", name, f->path);
		return NULL;
	}
	if (is_null(svc))
		return svc;
	if (svc->kind != N_MAP) {
		fail(c, svc, "service '%s' must be a mapping, not %s", name, kind_name(svc));
		return NULL;
	}
	struct node *ext = map_get(svc, "extends");
	if (!ext)
		return svc;
	if (depth > 16) {
		fail(c, ext, "extends chain of '%s' longer than 16 services (a cycle?)", name);
		return NULL;
	}
	char *base_name = NULL, *base_file = NULL;
	if (ext->kind == N_SCALAR) {
		base_name = sval(c, ext, "extends");
	} else if (ext->kind == N_MAP) {
		base_name = sval(c, map_get(ext, "service"), "extends.service");
		base_file = sval(c, map_get(ext, "file"), "extends.file");
	}
	if (!base_name) {
		fail(c, ext, "extends of '%s' names no service", name);
		free(base_file);
		return NULL;
	}
	struct cfile *bf = f;
	struct node *bservices = services;
	if (base_file) {
		char *dir = path_dir(f->path);
		char *path = path_join(dir, base_file);
		free(dir);
		int err = 0;
		bf = get_file(c->pv, path, &err);
		if (!err) {
			int seen = 0;
			for (size_t i = 0; i < c->p->files.n; i++)
				seen |= strcmp(c->p->files.v[i], path) == 0;
			for (size_t i = 0; i < c->p->extends_files.n; i++)
				seen |= strcmp(c->p->extends_files.v[i], path) == 0;
			if (!seen)
				sv_push(&c->p->extends_files, path);
		}
		free(path);
		if (err) {
			c->pv->errors++;
			free(base_name);
			free(base_file);
			return NULL;
		}
		bservices = bf->ndocs ? services_of(c, bf->docs[0]) : NULL;
	}
	struct node *base = bservices ? resolve_extends(c, bf, bservices, base_name, ext, depth + 1) : NULL;
	if (!bservices)
		fail(c, ext, "extends: '%s' has no services", bf->path);
	free(base_name);
	free(base_file);
	if (!base)
		return NULL;
	/* The service itself without its extends key, over its base. */
	struct node *own = copy_container(c->pv, svc);
	for (size_t i = 0; i + 1 < svc->n; i += 2)
		if (strcmp(svc->kids[i]->value, "extends") != 0) {
			push_kid(own, svc->kids[i]);
			push_kid(own, svc->kids[i + 1]);
		}
	return merge(c->pv, base, own, NULL);
}

/* ---- the model ---- */

static int parse_range(const char *s, size_t n, int *lo, int *hi, int allow_zero)
{
	char buf[32];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *dash = strchr(buf, '-');
	char *end;
	errno = 0;
	long a = strtol(buf, &end, 10), b;
	if (end == buf || !isdigit((unsigned char)buf[0]))
		return -1;
	if (dash) {
		if (end != dash || !isdigit((unsigned char)dash[1]))
			return -1;
		b = strtol(dash + 1, &end, 10);
	} else {
		b = a;
	}
	if (*end || errno || a > 65535 || b > 65535 || a > b || (!allow_zero && a == 0))
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

/* Where the host-port bytes [off, off+len) of an interpolated value are written. */
static void port_site(struct ctx *c, struct cport *pt, const struct node *n, const struct interp_result *r, size_t off,
                      size_t len)
{
	const char *var;
	size_t src;
	int kind = interp_span_source(r, off, len, &var, &src);
	if (kind == 0) {
		pt->noedit = xasprintf("the host port at %s:%d is built from several parts", n->file->path, n->line);
		return;
	}
	struct csite site = { NULL, n->line, n->col, -1, (long)len, NULL, "" };
	if (len >= sizeof site.text) {
		pt->noedit = xasprintf("the host port at %s:%d is too long to be a port", n->file->path, n->line);
		return;
	}
	memcpy(site.text, r->text + off, len);
	if (kind == 2) {
		struct interp_origin o;
		interp_origin(&c->pv->ip, var, &o);
		pt->var = var;
		if (o.from_env) {
			pt->from_environment = 1;
			pt->noedit = xasprintf("it comes from the environment variable %s", var);
			return;
		}
		pt->env_file = o.file;
		pt->env_line = o.line;
		if (o.off < 0) {
			pt->noedit = xasprintf("the value of %s at %s:%d is not plain text", var, o.file, o.line);
			return;
		}
		site.path = o.file;
		site.line = o.line;
		site.col = 0;
		site.off = o.off + (long)src;
		site.var = var;
	} else {
		if (n->off < 0) {
			pt->noedit = xasprintf("the port at %s:%d is not written as a plain or simply quoted value",
			                       n->file->path, n->line);
			return;
		}
		site.path = n->file->path;
		site.off = n->off + (long)src;
		/* Sanity: the bytes there are the port text. */
		if ((size_t)site.off + len > n->file->len || memcmp(n->file->text + site.off, r->text + off, len) != 0) {
			pt->noedit = xasprintf("the port text at %s:%d could not be located", n->file->path, n->line);
			return;
		}
	}
	pt->sites = xrealloc(pt->sites, (pt->nsites + 1) * sizeof *pt->sites);
	pt->sites[pt->nsites++] = site;
}

/* Short syntax: [[IP:](HOST|LO-HI):](PORT|LO-HI)[/PROTO], IPv6 in brackets
 * or bare, as docker's ParsePortSpec splits it. */
static int parse_short_port(struct ctx *c, const struct node *n, struct cport *pt)
{
	struct interp_result r;
	char *text = sval_r(c, n, "a port", &r);
	if (!text) {
		if (!c->pv->errors)
			fail(c, n, "empty port");
		interp_result_free(&r);
		return -1;
	}
	pt->text = xstrdup(text);
	size_t len = strlen(text);
	const char *slash = strrchr(text, '/');
	snprintf(pt->proto, sizeof pt->proto, "tcp");
	if (slash) {
		const char *proto = slash + 1;
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp")) {
			fail(c, n, "invalid port '%s': unknown protocol '%s'", text, proto);
			interp_result_free(&r);
			return -1;
		}
		snprintf(pt->proto, sizeof pt->proto, "%s", proto);
		len = (size_t)(slash - text);
	}
	size_t ip_off = 0, ip_len = 0, host_off = 0, host_len = 0, cont_off = 0, cont_len = 0;
	int has_host = 0;
	if (text[0] == '[') {
		const char *close = memchr(text, ']', len);
		if (!close || (size_t)(close - text) + 1 >= len || close[1] != ':') {
			fail(c, n, "invalid port '%s': expected [IPv6]:HOST:CONTAINER", text);
			interp_result_free(&r);
			return -1;
		}
		ip_off = 1;
		ip_len = (size_t)(close - text) - 1;
		size_t rest = (size_t)(close - text) + 2;
		const char *colon = memchr(text + rest, ':', len - rest);
		if (!colon) {
			fail(c, n, "invalid port '%s': expected [IPv6]:HOST:CONTAINER", text);
			interp_result_free(&r);
			return -1;
		}
		has_host = 1;
		host_off = rest;
		host_len = (size_t)(colon - text) - rest;
		cont_off = (size_t)(colon - text) + 1;
		cont_len = len - cont_off;
	} else {
		size_t colons = 0, last = 0, prev = 0;
		for (size_t i = 0; i < len; i++)
			if (text[i] == ':') {
				colons++;
				prev = last;
				last = i;
			}
		if (colons == 0) {
			cont_off = 0;
			cont_len = len;
		} else if (colons == 1) {
			has_host = 1;
			host_off = 0;
			host_len = last;
			cont_off = last + 1;
			cont_len = len - cont_off;
		} else {
			has_host = 1;
			ip_off = 0;
			ip_len = prev;
			host_off = prev + 1;
			host_len = last - host_off;
			cont_off = last + 1;
			cont_len = len - cont_off;
		}
	}
	pt->host_ip = xstrndup(text + ip_off, ip_len);
	if (parse_range(text + cont_off, cont_len, &pt->tgt_lo, &pt->tgt_hi, 0) < 0) {
		fail(c, n, "invalid port '%s': the container port must be a number from 1 to 65535 or a range LO-HI", text);
		interp_result_free(&r);
		return -1;
	}
	if (has_host && host_len) {
		if (parse_range(text + host_off, host_len, &pt->pub_lo, &pt->pub_hi, 0) < 0) {
			fail(c, n, "invalid port '%s': the host port must be a number from 1 to 65535 or a range LO-HI", text);
			interp_result_free(&r);
			return -1;
		}
		pt->pub_is_range = memchr(text + host_off, '-', host_len) != NULL;
		if (pt->tgt_hi > pt->tgt_lo && pt->pub_hi - pt->pub_lo != pt->tgt_hi - pt->tgt_lo) {
			fail(c, n, "invalid port '%s': the host and container ranges differ in size", text);
			interp_result_free(&r);
			return -1;
		}
		if (pt->pub_hi == pt->pub_lo && pt->tgt_hi > pt->tgt_lo) {
			fail(c, n, "invalid port '%s': a single host port for a range of container ports", text);
			interp_result_free(&r);
			return -1;
		}
		port_site(c, pt, n, &r, host_off, host_len);
	}
	interp_result_free(&r);
	return 0;
}

static int parse_long_port(struct ctx *c, const struct node *n, struct cport *pt)
{
	struct node *tn = map_get(n, "target"), *pn = map_get(n, "published");
	char *target = sval(c, tn, "target");
	if (!target) {
		if (!c->pv->errors)
			fail(c, n, "a port without 'target'");
		return -1;
	}
	int ok = parse_range(target, strlen(target), &pt->tgt_lo, &pt->tgt_hi, 0) == 0 && pt->tgt_lo == pt->tgt_hi;
	if (!ok) {
		fail(c, tn, "invalid target port '%s': must be a number from 1 to 65535", target);
		free(target);
		return -1;
	}
	char *hip = sval(c, map_get(n, "host_ip"), "host_ip");
	pt->host_ip = hip ? hip : xstrdup("");
	char *proto = sval(c, map_get(n, "protocol"), "protocol");
	snprintf(pt->proto, sizeof pt->proto, "%s", proto ? proto : "tcp");
	if (strcmp(pt->proto, "tcp") && strcmp(pt->proto, "udp") && strcmp(pt->proto, "sctp")) {
		fail(c, n, "invalid protocol '%s'", proto);
		free(proto);
		free(target);
		return -1;
	}
	free(proto);
	pt->mode = sval(c, map_get(n, "mode"), "mode");
	pt->name = sval(c, map_get(n, "name"), "name");
	struct interp_result r;
	char *pub = sval_r(c, pn, "published", &r);
	if (pub && *pub) {
		if (parse_range(pub, strlen(pub), &pt->pub_lo, &pt->pub_hi, 0) < 0) {
			fail(c, pn, "invalid published port '%s': must be a number from 1 to 65535 or a range LO-HI", pub);
			interp_result_free(&r);
			free(target);
			return -1;
		}
		pt->pub_is_range = strchr(pub, '-') != NULL;
		port_site(c, pt, pn, &r, 0, strlen(pub));
	}
	pt->text = xasprintf("%s%s%s%s%s/%s", *pt->host_ip ? pt->host_ip : "", *pt->host_ip ? ":" : "", pub ? pub : "",
	                     pub && *pub ? ":" : "", target, pt->proto);
	interp_result_free(&r);
	free(target);
	return 0;
}

static void free_port(struct cport *pt)
{
	free(pt->text);
	free(pt->host_ip);
	free(pt->mode);
	free(pt->name);
	free(pt->sites);
	free(pt->noedit);
}

static int same_binding(const struct cport *a, const struct cport *b)
{
	return strcmp(a->host_ip, b->host_ip) == 0 && a->pub_lo == b->pub_lo && a->pub_hi == b->pub_hi &&
	       a->tgt_lo == b->tgt_lo && a->tgt_hi == b->tgt_hi && strcmp(a->proto, b->proto) == 0;
}

static void read_ports(struct ctx *c, struct cservice *s, struct node *ports)
{
	if (is_null(ports))
		return;
	if (ports->kind != N_SEQ) {
		fail(c, ports, "'ports' of '%s' must be a list, not %s", s->name, kind_name(ports));
		return;
	}
	for (size_t i = 0; i < ports->n; i++) {
		struct node *n = ports->kids[i];
		struct cport pt;
		memset(&pt, 0, sizeof pt);
		pt.file = n->file->path;
		pt.line = n->line;
		int rc = n->kind == N_MAP ? parse_long_port(c, n, &pt) : n->kind == N_SCALAR ? parse_short_port(c, n, &pt) : -1;
		if (n->kind == N_SEQ)
			fail(c, n, "a port must be a string, a number or a mapping, not a list");
		if (rc < 0) {
			free_port(&pt);
			continue;
		}
		/* Compose keeps one of identical bindings; remember every place it is written. */
		size_t j;
		for (j = 0; j < s->nports && !same_binding(&s->ports[j], &pt); j++)
			;
		if (j < s->nports) {
			struct cport *q = &s->ports[j];
			for (size_t k = 0; k < pt.nsites; k++) {
				q->sites = xrealloc(q->sites, (q->nsites + 1) * sizeof *q->sites);
				q->sites[q->nsites++] = pt.sites[k];
			}
			if (!q->noedit && pt.noedit)
				q->noedit = xstrdup(pt.noedit);
			free_port(&pt);
			continue;
		}
		s->ports = xrealloc(s->ports, (s->nports + 1) * sizeof *s->ports);
		s->ports[s->nports++] = pt;
	}
}

static void add_mount(struct cservice *s, const char *type, char *source, char *target, const struct node *at)
{
	/* Compose keeps the last mount of a target. */
	for (size_t i = 0; i < s->nmounts; i++)
		if (strcmp(s->mounts[i].target, target) == 0) {
			free(s->mounts[i].type);
			free(s->mounts[i].source);
			free(s->mounts[i].target);
			s->mounts[i] = (struct cmount){ xstrdup(type), source, target, at->file->path, at->line };
			return;
		}
	s->mounts = xrealloc(s->mounts, (s->nmounts + 1) * sizeof *s->mounts);
	s->mounts[s->nmounts++] = (struct cmount){ xstrdup(type), source, target, at->file->path, at->line };
}

static void read_volumes(struct ctx *c, struct cservice *s, struct node *vols)
{
	if (is_null(vols))
		return;
	if (vols->kind != N_SEQ) {
		fail(c, vols, "'volumes' of '%s' must be a list, not %s", s->name, kind_name(vols));
		return;
	}
	for (size_t i = 0; i < vols->n; i++) {
		struct node *n = vols->kids[i];
		if (n->kind == N_MAP) {
			char *type = sval(c, map_get(n, "type"), "type");
			char *source = sval(c, map_get(n, "source"), "source");
			char *target = sval(c, map_get(n, "target"), "target");
			if (!target) {
				if (!c->pv->errors)
					fail(c, n, "a volume without 'target'");
				free(type);
				free(source);
				continue;
			}
			add_mount(s, type ? type : "volume", source, target, n);
			free(type);
			continue;
		}
		char *spec = sval(c, n, "a volume");
		if (!spec)
			continue;
		/* SOURCE:TARGET[:MODE] or TARGET alone (an anonymous volume). */
		char *colon = strchr(spec, ':');
		if (!colon) {
			add_mount(s, "volume", NULL, xstrdup(spec), n);
		} else {
			char *target = colon + 1, *mode = strchr(target, ':');
			if (mode)
				*mode = '\0';
			*colon = '\0';
			const char *type = spec[0] == '/' || spec[0] == '.' || spec[0] == '~' ? "bind" : "volume";
			add_mount(s, type, xstrdup(spec), xstrdup(target), n);
		}
		free(spec);
	}
}

/* A list of strings, or for labels/environment a mapping; into KEY=value. */
static void read_pairs(struct ctx *c, struct node *n, struct strvec *out, const char *what)
{
	if (is_null(n))
		return;
	if (n->kind == N_MAP) {
		for (size_t i = 0; i + 1 < n->n; i += 2) {
			char *v = sval(c, n->kids[i + 1], what);
			sv_pushf(out, "%s=%s", n->kids[i]->value, v ? v : "");
			free(v);
		}
	} else if (n->kind == N_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			char *v = sval(c, n->kids[i], what);
			if (v)
				sv_push_owned(out, v);
		}
	} else {
		fail(c, n, "'%s' must be a mapping or a list, not %s", what, kind_name(n));
	}
}

static const char *pair_value(const struct strvec *sv, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = sv->n; i-- > 0;)
		if (strncmp(sv->v[i], key, k) == 0 && sv->v[i][k] == '=')
			return sv->v[i] + k + 1;
	return NULL;
}

static int list_match(char **list, const char *s, const char **engine)
{
	for (; list && *list; list++)
		if (**list && strstr(s, *list)) {
			*engine = *list;
			return 1;
		}
	return 0;
}

enum db_family compose_family(const char *image, const char *role, const char **engine)
{
	static const enum db_family order[] = { DBF_ADMIN, DBF_QUESTDB, DBF_QDRANT, DBF_POSTGRES, DBF_MYSQL, DBF_REDIS, DBF_OTHER };
	*engine = NULL;
	if (role && *role) {
		if (!strcasecmp(role, "none") || !strcasecmp(role, "ignore"))
			return DBF_NONE;
		for (int f = DBF_POSTGRES; f < DBF_COUNT; f++)
			if (!strcasecmp(role, family_names[f])) {
				*engine = family_names[f];
				return (enum db_family)f;
			}
		for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
			char key[32];
			snprintf(key, sizeof key, "images_%s", family_names[order[i]]);
			for (char **l = config_get_list("portcheck", key); *l; l++)
				if (!strcasecmp(role, *l)) {
					*engine = *l;
					return order[i];
				}
		}
		*engine = "database";
		return DBF_OTHER;
	}
	if (!image || !*image)
		return DBF_NONE;
	/* registry/path/name:tag@digest -> name, lower case */
	char *name = xstrdup(image);
	char *at = strchr(name, '@');
	if (at)
		*at = '\0';
	char *slash = strrchr(name, '/');
	char *base = slash ? slash + 1 : name;
	char *colon = strchr(base, ':');
	if (colon)
		*colon = '\0';
	for (char *p = base; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t order_n = sizeof order / sizeof *order;
	enum db_family found = DBF_NONE;
	/* postgres-exporter, mysqld-exporter...: metrics about a database, not one. */
	if (strstr(base, "exporter"))
		order_n = 0;
	for (size_t i = 0; i < order_n && found == DBF_NONE; i++) {
		char key[32];
		snprintf(key, sizeof key, "images_%s", family_names[order[i]]);
		if (list_match(config_get_list("portcheck", key), base, engine))
			found = order[i];
	}
	free(name);
	return found;
}

static void read_service(struct ctx *c, struct node *key, struct node *svc)
{
	struct compose_project *p = c->p;
	p->services = xrealloc(p->services, (p->nservices + 1) * sizeof *p->services);
	struct cservice *s = &p->services[p->nservices++];
	memset(s, 0, sizeof *s);
	s->name = xstrdup(key->value);
	s->file = key->file->path;
	s->line = key->line;
	if (is_null(svc))
		return;
	if (svc->kind != N_MAP) {
		fail(c, svc, "service '%s' must be a mapping, not %s", s->name, kind_name(svc));
		return;
	}
	s->image = sval(c, map_get(svc, "image"), "image");
	struct strvec labels = STRVEC_INIT;
	read_pairs(c, map_get(svc, "labels"), &labels, "labels");
	s->role = xstrdup(pair_value(&labels, "dbguard.role"));
	sv_free(&labels);
	read_pairs(c, map_get(svc, "environment"), &s->environment, "environment");
	struct node *prof = map_get(svc, "profiles");
	if (!is_null(prof)) {
		if (prof->kind != N_SEQ)
			fail(c, prof, "'profiles' of '%s' must be a list, not %s", s->name, kind_name(prof));
		else
			for (size_t i = 0; i < prof->n; i++) {
				char *v = sval(c, prof->kids[i], "a profile");
				int dup = 0;
				for (size_t j = 0; v && j < s->profiles.n; j++)
					dup |= strcmp(s->profiles.v[j], v) == 0;
				if (v && !dup)
					sv_push(&s->profiles, v);
				free(v);
			}
	}
	s->restart = sval(c, map_get(svc, "restart"), "restart");
	struct node *hc = map_get(svc, "healthcheck");
	if (!is_null(hc)) {
		s->healthcheck = 1;
		if (hc->kind != N_MAP) {
			fail(c, hc, "'healthcheck' of '%s' must be a mapping, not %s", s->name, kind_name(hc));
		} else {
			char *dis = sval(c, map_get(hc, "disable"), "disable");
			struct node *test = map_get(hc, "test");
			char *t0 = NULL;
			if (test && test->kind == N_SEQ && test->n)
				t0 = sval(c, test->kids[0], "test");
			else if (test && test->kind == N_SCALAR)
				t0 = sval(c, test, "test");
			if (bool_value(dis) || (t0 && strcmp(t0, "NONE") == 0))
				s->healthcheck = -1;
			free(dis);
			free(t0);
		}
	}
	read_volumes(c, s, map_get(svc, "volumes"));
	struct node *tmpfs = map_get(svc, "tmpfs");
	for (size_t i = 0; tmpfs && i < (tmpfs->kind == N_SEQ ? tmpfs->n : 1); i++) {
		struct node *t = tmpfs->kind == N_SEQ ? tmpfs->kids[i] : tmpfs;
		char *target = t->kind == N_SCALAR ? sval(c, t, "tmpfs") : NULL;
		if (target) {
			/* "/path:size=..." carries options after the colon. */
			target[strcspn(target, ":")] = '\0';
			add_mount(s, "tmpfs", NULL, target, t);
		}
	}
	read_ports(c, s, map_get(svc, "ports"));
	const char *engine;
	s->family = compose_family(s->image, s->role, &engine);
	s->engine = xstrdup(engine);
}

static void read_top_volumes(struct ctx *c, struct node *vols)
{
	if (is_null(vols))
		return;
	if (vols->kind != N_MAP) {
		fail(c, vols, "'volumes' must be a mapping, not %s", kind_name(vols));
		return;
	}
	struct compose_project *p = c->p;
	for (size_t i = 0; i + 1 < vols->n; i += 2) {
		struct node *k = vols->kids[i], *v = vols->kids[i + 1];
		p->volumes = xrealloc(p->volumes, (p->nvolumes + 1) * sizeof *p->volumes);
		struct cvolume *cv = &p->volumes[p->nvolumes++];
		memset(cv, 0, sizeof *cv);
		cv->name = xstrdup(k->value);
		cv->file = k->file->path;
		cv->line = k->line;
		if (is_null(v))
			continue;
		if (v->kind != N_MAP) {
			fail(c, v, "volume '%s' must be a mapping, not %s", cv->name, kind_name(v));
			continue;
		}
		struct node *ext = map_get(v, "external");
		if (ext && ext->kind == N_MAP) {
			/* The old form external: {name: x}. */
			cv->external = 1;
			cv->fixed_name = sval(c, map_get(ext, "name"), "name");
		} else {
			char *e = sval(c, ext, "external");
			cv->external = bool_value(e);
			free(e);
		}
		char *name = sval(c, map_get(v, "name"), "name");
		if (name) {
			free(cv->fixed_name);
			cv->fixed_name = name;
		}
	}
}

/* ---- discovery ---- */

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int compose_find(char *const *given, size_t ngiven, struct strvec *files, int quiet)
{
	memset(files, 0, sizeof *files);
	struct strvec names = STRVEC_INIT;
	if (ngiven) {
		for (size_t i = 0; i < ngiven; i++)
			sv_push(&names, given[i]);
	} else {
		const char *cf = getenv("COMPOSE_FILE");
		struct dotenv env;
		int have_env = 0;
		/* Only a .env that mentions COMPOSE_FILE is read here, so its other
		 * problems are reported once, when the project's .env is read. */
		char *raw = cf ? NULL : read_file(".env", NULL);
		int mentions = raw && strstr(raw, "COMPOSE_FILE");
		free(raw);
		if (mentions && dotenv_load(".env", &env) == 0) {
			have_env = 1;
			const struct dotenv_entry *e = dotenv_get(&env, "COMPOSE_FILE");
			cf = e ? e->value : NULL;
		}
		if (cf && *cf) {
			const char *sep = getenv("COMPOSE_PATH_SEPARATOR");
			if (!sep || !*sep)
				sep = ":";
			char *copy = xstrdup(cf);
			for (char *save = NULL, *tok = strtok_r(copy, sep, &save); tok; tok = strtok_r(NULL, sep, &save))
				if (*tok)
					sv_push(&names, tok);
			free(copy);
		}
		if (have_env)
			dotenv_free(&env);
	}
	if (names.n) {
		for (size_t i = 0; i < names.n; i++) {
			if (strcmp(names.v[i], "-") == 0) {
				error("reading a compose file from standard input is not supported; name the file");
				sv_free(&names);
				return DG_USAGE;
			}
			if (!exists(names.v[i])) {
				error("cannot open '%s':", names.v[i]);
				sv_free(&names);
				return DG_USAGE;
			}
			sv_push(files, names.v[i]);
		}
		sv_free(&names);
		return DG_OK;
	}
	static const char *const base[] = { "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml" };
	static const char *const over[] = { "compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
	                                     "docker-compose.override.yaml" };
	char *dir = xstrdup(".");
	char *abs = getcwd(NULL, 0);
	for (int up = 0; abs; up++) {
		for (size_t i = 0; i < sizeof base / sizeof *base && !files->n; i++) {
			char *p = path_join(dir, base[i]);
			if (exists(p))
				sv_push(files, p);
			free(p);
		}
		if (files->n) {
			for (size_t i = 0; i < sizeof over / sizeof *over && files->n == 1; i++) {
				char *p = path_join(dir, over[i]);
				if (exists(p))
					sv_push(files, p);
				free(p);
			}
			break;
		}
		if (strcmp(abs, "/") == 0)
			break;
		char *parent = path_dir(abs);
		free(abs);
		abs = parent;
		free(dir);
		dir = xstrdup(abs);
	}
	free(abs);
	free(dir);
	if (!files->n) {
		if (!quiet)
			error("no compose file here or in any parent directory (compose.yaml, compose.yml, "
			      "docker-compose.yml, docker-compose.yaml); name one with -f");
		return DG_NOTHING;
	}
	return DG_OK;
}

/* ---- loading ---- */

int compose_load(struct compose_project *p, const struct strvec *files)
{
	memset(p, 0, sizeof *p);
	struct priv *pv = xcalloc(1, sizeof *pv);
	p->priv = pv;
	for (size_t i = 0; i < files->n; i++)
		sv_push(&p->files, files->v[i]);
	p->dir = files->n ? path_dir(files->v[0]) : xstrdup(".");
	p->env_path = path_join(p->dir, ".env");
	if (interp_init(&pv->ip, p->env_path) < 0)
		pv->errors++;
	struct ctx c = { p, pv };
	struct node *model = NULL;
	for (size_t i = 0; i < files->n; i++) {
		int err = 0;
		struct cfile *f = get_file(pv, files->v[i], &err);
		if (err) {
			pv->errors++;
			continue;
		}
		for (size_t d = 0; d < f->ndocs; d++) {
			struct node *root = f->docs[d];
			if (is_null(root))
				continue;
			if (root->kind != N_MAP) {
				fail(&c, root, "a compose file must be a mapping, not %s", kind_name(root));
				continue;
			}
			/* extends is resolved within each file before the files merge. */
			struct node *services = services_of(&c, root);
			if (services) {
				struct node *resolved = copy_container(pv, services);
				for (size_t k = 0; k + 1 < services->n; k += 2) {
					struct node *svc = resolve_extends(&c, f, services, services->kids[k]->value, services->kids[k], 0);
					push_kid(resolved, services->kids[k]);
					push_kid(resolved, svc ? svc : services->kids[k + 1]);
				}
				struct node *r2 = copy_container(pv, root);
				for (size_t k = 0; k + 1 < root->n; k += 2) {
					push_kid(r2, root->kids[k]);
					push_kid(r2, strcmp(root->kids[k]->value, "services") == 0 ? resolved : root->kids[k + 1]);
				}
				root = r2;
			}
			model = merge(pv, model, root, NULL);
		}
	}
	if (pv->errors == 0 && model) {
		struct node *services = services_of(&c, model);
		for (size_t k = 0; services && k + 1 < services->n; k += 2)
			read_service(&c, services->kids[k], services->kids[k + 1]);
		read_top_volumes(&c, map_get(model, "volumes"));
	}
	p->warnings = pv->ip.warnings;
	return pv->errors ? DG_USAGE : DG_OK;
}

void compose_free(struct compose_project *p)
{
	struct priv *pv = p->priv;
	for (size_t i = 0; i < p->nservices; i++) {
		struct cservice *s = &p->services[i];
		free(s->name);
		free(s->image);
		free(s->role);
		free(s->engine);
		free(s->restart);
		sv_free(&s->profiles);
		sv_free(&s->environment);
		for (size_t j = 0; j < s->nmounts; j++) {
			free(s->mounts[j].type);
			free(s->mounts[j].source);
			free(s->mounts[j].target);
		}
		free(s->mounts);
		for (size_t j = 0; j < s->nports; j++)
			free_port(&s->ports[j]);
		free(s->ports);
	}
	free(p->services);
	for (size_t i = 0; i < p->nvolumes; i++) {
		free(p->volumes[i].name);
		free(p->volumes[i].fixed_name);
	}
	free(p->volumes);
	sv_free(&p->files);
	sv_free(&p->extends_files);
	free(p->dir);
	free(p->env_path);
	if (pv) {
		for (size_t i = 0; i < pv->narena; i++) {
			free(pv->arena[i]->tag);
			free(pv->arena[i]->value);
			free(pv->arena[i]->kids);
			free(pv->arena[i]);
		}
		free(pv->arena);
		for (size_t i = 0; i < pv->nfiles; i++) {
			free(pv->files[i]->path);
			free(pv->files[i]->text);
			free(pv->files[i]->lines);
			free(pv->files[i]->docs);
			free(pv->files[i]);
		}
		free(pv->files);
		interp_free(&pv->ip);
		free(pv);
	}
	memset(p, 0, sizeof *p);
}
