/* dotenv_ruby.c — .env as bkeepers/dotenv (dotenv-rails) reads it: its
 * LINE expression, quote removal, unescaping, $(command) (which cannot be
 * pinned) and $VAR / ${VAR} substitution.  See dotenv.h. */
#include "model/dotenv_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	size_t n = dv_trim(s);
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
	struct xp x = { d, line, 0, *unpinned };
	struct strbuf out = STRBUF_INIT;
	const char *c = sb_str(&t);
	while (*c && !x.failed) {
		if (c[0] == '\\' && c[1] == '$') {
			dv_xp_add(&x, &out, "$", 1);
			c += 2;
			continue;
		}
		if (c[0] != '$' || c[1] == '(') {
			dv_xp_add(&x, &out, c++, 1);
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
			dv_xp_add(&x, &out, c, (size_t)(e - c));
		} else {
			const char *v = dv_xp_lookup(&x, name, nlen);
			if (v)
				dv_xp_add(&x, &out, v, strlen(v));
		}
		c = e;
	}
	sb_free(&t);
	*unpinned = x.unpinned;
	if (x.failed) {
		sb_free(&out);
		return NULL;
	}
	return sb_detach(&out);
}

/* dotenv-rails's key: letters, digits, '_', '.'. */
static int ruby_key(int c)
{
	return is_word(c) || c == '.';
}

void dv_parse_ruby(struct dotenv *d, const char *text)
{
	const char *p = text;
	int line = 1;
	while (*p) {
		struct dv_head h;
		dv_line_head(p, line, ruby_key, &h);
		if (!*h.l)
			break;
		const char *k = h.k, *ke = h.ke, *v = h.v;
		int at = h.at;
		const char *after = v ? v : h.s;
		int bare = ke > k && !v && (*after == '\n' || *after == '\0' || *after == '#');
		if (!v && !bare) {
			if (*h.l != '#')
				dv_skipped(d, at, "dotenv reads no KEY=value here");
			p = dv_next_line(h.l);
			line = at + 1;
			continue;
		}
		if (bare) {
			if (h.export && !dv_lookup(d, k, (size_t)(ke - k))) {
				char *nm = xstrndup(k, (size_t)(ke - k));
				dv_bad(d, at, "dotenv refuses the file: 'export %s' names a variable that is not set", nm);
				free(nm);
			} else if (!h.export)
				dv_set_entry(d, k, (size_t)(ke - k), xstrdup(""), at, NULL);
			p = dv_next_line(h.l);
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
			raw = dv_node_value(v, &end, &nl);
		} else {
			raw = dv_unquoted_value(v, &end);
			nl = 0;
		}
		const char *unpinned = NULL;
		char *value = ruby_value(d, raw, at, &unpinned);
		free(raw);
		if (value)
			dv_set_entry(d, k, (size_t)(ke - k), value, at, unpinned);
		line = at + nl + 1;
		p = *end ? end + 1 : end;
	}
}
