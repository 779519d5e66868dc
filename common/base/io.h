/* io.h — I/O that cannot lose data: EINTR retried, short writes looped,
 * files replaced atomically (temp file in the same directory, fsync, rename,
 * fsync of the directory). */
#ifndef DBGUARD_IO_H
#define DBGUARD_IO_H

#include <stddef.h>
#include <sys/types.h>

int write_all(int fd, const void *buf, size_t len);      /* 0, or -1 with errno */
ssize_t read_retry(int fd, void *buf, size_t len);       /* read(2) without EINTR */
/* Whole file into memory, NUL-terminated; NULL with errno on failure. */
char *read_file(const char *path, size_t *len);
int fsync_dir_of(const char *path);                      /* fsync the directory holding path */
/* rename(2) that fails (EEXIST) rather than replace to; a plain rename
 * where the file system cannot promise that (a lock must then). */
int rename_noclobber(const char *from, const char *to);
/* Replace path with data: temp file beside it, fsync, rename, fsync dir. */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* The same, keeping the owner (when we may) and mode of like. */
struct stat;
int atomic_write_file_like(const char *path, const void *data, size_t len, const struct stat *like);
/* mkstemp in the directory of `path`: "<dir>/.<base>.tmp.XXXXXX"; returns fd, sets *tmp. */
int make_temp_beside(const char *path, char **tmp, mode_t mode);
/* mkdir -p with mode for every created directory; 0 or -1 with errno. */
int mkdir_p(const char *dir, mode_t mode);
/* dirname/basename copies that do not touch their argument. */
char *path_dir(const char *path);
char *path_base(const char *path);
char *path_join(const char *dir, const char *name);

#endif
