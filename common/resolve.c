/* resolve.c — target resolution (DESIGN.md "Targets"): --url, the process
 * environment, then dotenv files; every database configured for this run is
 * kept, the primary one first, because a command may read another file than
 * the one we guessed. */
#include "target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dburl.h"
#include "dotenv.h"
#include "io.h"
#include "msg.h"
#include "secret.h"
#include "xalloc.h"

static const char *const envname_keys[] = { "APP_ENV", "RAILS_ENV", "NODE_ENV", "ENVIRONMENT", "DJANGO_ENV", NULL };
static const char *const url_keys[] = { "DATABASE_URL", "DB_URL", NULL };

/* Where a run looks up a variable: the process environment or one dotenv file. */
struct source {
	const char *name;          /* "environment" or the file's display name */
	struct dotenv *file;       /* NULL for the environment */
	struct dotenv *fallback;   /* environment only: the dotenv file used for missing keys */
};

static const char *lookup(const struct source *s, const char *key, char **where)
{
	if (!s->file) {
		const char *v = getenv(key);
		if (v) {
			*where = xasprintf("environment %s", key);
			return v;
		}
		if (!s->fallback)
			return NULL;
		const struct dotenv_entry *e = dotenv_get(s->fallback, key);
		if (!e)
			return NULL;
		*where = xasprintf("%s:%d", s->fallback->path, e->line);
		return e->value;
	}
	const struct dotenv_entry *e = dotenv_get(s->file, key);
	if (!e)
		return NULL;
	*where = xasprintf("%s:%d", s->file->path, e->line);
	return e->value;
}

static void add_candidate(struct target_list *l, const char *source, const char *says, const char *why, int used)
{
	l->cand = xrealloc(l->cand, (l->ncand + 1) * sizeof *l->cand);
	l->cand[l->ncand++] = (struct candidate){ xstrdup(source), xstrdup(says), xstrdup(why), used };
}

static int same_database(const struct target *a, const struct target *b)
{
	const enum tfield fs[] = { TF_ENGINE, TF_DATABASE };
	for (size_t i = 0; i < 2; i++) {
		const char *x = target_get(a, fs[i]), *y = target_get(b, fs[i]);
		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y)))
			return 0;
	}
	const char *ha = target_host(a), *hb = target_host(b);
	if ((ha == NULL) != (hb == NULL) || (ha && strcasecmp(ha, hb)))
		return 0;
	return target_port(a) == target_port(b);
}

/* Add t (taking it over) unless an equal database is listed already. */
static int add_target(struct target_list *l, struct target *t)
{
	for (size_t i = 0; i < l->n; i++)
		if (same_database(&l->v[i], t)) {
			target_free(t);
			return 0;
		}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = *t;
	memset(t, 0, sizeof *t);
	return 1;
}

static void set_from(struct target *t, enum tfield f, const struct source *s, const char *key)
{
	char *where = NULL;
	const char *v = lookup(s, key, &where);
	if (v && *v)
		target_set(t, f, v, where);
	free(where);
}

static void find_envname(struct target *t, const struct source *s)
{
	struct source env = { "environment", NULL, NULL };
	for (int pass = 0; pass < 2; pass++)
		for (const char *const *k = envname_keys; *k; k++) {
			char *where = NULL;
			const char *v = lookup(pass == 0 ? &env : s, *k, &where);
			if (v && *v) {
				t->envname = xstrdup(v);
				t->envname_src = xasprintf("%s %s", where, pass == 0 ? "" : *k);
				/* "environment APP_ENV " -> trim the trailing blank */
				size_t n = strlen(t->envname_src);
				if (t->envname_src[n - 1] == ' ')
					t->envname_src[n - 1] = '\0';
				free(where);
				return;
			}
			free(where);
		}
}

/* Build the target a source defines; 1 when it defines one, 0 when it says
 * nothing about a database, -1 when what it says is malformed (reported). */
