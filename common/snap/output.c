/* output.c — where a snapshot is written (see output.h). */
#include "snap/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "snap/guard.h"
#include "snap/instant.h"
#include "store/dir.h"
#include "store/meta.h"

static int isatty_path(const char *path)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int tty = fd >= 0 && isatty(fd);
	if (fd >= 0)
		close(fd);
	return tty;
}

int snap_output_init(struct snap_output *d, const char *output, const char *meta)
{
	memset(d, 0, sizeof *d);
	d->fd = d->lock = -1;
	d->output = output;
	d->meta = meta;
	d->to_stdout = output && strcmp(output, "-") == 0;
	struct stat ost;
	d->direct = d->to_stdout || (output && stat(output, &ost) == 0 && !S_ISREG(ost.st_mode));
	d->shown = d->to_stdout ? "standard output" : output;
	return (d->to_stdout && term_is_tty(1)) ||
	       (d->direct && !d->to_stdout && S_ISCHR(ost.st_mode) && isatty_path(output));
}

/* Lock the store for dbkey, waiting for another snapshot or restore. */
static int lock_store(const char *store, const char *dbkey, int lock_wait)
{
	int lock = store_lock(store, dbkey, 0);
	if (lock < 0 && errno == EWOULDBLOCK) {
		info("waiting for another snapshot or restore of '%s' to finish", dbkey);
		lock = store_lock(store, dbkey, lock_wait);
	}
	if (lock < 0) {
		if (errno == EWOULDBLOCK)
			error("another snapshot or restore of '%s' has held the store's lock for "
			      "%d seconds; try again when it is done", dbkey, lock_wait);
		else
			error("cannot lock '%s/.lock.%s':", store, dbkey);
	}
	return lock;
}

/* A new file in the store: under the lock, stale files gone, space checked,
 * a free name.  0, or -1 said. */
int snap_output_lock(struct snap_output *d, const char *store, int lock_wait, const char *dbkey,
                     const struct target *t)
{
	if (d->lock >= 0)
		return 0;
	if (store_ensure(store) < 0) {
		error("cannot create the snapshot store '%s':", store);
		return -1;
	}
	d->lock = lock_store(store, dbkey, lock_wait);
	if (d->lock < 0)
		return -1;
	/* Before the temporary files go: they name the clones to drop. */
	if (t)
		snap_clean_stale_clones(store, dbkey, t);
	store_clean_stale(store, dbkey);
	fault_point("snap.locked");
	return 0;
}

static int in_store(struct snap_output *d, const char *store, int lock_wait,
                    struct snapshot_job *job, const struct compress_spec *spec,
                    const char *dbkey, const char *label, time_t *created)
{
	if (snap_output_lock(d, store, lock_wait, dbkey, NULL) < 0)
		return -1;
	if (snapshot_check_space(job, store, spec, dbkey) < 0)
		return -1;
	char *ext = xasprintf("%s%s", strcmp(snapshot_engine(job), "sqlite") == 0 ? "sqlite" : "sql",
	                      compress_suffix(spec->kind));
	*created = store_new_path(store, dbkey, label, ext, &d->path, &d->meta_path);
	free(ext);
	d->scratch = xstrdup(d->path);
	return 0;
}

int snap_output_open(struct snap_output *d, const char *store, int lock_wait,
                     struct snapshot_job *job, const struct compress_spec *spec,
                     const char *dbkey, const char *label, time_t *created)
{
	if (!d->output) {
		if (in_store(d, store, lock_wait, job, spec, dbkey, label, created) < 0)
			return -1;
	} else if (!d->direct) {
		d->path = xstrdup(d->output);
		d->meta_path = d->meta ? xstrdup(d->meta) : xasprintf("%s.meta", d->path);
		char *dir = path_dir(d->path);
		int full = snapshot_check_space(job, dir, spec, dbkey) < 0;
		free(dir);
		if (full)
			return -1;
		d->scratch = xstrdup(d->path);
	} else {
		const char *tmpdir = getenv("TMPDIR");
		d->scratch = path_join(tmpdir && *tmpdir ? tmpdir : "/tmp", "db-snap");
	}
	if (d->to_stdout) {
		d->fd = 1;
	} else if (d->direct) {
		d->fd = open(d->output, O_WRONLY | O_CLOEXEC);
		if (d->fd < 0) {
			error("cannot open '%s':", d->output);
			return -1;
		}
	} else {
		d->fd = make_temp_beside(d->path, &d->tmp, 0600);
		if (d->fd < 0) {
			error("cannot create a temporary file beside '%s':", d->path);
			return -1;
		}
		snapshot_guard_path(d->tmp, 0);
		d->shown = d->path;
	}
	return 0;
}

int snap_output_finish(struct snap_output *d, const struct snapshot_meta *m)
{
	if (d->direct) {
		if (d->meta) {
			if (store_meta_write(d->meta, m) == 0)
				return DG_OK;
			error("cannot write '%s':", d->meta);
			return DG_NO;
		}
		char *text = store_meta_format(m);
		int bad = write_all(2, text, strlen(text));
		free(text);
		return bad < 0 ? DG_NO : DG_OK;
	}
	if (close(d->fd) < 0) {
		d->fd = -1;
		error("cannot write '%s':", d->path);
		return DG_NO;
	}
	d->fd = -1;
	return snapshot_commit(d->tmp, d->path, d->meta_path, d->output != NULL, m);
}

void snap_output_free(struct snap_output *d)
{
	if (d->fd > 2)
		close(d->fd);
	if (d->tmp) {
		unlink(d->tmp);
		snapshot_guard_forget(d->tmp);
		free(d->tmp);
	}
	store_unlock(d->lock);
	free(d->path);
	free(d->meta_path);
	free(d->scratch);
}
