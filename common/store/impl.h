/* impl.h — private to common/store/: the parts of snapshot names that the
 * store's files share.  Nothing outside common/store/ includes it. */
#ifndef DBGUARD_STORE_IMPL_H
#define DBGUARD_STORE_IMPL_H

#include <stddef.h>
#include <time.h>

#define TS_LEN 16   /* YYYYMMDDTHHMMSSZ */

/* dir.c: path names something, even a dangling symlink */
int store_file_exists(const char *path);
/* name.c */
int store_digits(const char *s, int n);
int store_parse_stamp(const char *s, time_t *out);
const char *store_name_ext(const char *name, size_t *stem);
int store_name_at(const char *name, size_t stem, size_t key_len, time_t *when, char **label);

#endif
