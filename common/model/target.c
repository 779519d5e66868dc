/* target.c — the target record: values with their sources (see target.h). */
#include "model/target.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "model/dburl.h"

static const char *const field_names[TF_COUNT] = {
	"engine", "host", "port", "database", "user", "password",
};
static const char *const class_names[] = {
	"local", "staging", "remote", "unknown", "production",
};

void target_set(struct target *t, enum tfield f, const char *value, const char *source)
{
	free(t->val[f]);
	free(t->src[f]);
	t->val[f] = xstrdup(value);
	t->src[f] = xstrdup(source);
}

const char *target_get(const struct target *t, enum tfield f)
{
	return t->val[f] && *t->val[f] ? t->val[f] : NULL;
}

const char *tfield_name(enum tfield f) { return field_names[f]; }
const char *tclass_name(enum tclass c) { return class_names[c]; }

int tclass_parse(const char *s, enum tclass *out)
{
	for (size_t i = 0; i < sizeof class_names / sizeof *class_names; i++)
		if (strcmp(s, class_names[i]) == 0) {
			*out = (enum tclass)i;
			return 0;
		}
	return -1;
}

int target_is(const struct target *t, const char *engine)
{
	const char *e = target_get(t, TF_ENGINE);
	return e && strcmp(e, engine) == 0;
}

const char *target_host(const struct target *t)
{
	if (target_is(t, "sqlite"))
		return NULL;
	const char *h = target_get(t, TF_HOST);
	return h ? h : "localhost";
}

int target_port(const struct target *t)
{
	if (target_is(t, "sqlite"))
		return 0;
	const char *p = target_get(t, TF_PORT);
	if (p)
		return atoi(p);
	const char *e = target_get(t, TF_ENGINE);
	return e && strcmp(e, "mysql") == 0 ? 3306 : 5432;
}

char *target_describe(const struct target *t)
{
	const char *engine = target_get(t, TF_ENGINE);
	const char *db = target_get(t, TF_DATABASE);
	if (target_is(t, "sqlite"))
		return xasprintf("sqlite %s", db ? db : "(no file)");
	if (!engine && !db && t->origin)
		return xasprintf("the database named by '%s'", t->origin);
	const char *user = target_get(t, TF_USER);
	const char *host = target_host(t);
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "%s ", engine ? engine : "unknown-engine");
	if (user)
		sb_addf(&sb, "%s@", user);
	if (host[0] == '/') {
		sb_addf(&sb, "%s", host);
	} else if (strchr(host, ',')) {
		dburl_add_hosts(&sb, t);
	} else if (strchr(host, ':')) {
		sb_addf(&sb, "[%s]:%d", host, target_port(t));
	} else {
		sb_addf(&sb, "%s:%d", host, target_port(t));
	}
	sb_addf(&sb, "/%s", db ? db : "");
	return sb_detach(&sb);
}

void target_free(struct target *t)
{
	for (int f = 0; f < TF_COUNT; f++) {
		free(t->val[f]);
		free(t->src[f]);
	}
	free(t->origin);
	free(t->unpinned);
	free(t->envname);
	free(t->envname_src);
	free(t->rule);
	free(t->marker);
	memset(t, 0, sizeof *t);
}

void target_copy(struct target *dst, const struct target *src)
{
	memset(dst, 0, sizeof *dst);
	for (int f = 0; f < TF_COUNT; f++) {
		dst->val[f] = xstrdup(src->val[f]);
		dst->src[f] = xstrdup(src->src[f]);
	}
	dst->origin = xstrdup(src->origin);
	dst->envname = xstrdup(src->envname);
	dst->envname_src = xstrdup(src->envname_src);
	dst->unreadable = src->unreadable;
	dst->unpinned = xstrdup(src->unpinned);
	dst->cls = src->cls;
	dst->rule = xstrdup(src->rule);
	dst->marker = xstrdup(src->marker);
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
	for (size_t i = 0; i < l->nnotes; i++)
		free(l->notes[i]);
	free(l->notes);
	memset(l, 0, sizeof *l);
}

const char *target_confirm_name(const struct target *t)
{
	const char *db = target_get(t, TF_DATABASE);
	if (!db)
		return "";
	const char *slash = strrchr(db, '/');
	return target_is(t, "sqlite") && slash ? slash + 1 : db;
}
