/* volume.c — db-restore of a Docker volume snapshot (--volume=NAME, or a
 * snapshot whose metadata says engine=volume): common/docker/volsnap. */
#include "restorecli/volume.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "docker/volsnap.h"
#include "store/store.h"

/* A snapshot file (or a name in the store). */
static char *snapshot_operand(const char *store, const char *arg)
{
	if (access(arg, F_OK) == 0 || strchr(arg, '/'))
		return xstrdup(arg);
	char *p = path_join(store, arg);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return xstrdup(arg);
}

/* Does the metadata of arg say engine=volume? */
int is_volume_snapshot(const char *store, const char *arg)
{
	char *path = snapshot_operand(store, arg);
	char *meta = xasprintf("%s.meta", path);
	struct snapshot_meta m;
	char err[256];
	int vol = store_meta_read(meta, &m, err, sizeof err) == 0 && strcmp(m.engine, "volume") == 0;
	store_meta_free(&m);
	free(meta);
	free(path);
	return vol;
}

/* db-restore --volume=NAME, or a volume snapshot: common/docker/volsnap. */
int do_restore_volume(struct ctx *cx, const struct opts *o)
{
	const struct pick_opts *p = &o->pick;
	if (p->url || p->target_n || p->into || p->check || p->keep_old || p->terminate || p->meta_file ||
	    o->unverified || o->allow_production || o->test_run || (p->snapshot && strcmp(p->snapshot, "-") == 0)) {
		error("a volume restore takes --volume, --confirm, --no-safety-snap and a snapshot file only");
		return DG_USAGE;
	}
	char *path = NULL;
	if (p->snapshot) {
		path = snapshot_operand(cx->store, p->snapshot);
	} else {
		struct snapshot_list sl;
		volsnap_list(cx->store, o->volume, &sl);
		const struct snapshot *s = store_latest(&sl);
		if (s)
			path = xstrdup(s->path);
		snapshot_list_free(&sl);
		if (!path) {
			error("no good snapshot of volume '%s' in '%s' (db-snap --volume=%s takes one)", o->volume,
			      cx->store, o->volume);
			return DG_NOTHING;
		}
	}
	struct volrestore_opts vo = { cx->store, path, o->volume, o->confirm, o->no_safety };
	int rc = volsnap_restore(&vo);
	free(path);
	return rc;
}
