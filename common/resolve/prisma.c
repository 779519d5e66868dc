/* prisma.c — Prisma's schema: the datasource block's provider and
 * its url (also directUrl, which migrations use, and shadowDatabaseUrl,
 * which `prisma migrate dev` wipes), each a literal or env("X").  Prisma
 * reads X from the process environment, then .env at the project root and
 * beside the schema; an application (Next.js, Vite) may have loaded it from
 * its own dotenv files, so every definition this run can see is a target.
 * A SQLite "file:" path is relative to the schema's directory. */
#include "resolve/framework.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "model/dburl.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

struct pr {
	const char *p;
	int line;
};

static void pr_ws(struct pr *ps, int newlines)
{
	for (;;) {
		if (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || (newlines && *ps->p == '\n')) {
			if (*ps->p == '\n')
				ps->line++;
			ps->p++;
		} else if (ps->p[0] == '/' && ps->p[1] == '/') {
			while (*ps->p && *ps->p != '\n')
				ps->p++;
		} else {
			return;
		}
	}
}

static char *pr_ident(struct pr *ps)
{
	const char *s = ps->p;
	while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
		ps->p++;
	return ps->p > s ? xstrndup(s, (size_t)(ps->p - s)) : NULL;
}

/* A "string" with \" \\ \n escapes; NULL when unterminated. */
static char *pr_string(struct pr *ps)
{
	if (*ps->p != '"')
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	const char *p = ps->p + 1;
	for (; *p && *p != '"' && *p != '\n'; p++) {
		if (*p == '\\' && p[1] && p[1] != '\n') {
			p++;
			sb_addc(&sb, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
			continue;
		}
		sb_addc(&sb, *p);
	}
	if (*p != '"') {
		sb_free(&sb);
		return NULL;
	}
	ps->p = p + 1;
	sb_addc(&sb, '\0');
	return sb_detach(&sb);
}

/* Skip one balanced expression on this line (strings, (), [], {}), or
 * with block a block body up to and past its closing brace (ps->p just
 * after '{'; only braces nest there). */
static int pr_skip(struct pr *ps, int block)
{
	int depth = block;
	while (*ps->p) {
		char c = *ps->p;
		if (c == '"') {
			char *s = pr_string(ps);
			if (!s)
				return -1;
			free(s);
			continue;
		}
		if (c == '\n' && depth == 0)
			return 0;
		if (c == '/' && ps->p[1] == '/') {
			pr_ws(ps, 0);
			continue;
		}
		if (c == '\n')
			ps->line++;
		int open = c == '{' || (!block && (c == '(' || c == '['));
		int close = c == '}' || (!block && (c == ')' || c == ']'));
		if (close && depth == 0)
			return 0;
		ps->p++;
		if (open)
			depth++;
		else if (close && --depth == 0 && block)
			return 0;
	}
	return block || depth ? -1 : 0;
}

static int pr_datasource(struct pr *ps, struct prisma_ds *ds, char *err, size_t errlen)
{
	for (;;) {
		pr_ws(ps, 1);
		if (*ps->p == '}') {
			ps->p++;
			return 0;
		}
		int line = ps->line;
		char *key = pr_ident(ps);
		if (!key) {
			snprintf(err, errlen, "%d: expected a field or '}' in the datasource block", ps->line);
			return -1;
		}
		pr_ws(ps, 0);
		if (*ps->p != '=') {
			snprintf(err, errlen, "%d: expected '=' after '%s'", ps->line, key);
			free(key);
			return -1;
		}
		ps->p++;
		pr_ws(ps, 0);
		const char *fields[] = { "url", "directUrl", "shadowDatabaseUrl" };
		int fi = -1;
		for (int i = 0; i < 3; i++)
			if (strcmp(key, fields[i]) == 0)
				fi = i;
		if (strcmp(key, "provider") == 0 && *ps->p == '"') {
			free(ds->provider);
			if (!(ds->provider = pr_string(ps))) {
				snprintf(err, errlen, "%d: unterminated string", line);
				free(key);
				return -1;
			}
			ds->provider_line = line;
		} else if (fi >= 0) {
			struct prisma_url u = { fields[fi], NULL, NULL, line, 0 };
			const char *start = ps->p;
			if (*ps->p == '"') {
				if (!(u.literal = pr_string(ps))) {
					snprintf(err, errlen, "%d: unterminated string", line);
					free(key);
					return -1;
				}
			} else if (strncmp(ps->p, "env", 3) == 0) {
				ps->p += 3;
				pr_ws(ps, 0);
				if (*ps->p == '(') {
					ps->p++;
					pr_ws(ps, 0);
					u.env = pr_string(ps);
					pr_ws(ps, 0);
					if (!u.env || *ps->p != ')') {
						free(u.env);
						u.env = NULL;
						u.opaque = 1;
					} else {
						ps->p++;
					}
				} else {
					u.opaque = 1;
				}
			} else {
				u.opaque = 1;
			}
			if (u.opaque) {
				ps->p = start;
				if (pr_skip(ps, 0) < 0) {
					snprintf(err, errlen, "%d: unbalanced value of '%s'", line, key);
					free(key);
					return -1;
				}
			}
			/* A repeated field: the last one counts. */
			int slot = ds->nurls;
			for (int i = 0; i < ds->nurls; i++)
				if (strcmp(ds->urls[i].field, u.field) == 0) {
					free(ds->urls[i].literal);
					free(ds->urls[i].env);
					slot = i;
				}
			ds->urls[slot] = u;
			if (slot == ds->nurls)
				ds->nurls++;
		} else if (pr_skip(ps, 0) < 0) {
			snprintf(err, errlen, "%d: unbalanced value of '%s'", line, key);
			free(key);
			return -1;
		}
		free(key);
	}
}

int prisma_parse(const char *text, struct prisma_ds *ds, char *err, size_t errlen)
{
	memset(ds, 0, sizeof *ds);
	struct pr ps = { text, 1 };
	for (;;) {
		pr_ws(&ps, 1);
		if (!*ps.p)
			return 0;
		int line = ps.line;
		char *kind = pr_ident(&ps);
		if (!kind) {
			snprintf(err, errlen, "%d: expected a block (datasource, generator, model, enum, ...)", ps.line);
			return -1;
		}
		pr_ws(&ps, 0);
		char *name = pr_ident(&ps);
		pr_ws(&ps, 1);
		if (!name || *ps.p != '{') {
			snprintf(err, errlen, "%d: expected '%s NAME {'", line, kind);
			free(kind);
			free(name);
			return -1;
		}
		ps.p++;
		int rc;
		if (strcmp(kind, "datasource") == 0 && !ds->found) {
			ds->found = 1;
			rc = pr_datasource(&ps, ds, err, errlen);
		} else {
			rc = pr_skip(&ps, 1);
			if (rc < 0)
				snprintf(err, errlen, "%d: block '%s %s' is not closed", line, kind, name);
		}
		free(kind);
		free(name);
		if (rc < 0)
			return -1;
	}
}

void prisma_ds_free(struct prisma_ds *ds)
{
	free(ds->provider);
	for (int i = 0; i < ds->nurls; i++) {
		free(ds->urls[i].literal);
		free(ds->urls[i].env);
	}
	memset(ds, 0, sizeof *ds);
}

/* ---- the schema as a source ---- */

/* The schema file: prisma/schema.prisma, schema.prisma, or the datasource
 * file of a multi-file schema in prisma/schema/. */
static char *find_schema(struct run *r)
{
	const char *names[] = { "prisma/schema.prisma", "schema.prisma" };
	for (int i = 0; i < 2; i++) {
		char *p = run_path(r, names[i]);
		if (access(p, F_OK) == 0)
			return p;
		free(p);
	}
	char *dir = run_path(r, "prisma/schema");
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);
	char *found = NULL;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);
		if (!found && len > 7 && strcmp(ents[i]->d_name + len - 7, ".prisma") == 0) {
			char *p = path_join(dir, ents[i]->d_name);
			char *text = read_file(p, NULL);
			if (text && strstr(text, "datasource"))
				found = p;
			else
				free(p);
			free(text);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	free(dir);
	return found;
}

