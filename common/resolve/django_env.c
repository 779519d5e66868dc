/* django_env.c — what settings files read from the environment:
 * os.environ / os.getenv, django-environ and decouple lookups with their
 * defaults, and database URLs (dj_database_url, env.db) as a map. */
#include "resolve/django_impl.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* An environment lookup with an optional default: value, or NULL when
 * unset and there is no default (which Python would raise on). */
struct lit *django_env_lookup(struct ev *e, int line, const struct lit *key, const struct lit *def)
{
	const char *k = lit_text(key);
	if (!k || key->kind != LIT_STR)
		return django_opaque(e, line, "an environment lookup of a computed name");
	char *where = NULL;
	const char *v = e->io->getenv ? e->io->getenv(e->io->ctx, k, &where) : NULL;
	if (v) {
		struct lit *r = django_mk(LIT_STR, xstrdup(v), e, line);
		free(r->where);
		r->where = xasprintf("%s:%d (%s from %s)", e->file, line, k, where ? where : "the environment");
		free(where);
		return r;
	}
	free(where);
	if (def) {
		struct lit *r = django_lit_copy(def);
		free(r->where);
		r->where = xasprintf("%s:%d (%s unset: the default)", e->file, line, k);
		return r;
	}
	return django_mk(LIT_OPAQUE, xasprintf("%s is not set: Django would stop", k), e, line);
}

/* A database URL (dj_database_url, env.db) as a map holding it. */
struct lit *django_url_map(struct ev *e, int line, struct lit *url)
{
	if (!url || url->kind == LIT_NULL)
		return django_mk(LIT_OPAQUE, xstrdup("no database URL is set"), e, line);
	if (url->kind != LIT_STR)
		return django_lit_copy(url);
	struct lit *m = django_mk(LIT_MAP, NULL, e, line);
	django_map_set(m, URL_KEY, django_lit_copy(url));
	return m;
}

/* os.environ.get / os.getenv, django-environ's env(...) and env.str(...),
 * decouple's config(...), dj_database_url.config / parse and env.db(): the
 * value, or NULL when fn is none of these. */
struct lit *django_env_call(struct ev *e, const char *fn, struct args *a, int line)
{
	struct lit *v = NULL;
	if ((!strcmp(fn, "os.environ.get") || !strcmp(fn, "os.getenv")) && a->npos >= 1) {
		struct lit none = { .kind = LIT_NULL };
		v = django_env_lookup(e, line, a->pos[0], a->npos > 1 ? a->pos[1] : django_kwarg(a, "default") ? django_kwarg(a, "default") : &none);
	} else if ((!strcmp(fn, "env") || !strncmp(fn, "env.", 4) || !strcmp(fn, "config") ||
	            !strcmp(fn, "decouple.config")) &&
	           strcmp(fn, "env.db") && strcmp(fn, "env.db_url") && strcmp(fn, "env.read_env") && a->npos >= 1) {
		struct lit *def = django_kwarg(a, "default");
		if (!def && a->npos > 1 && (!strcmp(fn, "config") || !strcmp(fn, "decouple.config")))
			def = a->pos[1];
		v = django_env_lookup(e, line, a->pos[0], def);
	} else if (!strcmp(fn, "dj_database_url.config") || !strcmp(fn, "env.db") || !strcmp(fn, "env.db_url") ||
	           !strcmp(fn, "environ.Env.db_url")) {
		struct lit key = { .kind = LIT_STR, .s = (char *)"DATABASE_URL" };
		struct lit *k = django_kwarg(a, "env") ? django_kwarg(a, "env") : django_kwarg(a, "var") ? django_kwarg(a, "var")
		              : (strcmp(fn, "dj_database_url.config") && a->npos >= 1) ? a->pos[0] : &key;
		struct lit *def = django_kwarg(a, "default");
		if (!def && strcmp(fn, "dj_database_url.config") && a->npos >= 2)
			def = a->pos[1];
		struct lit none = { .kind = LIT_NULL };
		struct lit *url = django_env_lookup(e, line, k, def ? def : &none);
		v = django_url_map(e, line, url);
		lit_free(url);
	} else if (!strcmp(fn, "dj_database_url.parse") && a->npos >= 1) {
		v = django_url_map(e, line, a->pos[0]);
	}
	return v;
}
