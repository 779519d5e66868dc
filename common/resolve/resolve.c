/* resolve.c — target resolution (DESIGN.md "Targets"): --url; the process
 * environment; the framework overrides that beat dotenv files (Laravel's
 * configuration cache, phpunit.xml for test runs); the dotenv files of this
 * run's environment (Laravel, Symfony, Next.js, Vite, dotenv-flow,
 * dotenv-rails conventions); then database.yml, Prisma and Django settings.
 * Every database configured for this run is kept, the primary one first,
 * because a command may read another file than the one we guessed. */
#include "model/target.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/dburl.h"
#include "model/dotenv.h"
#include "resolve/framework.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/secret.h"
#include "base/xalloc.h"
#include "model/project.h"
#include "resolve/resolve.h"

static const char *const envname_keys[] = { "APP_ENV", "RAILS_ENV", "NODE_ENV", "ENVIRONMENT", "DJANGO_ENV", NULL };
static const char *const test_keys[] = { "APP_ENV", "RAILS_ENV", "RACK_ENV", "NODE_ENV", "ENVIRONMENT", "DJANGO_ENV", NULL };
static const char *const mode_keys[] = { "NODE_ENV", "RAILS_ENV", "RACK_ENV", "APP_ENV", NULL };
static const char *const url_keys[] = { "DATABASE_URL", "DB_URL", NULL };
/* Laravel 11 reads DB_URL, Laravel 10 and older DATABASE_URL. */
static const char *const laravel_url_keys[] = { "DB_URL", "DATABASE_URL", NULL };

/* Where a source looks a key up: its layers in order, NULL meaning the
 * process environment.  The environment as a source falls back to the
 * dotenv file the framework reads for keys it lacks; phpunit.xml's forced
 * entries come before the environment and its other entries after it. */
struct source {
	const char *name;
	const struct dotenv *layer[4];
	int n;
};

static const char *lookup_why(const struct source *s, const char *key, char **where, const char **unpinned)
{
	for (int i = 0; i < s->n; i++) {
		if (!s->layer[i]) {
			const char *v = getenv(key);
			if (v) {
				*where = xasprintf("environment %s", key);
				return v;
			}
			continue;
		}
		const struct dotenv_entry *e = dotenv_get(s->layer[i], key);
		if (e) {
			*where = xasprintf("%s:%d", s->layer[i]->path, e->line);
			if (unpinned)
				*unpinned = e->unpinned;
			return e->value;
		}
	}
	return NULL;
}

static const char *lookup(const struct source *s, const char *key, char **where)
{
	return lookup_why(s, key, where, NULL);
}

/* A value computed when the framework loads the file ($(...)): whatever
 * it names cannot be pinned, so the target is unknown. */
static void mark_unpinned(struct target *t, const char *key, const char *where, const char *why)
{
	t->unreadable = 1;
	if (!t->unpinned)
		t->unpinned = xasprintf("%s (%s) cannot be pinned: %s", key, where, why);
}

static void find_envname_in(struct target *t, const struct source *s)
{
	struct source env = { "environment", { NULL }, 1 };
	for (int pass = 0; pass < 2; pass++)
		for (const char *const *k = envname_keys; *k; k++) {
			char *where = NULL;
			const char *v = lookup(pass == 0 ? &env : s, *k, &where);
			if (v && *v) {
				t->envname = xstrdup(v);
				t->envname_src = pass == 0 ? xstrdup(where) : xasprintf("%s %s", where, *k);
				free(where);
				return;
			}
			free(where);
		}
}

/* ---- variables as a source (environment, dotenv files, phpunit.xml) ---- */

static void set_from(struct target *t, enum tfield f, const struct source *s, const char *key)
{
	char *where = NULL;
	const char *why = NULL;
	const char *v = lookup_why(s, key, &where, &why);
	if (v && *v)
		target_set(t, f, v, where);
	if (v && why && f != TF_PASSWORD)
		mark_unpinned(t, key, where, why);
	free(where);
}

/* A relative SQLite file in a URL means what the framework reading it says:
 * Prisma takes it from the schema's directory, dj-database-url reads
 * sqlite:///name as a relative name. */
static void url_sqlite_path(const struct run *r, const char *key, const char *url, struct target *t)
{
	const char *engine = target_get(t, TF_ENGINE), *db = target_get(t, TF_DATABASE);
	if (!engine || strcmp(engine, "sqlite") || !db)
		return;
	char *src = xstrdup(t->src[TF_DATABASE]);
	if (r->prisma_url_key && !strcmp(key, r->prisma_url_key) && !strncmp(url, "file:", 5) && db[0] != '/' &&
	    strcmp(db, ":memory:")) {
		char *p = path_join(r->prisma_dir, !strncmp(db, "./", 2) ? db + 2 : db);
		target_set(t, TF_DATABASE, p, src);
		free(p);
	} else if (r->django_urls && !strncmp(url, "sqlite:///", 10) && url[10] != '/') {
		target_set(t, TF_DATABASE, url + 10, src);
	}
	free(src);
}

