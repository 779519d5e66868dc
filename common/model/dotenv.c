/* dotenv.c — .env parsing in the dialect of each framework's loader (see
 * dotenv.h): the entry points, what the dialects share, and the generic and
 * compose dialects.  phpdotenv, dotenv + dotenv-expand and dotenv-rails
 * have their own files.  A line the loader refuses is reported and skipped;
 * the rest still counts, because a half-read file must not hide a
 * production database.  A line the loader skips is skipped here too
 * (reported with -v).  No message quotes a value: values hold passwords. */
#include "model/dotenv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "model/dotenv_impl.h"

void dv_bad(struct dotenv *d, int line, const char *fmt, const char *arg)
{
	char what[256];
	snprintf(what, sizeof what, fmt, arg ? arg : "");
	error("%s:%d: %s", d->path, line, what);
	d->errors++;
}

void dv_skipped(struct dotenv *d, int line, const char *why)
{
	verbose("%s:%d: skipped: %s", d->path, line, why);
	d->skipped++;
}

void dv_too_large(struct dotenv *d, int line)
{
	error("%s:%d: expansion too large (more than %d KiB or %d levels); the value is not used", d->path, line,
	      DOTENV_MAX_VALUE / 1024, DOTENV_MAX_DEPTH);
	d->errors++;
}

/* ---- entries, and a hash of their keys (files can be large, lookups many) ---- */

static size_t key_hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

/* The slot of key: the one holding it, or the empty one where it goes. */
static size_t *find_slot(const struct dotenv *d, const char *key, size_t n)
{
	size_t mask = d->nslot - 1;
	for (size_t i = key_hash(key, n) & mask;; i = (i + 1) & mask) {
		size_t *sl = &d->slot[i];
		if (!*sl)
			return sl;
		const char *k = d->v[*sl - 1].key;
		if (strlen(k) == n && memcmp(k, key, n) == 0)
			return sl;
	}
}

static void index_entry(struct dotenv *d, size_t i)
{
	if (2 * (d->n + 1) > d->nslot) {
		free(d->slot);
		if (!d->nslot)
			d->nslot = 64;
		while (2 * (d->n + 1) > d->nslot)
			d->nslot *= 2;
		d->slot = xcalloc(d->nslot, sizeof *d->slot);
		for (size_t k = 0; k < d->n; k++)
			if (k != i)
				*find_slot(d, d->v[k].key, strlen(d->v[k].key)) = k + 1;
	}
	*find_slot(d, d->v[i].key, strlen(d->v[i].key)) = i + 1;
}

static const struct dotenv_entry *last_entry(const struct dotenv *d, const char *key, size_t n)
{
	if (!d->slot) {
		for (size_t i = d->n; i-- > 0;)
			if (strlen(d->v[i].key) == n && memcmp(d->v[i].key, key, n) == 0)
				return &d->v[i];
		return NULL;
	}
	size_t sl = *find_slot(d, key, n);
	return sl ? &d->v[sl - 1] : NULL;
}

static void append(struct dotenv *d, const char *key, size_t keylen, char *value, int line, const char *unpinned)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n] = (struct dotenv_entry){ xstrndup(key, keylen), value, line, unpinned ? xstrdup(unpinned) : NULL };
	index_entry(d, d->n);
	d->n++;
}

void dv_set_entry(struct dotenv *d, const char *key, size_t keylen, char *value, int line, const char *unpinned)
{
	append(d, key, keylen, value, line, unpinned);
}

/* phpdotenv: a name alone clears the variable it loaded before.  A
 * tombstone (no value) stands for it until compact() drops it. */
void dv_unset_entry(struct dotenv *d, const char *key, size_t keylen)
{
	append(d, key, keylen, NULL, 0, NULL);
}

/* Keep the last entry of each key, in file order, without tombstones. */
static void reindex(struct dotenv *d)
{
	free(d->slot);
	d->slot = NULL;
	d->nslot = 0;
	for (size_t i = 0; i < d->n; i++)
		index_entry(d, i);
}

