/* django_eval.c — the Django settings reader's evaluator: Python
 * expressions to literal values (strings, numbers, dicts, lists, path joins,
 * names assigned earlier, the calls settings files make) and top-level
 * statements to DATABASES, BASE_DIR and the names in scope; django_parse. */
#include "resolve/django_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/io.h"
#include "base/xalloc.h"

int django_is_op(const struct ev *e, const char *op)
{
	if (e->i >= e->end)
		return 0;
	const struct tok *t = &e->ts->v[e->i];
	return t->type == T_OP && t->n == strlen(op) && memcmp(t->s, op, t->n) == 0;
}

int django_is_name(const struct tok *t, const char *name)
{
	return t->type == T_NAME && t->n == strlen(name) && memcmp(t->s, name, t->n) == 0;
}

struct lit *django_mk(enum lit_kind kind, char *s, const struct ev *e, int line)
{
	struct lit *v = xcalloc(1, sizeof *v);
	v->kind = kind;
	v->s = s;
	v->line = line;
	v->where = xasprintf("%s:%d", e->file, line);
	return v;
}

struct lit *django_opaque(const struct ev *e, int line, const char *what)
{
	return django_mk(LIT_OPAQUE, xstrdup(what), e, line);
}

struct lit *django_lit_copy(const struct lit *v)
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
			c->vals[i] = django_lit_copy(v->vals[i]);
			if (v->keys)
				c->keys[i] = xstrdup(v->keys[i]);
		}
	}
	return c;
}

void django_map_set(struct lit *m, const char *key, struct lit *v)
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

static void args_free(struct args *a)
{
	for (size_t i = 0; i < a->npos; i++)
		lit_free(a->pos[i]);
	for (size_t i = 0; i < a->nkw; i++) {
		free(a->kw[i]);
		lit_free(a->kwv[i]);
	}
}

struct lit *django_kwarg(struct args *a, const char *name)
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
	while (e->i < e->end && !django_is_op(e, ")")) {
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
		} else if (django_is_op(e, "*") || django_is_op(e, "**")) {
			return -1;
		} else {
			struct lit *v = expr(e);
			if (a->npos < 4)
				a->pos[a->npos++] = v;
			else
				lit_free(v);
		}
		if (django_is_op(e, ","))
			e->i++;
		else if (!django_is_op(e, ")"))
			return -1;
	}
	if (!django_is_op(e, ")"))
		return -1;
	e->i++;
	return 0;
}

static char *chain_name(struct ev *e, size_t from, size_t to)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = from; i < to; i++)
		sb_add(&sb, e->ts->v[i].s, e->ts->v[i].n);
	return sb_detach(&sb);
}

/* Path(x), str(x), os.path.abspath(x)... keep the path; os.path.join joins
 * literal parts.  NULL when fn is neither. */
static struct lit *path_call(struct ev *e, const char *fn, struct args *a, int line)
{
	struct lit *v = NULL;
	if ((!strcmp(fn, "str") || !strcmp(fn, "Path") || !strcmp(fn, "pathlib.Path") || !strcmp(fn, "os.fspath") ||
	     !strcmp(fn, "os.path.abspath") || !strcmp(fn, "os.path.realpath") || !strcmp(fn, "os.path.normpath")) &&
	    a->npos == 1) {
		v = a->pos[0];
		a->pos[0] = NULL;
	} else if (!strcmp(fn, "os.path.join") && a->npos >= 1) {
		char *acc = NULL;
		for (size_t k = 0; k < a->npos; k++) {
			const char *part = lit_text(a->pos[k]);
			if (!part) {
				free(acc);
				acc = NULL;
				break;
			}
			char *n = acc ? path_join(acc, part) : xstrdup(part);
			free(acc);
			acc = n;
		}
		v = acc ? django_mk(LIT_STR, acc, e, line) : django_mk(LIT_OPAQUE, xstrdup("os.path.join of a computed part"), e, line);
	}
	return v;
}

/* Subscripts and method calls after a value: a literal key of a literal
 * dict is followed; a trailing .resolve() / .parent etc. on a path is not. */
