/* rails.c — Rails' config/database.yml: ERB first (the common
 * ENV forms only), then YAML through libyaml with anchors and merge keys,
 * the section of this run's RAILS_ENV, two- and three-tier (multi-database)
 * layouts.  ERB we cannot evaluate makes the value unreadable, and a target
 * built on an unreadable value is "unknown", never "local". */
#include "resolve/framework.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "model/dburl.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

enum { MAX_MERGE_DEPTH = 32 };
#define TOKEN_PREFIX "__dbguard_erb_"

/* ---- ERB ---- */

struct erb_value {
	char *value;     /* NULL: cannot be evaluated */
	char *what;      /* the tag as written (shortened) */
	char *from;      /* "ENV['X'] from .env:3", "default of ENV.fetch('X')" */
	int line;
};

struct erb {
	struct erb_value *v;
	size_t n;
	int control_line;   /* first <% code %> tag, 0 when none */
	char *control_what;
};

struct rb {
	const char *p;
};

static void rb_ws(struct rb *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static int rb_lit(struct rb *r, const char *s)
{
	rb_ws(r);
	size_t n = strlen(s);
	if (strncmp(r->p, s, n) != 0)
		return 0;
	r->p += n;
	return 1;
}

/* A Ruby string literal without interpolation; NULL when it is not one. */
static char *rb_string(struct rb *r)
{
	rb_ws(r);
	char q = *r->p;
	if (q != '\'' && q != '"')
		return NULL;
	const char *p = r->p + 1;
	struct strbuf sb = STRBUF_INIT;
	for (; *p && *p != q; p++) {
		if (q == '"' && *p == '#' && p[1] == '{')
			goto bad;
		if (*p == '\\' && p[1]) {
			p++;
			if (q == '\'' && *p != '\\' && *p != '\'')
				sb_addc(&sb, '\\');
			sb_addc(&sb, q == '"' && *p == 'n' ? '\n' : q == '"' && *p == 't' ? '\t' : *p);
			continue;
		}
		sb_addc(&sb, *p);
	}
	if (*p != q)
		goto bad;
	r->p = p + 1;
	sb_addc(&sb, '\0');
	return sb_detach(&sb);
bad:
	sb_free(&sb);
	return NULL;
}

/* A literal default: a string, an integer, nil, true, false. */
static char *rb_literal(struct rb *r)
{
	rb_ws(r);
	if (*r->p == '\'' || *r->p == '"')
		return rb_string(r);
	const char *s = r->p;
	if (*r->p == '-')
		r->p++;
	if (isdigit((unsigned char)*r->p)) {
		while (isdigit((unsigned char)*r->p) || *r->p == '_')
			r->p++;
		return xstrndup(s, (size_t)(r->p - s));
	}
	r->p = s;
	const char *words[] = { "nil", "true", "false" };
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);
		if (strncmp(r->p, words[i], n) == 0 && !isalnum((unsigned char)r->p[n]) && r->p[n] != '_') {
			r->p += n;
			return xstrdup(i == 0 ? "" : words[i]);
		}
	}
	return NULL;
}

/* Evaluate the common forms; 1 with value set, 0 when it is anything else.
 *   ENV['X']   ENV['X'] || 'd'   ENV.fetch('X')   ENV.fetch('X', 'd')
 *   ENV.fetch('X') { 'd' }   and a bare literal. */
