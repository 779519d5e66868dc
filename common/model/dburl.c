/* dburl.c — database URLs (postgres://, mysql://, sqlite:, file:, bare
 * paths) and libpq keyword=value strings into targets (see dburl.h). */
#include "model/dburl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"

static const struct { const char *word, *engine; } drivers[] = {
	{ "postgres", "postgres" }, { "postgresql", "postgres" }, { "pgsql", "postgres" },
	{ "postgis", "postgres" }, { "pg", "postgres" }, { "psql", "postgres" },
	{ "mysql", "mysql" }, { "mysql2", "mysql" }, { "mariadb", "mysql" },
	{ "mysqli", "mysql" }, { "trilogy", "mysql" }, { "mysqlgis", "mysql" },
	{ "sqlite", "sqlite" }, { "sqlite3", "sqlite" }, { "spatialite", "sqlite" },
	{ "mysql-connector", "mysql" }, { "mysqlconnector", "mysql" }, { "timescale", "postgres" },
	{ "timescalegis", "postgres" },
};

/* Schemes of databases that speak another engine's protocol but are not
 * that engine: parsed, reported, and classed unknown. */
static const char *const foreign[] = { "cockroach", "cockroachdb", "redshift", "yugabyte", "yugabytedb", NULL };

const char *engine_from_driver(const char *word)
{
	if (!word)
		return NULL;
	/* Django: "django.db.backends.postgresql" */
	const char *dot = strrchr(word, '.');
	if (dot && strncmp(word, "django.", 7) == 0)
		word = dot + 1;
	for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
		if (strcasecmp(word, drivers[i].word) == 0)
			return drivers[i].engine;
	return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n); NULL when an escape is malformed or a NUL byte. */
static char *pct_decode(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				sb_free(&sb);
				return NULL;
			}
			sb_addc(&sb, (char)(h * 16 + l));
			i += 2;
		} else {
			sb_addc(&sb, s[i]);
		}
	}
	return sb_detach(&sb);
}

static int valid_port(const char *s);

/* "5432" or libpq's "5432,5433" (an empty item is the default port). */
static int valid_ports(const char *s)
{
	char *copy = xstrdup(s);
	int ok = *s != '\0';
	for (char *p = copy, *c; ok && p; p = c ? c + 1 : NULL) {
		c = strchr(p, ',');
		if (c)
			*c = '\0';
		ok = !*p || valid_port(p);
	}
	free(copy);
	return ok;
}

static int valid_port(const char *s)
{
	if (!*s || strlen(s) > 5)
		return 0;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	long n = strtol(s, NULL, 10);
	return n >= 1 && n <= 65535;
}

static int set_decoded(struct target *t, enum tfield f, const char *s, size_t n, const char *source,
                       char *err, size_t errlen)
{
	char *v = pct_decode(s, n);
	if (!v)
		return fail(err, errlen, "malformed percent-escape or an encoded NUL byte (%%00) in the %s of the URL",
		            tfield_name(f));
	if (*v)
		target_set(t, f, v, source);
	free(v);
	return 0;
}

static int parse_sqlite(const char *rest, struct target *t, const char *source, char *err, size_t errlen)
{
	/* rest is what follows "sqlite:" / "file:"; drop any ?query. */
	char *path = xstrdup(rest);
	char *q = strchr(path, '?');
	if (q)
		*q = '\0';
	const char *p = path;
	if (strncmp(p, "//", 2) == 0)
		p += 2;   /* sqlite:///abs -> /abs ; sqlite://rel -> rel */
	if (!*p) {
		free(path);
		return fail(err, errlen, "a SQLite URL with no file path (use sqlite:///path/to/file or sqlite::memory:)");
	}
	target_set(t, TF_ENGINE, "sqlite", source);
	target_set(t, TF_DATABASE, p, source);
	free(path);
	return 0;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcasecmp(s + n - m, suf) == 0;
}

/* libpq "host=h port=5432 dbname='my db' user=u password=x" */
static void service_unknown(struct target *t, const char *name, const char *how);

