/* util.c — what the engine adapters share (impl.h): error text that never
 * carries a password, and where a target is, for messages. */
#include "engine/impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

void engine_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

char *engine_first_line(const char *msg)
{
	if (!msg)
		return xstrdup("unknown error");
	while (*msg == ' ' || *msg == '\t' || *msg == '\n')
		msg++;
	size_t n = strcspn(msg, "\n");
	while (n > 0 && strchr(" \t\r.", msg[n - 1]))
		n--;
	return n ? xstrndup(msg, n) : xstrdup("unknown error");
}

void engine_scrub(char *err, size_t errlen, const char *password)
{
	/* Very short passwords would turn ordinary words and port numbers into
	 * asterisks; no message quotes a password, so this is belt and braces. */
	if (!err || !password || strlen(password) < 3 || !strstr(err, password))
		return;
	struct strbuf sb = STRBUF_INIT;
	size_t plen = strlen(password);
	for (const char *p = err, *hit; *p; p = hit + plen) {
		hit = strstr(p, password);
		if (!hit) {
			sb_adds(&sb, p);
			break;
		}
		sb_add(&sb, p, (size_t)(hit - p));
		sb_adds(&sb, "****");
	}
	snprintf(err, errlen, "%s", sb_str(&sb));
	sb_free(&sb);
}

char *engine_where(const struct target *t)
{
	const char *host = target_host(t);
	const char *engine = target_get(t, TF_ENGINE);
	int port = target_port(t);
	if (!host)
		return xstrdup(target_get(t, TF_DATABASE) ? target_get(t, TF_DATABASE) : "");
	if (host[0] == '/')
		return engine && strcmp(engine, "postgres") == 0
			? xasprintf("%s/.s.PGSQL.%d", host, port) : xstrdup(host);
	if (strchr(host, ':'))
		return xasprintf("[%s]:%d", host, port);
	return xasprintf("%s:%d", host, port);
}

char *engine_auth_hint(const struct target *t)
{
	const char *src = t->src[TF_PASSWORD] && *t->src[TF_PASSWORD] ? t->src[TF_PASSWORD]
	                : t->src[TF_USER] && *t->src[TF_USER] ? t->src[TF_USER] : NULL;
	return src ? xasprintf("; check the user and password (%s)", src)
	           : xstrdup("; check the user and password");
}

