/* django.c — Django settings read statically: the DATABASES
 * literal of the settings module (DJANGO_SETTINGS_MODULE, manage.py's
 * default, or DIR/settings.py), with what settings files commonly put in it:
 * BASE_DIR / 'db.sqlite3', os.path.join, os.environ / getenv, django-environ
 * and decouple lookups with defaults, dj_database_url.config/parse and
 * env.db() URLs, names assigned earlier, star imports of other settings
 * modules.  Anything else is not guessed at: the target is "unknown". */
#include "resolve/framework.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "model/dburl.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

enum { MAX_IMPORT_DEPTH = 8, MAX_EXPR_DEPTH = 64 };
#define URL_KEY "__url__"

/* ---- tokens ---- */

enum ttype { T_NAME, T_NUM, T_STR, T_OP, T_NL };

struct tok {
	enum ttype type;
	const char *s;     /* raw text */
	size_t n;
	char *str;         /* T_STR: the decoded value */
	int fstring;       /* T_STR: an f-string (not a literal) */
	int line, col;
};

struct toks {
	struct tok *v;
	size_t n;
};

static void push(struct toks *ts, struct tok t)
{
	ts->v = xrealloc(ts->v, (ts->n + 1) * sizeof *ts->v);
	ts->v[ts->n++] = t;
}

static void toks_free(struct toks *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->v[i].str);
	free(ts->v);
}

/* A string literal at p (after its prefix); returns the end or NULL. */
static const char *lex_string(const char *p, int raw, struct strbuf *sb, int *line)
{
	char q = *p;
	int triple = p[1] == q && p[2] == q;
	p += triple ? 3 : 1;
	for (;;) {
		if (!*p)
			return NULL;
		if (*p == q && (!triple || (p[1] == q && p[2] == q)))
			return p + (triple ? 3 : 1);
		if (*p == '\n') {
			if (!triple)
				return NULL;
			(*line)++;
		}
		if (*p == '\\' && p[1]) {
			char c = p[1];
			if (c == '\n')
				(*line)++;
			if (raw) {
				sb_addc(sb, '\\');
				sb_addc(sb, c);
			} else if (c == 'n')
				sb_addc(sb, '\n');
			else if (c == 't')
				sb_addc(sb, '\t');
			else if (c == '\\' || c == '\'' || c == '"')
				sb_addc(sb, c);
			else if (c != '\n') {
				sb_addc(sb, '\\');
				sb_addc(sb, c);
			}
			p += 2;
			continue;
		}
		sb_addc(sb, *p++);
	}
}

static void lex(const char *text, struct toks *ts)
{
	const char *p = text, *line_start = text;
	int line = 1, depth = 0;
	while (*p) {
		char c = *p;
		if (c == '\n') {
			if (depth == 0 && ts->n && ts->v[ts->n - 1].type != T_NL)
				push(ts, (struct tok){ T_NL, p, 1, NULL, 0, line, 0 });
			line++;
			p++;
			line_start = p;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
			p++;
			continue;
		}
		if (c == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (c == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
			p += p[1] == '\n' ? 2 : 3;
			line++;
			line_start = p;
			continue;
		}
		struct tok t = { T_OP, p, 1, NULL, 0, line, (int)(p - line_start) };
		/* String prefixes: r, b, u, f and pairs of them. */
		const char *q = p;
		int raw = 0, f = 0;
		while (q - p < 2 && strchr("rRbBuUfF", *q) && *q) {
			raw |= *q == 'r' || *q == 'R';
			f |= *q == 'f' || *q == 'F';
			q++;
		}
		if (*q == '\'' || *q == '"') {
			struct strbuf sb = STRBUF_INIT;
			int l = line;
			const char *end = lex_string(q, raw, &sb, &l);
			if (!end) {
				/* Unterminated: the file is not Python; stop reading it. */
				sb_free(&sb);
				return;
			}
			sb_addc(&sb, '\0');
			t.type = T_STR;
			t.str = sb_detach(&sb);
			t.fstring = f;
			t.n = (size_t)(end - p);
			for (const char *x = p; x < end; x++)
				if (*x == '\n')
					line_start = x + 1;
			line = l;
			p = end;
			push(ts, t);
			continue;
		}
		if (isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80) {
			while (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80)
				p++;
			t.type = T_NAME;
			t.n = (size_t)(p - t.s);
			push(ts, t);
			continue;
		}
		if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p[1]))) {
			while (isalnum((unsigned char)*p) || *p == '.' || *p == '_' ||
			       ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
				p++;
			t.type = T_NUM;
			t.n = (size_t)(p - t.s);
			push(ts, t);
			continue;
		}
		static const char *const two[] = { "**", "==", "!=", "<=", ">=", "//", "+=", "-=", "*=", "|=", ":=", "->", NULL };
		for (const char *const *o = two; *o; o++)
			if (p[0] == (*o)[0] && p[1] == (*o)[1])
				t.n = 2;
		if (t.n == 1) {
			if (c == '(' || c == '[' || c == '{')
				depth++;
			else if ((c == ')' || c == ']' || c == '}') && depth > 0)
				depth--;
			else if (c == ';' && depth == 0) {
				push(ts, (struct tok){ T_NL, p, 1, NULL, 0, line, 0 });
				p++;
				continue;
			}
		}
		p += t.n;
		push(ts, t);
	}
	if (ts->n && ts->v[ts->n - 1].type != T_NL)
		push(ts, (struct tok){ T_NL, p, 0, NULL, 0, line, 0 });
}

