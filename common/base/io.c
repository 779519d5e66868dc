/* io.c — see io.h */
#include "base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

char *read_file(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	for (;;) {
		ssize_t n = read_retry(fd, chunk, sizeof chunk);
		if (n < 0) {
			int e = errno;
			close(fd);
			sb_free(&sb);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		sb_add(&sb, chunk, (size_t)n);
	}
	close(fd);
	if (lenp)
		*lenp = sb.len;
	return sb_detach(&sb);
}

char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

char *path_base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return xstrdup(slash ? slash + 1 : path);
}

char *path_join(const char *dir, const char *name)
{
	if (name[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
		return xstrdup(name);
	size_t n = strlen(dir);
	return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

int fsync_dir_of(const char *path)
{
	char *dir = path_dir(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

int make_temp_beside(const char *path, char **tmp, mode_t mode)
{
	char *dir = path_dir(path), *base = path_base(path);
	char *t = xasprintf("%s/.%s.tmp.XXXXXX", dir, base);
	free(dir);
	free(base);
	int fd = mkostemp(t, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(t);
		errno = e;
		return -1;
	}
	if (fchmod(fd, mode) < 0) {
		int e = errno;
		close(fd);
		unlink(t);
		free(t);
		errno = e;
		return -1;
	}
	*tmp = t;
	return fd;
}

/* The one way files are replaced: temp file beside path, fsync, rename,
 * fsync of the directory.  like, when given, lends its owner and mode. */
static int replace_file(const char *path, const void *data, size_t len, mode_t mode, const struct stat *like)
{
	char *tmp;
	int fd = make_temp_beside(path, &tmp, mode);
	if (fd < 0)
		return -1;
	/* Only root may give a file away; a failed chown leaves it ours. */
	if (like && fchown(fd, like->st_uid, like->st_gid) == 0)
		fchmod(fd, mode);
	int rc = write_all(fd, data, len) < 0 || fsync(fd) < 0 ? -1 : 0;
	int e = errno;
	if (close(fd) < 0 && rc == 0)
		rc = -1, e = errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1, e = errno;
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	if (rc < 0) {
		errno = e;
		return -1;
	}
	return fsync_dir_of(path);
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	return replace_file(path, data, len, mode, NULL);
}

int atomic_write_file_like(const char *path, const void *data, size_t len, const struct stat *like)
{
	return replace_file(path, data, len, like->st_mode & 07777, like);
}

int mkdir_p(const char *dir, mode_t mode)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				int e = errno;
				free(p);
				errno = e;
				return -1;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	struct stat st;
	if (stat(dir, &st) < 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int rename_noclobber(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	/* Some file systems cannot promise "no replace"; the caller's lock
	 * and existence check are then all there is. */
	if (errno == EINVAL || errno == ENOSYS)
		return rename(from, to);
	return -1;
}
