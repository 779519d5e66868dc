/* dotenv.c — .env parsing as phpdotenv / dotenv / python-dotenv read it (see
 * dotenv.h).  A malformed line is reported and skipped; the rest still counts,
 * because a half-read file must not hide a production database. */
#include "model/dotenv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

struct parser {
	struct dotenv *d;
	const char *p;     /* current position */
	int line;          /* line of *p */
};

static void bad(struct parser *ps, int line, const char *what, const char *detail)
{
	error("%s:%d: %s%s%s", ps->d->path, line, what, detail ? " " : "", detail ? detail : "");
	ps->d->errors++;
}

static const char *lookup(struct dotenv *d, const char *name, size_t n)
{
	char *key = xstrndup(name, n);
	const char *v = getenv(key);
	if (!v) {
		const struct dotenv_entry *e = dotenv_get(d, key);
		v = e ? e->value : NULL;
	}
	free(key);
	return v;
}

/* Expand $VAR, ${VAR} and ${VAR:-default} at s (pointing at '$'); returns
 * the number of bytes consumed, appending the value to out. */
static size_t expand(struct dotenv *d, const char *s, struct strbuf *out)
{
	if (s[1] == '{') {
		const char *name = s + 2, *e = name;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		const char *close = strchr(e, '}');
		if (e == name || !close || (*e != '}' && strncmp(e, ":-", 2) != 0)) {
			sb_addc(out, '$');
			return 1;
		}
		const char *v = lookup(d, name, (size_t)(e - name));
		if ((!v || !*v) && *e == ':')
			sb_add(out, e + 2, (size_t)(close - e - 2));
		else if (v)
			sb_adds(out, v);
		return (size_t)(close - s) + 1;
	}
	const char *name = s + 1, *e = name;
	while (isalnum((unsigned char)*e) || *e == '_')
		e++;
	if (e == name || isdigit((unsigned char)*name)) {
		sb_addc(out, '$');
		return 1;
	}
	const char *v = lookup(d, name, (size_t)(e - name));
	if (v)
		sb_adds(out, v);
	return (size_t)(e - s);
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
static int rest_is_blank(struct parser *ps)
{
	const char *q = ps->p;
	while (*q == ' ' || *q == '\t' || *q == '\r')
		q++;
	return *q == '\0' || *q == '\n' || *q == '#';
}

static void set_entry(struct dotenv *d, const char *key, size_t keylen, char *value, int line)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
	d->v[d->n++] = (struct dotenv_entry){ xstrndup(key, keylen), value, line };
}

static void parse_line(struct parser *ps)
{
	const char *p = ps->p;
	int line = ps->line;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\n' || *p == '\0' || *p == '#' || (*p == '\r' && (p[1] == '\n' || !p[1]))) {
		ps->p = p;
		skip_to_next_line(ps);
		return;
	}
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	const char *key = p;
	if (isalpha((unsigned char)*p) || *p == '_')
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
			p++;
	size_t keylen = (size_t)(p - key);
	while (*p == ' ' || *p == '\t')
		p++;
	if (keylen == 0 || *p != '=') {
		const char *eol = strchr(key, '\n');
		size_t n = eol ? (size_t)(eol - key) : strlen(key);
		if (n && key[n - 1] == '\r')
			n--;
		char *text = xstrndup(key, n > 60 ? 60 : n);
		if (keylen == 0)
			bad(ps, line, "expected KEY=value, got", text);
		else if (memchr(key, '=', n))
			bad(ps, line, "invalid variable name in", text);
		else
			bad(ps, line, "missing '=' in", text);
		free(text);
		ps->p = key;
		skip_to_next_line(ps);
		return;
	}
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	struct strbuf val = STRBUF_INIT;
	if (*p == '\'' || *p == '"') {
		char quote = *p++;
		int ok = 0;
		while (*p) {
			if (*p == quote) {
				ok = 1;
				p++;
				break;
			}
			if (*p == '\n')
				ps->line++;
			if (quote == '"' && *p == '\\' && p[1]) {
				char c = p[1];
				sb_addc(&val, c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c);
				if (c != 'n' && c != 't' && c != 'r' && c != '"' && c != '\\' && c != '$' && c != '\'')
					val.buf[val.len - 1] = '\\', sb_addc(&val, c);
				p += 2;
				continue;
			}
			if (quote == '"' && *p == '$') {
				p += expand(ps->d, p, &val);
				continue;
			}
			if (*p == '\r' && p[1] == '\n') {
				p++;
				continue;
			}
			sb_addc(&val, *p++);
		}
		if (!ok) {
			bad(ps, line, quote == '"' ? "unterminated double-quoted value" : "unterminated single-quoted value", NULL);
			sb_free(&val);
			ps->line = line;
			ps->p = key;
			skip_to_next_line(ps);
			return;
		}
		ps->p = p;
		if (!rest_is_blank(ps)) {
			bad(ps, line, "unexpected text after the closing quote", NULL);
			sb_free(&val);
			skip_to_next_line(ps);
			return;
		}
	} else {
		while (*p && *p != '\n') {
			if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t'))
				break;
			if (*p == '$') {
				p += expand(ps->d, p, &val);
				continue;
			}
			sb_addc(&val, *p++);
		}
		while (val.len && (val.buf[val.len - 1] == ' ' || val.buf[val.len - 1] == '\t' || val.buf[val.len - 1] == '\r'))
			val.buf[--val.len] = '\0';
		ps->p = p;
	}
	set_entry(ps->d, key, keylen, sb_detach(&val), line);
	skip_to_next_line(ps);
}

int dotenv_load(const char *path, struct dotenv *d)
{
	memset(d, 0, sizeof *d);
	size_t len;
	char *text = read_file(path, &len);
	if (!text)
		return -1;
	d->path = xstrdup(path);
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH))
		warn("'%s' is writable by others, so anyone on this machine can redirect your database; fix with: chmod o-w '%s'",
		     path, path);
	if (memchr(text, '\0', len))
		error("%s: contains a NUL byte; reading only the text before it", path), d->errors++;
	struct parser ps = { d, text, 1 };
	if (strncmp(ps.p, "\xEF\xBB\xBF", 3) == 0)
		ps.p += 3;
	while (*ps.p)
		parse_line(&ps);
	free(text);
	return 0;
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
	}
	free(d->v);
	free(d->path);
	memset(d, 0, sizeof *d);
}