/* ---- evaluation ---- */

struct ev {
	struct toks *ts;
	size_t i, end;
	const char *file;
	const struct django_io *io;
	struct django_settings *s;
	int depth;
};

static int is_op(const struct ev *e, const char *op)
{
	if (e->i >= e->end)
		return 0;
	const struct tok *t = &e->ts->v[e->i];
	return t->type == T_OP && t->n == strlen(op) && memcmp(t->s, op, t->n) == 0;
}

static int is_name(const struct tok *t, const char *name)
{
	return t->type == T_NAME && t->n == strlen(name) && memcmp(t->s, name, t->n) == 0;
}

static struct lit *mk(enum lit_kind kind, char *s, const struct ev *e, int line)
{
	struct lit *v = xcalloc(1, sizeof *v);
	v->kind = kind;
	v->s = s;
	v->line = line;
	v->where = xasprintf("%s:%d", e->file, line);
	return v;
}

static struct lit *opaque(const struct ev *e, int line, const char *what)
{
	return mk(LIT_OPAQUE, xstrdup(what), e, line);
}

static struct lit *lit_copy(const struct lit *v)
{
	if (!v)
		return NULL;
	struct lit *c = xcalloc(1, sizeof *c);
	c->kind = v->kind;
	c->s = xstrdup(v->s);
	c->line = v->line;
	c->where = xstrdup(v->where);
	c->n = v->n;
	if (v->n) {
		c->vals = xcalloc(v->n, sizeof *c->vals);
		if (v->keys)
			c->keys = xcalloc(v->n, sizeof *c->keys);
		for (size_t i = 0; i < v->n; i++) {
			c->vals[i] = lit_copy(v->vals[i]);
			if (v->keys)
				c->keys[i] = xstrdup(v->keys[i]);
		}
	}
	return c;
}

static void map_set(struct lit *m, const char *key, struct lit *v)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0) {
			lit_free(m->vals[i]);
			m->vals[i] = v;
			return;
		}
	m->keys = xrealloc(m->keys, (m->n + 1) * sizeof *m->keys);
	m->vals = xrealloc(m->vals, (m->n + 1) * sizeof *m->vals);
	m->keys[m->n] = xstrdup(key);
	m->vals[m->n++] = v;
}

/* Skip one balanced expression without evaluating it (up to , : ) ] } or the end). */
static void skip_expr(struct ev *e)
{
	int depth = 0;
	while (e->i < e->end) {
		const struct tok *t = &e->ts->v[e->i];
		if (t->type == T_OP && t->n == 1) {
			char c = *t->s;
			if (c == '(' || c == '[' || c == '{')
				depth++;
			else if (c == ')' || c == ']' || c == '}') {
				if (depth == 0)
					return;
				depth--;
			} else if ((c == ',' || c == ':') && depth == 0)
				return;
		}
		e->i++;
	}
}

static struct lit *expr(struct ev *e);

/* At an opening bracket: move past its matching close. */
static void skip_group(struct ev *e)
{
	int depth = 0;
	for (; e->i < e->end; e->i++) {
		const struct tok *t = &e->ts->v[e->i];
		if (t->type != T_OP || t->n != 1)
			continue;
		if (strchr("([{", *t->s))
			depth++;
		else if (strchr(")]}", *t->s) && --depth <= 0) {
			e->i++;
			return;
		}
	}
}

struct args {
	struct lit *pos[4];
	size_t npos;
	char *kw[6];
	struct lit *kwv[6];
	size_t nkw;
};

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->npos; i++)
		lit_free(a->pos[i]);
	for (size_t i = 0; i < a->nkw; i++) {
		free(a->kw[i]);
		lit_free(a->kwv[i]);
	}
}

static struct lit *kwarg(struct args *a, const char *name)
{
	for (size_t i = 0; i < a->nkw; i++)
		if (strcmp(a->kw[i], name) == 0)
			return a->kwv[i];
	return NULL;
}

/* ( args ) — e->i at '('.  0 ok, -1 when it is not a plain argument list. */
static int call_args(struct ev *e, struct args *a)
{
	memset(a, 0, sizeof *a);
	e->i++;
	while (e->i < e->end && !is_op(e, ")")) {
		const struct tok *t = &e->ts->v[e->i];
		if (t->type == T_NAME && e->i + 1 < e->end && e->ts->v[e->i + 1].type == T_OP &&
		    e->ts->v[e->i + 1].n == 1 && e->ts->v[e->i + 1].s[0] == '=') {
			e->i += 2;
			struct lit *v = expr(e);
			if (a->nkw < 6) {
				a->kw[a->nkw] = xstrndup(t->s, t->n);
				a->kwv[a->nkw++] = v;
			} else {
				lit_free(v);
			}
		} else if (is_op(e, "*") || is_op(e, "**")) {
			return -1;
		} else {
			struct lit *v = expr(e);
			if (a->npos < 4)
				a->pos[a->npos++] = v;
			else
				lit_free(v);
		}
		if (is_op(e, ","))
			e->i++;
		else if (!is_op(e, ")"))
			return -1;
	}
	if (!is_op(e, ")"))
		return -1;
	e->i++;
	return 0;
}

/* An environment lookup with an optional default: value, or NULL when
 * unset and there is no default (which Python would raise on). */