static void compact(struct dotenv *d)
{
	reindex(d);   /* entries may have moved (dotenv-expand drops some) */
	/* Decide first, while the index is valid; then move and free. */
	char *keep = xcalloc(d->n ? d->n : 1, 1);
	for (size_t i = 0; i < d->n; i++)
		keep[i] = last_entry(d, d->v[i].key, strlen(d->v[i].key)) == &d->v[i] && d->v[i].value;
	size_t k = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (keep[i]) {
			d->v[k++] = d->v[i];
			continue;
		}
		free(d->v[i].key);
		free(d->v[i].value);
		free(d->v[i].unpinned);
	}
	free(keep);
	d->n = k;
	reindex(d);
}

/* The process environment's value of name[0, n), or NULL; *fits is 0 when
 * the name is too long to be a variable at all. */
static const char *getenv_n(const char *name, size_t n, int *fits)
{
	char key[256];
	*fits = n < sizeof key;
	if (!*fits)
		return NULL;
	memcpy(key, name, n);
	key[n] = '\0';
	return getenv(key);
}

/* The value of a variable for expansion: the process environment wins (no
 * loader overrides it), then this file's last entry for it so far. */
const char *dv_lookup(const struct dotenv *d, const char *name, size_t n)
{
	int fits;
	const char *v = getenv_n(name, n, &fits);
	if (v || !fits)
		return v;
	const struct dotenv_entry *e = last_entry(d, name, n);
	return e ? e->value : NULL;   /* a tombstone's NULL: unset */
}

const char *dv_lookup_unpinned(const struct dotenv *d, const char *name, size_t n)
{
	int fits;
	if (getenv_n(name, n, &fits) || !fits)
		return NULL;
	const struct dotenv_entry *e = last_entry(d, name, n);
	return e ? e->unpinned : NULL;
}

void dv_line_head(const char *p, int line, int (*is_key)(int), struct dv_head *h)
{
	const char *l = p;
	h->at = line;
	while (is_space((unsigned char)*l))
		if (*l++ == '\n')
			h->at++;
	const char *k = l;
	h->export = 0;
	if (strncmp(k, "export", 6) == 0 && is_space((unsigned char)k[6])) {
		const char *k2 = k + 6;
		while (is_blank(*k2))
			k2++;
		if (is_key((unsigned char)*k2))
			k = k2, h->export = 1;
	}
	const char *ke = k;
	while (is_key((unsigned char)*ke))
		ke++;
	const char *s = ke;
	while (is_blank(*s))
		s++;
	h->l = l;
	h->k = k;
	h->ke = ke;
	h->s = s;
	h->v = NULL;
	if (ke > k && *s == '=')
		h->v = s + 1;
	else if (ke > k && *ke == ':' && is_blank(ke[1]))
		h->v = ke + 2;
}

size_t dv_trim(char *s)
{
	size_t n = strlen(s), a = 0;
	while (a < n && is_space((unsigned char)s[a]))
		a++;
	while (n > a && is_space((unsigned char)s[n - 1]))
		n--;
	memmove(s, s + a, n - a);
	n -= a;
	s[n] = '\0';
	return n;
}

const char *dv_next_line(const char *l)
{
	const char *eol = strchr(l, '\n');
	return eol ? eol + 1 : l + strlen(l);
}

char *dv_unquoted_value(const char *v, const char **end)
{
	const char *e = v;
	while (*e && *e != '#' && *e != '\n')
		e++;
	char *raw = xstrndup(v, (size_t)(e - v));
	while (*e && *e != '\n')
		e++;
	*end = e;
	return raw;
}

void dv_xp_add(struct xp *x, struct strbuf *out, const char *s, size_t n)
{
	if (x->failed)
		return;
	if (out->len + n > DOTENV_MAX_VALUE) {
		dv_too_large(x->d, x->line);
		x->failed = 1;
		return;
	}
	sb_add(out, s, n);
}