static struct lit *trailers(struct ev *e, struct lit *v, int line)
{
	while (django_is_op(e, "[") || django_is_op(e, ".") || django_is_op(e, "(")) {
		if (django_is_op(e, "[")) {
			e->i++;
			struct lit *k = expr(e);
			if (django_is_op(e, "]"))
				e->i++;
			struct lit *item = lit_text(k) && v->kind == LIT_MAP ? lit_get(v, lit_text(k)) : NULL;
			struct lit *n = item ? django_lit_copy(item) : django_opaque(e, line, "a subscript");
			lit_free(k);
			lit_free(v);
			v = n;
		} else {
			e->i++;
			if (e->i < e->end && e->ts->v[e->i].type == T_NAME)
				e->i++;
			if (django_is_op(e, "(")) {
				e->i++;
				while (e->i < e->end && !django_is_op(e, ")")) {
					skip_expr(e);
					if (django_is_op(e, ",") || django_is_op(e, ":"))
						e->i++;
					else if (!django_is_op(e, ")"))
						e->i++;
				}
				if (django_is_op(e, ")"))
					e->i++;
			}
			lit_free(v);
			v = django_opaque(e, line, "a method call");
		}
	}
	return v;
}

/* name(.name)*, then calls and subscripts. */
static struct lit *primary_name(struct ev *e)
{
	size_t start = e->i;
	int line = e->ts->v[e->i].line;
	e->i++;
	while (django_is_op(e, ".") && e->i + 1 < e->end && e->ts->v[e->i + 1].type == T_NAME)
		e->i += 2;
	char *name = chain_name(e, start, e->i);
	struct lit *v = NULL;
	if (django_is_op(e, "(")) {
		struct args a;
		size_t open = e->i;
		if (call_args(e, &a) < 0) {
			args_free(&a);
			e->i = open;
			skip_group(e);
			v = django_mk(LIT_OPAQUE, xasprintf("%s(...)", name), e, line);
			free(name);
			return v;
		}
		v = path_call(e, name, &a, line);
		if (!v)
			v = django_env_call(e, name, &a, line);
		if (!v)
			v = django_mk(LIT_OPAQUE, xasprintf("%s(...)", name), e, line);
		args_free(&a);
	} else if (!strcmp(name, "True") || !strcmp(name, "False")) {
		v = django_mk(LIT_BOOL, xstrdup(name[0] == 'T' ? "true" : "false"), e, line);
	} else if (!strcmp(name, "None")) {
		v = django_mk(LIT_NULL, NULL, e, line);
	} else if (!strcmp(name, "os.environ") && django_is_op(e, "[")) {
		e->i++;
		struct lit *k = expr(e);
		if (django_is_op(e, "]"))
			e->i++;
		v = django_env_lookup(e, line, k, NULL);
		lit_free(k);
	} else if (!strchr(name, '.') && lit_get(e->s->symbols_map, name)) {
		v = django_lit_copy(lit_get(e->s->symbols_map, name));
	} else {
		v = django_mk(LIT_OPAQUE, xstrdup(name), e, line);
	}
	free(name);
	return trailers(e, v, line);
}