static struct lit *env_lookup(struct ev *e, int line, const struct lit *key, const struct lit *def)
{
	const char *k = lit_text(key);
	if (!k || key->kind != LIT_STR)
		return opaque(e, line, "an environment lookup of a computed name");
	char *where = NULL;
	const char *v = e->io->getenv ? e->io->getenv(e->io->ctx, k, &where) : NULL;
	if (v) {
		struct lit *r = mk(LIT_STR, xstrdup(v), e, line);
		free(r->where);
		r->where = xasprintf("%s:%d (%s from %s)", e->file, line, k, where ? where : "the environment");
		free(where);
		return r;
	}
	free(where);
	if (def) {
		struct lit *r = lit_copy(def);
		free(r->where);
		r->where = xasprintf("%s:%d (%s unset: the default)", e->file, line, k);
		return r;
	}
	return mk(LIT_OPAQUE, xasprintf("%s is not set: Django would stop", k), e, line);
}

/* A database URL (dj_database_url, env.db) as a map holding it. */
static struct lit *url_map(struct ev *e, int line, struct lit *url)
{
	if (!url || url->kind == LIT_NULL)
		return mk(LIT_OPAQUE, xstrdup("no database URL is set"), e, line);
	if (url->kind != LIT_STR)
		return lit_copy(url);
	struct lit *m = mk(LIT_MAP, NULL, e, line);
	map_set(m, URL_KEY, lit_copy(url));
	return m;
}

static char *chain_name(struct ev *e, size_t from, size_t to)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = from; i < to; i++)
		sb_add(&sb, e->ts->v[i].s, e->ts->v[i].n);
	return sb_detach(&sb);
}

/* name(.name)*, then calls and subscripts. */
static struct lit *primary_name(struct ev *e)
{
	size_t start = e->i;
	int line = e->ts->v[e->i].line;
	e->i++;
	while (is_op(e, ".") && e->i + 1 < e->end && e->ts->v[e->i + 1].type == T_NAME)
		e->i += 2;
	char *name = chain_name(e, start, e->i);
	struct lit *v = NULL;
	if (is_op(e, "(")) {
		struct args a;
		size_t open = e->i;
		if (call_args(e, &a) < 0) {
			args_free(&a);
			e->i = open;
			skip_group(e);
			v = mk(LIT_OPAQUE, xasprintf("%s(...)", name), e, line);
			free(name);
			return v;
		}
		const char *fn = name;
		/* Path-preserving wrappers: Path(x), str(x), os.path.abspath(x)... */
		if ((!strcmp(fn, "str") || !strcmp(fn, "Path") || !strcmp(fn, "pathlib.Path") || !strcmp(fn, "os.fspath") ||
		     !strcmp(fn, "os.path.abspath") || !strcmp(fn, "os.path.realpath") || !strcmp(fn, "os.path.normpath")) &&
		    a.npos == 1) {
			v = a.pos[0];
			a.pos[0] = NULL;
		} else if (!strcmp(fn, "os.path.join") && a.npos >= 1) {
			char *acc = NULL;
			for (size_t k = 0; k < a.npos; k++) {
				const char *part = lit_text(a.pos[k]);
				if (!part) {
					free(acc);
					acc = NULL;
					break;
				}
				char *n = acc ? path_join(acc, part) : xstrdup(part);
				free(acc);
				acc = n;
			}
			v = acc ? mk(LIT_STR, acc, e, line) : mk(LIT_OPAQUE, xstrdup("os.path.join of a computed part"), e, line);
		} else if ((!strcmp(fn, "os.environ.get") || !strcmp(fn, "os.getenv")) && a.npos >= 1) {
			struct lit none = { .kind = LIT_NULL };
			v = env_lookup(e, line, a.pos[0], a.npos > 1 ? a.pos[1] : kwarg(&a, "default") ? kwarg(&a, "default") : &none);
		} else if ((!strcmp(fn, "env") || !strncmp(fn, "env.", 4) || !strcmp(fn, "config") ||
		            !strcmp(fn, "decouple.config")) &&
		           strcmp(fn, "env.db") && strcmp(fn, "env.db_url") && strcmp(fn, "env.read_env") && a.npos >= 1) {
			struct lit *def = kwarg(&a, "default");
			if (!def && a.npos > 1 && (!strcmp(fn, "config") || !strcmp(fn, "decouple.config")))
				def = a.pos[1];
			v = env_lookup(e, line, a.pos[0], def);
		} else if (!strcmp(fn, "dj_database_url.config") || !strcmp(fn, "env.db") || !strcmp(fn, "env.db_url") ||
		           !strcmp(fn, "environ.Env.db_url")) {
			struct lit key = { .kind = LIT_STR, .s = (char *)"DATABASE_URL" };
			struct lit *k = kwarg(&a, "env") ? kwarg(&a, "env") : kwarg(&a, "var") ? kwarg(&a, "var")
			              : (strcmp(fn, "dj_database_url.config") && a.npos >= 1) ? a.pos[0] : &key;
			struct lit *def = kwarg(&a, "default");
			if (!def && strcmp(fn, "dj_database_url.config") && a.npos >= 2)
				def = a.pos[1];
			struct lit none = { .kind = LIT_NULL };
			struct lit *url = env_lookup(e, line, k, def ? def : &none);
			v = url_map(e, line, url);
			lit_free(url);
		} else if (!strcmp(fn, "dj_database_url.parse") && a.npos >= 1) {
			v = url_map(e, line, a.pos[0]);
		} else {
			v = mk(LIT_OPAQUE, xasprintf("%s(...)", name), e, line);
		}
		args_free(&a);
	} else if (!strcmp(name, "True") || !strcmp(name, "False")) {
		v = mk(LIT_BOOL, xstrdup(name[0] == 'T' ? "true" : "false"), e, line);
	} else if (!strcmp(name, "None")) {
		v = mk(LIT_NULL, NULL, e, line);
	} else if (!strcmp(name, "os.environ") && is_op(e, "[")) {
		e->i++;
		struct lit *k = expr(e);
		if (is_op(e, "]"))
			e->i++;
		v = env_lookup(e, line, k, NULL);
		lit_free(k);
	} else if (!strchr(name, '.') && lit_get(e->s->symbols_map, name)) {
		v = lit_copy(lit_get(e->s->symbols_map, name));
	} else {
		v = mk(LIT_OPAQUE, xstrdup(name), e, line);
	}
	free(name);
	/* A trailing .resolve() / .parent etc. on a path is not followed. */
	while (is_op(e, "[") || is_op(e, ".") || is_op(e, "(")) {
		if (is_op(e, "[")) {
			e->i++;
			struct lit *k = expr(e);
			if (is_op(e, "]"))
				e->i++;
			struct lit *item = lit_text(k) && v->kind == LIT_MAP ? lit_get(v, lit_text(k)) : NULL;
			struct lit *n = item ? lit_copy(item) : opaque(e, line, "a subscript");
			lit_free(k);
			lit_free(v);
			v = n;
		} else {
			e->i++;
			if (e->i < e->end && e->ts->v[e->i].type == T_NAME)
				e->i++;
			if (is_op(e, "(")) {
				e->i++;
				while (e->i < e->end && !is_op(e, ")")) {
					skip_expr(e);
					if (is_op(e, ",") || is_op(e, ":"))
						e->i++;
					else if (!is_op(e, ")"))
						e->i++;
				}
				if (is_op(e, ")"))
					e->i++;
			}
			lit_free(v);
			v = opaque(e, line, "a method call");
		}
	}
	return v;
}