static int parse_keywords(const char *s, struct target *t, const char *source, char *err, size_t errlen)
{
	target_set(t, TF_ENGINE, "postgres", source);
	char *hostaddr = NULL;
	const char *p = s;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *k = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		size_t klen = (size_t)(p - k);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=' || klen == 0) {
			free(hostaddr);
			return fail(err, errlen, "malformed connection string: expected keyword=value");
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;
		struct strbuf v = STRBUF_INIT;
		if (*p == '\'') {
			p++;
			while (*p && *p != '\'') {
				if (*p == '\\' && p[1])
					p++;
				sb_addc(&v, *p++);
			}
			if (*p != '\'') {
				sb_free(&v);
				free(hostaddr);
				return fail(err, errlen, "malformed connection string: unterminated quote");
			}
			p++;
		} else {
			while (*p && !isspace((unsigned char)*p)) {
				if (*p == '\\' && p[1])
					p++;
				sb_addc(&v, *p++);
			}
		}
		char *key = xstrndup(k, klen);
		const char *val = sb_str(&v);
		enum tfield f = TF_COUNT;
		if (!strcmp(key, "host"))
			f = TF_HOST;
		else if (!strcmp(key, "port"))
			f = TF_PORT;
		else if (!strcmp(key, "dbname"))
			f = TF_DATABASE;
		else if (!strcmp(key, "user"))
			f = TF_USER;
		else if (!strcmp(key, "password"))
			f = TF_PASSWORD;
		else if (!strcmp(key, "hostaddr") && *val) {
			free(hostaddr);
			hostaddr = xstrdup(val);
		}
		else if (!strcmp(key, "service"))
			service_unknown(t, val, "service");
		if (f == TF_PORT && !valid_ports(val)) {
			free(key);
			sb_free(&v);
			free(hostaddr);
			return fail(err, errlen, "invalid port in the connection string (a number from 1 to 65535)");
		}
		if (f != TF_COUNT && *val)
			target_set(t, f, val, source);
		free(key);
		sb_free(&v);
	}
	/* libpq connects to hostaddr; host then only names the server. */
	if (hostaddr)
		target_set(t, TF_HOST, hostaddr, source);
	free(hostaddr);
	return 0;
}

static void service_unknown(struct target *t, const char *name, const char *how)
{
	t->unreadable = 1;
	free(t->unpinned);
	t->unpinned = xasprintf("%s=%s: the host and database come from a pg_service.conf entry dbguard does not read",
	                        how, name);
}

static int parse_query(const char *q, struct target *t, const char *source, char *err, size_t errlen)
{
	char *copy = xstrdup(q);
	char *hostaddr = NULL;
	int rc = 0;
	for (char *save = NULL, *kv = strtok_r(copy, "&", &save); kv && rc == 0; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *val = pct_decode(eq + 1, strlen(eq + 1));
		char *name = pct_decode(kv, strlen(kv));   /* libpq decodes parameter names too */
		if (!val || !name) {
			rc = fail(err, errlen, "malformed percent-escape or an encoded NUL byte (%%00) in a URL parameter");
			free(val);
			free(name);
			break;
		}
		kv = name;
		if (!strcmp(kv, "host") || !strcmp(kv, "socket") || !strcmp(kv, "unix_socket"))
			target_set(t, TF_HOST, val, source);
		else if (!strcmp(kv, "port")) {
			if (!valid_ports(val))
				rc = fail(err, errlen, "invalid port in the URL parameter 'port' (a number from 1 to 65535)");
			else
				target_set(t, TF_PORT, val, source);
		} else if (!strcmp(kv, "user"))
			target_set(t, TF_USER, val, source);
		else if (!strcmp(kv, "password"))
			target_set(t, TF_PASSWORD, val, source);
		else if (!strcmp(kv, "dbname") || !strcmp(kv, "database"))
			target_set(t, TF_DATABASE, val, source);
		else if (!strcmp(kv, "hostaddr")) {
			free(hostaddr);
			hostaddr = xstrdup(val);
		}
		else if (!strcmp(kv, "service"))
			service_unknown(t, val, "service");
		free(val);
		free(name);
	}
	/* libpq connects to hostaddr (host then only names the server for
	 * authentication): where it connects is what counts. */
	if (hostaddr && *hostaddr && rc == 0)
		target_set(t, TF_HOST, hostaddr, source);
	free(hostaddr);
	free(copy);
	return rc;
}