static int erb_eval(const char *expr, erb_getenv_fn get, void *ctx, char **value, char **from)
{
	struct rb r = { expr };
	char *key = NULL, *def = NULL;
	int fetch = 0, have_def = 0;
	*value = *from = NULL;
	if (rb_lit(&r, "ENV[")) {
		if (!(key = rb_string(&r)) || !rb_lit(&r, "]"))
			goto no;
		if (rb_lit(&r, "||")) {
			if (!(def = rb_literal(&r)))
				goto no;
			have_def = 1;
		}
	} else if (rb_lit(&r, "ENV.fetch")) {
		fetch = 1;
		int paren = rb_lit(&r, "(");
		if (!(key = rb_string(&r)))
			goto no;
		if (paren && rb_lit(&r, ",")) {
			if (!(def = rb_literal(&r)))
				goto no;
			have_def = 1;
		}
		if (paren && !rb_lit(&r, ")"))
			goto no;
		if (!have_def && rb_lit(&r, "{")) {
			if (rb_lit(&r, "|")) {
				while (isalnum((unsigned char)*r.p) || *r.p == '_')
					r.p++;
				if (!rb_lit(&r, "|"))
					goto no;
			}
			if (!(def = rb_literal(&r)) || !rb_lit(&r, "}"))
				goto no;
			have_def = 1;
		}
	} else {
		if (!(def = rb_literal(&r)))
			goto no;
		rb_ws(&r);
		if (*r.p)
			goto no;
		*value = def;
		*from = xstrdup("a literal");
		return 1;
	}
	rb_ws(&r);
	if (*r.p)
		goto no;
	char *where = NULL;
	const char *v = get ? get(ctx, key, &where) : NULL;
	if (v) {
		*value = xstrdup(v);
		*from = xasprintf("ENV['%s'] from %s", key, where ? where : "the environment");
	} else if (have_def) {
		*value = def;
		def = NULL;
		*from = xasprintf("'%s' unset: the default", key);
	} else if (!fetch) {
		*value = xstrdup("");
		*from = xasprintf("ENV['%s'] unset", key);
	} else {
		/* ENV.fetch without a default raises: Rails would not start. */
		free(where);
		goto no;
	}
	free(where);
	free(key);
	free(def);
	return 1;
no:
	free(key);
	free(def);
	return 0;
}

static char *shorten(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n && sb.len < 60; i++)
		sb_addc(&sb, s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i]);
	if (n > 60)
		sb_adds(&sb, "...");
	return sb_detach(&sb);
}

/* Replace every ERB tag: <%= %> by a token resolved after YAML parsing,
 * <%# %> by nothing, <% code %> by its newlines (and the file is marked). */
static char *erb_expand(const char *text, struct erb *e, erb_getenv_fn get, void *ctx)
{
	struct strbuf out = STRBUF_INIT;
	int line = 1;
	const char *p = text;
	while (*p) {
		if (p[0] != '<' || p[1] != '%') {
			if (*p == '\n')
				line++;
			sb_addc(&out, *p++);
			continue;
		}
		if (p[2] == '%') {   /* <%% is a literal <% */
			sb_adds(&out, "<%");
			p += 3;
			continue;
		}
		const char *end = strstr(p + 2, "%>");
		if (!end) {
			/* ERB itself rejects this; keep it so YAML shows it verbatim. */
			sb_adds(&out, p);
			break;
		}
		const char *body = p + 2;
		char kind = *body;
		if (kind == '=' || kind == '#' || kind == '-')
			body++;
		const char *bend = end;
		if (bend > body && bend[-1] == '-')
			bend--;
		int tag_line = line;
		for (const char *q = p; q < end; q++)
			if (*q == '\n')
				line++;
		if (kind == '=') {
			char *expr = xstrndup(body, (size_t)(bend - body));
			struct erb_value v = { NULL, shorten(p, (size_t)(end + 2 - p)), NULL, tag_line };
			if (!erb_eval(expr, get, ctx, &v.value, &v.from)) {
				free(v.value);
				free(v.from);
				v.value = v.from = NULL;
			}
			free(expr);
			e->v = xrealloc(e->v, (e->n + 1) * sizeof *e->v);
			e->v[e->n] = v;
			sb_addf(&out, TOKEN_PREFIX "%zu__", e->n);
			e->n++;
		} else if (kind != '#') {
			int blank = 1;
			for (const char *q = body; q < bend; q++)
				if (!isspace((unsigned char)*q))
					blank = 0;
			if (!blank && !e->control_line) {
				e->control_line = tag_line;
				e->control_what = shorten(p, (size_t)(end + 2 - p));
			}
		}
		for (const char *q = p; q < end; q++)
			if (*q == '\n')
				sb_addc(&out, '\n');
		p = end + 2;
	}
	sb_addc(&out, '\0');
	return sb_detach(&out);
}

static void erb_free(struct erb *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].value);
		free(e->v[i].what);
		free(e->v[i].from);
	}
	free(e->v);
	free(e->control_what);
}

