/* framework.h — the database settings frameworks keep outside dotenv files:
 * Laravel's configuration cache and phpunit.xml, Rails' config/database.yml,
 * Django settings, Prisma schemas, and the host ports compose publishes
 * (Laravel Sail).  resolve.c walks them in the order of DESIGN.md
 * ("Targets"); each reader adds what it finds to the run's target list and
 * says why, for --explain.  The pure parsers are exposed for the fuzzers. */
#ifndef DBGUARD_FRAMEWORK_H
#define DBGUARD_FRAMEWORK_H

#include <stddef.h>

#include "model/dotenv.h"
#include "model/target.h"
#include "resolve/run.h"

/* ---- the frameworks, strongest first (each returns nothing: it adds) ---- */

/* Laravel: bootstrap/cache/config.php (or APP_CONFIG_CACHE, from the
 * environment or phpunit.xml's entries, NULL outside test runs).  *found is set
 * when a cache is in force, so that resolve can say .env is ignored. */
void laravel_config_cache(struct run *r, const struct dotenv *phpunit_forced, const struct dotenv *phpunit_normal,
                          int *found);
/* phpunit.xml, else phpunit.xml.dist: the <php> <env>/<server> entries.
 * forced gets <server> and force="true" entries (they beat the process
 * environment), normal the other <env> entries.  Returns 1 read, 0 absent,
 * -1 malformed or unreadable (reported, counted in config_errors). */
/* DB_URL as Laravel reads it: what it sets is merged over DB_*; a "null"
 * part sets nothing; sqlite:///name is the relative name. */
int laravel_url_parse(const char *url, struct target *t, const char *source, char *err, size_t errlen);
int phpunit_load(struct run *r, struct dotenv *forced, struct dotenv *normal);
void rails_database_yml(struct run *r);
/* Find the Prisma schema early: a SQLite "file:" URL in the variable its
 * url = env("X") names is relative to the schema's directory, wherever read. */
void prisma_prepare(struct run *r);
void prisma_schema(struct run *r);
void django_settings(struct run *r);
/* Laravel Sail and compose: a host naming a compose service is reached from
 * this machine at its published port.  Rewrites t in place; called by
 * run_add_target. */
void compose_forward(struct run *r, struct target *t);
void compose_release(struct run *r);

/* ---- parsers (pure; also driven by the fuzzers) ---- */

/* A literal value: PHP's var_export output, a Python literal. */
enum lit_kind { LIT_NULL, LIT_STR, LIT_NUM, LIT_BOOL, LIT_MAP, LIT_LIST, LIT_OPAQUE };
struct lit {
	enum lit_kind kind;
	char *s;                  /* text of a string, number, bool ("true"/"false"), or what an opaque value was */
	int line;
	char *where;              /* "FILE:LINE" when the reader knows the file, else NULL */
	size_t n;                 /* map and list: number of items */
	char **keys;              /* map: keys (list: NULL) */
	struct lit **vals;
};
void lit_free(struct lit *v);
/* m[key] for a map, NULL otherwise or when absent. */
struct lit *lit_get(const struct lit *m, const char *key);
/* The text of a string or number, NULL for anything else. */
const char *lit_text(const struct lit *v);

/* Parse the var_export file Laravel writes ("<?php return array (...);").
 * NULL with "line N: what" in err. */
struct lit *phpvar_parse(const char *text, char *err, size_t errlen);

/* phpunit.xml text into forced/normal entries (path names the file). 0, or
 * -1 with "LINE: what" in err. */
int phpunit_parse(const char *text, size_t len, const char *path, struct dotenv *forced,
                  struct dotenv *normal, char *err, size_t errlen);

/* An ERB-expanded, YAML-parsed database.yml: one config per database of env. */
struct dbyml_config {
	char *name;               /* "" for a two-tier file, "primary"/"animals" for multi-db */
	char *val[TF_COUNT];      /* engine holds the adapter */
	char *src[TF_COUNT];      /* "config/database.yml:12" plus where ERB got the value */
	char *url, *url_src;
	int unreadable;           /* an ERB form that cannot be evaluated statically */
	char *why;                /* when unreadable: what and where */
};
struct dbyml {
	struct dbyml_config *v;
	size_t n;
	char **envs;              /* every top-level section, for --explain */
	size_t nenvs;
	int has_env;              /* the file has a section for env */
	int unreadable_all;       /* ERB control flow: nothing in the file can be trusted */
	char *why_all;
};
/* Look up an environment variable for ERB: value or NULL, *where set. */
typedef const char *(*erb_getenv_fn)(void *ctx, const char *key, char **where);
/* 0, or -1 with "LINE: what" in err (a YAML error). */
int dbyml_parse(const char *text, const char *path, const char *env, erb_getenv_fn get, void *ctx,
                struct dbyml *out, char *err, size_t errlen);
void dbyml_free(struct dbyml *y);

/* A Prisma datasource. */
struct prisma_ds {
	char *provider;
	int provider_line;
	struct prisma_url {
		const char *field;    /* "url", "directUrl", "shadowDatabaseUrl" */
		char *literal;        /* the string, or NULL */
		char *env;            /* X of env("X"), or NULL */
		int line;
		int opaque;           /* neither: cannot be read */
	} urls[3];
	int nurls;
	int found;
};
int prisma_parse(const char *text, struct prisma_ds *ds, char *err, size_t errlen);
void prisma_ds_free(struct prisma_ds *ds);

/* Django settings, read statically one file after another (star imports
 * continue the same reading, as Python runs them). */
struct django_settings {
	struct lit *databases;    /* map alias -> settings, or LIT_OPAQUE; NULL while never assigned */
	char *databases_where;    /* "FILE:LINE" of the assignment in force */
	int conditional;          /* assigned inside a block (if/try/def): cannot tell which */
	char *why;                /* why it cannot be read, for the report */
	char *base_dir;           /* BASE_DIR as a project-relative path; NULL unknown */
	int reads_dotenv;         /* environ.Env.read_env / load_dotenv seen */
	char *settings_default;   /* manage.py: setdefault("DJANGO_SETTINGS_MODULE", X) */
	struct lit *symbols_map;  /* top-level names assigned so far, for later references */
};
struct django_io {
	erb_getenv_fn getenv;     /* os.environ, os.getenv, django-environ, decouple */
	/* "from MODULE import *" in file: read that module into s (may be NULL). */
	void (*import_star)(void *ctx, const char *file, const char *module, struct django_settings *s, int depth);
	void *ctx;
};
/* Read Python source `text` of `file` (project-relative path) into s. */
void django_parse(const char *text, const char *file, const struct django_io *io, struct django_settings *s,
                  int depth);
void django_settings_free(struct django_settings *s);

#endif