static struct lit *atom(struct ev *e)
{
	if (e->i >= e->end)
		return opaque(e, e->end ? e->ts->v[e->end - 1].line : 0, "nothing");
	const struct tok *t = &e->ts->v[e->i];
	int line = t->line;
	if (++e->depth > MAX_EXPR_DEPTH) {
		e->depth--;
		skip_expr(e);
		return opaque(e, line, "an expression nested too deep");
	}
	struct lit *v;
	if (t->type == T_STR) {
		struct strbuf sb = STRBUF_INIT;
		int f = 0;
		while (e->i < e->end && e->ts->v[e->i].type == T_STR) {
			sb_adds(&sb, e->ts->v[e->i].str);
			f |= e->ts->v[e->i].fstring;
			e->i++;
		}
		sb_addc(&sb, '\0');
		v = f ? (sb_free(&sb), opaque(e, line, "an f-string")) : mk(LIT_STR, sb_detach(&sb), e, line);
	} else if (t->type == T_NUM) {
		v = mk(LIT_NUM, xstrndup(t->s, t->n), e, line);
		e->i++;
	} else if (t->type == T_NAME) {
		v = primary_name(e);
	} else if (is_op(e, "-") && e->i + 1 < e->end && e->ts->v[e->i + 1].type == T_NUM) {
		const struct tok *n = &e->ts->v[e->i + 1];
		v = mk(LIT_NUM, xasprintf("-%.*s", (int)n->n, n->s), e, line);
		e->i += 2;
	} else if (is_op(e, "{")) {
		e->i++;
		v = mk(LIT_MAP, NULL, e, line);
		while (e->i < e->end && !is_op(e, "}")) {
			if (is_op(e, "**")) {
				e->i++;
				struct lit *m = expr(e);
				if (m->kind == LIT_MAP)
					for (size_t k = 0; k < m->n; k++)
						map_set(v, m->keys[k], lit_copy(m->vals[k]));
				else
					v->kind = LIT_OPAQUE, free(v->s), v->s = xstrdup("a dict built from a computed one");
				lit_free(m);
			} else {
				struct lit *k = expr(e);
				if (!is_op(e, ":")) {
					lit_free(k);
					break;
				}
				e->i++;
				struct lit *val = expr(e);
				if (lit_text(k))
					map_set(v, lit_text(k), val);
				else
					lit_free(val);
				lit_free(k);
			}
			if (is_op(e, ","))
				e->i++;
			else
				break;
		}
		if (is_op(e, "}"))
			e->i++;
		else {
			skip_expr(e);
			lit_free(v);
			v = opaque(e, line, "a dict comprehension or malformed dict");
		}
	} else if (is_op(e, "(") || is_op(e, "[")) {
		char close = is_op(e, "(") ? ')' : ']';
		e->i++;
		v = mk(LIT_LIST, NULL, e, line);
		while (e->i < e->end && !is_op(e, close == ')' ? ")" : "]")) {
			struct lit *item = expr(e);
			v->vals = xrealloc(v->vals, (v->n + 1) * sizeof *v->vals);
			v->vals[v->n++] = item;
			if (is_op(e, ","))
				e->i++;
			else
				break;
		}
		if (is_op(e, close == ')' ? ")" : "]"))
			e->i++;
		/* (x) is x */
		if (close == ')' && v->n == 1 && e->i > 0 && !(e->ts->v[e->i - 2].type == T_OP && *e->ts->v[e->i - 2].s == ',')) {
			struct lit *inner = v->vals[0];
			v->n = 0;
			lit_free(v);
			v = inner;
		}
	} else {
		e->i++;
		v = opaque(e, line, "an operator");
	}
	e->depth--;
	return v;
}