/* After a closing quote only blanks and a comment may follow. */
int dv_rest_is_blank(const char *q)
{
	while (is_blank(*q))
		q++;
	return *q == '\0' || *q == '\n' || *q == '#';
}

struct parser {
	struct dotenv *d;
	const char *p;      /* current position in the normalised text */
	const char *text;
	int line;           /* line of *p */
};

/* ---- generic and compose: the common rules ---- */


/* The '}' closing a ${ whose body starts at s, honouring nested ${...};
 * NULL when there is none. */
static const char *closing_brace(const char *s)
{
	int depth = 1;
	for (; *s; s++) {
		if (s[0] == '$' && s[1] == '{') {
			depth++;
			s++;
		} else if (*s == '}' && --depth == 0) {
			return s;
		}
	}
	return NULL;
}

static void expand_text(struct xp *x, const char *s, size_t n, struct strbuf *out, int depth, int compose);

const char *dv_xp_lookup(struct xp *x, const char *name, size_t n)
{
	const char *why = dv_lookup_unpinned(x->d, name, n);
	if (why)
		x->unpinned = why;
	return dv_lookup(x->d, name, n);
}

/* Expand the ${...} or $NAME at s (pointing at '$'); returns the bytes
 * consumed, appending to out.  Generic: ${VAR}, ${VAR:-d}, $VAR.  Compose
 * adds ${VAR-d}, ${VAR:?e}, ${VAR?e}, ${VAR:+a}, ${VAR+a}. */
static size_t expand_one(struct xp *x, const char *s, const char *end, struct strbuf *out, int depth, int compose)
{
	if (s + 1 < end && s[1] == '{') {
		const char *name = s + 2, *e = name;
		while (e < end && is_word((unsigned char)*e))
			e++;
		const char *close = e < end ? closing_brace(name) : NULL;
		if (close && close > end)
			close = NULL;
		int colon = e < end && *e == ':';
		char op = e < end ? (colon ? e[1] : *e) : 0;
		int ok_op = *e == '}' || (colon && op == '-') ||
		            (compose && (op == '-' || op == '?' || op == '+'));
		if (e == name || !close || !ok_op) {
			dv_xp_add(x, out, "$", 1);
			return 1;
		}
		const char *v = dv_xp_lookup(x, name, (size_t)(e - name));
		int missing = !v || (colon && !*v);
		if (*e == '}') {
			if (v)
				dv_xp_add(x, out, v, strlen(v));
		} else {
			const char *arg = e + colon + 1;
			if (op == '-') {
				if (missing)
					expand_text(x, arg, (size_t)(close - arg), out, depth + 1, compose);
				else
					dv_xp_add(x, out, v, strlen(v));
			} else if (op == '?') {
				if (missing) {
					char *nm = xstrndup(name, (size_t)(e - name));
					dv_bad(x->d, x->line, "required variable '%s' is not set", nm);
					free(nm);
					x->failed = 1;
				} else {
					dv_xp_add(x, out, v, strlen(v));
				}
			} else if (!missing) {
				expand_text(x, arg, (size_t)(close - arg), out, depth + 1, compose);
			}
		}
		return (size_t)(close - s) + 1;
	}
	const char *name = s + 1, *e = name;
	while (e < end && is_word((unsigned char)*e))
		e++;
	if (e == name || isdigit((unsigned char)*name)) {
		dv_xp_add(x, out, "$", 1);
		return 1;
	}
	const char *v = dv_xp_lookup(x, name, (size_t)(e - name));
	if (v)
		dv_xp_add(x, out, v, strlen(v));
	return (size_t)(e - s);
}