/* 1 read, 0 no schema, -1 unreadable or malformed (reported unless quiet). */
static int load_schema(struct run *r, char **path, struct prisma_ds *ds, int quiet)
{
	*path = find_schema(r);
	if (!*path)
		return 0;
	size_t len;
	char *text = read_file(*path, &len);
	if (!text) {
		if (!quiet) {
			error("cannot read '%s': %s", *path, strerror(errno));
			r->list->config_errors++;
		}
		return -1;
	}
	char err[256];
	int rc = memchr(text, '\0', len) ? (snprintf(err, sizeof err, "1: contains a NUL byte"), -1)
	                                 : prisma_parse(text, ds, err, sizeof err);
	free(text);
	if (rc < 0) {
		if (!quiet) {
			error("%s:%s; Prisma cannot read it either", *path, err);
			r->list->config_errors++;
		}
		prisma_ds_free(ds);
		return -1;
	}
	return 1;
}

void prisma_prepare(struct run *r)
{
	char *path;
	struct prisma_ds ds;
	memset(&ds, 0, sizeof ds);
	/* Errors are reported once, by prisma_schema. */
	int rc = load_schema(r, &path, &ds, 1);
	if (rc > 0) {
		r->prisma_dir = path_dir(path);
		for (int i = 0; i < ds.nurls; i++)
			if (!strcmp(ds.urls[i].field, "url") && ds.urls[i].env)
				r->prisma_url_key = xstrdup(ds.urls[i].env);
	}
	prisma_ds_free(&ds);
	free(path);
}

