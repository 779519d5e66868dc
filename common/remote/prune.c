/* prune.c — retention on the remote: the local rules (store_prune_plan)
 * with the remote's own limits; the metadata goes first, so an interrupted
 * removal never leaves a listed snapshot without its data. */
#include "remote/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "remote/impl.h"

void remote_prune_policy(struct prune_policy *p)
{
	prune_policy_from_config(p, "store", "remote_keep");
}

int remote_prune(struct remote *r, struct remote_listing *rl, const struct prune_policy *p, int dry_run)
{
	struct snapshot_list *l = &rl->l;
	char **keep = xcalloc(l->n ? l->n : 1, sizeof *keep);
	store_prune_plan(l, p, time(NULL), keep);
	size_t gone = 0, failed = 0;
	unsigned long long bytes = 0;
	int rc = DG_OK;
	for (size_t i = 0; i < l->n; i++) {
		const struct snapshot *s = &l->v[i];
		if (keep[i]) {
			verbose("keep %s (%s)", s->path, keep[i]);
			continue;
		}
		if (!dry_run) {
			char err[600], *meta = xasprintf("%s.meta", s->name);
			int e = remote_delete(r, meta, err, sizeof err);
			if (e == DG_OK)
				e = remote_delete(r, rl->x[i].object, err, sizeof err);
			free(meta);
			if (e != DG_OK) {
				error("cannot remove '%s': %s", s->path, err);
				failed++;
				if (rc == DG_OK)
					rc = e;
				continue;
			}
		}
		printf("%s\n", s->path);
		gone++;
		bytes += rl->x[i].size;
	}
	char b[32];
	info("%s %zu snapshot%s (%s) on '%s', kept %zu", dry_run ? "would remove" : "removed", gone,
	     gone == 1 ? "" : "s", human_bytes(bytes, b, sizeof b), r->spec, l->n - gone - failed);
	for (size_t i = 0; i < l->n; i++)
		free(keep[i]);
	free(keep);
	return rc;
}