/* atom (('/' | '+') atom)*: pathlib joins and string concatenation; any
 * other operator makes the value opaque. */
static struct lit *expr(struct ev *e)
{
	struct lit *v = atom(e);
	for (;;) {
		if (e->i >= e->end)
			return v;
		const struct tok *t = &e->ts->v[e->i];
		if (t->type == T_OP && t->n == 1 && strchr(",:)]}=", *t->s))
			return v;
		int line = t->line;
		if (is_name(t, "or")) {
			/* os.environ.get('X') or 'default' */
			e->i++;
			struct lit *rhs = atom(e);
			int empty = v->kind == LIT_NULL || (v->kind == LIT_STR && !*v->s);
			if (v->kind == LIT_OPAQUE || (empty && rhs->kind == LIT_OPAQUE)) {
				lit_free(rhs);
				lit_free(v);
				v = opaque(e, line, "a computed value");
			} else if (empty) {
				lit_free(v);
				v = rhs;
			} else {
				lit_free(rhs);
			}
			continue;
		}
		int slash = t->type == T_OP && t->n == 1 && *t->s == '/';
		int plus = t->type == T_OP && t->n == 1 && *t->s == '+';
		if (!slash && !plus) {
			/* a conditional expression, a comparison, a comprehension... */
			skip_expr(e);
			lit_free(v);
			return opaque(e, line, "a computed value");
		}
		e->i++;
		struct lit *rhs = atom(e);
		struct lit *n;
		if (slash && v->kind == LIT_STR && rhs->kind == LIT_STR)
			n = mk(LIT_STR, path_join(v->s, rhs->s), e, line);
		else if (plus && v->kind == LIT_STR && rhs->kind == LIT_STR)
			n = mk(LIT_STR, xasprintf("%s%s", v->s, rhs->s), e, line);
		else
			n = opaque(e, line, "a computed value");
		lit_free(v);
		lit_free(rhs);
		v = n;
	}
}

/* ---- statements ---- */

static void set_opaque_databases(struct django_settings *s, const char *where, const char *why)
{
	lit_free(s->databases);
	s->databases = xcalloc(1, sizeof *s->databases);
	s->databases->kind = LIT_OPAQUE;
	s->databases->s = xstrdup(why);
	free(s->databases_where);
	s->databases_where = xstrdup(where);
	free(s->why);
	s->why = xasprintf("%s: %s", where, why);
}

static char *path_up(const char *dir)
{
	size_t n = strlen(dir);
	if (!strcmp(dir, "."))
		return xstrdup("..");
	if (!strcmp(dir, "..") || (n >= 3 && !strcmp(dir + n - 3, "/..")))
		return xasprintf("%s/..", dir);
	return path_dir(dir);
}

/* "a.b" / ".base" of `from X import *`. */
static char *module_of(struct ev *e, size_t from, size_t to)
{
	return chain_name(e, from, to);
}

