/* interpolate.c — compose interpolation (see interpolate.h), following
 * compose-go's template rules: a '$' that starts nothing valid stays literal,
 * a malformed ${...} is an error, an unset variable a warning. */
#include "model/interpolate.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

/* Defaults nest (${A:-${B:-${C}}}); deeper than this is surely a mistake. */
#define MAX_NEST 16

struct segvec {
	struct interp_seg *v;
	size_t n, cap;
};

static int is_name_start(int c) { return isalpha(c) || c == '_'; }
static int is_name_char(int c) { return isalnum(c) || c == '_'; }

int interp_init(struct interp *ip, const char *dotenv_path)
{
	memset(ip, 0, sizeof *ip);
	if (!dotenv_path)
		return 0;
	if (dotenv_load_as(dotenv_path, DOTENV_COMPOSE, &ip->env) < 0) {
		if (errno == ENOENT)
			return 0;
		error("cannot read '%s':", dotenv_path);
		return -1;
	}
	ip->have_env = 1;
	ip->env_text = read_file(dotenv_path, &ip->env_len);
	return ip->env.errors ? -1 : 0;
}

void interp_free(struct interp *ip)
{
	if (ip->have_env)
		dotenv_free(&ip->env);
	free(ip->env_text);
	for (size_t i = 0; i < ip->nnames; i++)
		free(ip->names[i]);
	free(ip->names);
	free(ip->warned);
	memset(ip, 0, sizeof *ip);
}

/* Names live as long as ip, so segments can point at them. */
static size_t intern(struct interp *ip, const char *name, size_t n)
{
	for (size_t i = 0; i < ip->nnames; i++)
		if (strlen(ip->names[i]) == n && memcmp(ip->names[i], name, n) == 0)
			return i;
	ip->names = xrealloc(ip->names, (ip->nnames + 1) * sizeof *ip->names);
	ip->warned = xrealloc(ip->warned, (ip->nnames + 1) * sizeof *ip->warned);
	ip->names[ip->nnames] = xstrndup(name, n);
	ip->warned[ip->nnames] = 0;
	return ip->nnames++;
}

static const char *lookup(const struct interp *ip, const char *name)
{
	const char *v = getenv(name);
	if (v)
		return v;
	if (ip->have_env) {
		const struct dotenv_entry *e = dotenv_get(&ip->env, name);
		if (e)
			return e->value;
	}
	return NULL;
}

static void add_seg(struct segvec *sv, size_t out_off, size_t len, size_t src_off, const char *var)
{
	if (len == 0)
		return;
	if (sv->n) {
		struct interp_seg *last = &sv->v[sv->n - 1];
		if (last->var == var && last->out_off + last->out_len == out_off && last->src_off + last->out_len == src_off) {
			last->out_len += len;
			return;
		}
	}
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
	}
	sv->v[sv->n++] = (struct interp_seg){ out_off, len, src_off, var };
}

static void add_literal(struct strbuf *out, struct segvec *sv, const char *s, size_t n, size_t src_off)
{
	add_seg(sv, out->len, n, src_off, NULL);
	sb_add(out, s, n);
}

static void add_variable(struct interp *ip, struct strbuf *out, struct segvec *sv, size_t id, const char *where)
{
	const char *v = lookup(ip, ip->names[id]);
	if (!v) {
		if (!ip->warned[id]) {
			warn("%s: variable '%s' is not set; using an empty string", where, ip->names[id]);
			ip->warned[id] = 1;
			ip->warnings++;
		}
		return;
	}
	size_t n = strlen(v);
	add_seg(sv, out->len, n, 0, ip->names[id]);
	sb_add(out, v, n);
}

/* The '}' closing the ${ whose body starts at s[i], honouring nested ${...}. */
static size_t closing_brace(const char *s, size_t n, size_t i)
{
	int depth = 1;
	while (i < n) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '$') {
			i += 2;
			continue;
		}
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
			depth++;
			i += 2;
			continue;
		}
		if (s[i] == '}' && --depth == 0)
			return i;
		i++;
	}
	return (size_t)-1;
}

/* Bounded like the dotenv files (DOTENV_MAX_VALUE bytes): a value that
 * grows beyond it is an error, not an allocation the machine cannot give. */
static int too_large(const char *where, const struct strbuf *out)
{
	if (out->len <= DOTENV_MAX_VALUE)
		return 0;
	error("%s: expansion too large (more than %d KiB)", where, DOTENV_MAX_VALUE / 1024);
	return 1;
}