static struct lit *atom(struct ev *e)
{
	if (e->i >= e->end)
		return django_opaque(e, e->end ? e->ts->v[e->end - 1].line : 0, "nothing");
	const struct tok *t = &e->ts->v[e->i];
	int line = t->line;
	if (++e->depth > MAX_EXPR_DEPTH) {
		e->depth--;
		skip_expr(e);
		return django_opaque(e, line, "an expression nested too deep");
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
		v = f ? (sb_free(&sb), django_opaque(e, line, "an f-string")) : django_mk(LIT_STR, sb_detach(&sb), e, line);
	} else if (t->type == T_NUM) {
		v = django_mk(LIT_NUM, xstrndup(t->s, t->n), e, line);
		e->i++;
	} else if (t->type == T_NAME) {
		v = primary_name(e);
	} else if (django_is_op(e, "-") && e->i + 1 < e->end && e->ts->v[e->i + 1].type == T_NUM) {
		const struct tok *n = &e->ts->v[e->i + 1];
		v = django_mk(LIT_NUM, xasprintf("-%.*s", (int)n->n, n->s), e, line);
		e->i += 2;
	} else if (django_is_op(e, "{")) {
		e->i++;
		v = django_mk(LIT_MAP, NULL, e, line);
		while (e->i < e->end && !django_is_op(e, "}")) {
			if (django_is_op(e, "**")) {
				e->i++;
				struct lit *m = expr(e);
				if (m->kind == LIT_MAP)
					for (size_t k = 0; k < m->n; k++)
						django_map_set(v, m->keys[k], django_lit_copy(m->vals[k]));
				else
					v->kind = LIT_OPAQUE, free(v->s), v->s = xstrdup("a dict built from a computed one");
				lit_free(m);
			} else {
				struct lit *k = expr(e);
				if (!django_is_op(e, ":")) {
					lit_free(k);
					break;
				}
				e->i++;
				struct lit *val = expr(e);
				if (lit_text(k))
					django_map_set(v, lit_text(k), val);
				else
					lit_free(val);
				lit_free(k);
			}
			if (django_is_op(e, ","))
				e->i++;
			else
				break;
		}
		if (django_is_op(e, "}"))
			e->i++;
		else {
			skip_expr(e);
			lit_free(v);
			v = django_opaque(e, line, "a dict comprehension or malformed dict");
		}
	} else if (django_is_op(e, "(") || django_is_op(e, "[")) {
		char close = django_is_op(e, "(") ? ')' : ']';
		e->i++;
		v = django_mk(LIT_LIST, NULL, e, line);
		while (e->i < e->end && !django_is_op(e, close == ')' ? ")" : "]")) {
			struct lit *item = expr(e);
			v->vals = xrealloc(v->vals, (v->n + 1) * sizeof *v->vals);
			v->vals[v->n++] = item;
			if (django_is_op(e, ","))
				e->i++;
			else
				break;
		}
		if (django_is_op(e, close == ')' ? ")" : "]"))
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
		v = django_opaque(e, line, "an operator");
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
		if (django_is_name(t, "or")) {
			/* os.environ.get('X') or 'default' */
			e->i++;
			struct lit *rhs = atom(e);
			int empty = v->kind == LIT_NULL || (v->kind == LIT_STR && !*v->s);
			if (v->kind == LIT_OPAQUE || (empty && rhs->kind == LIT_OPAQUE)) {
				lit_free(rhs);
				lit_free(v);
				v = django_opaque(e, line, "a computed value");
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
			return django_opaque(e, line, "a computed value");
		}
		e->i++;
		struct lit *rhs = atom(e);
		struct lit *n;
		if (slash && v->kind == LIT_STR && rhs->kind == LIT_STR)
			n = django_mk(LIT_STR, path_join(v->s, rhs->s), e, line);
		else if (plus && v->kind == LIT_STR && rhs->kind == LIT_STR)
			n = django_mk(LIT_STR, xasprintf("%s%s", v->s, rhs->s), e, line);
		else
			n = django_opaque(e, line, "a computed value");
		lit_free(v);
		lit_free(rhs);
		v = n;
	}
}

/* ---- statements ---- */

void django_set_opaque_databases(struct django_settings *s, const char *where, const char *why)
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

char *django_path_up(const char *dir)
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

/* Markers anywhere in a statement: a .env read into os.environ, manage.py's
 * default settings module. */
static void note_markers(struct ev *e, size_t a, size_t b)
{
	struct django_settings *s = e->s;
	for (size_t i = a; i < b; i++) {
		const struct tok *t = &e->ts->v[i];
		if (django_is_name(t, "read_env") || django_is_name(t, "load_dotenv"))
			s->reads_dotenv = 1;
		if (django_is_name(t, "setdefault") && i + 4 < b && e->ts->v[i + 2].type == T_STR &&
		    !strcmp(e->ts->v[i + 2].str, "DJANGO_SETTINGS_MODULE") && e->ts->v[i + 4].type == T_STR) {
			free(s->settings_default);
			s->settings_default = xstrdup(e->ts->v[i + 4].str);
		}
	}
}

/* DATABASES changed anywhere but at the start of a top-level statement
 * is a change we cannot place (if/else, try, a function): 1 when this
 * statement is one (DATABASES is then opaque), else 0. */
static int changed_in_block(struct ev *e, size_t a, size_t b, int indent, const char *where)
{
	struct django_settings *s = e->s;
	for (size_t i = a; i < b; i++) {
		if (!django_is_name(&e->ts->v[i], "DATABASES") || (i == a && indent == 0))
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
				changes = django_is_name(&e->ts->v[j + 1], "update") || django_is_name(&e->ts->v[j + 1], "setdefault") ||
				          django_is_name(&e->ts->v[j + 1], "pop") || django_is_name(&e->ts->v[j + 1], "clear");
		}
		if (!changes)
			continue;
		/* The first such place is the one to show. */
		if (!s->conditional)
			django_set_opaque_databases(s, where, "DATABASES is changed inside a block (if, try, a function): which branch runs is decided at run time");
		s->conditional = 1;
		return 1;
	}
	return 0;
}

