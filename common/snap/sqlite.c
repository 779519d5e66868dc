/* sqlite.c — SQLite snapshots: an online-backup copy made in one read
 * transaction, counted through the engine, then compressed. */
#include "snap/impl.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/io.h"
#include "base/xalloc.h"
#include "snap/guard.h"

static int lite_fail(sqlite3 *db, const char *what, const char *path, char *err, size_t errlen)
{
	snap_err(err, errlen, "cannot %s '%s': %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
	return DG_NO;
}

/* Share the file's blocks (FICLONE: XFS with reflink, Btrfs) while the
 * read transaction holds the file still: in rollback-journal mode no
 * writer can commit past our shared lock, and in WAL mode with an empty
 * log the file is the whole database and no checkpoint can write it while
 * we read.  1 when done, 0 when not possible here. */
static int lite_reflink(const char *src_path, const char *dst_path)
{
	char *wal = xasprintf("%s-wal", src_path);
	struct stat st;
	int wal_used = stat(wal, &st) == 0 && st.st_size > 0;
	free(wal);
	if (wal_used)
		return 0;
	int in = open(src_path, O_RDONLY | O_CLOEXEC), out = open(dst_path, O_WRONLY | O_CLOEXEC);
	int done = in >= 0 && out >= 0 && ioctl(out, FICLONE, in) == 0 && fsync(out) == 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return done;
}

/* Copy the live database inside one read transaction of the source, so
 * every step sees the same state (and a writer elsewhere cannot make the
 * copy restart forever): a reflink where allowed and possible, else the
 * online backup API. */
int snap_lite_copy(const char *src_path, const char *dst_path, int allow_reflink,
                   const char **how, int *write_errno, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc = DG_NO;
	if (how)
		*how = "page copy";
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = lite_fail(src, "open", src_path, err, errlen);
		goto out;
	}
	sqlite3_busy_timeout(src, 10000);
	/* A checkpoint is a write (doc/change-detection.md). */
	sqlite3_db_config(src, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		rc = lite_fail(src, "read", src_path, err, errlen);
		goto out;
	}
	if (allow_reflink && lite_reflink(src_path, dst_path)) {
		if (how)
			*how = "reflink";
		rc = DG_OK;
		goto out;
	}
	if (sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK) {
		rc = lite_fail(dst, "write", dst_path, err, errlen);
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = lite_fail(dst, "copy to", dst_path, err, errlen);
		goto out;
	}
	int r;
	while ((r = sqlite3_backup_step(b, 4096)) == SQLITE_OK || r == SQLITE_BUSY || r == SQLITE_LOCKED)
		if (r != SQLITE_OK)
			sqlite3_sleep(50);
	int fin = sqlite3_backup_finish(b);
	b = NULL;
	if (r != SQLITE_DONE || fin != SQLITE_OK) {
		/* A full disk reaches SQLite as an I/O error; the errno says which. */
		int e = sqlite3_system_errno(dst);
		if (e == ENOSPC || e == EFBIG || e == EDQUOT) {
			*write_errno = e;
			snap_err(err, errlen, "cannot write the copy of '%s': %s", src_path, strerror(e));
		} else {
			snap_err(err, errlen, "cannot copy '%s': %s", src_path,
			        sqlite3_errstr(r != SQLITE_DONE ? r : fin));
		}
		goto out;
	}
	rc = DG_OK;
out:
	if (b)
		sqlite3_backup_finish(b);
	if (src) {
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(src);
	}
	if (dst && sqlite3_close(dst) != SQLITE_OK && rc == DG_OK)
		rc = lite_fail(dst, "write", dst_path, err, errlen);
	return rc;
}

int snap_lite_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                  struct snapshot_result *res, char *err, size_t errlen)
{
	char *tmp;
	char *beside = xasprintf("%s.copy", j->tmp_beside);
	int fd = make_temp_beside(beside, &tmp, 0600);
	free(beside);
	if (fd < 0) {
		char *dir = path_dir(j->tmp_beside);
		snap_err(err, errlen, "cannot create a temporary file in '%s': %s", dir, strerror(errno));
		free(dir);
		if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)
			res->write_errno = errno;
		return DG_NO;
	}
	snapshot_guard_path(tmp, 0);
	close(fd);
	snap_fingerprint_before(j, res);
	int rc = snap_lite_copy(target_get(&j->t, TF_DATABASE), tmp, 1, NULL, &res->write_errno,
	                        err, errlen);
	if (rc != DG_OK)
		goto out;
	fault_point("snap.dumping");
	snap_fingerprint_after(j, res);
	/* Count in the copy itself, through the engine, so the counts are
	 * the ones db_tables() gives after a restore. */
	struct target ct = { 0 };
	target_set(&ct, TF_ENGINE, "sqlite", "snapshot");
	target_set(&ct, TF_DATABASE, tmp, "snapshot");
	struct dbconn *dc;
	rc = db_connect(&ct, &dc, err, errlen);
	target_free(&ct);
	if (rc != DG_OK) {
		rc = DG_NO;
		goto out;
	}
	rc = db_tables(dc, &res->counts, err, errlen) < 0 ? DG_NO : DG_OK;
	db_close(dc);
	if (rc != DG_OK)
		goto out;
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snap_err(err, errlen, "cannot read '%s': %s", tmp, strerror(errno));
		rc = DG_NO;
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (compressor_pump(c, fd, snap_observe, ob) < 0) {
		if (compressor_error(c)) {
			res->write_errno = compressor_error(c);
			snap_err(err, errlen, "cannot write the snapshot: %s", strerror(res->write_errno));
		} else {
			snap_err(err, errlen, "cannot read '%s': %s", tmp, strerror(errno));
		}
		rc = DG_NO;
	}
	close(fd);
out:
	if (rc != DG_OK)
		snapshot_result_free(res);
	unlink(tmp);
	/* Opening the copy may have left these beside it. */
	char *side = xasprintf("%s-wal", tmp);
	unlink(side);
	free(side);
	side = xasprintf("%s-shm", tmp);
	unlink(side);
	free(side);
	snapshot_guard_forget(tmp);
	free(tmp);
	return rc;
}