static void statement(struct ev *e, size_t a, size_t b, int depth)
{
	struct django_settings *s = e->s;
	const struct tok *t0 = &e->ts->v[a];
	int indent = t0->col;
	e->i = a;
	e->end = b;
	char where[512];
	snprintf(where, sizeof where, "%s:%d", e->file, t0->line);
	for (size_t i = a; i < b; i++) {
		const struct tok *t = &e->ts->v[i];
		if (is_name(t, "read_env") || is_name(t, "load_dotenv"))
			s->reads_dotenv = 1;
		if (is_name(t, "setdefault") && i + 4 < b && e->ts->v[i + 2].type == T_STR &&
		    !strcmp(e->ts->v[i + 2].str, "DJANGO_SETTINGS_MODULE") && e->ts->v[i + 4].type == T_STR) {
			free(s->settings_default);
			s->settings_default = xstrdup(e->ts->v[i + 4].str);
		}
	}
	/* from X import * */
	if (is_name(t0, "from") && b - a >= 4 && is_name(&e->ts->v[b - 2], "import") &&
	    e->ts->v[b - 1].type == T_OP && *e->ts->v[b - 1].s == '*') {
		char *mod = module_of(e, a + 1, b - 2);
		if (e->io->import_star)
			e->io->import_star(e->io->ctx, e->file, mod, s, depth + 1);
		free(mod);
		return;
	}
	/* DATABASES changed anywhere but at the start of a top-level statement
	 * is a change we cannot place (if/else, try, a function). */
	for (size_t i = a; i < b; i++) {
		if (!is_name(&e->ts->v[i], "DATABASES") || (i == a && indent == 0))
			continue;
		if (i > a && e->ts->v[i - 1].type == T_OP && *e->ts->v[i - 1].s == '.')
			continue;   /* settings.DATABASES */
		size_t j = i + 1;
		while (j < b && e->ts->v[j].type == T_OP && e->ts->v[j].n == 1 && *e->ts->v[j].s == '[') {
			e->i = j;
			skip_group(e);
			j = e->i;
		}
		int changes = 0;
		if (j < b && e->ts->v[j].type == T_OP) {
			const struct tok *t = &e->ts->v[j];
			changes = (t->n == 1 && *t->s == '=') || (t->n == 2 && t->s[1] == '=' && strchr("+-*|", t->s[0]));
			if (t->n == 1 && *t->s == '.' && j + 1 < b)
				changes = is_name(&e->ts->v[j + 1], "update") || is_name(&e->ts->v[j + 1], "setdefault") ||
				          is_name(&e->ts->v[j + 1], "pop") || is_name(&e->ts->v[j + 1], "clear");
		}
		if (!changes)
			continue;
		/* The first such place is the one to show. */
		if (!s->conditional)
			set_opaque_databases(s, where, "DATABASES is changed inside a block (if, try, a function): which branch runs is decided at run time");
		s->conditional = 1;
		return;
	}
	e->i = a;
	if (b - a < 3 || t0->type != T_NAME)
		return;
	const struct tok *t1 = &e->ts->v[a + 1];
	int assign = t1->type == T_OP && t1->n == 1 && *t1->s == '=';
	if (is_name(t0, "DATABASES")) {
		e->i = a + 1;
		e->end = b;
		if (assign) {
			e->i++;
			struct lit *v = expr(e);
			lit_free(s->databases);
			s->databases = v;
			s->conditional = 0;
			free(s->databases_where);
			s->databases_where = xstrdup(where);
			if (v->kind != LIT_MAP) {
				free(s->why);
				s->why = xasprintf("%s: DATABASES is %s, not a literal dict", where, v->s ? v->s : "not a dict");
			}
			return;
		}
		/* DATABASES['default'] = ... / DATABASES['default']['NAME'] = ... */
		char *keys[2] = { NULL, NULL };
		int nk = 0, ok = 1;
		while (ok && is_op(e, "[") && nk < 2) {
			e->i++;
			struct lit *k = expr(e);
			if (lit_text(k) && is_op(e, "]"))
				keys[nk++] = xstrdup(lit_text(k)), e->i++;
			else
				ok = 0;
			lit_free(k);
		}
		if (ok && nk > 0 && is_op(e, "=") && s->databases && s->databases->kind == LIT_MAP) {
			e->i++;
			struct lit *v = expr(e);
			struct lit *alias = lit_get(s->databases, keys[0]);
			if (nk == 1)
				map_set(s->databases, keys[0], v);
			else if (alias && alias->kind == LIT_MAP)
				map_set(alias, keys[1], v);
			else
				lit_free(v), set_opaque_databases(s, where, "DATABASES is changed in a way that cannot be followed");
		} else {
			set_opaque_databases(s, where, "DATABASES is changed in a way that cannot be followed");
		}
		free(keys[0]);
		free(keys[1]);
		return;
	}
	if (!assign)
		return;
	char *name = xstrndup(t0->s, t0->n);
	if (!s->symbols_map) {
		s->symbols_map = xcalloc(1, sizeof *s->symbols_map);
		s->symbols_map->kind = LIT_MAP;
	}
	struct lit *v;
	if (indent > 0) {
		v = xcalloc(1, sizeof *v);
		v->kind = LIT_OPAQUE;
		v->s = xasprintf("%s, assigned inside a block", name);
		v->where = xstrdup(where);
	} else if (!strcmp(name, "BASE_DIR")) {
		/* Path(__file__).resolve().parent.parent, or nested os.path.dirname:
		 * the settings file with that many directories taken off. */
		int ups = 0, file = 0;
		for (size_t i = a + 2; i < b; i++) {
			ups += is_name(&e->ts->v[i], "parent") || is_name(&e->ts->v[i], "dirname");
			file |= is_name(&e->ts->v[i], "__file__");
		}
		if (file && ups > 0) {
			char *dir = xstrdup(e->file);
			for (int k = 0; k < ups; k++) {
				char *up = path_up(dir);
				free(dir);
				dir = up;
			}
			free(s->base_dir);
			s->base_dir = xstrdup(dir);
			v = mk(LIT_STR, dir, e, t0->line);
		} else {
			e->i = a + 2;
			e->end = b;
			v = expr(e);
			if (lit_text(v)) {
				free(s->base_dir);
				s->base_dir = xstrdup(lit_text(v));
			}
		}
	} else {
		e->i = a + 2;
		e->end = b;
		v = expr(e);
	}
	map_set(s->symbols_map, name, v);
	free(name);
}

void django_parse(const char *text, const char *file, const struct django_io *io, struct django_settings *s, int depth)
{
	struct toks ts = { NULL, 0 };
	lex(text, &ts);
	struct ev e = { &ts, 0, ts.n, file, io, s, 0 };
	if (!s->base_dir)
		s->base_dir = xstrdup(".");
	if (!s->symbols_map) {
		s->symbols_map = xcalloc(1, sizeof *s->symbols_map);
		s->symbols_map->kind = LIT_MAP;
	}
	if (!lit_get(s->symbols_map, "BASE_DIR")) {
		struct lit *bd = mk(LIT_STR, xstrdup(s->base_dir), &e, 0);
		map_set(s->symbols_map, "BASE_DIR", bd);
	}
	size_t a = 0;
	for (size_t i = 0; i < ts.n; i++)
		if (ts.v[i].type == T_NL) {
			if (i > a)
				statement(&e, a, i, depth);
			a = i + 1;
		}
	toks_free(&ts);
}

void django_settings_free(struct django_settings *s)
{
	lit_free(s->databases);
	free(s->databases_where);
	free(s->why);
	free(s->base_dir);
	free(s->settings_default);
	lit_free(s->symbols_map);
	memset(s, 0, sizeof *s);
}

/* ---- the settings module as a source ---- */

struct dj_ctx {
	struct run *r;
	struct django_settings *s;
};

