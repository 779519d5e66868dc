/* run.h — one run of target resolution as the framework readers see it
 * (run.c): the variables of the run, adding targets and candidates, notes
 * for --explain.  The readers (framework.h) build on this; resolve.c drives
 * them. */
#ifndef DBGUARD_RUN_H
#define DBGUARD_RUN_H

#include <stddef.h>

#include "model/dotenv.h"
#include "model/target.h"

struct compose_project;

/* One run as the frameworks see it (built by resolve.c). */
struct run {
	const char *dir;             /* project directory; "." when it is the current one */
	int test_run;
	struct dotenv **files;       /* the dotenv files read for this run, strongest first */
	size_t nfiles;
	struct target_list *list;
	char *prisma_dir;            /* directory of the Prisma schema, or NULL */
	char *prisma_url_key;        /* X of its url = env("X"), or NULL */
	enum dotenv_dialect dialect; /* how the project's framework reads its dotenv files */
	int django_urls;             /* a Django project: sqlite:///name is relative (dj-database-url) */
	struct compose_project *compose;  /* read once, when a host may be a compose service */
	int compose_tried;
	/* the compose port forwarding (compose_forward), set by resolve.c */
	void (*forward)(struct run *r, struct target *t);
};

/* KEY as the framework's process sees it: the process environment, then
 * (with use_files) the run's dotenv files strongest first.  *where gets
 * "environment KEY" or "FILE:LINE" (caller frees); NULL when unset. */
const char *run_getenv(const struct run *r, const char *key, int use_files, char **where);
/* The project-relative path of name ("bootstrap/cache/config.php"). Caller frees. */
char *run_path(const struct run *r, const char *name);
/* Record a source for --explain. */
void run_candidate(struct run *r, const char *source, const char *says, const char *why, int used);
/* A note for --explain (and nothing else): printf-style. */
void run_note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add t (taken over; its origin set by the caller) after the common
 * finishing (SQLite paths, compose ports, environment name), and record the
 * candidate `source` saying `says`; `note` is appended to the reason.
 * Returns 1 when it is a new database, 0 when a stronger source named it. */
int run_add_target(struct run *r, struct target *t, const char *source, const char *says, const char *note);
/* A database the file at path names but that cannot be read from it: an
 * unreadable target listed as the candidate path saying `says`. */
void run_add_unreadable(struct run *r, const char *path, const char *says, const char *note);
/* Set t's environment name from the run (process environment, then files). */
void run_envname(const struct run *r, struct target *t, int use_files);
/* Describe t for "says": "engine=mysql host=db port=3306 database=app". Caller frees. */
char *target_says(const struct target *t);

/* ---- for resolve.c ---- */

/* Add a candidate line for --explain. */
void run_list_candidate(struct target_list *l, const char *source, const char *says, const char *why, int used);
/* Add t (taking it over) unless an equal database is listed already; 1 added. */
int run_list_add(struct target_list *l, struct target *t);
/* What every target gets before it is listed (SQLite paths, compose ports,
 * environment name). */
void run_finish(struct run *r, struct target *t);
/* List t (already finished) and record the candidate; 1 when new. */
int run_found(struct run *r, struct target *t, const char *source, const char *says, const char *note);

#endif
