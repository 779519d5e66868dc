/* classify.c — which class a target is and which rule said so (see
 * classify.h).  Order matters: production rules first, because the guard
 * must never call a production database anything milder. */
#include "model/classify.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/config.h"
#include "model/dburl.h"
#include "base/xalloc.h"

static const char *match_any(char **patterns, const char *value)
{
	if (!value || !*value)
		return NULL;
	for (char **p = patterns; *p; p++)
		if (fnmatch(*p, value, FNM_CASEFOLD) == 0)
			return *p;
	return NULL;
}

int host_is_local(const char *host)
{
	if (!host || !*host || host[0] == '/')
		return 1;
	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost.localdomain") ||
	    !strcasecmp(host, "ip6-localhost"))
		return 1;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	/* A single-label name is a compose service (db, mysql, postgres). */
	return strchr(host, '.') == NULL;
}

static int engine_known(const char *engine)
{
	return engine && (!strcmp(engine, "postgres") || !strcmp(engine, "mysql") || !strcmp(engine, "sqlite"));
}

static void set(struct target *t, enum tclass c, char *rule)
{
	t->cls = c;
	free(t->rule);
	t->rule = rule;
}

static const char *src_of(const struct target *t, enum tfield f)
{
	return t->src[f] ? t->src[f] : "default";
}

/* Try the pattern list named key on database, host and environment name. */
static int by_patterns(struct target *t, const char *key, enum tclass cls, const char *what)
{
	char **pats = config_get_list(NULL, key);
	const char *db = target_get(t, TF_DATABASE), *host = target_get(t, TF_HOST), *pat;
	const char *engine = target_get(t, TF_ENGINE);
	/* A SQLite path's directories are not its name. */
	const char *dbname = db;
	if (db && engine && !strcmp(engine, "sqlite") && strrchr(db, '/'))
		dbname = strrchr(db, '/') + 1;
	if ((pat = match_any(pats, dbname))) {
		set(t, cls, xasprintf("database name '%s' matches %s pattern '%s' (%s)", db, what, pat, src_of(t, TF_DATABASE)));
		return 1;
	}
	if (host && host[0] != '/' && (pat = match_any(pats, host))) {
		set(t, cls, xasprintf("host '%s' matches %s pattern '%s' (%s)", host, what, pat, src_of(t, TF_HOST)));
		return 1;
	}
	if ((pat = match_any(pats, t->envname))) {
		set(t, cls, xasprintf("environment '%s' matches %s pattern '%s' (%s)", t->envname, what, pat,
		                      t->envname_src ? t->envname_src : "environment"));
		return 1;
	}
	return 0;
}

/* libpq tries every host of "h1,h2" in turn (with "p1,p2" or one port for
 * all): each is classified, and the target is the worst of them. */
static int classify_hosts(struct target *t)
{
	const char *hosts = target_get(t, TF_HOST);
	if (!hosts || !strchr(hosts, ',') || hosts[0] == '/')
		return 0;
	struct strvec hs = STRVEC_INIT, ps = STRVEC_INIT;
	size_t n = dburl_hosts(t, &hs, &ps);
	for (size_t i = 0; i < n; i++) {
		struct target one;
		target_copy(&one, t);
		target_set(&one, TF_HOST, hs.v[i], t->src[TF_HOST] ? t->src[TF_HOST] : "default");
		target_set(&one, TF_PORT, ps.v[i], t->src[TF_PORT] ? t->src[TF_PORT] : "default");
		classify_target(&one);
		if (i == 0 || one.cls > t->cls) {
			t->cls = one.cls;
			free(t->rule);
			t->rule = xasprintf("the worst of the %zu hosts libpq tries in turn: '%s': %s", n, hs.v[i], one.rule);
		}
		target_free(&one);
	}
	sv_free(&hs);
	sv_free(&ps);
	return 1;
}

void classify_target(struct target *t)
{
	if (classify_hosts(t))
		return;
	if (t->marker && !strcmp(t->marker, "production")) {
		set(t, TC_PRODUCTION, xstrdup("the database carries the dbguard production marker"));
		return;
	}
	if (by_patterns(t, "production_patterns", TC_PRODUCTION, "production"))
		return;
	const char *host = target_get(t, TF_HOST), *pat;
	if (host && (pat = match_any(config_get_list(NULL, "production_hosts"), host))) {
		set(t, TC_PRODUCTION, xasprintf("host '%s' is a production host ('%s' in production_hosts, %s)",
		                                host, pat, src_of(t, TF_HOST)));
		return;
	}
	if (t->unreadable) {
		if (t->unpinned)
			set(t, TC_UNKNOWN, xstrdup(t->unpinned));
		else
			set(t, TC_UNKNOWN, xasprintf("a source of this target could not be read for sure (%s)",
			                             t->origin ? t->origin : "unknown source"));
		return;
	}
	const char *engine = target_get(t, TF_ENGINE);
	if (!engine_known(engine)) {
		set(t, TC_UNKNOWN, engine ? xasprintf("engine '%s' is not one dbguard knows: where it connects cannot be told (%s)",
		                                      engine, src_of(t, TF_ENGINE))
		                          : xstrdup("no engine given: which database this is cannot be told"));
		return;
	}
	if (t->marker && !strcmp(t->marker, "staging")) {
		set(t, TC_STAGING, xstrdup("the database carries the dbguard staging marker"));
		return;
	}
	if (by_patterns(t, "staging_patterns", TC_STAGING, "staging"))
		return;
	if (!strcmp(engine, "sqlite")) {
		set(t, TC_LOCAL, xstrdup("a SQLite file is local"));
		return;
	}
	if (!host) {
		set(t, TC_LOCAL, xstrdup("no host given: the client connects to this machine"));
		return;
	}
	if (host[0] == '/') {
		set(t, TC_LOCAL, xasprintf("Unix socket '%s' (%s)", host, src_of(t, TF_HOST)));
		return;
	}
	if (strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%") != strlen(host)) {
		/* "$(vault read ...)", "${DB_HOST}": text a shell or a template
		 * would have turned into a host; which one cannot be told. */
		set(t, TC_UNKNOWN, xasprintf("host '%s' is not a host name: where it connects cannot be told (%s)", host,
		                             src_of(t, TF_HOST)));
		return;
	}
	if (host_is_local(host)) {
		set(t, TC_LOCAL, xasprintf(strchr(host, '.') || strchr(host, ':') || !strcasecmp(host, "localhost")
		                           ? "loopback host '%s' (%s)"
		                           : "single-label host '%s' is a local or compose service (%s)",
		                           host, src_of(t, TF_HOST)));
		return;
	}
	set(t, TC_REMOTE, xasprintf("host '%s' is neither loopback nor a local service (%s)", host, src_of(t, TF_HOST)));
}

int class_refused(enum tclass c)
{
	if (c == TC_PRODUCTION)
		return 1;
	for (char **p = config_get_list(NULL, "refuse_classes"); *p; p++) {
		enum tclass r;
		if (tclass_parse(*p, &r) == 0 && r == c)
			return 1;
	}
	return 0;
}
