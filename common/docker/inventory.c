/* inventory.c — see inventory.h */
#include "docker/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/output.h"
#include "docker/checks.h"
#include "docker/cli.h"
#include "docker/project.h"
#include "docker/volume.h"

struct row {
	char *col[DKI_COLS];
};

struct rows {
	struct row *v;
	size_t n;
};

static void add_row(struct rows *r, const char *project, const char *service, const char *key, const char *volume,
                    const char *kind)
{
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	struct row *w = &r->v[r->n++];
	const char *init[DKI_COLS] = { project, service, key, volume, kind, "", "", "", "" };
	for (int c = 0; c < DKI_COLS; c++)
		w->col[c] = xstrdup(init[c] ? init[c] : "");
}

static void set(struct row *w, int c, char *value)
{
	free(w->col[c]);
	w->col[c] = value;
}

/* One row per volume mount of a database service; a database service with
 * none gets a row of kind "none". */
static void list_rows(const struct dk_project *p, const struct dk_dbvols *dv, struct rows *r)
{
	for (size_t i = 0; i < p->cp.nservices; i++) {
		const struct cservice *s = &p->cp.services[i];
		if (s->family == DBF_NONE || s->family == DBF_ADMIN)
			continue;
		int any = 0;
		for (size_t k = 0; k < dv->n; k++) {
			const struct dk_dbvol *d = &dv->v[k];
			if (d->svc != s)
				continue;
			any = 1;
			add_row(r, p->name, s->name, d->key, d->volume,
			        !d->volume ? "anonymous" : d->external ? "external" : "named");
		}
		if (!any)
			add_row(r, p->name, s->name, NULL, NULL, "none");
	}
}

/* exists, bytes, and the findings of checks.c on each named volume. */
static int fill_rows(const struct dk_project *p, struct rows *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->n; i++) {
		struct row *w = &r->v[i];
		if (!*w->col[DKI_VOLUME])
			continue;
		struct dk_volume v;
		int found = dk_volume_inspect(w->col[DKI_VOLUME], &v, err, errlen);
		dk_volume_free(&v);
		if (found < 0)
			return -1;
		set(w, DKI_EXISTS, xstrdup(found ? "yes" : "no"));
		long entries = 0;
		long long kb = 0;
		if (found && dk_volume_usage(w->col[DKI_VOLUME], &entries, &kb, err, errlen) < 0)
			return -1;
		if (found)
			set(w, DKI_BYTES, xasprintf("%lld", kb * 1024));
	}
	struct dk_findings f;
	if (dk_check_project(p, &f, err, errlen) < 0)
		return -1;
	for (size_t k = 0; k < f.n; k++)
		for (size_t i = 0; i < r->n; i++) {
			struct row *w = &r->v[i];
			if (strcmp(w->col[DKI_VOLUME], f.v[k].volume) || strcmp(w->col[DKI_SERVICE], f.v[k].svc->name) ||
			    *w->col[DKI_FINDING])
				continue;
			set(w, DKI_FINDING, xstrdup(f.v[k].msg));
			if (f.v[k].other)
				set(w, DKI_DATA_IN, xstrdup(f.v[k].other));
			break;
		}
	dk_findings_free(&f);
	return 0;
}

static const char *const names[DKI_COLS] = {
	"project", "service", "key", "volume", "kind", "exists", "bytes", "data_in", "finding",
};

static void print_rows(const struct rows *r, int format)
{
	if (format == FMT_TSV)
		puts(DK_INVENTORY_COLUMNS);
	else if (format == FMT_JSON)
		putchar('[');
	for (size_t i = 0; i < r->n; i++) {
		char *const *c = r->v[i].col;
		if (format == FMT_TSV) {
			for (int k = 0; k < DKI_COLS; k++) {
				if (k)
					putchar('\t');
				tsv_field(stdout, c[k]);
			}
			putchar('\n');
		} else if (format == FMT_JSON) {
			printf("%s{", i ? "," : "");
			for (int k = 0; k < DKI_COLS; k++) {
				printf("%s\"%s\":", k ? "," : "", names[k]);
				if (k == DKI_BYTES && *c[k])
					fputs(c[k], stdout);
				else if (k == DKI_EXISTS && *c[k])
					fputs(strcmp(c[k], "yes") ? "false" : "true", stdout);
				else
					json_string(stdout, *c[k] ? c[k] : NULL);
			}
			putchar('}');
		} else {
			char size[32] = "";
			if (*c[DKI_BYTES])
				human_bytes(strtoull(c[DKI_BYTES], NULL, 10), size, sizeof size);
			printf("%-12s %-12s %-28s %-9s %s%s%s\n", c[DKI_SERVICE], *c[DKI_KEY] ? c[DKI_KEY] : "-",
			       *c[DKI_VOLUME] ? c[DKI_VOLUME] : "-", c[DKI_KIND],
			       !*c[DKI_EXISTS] ? "-" : strcmp(c[DKI_EXISTS], "yes") ? "missing" : "exists",
			       *size ? ", " : "", size);
			if (*c[DKI_FINDING])
				printf("  %s\n", c[DKI_FINDING]);
		}
	}
	if (format == FMT_JSON)
		puts("]");
}

int dk_inventory_print(const char *project_name, const struct strvec *files, int format)
{
	struct dk_project p;
	int rc = dk_project_load(project_name, files, &p);
	if (rc != 0) {
		dk_project_free(&p);
		return rc;
	}
	struct dk_dbvols dv;
	dk_project_dbvols(&p, &dv);
	struct rows r = { NULL, 0 };
	list_rows(&p, &dv, &r);
	char err[512];
	if (!r.n) {
		info("no database service in the compose files of project '%s'", p.name);
		print_rows(&r, format);
	} else if (dk_engine_check(err, sizeof err) < 0) {
		error("%s", err);
		rc = DG_UNREACHABLE;
	} else if (fill_rows(&p, &r, err, sizeof err) < 0) {
		error("cannot list the volumes of project '%s': %s", p.name, err);
		rc = DG_NO;
	} else {
		if (format == FMT_HUMAN)
			printf("project %s\n", p.name);
		print_rows(&r, format);
	}
	for (size_t i = 0; i < r.n; i++)
		for (int c = 0; c < DKI_COLS; c++)
			free(r.v[i].col[c]);
	free(r.v);
	dk_dbvols_free(&dv);
	dk_project_free(&p);
	return rc;
}