/* The DB_* variables of a source (Laravel's config/database.php). */
static void db_settings(struct target *t, const struct source *s)
{
	char *where = NULL;
	const char *why = NULL;
	const char *conn = lookup_why(s, "DB_CONNECTION", &where, &why);
	if (conn && *conn) {
		const char *engine = engine_from_driver(conn);
		target_set(t, TF_ENGINE, engine ? engine : conn, where);
		if (!engine)
			warn("%s: DB_CONNECTION '%s' is not an engine dbguard knows (pgsql, mysql, mariadb, sqlite); "
			     "its target is unknown", where, conn);
		if (why)
			mark_unpinned(t, "DB_CONNECTION", where, why);
	}
	free(where);
	set_from(t, TF_HOST, s, "DB_HOST");
	set_from(t, TF_PORT, s, "DB_PORT");
	set_from(t, TF_DATABASE, s, "DB_DATABASE");
	set_from(t, TF_USER, s, "DB_USERNAME");
	set_from(t, TF_PASSWORD, s, "DB_PASSWORD");
	if (!target_get(t, TF_HOST))
		set_from(t, TF_HOST, s, "DB_SOCKET");
}

static void guess_engine(struct target *t)
{
	const char *port = target_get(t, TF_PORT);
	const char *db = target_get(t, TF_DATABASE);
	const char *guess = port && !strcmp(port, "5432") ? "postgres"
	                  : port && !strcmp(port, "3306") ? "mysql"
	                  : db && (strstr(db, ".sqlite") || strstr(db, ".db")) ? "sqlite" : NULL;
	if (guess)
		target_set(t, TF_ENGINE, guess, "guessed: no DB_CONNECTION");
}

/* Build the target a source defines; 1 when it defines one, 0 when it says
 * nothing about a database, -1 when what it says is malformed (reported). */
static int target_from(const struct run *r, const struct source *s, struct target *t, struct strbuf *says, int quiet)
{
	memset(t, 0, sizeof *t);
	/* Laravel merges DB_URL into the DB_* settings of the connection
	 * (ConfigurationUrlParser): read those first, the URL over them. */
	int laravel = r->dialect == DOTENV_PHP;
	const char *const *keys = laravel ? laravel_url_keys : url_keys;
	for (const char *const *k = keys; *k; k++) {
		char *where = NULL;
		const char *why = NULL;
		const char *url = lookup_why(s, *k, &where, &why);
		if (!url || !*url) {
			free(where);
			continue;
		}
		char err[256];
		struct target u;
		memset(&u, 0, sizeof u);
		int rc = laravel ? laravel_url_parse(url, &u, where, err, sizeof err)
		                 : dburl_parse(url, &u, where, err, sizeof err);
		if (rc < 0) {
			if (!quiet)
				error(strncmp(where, "environment ", 12) ? "%s: %s: %s" : "%s: %.0s%s", where, *k, err);
			free(where);
			target_free(&u);
			return -1;
		}
		char *masked = mask_url(url);
		sb_addf(says, "%s=%s", *k, masked);
		free(masked);
		if (laravel) {
			db_settings(t, s);
			for (int f = 0; f < TF_COUNT; f++)
				if (target_get(&u, f))
					target_set(t, f, u.val[f], u.src[f]);
			if (!target_get(t, TF_ENGINE))
				guess_engine(t);
			t->unreadable |= u.unreadable;
			if (u.unpinned && !t->unpinned)
				t->unpinned = xstrdup(u.unpinned);
			target_free(&u);
		} else {
			*t = u;
			url_sqlite_path(r, *k, url, t);
		}
		if (why)
			mark_unpinned(t, *k, where, why);
		free(where);
		goto found;
	}
	db_settings(t, s);
	if (!target_get(t, TF_ENGINE) && !target_get(t, TF_HOST) && !target_get(t, TF_DATABASE)) {
		target_free(t);
		return 0;
	}
	if (!target_get(t, TF_ENGINE))
		guess_engine(t);
	sb_addf(says, "DB_CONNECTION=%s DB_HOST=%s DB_PORT=%s DB_DATABASE=%s",
	        target_get(t, TF_ENGINE) ? target_get(t, TF_ENGINE) : "-",
	        target_get(t, TF_HOST) ? target_get(t, TF_HOST) : "-",
	        target_get(t, TF_PORT) ? target_get(t, TF_PORT) : "-",
	        target_get(t, TF_DATABASE) ? target_get(t, TF_DATABASE) : "-");
found:
	t->origin = xstrdup(s->name);
	find_envname_in(t, s);
	return 1;
}