static int target_from(const struct source *s, const char *project_dir, struct target *t, struct strbuf *says)
{
	memset(t, 0, sizeof *t);
	for (const char *const *k = url_keys; *k; k++) {
		char *where = NULL;
		const char *url = lookup(s, *k, &where);
		if (!url || !*url) {
			free(where);
			continue;
		}
		char err[256];
		if (dburl_parse(url, t, where, err, sizeof err) < 0) {
			error("%s: %s: %s", where, *k, err);
			free(where);
			target_free(t);
			return -1;
		}
		char *masked = mask_url(url);
		sb_addf(says, "%s=%s", *k, masked);
		free(masked);
		free(where);
		goto found;
	}
	char *where = NULL;
	const char *conn = lookup(s, "DB_CONNECTION", &where);
	if (conn && *conn) {
		const char *engine = engine_from_driver(conn);
		target_set(t, TF_ENGINE, engine ? engine : conn, where);
		if (!engine)
			warn("%s: DB_CONNECTION '%s' is not an engine dbguard knows (pgsql, mysql, mariadb, sqlite)", where, conn);
	}
	free(where);
	set_from(t, TF_HOST, s, "DB_HOST");
	set_from(t, TF_PORT, s, "DB_PORT");
	set_from(t, TF_DATABASE, s, "DB_DATABASE");
	set_from(t, TF_USER, s, "DB_USERNAME");
	set_from(t, TF_PASSWORD, s, "DB_PASSWORD");
	if (!target_get(t, TF_HOST))
		set_from(t, TF_HOST, s, "DB_SOCKET");
	if (!target_get(t, TF_ENGINE) && !target_get(t, TF_HOST) && !target_get(t, TF_DATABASE)) {
		target_free(t);
		return 0;
	}
	if (!target_get(t, TF_ENGINE)) {
		const char *port = target_get(t, TF_PORT);
		const char *db = target_get(t, TF_DATABASE);
		const char *guess = port && !strcmp(port, "5432") ? "postgres"
		                  : port && !strcmp(port, "3306") ? "mysql"
		                  : db && (strstr(db, ".sqlite") || strstr(db, ".db")) ? "sqlite" : NULL;
		if (guess)
			target_set(t, TF_ENGINE, guess, "guessed: no DB_CONNECTION");
	}
	sb_addf(says, "DB_CONNECTION=%s DB_HOST=%s DB_PORT=%s DB_DATABASE=%s",
	        target_get(t, TF_ENGINE) ? target_get(t, TF_ENGINE) : "-",
	        target_get(t, TF_HOST) ? target_get(t, TF_HOST) : "-",
	        target_get(t, TF_PORT) ? target_get(t, TF_PORT) : "-",
	        target_get(t, TF_DATABASE) ? target_get(t, TF_DATABASE) : "-");
found:;
	/* A relative SQLite path is relative to the project, as frameworks run there. */
	const char *engine = target_get(t, TF_ENGINE);
	const char *db = target_get(t, TF_DATABASE);
	if (engine && !strcmp(engine, "sqlite") && db && db[0] != '/' && strcmp(db, ":memory:") && project_dir &&
	    strcmp(project_dir, ".")) {
		char *abs = path_join(project_dir, db);
		char *src = xstrdup(t->src[TF_DATABASE]);
		target_set(t, TF_DATABASE, abs, src);
		free(src);
		free(abs);
	}
	t->origin = xstrdup(s->name);
	find_envname(t, s);
	return 1;
}

static int env_says_test(void)
{
	for (const char *const *k = envname_keys; *k; k++) {
		const char *v = getenv(*k);
		if (v && (!strcasecmp(v, "test") || !strcasecmp(v, "testing")))
			return 1;
	}
	return 0;
}

char *project_dir_find(void)
{
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		return xstrdup(".");
	char *dir = xstrdup(cwd);
	for (;;) {
		const char *marks[] = { ".env", ".dbguard.conf", NULL };
		for (const char **m = marks; *m; m++) {
			char *p = path_join(dir, *m);
			int found = access(p, F_OK) == 0;
			free(p);
			if (found)
				return dir;
		}
		char *git = path_join(dir, ".git");
		int top = access(git, F_OK) == 0 || strcmp(dir, "/") == 0;
		free(git);
		if (top)
			break;
		char *up = path_dir(dir);
		free(dir);
		dir = up;
	}
	free(dir);
	return xstrdup(cwd);
}

/* Load name from dir; 1 loaded, 0 absent, -1 unreadable (reported). */
static int load_dotenv(const char *dir, const char *name, struct dotenv *d)
{
	char *path = path_join(dir, name);
	int rc = 1;
	if (dotenv_load(path, d) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			rc = 0;
		} else {
			error("cannot read '%s': %s; the database it names is unknown", path, strerror(errno));
			rc = -1;
		}
	}
	free(path);
	return rc;
}

