/* laravel.c — Laravel's configuration cache.  `php artisan
 * config:cache` writes bootstrap/cache/config.php as
 * "<?php return " . var_export($config, true) . ";" and, once it exists,
 * Laravel reads nothing else: not .env, not the environment's DB_*, not
 * phpunit.xml.  A test suite then runs against whatever database the cache
 * was built for.  We read exactly the literal syntax var_export writes. */
#include "resolve/framework.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/dburl.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/secret.h"
#include "base/xalloc.h"

enum { MAX_DEPTH = 128 };

struct php {
	const char *p;
	int line;
	char *err;
	size_t errlen;
	int failed;
};

static void *php_fail(struct php *ps, const char *fmt, ...)
{
	if (ps->failed)
		return NULL;
	ps->failed = 1;
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "line %d: %s", ps->line, what);
	return NULL;
}

static void php_ws(struct php *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') {
		if (*ps->p == '\n')
			ps->line++;
		ps->p++;
	}
}

static int php_word(struct php *ps, const char *w)
{
	size_t n = strlen(w);
	if (strncasecmp(ps->p, w, n) != 0 || isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_')
		return 0;
	ps->p += n;
	return 1;
}

static struct lit *lit_new(enum lit_kind kind, char *s, int line)
{
	struct lit *v = xcalloc(1, sizeof *v);
	v->kind = kind;
	v->s = s;
	v->line = line;
	return v;
}

/* One quoted piece: '...' (\\ and \' escapes) or "..." (var_export only
 * writes "\0" this way; the common escapes are taken, interpolation is not). */
static int php_quoted(struct php *ps, struct strbuf *sb)
{
	char q = *ps->p++;
	for (;;) {
		char c = *ps->p;
		if (c == '\0') {
			php_fail(ps, "unterminated string");
			return -1;
		}
		ps->p++;
		if (c == q)
			return 0;
		if (c == '\n')
			ps->line++;
		if (q == '"' && c == '$') {
			php_fail(ps, "a double-quoted string with '$' is not what var_export writes");
			return -1;
		}
		if (c != '\\') {
			sb_addc(sb, c);
			continue;
		}
		char e = *ps->p;
		if (q == '\'') {
			if (e == '\\' || e == '\'')
				ps->p++, sb_addc(sb, e);
			else
				sb_addc(sb, '\\');
			continue;
		}
		switch (e) {
		case '0': ps->p++; sb_addc(sb, '\0'); break;
		case 'n': ps->p++; sb_addc(sb, '\n'); break;
		case 't': ps->p++; sb_addc(sb, '\t'); break;
		case 'r': ps->p++; sb_addc(sb, '\r'); break;
		case '\\': case '"': case '$': ps->p++; sb_addc(sb, e); break;
		default: sb_addc(sb, '\\'); break;
		}
	}
}

/* A string, possibly var_export's concatenation around NUL bytes:
 * '' . "\0" . ''.  A value with a NUL byte is cut there (C strings). */
static struct lit *php_string(struct php *ps)
{
	int line = ps->line;
	struct strbuf sb = STRBUF_INIT;
	for (;;) {
		if (php_quoted(ps, &sb) < 0) {
			sb_free(&sb);
			return NULL;
		}
		const char *save = ps->p;
		int save_line = ps->line;
		php_ws(ps);
		if (*ps->p == '.') {
			ps->p++;
			php_ws(ps);
			if (*ps->p == '\'' || *ps->p == '"')
				continue;
			sb_free(&sb);
			return php_fail(ps, "expected a string after '.'");
		}
		ps->p = save;
		ps->line = save_line;
		break;
	}
	sb_addc(&sb, '\0');   /* make sure there is a buffer even for '' */
	char *s = sb_detach(&sb);
	return lit_new(LIT_STR, s, line);
}

static struct lit *php_value(struct php *ps, int depth);

/* array ( key => value, ... ) — the keys are ints or strings. */
static struct lit *php_array(struct php *ps, int depth, char close)
{
	struct lit *m = lit_new(LIT_MAP, NULL, ps->line);
	for (;;) {
		php_ws(ps);
		if (*ps->p == close) {
			ps->p++;
			return m;
		}
		char *key;
		if (*ps->p == '\'' || *ps->p == '"') {
			struct lit *k = php_string(ps);
			if (!k)
				goto bad;
			key = k->s;
			k->s = NULL;
			lit_free(k);
		} else if (*ps->p == '-' || isdigit((unsigned char)*ps->p)) {
			const char *s = ps->p;
			if (*ps->p == '-')
				ps->p++;
			if (!isdigit((unsigned char)*ps->p)) {
				php_fail(ps, "expected an array key");
				goto bad;
			}
			while (isdigit((unsigned char)*ps->p))
				ps->p++;
			key = xstrndup(s, (size_t)(ps->p - s));
		} else {
			php_fail(ps, *ps->p ? "expected an array key or ')'" : "unexpected end of file inside an array");
			goto bad;
		}
		m->keys = xrealloc(m->keys, (m->n + 1) * sizeof *m->keys);
		m->vals = xrealloc(m->vals, (m->n + 1) * sizeof *m->vals);
		m->keys[m->n] = key;
		m->vals[m->n] = NULL;
		m->n++;
		php_ws(ps);
		if (strncmp(ps->p, "=>", 2) != 0) {
			php_fail(ps, "expected '=>' after the key '%.40s'", key);
			goto bad;
		}
		ps->p += 2;
		php_ws(ps);
		if (!(m->vals[m->n - 1] = php_value(ps, depth + 1)))
			goto bad;
		php_ws(ps);
		if (*ps->p == ',')
			ps->p++;
		else if (*ps->p != close) {
			php_fail(ps, "expected ',' or '%c' after a value", close);
			goto bad;
		}
	}
bad:
	lit_free(m);
	return NULL;
}

static struct lit *php_array_open(struct php *ps, int depth)
{
	if (*ps->p == '[') {
		ps->p++;
		return php_array(ps, depth, ']');
	}
	if (!php_word(ps, "array"))
		return php_fail(ps, "expected 'array ('");
	php_ws(ps);
	if (*ps->p != '(')
		return php_fail(ps, "expected '(' after 'array'");
	ps->p++;
	return php_array(ps, depth, ')');
}

static struct lit *php_value(struct php *ps, int depth)
{
	if (depth > MAX_DEPTH)
		return php_fail(ps, "arrays nested deeper than %d", MAX_DEPTH);
	int line = ps->line;
	char c = *ps->p;
	if (c == '\'' || c == '"')
		return php_string(ps);
	if (c == 'a' || c == 'A' || c == '[')
		return php_array_open(ps, depth);
	if (c == '-' || isdigit((unsigned char)c)) {
		const char *s = ps->p;
		if (*ps->p == '-')
			ps->p++;
		if (php_word(ps, "INF"))
			return lit_new(LIT_NUM, xstrndup(s, (size_t)(ps->p - s)), line);
		if (!isdigit((unsigned char)*ps->p))
			return php_fail(ps, "expected a number after '-'");
		while (isalnum((unsigned char)*ps->p) || *ps->p == '.' ||
		       ((*ps->p == '+' || *ps->p == '-') && (ps->p[-1] == 'E' || ps->p[-1] == 'e')))
			ps->p++;
		/* PHP_INT_MIN is written as -9223372036854775807-1 */
		if (*ps->p == '-' && isdigit((unsigned char)ps->p[1]))
			for (ps->p++; isdigit((unsigned char)*ps->p); ps->p++)
				;
		return lit_new(LIT_NUM, xstrndup(s, (size_t)(ps->p - s)), line);
	}
	if (php_word(ps, "NULL"))
		return lit_new(LIT_NULL, NULL, line);
	if (php_word(ps, "true"))
		return lit_new(LIT_BOOL, xstrdup("true"), line);
	if (php_word(ps, "false"))
		return lit_new(LIT_BOOL, xstrdup("false"), line);
	if (php_word(ps, "NAN") || php_word(ps, "INF"))
		return lit_new(LIT_NUM, xstrndup(ps->p - 3, 3), line);
	if (c == '(') {
		/* (object) array(...): a stdClass */
		ps->p++;
		php_ws(ps);
		if (!php_word(ps, "object"))
			return php_fail(ps, "expected '(object)'");
		php_ws(ps);
		if (*ps->p != ')')
			return php_fail(ps, "expected ')' after '(object'");
		ps->p++;
		php_ws(ps);
		struct lit *a = php_array_open(ps, depth);
		if (!a)
			return NULL;
		lit_free(a);
		return lit_new(LIT_OPAQUE, xstrdup("(object)"), line);
	}
	if (c == '\\') {
		/* \Class::__set_state(array(...)) or an enum case \Class::Case */
		const char *s = ps->p;
		while (*ps->p == '\\' || isalnum((unsigned char)*ps->p) || *ps->p == '_')
			ps->p++;
		if (strncmp(ps->p, "::", 2) != 0)
			return php_fail(ps, "expected '::' after a class name");
		char *cls = xstrndup(s, (size_t)(ps->p - s));
		ps->p += 2;
		if (php_word(ps, "__set_state")) {
			php_ws(ps);
			if (*ps->p != '(') {
				free(cls);
				return php_fail(ps, "expected '(' after '__set_state'");
			}
			ps->p++;
			php_ws(ps);
			struct lit *a = php_array_open(ps, depth);
			if (!a) {
				free(cls);
				return NULL;
			}
			lit_free(a);
			php_ws(ps);
			if (*ps->p != ')') {
				free(cls);
				return php_fail(ps, "expected ')' after the state of an object");
			}
			ps->p++;
		} else {
			if (!isalpha((unsigned char)*ps->p) && *ps->p != '_') {
				free(cls);
				return php_fail(ps, "expected a name after '::'");
			}
			while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
				ps->p++;
		}
		return lit_new(LIT_OPAQUE, cls, line);
	}
	if (!c)
		return php_fail(ps, "unexpected end of file");
	return php_fail(ps, "unexpected '%c': not a value var_export writes", c);
}

struct lit *phpvar_parse(const char *text, char *err, size_t errlen)
{
	struct php ps = { text, 1, err, errlen, 0 };
	if (strncmp(ps.p, "\xEF\xBB\xBF", 3) == 0)
		ps.p += 3;
	if (strncmp(ps.p, "<?php", 5) != 0 || !isspace((unsigned char)ps.p[5]))
		return php_fail(&ps, "expected '<?php' at the start");
	ps.p += 5;
	php_ws(&ps);
	if (!php_word(&ps, "return"))
		return php_fail(&ps, "expected 'return'");
	php_ws(&ps);
	struct lit *v = php_value(&ps, 0);
	if (!v)
		return NULL;
	php_ws(&ps);
	if (*ps.p != ';') {
		lit_free(v);
		return php_fail(&ps, "expected ';' after the array");
	}
	ps.p++;
	php_ws(&ps);
	if (*ps.p) {
		lit_free(v);
		return php_fail(&ps, "unexpected text after the array");
	}
	if (v->kind != LIT_MAP) {
		lit_free(v);
		return php_fail(&ps, "the file does not return an array");
	}
	return v;
}

/* ---- the cache as a source ---- */

/* The connection's value for key as text: strings and numbers (port 3306). */
static void set_lit(struct target *t, enum tfield f, const struct lit *conn, const char *name, const char *key,
                    const char *path)
{
	const struct lit *v = lit_get(conn, key);
	const char *s = lit_text(v);
	if (!s || !*s)
		return;
	char *src = xasprintf("%s:%d connections.%s.%s", path, v->line, name, key);
	target_set(t, f, s, src);
	free(src);
}

/* Hosts of a connection: 'host' (a string or a list), and Laravel's
 * read/write split ('read' => ['host' => [...]], 'write' => ...). */
static void collect_hosts(const struct lit *conn, const char *path, const char *name, const char *prefix,
                          struct strvec *hosts, struct strvec *srcs)
{
	const struct lit *h = lit_get(conn, "host");
	if (lit_text(h) && *lit_text(h)) {
		sv_push(hosts, lit_text(h));
		sv_pushf(srcs, "%s:%d connections.%s.%shost", path, h->line, name, prefix);
	} else if (h && h->kind == LIT_MAP) {
		for (size_t i = 0; i < h->n; i++)
			if (lit_text(h->vals[i]) && *lit_text(h->vals[i])) {
				sv_push(hosts, lit_text(h->vals[i]));
				sv_pushf(srcs, "%s:%d connections.%s.%shost", path, h->vals[i]->line, name, prefix);
			}
	}
}

static void add_connection(struct run *r, const struct lit *config, const char *path, const char *name,
                           const struct lit *conn, const char *note)
{
	struct target base;
	memset(&base, 0, sizeof base);
	char *src = NULL;
	const struct lit *drv = lit_get(conn, "driver");
	const char *driver = lit_text(drv);
	if (driver) {
		const char *engine = engine_from_driver(driver);
		src = xasprintf("%s:%d connections.%s.driver", path, drv->line, name);
		target_set(&base, TF_ENGINE, engine ? engine : driver, src);
		free(src);
		if (!engine)
			warn("%s:%d: driver '%s' is not an engine dbguard knows (pgsql, mysql, mariadb, sqlite)", path,
			     drv->line, driver);
	}
	set_lit(&base, TF_PORT, conn, name, "port", path);
	set_lit(&base, TF_DATABASE, conn, name, "database", path);
	set_lit(&base, TF_USER, conn, name, "username", path);
	set_lit(&base, TF_PASSWORD, conn, name, "password", path);
	set_lit(&base, TF_HOST, conn, name, "unix_socket", path);
	const struct lit *url = lit_get(conn, "url");
	if (lit_text(url) && *lit_text(url)) {
		/* Laravel's ConfigurationUrlParser: what the URL says wins. */
		char *usrc = xasprintf("%s:%d connections.%s.url", path, url->line, name);
		char err[256];
		if (dburl_parse(lit_text(url), &base, usrc, err, sizeof err) < 0) {
			error("%s: %s", usrc, err);
			r->list->config_errors++;
		}
		free(usrc);
	}

	struct strvec hosts = STRVEC_INIT, srcs = STRVEC_INIT;
	if (!target_get(&base, TF_HOST)) {
		collect_hosts(conn, path, name, "", &hosts, &srcs);
		collect_hosts(lit_get(conn, "write"), path, name, "write.", &hosts, &srcs);
		collect_hosts(lit_get(conn, "read"), path, name, "read.", &hosts, &srcs);
	}
	size_t nh = hosts.n ? hosts.n : 1;
	for (size_t i = 0; i < nh; i++) {
		struct target t;
		target_copy(&t, &base);
		if (hosts.n)
			target_set(&t, TF_HOST, hosts.v[i], srcs.v[i]);
		/* The environment name the cache was built for: app.env. */
		const struct lit *env = lit_get(lit_get(config, "app"), "env");
		if (lit_text(env)) {
			t.envname = xstrdup(lit_text(env));
			t.envname_src = xasprintf("%s:%d app.env", path, env->line);
		}
		t.origin = xstrdup(path);
		char *says = target_says(&t);
		char *s2 = xasprintf("database.default=%s: %s", name, says);
		run_add_target(r, &t, path, s2, note);
		free(s2);
		free(says);
	}
	sv_free(&hosts);
	sv_free(&srcs);
	target_free(&base);
}

void laravel_config_cache(struct run *r, const struct dotenv *phpunit_forced, const struct dotenv *phpunit_normal,
                          int *found)
{
	*found = 0;
	/* APP_CONFIG_CACHE moves the cache (Laravel's normalizeCachePath); it
	 * is read before .env is, so only the environment and PHPUnit count. */
	char *where = NULL;
	const char *custom = run_getenv(r, "APP_CONFIG_CACHE", 0, &where);
	const struct dotenv_entry *pe = phpunit_forced ? dotenv_get(phpunit_forced, "APP_CONFIG_CACHE") : NULL;
	if (!pe && !custom && phpunit_normal)
		pe = dotenv_get(phpunit_normal, "APP_CONFIG_CACHE");
	if (pe)
		custom = pe->value;
	char *path = custom && *custom ? run_path(r, custom) : run_path(r, "bootstrap/cache/config.php");
	free(where);
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		if (errno != ENOENT && errno != ENOTDIR) {
			error("cannot read '%s': %s; Laravel reads its database from it, so that database is unknown", path,
			      strerror(errno));
			r->list->config_errors++;
			run_add_unreadable(r, path, "(unreadable)", "Laravel's configuration cache cannot be read");
			*found = 1;
		}
		free(path);
		return;
	}
	*found = 1;
	char *fix = xasprintf("Laravel reads this cache and ignores .env and the environment's DB_* settings; "
	                      "clear it with 'php artisan config:clear'");
	warn("Laravel's configuration cache '%s' is in force: Laravel ignores .env and DB_* variables while it exists; "
	     "run 'php artisan config:clear' to clear it", path);
	char err[256];
	struct lit *config = memchr(text, '\0', len) ? NULL : phpvar_parse(text, err, sizeof err);
	if (!config) {
		if (memchr(text, '\0', len))
			snprintf(err, sizeof err, "contains a NUL byte");
		error("%s: %s; not the configuration cache Laravel writes, so its database is unknown", path, err);
		r->list->config_errors++;
		run_add_unreadable(r, path, "(malformed)", fix);
		goto out;
	}
	const struct lit *db = lit_get(config, "database");
	const struct lit *def = lit_get(db, "default");
	const struct lit *conns = lit_get(db, "connections");
	const char *name = lit_text(def);
	const struct lit *conn = name ? lit_get(conns, name) : NULL;
	if (!db || !conn || conn->kind != LIT_MAP) {
		struct target t;
		memset(&t, 0, sizeof t);
		t.unreadable = 1;
		t.origin = xstrdup(path);
		char *says = !db ? xstrdup("no 'database' configuration")
		           : !name ? xstrdup("database.default is not a connection name")
		                   : xasprintf("database.default=%s names no connection", name);
		warn("%s: %s; the database Laravel will use is unknown", path, says);
		run_add_target(r, &t, path, says, fix);
		free(says);
		goto done;
	}
	add_connection(r, config, path, name, conn, fix);
done:
	lit_free(config);
out:
	free(fix);
	free(text);
	free(path);
}