/* ---- YAML ---- */

struct yml {
	yaml_document_t doc;
	const char *path;
	struct erb *erb;
	long budget;       /* merge-key steps left: repeated or cyclic merges grow exponentially */
};

static yaml_node_t *node(struct yml *y, int id)
{
	return id ? yaml_document_get_node(&y->doc, id) : NULL;
}

static int scalar_is(yaml_node_t *n, const char *s)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
	       memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

/* Look key up in a mapping, explicit keys first, then the merge keys (<<:
 * *a or <<: [*a, *b], earlier merges winning), as Psych does. */
static yaml_node_t *map_get(struct yml *y, yaml_node_t *m, const char *key, int depth)
{
	if (!m || m->type != YAML_MAPPING_NODE || depth > MAX_MERGE_DEPTH || --y->budget < 0)
		return NULL;
	yaml_node_t *found = NULL;
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++)
		if (scalar_is(node(y, pr->key), key) && strcmp(key, "<<") != 0)
			found = node(y, pr->value);
	if (found)
		return found;
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(y, pr->key), *v = node(y, pr->value);
		if (!scalar_is(k, "<<") || !v || k->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			continue;
		if (v->type == YAML_MAPPING_NODE) {
			if ((found = map_get(y, v, key, depth + 1)))
				return found;
		} else if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
				if ((found = map_get(y, node(y, *it), key, depth + 1)))
					return found;
		}
	}
	return NULL;
}

/* Every key of a mapping, merged ones included, once each. */
static void map_keys(struct yml *y, yaml_node_t *m, struct strvec *keys, int depth)
{
	if (!m || m->type != YAML_MAPPING_NODE || depth > MAX_MERGE_DEPTH || --y->budget < 0)
		return;
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(y, pr->key), *v = node(y, pr->value);
		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		if (scalar_is(k, "<<") && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && v) {
			if (v->type == YAML_MAPPING_NODE)
				map_keys(y, v, keys, depth + 1);
			else if (v->type == YAML_SEQUENCE_NODE)
				for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
					map_keys(y, node(y, *it), keys, depth + 1);
			continue;
		}
		char *s = xstrndup((const char *)k->data.scalar.value, k->data.scalar.length);
		int seen = 0;
		for (size_t i = 0; i < keys->n; i++)
			if (strcmp(keys->v[i], s) == 0)
				seen = 1;
		if (seen)
			free(s);
		else
			sv_push_owned(keys, s);
	}
}

/* A scalar's value with the ERB tokens resolved.  NULL for null, a
 * non-scalar, or an empty value; *unreadable and *why when an ERB tag in it
 * cannot be evaluated; *how describes where ERB values came from. */