/* The engine of a URL's scheme (its first slen bytes): dbguard's engines, a
 * foreign one (classed unknown), else NULL after fail(). */
static const char *scheme_engine(const char *url, size_t slen, char *err, size_t errlen)
{
	char *scheme = xstrndup(url, slen);
	char *plus = strchr(scheme, '+');   /* "postgresql+psycopg2" (SQLAlchemy) */
	if (plus)
		*plus = '\0';
	const char *engine = engine_from_driver(scheme);
	for (const char *const *f = foreign; !engine && *f; f++)
		if (!strcasecmp(scheme, *f))
			engine = *f;   /* classed unknown: not an engine dbguard knows */
	if (!engine)
		fail(err, errlen, "unsupported URL scheme '%s://' (expected postgres, postgresql, mysql, mariadb, sqlite)", scheme);
	free(scheme);
	return engine;
}

/* The host part p..auth_end: libpq's host[:port] items separated by ',',
 * each decoded and checked, into TF_HOST and TF_PORT.  0, or -1 after fail(). */
static int parse_hosts(const char *p, const char *auth_end, struct target *t, const char *source, char *err,
                       size_t errlen)
{
	struct strbuf hosts = STRBUF_INIT, ports = STRBUF_INIT;
	int nports = 0, nhosts = 0;
	for (const char *h = p; h <= auth_end; nhosts++) {
		const char *item_end = h;
		if (*h == '[') {
			const char *close = memchr(h, ']', (size_t)(auth_end - h));
			if (!close) {
				sb_free(&hosts), sb_free(&ports);
				return fail(err, errlen, "unterminated '[' in the host of the URL");
			}
			item_end = close + 1;
		}
		while (item_end < auth_end && *item_end != ',')
			item_end++;
		const char *hs = h, *he = item_end, *port = NULL;
		if (*h == '[') {
			hs = h + 1;
			he = memchr(h, ']', (size_t)(item_end - h));
			if (he + 1 < item_end) {
				if (he[1] != ':') {
					sb_free(&hosts), sb_free(&ports);
					return fail(err, errlen, "unexpected text after ']' in the URL");
				}
				port = he + 2;
			}
		} else {
			const char *colon = memchr(h, ':', (size_t)(item_end - h));
			if (colon)
				he = colon, port = colon + 1;
		}
		char *host = pct_decode(hs, (size_t)(he - hs));
		if (!host || strlen(host) > 255) {
			sb_free(&hosts), sb_free(&ports);
			int r = fail(err, errlen, host ? "a host name in the URL is longer than 255 bytes"
			                              : "malformed percent-escape or an encoded NUL byte (%%00) in the host of the URL");
			free(host);
			return r;
		}
		if (port && !*host) {
			free(host);
			sb_free(&hosts), sb_free(&ports);
			return fail(err, errlen, "empty host before ':' in the URL");
		}
		sb_addf(&hosts, "%s%s", nhosts ? "," : "", host);
		free(host);
		if (port) {
			char *ps = xstrndup(port, (size_t)(item_end - port));
			if (*ps && !valid_port(ps)) {
				free(ps);
				sb_free(&hosts), sb_free(&ports);
				return fail(err, errlen, "invalid port in the URL (a number from 1 to 65535; "
				                         "a password with '/', '?', '#' or '@' must be percent-encoded)");
			}
			sb_addf(&ports, "%s%s", nhosts ? "," : "", ps);
			nports += *ps != '\0';
			free(ps);
		} else if (nhosts) {
			sb_addc(&ports, ',');
		}
		h = item_end + 1;
	}
	if (nhosts > 1 && strcmp(target_get(t, TF_ENGINE), "postgres")) {
		sb_free(&hosts), sb_free(&ports);
		return fail(err, errlen, "several hosts in a URL are a libpq feature; %s takes one", target_get(t, TF_ENGINE));
	}
	if (hosts.len && strspn(sb_str(&hosts), ",") != hosts.len)
		target_set(t, TF_HOST, sb_str(&hosts), source);
	if (nports)
		target_set(t, TF_PORT, sb_str(&ports), source);
	sb_free(&hosts);
	sb_free(&ports);
	return 0;
}