static void expand_text(struct xp *x, const char *s, size_t n, struct strbuf *out, int depth, int compose)
{
	if (depth > DOTENV_MAX_DEPTH) {
		if (!x->failed)
			dv_too_large(x->d, x->line);
		x->failed = 1;
		return;
	}
	const char *end = s + n;
	while (s < end && !x->failed) {
		if (*s == '$') {
			s += expand_one(x, s, end, out, depth, compose);
			continue;
		}
		dv_xp_add(x, out, s, 1);
		s++;
	}
}

static void skip_to_next_line(struct parser *ps)
{
	while (*ps->p && *ps->p != '\n')
		ps->p++;
	if (*ps->p == '\n') {
		ps->p++;
		ps->line++;
	}
}


static void generic_line(struct parser *ps, int compose)
{
	struct dotenv *d = ps->d;
	const char *p = ps->p;
	int line = ps->line;
	while (is_blank(*p))
		p++;
	if (*p == '\n' || *p == '\0' || *p == '#') {
		ps->p = p;
		skip_to_next_line(ps);
		return;
	}
	if (strncmp(p, "export", 6) == 0 && is_blank(p[6])) {
		p += 6;
		while (is_blank(*p))
			p++;
	}
	/* A quoted name ("KEY"=x) is loaded by phpdotenv and refused by none. */
	char nq = (*p == '"' || *p == '\'') ? *p : 0;
	if (nq)
		p++;
	const char *key = p;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
		p++;
	size_t keylen = (size_t)(p - key);
	if (nq && *p == nq && keylen)
		p++;
	else if (nq)
		keylen = 0;
	while (is_blank(*p))
		p++;
	if (keylen && (*p == '\n' || *p == '\0' || *p == '#')) {
		/* A name alone: the loaders differ (phpdotenv unsets it, dotenv
		 * skips the line, dotenv-rails sets it empty), none gives it a
		 * value, so it is skipped. */
		dv_skipped(d, line, "a name without '='");
		ps->p = key;
		skip_to_next_line(ps);
		return;
	}
	if (keylen == 0 || *p != '=') {
		/* phpdotenv refuses the file; dotenv skips the line. */
		const char *eol = strchr(key, '\n');
		dv_bad(d, line, memchr(key, '=', eol ? (size_t)(eol - key) : strlen(key))
		             ? "invalid variable name before '=' (letters, digits, '_' and '.' only)"
		             : "expected KEY=value", NULL);
		ps->p = key;
		skip_to_next_line(ps);
		return;
	}
	p++;
	while (is_blank(*p))
		p++;
	struct strbuf val = STRBUF_INIT;
	struct xp x = { d, line, 0, NULL };
	if (*p == '\'' || *p == '"') {
		char quote = *p++;
		int ok = 0;
		while (*p && !x.failed) {
			if (*p == quote) {
				ok = 1;
				p++;
				break;
			}
			if (*p == '\n')
				ps->line++;
			if (quote == '"' && *p == '\\' && p[1]) {
				char c = p[1];
				char r = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
				if (c != 'n' && c != 't' && c != 'r' && c != '"' && c != '\\' && c != '$' && c != '\'')
					dv_xp_add(&x, &val, "\\", 1);
				dv_xp_add(&x, &val, &r, 1);
				p += 2;
				continue;
			}
			if (quote == '"' && *p == '$') {
				const char *q = strchr(p, quote);
				p += expand_one(&x, p, q ? q : p + strlen(p), &val, 0, compose);
				continue;
			}
			dv_xp_add(&x, &val, p, 1);
			p++;
		}
		if (x.failed) {
			sb_free(&val);
			ps->line = line;
			ps->p = key;
			skip_to_next_line(ps);
			return;
		}
		if (!ok) {
			dv_bad(d, line, quote == '"' ? "unterminated double-quoted value" : "unterminated single-quoted value", NULL);
			sb_free(&val);
			ps->line = line;
			ps->p = key;
			skip_to_next_line(ps);
			return;
		}
		ps->p = p;
		if (!dv_rest_is_blank(p)) {
			dv_bad(d, line, "unexpected text after the closing quote", NULL);
			sb_free(&val);
			skip_to_next_line(ps);
			return;
		}
	} else {
		const char *e = p;
		while (*e && *e != '\n' && !(*e == '#' && is_blank(e[-1])))
			e++;
		expand_text(&x, p, (size_t)(e - p), &val, 0, compose);
		while (val.len && is_blank(val.buf[val.len - 1]))
			val.buf[--val.len] = '\0';
		ps->p = e;
		if (x.failed) {
			sb_free(&val);
			skip_to_next_line(ps);
			return;
		}
	}
	dv_set_entry(d, key, keylen, sb_detach(&val), line, x.unpinned);
	skip_to_next_line(ps);
}

