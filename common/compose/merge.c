/* merge.c — several compose files merged in order (!reset, !override), and a
 * service's extends chain resolved, within a file or from another. */
#include <stdlib.h>
#include <string.h>

#include "base/io.h"
#include "compose/impl.h"

/* ---- merging (files, extends) ---- */

/* Compose's merge: mappings key by key, sequences appended (ports and volumes
 * are made unique later), shell commands replaced; !override replaces and
 * !reset removes. */
struct node *compose_merge(struct priv *pv, struct node *base, struct node *over, const char *key)
{
	if (!base || node_has_tag(over, "!override"))
		return over;
	if (!over)
		return base;
	if (base->kind == N_MAP && over->kind == N_MAP) {
		struct node *out = node_copy(pv, base);
		for (size_t i = 0; i + 1 < base->n; i += 2) {
			node_push(out, base->kids[i]);
			node_push(out, base->kids[i + 1]);
		}
		for (size_t j = 0; j + 1 < over->n; j += 2) {
			const char *k = over->kids[j]->value;
			size_t at = out->n;
			for (size_t i = 0; i + 1 < out->n; i += 2)
				if (strcmp(out->kids[i]->value, k) == 0)
					at = i;
			if (node_has_tag(over->kids[j + 1], "!reset")) {
				if (at < out->n) {
					memmove(out->kids + at, out->kids + at + 2, (out->n - at - 2) * sizeof *out->kids);
					out->n -= 2;
				}
			} else if (at < out->n) {
				out->kids[at + 1] = compose_merge(pv, out->kids[at + 1], over->kids[j + 1], k);
			} else {
				node_push(out, over->kids[j]);
				node_push(out, over->kids[j + 1]);
			}
		}
		return out;
	}
	if (base->kind == N_SEQ && over->kind == N_SEQ && key && strcmp(key, "command") && strcmp(key, "entrypoint") &&
	    strcmp(key, "test")) {
		struct node *out = node_copy(pv, base);
		for (size_t i = 0; i < base->n; i++)
			node_push(out, base->kids[i]);
		for (size_t i = 0; i < over->n; i++)
			node_push(out, over->kids[i]);
		return out;
	}
	return over;
}

struct node *compose_services(struct ctx *c, struct node *root)
{
	struct node *s = node_get(root, "services");
	if (node_is_null(s))
		return NULL;
	if (s->kind != N_MAP) {
		compose_fail(c, s, "'services' must be a mapping, not %s", node_kind(s));
		return NULL;
	}
	return s;
}

/* The service with its extends chain applied. */
struct node *compose_extends(struct ctx *c, struct cfile *f, struct node *services, const char *name,
                             struct node *at, int depth)
{
	struct node *svc = node_get(services, name);
	if (!svc) {
		compose_fail(c, at, "extends: no service '%s' in '%s'", name, f->path);
		return NULL;
	}
	if (node_is_null(svc))
		return svc;
	if (svc->kind != N_MAP) {
		compose_fail(c, svc, "service '%s' must be a mapping, not %s", name, node_kind(svc));
		return NULL;
	}
	struct node *ext = node_get(svc, "extends");
	if (!ext)
		return svc;
	if (depth > 16) {
		compose_fail(c, ext, "extends chain of '%s' longer than 16 services (a cycle?)", name);
		return NULL;
	}
	char *base_name = NULL, *base_file = NULL;
	if (ext->kind == N_SCALAR) {
		base_name = node_value(c, ext, "extends");
	} else if (ext->kind == N_MAP) {
		base_name = node_value(c, node_get(ext, "service"), "extends.service");
		base_file = node_value(c, node_get(ext, "file"), "extends.file");
	}
	if (!base_name) {
		compose_fail(c, ext, "extends of '%s' names no service", name);
		free(base_file);
		return NULL;
	}
	struct cfile *bf = f;
	struct node *bservices = services;
	if (base_file) {
		char *dir = path_dir(f->path);
		char *path = path_join(dir, base_file);
		free(dir);
		int err = 0;
		bf = cfile_get(c->pv, path, &err);
		if (!err) {
			int seen = 0;
			for (size_t i = 0; i < c->p->files.n; i++)
				seen |= strcmp(c->p->files.v[i], path) == 0;
			for (size_t i = 0; i < c->p->extends_files.n; i++)
				seen |= strcmp(c->p->extends_files.v[i], path) == 0;
			if (!seen)
				sv_push(&c->p->extends_files, path);
		}
		free(path);
		if (err) {
			c->pv->errors++;
			free(base_name);
			free(base_file);
			return NULL;
		}
		bservices = bf->ndocs ? compose_services(c, bf->docs[0]) : NULL;
	}
	struct node *base = bservices ? compose_extends(c, bf, bservices, base_name, ext, depth + 1) : NULL;
	if (!bservices)
		compose_fail(c, ext, "extends: '%s' has no services", bf->path);
	free(base_name);
	free(base_file);
	if (!base)
		return NULL;
	/* The service itself without its extends key, over its base. */
	struct node *own = node_copy(c->pv, svc);
	for (size_t i = 0; i + 1 < svc->n; i += 2)
		if (strcmp(svc->kids[i]->value, "extends") != 0) {
			node_push(own, svc->kids[i]);
			node_push(own, svc->kids[i + 1]);
		}
	return compose_merge(c->pv, base, own, NULL);
}