int dburl_parse(const char *url, struct target *t, const char *source, char *err, size_t errlen)
{
	while (isspace((unsigned char)*url))
		url++;
	if (!*url)
		return fail(err, errlen, "empty database URL");
	if (strncmp(url, "sqlite:", 7) == 0 || strncmp(url, "sqlite3:", 8) == 0)
		return parse_sqlite(strchr(url, ':') + 1, t, source, err, errlen);
	if (strncmp(url, "file:", 5) == 0)
		return parse_sqlite(url + 5, t, source, err, errlen);
	const char *sep = strstr(url, "://");
	if (!sep) {
		if (strchr(url, '=') )
			return parse_keywords(url, t, source, err, errlen);
		if (has_suffix(url, ".sqlite") || has_suffix(url, ".sqlite3") || has_suffix(url, ".db")) {
			target_set(t, TF_ENGINE, "sqlite", source);
			target_set(t, TF_DATABASE, url, source);
			return 0;
		}
		return fail(err, errlen, "not a database URL (expected scheme://..., sqlite:path, or key=value)");
	}
	/* A scheme is letters, digits, '+', '-' and '.': anything else before
	 * "://" is not one (and may be a password: it is never quoted). */
	size_t slen = (size_t)(sep - url);
	if (!slen || slen > 40 || !isalpha((unsigned char)url[0]) || strspn(url, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") < slen)
		return fail(err, errlen, "not a database URL (expected scheme://..., sqlite:path, or key=value)");
	const char *engine = scheme_engine(url, slen, err, errlen);
	if (!engine)
		return -1;
	if (!strcmp(engine, "sqlite"))
		return parse_sqlite(sep + 1, t, source, err, errlen);
	target_set(t, TF_ENGINE, engine, source);

	const char *p = sep + 3;
	const char *end = p + strcspn(p, "?#");
	const char *slash = memchr(p, '/', (size_t)(end - p));
	const char *auth_end = slash ? slash : end;
	/* The password may contain '@' unencoded; the last '@' ends the userinfo. */
	const char *at = NULL;
	for (const char *c = p; c < auth_end; c++)
		if (*c == '@')
			at = c;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (set_decoded(t, TF_USER, p, (size_t)((colon ? colon : at) - p), source, err, errlen) < 0)
			return -1;
		if (colon && set_decoded(t, TF_PASSWORD, colon + 1, (size_t)(at - colon - 1), source, err, errlen) < 0)
			return -1;
		p = at + 1;
	}
	if (p == auth_end && !slash && !at && *end == '\0')
		return fail(err, errlen, "nothing after '://': no host, no database");
	if (auth_end - p > 1024)
		return fail(err, errlen, "the host part of the URL is longer than 1024 bytes");
	if (parse_hosts(p, auth_end, t, source, err, errlen) < 0)
		return -1;
	if (slash && set_decoded(t, TF_DATABASE, slash + 1, (size_t)(end - slash - 1), source, err, errlen) < 0)
		return -1;
	if (*end == '?') {
		const char *qend = end + 1 + strcspn(end + 1, "#");
		char *q = xstrndup(end + 1, (size_t)(qend - end - 1));
		int r = parse_query(q, t, source, err, errlen);
		free(q);
		if (r < 0)
			return -1;
	}
	return 0;
}

static void pct_encode(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c))
			sb_addc(sb, (char)c);
		else
			sb_addf(sb, "%%%02X", c);
	}
}

