/* dotenv_php.c — .env as phpdotenv 5 reads it (Laravel): Lines (multi-line
 * values opened with =", comments, blank lines), EntryParser (name rules,
 * the value automaton) and Resolver (${NAME} at the marked '$', right to
 * left).  See dotenv.h. */
#include "model/dotenv_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/msg.h"

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
		const char *v = dv_lookup(d, s + i + 2, e - i - 2);
		if (!v)
			continue;   /* phpdotenv leaves an unknown ${NAME} as it is */
		size_t vl = strlen(v), sl = strlen(s);
		if (sl - (e + 1 - i) + vl > DOTENV_MAX_VALUE) {
			dv_too_large(d, line);
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
		dv_bad(d, line, "phpdotenv refuses the line: an unexpected '=' (no name before it)", NULL);
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
		dv_bad(d, line, "phpdotenv refuses the line: an invalid name (letters, digits, '_' and '.' only)", NULL);
		return;
	}
	size_t keylen = (size_t)(nend - name);
	if (!eq) {
		verbose("%s:%d: a name alone: phpdotenv unsets the variable", d->path, line);
		dv_unset_entry(d, name, keylen);
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
			dv_bad(d, line, "phpdotenv refuses the line: %s", err);
		else
			dv_too_large(d, line);
		sb_free(&chars);
		free(vars);
		return;
	}
	sb_addc(&chars, '\0');
	chars.len--;
	char *value = php_resolve(d, line, &chars, vars, nvars);
	free(vars);
	if (value)
		dv_set_entry(d, name, keylen, value, line, NULL);
}

void dv_parse_php(struct dotenv *d, const char *text)
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
				dv_bad(d, start, "phpdotenv drops the rest of the file: a double-quoted value is never closed", NULL);
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
