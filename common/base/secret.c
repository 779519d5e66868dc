/* secret.c — see secret.h
 * Masking errs on the side of hiding too much: a masked port is harmless, a
 * printed password is not.  While a string is being masked, one placeholder
 * byte stands for "****" so that quoting can tell inserted masks from text. */
#include "base/secret.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"

#define MASK '\001'
#define MASK_TEXT "****"

static int contains_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, needle, m) == 0)
			return 1;
	return 0;
}

static int ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	return n >= m && strncasecmp(s + n - m, suffix, m) == 0;
}

/* Does a key (option name, variable, keyword) name a secret? */
static int secret_key(const char *k, size_t n)
{
	return contains_ci(k, n, "password") || contains_ci(k, n, "passwd") ||
	       contains_ci(k, n, "secret") || contains_ci(k, n, "token") ||
	       (n == 3 && strncasecmp(k, "pwd", 3) == 0) || ends_with_ci(k, n, "_pwd");
}

/* scheme://user:password@host → the password masked, for every URL in s. */
static void mask_userinfo(const char *s, struct strbuf *out)
{
	const char *p = s;
	for (;;) {
		const char *sep = strstr(p, "://");
		if (!sep) {
			sb_adds(out, p);
			return;
		}
		const char *start = sep + 3;
		const char *end = start + strcspn(start, " \t\n?#");
		const char *at = NULL;
		for (const char *q = start; q < end; q++)
			if (*q == '@')
				at = q;
		const char *colon = at ? memchr(start, ':', (size_t)(at - start)) : NULL;
		if (colon && colon + 1 < at) {
			sb_add(out, p, (size_t)(colon + 1 - p));
			sb_addc(out, MASK);
			sb_add(out, at, (size_t)(end - at));
		} else {
			sb_add(out, p, (size_t)(end - p));
		}
		p = end;
	}
}

/* key=value pairs (libpq keyword strings, URL query parameters) whose key
 * names a secret: the value masked, quoted libpq values included. */
static void mask_keywords(const char *s, struct strbuf *out)
{
	size_t i = 0, n = strlen(s);
	while (i < n) {
		/* Only a word at a boundary can be a key: looking for one at
		 * every byte would be quadratic in a long word. */
		int boundary = i == 0 || strchr(" \t\n?&;,", s[i - 1]);
		size_t k = i;
		while (boundary && k < n && (isalnum((unsigned char)s[k]) || strchr("_.-", s[k])))
			k++;
		if (!boundary || k == i) {
			sb_addc(out, s[i]);
			i++;
			continue;
		}
		size_t e = k;
		while (e < n && (s[e] == ' ' || s[e] == '\t'))
			e++;
		if (e >= n || s[e] != '=' || !secret_key(s + i, k - i)) {
			sb_add(out, s + i, k - i);
			i = k;
			continue;
		}
		e++;
		while (e < n && (s[e] == ' ' || s[e] == '\t'))
			e++;
		sb_add(out, s + i, e - i);
		size_t v = e;
		if (v < n && s[v] == '\'') {
			for (v++; v < n && s[v] != '\''; v++)
				if (s[v] == '\\' && v + 1 < n)
					v++;
			if (v < n)
				v++;
		} else {
			while (v < n && !strchr(" \t\n&;", s[v]))
				v++;
		}
		if (v > e)
			sb_addc(out, MASK);
		i = v;
	}
}

/* Both maskings, placeholders left in. */
static char *mask_raw(const char *s)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	mask_userinfo(s, &a);
	mask_keywords(sb_str(&a), &b);
	sb_free(&a);
	if (!b.buf)
		return xstrdup("");
	return sb_detach(&b);
}

static void add_expanded(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == MASK)
			sb_adds(out, MASK_TEXT);
		else
			sb_addc(out, *s);
	}
}

char *mask_url(const char *s)
{
	if (!s)
		return NULL;
	char *raw = mask_raw(s);
	struct strbuf out = STRBUF_INIT;
	add_expanded(&out, raw);
	free(raw);
	return out.buf ? sb_detach(&out) : xstrdup("");
}