/* Resolve one variable source; probe holds the layers that must name a
 * database for the source to count (the environment alone, not its
 * fallback file). */
static void variable_source(struct run *r, const struct source *s, const struct source *probe, const char *note)
{
	struct target t;
	struct strbuf says = STRBUF_INIT;
	int rc;
	if (probe) {
		struct target p;
		struct strbuf ignore = STRBUF_INIT;
		int save = msg_verbosity;
		msg_verbosity = 0;   /* the full source reports any problem */
		rc = target_from(r, probe, &p, &ignore, 1);
		msg_verbosity = save;
		sb_free(&ignore);
		if (rc > 0)
			target_free(&p);
		if (rc != 0)
			rc = target_from(r, s, &t, &says, 0);
	} else {
		rc = target_from(r, s, &t, &says, 0);
	}
	if (rc < 0) {
		r->list->config_errors++;
		run_list_candidate(r->list, s->name, "(malformed)", "malformed database setting", 0);
	} else if (rc == 0) {
		run_list_candidate(r->list, s->name, "", "names no database", 0);
	} else {
		run_finish(r, &t);
		run_found(r, &t, s->name, sb_str(&says), note);
	}
	sb_free(&says);
}

/* ---- the run ---- */

static int env_says_test(void)
{
	for (const char *const *k = test_keys; *k; k++) {
		const char *v = getenv(*k);
		if (v && (!strcasecmp(v, "test") || !strcasecmp(v, "testing")))
			return 1;
	}
	return 0;
}


/* The loader that reads this project's dotenv files: its framework's. */
static const char *project_dialect(struct run *r)
{
	static const struct { const char *file; enum dotenv_dialect d; const char *why; } marks[] = {
		{ "artisan", DOTENV_PHP, "'artisan': a Laravel project (phpdotenv)" },
		{ "config/application.rb", DOTENV_RUBY, "'config/application.rb': a Rails project (dotenv-rails)" },
		{ "Gemfile", DOTENV_RUBY, "'Gemfile': a Ruby project (dotenv)" },
		{ "manage.py", DOTENV_GENERIC, "'manage.py': a Django project (python-dotenv or django-environ)" },
		{ "package.json", DOTENV_NODE, "'package.json': a Node project (Next.js, Vite, Prisma, Knex: dotenv + dotenv-expand)" },
	};
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
		char *p = run_path(r, marks[i].file);
		int here = access(p, F_OK) == 0;
		free(p);
		if (here) {
			r->dialect = marks[i].d;
			return marks[i].why;
		}
	}
	r->dialect = DOTENV_GENERIC;
	return "no framework found: the rules the loaders share";
}

