/* django.c — Django settings read statically: the DATABASES
 * literal of the settings module (DJANGO_SETTINGS_MODULE, manage.py's
 * default, or DIR/settings.py), with what settings files commonly put in it:
 * BASE_DIR / 'db.sqlite3', os.path.join, os.environ / getenv, django-environ
 * and decouple lookups with defaults, dj_database_url.config/parse and
 * env.db() URLs, names assigned earlier, star imports of other settings
 * modules.  Anything else is not guessed at: the target is "unknown".
 * The reading itself: django_lex.c (tokens), django_eval.c (expressions
 * and statements), django_env.c (environment and database URLs).  Here:
 * which settings modules to read, and the targets their DATABASES give. */
#include "resolve/django_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/dburl.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

struct dj_ctx {
	struct run *r;
	struct django_settings *s;
};

static const char *dj_getenv(void *ctx, const char *key, char **where)
{
	struct dj_ctx *c = ctx;
	/* django-environ's read_env and python-dotenv's load_dotenv put .env
	 * into os.environ; without them Django sees the process environment. */
	return run_getenv(c->r, key, c->s->reads_dotenv, where);
}

/* The file of a dotted module: a/b.py or a/b/__init__.py; NULL if neither. */
static char *module_file(struct run *r, const char *base, const char *mod)
{
	struct strbuf sb = STRBUF_INIT;
	if (base)
		sb_adds(&sb, base);
	for (const char *p = mod; *p; p++)
		sb_addc(&sb, *p == '.' ? '/' : *p);
	const char *exts[] = { ".py", "/__init__.py" };
	for (int i = 0; i < 2; i++) {
		char *rel = xasprintf("%s%s", sb_str(&sb), exts[i]);
		char *p = base ? xstrdup(rel) : run_path(r, rel);
		free(rel);
		if (access(p, R_OK) == 0) {
			sb_free(&sb);
			return p;
		}
		free(p);
	}
	sb_free(&sb);
	return NULL;
}

static void read_settings(struct dj_ctx *c, const char *path, int depth);

static void dj_import_star(void *ctx, const char *file, const char *module, struct django_settings *s, int depth)
{
	struct dj_ctx *c = ctx;
	(void)s;
	if (depth > MAX_IMPORT_DEPTH)
		return;
	char *path;
	if (module[0] == '.') {
		/* from .base import *: beside file; each further dot one level up. */
		char *dir = path_dir(file);
		const char *m = module + 1;
		while (*m == '.') {
			char *up = django_path_up(dir);
			free(dir);
			dir = up;
			m++;
		}
		char *base = !strcmp(dir, ".") ? xstrdup("") : xasprintf("%s/", dir);
		path = *m ? module_file(c->r, base, m) : NULL;
		free(base);
		free(dir);
	} else {
		path = module_file(c->r, NULL, module);
	}
	/* A module we cannot find is a library's (import * from a package): it
	 * does not set DATABASES. */
	if (path)
		read_settings(c, path, depth);
	free(path);
}

static void read_settings(struct dj_ctx *c, const char *path, int depth)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		char *where = xasprintf("%s", path);
		django_set_opaque_databases(c->s, where, strerror(errno));
		free(where);
		return;
	}
	if (memchr(text, '\0', len)) {
		django_set_opaque_databases(c->s, path, "contains a NUL byte");
		free(text);
		return;
	}
	struct django_io io = { dj_getenv, dj_import_star, c };
	django_parse(text, path, &io, c->s, depth);
	free(text);
}

static const char *field_text(const struct lit *alias, const char *key, const struct lit **node)
{
	const struct lit *v = lit_get(alias, key);
	*node = v;
	return lit_text(v);
}