static const char *dj_getenv(void *ctx, const char *key, char **where)
{
	struct dj_ctx *c = ctx;
	/* django-environ's read_env and python-dotenv's load_dotenv put .env
	 * into os.environ; without them Django sees the process environment. */
	return run_getenv(c->r, key, c->s->reads_dotenv, where);
}

/* The file of a dotted module: a/b.py or a/b/__init__.py; NULL if neither. */
static char *module_file(struct run *r, const char *base, const char *mod)
{
	struct strbuf sb = STRBUF_INIT;
	if (base)
		sb_adds(&sb, base);
	for (const char *p = mod; *p; p++)
		sb_addc(&sb, *p == '.' ? '/' : *p);
	const char *exts[] = { ".py", "/__init__.py" };
	for (int i = 0; i < 2; i++) {
		char *rel = xasprintf("%s%s", sb_str(&sb), exts[i]);
		char *p = base ? xstrdup(rel) : run_path(r, rel);
		free(rel);
		if (access(p, R_OK) == 0) {
			sb_free(&sb);
			return p;
		}
		free(p);
	}
	sb_free(&sb);
	return NULL;
}

static void read_settings(struct dj_ctx *c, const char *path, int depth);

static void dj_import_star(void *ctx, const char *file, const char *module, struct django_settings *s, int depth)
{
	struct dj_ctx *c = ctx;
	(void)s;
	if (depth > MAX_IMPORT_DEPTH)
		return;
	char *path;
	if (module[0] == '.') {
		/* from .base import *: beside file; each further dot one level up. */
		char *dir = path_dir(file);
		const char *m = module + 1;
		while (*m == '.') {
			char *up = path_up(dir);
			free(dir);
			dir = up;
			m++;
		}
		char *base = !strcmp(dir, ".") ? xstrdup("") : xasprintf("%s/", dir);
		path = *m ? module_file(c->r, base, m) : NULL;
		free(base);
		free(dir);
	} else {
		path = module_file(c->r, NULL, module);
	}
	/* A module we cannot find is a library's (import * from a package): it
	 * does not set DATABASES. */
	if (path)
		read_settings(c, path, depth);
	free(path);
}

static void read_settings(struct dj_ctx *c, const char *path, int depth)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		char *where = xasprintf("%s", path);
		set_opaque_databases(c->s, where, strerror(errno));
		free(where);
		return;
	}
	if (memchr(text, '\0', len)) {
		set_opaque_databases(c->s, path, "contains a NUL byte");
		free(text);
		return;
	}
	struct django_io io = { dj_getenv, dj_import_star, c };
	django_parse(text, path, &io, c->s, depth);
	free(text);
}

static const char *field_text(const struct lit *alias, const char *key, const struct lit **node)
{
	const struct lit *v = lit_get(alias, key);
	*node = v;
	return lit_text(v);
}

static void add_alias(struct run *r, const char *path, const struct django_settings *s, const char *alias,
                      const struct lit *cfg)
{
	struct target t;
	memset(&t, 0, sizeof t);
	t.origin = xasprintf("%s (DATABASES['%s'])", path, alias);
	struct strbuf why = STRBUF_INIT;
	const struct lit *url = lit_get(cfg, URL_KEY);
	if (cfg->kind != LIT_MAP) {
		sb_addf(&why, "%s: DATABASES['%s'] is %s", cfg->where ? cfg->where : path, alias,
		        cfg->s ? cfg->s : "not a literal dict");
		t.unreadable = 1;
	} else if (url) {
		const char *u = lit_text(url);
		char err[256];
		char *src = xasprintf("%s", url->where ? url->where : path);
		/* dj-database-url: sqlite:///rel is relative, sqlite:////abs absolute. */
		if (u && !strncmp(u, "sqlite:///", 10) && u[10] != '/') {
			target_set(&t, TF_ENGINE, "sqlite", src);
			target_set(&t, TF_DATABASE, u + 10, src);
		} else if (!u || dburl_parse(u, &t, src, err, sizeof err) < 0) {
			error("%s: %s", src, u ? err : "not a database URL");
			r->list->config_errors++;
			free(src);
			sb_free(&why);
			target_free(&t);
			return;
		}
		free(src);
	} else {
		static const struct { const char *key; enum tfield f; } fields[] = {
			{ "ENGINE", TF_ENGINE }, { "NAME", TF_DATABASE }, { "HOST", TF_HOST },
			{ "PORT", TF_PORT }, { "USER", TF_USER }, { "PASSWORD", TF_PASSWORD },
		};
		for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
			const struct lit *n;
			const char *v = field_text(cfg, fields[i].key, &n);
			if (n && n->kind == LIT_OPAQUE && fields[i].f != TF_PASSWORD) {
				sb_addf(&why, "%s%s: %s is %s", why.len ? "; " : "", n->where ? n->where : path, fields[i].key,
				        n->s ? n->s : "computed");
				t.unreadable = 1;
			}
			if (v && *v) {
				/* "FILE:LINE KEY (how)" */
				const char *w = n->where ? n->where : path;
				const char *paren = strstr(w, " (");
				char *src = paren ? xasprintf("%.*s %s%s", (int)(paren - w), w, fields[i].key, paren)
				                  : xasprintf("%s %s", w, fields[i].key);
				target_set(&t, fields[i].f, v, src);
				free(src);
			}
		}
		const char *engine = target_get(&t, TF_ENGINE);
		if (engine) {
			const char *e = engine_from_driver(engine);
			char *src = xstrdup(t.src[TF_ENGINE]);
			if (e)
				target_set(&t, TF_ENGINE, e, src);
			else
				warn("%s: ENGINE '%s' is not an engine dbguard knows", src, engine);
			free(src);
		}
	}
	/* A test run (manage.py test, pytest-django) uses the test database:
	 * TEST NAME, else test_<NAME>; SQLite in memory. */
	const char *engine = target_get(&t, TF_ENGINE);
	const struct lit *test = lit_get(cfg, "TEST");
	const struct lit *tn;
	const char *test_name = test ? field_text(test, "NAME", &tn) : NULL;
	if (r->test_run && !t.unreadable && engine) {
		if (test_name && *test_name) {
			char *src = xasprintf("%s TEST NAME (test run)", tn->where ? tn->where : path);
			target_set(&t, TF_DATABASE, test_name, src);
			free(src);
		} else if (!strcmp(engine, "sqlite")) {
			target_set(&t, TF_DATABASE, ":memory:", "Django tests use SQLite in memory");
		} else if (target_get(&t, TF_DATABASE)) {
			char *name = xasprintf("test_%s", target_get(&t, TF_DATABASE));
			char *src = xasprintf("%s (test run: Django adds test_)", t.src[TF_DATABASE]);
			target_set(&t, TF_DATABASE, name, src);
			free(src);
			free(name);
		}
	}
	if (t.unreadable)
		warn("%s; the database Django uses is unknown", sb_str(&why));
	run_envname(r, &t, s->reads_dotenv);
	char *says = t.unreadable ? xstrdup(sb_str(&why)) : target_says(&t);
	char *src = xstrdup(t.origin);
	run_add_target(r, &t, src, says, alias && strcmp(alias, "default") ? "another alias in DATABASES" : NULL);
	free(src);
	free(says);
	sb_free(&why);
}

