/* checks.c — see checks.h */
#include "docker/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/output.h"
#include "docker/cli.h"
#include "docker/volume.h"

static void add(struct dk_findings *f, const char *kind, const struct cservice *s, const char *vol,
                const char *other, char *msg)
{
	f->v = xrealloc(f->v, (f->n + 1) * sizeof *f->v);
	f->v[f->n++] = (struct dk_finding){ kind, s, xstrdup(vol), xstrdup(other), msg };
}

static int ends_with_key(const char *name, const char *key)
{
	size_t n = strlen(name), k = strlen(key);
	return n > k + 1 && strcmp(name + n - k, key) == 0 && (name[n - k - 1] == '_' || name[n - k - 1] == '-');
}

int dk_check_project(const struct dk_project *p, struct dk_findings *out, char *err, size_t errlen)
{
	out->v = NULL;
	out->n = 0;
	if (dk_engine_check(err, errlen) < 0)
		return -1;
	struct dk_dbvols dv;
	dk_project_dbvols(p, &dv);
	struct dk_volume_list all = { 0 };
	int listed = 0, rc = 0;
	for (size_t i = 0; i < dv.n && rc == 0; i++) {
		const struct dk_dbvol *d = &dv.v[i];
		if (!d->volume)
			continue;   /* anonymous: portcheck reports it from the files alone */
		struct dk_volume cur;
		int found = dk_volume_inspect(d->volume, &cur, err, errlen);
		if (found < 0) {
			rc = -1;
			break;
		}
		if (d->external) {
			if (!found)
				add(out, "missing-external-volume", d->svc, d->volume, NULL,
				    xasprintf("external volume '%s' of service '%s' does not exist: 'up' will fail; "
				              "create it or give the name of the volume that holds the data",
				              d->volume, d->svc->name));
			dk_volume_free(&cur);
			continue;
		}
		long entries = 0;
		long long kb = 0;
		if (found && dk_volume_usage(d->volume, &entries, &kb, err, errlen) < 0) {
			dk_volume_free(&cur);
			rc = -1;
			break;
		}
		dk_volume_free(&cur);
		if (found && entries > 0)
			continue;
		if (!listed) {
			if (dk_volume_list_all(&all, err, errlen) < 0) {
				rc = -1;
				break;
			}
			listed = 1;
		}
		for (size_t j = 0; j < all.n; j++) {
			const struct dk_volume *o = &all.v[j];
			if (strcmp(o->name, d->volume) == 0)
				continue;
			int same_key = *o->key ? strcmp(o->key, d->key) == 0 : ends_with_key(o->name, d->key);
			if (!same_key)
				continue;
			long oe = 0;
			long long okb = 0;
			if (dk_volume_usage(o->name, &oe, &okb, err, errlen) < 0 || oe == 0)
				continue;
			char a[32], b[32];
			human_bytes((unsigned long long)kb * 1024, a, sizeof a);
			human_bytes((unsigned long long)okb * 1024, b, sizeof b);
			add(out, "empty-volume-trap", d->svc, d->volume, o->name,
			    xasprintf("service '%s' would start on %s volume '%s' (%s) while volume '%s'%s%s%s holds its "
			              "data (%s): Compose project '%s' is not the one that created it; use the old name "
			              "(-p %s, or 'external: true' with 'name: %s' under volumes: %s), or copy the data "
			              "(db-snap --volume=%s, then db-restore --volume=%s)",
			              d->svc->name, found ? "empty" : "new empty", d->volume, found ? a : "not created yet",
			              o->name, *o->project ? " of project '" : "", o->project, *o->project ? "'" : "", b,
			              p->name, *o->project ? o->project : "OLD", o->name, d->key, o->name, d->volume));
		}
	}
	dk_volume_list_free(&all);
	dk_dbvols_free(&dv);
	return rc;
}

void dk_findings_free(struct dk_findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].volume);
		free(f->v[i].other);
		free(f->v[i].msg);
	}
	free(f->v);
	f->v = NULL;
	f->n = 0;
}