static char *scalar_value(struct yml *y, yaml_node_t *n, int *unreadable, char **why, struct strbuf *how)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (len == 0 || scalar_is(n, "~") || scalar_is(n, "null") || scalar_is(n, "Null") || scalar_is(n, "NULL")))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	const size_t tl = strlen(TOKEN_PREFIX);
	for (size_t i = 0; i < len;) {
		size_t idx;
		int used = 0;
		if (len - i > tl && memcmp(s + i, TOKEN_PREFIX, tl) == 0 &&
		    isdigit((unsigned char)s[i + tl]) && sscanf(s + i + tl, "%zu__%n", &idx, &used) == 1 && used > 2 &&
		    idx < y->erb->n &&
		    strncmp(s + i + tl + used - 2, "__", 2) == 0) {
			struct erb_value *v = &y->erb->v[idx];
			if (!v->value) {
				if (!*unreadable) {
					*unreadable = 1;
					free(*why);
					*why = xasprintf("%s:%d: ERB %s cannot be evaluated without running Ruby", y->path, v->line,
					                 v->what);
				}
			} else {
				sb_adds(&sb, v->value);
				sb_addf(how, "%s%s", how->len ? "; " : "", v->from);
			}
			i += tl + (size_t)used;
			continue;
		}
		sb_addc(&sb, s[i++]);
	}
	if (!sb.len) {
		sb_free(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

static const struct { const char *key; enum tfield f; } yml_fields[] = {
	{ "adapter", TF_ENGINE }, { "host", TF_HOST }, { "port", TF_PORT }, { "database", TF_DATABASE },
	{ "username", TF_USER }, { "password", TF_PASSWORD }, { "socket", TF_HOST },
};

static void read_config(struct yml *y, yaml_node_t *m, const char *name, struct dbyml *out)
{
	out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
	struct dbyml_config *c = &out->v[out->n++];
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	for (size_t i = 0; i < sizeof yml_fields / sizeof *yml_fields; i++) {
		enum tfield f = yml_fields[i].f;
		if (c->val[f])   /* host before socket */
			continue;
		yaml_node_t *n = map_get(y, m, yml_fields[i].key, 0);
		if (!n)
			continue;
		struct strbuf how = STRBUF_INIT;
		int unreadable = 0;
		char *why = NULL;
		char *v = scalar_value(y, n, &unreadable, &why, &how);
		/* A password from credentials does not change which database it is. */
		if (unreadable && f != TF_PASSWORD && !c->unreadable) {
			c->unreadable = 1;
			c->why = why;
			why = NULL;
		}
		free(why);
		if (v) {
			c->val[f] = v;
			c->src[f] = how.len ? xasprintf("%s:%zu %s (%s)", y->path, n->start_mark.line + 1,
			                                yml_fields[i].key, sb_str(&how))
			                    : xasprintf("%s:%zu %s", y->path, n->start_mark.line + 1, yml_fields[i].key);
		}
		sb_free(&how);
	}
	yaml_node_t *u = map_get(y, m, "url", 0);
	if (u) {
		struct strbuf how = STRBUF_INIT;
		int unreadable = 0;
		char *why = NULL;
		c->url = scalar_value(y, u, &unreadable, &why, &how);
		if (unreadable && !c->unreadable) {
			c->unreadable = 1;
			c->why = why;
			why = NULL;
		}
		free(why);
		if (c->url)
			c->url_src = how.len ? xasprintf("%s:%zu url (%s)", y->path, u->start_mark.line + 1, sb_str(&how))
			                     : xasprintf("%s:%zu url", y->path, u->start_mark.line + 1);
		sb_free(&how);
	}
}

int dbyml_parse(const char *text, const char *path, const char *env, erb_getenv_fn get, void *ctx,
                struct dbyml *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	struct erb e = { 0 };
	char *expanded = erb_expand(text, &e, get, ctx);
	struct yml y = { .path = path, .erb = &e, .budget = 100000 };
	yaml_parser_t parser;
	int rc = 0;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "0: out of memory");
		free(expanded);
		erb_free(&e);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)expanded, strlen(expanded));
	if (!yaml_parser_load(&parser, &y.doc)) {
		snprintf(err, errlen, "%zu: %s%s%s", parser.problem_mark.line + 1, parser.problem ? parser.problem : "YAML error",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		free(expanded);
		erb_free(&e);
		return -1;
	}
	yaml_parser_delete(&parser);
	if (e.control_line) {
		out->unreadable_all = 1;
		out->why_all = xasprintf("%s:%d: ERB code %s decides what the file says; it cannot be read without running Ruby",
		                         path, e.control_line, e.control_what);
	}
	yaml_node_t *root = yaml_document_get_root_node(&y.doc);
	if (root && root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "%zu: the file is not a mapping of environments", root->start_mark.line + 1);
		rc = -1;
		goto out;
	}
	struct strvec envs = STRVEC_INIT;
	map_keys(&y, root, &envs, 0);
	out->envs = envs.v;
	out->nenvs = envs.n;
	yaml_node_t *sec = map_get(&y, root, env, 0);
	out->has_env = sec != NULL;
	if (sec && sec->type == YAML_SCALAR_NODE) {
		/* development: "postgres://..." — the environment is a URL. */
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		struct dbyml_config *c = &out->v[out->n++];
		memset(c, 0, sizeof *c);
		c->name = xstrdup("");
		struct strbuf how = STRBUF_INIT;
		int unreadable = 0;
		char *why = NULL;
		c->url = scalar_value(&y, sec, &unreadable, &why, &how);
		if (unreadable) {
			c->unreadable = 1;
			c->why = why;
			why = NULL;
		}
		free(why);
		if (c->url)
			c->url_src = how.len ? xasprintf("%s:%zu %s (%s)", path, sec->start_mark.line + 1, env, sb_str(&how))
			                     : xasprintf("%s:%zu %s", path, sec->start_mark.line + 1, env);
		sb_free(&how);
		goto out;
	}
	if (!sec || sec->type != YAML_MAPPING_NODE)
		goto out;
	/* Three-tier (Rails 6 multiple databases) when every value is a mapping. */
	struct strvec keys = STRVEC_INIT;
	map_keys(&y, sec, &keys, 0);
	int three_tier = keys.n > 0;
	for (size_t i = 0; i < keys.n; i++) {
		yaml_node_t *v = map_get(&y, sec, keys.v[i], 0);
		if (!v || v->type != YAML_MAPPING_NODE)
			three_tier = 0;
	}
	if (three_tier)
		for (size_t i = 0; i < keys.n; i++)
			read_config(&y, map_get(&y, sec, keys.v[i], 0), keys.v[i], out);
	else
		read_config(&y, sec, "", out);
	sv_free(&keys);
	if (y.budget < 0 && !out->unreadable_all) {
		out->unreadable_all = 1;
		out->why_all = xasprintf("%s: merge keys (<<) repeat or refer to themselves too often to be followed", path);
	}
