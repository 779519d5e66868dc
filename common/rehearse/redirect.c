/* redirect.c — pointing a command at the copy: the variable that named the
 * original (db-envcheck's source of the database: "environment
 * DATABASE_URL", ".env:5", "config/database.yml:7 database (ENV['DB_NAME']
 * from .env:3)") is set in the command's environment to the copy, which
 * the frameworks read before their dotenv files (phpdotenv, dotenv,
 * python-dotenv and Prisma never override a variable that is set).  A
 * value a framework file spells out itself cannot be redirected so. */
#include "rehearse/impl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "model/dburl.h"
#include "model/dotenv.h"
#include "model/project.h"
#include "base/io.h"

/* Variables frameworks and clients read a database from; any of them that
 * names the original is pointed at the copy as well. */
static const char *const known_vars[] = {
	"DATABASE_URL", "DB_URL", "DB_DATABASE", "DB_NAME", "DATABASE_NAME", "PGDATABASE",
	"MYSQL_DATABASE", "POSTGRES_DB", "POSTGRES_URL", "MYSQL_URL", NULL,
};

static char *dotenv_value(const char *path, int line, const char *key, char **keyout)
{
	char *project = project_dir_find();
	char *full = path[0] == '/' || !project ? xstrdup(path) : path_join(project, path);
	free(project);
	struct dotenv d;
	char *value = NULL;
	if (dotenv_load(full, &d) == 0) {
		for (size_t i = 0; i < d.n && !value; i++)
			if ((line && d.v[i].line == line) || (key && !strcmp(d.v[i].key, key))) {
				value = xstrdup(d.v[i].value);
				if (keyout)
					*keyout = xstrdup(d.v[i].key);
			}
		dotenv_free(&d);
	}
	free(full);
	return value;
}

/* The variable a source names and its value now: "environment X", a
 * dotenv "FILE:LINE", or "'X' unset" / "X unset" (a default the variable
 * would override).  0, or -1 when the source is a file's own text. */
static int source_var(const char *src, char **var, char **value)
{
	*var = *value = NULL;
	const char *e = strstr(src, "environment ");
	if (e) {
		e += strlen("environment ");
		size_t n = strspn(e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
		if (n) {
			*var = xstrndup(e, n);
			*value = xstrdup(getenv(*var));
			return 0;
		}
	}
	/* A dotenv file and line anywhere in the source. */
	for (const char *p = src; (p = strstr(p, ".env")); p++) {
		const char *start = p;
		while (start > src && !isspace((unsigned char)start[-1]) && start[-1] != '(')
			start--;
		const char *colon = strchr(p, ':');
		if (!colon || !isdigit((unsigned char)colon[1]))
			continue;
		const char *sp = strpbrk(p, " ()");
		if (sp && sp < colon)
			continue;
		char *path = xstrndup(start, (size_t)(colon - start));
		*value = dotenv_value(path, atoi(colon + 1), NULL, var);
		free(path);
		if (*var)
			return 0;
		free(*value);
		*value = NULL;
	}
	const char *u = strstr(src, " unset");
	if (u) {
		const char *s = u;
		if (s > src && s[-1] == '\'')
			s--;
		const char *b = s;
		while (b > src && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
			b--;
		if (b < s) {
			*var = xstrndup(b, (size_t)(s - b));
			return 0;
		}
	}
	return -1;
}

/* value with the original's database replaced by the copy's, or NULL when
 * it does not name it. */
static char *rewrite(const struct target *t, const char *copy, const char *value)
{
	const char *db = target_get(t, TF_DATABASE);
	if (!value || !db)
		return NULL;
	if (target_is(t, "sqlite")) {
		/* The copy lies beside the original: swap the file name. */
		char *ob = path_base(db), *cb = path_base(copy);
		char *at = NULL;
		for (char *p = strstr(value, ob); p; p = strstr(p + 1, ob))
			at = p;
		char *out = at ? xasprintf("%.*s%s%s", (int)(at - value), value, cb, at + strlen(ob)) : NULL;
		free(ob);
		free(cb);
		return out;
	}
	const char *scheme = strstr(value, "://");
	if (!scheme)
		return !strcmp(value, db) ? xstrdup(copy) : NULL;
	const char *slash = strchr(scheme + 3, '/');
	if (!slash)
		return NULL;
	size_t n = strcspn(slash + 1, "?#");
	if (n != strlen(db) || strncmp(slash + 1, db, n))
		return NULL;
	return xasprintf("%.*s%s%s", (int)(slash + 1 - value), value, copy, slash + 1 + n);
}

static void set_var(struct strvec *env, const char *var, const char *value)
{
	size_t len = strlen(var);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], var, len) && env->v[i][len] == '=')
			return;
	sv_pushf(env, "%s=%s", var, value);
}

int rh_redirect(const struct target *t, const char *copy, int primary, struct strvec *env, char **pinned)
{
	*pinned = NULL;
	const char *src = t->src[TF_DATABASE] ? t->src[TF_DATABASE] : "";
	char *var, *value;
	if (source_var(src, &var, &value) < 0) {
		*pinned = xstrdup(*src ? src : "an unnamed source");
		return -1;
	}
	char *nv = rewrite(t, copy, value);
	if (!nv && !value) {
		/* A default the variable overrides: the whole value from the target. */
		struct target c;
		rh_copy_target(t, copy, &c);
		nv = strstr(var, "URL") && !target_is(t, "sqlite") ? dburl_format(&c, 1)
		                                                    : xstrdup(target_get(&c, TF_DATABASE));
		target_free(&c);
	}
	if (!nv) {
		*pinned = xasprintf("%s (%s does not name '%s' in a form dbguard can rewrite)", src, var,
		                    target_get(t, TF_DATABASE));
		free(var);
		free(value);
		return -1;
	}
	set_var(env, var, nv);
	free(nv);
	free(var);
	free(value);
	/* Every other variable naming the original, in the environment or .env. */
	for (size_t i = 0; known_vars[i]; i++) {
		char *v = xstrdup(getenv(known_vars[i]));
		if (!v)
			v = dotenv_value(".env", 0, known_vars[i], NULL);
		char *w = rewrite(t, copy, v);
		if (w)
			set_var(env, known_vars[i], w);
		free(w);
		free(v);
	}
	/* Plain psql with no arguments: the primary PostgreSQL database. */
	if (primary && target_is(t, "postgres") && !getenv("PGDATABASE")) {
		set_var(env, "PGDATABASE", copy);
		if (target_host(t))
			set_var(env, "PGHOST", target_host(t));
		char port[16];
		snprintf(port, sizeof port, "%d", target_port(t));
		set_var(env, "PGPORT", port);
		if (target_get(t, TF_USER))
			set_var(env, "PGUSER", target_get(t, TF_USER));
	}
	return 0;
}
