/* volume.c — see volume.h */
#include "docker/volume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/process.h"
#include "docker/cli.h"

#define INSPECT_FORMAT "{{.Name}}\t{{.Driver}}\t{{index .Labels \"com.docker.compose.project\"}}\t" \
	"{{index .Labels \"com.docker.compose.volume\"}}"

static char *field(char **p)
{
	char *s = *p, *tab = strchr(s, '\t');
	if (tab) {
		*tab = '\0';
		*p = tab + 1;
	} else {
		*p = s + strlen(s);
	}
	return xstrdup(strcmp(s, "<no value>") == 0 ? "" : s);
}

static void parse_line(char *line, struct dk_volume *v)
{
	char *p = line;
	v->name = field(&p);
	v->driver = field(&p);
	v->project = field(&p);
	v->key = field(&p);
}

static void set_err(char *err, size_t errlen, const char *what, const struct dk_result *r)
{
	char *l = dk_first_line(*r->err ? r->err : "no output");
	snprintf(err, errlen, "%s: %s", what, l);
	free(l);
}

int dk_volume_inspect(const char *name, struct dk_volume *v, char *err, size_t errlen)
{
	struct dk_result r;
	memset(v, 0, sizeof *v);
	dk_runl(&r, "volume", "inspect", "--format", INSPECT_FORMAT, name, (char *)NULL);
	int rc = 1;
	if (r.status != 0) {
		if (strstr(r.err, "No such volume") || strstr(r.err, "no such volume")) {
			rc = 0;
		} else {
			char *what = xasprintf("cannot inspect volume '%s'", name);
			set_err(err, errlen, what, &r);
			free(what);
			rc = -1;
		}
	} else {
		char *line = dk_first_line(r.out);
		parse_line(line, v);
		free(line);
	}
	dk_result_free(&r);
	return rc;
}

void dk_volume_free(struct dk_volume *v)
{
	free(v->name);
	free(v->driver);
	free(v->project);
	free(v->key);
	memset(v, 0, sizeof *v);
}

int dk_volume_list_all(struct dk_volume_list *l, char *err, size_t errlen)
{
	l->v = NULL;
	l->n = 0;
	struct dk_result r;
	dk_runl(&r, "volume", "ls", "-q", (char *)NULL);
	if (r.status != 0) {
		set_err(err, errlen, "cannot list the volumes", &r);
		dk_result_free(&r);
		return -1;
	}
	struct strvec args = STRVEC_INIT;
	sv_push(&args, "volume");
	sv_push(&args, "inspect");
	sv_push(&args, "--format");
	sv_push(&args, INSPECT_FORMAT);
	size_t names = 0;
	for (char *s = r.out, *nl; *s; s = nl ? nl + 1 : s + strlen(s)) {
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		if (*s) {
			sv_push(&args, s);
			names++;
		}
		if (!nl)
			break;
	}
	dk_result_free(&r);
	if (!names) {
		sv_free(&args);
		return 0;
	}
	dk_run(&args, -1, &r);
	sv_free(&args);
	/* A volume removed between the two calls fails the inspect of the
	 * others too; what was printed is still good. */
	l->v = xcalloc(names, sizeof *l->v);
	for (char *s = r.out, *nl; *s && l->n < names; s = nl + 1) {
		nl = strchr(s, '\n');
		if (!nl)
			break;
		*nl = '\0';
		parse_line(s, &l->v[l->n++]);
	}
	int rc = 0;
	if (r.status != 0 && l->n == 0) {
		set_err(err, errlen, "cannot inspect the volumes", &r);
		rc = -1;
	}
	dk_result_free(&r);
	return rc;
}

void dk_volume_list_free(struct dk_volume_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		dk_volume_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int dk_volume_users(const char *name, int running_only, struct strvec *names, char *err, size_t errlen)
{
	struct dk_result r;
	char *filter = xasprintf("volume=%s", name);
	if (running_only)
		dk_runl(&r, "ps", "--filter", filter, "--format", "{{.Names}}", (char *)NULL);
	else
		dk_runl(&r, "ps", "-a", "--filter", filter, "--format", "{{.Names}}", (char *)NULL);
	free(filter);
	if (r.status != 0) {
		char *what = xasprintf("cannot list the containers of volume '%s'", name);
		set_err(err, errlen, what, &r);
		free(what);
		dk_result_free(&r);
		return -1;
	}
	for (char *s = r.out, *nl; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		if (*s)
			sv_push(names, s);
		if (!nl)
			break;
	}
	dk_result_free(&r);
	return 0;
}

int dk_volume_usage(const char *name, long *entries, long long *kbytes, char *err, size_t errlen)
{
	struct dk_result r;
	char *mount = xasprintf("%s:/v:ro,nocopy", name);   /* volsnap.c says why */
	dk_runl(&r, "run", "--rm", "--network", "none", "--log-driver", "none", "-v", mount,
	        "--entrypoint", "", dk_helper_image(), "sh", "-c", "ls -A /v | wc -l; du -sk /v",
	        (char *)NULL);
	free(mount);
	int rc = 0;
	if (r.status != 0 || sscanf(r.out, "%ld %lld", entries, kbytes) != 2) {
		char *what = xasprintf("cannot read volume '%s' with a '%s' container", name, dk_helper_image());
		set_err(err, errlen, what, &r);
		free(what);
		rc = -1;
	}
	dk_result_free(&r);
	return rc;
}

int dk_volume_create_like(const char *name, const struct dk_volume *like, char *err, size_t errlen)
{
	struct strvec a = STRVEC_INIT;
	sv_push(&a, "volume");
	sv_push(&a, "create");
	if (like && like->driver && *like->driver) {
		sv_push(&a, "--driver");
		sv_push(&a, like->driver);
	}
	if (like && like->project && *like->project)
		sv_pushf(&a, "--label=com.docker.compose.project=%s", like->project);
	if (like && like->key && *like->key)
		sv_pushf(&a, "--label=com.docker.compose.volume=%s", like->key);
	sv_push(&a, name);
	struct dk_result r;
	dk_run(&a, -1, &r);
	sv_free(&a);
	int rc = 0;
	if (r.status != 0) {
		char *what = xasprintf("cannot create volume '%s'", name);
		set_err(err, errlen, what, &r);
		free(what);
		rc = -1;
	}
	dk_result_free(&r);
	return rc;
}

char *dk_snap_volume(const char *dir, const char *volume, const char *label, const char *reason, int *status)
{
	struct strvec a = STRVEC_INIT;
	sv_push_owned(&a, find_sibling_program("db-snap"));
	sv_push(&a, "-q");
	if (dir) {
		sv_push(&a, "-C");
		sv_push(&a, dir);
	}
	sv_pushf(&a, "--volume=%s", volume);
	sv_pushf(&a, "--label=%s", label);
	sv_pushf(&a, "--reason=%s", reason);
	char *out = NULL;
	int ws = run_capture(sv_argv(&a), NULL, -1, &out, NULL);
	sv_free(&a);
	*status = ws < 0 ? 127 : exit_status_of(ws);
	char *path = *status == 0 && out && *out ? dk_first_line(out) : NULL;
	free(out);
	return path;
}