out:
	yaml_document_delete(&y.doc);
	free(expanded);
	erb_free(&e);
	if (rc < 0)
		dbyml_free(out);
	return rc;
}

void dbyml_free(struct dbyml *y)
{
	for (size_t i = 0; i < y->n; i++) {
		struct dbyml_config *c = &y->v[i];
		free(c->name);
		for (int f = 0; f < TF_COUNT; f++) {
			free(c->val[f]);
			free(c->src[f]);
		}
		free(c->url);
		free(c->url_src);
		free(c->why);
	}
	free(y->v);
	for (size_t i = 0; i < y->nenvs; i++)
		free(y->envs[i]);
	free(y->envs);
	free(y->why_all);
	memset(y, 0, sizeof *y);
}

/* ---- config/database.yml as a source ---- */

struct rails_ctx {
	struct run *r;
	int use_files;
};

static const char *rails_getenv(void *ctx, const char *key, char **where)
{
	struct rails_ctx *c = ctx;
	return run_getenv(c->r, key, c->use_files, where);
}

/* dotenv-rails puts the dotenv files into ENV; without it Rails sees only
 * the process environment. */
static int uses_dotenv(struct run *r)
{
	char *path = run_path(r, "Gemfile");
	char *text = read_file(path, NULL);
	free(path);
	int yes = text && strstr(text, "dotenv") != NULL;
	free(text);
	return yes;
}

/* <NAME>_DATABASE_URL, and DATABASE_URL for the primary config. */
static const char *rails_env_url(struct rails_ctx *ctx, const char *name, char **where)
{
	const char *nm = *name ? name : "primary";
	char *key = xasprintf("%s_DATABASE_URL", nm);
	for (char *k = key; *k; k++)
		*k = (char)toupper((unsigned char)*k);
	const char *v = rails_getenv(ctx, key, where);
	free(key);
	if (!v && !strcmp(nm, "primary")) {
		free(*where);
		*where = NULL;
		v = rails_getenv(ctx, "DATABASE_URL", where);
	}
	return v;
}