static void add_alias(struct run *r, const char *path, const struct django_settings *s, const char *alias,
                      const struct lit *cfg)
{
	struct target t;
	memset(&t, 0, sizeof t);
	t.origin = xasprintf("%s (DATABASES['%s'])", path, alias);
	struct strbuf why = STRBUF_INIT;
	const struct lit *url = lit_get(cfg, URL_KEY);
	if (cfg->kind != LIT_MAP) {
		sb_addf(&why, "%s: DATABASES['%s'] is %s", cfg->where ? cfg->where : path, alias,
		        cfg->s ? cfg->s : "not a literal dict");
		t.unreadable = 1;
	} else if (url) {
		const char *u = lit_text(url);
		char err[256];
		char *src = xasprintf("%s", url->where ? url->where : path);
		/* dj-database-url: sqlite:///rel is relative, sqlite:////abs absolute. */
		if (u && !strncmp(u, "sqlite:///", 10) && u[10] != '/') {
			target_set(&t, TF_ENGINE, "sqlite", src);
			target_set(&t, TF_DATABASE, u + 10, src);
		} else if (!u || dburl_parse(u, &t, src, err, sizeof err) < 0) {
			error("%s: %s", src, u ? err : "not a database URL");
			r->list->config_errors++;
			free(src);
			sb_free(&why);
			target_free(&t);
			return;
		}
		free(src);
	} else {
		static const struct { const char *key; enum tfield f; } fields[] = {
			{ "ENGINE", TF_ENGINE }, { "NAME", TF_DATABASE }, { "HOST", TF_HOST },
			{ "PORT", TF_PORT }, { "USER", TF_USER }, { "PASSWORD", TF_PASSWORD },
		};
		for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
			const struct lit *n;
			const char *v = field_text(cfg, fields[i].key, &n);
			if (n && n->kind == LIT_OPAQUE && fields[i].f != TF_PASSWORD) {
				sb_addf(&why, "%s%s: %s is %s", why.len ? "; " : "", n->where ? n->where : path, fields[i].key,
				        n->s ? n->s : "computed");
				t.unreadable = 1;
			}
			if (v && *v) {
				/* "FILE:LINE KEY (how)" */
				const char *w = n->where ? n->where : path;
				const char *paren = strstr(w, " (");
				char *src = paren ? xasprintf("%.*s %s%s", (int)(paren - w), w, fields[i].key, paren)
				                  : xasprintf("%s %s", w, fields[i].key);
				target_set(&t, fields[i].f, v, src);
				free(src);
			}
		}
		const char *engine = target_get(&t, TF_ENGINE);
		if (engine) {
			const char *e = engine_from_driver(engine);
			char *src = xstrdup(t.src[TF_ENGINE]);
			if (e)
				target_set(&t, TF_ENGINE, e, src);
			else
				warn("%s: ENGINE '%s' is not an engine dbguard knows", src, engine);
			free(src);
		}
	}
	/* A test run (manage.py test, pytest-django) uses the test database:
	 * TEST NAME, else test_<NAME>; SQLite in memory. */
	const char *engine = target_get(&t, TF_ENGINE);
	const struct lit *test = lit_get(cfg, "TEST");
	const struct lit *tn;
	const char *test_name = test ? field_text(test, "NAME", &tn) : NULL;
	if (r->test_run && !t.unreadable && engine) {
		if (test_name && *test_name) {
			char *src = xasprintf("%s TEST NAME (test run)", tn->where ? tn->where : path);
			target_set(&t, TF_DATABASE, test_name, src);
			free(src);
		} else if (!strcmp(engine, "sqlite")) {
			target_set(&t, TF_DATABASE, ":memory:", "Django tests use SQLite in memory");
		} else if (target_get(&t, TF_DATABASE)) {
			char *name = xasprintf("test_%s", target_get(&t, TF_DATABASE));
			char *src = xasprintf("%s (test run: Django adds test_)", t.src[TF_DATABASE]);
			target_set(&t, TF_DATABASE, name, src);
			free(src);
			free(name);
		}
	}
	if (t.unreadable)
		warn("%s; the database Django uses is unknown", sb_str(&why));
	run_envname(r, &t, s->reads_dotenv);
	char *says = t.unreadable ? xstrdup(sb_str(&why)) : target_says(&t);
	char *src = xstrdup(t.origin);
	run_add_target(r, &t, src, says, alias && strcmp(alias, "default") ? "another alias in DATABASES" : NULL);
	free(src);
	free(says);
	sb_free(&why);
}

