/* dotenv.c — .env parsing in the dialect of each framework's loader (see
 * dotenv.h).  A line the loader refuses is reported and skipped; the rest
 * still counts, because a half-read file must not hide a production
 * database.  A line the loader skips is skipped here too (reported with -v).
 * No message quotes a value: values hold passwords. */
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

struct parser {
	struct dotenv *d;
	const char *p;      /* current position in the normalised text */
	const char *text;
	int line;           /* line of *p */
};

static void bad(struct dotenv *d, int line, const char *fmt, const char *arg)
{
	char what[256];
	snprintf(what, sizeof what, fmt, arg ? arg : "");
	error("%s:%d: %s", d->path, line, what);
	d->errors++;
}

static void skipped(struct dotenv *d, int line, const char *why)
{
	verbose("%s:%d: skipped: %s", d->path, line, why);
	d->skipped++;
}

static void too_large(struct dotenv *d, int line)
{
	error("%s:%d: expansion too large (more than %d KiB or %d levels); the value is not used", d->path, line,
	      DOTENV_MAX_VALUE / 1024, DOTENV_MAX_DEPTH);
	d->errors++;
}

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
static int is_blank(int c) { return c == ' ' || c == '\t'; }
static int is_word(int c) { return isalnum(c) || c == '_'; }

static void set_entry(struct dotenv *d, const char *key, size_t keylen, char *value, int line, const char *unpinned)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
	d->v[d->n++] = (struct dotenv_entry){ xstrndup(key, keylen), value, line, unpinned ? xstrdup(unpinned) : NULL };
}

/* phpdotenv: a name alone clears the variable it loaded before. */
static void unset_entry(struct dotenv *d, const char *key, size_t keylen)
{
	for (size_t i = 0; i < d->n;) {
		if (strlen(d->v[i].key) == keylen && memcmp(d->v[i].key, key, keylen) == 0) {
			free(d->v[i].key);
			free(d->v[i].value);
			free(d->v[i].unpinned);
			memmove(&d->v[i], &d->v[i + 1], (d->n - i - 1) * sizeof *d->v);
			d->n--;
		} else {
			i++;
		}
	}
}

/* The value of a variable for expansion: the process environment wins (no
 * loader overrides it), then this file's entries before index `before`
 * (all of them for SIZE_MAX). */
static const char *lookup(const struct dotenv *d, const char *name, size_t n, size_t before)
{
	char key[256];
	if (n >= sizeof key)
		return NULL;
	memcpy(key, name, n);
	key[n] = '\0';
	const char *v = getenv(key);
	if (v)
		return v;
	for (size_t i = before == (size_t)-1 ? d->n : before; i-- > 0;)
		if (strcmp(d->v[i].key, key) == 0)
			return d->v[i].value;
	return NULL;
}

static const char *lookup_unpinned(const struct dotenv *d, const char *name, size_t n)
{
	char key[256];
	if (n >= sizeof key)
		return NULL;
	memcpy(key, name, n);
	key[n] = '\0';
	if (getenv(key))
		return NULL;
	const struct dotenv_entry *e = dotenv_get(d, key);
	return e ? e->unpinned : NULL;
}

/* ---- generic and compose: the common rules ---- */

struct xp {
	struct dotenv *d;
	int line;
	int failed;         /* reported already */
	const char *unpinned;
};