void rails_database_yml(struct run *r)
{
	char *path = run_path(r, "config/database.yml");
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		if (errno != ENOENT && errno != ENOTDIR) {
			error("cannot read '%s': %s; the database Rails uses is unknown", path, strerror(errno));
			r->list->config_errors++;
			run_add_unreadable(r, path, "(unreadable)", NULL);
		}
		free(path);
		return;
	}
	/* The environment Rails runs in: RAILS_ENV, RACK_ENV, else development
	 * (test for a test run, as `rails test` sets it). */
	const char *env = getenv("RAILS_ENV");
	const char *env_src = "environment RAILS_ENV";
	if (!env || !*env)
		env = getenv("RACK_ENV"), env_src = "environment RACK_ENV";
	if (!env || !*env) {
		env = r->test_run ? "test" : "development";
		env_src = r->test_run ? "test run: Rails tests run in 'test'" : "no RAILS_ENV: Rails runs in 'development'";
	}
	struct rails_ctx ctx = { r, uses_dotenv(r) };
	struct dbyml y;
	char err[256];
	if (memchr(text, '\0', len)) {
		error("%s: contains a NUL byte; the database Rails uses is unknown", path);
		r->list->config_errors++;
		free(text);
		free(path);
		return;
	}
	if (dbyml_parse(text, path, env, rails_getenv, &ctx, &y, err, sizeof err) < 0) {
		error("%s:%s; Rails cannot load it either", path, err);
		r->list->config_errors++;
		run_add_unreadable(r, path, "(malformed YAML)", NULL);
		free(text);
		free(path);
		return;
	}
	free(text);
	struct strbuf others = STRBUF_INIT;
	for (size_t i = 0; i < y.nenvs; i++)
		if (strcmp(y.envs[i], env) != 0 && strcmp(y.envs[i], "default") != 0)
			sb_addf(&others, "%s%s", others.len ? ", " : "", y.envs[i]);
	if (!y.has_env) {
		char *why = xasprintf("no '%s' section (%s)", env, env_src);
		run_candidate(r, path, sb_str(&others), why, 0);
		free(why);
	}
	for (size_t i = 0; i < y.n; i++) {
		struct dbyml_config *c = &y.v[i];
		struct target t;
		memset(&t, 0, sizeof t);
		for (int f = 0; f < TF_COUNT; f++)
			if (c->val[f])
				target_set(&t, f, c->val[f], c->src[f]);
		if (c->val[TF_ENGINE]) {
			const char *engine = engine_from_driver(c->val[TF_ENGINE]);
			if (engine)
				target_set(&t, TF_ENGINE, engine, c->src[TF_ENGINE]);
			else
				warn("%s: adapter '%s' is not an engine dbguard knows (postgresql, mysql2, trilogy, sqlite3)",
				     c->src[TF_ENGINE], c->val[TF_ENGINE]);
		}
		/* ActiveRecord: a config without url: takes <NAME>_DATABASE_URL, and
		 * the primary one DATABASE_URL, merged over its keys (the URL wins). */
		char *envurl_src = NULL;
		const char *env_url = c->url ? NULL : rails_env_url(&ctx, c->name, &envurl_src);
		if (env_url && *env_url) {
			if (dburl_parse(env_url, &t, envurl_src, err, sizeof err) < 0) {
				error("%s: %s", envurl_src, err);
				r->list->config_errors++;
				free(envurl_src);
				target_free(&t);
				continue;
			}
		}
		free(envurl_src);
		if (c->url) {
			/* ActiveRecord merges url: over the other keys, the URL winning. */
			if (dburl_parse(c->url, &t, c->url_src, err, sizeof err) < 0) {
				error("%s: %s", c->url_src, err);
				r->list->config_errors++;
				target_free(&t);
				continue;
			}
		}
		if (c->unreadable || y.unreadable_all) {
			t.unreadable = 1;
			warn("%s", y.unreadable_all ? y.why_all : c->why);
		}
		t.envname = xstrdup(env);
		t.envname_src = xstrdup(env_src);
		t.origin = *c->name ? xasprintf("%s (%s.%s)", path, env, c->name) : xasprintf("%s (%s)", path, env);
		char *says = target_says(&t);
		char *src = xstrdup(t.origin);
		char *note = others.len ? xasprintf("the section of RAILS_ENV=%s; the other sections (%s) are not targets of this run",
		                                    env, sb_str(&others))
		                        : xasprintf("the section of RAILS_ENV=%s", env);
		if (t.unreadable) {
			char *n2 = xasprintf("%s; %s", note, y.unreadable_all ? y.why_all : c->why);
			free(note);
			note = n2;
		}
		run_add_target(r, &t, src, says, note);
		free(note);
		free(src);
		free(says);
	}
	sb_free(&others);
	dbyml_free(&y);
	free(path);
}