static const char *engine_of_provider(const char *p)
{
	if (!p)
		return NULL;
	if (!strcmp(p, "postgresql") || !strcmp(p, "postgres") || !strcmp(p, "cockroachdb"))
		return "postgres";
	if (!strcmp(p, "mysql"))
		return "mysql";
	if (!strcmp(p, "sqlite"))
		return "sqlite";
	return NULL;
}

static void add_url(struct run *r, const char *schema, const char *schema_dir, const struct prisma_url *u,
                    const char *engine, const char *url, const char *from)
{
	char *src = from ? xasprintf("%s:%d %s = env(\"%s\") <- %s", schema, u->line, u->field, u->env, from)
	                 : xasprintf("%s:%d %s", schema, u->line, u->field);
	struct target t;
	memset(&t, 0, sizeof t);
	char err[256];
	t.origin = xasprintf("%s (%s)", schema, u->field);
	if (!strncmp(url, "prisma://", 9) || !strncmp(url, "prisma+", 7)) {
		/* Prisma Accelerate: the database sits behind a proxy we cannot see. */
		t.unreadable = 1;
		warn("%s: a Prisma Accelerate URL: the database behind it is unknown", src);
		run_add_target(r, &t, src, "(Prisma Accelerate)", "the database behind the proxy cannot be seen");
		free(src);
		return;
	}
	if (dburl_parse(url, &t, src, err, sizeof err) < 0) {
		error("%s: %s", src, err);
		r->list->config_errors++;
		run_candidate(r, src, "(malformed)", "malformed database URL: Prisma cannot use it either", 0);
		target_free(&t);
		free(src);
		return;
	}
	const char *db = target_get(&t, TF_DATABASE);
	if (!strcmp(engine, "sqlite") && db && db[0] != '/' && strcmp(db, ":memory:")) {
		const char *rel = !strncmp(db, "./", 2) ? db + 2 : db;
		char *p = path_join(schema_dir, rel);
		target_set(&t, TF_DATABASE, p, src);
		free(p);
	}
	if (!target_get(&t, TF_ENGINE))
		target_set(&t, TF_ENGINE, engine, src);
	char *says = target_says(&t);
	char *note = !strcmp(u->field, "url") ? NULL
	           : !strcmp(u->field, "directUrl") ? xstrdup("directUrl: what prisma migrate connects to")
	                                            : xstrdup("shadowDatabaseUrl: prisma migrate dev wipes it");
	run_add_target(r, &t, src, says, note);
	free(note);
	free(says);
	free(src);
}