/* The settings modules to read: DJANGO_SETTINGS_MODULE, the default
 * manage.py sets, else every DIR/settings.py (or DIR/settings/__init__.py). */
static void find_settings(struct run *r, struct strvec *paths, struct strbuf *how)
{
	const char *mod = getenv("DJANGO_SETTINGS_MODULE");
	char *dflt = NULL;
	if (mod && *mod) {
		sb_addf(how, "DJANGO_SETTINGS_MODULE=%s (environment)", mod);
	} else {
		char *manage = run_path(r, "manage.py");
		char *text = read_file(manage, NULL);
		if (text) {
			struct django_settings s;
			memset(&s, 0, sizeof s);
			struct django_io io = { NULL, NULL, NULL };
			django_parse(text, manage, &io, &s, 0);
			dflt = s.settings_default ? xstrdup(s.settings_default) : NULL;
			django_settings_free(&s);
			free(text);
			if (dflt)
				sb_addf(how, "DJANGO_SETTINGS_MODULE=%s (default in %s)", dflt, manage);
		}
		free(manage);
		mod = dflt;
	}
	if (mod) {
		char *p = module_file(r, NULL, mod);
		if (p)
			sv_push_owned(paths, p);
		else
			sb_addf(how, ": no file for module '%s'", mod);
		free(dflt);
		return;
	}
	struct dirent **ents;
	int n = scandir(r->dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;
		if (d[0] != '.' && strcmp(d, "node_modules") && strcmp(d, "venv")) {
			const char *names[] = { "settings.py", "settings/__init__.py" };
			for (int k = 0; k < 2; k++) {
				char *rel = xasprintf("%s/%s", d, names[k]);
				char *p = run_path(r, rel);
				free(rel);
				if (access(p, R_OK) == 0) {
					sv_push_owned(paths, p);
					break;
				}
				free(p);
			}
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	if (paths->n)
		sb_adds(how, "found by name: */settings.py");
}

void django_settings(struct run *r)
{
	struct strvec paths = STRVEC_INIT;
	struct strbuf how = STRBUF_INIT;
	find_settings(r, &paths, &how);
	if (!paths.n && how.len)
		run_candidate(r, "Django settings", sb_str(&how), "the settings module cannot be found", 0);
	for (size_t i = 0; i < paths.n; i++) {
		const char *path = paths.v[i];
		struct django_settings s;
		memset(&s, 0, sizeof s);
		/* Django's own default: BASE_DIR is the directory of manage.py. */
		s.base_dir = xstrdup(r->dir);
		struct dj_ctx c = { r, &s };
		read_settings(&c, path, 0);
		if (!s.databases) {
			char *says = xasprintf("%s; no DATABASES", sb_str(&how));
			run_candidate(r, path, says, "names no database", 0);
			free(says);
		} else if (s.databases->kind != LIT_MAP) {
			struct target t;
			memset(&t, 0, sizeof t);
			t.unreadable = 1;
			t.origin = xstrdup(path);
			const char *why = s.why ? s.why : "DATABASES cannot be read statically";
			warn("%s; the database Django uses is unknown", why);
			run_envname(r, &t, s.reads_dotenv);
			run_add_target(r, &t, path, why, "a settings file that cannot be read statically");
		} else {
			if (s.databases->n == 0)
				run_candidate(r, path, "DATABASES = {}", "names no database", 0);
			for (size_t k = 0; k < s.databases->n; k++)
				add_alias(r, path, &s, s.databases->keys[k], s.databases->vals[k]);
		}
		django_settings_free(&s);
	}
	sv_free(&paths);
	sb_free(&how);
}
