/* run.c — what the framework readers share (run.h): the run's variables,
 * its candidate list and notes, and adding a target after the common
 * finishing.  The readers call into this file and nothing here calls a
 * reader (the compose port forwarding comes in through run->forward), so
 * the link order is resolve.c -> readers -> run.c. */
#include "resolve/run.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/io.h"
#include "base/xalloc.h"
#include "model/project.h"

static const char *const envname_keys[] = { "APP_ENV", "RAILS_ENV", "NODE_ENV", "ENVIRONMENT", "DJANGO_ENV", NULL };

void run_list_candidate(struct target_list *l, const char *source, const char *says, const char *why, int used)
{
	l->cand = xrealloc(l->cand, (l->ncand + 1) * sizeof *l->cand);
	l->cand[l->ncand++] = (struct candidate){ xstrdup(source), xstrdup(says), xstrdup(why), used };
}

static int same_database(const struct target *a, const struct target *b)
{
	/* What could not be read is never "the same" as anything. */
	if (a->unreadable || b->unreadable)
		return 0;
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
int run_list_add(struct target_list *l, struct target *t)
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

const char *run_getenv(const struct run *r, const char *key, int use_files, char **where)
{
	const char *v = getenv(key);
	if (v) {
		*where = xasprintf("environment %s", key);
		return v;
	}
	for (size_t i = 0; use_files && i < r->nfiles; i++) {
		const struct dotenv_entry *e = dotenv_get(r->files[i], key);
		if (e) {
			*where = xasprintf("%s:%d", r->files[i]->path, e->line);
			return e->value;
		}
	}
	return NULL;
}

char *run_path(const struct run *r, const char *name)
{
	return path_join(r->dir, name);
}

void run_candidate(struct run *r, const char *source, const char *says, const char *why, int used)
{
	run_list_candidate(r->list, source, says, why, used);
}

void run_note(struct run *r, const char *fmt, ...)
{
	struct target_list *l = r->list;
	va_list ap;
	va_start(ap, fmt);
	struct strbuf sb = STRBUF_INIT;
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	l->notes = xrealloc(l->notes, (l->nnotes + 1) * sizeof *l->notes);
	l->notes[l->nnotes++] = sb_detach(&sb);
}

void run_envname(const struct run *r, struct target *t, int use_files)
{
	if (t->envname)
		return;
	for (const char *const *k = envname_keys; *k; k++) {
		char *where = NULL;
		const char *v = run_getenv(r, *k, use_files, &where);
		if (v && *v) {
			t->envname = xstrdup(v);
			t->envname_src = strncmp(where, "environment", 11) == 0 ? xstrdup(where) : xasprintf("%s %s", where, *k);
			free(where);
			return;
		}
		free(where);
	}
}

char *target_says(const struct target *t)
{
	struct strbuf sb = STRBUF_INIT;
	for (int f = 0; f < TF_COUNT; f++) {
		if (f == TF_PASSWORD)
			continue;
		const char *v = target_get(t, f);
		if (v || f == TF_ENGINE || f == TF_DATABASE)
			sb_addf(&sb, "%s%s=%s", sb.len ? " " : "", tfield_name(f), v ? v : "-");
	}
	return sb_detach(&sb);
}

static void drop(struct target *t, enum tfield f)
{
	free(t->val[f]);
	free(t->src[f]);
	t->val[f] = t->src[f] = NULL;
}

/* What every target gets before it is listed. */
void run_finish(struct run *r, struct target *t)
{
	const char *engine = target_get(t, TF_ENGINE);
	const char *db = target_get(t, TF_DATABASE);
	if (engine && !strcmp(engine, "sqlite")) {
		/* A SQLite connection has no host: a DB_HOST left in .env beside
		 * DB_CONNECTION=sqlite names nothing and must not classify it. */
		drop(t, TF_HOST);
		drop(t, TF_PORT);
		drop(t, TF_USER);
		drop(t, TF_PASSWORD);
		/* A relative path is relative to the project, as frameworks run there. */
		if (db && db[0] != '/' && strcmp(db, ":memory:") && strcmp(r->dir, ".")) {
			char *abs = path_join(r->dir, db);
			char *src = xstrdup(t->src[TF_DATABASE]);
			target_set(t, TF_DATABASE, abs, src);
			free(src);
			free(abs);
		}
	} else if (!t->unreadable && r->forward) {
		r->forward(r, t);
	}
	run_envname(r, t, 1);
}

int run_found(struct run *r, struct target *t, const char *source, const char *says, const char *note)
{
	struct target_list *l = r->list;
	int first = l->n == 0;
	int added = run_list_add(l, t);
	const char *why = !added ? "names the same database as a stronger source"
	                : first ? "primary: the strongest source that names a database"
	                        : "also configured for this run: checked as well";
	char *full = note && *note ? xasprintf("%s; %s", why, note) : xstrdup(why);
	run_list_candidate(l, source, says, full, added);
	free(full);
	return added;
}

int run_add_target(struct run *r, struct target *t, const char *source, const char *says, const char *note)
{
	run_finish(r, t);
	return run_found(r, t, source, says, note);
}

void run_add_unreadable(struct run *r, const char *path, const char *says, const char *note)
{
	struct target t;
	memset(&t, 0, sizeof t);
	t.unreadable = 1;
	t.origin = xstrdup(path);
	run_add_target(r, &t, path, says, note);
}