static int expand(struct interp *ip, const char *s, size_t n, size_t base, const char *where,
                  struct strbuf *out, struct segvec *sv, int depth)
{
	if (depth > MAX_NEST) {
		error("%s: expansion too large: interpolation nested deeper than %d levels", where, MAX_NEST);
		return -1;
	}
	size_t i = 0, lit = 0;
	while (i < n) {
		if (s[i] != '$') {
			i++;
			continue;
		}
		add_literal(out, sv, s + lit, i - lit, base + lit);
		if (i + 1 < n && s[i + 1] == '$') {
			add_literal(out, sv, "$", 1, base + i + 1);
			i += 2;
		} else if (i + 1 < n && s[i + 1] == '{') {
			size_t body = i + 2, close = closing_brace(s, n, body);
			if (close == (size_t)-1) {
				error("%s: invalid interpolation format in '%s': '${' without '}'", where, s);
				return -1;
			}
			size_t e = body;
			if (e < close && is_name_start((unsigned char)s[e]))
				while (e < close && is_name_char((unsigned char)s[e]))
					e++;
			if (e == body) {
				error("%s: invalid interpolation format in '%.*s': a variable name must follow '${'",
				      where, (int)(close + 1 - i), s + i);
				return -1;
			}
			size_t id = intern(ip, s + body, e - body);
			const char *v = lookup(ip, ip->names[id]);
			int colon = s[e] == ':';
			char op = e == close ? '}' : s[e + colon];
			size_t arg = e + colon + 1;
			if (op != '}' && op != '-' && op != '?' && op != '+') {
				error("%s: invalid interpolation format in '%.*s': expected ':-', '-', ':?', '?', ':+' or '+' after '%s'",
				      where, (int)(close + 1 - i), s + i, ip->names[id]);
				return -1;
			}
			int missing = !v || (colon && !*v);
			if (op == '}' || (op == '-' && !missing)) {
				add_variable(ip, out, sv, id, where);
			} else if (op == '-') {
				if (expand(ip, s + arg, close - arg, base + arg, where, out, sv, depth + 1) < 0)
					return -1;
			} else if (op == '?') {
				if (missing) {
					error("%s: required variable '%s' is missing a value: %.*s", where, ip->names[id],
					      (int)(close - arg), s + arg);
					return -1;
				}
				add_variable(ip, out, sv, id, where);
			} else if (!missing) {
				if (expand(ip, s + arg, close - arg, base + arg, where, out, sv, depth + 1) < 0)
					return -1;
			}
			i = close + 1;
		} else if (i + 1 < n && is_name_start((unsigned char)s[i + 1])) {
			size_t e = i + 1;
			while (e < n && is_name_char((unsigned char)s[e]))
				e++;
			add_variable(ip, out, sv, intern(ip, s + i + 1, e - i - 1), where);
			i = e;
		} else {
			/* compose-go leaves a '$' that starts nothing as it is. */
			add_literal(out, sv, "$", 1, base + i);
			i++;
		}
		lit = i;
		if (too_large(where, out))
			return -1;
	}
	add_literal(out, sv, s + lit, n - lit, base + lit);
	return too_large(where, out) ? -1 : 0;
}

int interp_expand(struct interp *ip, const char *s, const char *where, struct interp_result *r)
{
	struct strbuf out = STRBUF_INIT;
	struct segvec sv = { NULL, 0, 0 };
	memset(r, 0, sizeof *r);
	if (expand(ip, s, strlen(s), 0, where, &out, &sv, 0) < 0) {
		sb_free(&out);
		free(sv.v);
		return -1;
	}
	r->text = sb_detach(&out);
	r->seg = sv.v;
	r->nseg = sv.n;
	return 0;
}

void interp_result_free(struct interp_result *r)
{
	free(r->text);
	free(r->seg);
	memset(r, 0, sizeof *r);
}

int interp_span_source(const struct interp_result *r, size_t off, size_t len, const char **var, size_t *src_off)
{
	for (size_t i = 0; i < r->nseg; i++) {
		const struct interp_seg *g = &r->seg[i];
		if (len && off >= g->out_off && off + len <= g->out_off + g->out_len) {
			*src_off = g->src_off + (off - g->out_off);
			*var = g->var;
			return g->var ? 2 : 1;
		}
	}
	return 0;
}

/* The bytes of line `line` holding the value of `key`, as dotenv reads an
 * unquoted or single-line quoted value; -1 when they are not the value
 * itself (escapes, expansion, a multi-line value). */
static void locate_value(const struct interp *ip, const struct dotenv_entry *e, struct interp_origin *o)
{
	o->off = -1;
	o->len = 0;
	if (!ip->env_text)
		return;
	const char *p = ip->env_text, *end = ip->env_text + ip->env_len;
	if (ip->env_len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	for (int l = 1; l < e->line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if (eol - p > 6 && strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
	}
	size_t klen = strlen(e->key);
	if ((size_t)(eol - p) < klen || memcmp(p, e->key, klen) != 0)
		return;
	p += klen;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= eol || *p != '=')
		return;
	p++;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	const char *v = p, *ve;
	if (p < eol && (*p == '"' || *p == '\'')) {
		v = p + 1;
		ve = memchr(v, *p, (size_t)(eol - v));
		if (!ve)
			return;
	} else {
		ve = v;
		while (ve < eol && !(*ve == '#' && ve > v && (ve[-1] == ' ' || ve[-1] == '\t')))
			ve++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
			ve--;
	}
	size_t n = (size_t)(ve - v);
	if (n != strlen(e->value) || memcmp(v, e->value, n) != 0)
		return;
	o->off = v - ip->env_text;
	o->len = (long)n;
}

void interp_origin(const struct interp *ip, const char *name, struct interp_origin *o)
{
	memset(o, 0, sizeof *o);
	o->off = -1;
	if (getenv(name)) {
		o->set = o->from_env = 1;
		return;
	}
	const struct dotenv_entry *e = ip->have_env ? dotenv_get(&ip->env, name) : NULL;
	if (!e)
		return;
	o->set = 1;
	o->file = ip->env.path;
	o->line = e->line;
	locate_value(ip, e, o);
}