/* The settings modules to read: DJANGO_SETTINGS_MODULE, the default
 * manage.py sets, else every DIR/settings.py (or DIR/settings/__init__.py). */
static void find_settings(struct run *r, struct strvec *paths, struct strbuf *how)
{
	const char *mod = getenv("DJANGO_SETTINGS_MODULE");
	char *dflt = NULL;
	if (mod && *mod) {
		sb_addf(how, "DJANGO_SETTINGS_MODULE=%s (environment)", mod);
	} else {
		char *manage = run_path(r, "manage.py");
		char *text = read_file(manage, NULL);
		if (text) {
			struct django_settings s;
			memset(&s, 0, sizeof s);
			struct django_io io = { NULL, NULL, NULL };
			django_parse(text, manage, &io, &s, 0);
			dflt = s.settings_default ? xstrdup(s.settings_default) : NULL;
			django_settings_free(&s);
			free(text);
			if (dflt)
				sb_addf(how, "DJANGO_SETTINGS_MODULE=%s (default in %s)", dflt, manage);
		}
		free(manage);
		mod = dflt;
	}
	if (mod) {
		char *p = module_file(r, NULL, mod);
		if (p)
			sv_push_owned(paths, p);
		else
			sb_addf(how, ": no file for module '%s'", mod);
		free(dflt);
		return;
	}
	struct dirent **ents;
	int n = scandir(r->dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;
		if (d[0] != '.' && strcmp(d, "node_modules") && strcmp(d, "venv")) {
			const char *names[] = { "settings.py", "settings/__init__.py" };
			for (int k = 0; k < 2; k++) {
				char *rel = xasprintf("%s/%s", d, names[k]);
				char *p = run_path(r, rel);
				free(rel);
				if (access(p, R_OK) == 0) {
					sv_push_owned(paths, p);
					break;
				}
				free(p);
			}
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	if (paths->n)
		sb_adds(how, "found by name: */settings.py");
}

void django_settings(struct run *r)
{
	struct strvec paths = STRVEC_INIT;
	struct strbuf how = STRBUF_INIT;
	find_settings(r, &paths, &how);
	if (!paths.n && how.len)
		run_candidate(r, "Django settings", sb_str(&how), "the settings module cannot be found", 0);
	for (size_t i = 0; i < paths.n; i++) {
		const char *path = paths.v[i];
		struct django_settings s;
		memset(&s, 0, sizeof s);
		/* Django's own default: BASE_DIR is the directory of manage.py. */
		s.base_dir = xstrdup(r->dir);
		struct dj_ctx c = { r, &s };
		read_settings(&c, path, 0);
		if (!s.databases) {
			char *says = xasprintf("%s; no DATABASES", sb_str(&how));
			run_candidate(r, path, says, "names no database", 0);
			free(says);
		} else if (s.databases->kind != LIT_MAP) {
			struct target t;
			memset(&t, 0, sizeof t);
			t.unreadable = 1;
			t.origin = xstrdup(path);
			const char *why = s.why ? s.why : "DATABASES cannot be read statically";
			warn("%s; the database Django uses is unknown", why);
			run_envname(r, &t, s.reads_dotenv);
			run_add_target(r, &t, path, why, "a settings file that cannot be read statically");
		} else {
			if (s.databases->n == 0)
				run_candidate(r, path, "DATABASES = {}", "names no database", 0);
			for (size_t k = 0; k < s.databases->n; k++)
				add_alias(r, path, &s, s.databases->keys[k], s.databases->vals[k]);
		}
		django_settings_free(&s);
	}
	sv_free(&paths);
	sb_free(&how);
}
