/* volume.h — db-restore of a Docker volume snapshot (volume.c). */
#ifndef DBGUARD_RESTORECLI_VOLUME_H
#define DBGUARD_RESTORECLI_VOLUME_H

#include "restorecli/restorecli.h"

/* Does the metadata of arg (a path, or a name in store) say engine=volume? */
int is_volume_snapshot(const char *store, const char *arg);
/* --volume=NAME, or a volume snapshot named: into its volume. */
int do_restore_volume(struct ctx *cx, const struct opts *o);

#endif
