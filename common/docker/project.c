/* project.c — see project.h */
#include "docker/project.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "model/dotenv.h"

char *dk_project_normalize(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *s = name; *s; s++) {
		int c = tolower((unsigned char)*s);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			sb_addc(&sb, (char)c);
	}
	return sb.buf ? sb_detach(&sb) : xstrdup("");
}

/* The top-level name: of a compose file (the last file that sets it wins). */
static char *file_name_key(const char *path)
{
	char *text = read_file(path, NULL);
	if (!text)
		return NULL;
	char *name = NULL;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "name:", 5) == 0) {
			char *v = line + 5;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t n = strcspn(v, "#\r");
			while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
				v++;
				n -= 2;
			}
			free(name);
			name = xstrndup(v, n);
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return name;
}

int dk_project_load(const char *project_name, const struct strvec *files, struct dk_project *p)
{
	memset(p, 0, sizeof *p);
	struct strvec found = STRVEC_INIT;
	int rc = compose_find(files->v, files->n, &found, 0);
	if (rc != 0) {
		sv_free(&found);
		return rc;
	}
	rc = compose_load(&p->cp, &found);
	sv_free(&found);
	if (rc != 0)
		return rc;
	p->loaded = 1;
	const char *n = project_name;
	char *owned = NULL;
	if (!n || !*n) {
		const char *e = getenv("COMPOSE_PROJECT_NAME");
		if (e && *e)
			n = e;
	}
	struct dotenv env;
	int have_env = 0;
	if (!n && p->cp.env_path && access(p->cp.env_path, R_OK) == 0 && dotenv_load(p->cp.env_path, &env) == 0) {
		have_env = 1;
		const struct dotenv_entry *e = dotenv_get(&env, "COMPOSE_PROJECT_NAME");
		if (e && e->value && *e->value)
			n = e->value;
	}
	if (!n) {
		for (size_t i = 0; i < p->cp.files.n; i++) {
			char *k = file_name_key(p->cp.files.v[i]);
			if (k) {
				free(owned);
				owned = k;
			}
		}
		n = owned;
	}
	if (!n) {
		char *dir = p->cp.dir ? xstrdup(p->cp.dir) : getcwd(NULL, 0);
		char *abs = dir ? realpath(dir, NULL) : NULL;
		owned = path_base(abs ? abs : dir ? dir : ".");
		free(abs);
		free(dir);
		n = owned;
	}
	p->name = dk_project_normalize(n);
	free(owned);
	if (have_env)
		dotenv_free(&env);
	return 0;
}

void dk_project_free(struct dk_project *p)
{
	if (p->loaded)
		compose_free(&p->cp);
	free(p->name);
	memset(p, 0, sizeof *p);
}

void dk_project_dbvols(const struct dk_project *p, struct dk_dbvols *out)
{
	out->v = NULL;
	out->n = 0;
	size_t cap = 0;
	for (size_t i = 0; i < p->cp.nservices; i++) {
		const struct cservice *s = &p->cp.services[i];
		if (s->family == DBF_NONE || s->family == DBF_ADMIN)
			continue;
		for (size_t j = 0; j < s->nmounts; j++) {
			const struct cmount *m = &s->mounts[j];
			if (!m->type || strcmp(m->type, "volume") != 0)
				continue;
			if (out->n == cap) {
				cap = cap ? cap * 2 : 4;
				out->v = xrealloc(out->v, cap * sizeof *out->v);
			}
			struct dk_dbvol *d = &out->v[out->n++];
			memset(d, 0, sizeof *d);
			d->svc = s;
			d->target = m->target;
			if (!m->source || !*m->source)
				continue;
			d->key = m->source;
			const struct cvolume *v = NULL;
			for (size_t k = 0; k < p->cp.nvolumes; k++)
				if (strcmp(p->cp.volumes[k].name, m->source) == 0)
					v = &p->cp.volumes[k];
			if (v && v->fixed_name && *v->fixed_name)
				d->volume = xstrdup(v->fixed_name);
			else if (v && v->external)
				d->volume = xstrdup(v->name);
			else
				d->volume = xasprintf("%s_%s", p->name, m->source);
			d->external = v && v->external;
		}
	}
}

void dk_dbvols_free(struct dk_dbvols *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].volume);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}