/* Load name from dir; 1 loaded, 0 absent, -1 unreadable (reported). */
static int load_dotenv(const char *dir, const char *name, enum dotenv_dialect dialect, struct dotenv *d)
{
	char *path = path_join(dir, name);
	int rc = 1;
	if (dotenv_load_as(path, dialect, d) < 0) {
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

/* The dotenv files of this run, strongest first, each with why it is read.
 * The environments of the run are the NODE_ENV / RAILS_ENV / RACK_ENV /
 * APP_ENV values set, "testing" and "test" on a test run, else
 * "development"; each brings .env.<env>.local and .env.<env> (Next.js, Vite,
 * dotenv-flow, Symfony, dotenv-rails; Laravel's .env.testing and
 * .env.<APP_ENV>), then .env.local and .env. */
static void dotenv_names(int test_run, struct strvec *names, struct strvec *whys, struct strvec *modes)
{
	for (const char *const *k = mode_keys; *k; k++) {
		const char *v = getenv(*k);
		int dup = 0;
		for (size_t i = 0; v && i < modes->n; i++)
			dup |= strcmp(modes->v[i], v) == 0;
		if (v && *v && !dup && !strchr(v, '/'))
			sv_push(modes, v);
	}
	if (test_run) {
		const char *t[] = { "testing", "test" };
		for (int k = 0; k < 2; k++) {
			int dup = 0;
			for (size_t i = 0; i < modes->n; i++)
				dup |= strcmp(modes->v[i], t[k]) == 0;
			if (!dup)
				sv_push(modes, t[k]);
		}
	}
	if (!modes->n)
		sv_push(modes, "development");
	for (size_t i = 0; i < modes->n; i++) {
		const char *m = modes->v[i];
		int testing = !strcmp(m, "testing"), test = !strcmp(m, "test");
		for (int local = 1; local >= 0; local--) {
			if (testing && local)
				continue;
			char *name = xasprintf(".env.%s%s", m, local ? ".local" : "");
			int dup = 0;
			for (size_t k = 0; k < names->n; k++)
				dup |= strcmp(names->v[k], name) == 0;
			if (dup || !strcmp(name, ".env.local")) {
				free(name);
				continue;
			}
			sv_push_owned(names, name);
			if (testing)
				sv_push(whys, "test run: Laravel reads .env.testing instead of .env");
			else if (test)
				sv_pushf(whys, "test run: read by Next.js, Vite, dotenv-flow, Symfony and dotenv-rails in 'test'");
			else
				sv_pushf(whys, "environment '%s': read by Next.js, Vite, dotenv-flow, Symfony and dotenv-rails", m);
		}
	}
	sv_push(names, ".env.local");
	sv_push(whys, test_run ? "read by Vite (Next.js, dotenv-flow and Symfony skip it in tests)"
	                       : "read by Next.js, Vite, dotenv-flow, Symfony and dotenv-rails");
	sv_push(names, ".env");
	sv_push(whys, "");
}

/* Dotenv files present but not read by this run, for --explain. */
static void unread_dotenv(struct run *r, const struct strvec *names, const struct strvec *modes)
{
	struct dirent **ents;
	int n = scandir(r->dir, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;
		int skip = strncmp(d, ".env.", 5) != 0;
		const char *suffixes[] = { ".example", ".sample", ".dist", ".template", ".bak", ".orig", ".swp", "~", ".defaults", NULL };
		size_t len = strlen(d);
		for (const char **s = suffixes; !skip && *s; s++)
			skip = len >= strlen(*s) && strcmp(d + len - strlen(*s), *s) == 0;
		for (size_t k = 0; !skip && k < names->n; k++)
			skip = strcmp(names->v[k], d) == 0;
		if (!skip) {
			char *path = run_path(r, d);
			char *env = xstrdup(d + 5);
			char *dot = strstr(env, ".local");
			if (dot && !dot[6])
				*dot = '\0';
			char *why;
			if (!strcmp(env, "testing") || !strcmp(env, "test"))
				why = xasprintf("not a test run: %s is not read", d);
			else
				why = xasprintf("read only when NODE_ENV, RAILS_ENV or APP_ENV is '%s' (this run: %s)", env, modes->v[0]);
			run_list_candidate(r->list, path, "", why, 0);
			free(why);
			free(env);
			free(path);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

/* --url: the only target, as given (the environment still names its variables). */
static void resolve_url(const char *url, struct target_list *l)
{
	struct target t;
	char err[256];
	memset(&t, 0, sizeof t);
	if (dburl_parse(url, &t, "--url", err, sizeof err) < 0) {
		error("--url: %s", err);
		l->config_errors++;
		target_free(&t);
		return;
	}
	t.origin = xstrdup("--url");
	struct source env = { "environment", { NULL }, 1 };
	find_envname_in(&t, &env);
	char *masked = mask_url(url);
	run_list_candidate(l, "--url", masked, "given on the command line: the only target", 1);
	free(masked);
	run_list_add(l, &t);
}

/* The -v note on which environments this run has and which dotenv files it read. */
static void note_dotenv_files(struct run *run, struct dotenv *const *read, size_t nread, const struct strvec *modes)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < nread; i++)
		sb_addf(&sb, "%s%s", i ? ", " : "", read[i]->path);
	struct strbuf ms = STRBUF_INIT;
	for (size_t i = 0; i < modes->n; i++)
		sb_addf(&ms, "%s%s", i ? ", " : "", modes->v[i]);
	run_note(run, "environments of this run: %s; dotenv files read: %s", sb_str(&ms), nread ? sb_str(&sb) : "none");
	sb_free(&ms);
	sb_free(&sb);
}

/* 3. framework overrides: phpunit.xml (read first: it may move the config
 * cache), then Laravel's configuration cache.  Whether that cache is in force. */
static int framework_overrides(struct run *run, const struct dotenv *fallback)
{
	struct dotenv forced, normal;
	int phpunit = phpunit_load(run, &forced, &normal);
	int cache = 0;
	laravel_config_cache(run, phpunit > 0 ? &forced : NULL, phpunit > 0 ? &normal : NULL, &cache);
	if (cache)
		run_note(run, "Laravel's configuration cache is in force: Laravel ignores .env, the environment's DB_* "
		              "variables and phpunit.xml until 'php artisan config:clear'");
	if (phpunit > 0) {
		struct source ps = { forced.path, { &forced, NULL, &normal, fallback }, fallback ? 4 : 3 };
		struct source pprobe = { forced.path, { &forced, &normal }, 2 };
		variable_source(run, &ps, &pprobe,
		                cache ? "test run: PHPUnit sets these before the suite starts, but the configuration cache wins"
		                      : "test run: PHPUnit sets these before the suite starts; no dotenv file overrides them");
		dotenv_free(&forced);
		dotenv_free(&normal);
	}
	return cache;
}

void resolve_targets(const struct resolve_opts *o, struct target_list *l)
{
	memset(l, 0, sizeof *l);
	if (o->url) {
		resolve_url(o->url, l);
		return;
	}
	struct target t;
	char *dir = o->project_dir ? xstrdup(o->project_dir) : project_dir_find();
	/* Name files relative to the current directory when the project is here,
	 * so messages read ".env:4" as the user sees the file. */
	char cwd[4096];
	if (getcwd(cwd, sizeof cwd) && strcmp(cwd, dir) == 0) {
		free(dir);
		dir = xstrdup(".");
	}
	int test_run = l->test_run = o->test_run || env_says_test();
	struct run run = { .dir = dir, .test_run = test_run, .list = l, .forward = compose_forward };
	char *manage = run_path(&run, "manage.py");
	run.django_urls = access(manage, F_OK) == 0;
	free(manage);
	const char *dialect_why = project_dialect(&run);
	run_note(&run, "dotenv files are read as %s does: %s", dotenv_dialect_name(run.dialect), dialect_why);
	prisma_prepare(&run);

	struct strvec names = STRVEC_INIT, whys = STRVEC_INIT, modes = STRVEC_INIT;
	dotenv_names(test_run, &names, &whys, &modes);
	struct dotenv *files = xcalloc(names.n, sizeof *files);
	int *loaded = xcalloc(names.n, sizeof *loaded);
	struct dotenv **read = xcalloc(names.n, sizeof *read);
	size_t nread = 0;
	for (size_t i = 0; i < names.n; i++) {
		loaded[i] = load_dotenv(dir, names.v[i], run.dialect, &files[i]);
		if (loaded[i] < 0) {
			l->config_errors++;
			memset(&t, 0, sizeof t);
			t.unreadable = 1;
			t.origin = path_join(dir, names.v[i]);
			run_list_candidate(l, t.origin, "(unreadable)", "cannot be read: its database is unknown", 1);
			run_list_add(l, &t);
		} else if (loaded[i] > 0) {
			l->config_errors += files[i].errors;
			read[nread++] = &files[i];
		}
	}
	run.files = read;
	run.nfiles = nread;
	note_dotenv_files(&run, read, nread, &modes);

	/* The environment may name only some keys: the framework fills the rest
	 * from the dotenv file it reads, so the first readable file is the fallback. */
	const struct dotenv *fallback = nread ? read[0] : NULL;

	/* 2. the process environment */
	struct source env = { "environment", { NULL, fallback }, fallback ? 2 : 1 };
	struct source bare = { "environment", { NULL }, 1 };
	variable_source(&run, &env, &bare, NULL);

	int cache = framework_overrides(&run, fallback);

	/* 4. dotenv files */
	for (size_t i = 0; i < names.n; i++) {
		if (loaded[i] <= 0)
			continue;
		/* Frameworks merge per key: a variable set in the environment wins
		 * over the same key in any dotenv file (phpdotenv, python-dotenv and
		 * dotenv for Node never overwrite one). */
		struct source s = { files[i].path, { NULL, &files[i] }, 2 };
		const char *why = whys.v[i];
		char *note = cache ? xasprintf("%s%signored by Laravel while its configuration cache exists", why, *why ? "; " : "")
		                   : xstrdup(why);
		variable_source(&run, &s, NULL, note);
		free(note);
	}
	unread_dotenv(&run, &names, &modes);

	/* 5. other framework files */
	rails_database_yml(&run);
	prisma_schema(&run);
	django_settings(&run);

	for (size_t i = 0; i < names.n; i++)
		if (loaded[i] > 0)
			dotenv_free(&files[i]);
	free(files);
	free(loaded);
	free(read);
	sv_free(&names);
	sv_free(&whys);
	sv_free(&modes);
	compose_release(&run);
	free(run.prisma_dir);
	free(run.prisma_url_key);
	free(dir);
}

