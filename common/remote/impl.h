/* impl.h — what the files of common/remote/ share and nothing else needs. */
#ifndef DBGUARD_REMOTE_IMPL_H
#define DBGUARD_REMOTE_IMPL_H

#include <stddef.h>

#include "remote/rclone.h"

struct remote_object {
	char *name;
	unsigned long long size;
};

/* The objects directly in the remote's directory (none when it does not
 * exist yet).  DG_OK or as rclone_run. */
int remote_objects(struct remote *r, struct remote_object **objs, size_t *n, char *err, size_t errlen);
void remote_objects_free(struct remote_object *objs, size_t n);
/* A temporary object of a push: ".<name>.part-…". */
int remote_is_temp(const char *name);
/* The value of key= in metadata text (malloc'd), or NULL. */
char *remote_meta_value(const char *text, const char *key);
/* Remove a temporary directory with the files in it, and free dir. */
void remote_rmdir(char *dir);
/* Delete one object (NAME in the remote's directory); DG_OK also when it
 * was gone already. */
int remote_delete(struct remote *r, const char *name, char *err, size_t errlen);
/* Local hashes for comparing with the backend's: type "sha256", "md5" or
 * "sha1" of the file at path into hex.  0, or -1 with errno. */
int remote_hash_file(const char *path, const char *type, char *hex, size_t hexlen);

#endif