/* ---- DB_URL as Laravel's ConfigurationUrlParser reads it ---- */

int laravel_url_parse(const char *url, struct target *t, const char *source, char *err, size_t errlen)
{
	/* sqlite:///x is rewritten to sqlite://null/x and the path loses its
	 * first '/': sqlite:///db.sqlite is the relative db.sqlite,
	 * sqlite:////abs/db.sqlite the absolute /abs/db.sqlite. */
	size_t skip = !strncasecmp(url, "sqlite://", 9) ? 9 : !strncasecmp(url, "sqlite3://", 10) ? 10 : 0;
	if (skip || !strncasecmp(url, "sqlite:", 7) || !strncasecmp(url, "sqlite3:", 8)) {
		target_set(t, TF_ENGINE, "sqlite", source);
		const char *path = skip ? url + skip + strcspn(url + skip, "/?#") : strchr(url, ':') + 1;
		size_t n = strcspn(path, "?#");
		if (n > 1) {
			char *db = xstrndup(path + 1, n - 1);
			target_set(t, TF_DATABASE, db, source);
			free(db);
		}
		return 0;
	}
	if (dburl_parse(url, t, source, err, errlen) < 0)
		return -1;
	/* Each part goes through json_decode: "null" is no value, so the
	 * DB_* setting stays. */
	for (int f = 0; f < TF_COUNT; f++)
		if (t->val[f] && !strcmp(t->val[f], "null")) {
			free(t->val[f]);
			free(t->src[f]);
			t->val[f] = t->src[f] = NULL;
		}
	return 0;
}