static int is_mysql_client(const char *word)
{
	static const char *const names[] = {
		"mysql", "mariadb", "mysqldump", "mariadb-dump", "mycli",
		"mysqladmin", "mariadb-admin", "mysqlimport", "mariadb-import",
		"mysqlcheck", "mariadb-check", "mysqlshow", "mariadb-show", NULL
	};
	const char *base = strrchr(word, '/');
	base = base ? base + 1 : word;
	for (int i = 0; names[i]; i++)
		if (strcmp(base, names[i]) == 0)
			return 1;
	return 0;
}

/* A long option whose next word is its secret value: --password X,
 * --db-password X, --api-token X (but not --no-password or --password-file). */
static int takes_secret_arg(const char *w)
{
	if (strncmp(w, "--", 2) != 0 || strchr(w, '=') || strncmp(w, "--no-", 5) == 0)
		return 0;
	size_t n = strlen(w);
	return ends_with_ci(w, n, "password") || ends_with_ci(w, n, "passwd") ||
	       ends_with_ci(w, n, "secret") || ends_with_ci(w, n, "token") ||
	       strcmp(w, "--pass") == 0;
}

/* NAME=VALUE with a shell variable name that names a secret. */
static size_t secret_assignment(const char *w)
{
	size_t n = 0;
	if (!(isalpha((unsigned char)w[0]) || w[0] == '_'))
		return 0;
	while (isalnum((unsigned char)w[n]) || w[n] == '_')
		n++;
	if (w[n] != '=')
		return 0;
	return secret_key(w, n) ? n + 1 : 0;
}

static char *mask_word(const char *w, int after_secret_opt, int mysql)
{
	struct strbuf sb = STRBUF_INIT;
	size_t keep;
	const char *eq;
	if (after_secret_opt && *w) {
		sb_addc(&sb, MASK);
	} else if (strncmp(w, "PWD=", 4) == 0) {
		/* the working directory, not ODBC's Pwd= keyword */
		char *rest = mask_raw(w + 4);
		sb_adds(&sb, "PWD=");
		sb_adds(&sb, rest);
		free(rest);
	} else if ((keep = secret_assignment(w)) > 0) {
		sb_add(&sb, w, keep);
		sb_addc(&sb, MASK);
	} else if (w[0] == '-' && (eq = strchr(w, '=')) && secret_key(w, (size_t)(eq - w))) {
		sb_add(&sb, w, (size_t)(eq - w) + 1);
		sb_addc(&sb, MASK);
	} else if (mysql && w[0] == '-' && w[1] == 'p' && w[2]) {
		sb_adds(&sb, "-p");
		sb_addc(&sb, MASK);
	} else {
		return mask_raw(w);
	}
	return sb_detach(&sb);
}

static int needs_quotes(const char *w)
{
	if (!*w)
		return 1;
	for (const char *p = w; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_-./:=@%+,^", *p) || *p == MASK))
			return 1;
	return 0;
}

char *mask_command(char *const argv[])
{
	struct strbuf out = STRBUF_INIT;
	int mysql = 0, after_secret_opt = 0;
	for (size_t i = 0; argv && argv[i]; i++) {
		/* The -pPASSWORD rule holds from a MySQL client onwards, so that
		 * `docker exec db mysql -pX` is masked too. */
		if (is_mysql_client(argv[i]))
			mysql = 1;
		char *w = mask_word(argv[i], after_secret_opt, mysql);
		after_secret_opt = takes_secret_arg(argv[i]);
		if (i > 0)
			sb_addc(&out, ' ');
		if (needs_quotes(w)) {
			sb_addc(&out, '\'');
			for (const char *p = w; *p; p++) {
				if (*p == '\'')
					sb_adds(&out, "'\\''");
				else if (*p == MASK)
					sb_adds(&out, MASK_TEXT);
				else
					sb_addc(&out, *p);
			}
			sb_addc(&out, '\'');
		} else {
			add_expanded(&out, w);
		}
		free(w);
	}
	return out.buf ? sb_detach(&out) : xstrdup("");
}