static void xp_add(struct xp *x, struct strbuf *out, const char *s, size_t n)
{
	if (x->failed)
		return;
	if (out->len + n > DOTENV_MAX_VALUE) {
		too_large(x->d, x->line);
		x->failed = 1;
		return;
	}
	sb_add(out, s, n);
}

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
			xp_add(x, out, "$", 1);
			return 1;
		}
		const char *v = lookup(x->d, name, (size_t)(e - name), (size_t)-1);
		const char *why = lookup_unpinned(x->d, name, (size_t)(e - name));
		if (why)
			x->unpinned = why;
		int missing = !v || (colon && !*v);
		if (*e == '}') {
			if (v)
				xp_add(x, out, v, strlen(v));
		} else {
			const char *arg = e + colon + 1;
			if (op == '-') {
				if (missing)
					expand_text(x, arg, (size_t)(close - arg), out, depth + 1, compose);
				else
					xp_add(x, out, v, strlen(v));
			} else if (op == '?') {
				if (missing) {
					char *nm = xstrndup(name, (size_t)(e - name));
					bad(x->d, x->line, "required variable '%s' is not set", nm);
					free(nm);
					x->failed = 1;
				} else {
					xp_add(x, out, v, strlen(v));
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
		xp_add(x, out, "$", 1);
		return 1;
	}
	const char *v = lookup(x->d, name, (size_t)(e - name), (size_t)-1);
	const char *why = lookup_unpinned(x->d, name, (size_t)(e - name));
	if (why)
		x->unpinned = why;
	if (v)
		xp_add(x, out, v, strlen(v));
	return (size_t)(e - s);
}

static void expand_text(struct xp *x, const char *s, size_t n, struct strbuf *out, int depth, int compose)
{
	if (depth > DOTENV_MAX_DEPTH) {
		if (!x->failed)
			too_large(x->d, x->line);
		x->failed = 1;
		return;
	}
	const char *end = s + n;
	while (s < end && !x->failed) {
		if (*s == '$') {
			s += expand_one(x, s, end, out, depth, compose);
			continue;
		}
		xp_add(x, out, s, 1);
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

/* After a closing quote only blanks and a comment may follow. */
static int rest_is_blank(const char *q)
{
	while (is_blank(*q))
		q++;
	return *q == '\0' || *q == '\n' || *q == '#';
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
	const char *key = p;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
		p++;
	size_t keylen = (size_t)(p - key);
	while (is_blank(*p))
		p++;
	if (keylen && (*p == '\n' || *p == '\0' || *p == '#')) {
		/* A name alone: the loaders differ (phpdotenv unsets it, dotenv
		 * skips the line, dotenv-rails sets it empty), none gives it a
		 * value, so it is skipped. */
		skipped(d, line, "a name without '='");
		ps->p = key;
		skip_to_next_line(ps);
		return;
	}
	if (keylen == 0 || *p != '=') {
		/* phpdotenv refuses the file; dotenv skips the line. */
		const char *eol = strchr(key, '\n');
		bad(d, line, memchr(key, '=', eol ? (size_t)(eol - key) : strlen(key))
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
					xp_add(&x, &val, "\\", 1);
				xp_add(&x, &val, &r, 1);
				p += 2;
				continue;
			}
			if (quote == '"' && *p == '$') {
				const char *q = strchr(p, quote);
				p += expand_one(&x, p, q ? q : p + strlen(p), &val, 0, compose);
				continue;
			}
			xp_add(&x, &val, p, 1);
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
			bad(d, line, quote == '"' ? "unterminated double-quoted value" : "unterminated single-quoted value", NULL);
			sb_free(&val);
			ps->line = line;
			ps->p = key;
			skip_to_next_line(ps);
			return;
		}
		ps->p = p;
		if (!rest_is_blank(p)) {
			bad(d, line, "unexpected text after the closing quote", NULL);
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
	set_entry(d, key, keylen, sb_detach(&val), line, x.unpinned);
	skip_to_next_line(ps);
}

/* ---- phpdotenv 5 (Laravel) ---- */

/* Lines::looksLikeMultilineStop: a '"' after any character but '\', once
 * '\\' pairs are taken out. */
static int php_quotes(const char *s, size_t n)
{
	int count = 0;
	char prev = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			i++;
			continue;   /* str_replace('\\\\', '') */
		}
		if (s[i] == '"' && i > 0 && prev != '\\')
			count++;
		prev = s[i];
	}
	return count;
}

static int php_stop(const char *s, size_t n, int started)
{
	if (n == 1 && s[0] == '"')
		return 1;
	int c = php_quotes(s, n);
	return started ? c > 1 : c >= 1;
}

static int php_valid_name(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* Resolver: ${NAME} at a '$' the parser marked, right to left. */
static char *php_resolve(struct dotenv *d, int line, struct strbuf *chars, size_t *vars, size_t nvars)
{
	char *s = sb_detach(chars);
	for (size_t k = nvars; k-- > 0;) {
		size_t i = vars[k];
		if (s[i] != '$' || s[i + 1] != '{')
			continue;
		size_t e = i + 2;
		while (isalnum((unsigned char)s[e]) || s[e] == '_' || s[e] == '.')
			e++;
		if (e == i + 2 || s[e] != '}')
			continue;
		const char *v = lookup(d, s + i + 2, e - i - 2, d->n);
		if (!v)
			continue;   /* phpdotenv leaves an unknown ${NAME} as it is */
		size_t vl = strlen(v), sl = strlen(s);
		if (sl - (e + 1 - i) + vl > DOTENV_MAX_VALUE) {
			too_large(d, line);
			free(s);
			return NULL;
		}
		char *t = xmalloc(sl - (e + 1 - i) + vl + 1);
		memcpy(t, s, i);
		memcpy(t + i, v, vl);
		strcpy(t + i + vl, s + e + 1);
		free(s);
		s = t;
	}
	return s;
}

static void php_entry(struct dotenv *d, const char *raw, size_t n, int line)
{
	const char *eq = memchr(raw, '=', n);
	const char *name = raw, *nend = eq ? eq : raw + n;
	while (name < nend && is_space((unsigned char)*name))
		name++;
	while (nend > name && is_space((unsigned char)nend[-1]))
		nend--;
	if (name == nend) {
		bad(d, line, "phpdotenv refuses the line: an unexpected '=' (no name before it)", NULL);
		return;
	}
	if (nend - name > 8 && strncmp(name, "export", 6) == 0 && is_space((unsigned char)name[6])) {
		name += 6;
		while (name < nend && is_space((unsigned char)*name))
			name++;
	}
	if (nend - name >= 3 && (*name == '"' || *name == '\'') && nend[-1] == *name)
		name++, nend--;
	if (!php_valid_name(name, (size_t)(nend - name))) {
		bad(d, line, "phpdotenv refuses the line: an invalid name (letters, digits, '_' and '.' only)", NULL);
		return;
	}
	size_t keylen = (size_t)(nend - name);
	if (!eq) {
		verbose("%s:%d: a name alone: phpdotenv unsets the variable", d->path, line);
		unset_entry(d, name, keylen);
		return;
	}
	const char *v = eq + 1, *vend = raw + n;
	while (v < vend && is_space((unsigned char)*v))
		v++;
	while (vend > v && is_space((unsigned char)vend[-1]))
		vend--;
	enum { INITIAL, UNQUOTED, SQ, DQ, ESC, WS, COMMENT } st = INITIAL;
	struct strbuf chars = STRBUF_INIT;
	size_t *vars = NULL, nvars = 0;
	const char *err = NULL;
	for (const char *c = v; c < vend && !err; c++) {
		char ch = *c;
		int mark = 0;
		switch (st) {
		case INITIAL:
		case UNQUOTED:
			if (st == INITIAL && ch == '\'') { st = SQ; continue; }
			if (st == INITIAL && ch == '"') { st = DQ; continue; }
			if (ch == '#') { st = COMMENT; continue; }
			if (st == UNQUOTED && is_space((unsigned char)ch)) { st = WS; continue; }
			mark = ch == '$';
			st = UNQUOTED;
			break;
		case SQ:
			if (ch == '\'') { st = WS; continue; }
			break;
		case DQ:
			if (ch == '"') { st = WS; continue; }
			if (ch == '\\') { st = ESC; continue; }
			mark = ch == '$';
			break;
		case ESC:
			st = DQ;
			if (ch == 'f') ch = '\f';
			else if (ch == 'n') ch = '\n';
			else if (ch == 'r') ch = '\r';
			else if (ch == 't') ch = '\t';
			else if (ch == 'v') ch = '\v';
			else if (ch != '"' && ch != '\\' && ch != '$')
				err = "an unexpected escape sequence in a double-quoted value";
			break;
		case WS:
			if (ch == '#') { st = COMMENT; continue; }
			if (!is_space((unsigned char)ch))
				err = "unexpected whitespace in an unquoted value (quote the value)";
			continue;
		case COMMENT:
			continue;
		}
		if (err)
			break;
		if (mark) {
			vars = xrealloc(vars, (nvars + 1) * sizeof *vars);
			vars[nvars++] = chars.len;
		}
		if (chars.len >= DOTENV_MAX_VALUE) {
			err = "";
			break;
		}
		sb_addc(&chars, ch);
	}
	if (!err && (st == SQ || st == DQ || st == ESC))
		err = "a missing closing quote";
	if (err) {
		if (*err)
			bad(d, line, "phpdotenv refuses the line: %s", err);
		else
			too_large(d, line);
		sb_free(&chars);
		free(vars);
		return;
	}
	sb_addc(&chars, '\0');
	chars.len--;
	char *value = php_resolve(d, line, &chars, vars, nvars);
	free(vars);
	if (value)
		set_entry(d, name, keylen, value, line, NULL);
}

static void parse_php(struct dotenv *d, const char *text)
{
	const char *p = text;
	int line = 1;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		int start = line;
		struct strbuf entry = STRBUF_INIT;
		sb_add(&entry, p, n);
		p += n + (eol != NULL);
		line++;
		/* Lines::multilineProcess: a value opened with =" runs on to the
		 * line that closes it. */
		if (memmem(sb_str(&entry), entry.len, "=\"", 2) && !php_stop(sb_str(&entry), entry.len, 1)) {
			int closed = 0;
			while (*p) {
				eol = strchr(p, '\n');
				n = eol ? (size_t)(eol - p) : strlen(p);
				sb_addc(&entry, '\n');
				sb_add(&entry, p, n);
				int stop = php_stop(p, n, 0);
				p += n + (eol != NULL);
				line++;
				if (stop) {
					closed = 1;
					break;
				}
			}
			if (!closed) {
				/* phpdotenv drops an unclosed multi-line value with the rest of the file. */
				bad(d, start, "phpdotenv drops the rest of the file: a double-quoted value is never closed", NULL);
				sb_free(&entry);
				return;
			}
		}
		const char *s = sb_str(&entry);
		while (is_space((unsigned char)*s))
			s++;
		if (*s && *s != '#')
			php_entry(d, entry.buf, entry.len, start);
		sb_free(&entry);
	}
}

/* ---- dotenv 16 + dotenv-expand 12 (Node) ---- */

/* The raw value as dotenv's LINE expression matches it at v (just after the
 * separator): a quoted value when one closes and only a comment follows,
 * else everything up to '#' or the end of the line.  *end gets where the
 * match ends. */
static char *node_value(const char *v, const char **end, int *nl)
{
	const char *q = v;
	int lines = 0;
	while (is_space((unsigned char)*q))
		lines += *q++ == '\n';
	if (*q == '\'' || *q == '"' || *q == '`') {
		char quote = *q;
		/* The longest run of (\quote | not quote), then the closing quote;
		 * on failure, each escaped quote from the right closes instead. */
		const char *c = q + 1, *close = NULL;
		while (*c) {
			if (*c == '\\' && c[1] == quote) {
				c += 2;
				continue;
			}
			if (*c == quote)
				break;
			c++;
		}
		for (const char *cand = c; cand > q; cand--) {
			if (*cand != quote || (cand != c && cand[-1] != '\\'))
				continue;
			if (rest_is_blank(cand + 1)) {
				close = cand;
				break;
			}
		}
		if (close) {
			for (const char *k = q; k < close; k++)
				lines += *k == '\n';
			*nl = lines;
			const char *e = close + 1;
			while (*e && *e != '\n')
				e++;
			*end = e;
			return xstrndup(v, (size_t)(close + 1 - v));
		}
	}
	*nl = 0;
	const char *e = v;
	while (*e && *e != '#' && *e != '\n')
		e++;
	char *raw = xstrndup(v, (size_t)(e - v));
	while (*e && *e != '\n')
		e++;
	*end = e;
	return raw;
}

static void node_unquote(char **value)
{
	char *s = *value;
	size_t n = strlen(s);
	size_t a = 0;
	while (a < n && is_space((unsigned char)s[a]))
		a++;
	while (n > a && is_space((unsigned char)s[n - 1]))
		n--;
	memmove(s, s + a, n - a);
	n -= a;
	s[n] = '\0';
	char q = s[0];
	if (n >= 2 && (q == '\'' || q == '"' || q == '`') && s[n - 1] == q) {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	if (q == '"') {
		char *w = s;
		for (const char *r = s; *r; r++) {
			if (r[0] == '\\' && (r[1] == 'n' || r[1] == 'r')) {
				*w++ = r[1] == 'n' ? '\n' : '\r';
				r++;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
	}
}

static void parse_node(struct dotenv *d, const char *text)
{
	const char *p = text;
	int line = 1;
	while (*p) {
		const char *l = p;
		int at = line;
		while (is_space((unsigned char)*l))
			if (*l++ == '\n')
				at++;
		const char *k = l;
		if (strncmp(k, "export", 6) == 0 && is_space((unsigned char)k[6])) {
			const char *k2 = k + 6;
			while (is_blank(*k2))
				k2++;
			if (isalnum((unsigned char)*k2) || *k2 == '_' || *k2 == '.' || *k2 == '-')
				k = k2;
		}
		const char *ke = k;
		while (isalnum((unsigned char)*ke) || *ke == '_' || *ke == '.' || *ke == '-')
			ke++;
		const char *s = ke;
		while (is_blank(*s))
			s++;
		const char *v = NULL;
		if (ke > k && *s == '=')
			v = s + 1;
		else if (ke > k && *ke == ':' && is_blank(ke[1]))
			v = ke + 2;
		if (!v) {
			const char *eol = strchr(l, '\n');
			if (*l && *l != '#')
				skipped(d, at, "dotenv reads no KEY=value here");
			p = eol ? eol + 1 : l + strlen(l);
			line = at + 1;
			continue;
		}
		const char *end;
		int nl;
		char *value = node_value(v, &end, &nl);
		node_unquote(&value);
		set_entry(d, k, (size_t)(ke - k), value, at, NULL);
		line = at + nl;
		p = *end ? end + 1 : end;
		line++;
	}
}

/* JavaScript's String.prototype.replace(template, repl) with a string
 * pattern: the first occurrence, with $$ $& $` $' in repl. */
static int js_replace(char **sp, const char *tmpl, size_t tl, const char *repl)
{
	char *s = *sp;
	char *at = strstr(s, tmpl);
	if (!at)
		return 0;
	struct strbuf out = STRBUF_INIT;
	sb_add(&out, s, (size_t)(at - s));
	for (const char *r = repl; *r; r++) {
		if (r[0] == '$' && r[1] == '$') { sb_addc(&out, '$'); r++; }
		else if (r[0] == '$' && r[1] == '&') { sb_add(&out, tmpl, tl); r++; }
		else if (r[0] == '$' && r[1] == '`') { sb_add(&out, s, (size_t)(at - s)); r++; }
		else if (r[0] == '$' && r[1] == '\'') { sb_adds(&out, at + tl); r++; }
		else sb_addc(&out, *r);
		if (out.len > DOTENV_MAX_VALUE)
			break;
	}
	sb_adds(&out, at + tl);
	free(s);
	*sp = sb_detach(&out);
	return 1;
}

/* dotenv-expand 12's expandValue: replace the leftmost unescaped ${EXPR}
 * (no braces inside) or $NAME, then look again from the start, until none
 * is left.  NULL when it grows past the bounds (reported). */
static char *node_expand(struct dotenv *d, const char *value, int line)
{
	char *r = xstrdup(value);
	struct strvec seen = STRVEC_INIT;
	size_t seen_bytes = 0;
	for (int rounds = 0;; rounds++) {
		size_t i, tl = 0;
		for (i = 0; r[i]; i++) {
			if (r[i] != '$' || (i > 0 && r[i - 1] == '\\'))
				continue;
			if (r[i + 1] == '{') {
				size_t j = i + 2;
				while (r[j] && r[j] != '{' && r[j] != '}')
					j++;
				if (r[j] == '}' && j > i + 2) {
					tl = j + 1 - i;
					break;
				}
			}
			if (isalpha((unsigned char)r[i + 1]) || r[i + 1] == '_') {
				size_t j = i + 1;
				while (is_word((unsigned char)r[j]))
					j++;
				tl = j - i;
				break;
			}
		}
		if (!tl)
			break;
		if (rounds >= 64 * DOTENV_MAX_DEPTH || strlen(r) > DOTENV_MAX_VALUE || seen_bytes > 16 * DOTENV_MAX_VALUE) {
			too_large(d, line);
			free(r);
			sv_free(&seen);
			return NULL;
		}
		sv_push(&seen, r);
		seen_bytes += strlen(r);
		char *tmpl = xstrndup(r + i, tl);
		const char *expr = tmpl[1] == '{' ? tmpl + 2 : tmpl + 1;
		size_t elen = tmpl[1] == '{' ? tl - 3 : tl - 1;
		/* The first of ":+", "+", ":-", "-" splits key from the rest. */
		size_t op = elen, oplen = 0;
		for (size_t k = 0; k < elen; k++) {
			if (expr[k] == ':' && k + 1 < elen && (expr[k + 1] == '+' || expr[k + 1] == '-')) {
				op = k, oplen = 2;
				break;
			}
			if (expr[k] == '+' || expr[k] == '-') {
				op = k, oplen = 1;
				break;
			}
		}
		const char *name = expr;
		size_t nlen = op;
		char *rest = oplen ? xstrndup(expr + op + oplen, elen - op - oplen) : xstrdup("");
		int plus = oplen && expr[op + oplen - 1] == '+';
		const char *v = lookup(d, name, nlen, (size_t)-1);
		const char *repl;
		if (plus)
			repl = v && *v ? rest : "";
		else if (v && *v) {
			int was = 0;
			for (size_t k = 0; k < seen.n && !was; k++)
				was = strcmp(seen.v[k], v) == 0;
			repl = was ? rest : v;
		} else
			repl = rest;
		js_replace(&r, tmpl, tl, repl);
		free(rest);
		free(tmpl);
	}
	sv_free(&seen);
	/* _resolveEscapeSequences */
	char *w = r;
	for (const char *c = r; *c; c++) {
		if (c[0] == '\\' && c[1] == '$')
			c++;
		*w++ = *c;
	}
	*w = '\0';
	return r;
}

static void expand_node(struct dotenv *d)
{
	/* Expansion sees every raw value of the file (dotenv has put them in
	 * process.env before dotenv-expand runs); the results replace them
	 * once all are done. */
	char **out = xcalloc(d->n ? d->n : 1, sizeof *out);
	for (size_t i = 0; i < d->n; i++)
		out[i] = node_expand(d, d->v[i].value, d->v[i].line);
	size_t k = 0;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].value);
		if (!out[i]) {
			free(d->v[i].key);
			free(d->v[i].unpinned);
			continue;
		}
		d->v[i].value = out[i];
		d->v[k++] = d->v[i];
	}
	d->n = k;
	free(out);
}

/* ---- bkeepers/dotenv (dotenv-rails) ---- */

/* Command substitution: an unescaped $( with balanced parentheses. */
static int ruby_command(const char *s)
{
	for (const char *c = s; *c; c++) {
		if (c[0] != '$' || c[1] != '(' || (c > s && c[-1] == '\\'))
			continue;
		int depth = 0;
		for (const char *e = c + 1; *e; e++) {
			if (*e == '(')
				depth++;
			else if (*e == ')' && --depth == 0)
				return e > c + 2;
		}
	}
	return 0;
}

static char *ruby_value(struct dotenv *d, const char *raw, int line, const char **unpinned)
{
	char *s = xstrdup(raw);
	size_t n = strlen(s), a = 0;
	while (a < n && is_space((unsigned char)s[a]))
		a++;
	while (n > a && is_space((unsigned char)s[n - 1]))
		n--;
	memmove(s, s + a, n - a);
	n -= a;
	s[n] = '\0';
	char q = 0;
	if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
		q = s[0];
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
	if (q == '\'')
		return s;
	struct strbuf t = STRBUF_INIT;
	for (const char *c = s; *c; c++) {
		if (q == '"' && c[0] == '\\' && (c[1] == 'n' || c[1] == 'r')) {
			sb_addc(&t, c[1] == 'n' ? '\n' : '\r');
			c++;
		} else if (c[0] == '\\' && c[1] && c[1] != '$') {
			sb_addc(&t, c[1]);   /* unescape_characters */
			c++;
		} else {
			sb_addc(&t, *c);
		}
	}
	free(s);
	if (ruby_command(sb_str(&t))) {
		*unpinned = "$(...) runs a shell command when dotenv loads the file";
		return sb_detach(&t);
	}
	struct xp x = { d, line, 0, NULL };
	struct strbuf out = STRBUF_INIT;
	const char *c = sb_str(&t);
	while (*c && !x.failed) {
		if (c[0] == '\\' && c[1] == '$') {
			xp_add(&x, &out, "$", 1);
			c += 2;
			continue;
		}
		if (c[0] != '$' || c[1] == '(') {
			xp_add(&x, &out, c++, 1);
			continue;
		}
		/* \$ \{? ([A-Z0-9_]+)? \}? */
		const char *e = c + 1;
		int brace = *e == '{';
		e += brace;
		const char *name = e;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		size_t nlen = (size_t)(e - name);
		if (*e == '}')
			e++;
		if (!nlen) {
			xp_add(&x, &out, c, (size_t)(e - c));
		} else {
			const char *v = lookup(d, name, nlen, d->n);
			const char *why = lookup_unpinned(d, name, nlen);
			if (why)
				*unpinned = why;
			if (v)
				xp_add(&x, &out, v, strlen(v));
		}
		c = e;
	}
	sb_free(&t);
	if (x.failed) {
		sb_free(&out);
		return NULL;
	}
	return sb_detach(&out);
}

static void parse_ruby(struct dotenv *d, const char *text)
{
	const char *p = text;
	int line = 1;
	while (*p) {
		const char *l = p;
		int at = line;
		while (is_space((unsigned char)*l))
			if (*l++ == '\n')
				at++;
		if (!*l)
			break;
		const char *k = l;
		int export = 0;
		if (strncmp(k, "export", 6) == 0 && is_space((unsigned char)k[6])) {
			const char *k2 = k + 6;
			while (is_blank(*k2))
				k2++;
			if (is_word((unsigned char)*k2) || *k2 == '.')
				k = k2, export = 1;
		}
		const char *ke = k;
		while (is_word((unsigned char)*ke) || *ke == '.')
			ke++;
		const char *s = ke;
		while (is_blank(*s))
			s++;
		const char *v = NULL;
		if (ke > k && *s == '=')
			v = s + 1;
		else if (ke > k && *ke == ':' && is_blank(ke[1]))
			v = ke + 2;
		const char *after = v ? v : s;
		int bare = ke > k && !v && (*after == '\n' || *after == '\0' || *after == '#');
		if (!v && !bare) {
			const char *eol = strchr(l, '\n');
			if (*l != '#')
				skipped(d, at, "dotenv reads no KEY=value here");
			p = eol ? eol + 1 : l + strlen(l);
			line = at + 1;
			continue;
		}
		if (bare) {
			if (export && !lookup(d, k, (size_t)(ke - k), d->n)) {
				char *nm = xstrndup(k, (size_t)(ke - k));
				bad(d, at, "dotenv refuses the file: 'export %s' names a variable that is not set", nm);
				free(nm);
			} else if (!export)
				set_entry(d, k, (size_t)(ke - k), xstrdup(""), at, NULL);
			const char *eol = strchr(l, '\n');
			p = eol ? eol + 1 : l + strlen(l);
			line = at + 1;
			continue;
		}
		/* Quoted values in dotenv-rails: \s*'(\\'|[^'])*' — no backtracking to other quotes. */
		const char *end;
		int nl;
		char *raw;
		const char *q = v;
		while (is_space((unsigned char)*q) && *q != '\n')
			q++;
		if (*q == '\'' || *q == '"') {
			raw = node_value(v, &end, &nl);
		} else {
			const char *e = v;
			while (*e && *e != '#' && *e != '\n')
				e++;
			raw = xstrndup(v, (size_t)(e - v));
			while (*e && *e != '\n')
				e++;
			end = e;
			nl = 0;
		}
		const char *unpinned = NULL;
		char *value = ruby_value(d, raw, at, &unpinned);
		free(raw);
		if (value)
			set_entry(d, k, (size_t)(ke - k), value, at, unpinned);
		line = at + nl + 1;
		p = *end ? end + 1 : end;
	}
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
		parse_php(d, norm);
		break;
	case DOTENV_NODE:
		parse_node(d, norm);
		expand_node(d);
		break;
	case DOTENV_RUBY:
		parse_ruby(d, norm);
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
	for (size_t i = d->n; i-- > 0;)
		if (strcmp(d->v[i].key, key) == 0)
			return &d->v[i];
	return NULL;
}

void dotenv_free(struct dotenv *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].key);
		free(d->v[i].value);
		free(d->v[i].unpinned);
	}
	free(d->v);
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
