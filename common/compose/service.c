/* service.c — the model of the merged document: each service's image, labels,
 * environment, profiles, restart, healthcheck, volumes and tmpfs mounts
 * (ports in ports.c), and the top-level volumes. */
#include <stdlib.h>
#include <string.h>

#include "compose/impl.h"

static void add_mount(struct cservice *s, const char *type, char *source, char *target, const struct node *at)
{
	/* Compose keeps the last mount of a target. */
	for (size_t i = 0; i < s->nmounts; i++)
		if (strcmp(s->mounts[i].target, target) == 0) {
			free(s->mounts[i].type);
			free(s->mounts[i].source);
			free(s->mounts[i].target);
			s->mounts[i] = (struct cmount){ xstrdup(type), source, target, at->file->path, at->line };
			return;
		}
	s->mounts = xrealloc(s->mounts, (s->nmounts + 1) * sizeof *s->mounts);
	s->mounts[s->nmounts++] = (struct cmount){ xstrdup(type), source, target, at->file->path, at->line };
}

static void read_volumes(struct ctx *c, struct cservice *s, struct node *vols)
{
	if (node_is_null(vols))
		return;
	if (vols->kind != N_SEQ) {
		compose_fail(c, vols, "'volumes' of '%s' must be a list, not %s", s->name, node_kind(vols));
		return;
	}
	for (size_t i = 0; i < vols->n; i++) {
		struct node *n = vols->kids[i];
		if (n->kind == N_MAP) {
			char *type = node_value(c, node_get(n, "type"), "type");
			char *source = node_value(c, node_get(n, "source"), "source");
			char *target = node_value(c, node_get(n, "target"), "target");
			if (!target) {
				if (!c->pv->errors)
					compose_fail(c, n, "a volume without 'target'");
				free(type);
				free(source);
				continue;
			}
			add_mount(s, type ? type : "volume", source, target, n);
			free(type);
			continue;
		}
		char *spec = node_value(c, n, "a volume");
		if (!spec)
			continue;
		/* SOURCE:TARGET[:MODE] or TARGET alone (an anonymous volume). */
		char *colon = strchr(spec, ':');
		if (!colon) {
			add_mount(s, "volume", NULL, xstrdup(spec), n);
		} else {
			char *target = colon + 1, *mode = strchr(target, ':');
			if (mode)
				*mode = '\0';
			*colon = '\0';
			const char *type = spec[0] == '/' || spec[0] == '.' || spec[0] == '~' ? "bind" : "volume";
			add_mount(s, type, xstrdup(spec), xstrdup(target), n);
		}
		free(spec);
	}
}

/* A list of strings, or for labels/environment a mapping; into KEY=value. */
static void read_pairs(struct ctx *c, struct node *n, struct strvec *out, const char *what)
{
	if (node_is_null(n))
		return;
	if (n->kind == N_MAP) {
		for (size_t i = 0; i + 1 < n->n; i += 2) {
			char *v = node_value(c, n->kids[i + 1], what);
			sv_pushf(out, "%s=%s", n->kids[i]->value, v ? v : "");
			free(v);
		}
	} else if (n->kind == N_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			char *v = node_value(c, n->kids[i], what);
			if (v)
				sv_push_owned(out, v);
		}
	} else {
		compose_fail(c, n, "'%s' must be a mapping or a list, not %s", what, node_kind(n));
	}
}

static const char *pair_value(const struct strvec *sv, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = sv->n; i-- > 0;)
		if (strncmp(sv->v[i], key, k) == 0 && sv->v[i][k] == '=')
			return sv->v[i] + k + 1;
	return NULL;
}

