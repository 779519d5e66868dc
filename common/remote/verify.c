/* verify.c — every remote snapshot checked against its metadata without a
 * download where the backend reports a hash (SHA-256, or the MD5/SHA-1 a
 * push recorded), else by SHA-256 of a download; orphans and missing
 * metadata reported. */
#include "remote/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "remote/impl.h"

struct sums {
	char *type;
	int download;
	char *out;   /* rclone hashsum's output: "<hex>  <name>" lines */
};

static const char *sum_of(const struct sums *s, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = s->out; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *sp = memchr(p, ' ', n);
		if (sp && (size_t)(p + n - sp) == nl + 2 && sp[1] == ' ' && memcmp(sp + 2, name, nl) == 0)
			return p;
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

int remote_verify(struct remote *r, struct remote_listing *rl)
{
	char err[700];
	int rc = rclone_hashes(r, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	size_t bad = 0, checked = 0;
	struct sums sums[4];
	size_t nsums = 0;
	for (size_t i = 0; i < rl->l.n; i++) {
		const struct snapshot *s = &rl->l.v[i];
		const struct remote_extra *x = &rl->x[i];
		checked++;
		if (!s->good) {
			printf("%s: FAILED\n", s->path);
			fflush(stdout);
			error("'%s' failed verification: %s", s->path, s->problem);
			bad++;
			continue;
		}
		const char *type = "sha256", *want = x->sha256;
		int download = !r->has_sha256;
		if (download && x->hash_type && ((!strcmp(x->hash_type, "md5") && r->has_md5) ||
		                                 (!strcmp(x->hash_type, "sha1") && r->has_sha1))) {
			type = x->hash_type;
			want = x->hash;
			download = 0;
		}
		struct sums *su = NULL;
		for (size_t k = 0; k < nsums && !su; k++)
			if (!strcmp(sums[k].type, type) && sums[k].download == download)
				su = &sums[k];
		if (!su) {
			/* One rclone run hashes the whole directory. */
			su = &sums[nsums];
			su->type = xstrdup(type);
			su->download = download;
			su->out = NULL;
			const char *args[] = { "hashsum", type, "--max-depth", "1", r->spec,
			                       download ? "--download" : NULL, NULL };
			rc = rclone_run(r, args, &su->out, err, sizeof err);
			if (rc != DG_OK) {
				error("cannot verify '%s': %s", r->spec, err);
				free(su->type);
				goto out;
			}
			nsums++;
		}
		const char *line = sum_of(su, x->object);
		size_t wl = strlen(want);
		if (!line || strncasecmp(line, want, wl) != 0 || line[wl] != ' ') {
			printf("%s: FAILED\n", s->path);
			fflush(stdout);
			error("'%s' failed verification: the %s of its data object '%s' is not the %s its metadata "
			      "records", s->path, type, x->object, type);
			bad++;
			continue;
		}
		if (msg_verbosity >= 1)
			printf("%s: OK\n", s->path);
		verbose("'%s': %s matches%s", s->path, type, download ? " (downloaded)" : " (reported by the backend)");
	}
	for (size_t i = 0; i < rl->orphans.n; i++) {
		int nometa = 0;
		for (size_t k = 0; k < rl->no_meta.n; k++)
			nometa |= strcmp(rl->no_meta.v[k], rl->orphans.v[i]) == 0;
		char *p = rclone_path(r, rl->orphans.v[i]);
		printf("%s: %s\n", p, nometa ? "MISSING METADATA" : "ORPHAN");
		fflush(stdout);
		error(nometa ? "'%s' has no metadata: an interrupted push, or its metadata was removed; "
		               "push the snapshot again, or remove it with rclone deletefile"
		             : "'%s' is left from an interrupted push; the next push of that snapshot removes it",
		      p);
		free(p);
		bad++;
	}
	if (bad)
		error("%zu problem%s on '%s' (%zu snapshot%s checked)", bad, bad == 1 ? "" : "s", r->spec, checked,
		      checked == 1 ? "" : "s");
	rc = bad ? DG_INTEGRITY : DG_OK;
out:
	for (size_t k = 0; k < nsums; k++) {
		free(sums[k].type);
		free(sums[k].out);
	}
	return rc;
}