void resolve_targets(const struct resolve_opts *o, struct target_list *l)
{
	memset(l, 0, sizeof *l);
	struct target t;
	if (o->url) {
		char err[256];
		memset(&t, 0, sizeof t);
		if (dburl_parse(o->url, &t, "--url", err, sizeof err) < 0) {
			error("--url: %s", err);
			l->config_errors++;
			target_free(&t);
			return;
		}
		t.origin = xstrdup("--url");
		struct source env = { "environment", NULL, NULL };
		find_envname(&t, &env);
		char *masked = mask_url(o->url);
		add_candidate(l, "--url", masked, "given on the command line: the only target", 1);
		free(masked);
		add_target(l, &t);
		return;
	}

	char *dir = o->project_dir ? xstrdup(o->project_dir) : project_dir_find();
	/* Name files relative to the current directory when the project is here,
	 * so messages read ".env:4" as the user sees the file. */
	char cwd[4096];
	if (getcwd(cwd, sizeof cwd) && strcmp(cwd, dir) == 0) {
		free(dir);
		dir = xstrdup(".");
	}
	int test_run = l->test_run = o->test_run || env_says_test();
	const char *names[] = { ".env.testing", ".env.local", ".env" };
	struct dotenv files[3];
	int loaded[3];
	for (int i = 0; i < 3; i++) {
		memset(&files[i], 0, sizeof files[i]);
		loaded[i] = 0;
		if (i == 0 && !test_run) {
			char *p = path_join(dir, names[i]);
			if (access(p, F_OK) == 0)
				add_candidate(l, p, "", "not a test run: .env.testing is not read", 0);
			free(p);
			continue;
		}
		loaded[i] = load_dotenv(dir, names[i], &files[i]);
		if (loaded[i] < 0) {
			l->config_errors++;
			memset(&t, 0, sizeof t);
			t.unreadable = 1;
			t.origin = path_join(dir, names[i]);
			add_candidate(l, t.origin, "(unreadable)", "cannot be read: its database is unknown", 1);
			add_target(l, &t);
		} else if (loaded[i] > 0) {
			l->config_errors += files[i].errors;
		}
	}

	/* The environment may name only some keys: the framework fills the rest
	 * from the dotenv file it reads, so the first readable file is the fallback. */
	struct dotenv *fallback = NULL;
	for (int i = 0; i < 3 && !fallback; i++)
		if (loaded[i] > 0)
			fallback = &files[i];
	struct source sources[4];
	size_t ns = 0;
	sources[ns++] = (struct source){ "environment", NULL, fallback };
	for (int i = 0; i < 3; i++)
		if (loaded[i] > 0)
			sources[ns++] = (struct source){ files[i].path, &files[i], NULL };

	for (size_t i = 0; i < ns; i++) {
		struct strbuf says = STRBUF_INIT;
		int rc;
		if (!sources[i].file) {
			/* Only keys actually in the environment make it a source. */
			struct source bare = { "environment", NULL, NULL };
			struct target probe;
			struct strbuf ignore = STRBUF_INIT;
			rc = target_from(&bare, dir, &probe, &ignore);
			sb_free(&ignore);
			if (rc > 0)
				target_free(&probe), rc = target_from(&sources[i], dir, &t, &says);
		} else {
			rc = target_from(&sources[i], dir, &t, &says);
		}
		if (rc < 0) {
			l->config_errors++;
			add_candidate(l, sources[i].name, "(malformed)", "malformed database setting", 0);
		} else if (rc == 0) {
			add_candidate(l, sources[i].name, "", "names no database", 0);
		} else {
			int first = l->n == 0;
			int added = add_target(l, &t);
			add_candidate(l, sources[i].name, sb_str(&says),
			              !added ? "names the same database as a stronger source"
			              : first ? "primary: the strongest source that names a database"
			                      : "also configured for this run: checked as well", added);
		}
		sb_free(&says);
	}
	for (int i = 0; i < 3; i++)
		if (loaded[i] > 0)
			dotenv_free(&files[i]);
	free(dir);
}

void target_list_free(struct target_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		target_free(&l->v[i]);
	free(l->v);
	for (size_t i = 0; i < l->ncand; i++) {
		free(l->cand[i].source);
		free(l->cand[i].says);
		free(l->cand[i].why);
	}
	free(l->cand);
	memset(l, 0, sizeof *l);
}