void dburl_add_hosts(struct strbuf *sb, const struct target *t)
{
	struct strvec hs = STRVEC_INIT, ps = STRVEC_INIT;
	size_t n = dburl_hosts(t, &hs, &ps);
	for (size_t i = 0; i < n; i++)
		sb_addf(sb, strchr(hs.v[i], ':') ? "%s[%s]:%s" : "%s%s:%s", i ? "," : "", hs.v[i], ps.v[i]);
	sv_free(&hs);
	sv_free(&ps);
}

char *dburl_format(const struct target *t, int with_password)
{
	const char *engine = target_get(t, TF_ENGINE);
	const char *db = target_get(t, TF_DATABASE);
	struct strbuf sb = STRBUF_INIT;
	if (engine && !strcmp(engine, "sqlite")) {
		sb_adds(&sb, "sqlite://");
		sb_adds(&sb, db ? db : "");
		return sb_detach(&sb);
	}
	sb_addf(&sb, "%s://", engine && !strcmp(engine, "mysql") ? "mysql" : "postgresql");
	const char *user = target_get(t, TF_USER), *pw = target_get(t, TF_PASSWORD);
	if (user) {
		pct_encode(&sb, user);
		if (with_password && pw) {
			sb_addc(&sb, ':');
			pct_encode(&sb, pw);
		}
		sb_addc(&sb, '@');
	}
	const char *host = target_host(t);
	int socket = host[0] == '/';
	int mysql = engine && !strcmp(engine, "mysql");
	if (!socket) {
		/* libpq's host list keeps its ports pairwise: h1:p1,h2:p2. */
		dburl_add_hosts(&sb, t);
	}
	sb_addc(&sb, '/');
	if (db)
		pct_encode(&sb, db);
	if (socket) {
		/* A socket stays a socket: ?host=/run/postgresql (libpq),
		 * ?socket=/run/mysqld/mysqld.sock (MySQL clients); '/' needs no
		 * escaping in a query. */
		sb_adds(&sb, mysql ? "?socket=" : "?host=");
		for (const char *c = host; *c; c++) {
			if (*c == '/')
				sb_addc(&sb, '/');
			else {
				char one[2] = { *c, 0 };
				pct_encode(&sb, one);
			}
		}
		if (target_get(t, TF_PORT))
			sb_addf(&sb, "&port=%d", target_port(t));
	}
	return sb_detach(&sb);
}

static void split_keep_empty(const char *s, struct strvec *out)
{
	for (const char *p = s;;) {
		const char *c = strchr(p, ',');
		char *item = xstrndup(p, c ? (size_t)(c - p) : strlen(p));
		sv_push_owned(out, item);
		if (!c)
			break;
		p = c + 1;
	}
}

size_t dburl_hosts(const struct target *t, struct strvec *hosts, struct strvec *ports)
{
	const char *h = target_get(t, TF_HOST), *p = target_get(t, TF_PORT);
	const char *engine = target_get(t, TF_ENGINE);
	const char *def = engine && !strcmp(engine, "mysql") ? "3306" : "5432";
	struct strvec hs = STRVEC_INIT, ps = STRVEC_INIT;
	if (h && h[0] != '/')
		split_keep_empty(h, &hs);
	else
		sv_push(&hs, h ? h : "localhost");
	if (p)
		split_keep_empty(p, &ps);
	for (size_t i = 0; i < hs.n; i++) {
		const char *port = ps.n == 1 ? ps.v[0] : i < ps.n ? ps.v[i] : "";
		sv_push(hosts, *hs.v[i] ? hs.v[i] : "localhost");
		sv_push(ports, *port ? port : def);
	}
	size_t n = hs.n;
	sv_free(&hs);
	sv_free(&ps);
	return n;
}
