/* target.h — a target is one database connection plus where each of its
 * values came from; target resolution walks the sources of DESIGN.md
 * ("Targets") strongest first and keeps every database it finds. */
#ifndef DBGUARD_TARGET_H
#define DBGUARD_TARGET_H

#include <stddef.h>

enum tfield {
	TF_ENGINE,    /* "postgres", "mysql" or "sqlite" */
	TF_HOST,      /* host name, IP, or a Unix socket path/dir (starts with '/') */
	TF_PORT,      /* decimal string */
	TF_DATABASE,  /* database name; for sqlite the file path (or ":memory:") */
	TF_USER,
	TF_PASSWORD,  /* never printed */
	TF_COUNT
};

enum tclass { TC_LOCAL, TC_STAGING, TC_REMOTE, TC_UNKNOWN, TC_PRODUCTION };

struct target {
	char *val[TF_COUNT];     /* NULL when not set */
	char *src[TF_COUNT];     /* where each value came from: "--url", "environment DB_HOST", ".env:4" */
	char *origin;            /* the source that defined the target: "--url", "environment", ".env.testing" */
	char *envname;           /* APP_ENV/RAILS_ENV/... value that applies to it, or NULL */
	char *envname_src;       /* e.g. ".env:1 APP_ENV" */
	int unreadable;          /* a source that could not be read for sure: class unknown */
	char *unpinned;          /* which value could not be pinned and why (for the rule), or NULL */
	enum tclass cls;
	char *rule;              /* the classification rule that fired, human readable */
	char *marker;            /* production marker read by --ping, or NULL */
};

/* Set field f to a copy of value with a copy of source (replacing any old value). */
void target_set(struct target *t, enum tfield f, const char *value, const char *source);
const char *target_get(const struct target *t, enum tfield f);
/* 1 when t's engine is `engine` ("postgres", "mysql", "sqlite"). */
int target_is(const struct target *t, const char *engine);
const char *tfield_name(enum tfield f);              /* "engine", "host", ... */
const char *tclass_name(enum tclass c);              /* "production", ... */
int tclass_parse(const char *s, enum tclass *out);   /* 0 ok, -1 unknown name */
/* Effective values with engine defaults (port 5432/3306, host localhost). */
const char *target_host(const struct target *t);     /* NULL for sqlite */
int target_port(const struct target *t);             /* 0 for sqlite */
/* One-line human description without password: "postgres app@localhost:5432/app_dev". */
char *target_describe(const struct target *t);
/* The name a user types to confirm a destructive act on t: the database
 * name, or a SQLite file's base name. */
const char *target_confirm_name(const struct target *t);
void target_free(struct target *t);
void target_copy(struct target *dst, const struct target *src);

struct target_list {
	struct target *v;
	size_t n;
	int config_errors;       /* malformed input seen while resolving (exit 2) */
	int test_run;            /* --test-run, or APP_ENV/NODE_ENV/... says test */
	struct candidate {
		char *source;        /* ".env", "environment DATABASE_URL", ... */
		char *says;          /* what it says, password masked */
		char *why;           /* why it was used or skipped */
		int used;
	} *cand;
	size_t ncand;
	char **notes;            /* what --explain says about the run besides the sources */
	size_t nnotes;
};

void target_list_free(struct target_list *list);

#endif
