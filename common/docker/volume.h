/* volume.h — Docker volumes as the docker CLI shows them: driver, the
 * Compose project and key from their labels, who uses them, and what they
 * hold (read by a throwaway helper container, never from the host's disk). */
#ifndef DBGUARD_DOCKER_VOLUME_H
#define DBGUARD_DOCKER_VOLUME_H

#include <stddef.h>
#include "base/xalloc.h"

struct dk_volume {
	char *name, *driver;
	char *project;   /* com.docker.compose.project label, or "" */
	char *key;       /* com.docker.compose.volume label, or "" */
};

struct dk_volume_list {
	struct dk_volume *v;
	size_t n;
};

/* 1 found (v filled), 0 no such volume, -1 docker failed (err). */
int dk_volume_inspect(const char *name, struct dk_volume *v, char *err, size_t errlen);
void dk_volume_free(struct dk_volume *v);

/* Every volume of the engine.  0, or -1 with err. */
int dk_volume_list_all(struct dk_volume_list *l, char *err, size_t errlen);
void dk_volume_list_free(struct dk_volume_list *l);

/* Names of the containers using volume name (running only, or all). */
int dk_volume_users(const char *name, int running_only, struct strvec *names, char *err, size_t errlen);

/* What the volume holds: top-level entries and kilobytes (du -sk), read
 * by a helper container with the volume read-only.  0, or -1 with err. */
int dk_volume_usage(const char *name, long *entries, long long *kbytes, char *err, size_t errlen);

/* Create a volume with the labels of like (driver, Compose labels). */
int dk_volume_create_like(const char *name, const struct dk_volume *like, char *err, size_t errlen);

/* db-snap -q [-C dir] --volume=NAME --label=LABEL --reason=REASON as a child
 * (volume snapshots for programs that link no store): the snapshot's path
 * (malloc'd), or NULL when it failed (db-snap said why on stderr).  *status:
 * db-snap's exit status. */
char *dk_snap_volume(const char *dir, const char *volume, const char *label, const char *reason, int *status);

#endif