/* ---- entry points ---- */

/* The text up to any NUL, with LF, CRLF and lone CR all as '\n', and
 * without a UTF-8 BOM. */
static char *normalise(const char *text, size_t len)
{
	const char *nul = memchr(text, '\0', len);
	if (nul)
		len = (size_t)(nul - text);
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3, len -= 3;
	char *out = xmalloc(len + 1), *w = out;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\r') {
			*w++ = '\n';
			if (i + 1 < len && text[i + 1] == '\n')
				i++;
		} else {
			*w++ = text[i];
		}
	}
	*w = '\0';
	return out;
}

void dotenv_parse(const char *text, size_t len, const char *path, enum dotenv_dialect dialect, struct dotenv *d)
{
	memset(d, 0, sizeof *d);
	d->path = xstrdup(path);
	d->dialect = dialect;
	if (memchr(text, '\0', len))
		error("%s: contains a NUL byte; reading only the text before it", path), d->errors++;
	char *norm = normalise(text, len);
	switch (dialect) {
	case DOTENV_PHP:
		dv_parse_php(d, norm);
		break;
	case DOTENV_NODE:
		dv_parse_node(d, norm);
		dv_expand_node(d);
		break;
	case DOTENV_RUBY:
		dv_parse_ruby(d, norm);
		break;
	case DOTENV_GENERIC:
	case DOTENV_COMPOSE: {
		struct parser ps = { d, norm, norm, 1 };
		while (*ps.p)
			generic_line(&ps, dialect == DOTENV_COMPOSE);
		break;
	}
	}
	free(norm);
	compact(d);
}

int dotenv_load_as(const char *path, enum dotenv_dialect dialect, struct dotenv *d)
{
	memset(d, 0, sizeof *d);
	size_t len;
	char *text = read_file(path, &len);
	if (!text)
		return -1;
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH))
		warn("'%s' is writable by others, so anyone on this machine can redirect your database; fix with: chmod o-w '%s'",
		     path, path);
	dotenv_parse(text, len, path, dialect, d);
	free(text);
	return 0;
}

int dotenv_load(const char *path, struct dotenv *d)
{
	return dotenv_load_as(path, DOTENV_GENERIC, d);
}

const struct dotenv_entry *dotenv_get(const struct dotenv *d, const char *key)
{
	const struct dotenv_entry *e = last_entry(d, key, strlen(key));
	return e && e->value ? e : NULL;
}

void dotenv_free(struct dotenv *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].key);
		free(d->v[i].value);
		free(d->v[i].unpinned);
	}
	free(d->v);
	free(d->slot);
	free(d->path);
	memset(d, 0, sizeof *d);
}

const char *dotenv_dialect_name(enum dotenv_dialect dialect)
{
	switch (dialect) {
	case DOTENV_PHP: return "phpdotenv (Laravel)";
	case DOTENV_NODE: return "dotenv + dotenv-expand (Node)";
	case DOTENV_RUBY: return "dotenv-rails (Rails)";
	case DOTENV_COMPOSE: return "compose-go (Compose)";
	case DOTENV_GENERIC: break;
	}
	return "generic (the rules the loaders share)";
}