/* DATABASES = ..., DATABASES['alias'] = ..., DATABASES['alias']['KEY'] = ... */
static void databases_statement(struct ev *e, size_t a, size_t b, int assign, const char *where)
{
	struct django_settings *s = e->s;
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
	while (ok && django_is_op(e, "[") && nk < 2) {
		e->i++;
		struct lit *k = expr(e);
		if (lit_text(k) && django_is_op(e, "]"))
			keys[nk++] = xstrdup(lit_text(k)), e->i++;
		else
			ok = 0;
		lit_free(k);
	}
	if (ok && nk > 0 && django_is_op(e, "=") && s->databases && s->databases->kind == LIT_MAP) {
		e->i++;
		struct lit *v = expr(e);
		struct lit *alias = lit_get(s->databases, keys[0]);
		if (nk == 1)
			django_map_set(s->databases, keys[0], v);
		else if (alias && alias->kind == LIT_MAP)
			django_map_set(alias, keys[1], v);
		else
			lit_free(v), django_set_opaque_databases(s, where, "DATABASES is changed in a way that cannot be followed");
	} else {
		django_set_opaque_databases(s, where, "DATABASES is changed in a way that cannot be followed");
	}
	free(keys[0]);
	free(keys[1]);
}

/* NAME = ...: remembered for later references; BASE_DIR also sets the
 * directory relative paths start from. */
static void assign_name(struct ev *e, size_t a, size_t b, int indent, const char *where)
{
	struct django_settings *s = e->s;
	const struct tok *t0 = &e->ts->v[a];
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
			ups += django_is_name(&e->ts->v[i], "parent") || django_is_name(&e->ts->v[i], "dirname");
			file |= django_is_name(&e->ts->v[i], "__file__");
		}
		if (file && ups > 0) {
			char *dir = xstrdup(e->file);
			for (int k = 0; k < ups; k++) {
				char *up = django_path_up(dir);
				free(dir);
				dir = up;
			}
			free(s->base_dir);
			s->base_dir = xstrdup(dir);
			v = django_mk(LIT_STR, dir, e, t0->line);
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
	django_map_set(s->symbols_map, name, v);
	free(name);
}

/* One logical line, tokens a..b: a star import, DATABASES, or a name. */
static void statement(struct ev *e, size_t a, size_t b, int depth)
{
	struct django_settings *s = e->s;
	const struct tok *t0 = &e->ts->v[a];
	int indent = t0->col;
	e->i = a;
	e->end = b;
	char where[512];
	snprintf(where, sizeof where, "%s:%d", e->file, t0->line);
	note_markers(e, a, b);
	/* from X import * */
	if (django_is_name(t0, "from") && b - a >= 4 && django_is_name(&e->ts->v[b - 2], "import") &&
	    e->ts->v[b - 1].type == T_OP && *e->ts->v[b - 1].s == '*') {
		char *mod = module_of(e, a + 1, b - 2);
		if (e->io->import_star)
			e->io->import_star(e->io->ctx, e->file, mod, s, depth + 1);
		free(mod);
		return;
	}
	if (changed_in_block(e, a, b, indent, where))
		return;
	e->i = a;
	if (b - a < 3 || t0->type != T_NAME)
		return;
	const struct tok *t1 = &e->ts->v[a + 1];
	int assign = t1->type == T_OP && t1->n == 1 && *t1->s == '=';
	if (django_is_name(t0, "DATABASES")) {
		databases_statement(e, a, b, assign, where);
		return;
	}
	if (!assign)
		return;
	assign_name(e, a, b, indent, where);
}

void django_parse(const char *text, const char *file, const struct django_io *io, struct django_settings *s, int depth)
{
	struct toks ts = { NULL, 0 };
	django_lex(text, &ts);
	struct ev e = { &ts, 0, ts.n, file, io, s, 0 };
	if (!s->base_dir)
		s->base_dir = xstrdup(".");
	if (!s->symbols_map) {
		s->symbols_map = xcalloc(1, sizeof *s->symbols_map);
		s->symbols_map->kind = LIT_MAP;
	}
	if (!lit_get(s->symbols_map, "BASE_DIR")) {
		struct lit *bd = django_mk(LIT_STR, xstrdup(s->base_dir), &e, 0);
		django_map_set(s->symbols_map, "BASE_DIR", bd);
	}
	size_t a = 0;
	for (size_t i = 0; i < ts.n; i++)
		if (ts.v[i].type == T_NL) {
			if (i > a)
				statement(&e, a, i, depth);
			a = i + 1;
		}
	django_toks_free(&ts);
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
