/* compose.c — see compose.h: loading a project (read each file, resolve
 * extends, merge the files, build the model) and freeing it.  The parts:
 * yaml.c (reading with libyaml), merge.c (files and extends), value.c
 * (interpolated values), service.c and ports.c (the model), family.c (which
 * services are databases), find.c (which files). */
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "compose/impl.h"

/* ---- loading ---- */

int compose_load(struct compose_project *p, const struct strvec *files)
{
	memset(p, 0, sizeof *p);
	struct priv *pv = xcalloc(1, sizeof *pv);
	p->priv = pv;
	for (size_t i = 0; i < files->n; i++)
		sv_push(&p->files, files->v[i]);
	p->dir = files->n ? path_dir(files->v[0]) : xstrdup(".");
	p->env_path = path_join(p->dir, ".env");
	if (interp_init(&pv->ip, p->env_path) < 0)
		pv->errors++;
	struct ctx c = { p, pv };
	struct node *model = NULL;
	for (size_t i = 0; i < files->n; i++) {
		int err = 0;
		struct cfile *f = cfile_get(pv, files->v[i], &err);
		if (err) {
			pv->errors++;
			continue;
		}
		for (size_t d = 0; d < f->ndocs; d++) {
			struct node *root = f->docs[d];
			if (node_is_null(root))
				continue;
			if (root->kind != N_MAP) {
				compose_fail(&c, root, "a compose file must be a mapping, not %s", node_kind(root));
				continue;
			}
			/* extends is resolved within each file before the files merge. */
			struct node *services = compose_services(&c, root);
			if (services) {
				struct node *resolved = node_copy(pv, services);
				for (size_t k = 0; k + 1 < services->n; k += 2) {
					struct node *svc = compose_extends(&c, f, services, services->kids[k]->value, services->kids[k], 0);
					node_push(resolved, services->kids[k]);
					node_push(resolved, svc ? svc : services->kids[k + 1]);
				}
				struct node *r2 = node_copy(pv, root);
				for (size_t k = 0; k + 1 < root->n; k += 2) {
					node_push(r2, root->kids[k]);
					node_push(r2, strcmp(root->kids[k]->value, "services") == 0 ? resolved : root->kids[k + 1]);
				}
				root = r2;
			}
			model = compose_merge(pv, model, root, NULL);
		}
	}
	if (pv->errors == 0 && model) {
		struct node *services = compose_services(&c, model);
		for (size_t k = 0; services && k + 1 < services->n; k += 2)
			compose_read_service(&c, services->kids[k], services->kids[k + 1]);
		compose_read_top_volumes(&c, node_get(model, "volumes"));
	}
	p->warnings = pv->ip.warnings;
	return pv->errors ? DG_USAGE : DG_OK;
}

void compose_free(struct compose_project *p)
{
	struct priv *pv = p->priv;
	for (size_t i = 0; i < p->nservices; i++) {
		struct cservice *s = &p->services[i];
		free(s->name);
		free(s->image);
		free(s->role);
		free(s->engine);
		free(s->restart);
		sv_free(&s->profiles);
		sv_free(&s->environment);
		for (size_t j = 0; j < s->nmounts; j++) {
			free(s->mounts[j].type);
			free(s->mounts[j].source);
			free(s->mounts[j].target);
		}
		free(s->mounts);
		for (size_t j = 0; j < s->nports; j++)
			cport_free(&s->ports[j]);
		free(s->ports);
	}
	free(p->services);
	for (size_t i = 0; i < p->nvolumes; i++) {
		free(p->volumes[i].name);
		free(p->volumes[i].fixed_name);
	}
	free(p->volumes);
	sv_free(&p->files);
	sv_free(&p->extends_files);
	free(p->dir);
	free(p->env_path);
	if (pv) {
		for (size_t i = 0; i < pv->narena; i++) {
			free(pv->arena[i]->tag);
			free(pv->arena[i]->value);
			free(pv->arena[i]->kids);
			free(pv->arena[i]);
		}
		free(pv->arena);
		for (size_t i = 0; i < pv->nfiles; i++) {
			free(pv->files[i]->path);
			free(pv->files[i]->text);
			free(pv->files[i]->lines);
			free(pv->files[i]->docs);
			free(pv->files[i]);
		}
		free(pv->files);
		interp_free(&pv->ip);
		free(pv);
	}
	memset(p, 0, sizeof *p);
}
