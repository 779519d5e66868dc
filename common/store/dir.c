/* dir.c — the store directory (see store.h): where it is, creating it
 * (mode 0700, a ".gitignore" of "*"), the per-database lock, and the
 * clean-up of temporary files a killed run left. */
#include "store/dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "model/project.h"
#include "store/impl.h"
#include "store/name.h"

char *store_dir(const char *project_dir)
{
	if (project_dir)
		return config_backup_dir(project_dir);
	char *p = project_dir_find();
	char *d = config_backup_dir(p);
	free(p);
	return d;
}

int store_ensure(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
	} else {
		if (errno != ENOENT || mkdir_p(dir, 0700) < 0)
			return -1;
		/* mkdir's mode passes through the umask; the store is private. */
		if (chmod(dir, 0700) < 0)
			return -1;
	}
	char *gi = path_join(dir, ".gitignore");
	int rc = 0;
	if (access(gi, F_OK) < 0)
		rc = atomic_write_file(gi, "*\n", 2, 0644);
	free(gi);
	return rc;
}

int store_file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

time_t store_new_path(const char *dir, const char *dbkey, const char *label, const char *ext,
                      char **path, char **meta_path)
{
	time_t created;
	*path = *meta_path = NULL;
	for (int tries = 0;; tries++) {
		created = time(NULL);
		char *name = store_snapshot_name(dbkey, created, label, ext);
		free(*path);
		free(*meta_path);
		*path = path_join(dir, name);
		*meta_path = xasprintf("%s.meta", *path);
		free(name);
		if ((!store_file_exists(*path) && !store_file_exists(*meta_path)) || tries == 3)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec = 0;
		ts.tv_nsec = 1000000000L - ts.tv_nsec;
		nanosleep(&ts, NULL);
	}
	return created;
}

/* ---- locking and stale files ---- */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int store_lock(const char *dir, const char *dbkey, int wait_seconds)
{
	char *p = xasprintf("%s/.lock.%s", dir, dbkey);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(p);
	if (fd < 0)
		return -1;
	double start = mono();
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || mono() - start >= wait_seconds) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void store_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing the only descriptor releases the flock */
}

void store_clean_stale(const char *dir, const char *dbkey)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t k = strlen(dbkey);
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		time_t t;
		char *path = NULL;
		/* ".<dbkey>_<time>....tmp.XXXXXX" (and a SQLite journal beside one)
		 * are temporary files of a run that died; under the lock no run
		 * of this database is alive to own them. */
		if (n[0] == '.' && strncmp(n + 1, dbkey, k) == 0 && n[1 + k] == '_' &&
		    strlen(n + 2 + k) >= TS_LEN && store_parse_stamp(n + 2 + k, &t) == 0 && strstr(n, ".tmp.")) {
			path = path_join(dir, n);
		} else {
			size_t len = strlen(n), stem;
			int is_meta = len > 5 && strcmp(n + len - 5, ".meta") == 0;
			char *data = is_meta ? xstrndup(n, len - 5) : xstrdup(n);
			if (store_name_ext(data, &stem) && strncmp(data, dbkey, k) == 0 &&
			    store_name_at(data, stem, k, &t, NULL) == 0) {
				/* Metadata whose data file is gone (removing a snapshot
				 * takes the data first), and a data file without
				 * metadata (a run killed between the data's rename and
				 * the metadata's write): halves of a snapshot that no
				 * live run is writing, as we hold the lock. */
				char *other = is_meta ? path_join(dir, data) : xasprintf("%s/%s.meta", dir, n);
				struct stat st;
				if (!store_file_exists(other) && errno == ENOENT) {
					char *p = path_join(dir, n);
					if (is_meta || (lstat(p, &st) == 0 && S_ISREG(st.st_mode)))
						path = p;
					else
						free(p);
				}
				free(other);
			}
			free(data);
		}
		if (path) {
			unlink(path);
			free(path);
		}
	}
	closedir(d);
}