void prisma_schema(struct run *r)
{
	char *path;
	struct prisma_ds ds;
	memset(&ds, 0, sizeof ds);
	int rc = load_schema(r, &path, &ds, 0);
	if (rc < 0) {
		run_add_unreadable(r, path, "(malformed)", NULL);
	}
	if (rc <= 0) {
		free(path);
		return;
	}
	const char *engine = engine_of_provider(ds.provider);
	if (!ds.found || !engine) {
		char *why = !ds.found ? xstrdup("no datasource block")
		          : ds.provider ? xasprintf("provider '%s' is not an engine dbguard guards", ds.provider)
		                        : xstrdup("the datasource has no provider");
		run_candidate(r, path, "", why, 0);
		free(why);
		goto out;
	}
	char *dir = path_dir(path);
	/* Prisma's own .env beside the schema, when it is not the project's. */
	struct dotenv beside;
	int have_beside = 0;
	if (strcmp(dir, r->dir) != 0 && strcmp(dir, ".") != 0) {
		char *p = path_join(dir, ".env");
		have_beside = dotenv_load_as(p, DOTENV_NODE, &beside) == 0;   /* Prisma reads it with dotenv */
		if (have_beside)
			r->list->config_errors += beside.errors;
		free(p);
	}
	for (int i = 0; i < ds.nurls; i++) {
		const struct prisma_url *u = &ds.urls[i];
		if (u->opaque) {
			char *src = xasprintf("%s:%d %s", path, u->line, u->field);
			struct target t;
			memset(&t, 0, sizeof t);
			t.unreadable = 1;
			t.origin = xasprintf("%s (%s)", path, u->field);
			warn("%s: neither a string nor env(\"X\"): the database is unknown", src);
			run_add_target(r, &t, src, "(not a string or env())", NULL);
			free(src);
			continue;
		}
		if (u->literal) {
			add_url(r, path, dir, u, engine, u->literal, NULL);
			continue;
		}
		/* Every place this run can take X from: the process environment,
		 * the dotenv files of the run, Prisma's .env beside the schema. */
		int any = 0;
		char *where = NULL;
		const char *v = run_getenv(r, u->env, 0, &where);
		if (v && *v) {
			add_url(r, path, dir, u, engine, v, where);
			any = 1;
		}
		free(where);
		for (size_t k = 0; k < r->nfiles; k++) {
			const struct dotenv_entry *e = dotenv_get(r->files[k], u->env);
			if (e && *e->value) {
				char *w = xasprintf("%s:%d", r->files[k]->path, e->line);
				add_url(r, path, dir, u, engine, e->value, w);
				free(w);
				any = 1;
			}
		}
		const struct dotenv_entry *e = have_beside ? dotenv_get(&beside, u->env) : NULL;
		if (e && *e->value) {
			char *w = xasprintf("%s:%d", beside.path, e->line);
			add_url(r, path, dir, u, engine, e->value, w);
			free(w);
			any = 1;
		}
		if (!any) {
			char *src = xasprintf("%s:%d %s", path, u->line, u->field);
			char *says = xasprintf("%s = env(\"%s\")", u->field, u->env);
			char *why = xasprintf("%s is set nowhere this run can see: Prisma would stop", u->env);
			run_candidate(r, src, says, why, 0);
			free(why);
			free(says);
			free(src);
		}
	}
	if (have_beside)
		dotenv_free(&beside);
	free(dir);
out:
	prisma_ds_free(&ds);
	free(path);
}