void compose_read_service(struct ctx *c, struct node *key, struct node *svc)
{
	struct compose_project *p = c->p;
	p->services = xrealloc(p->services, (p->nservices + 1) * sizeof *p->services);
	struct cservice *s = &p->services[p->nservices++];
	memset(s, 0, sizeof *s);
	s->name = xstrdup(key->value);
	s->file = key->file->path;
	s->line = key->line;
	if (node_is_null(svc))
		return;
	if (svc->kind != N_MAP) {
		compose_fail(c, svc, "service '%s' must be a mapping, not %s", s->name, node_kind(svc));
		return;
	}
	s->image = node_value(c, node_get(svc, "image"), "image");
	struct strvec labels = STRVEC_INIT;
	read_pairs(c, node_get(svc, "labels"), &labels, "labels");
	s->role = xstrdup(pair_value(&labels, "dbguard.role"));
	sv_free(&labels);
	read_pairs(c, node_get(svc, "environment"), &s->environment, "environment");
	struct node *prof = node_get(svc, "profiles");
	if (!node_is_null(prof)) {
		if (prof->kind != N_SEQ)
			compose_fail(c, prof, "'profiles' of '%s' must be a list, not %s", s->name, node_kind(prof));
		else
			for (size_t i = 0; i < prof->n; i++) {
				char *v = node_value(c, prof->kids[i], "a profile");
				int dup = 0;
				for (size_t j = 0; v && j < s->profiles.n; j++)
					dup |= strcmp(s->profiles.v[j], v) == 0;
				if (v && !dup)
					sv_push(&s->profiles, v);
				free(v);
			}
	}
	s->restart = node_value(c, node_get(svc, "restart"), "restart");
	struct node *hc = node_get(svc, "healthcheck");
	if (!node_is_null(hc)) {
		s->healthcheck = 1;
		if (hc->kind != N_MAP) {
			compose_fail(c, hc, "'healthcheck' of '%s' must be a mapping, not %s", s->name, node_kind(hc));
		} else {
			char *dis = node_value(c, node_get(hc, "disable"), "disable");
			struct node *test = node_get(hc, "test");
			char *t0 = NULL;
			if (test && test->kind == N_SEQ && test->n)
				t0 = node_value(c, test->kids[0], "test");
			else if (test && test->kind == N_SCALAR)
				t0 = node_value(c, test, "test");
			if (value_is_true(dis) || (t0 && strcmp(t0, "NONE") == 0))
				s->healthcheck = -1;
			free(dis);
			free(t0);
		}
	}
	read_volumes(c, s, node_get(svc, "volumes"));
	struct node *tmpfs = node_get(svc, "tmpfs");
	for (size_t i = 0; tmpfs && i < (tmpfs->kind == N_SEQ ? tmpfs->n : 1); i++) {
		struct node *t = tmpfs->kind == N_SEQ ? tmpfs->kids[i] : tmpfs;
		char *target = t->kind == N_SCALAR ? node_value(c, t, "tmpfs") : NULL;
		if (target) {
			/* "/path:size=..." carries options after the colon. */
			target[strcspn(target, ":")] = '\0';
			add_mount(s, "tmpfs", NULL, target, t);
		}
	}
	compose_read_ports(c, s, node_get(svc, "ports"));
	const char *engine;
	s->family = compose_family(s->image, s->role, &engine);
	s->engine = xstrdup(engine);
}

void compose_read_top_volumes(struct ctx *c, struct node *vols)
{
	if (node_is_null(vols))
		return;
	if (vols->kind != N_MAP) {
		compose_fail(c, vols, "'volumes' must be a mapping, not %s", node_kind(vols));
		return;
	}
	struct compose_project *p = c->p;
	for (size_t i = 0; i + 1 < vols->n; i += 2) {
		struct node *k = vols->kids[i], *v = vols->kids[i + 1];
		p->volumes = xrealloc(p->volumes, (p->nvolumes + 1) * sizeof *p->volumes);
		struct cvolume *cv = &p->volumes[p->nvolumes++];
		memset(cv, 0, sizeof *cv);
		cv->name = xstrdup(k->value);
		cv->file = k->file->path;
		cv->line = k->line;
		if (node_is_null(v))
			continue;
		if (v->kind != N_MAP) {
			compose_fail(c, v, "volume '%s' must be a mapping, not %s", cv->name, node_kind(v));
			continue;
		}
		struct node *ext = node_get(v, "external");
		if (ext && ext->kind == N_MAP) {
			/* The old form external: {name: x}. */
			cv->external = 1;
			cv->fixed_name = node_value(c, node_get(ext, "name"), "name");
		} else {
			char *e = node_value(c, ext, "external");
			cv->external = value_is_true(e);
			free(e);
		}
		char *name = node_value(c, node_get(v, "name"), "name");
		if (name) {
			free(cv->fixed_name);
			cv->fixed_name = name;
		}
	}
}
