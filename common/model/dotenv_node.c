/* dotenv_node.c — .env as dotenv 16 parses it (its LINE expression: lines
 * it cannot match are skipped) and dotenv-expand 12 expands it (the
 * leftmost ${EXPR} or $NAME, again and again, bounded).  See dotenv.h. */
#include "model/dotenv_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The raw value as dotenv's LINE expression matches it at v (just after the
 * separator): a quoted value when one closes and only a comment follows,
 * else everything up to '#' or the end of the line.  *end gets where the
 * match ends. */
char *dv_node_value(const char *v, const char **end, int *nl)
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
			if (dv_rest_is_blank(cand + 1)) {
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
	return dv_unquoted_value(v, end);
}

static void node_unquote(char **value)
{
	char *s = *value;
	size_t n = dv_trim(s);
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

/* dotenv's key: letters, digits, '_', '.', '-'. */
static int node_key(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

void dv_parse_node(struct dotenv *d, const char *text)
{
	const char *p = text;
	int line = 1;
	while (*p) {
		struct dv_head h;
		dv_line_head(p, line, node_key, &h);
		if (!h.v) {
			if (*h.l && *h.l != '#')
				dv_skipped(d, h.at, "dotenv reads no KEY=value here");
			p = dv_next_line(h.l);
			line = h.at + 1;
			continue;
		}
		const char *end;
		int nl;
		char *value = dv_node_value(h.v, &end, &nl);
		node_unquote(&value);
		dv_set_entry(d, h.k, (size_t)(h.ke - h.k), value, h.at, NULL);
		line = h.at + nl;
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
			dv_too_large(d, line);
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
		const char *v = dv_lookup(d, name, nlen);
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

void dv_expand_node(struct dotenv *d)
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
