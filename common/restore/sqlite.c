/* sqlite.c — restoring SQLite: a complete file written in the target's
 * directory, checked, and renamed over the target.  See restore.h. */
#include "restore/impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/term.h"
#include "base/xalloc.h"

static mode_t default_mode(void)
{
	mode_t m = umask(022);
	umask(m);
	return 0666 & ~m;
}

/* Run a journal_mode pragma on c: is the mode then want? */
static int lite_journal(struct dbconn *c, const char *sql, const char *want)
{
	char *mode = NULL;
	db_query_value(c, sql, &mode, NULL, 0);
	int is = mode && strcasecmp(mode, want) == 0;
	free(mode);
	return is;
}

/* Where the snapshot is written: beside the target, to be renamed over it;
 * for a check, in the store (else TMPDIR). */
static char *lite_temp_path(const char *path, const struct restore_opts *o, int check_only)
{
	if (!check_only) {
		char *dir = path_dir(path), *base = path_base(path);
		char *tmp = xasprintf("%s/.%s.dbguard-restore.%ld", dir, base, (long)getpid());
		free(dir);
		free(base);
		return tmp;
	}
	const char *dir = o->store;
	struct stat ds;
	if (!dir || stat(dir, &ds) < 0 || !S_ISDIR(ds.st_mode) || access(dir, W_OK) < 0)
		dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *name = xasprintf(".dbguard-check.%ld.sqlite", (long)getpid());
	char *tmp = path_join(dir, name);
	free(name);
	return tmp;
}

/* The target as it is: a connection (*tc NULL when it cannot be opened:
 * it is replaced all the same), its marker, and its journal mode to keep.
 * DG_OK or DG_UNREACHABLE (reported). */
static int lite_target(const struct target *t, const char *path, struct dbconn **tc, char **marker,
                       int *wal)
{
	char err[ERRLEN];
	int r = db_connect(t, tc, err, sizeof err);
	if (r == DG_UNREACHABLE) {
		error("%s", err);
		*tc = NULL;
		return r;
	}
	if (r != DG_OK) {
		warn("%s; replacing it all the same", err);
		*tc = NULL;
		return DG_OK;
	}
	if (db_marker_read(*tc, marker, err, sizeof err) < 0)
		warn("cannot read the marker of '%s': %s", path, err);
	*wal = lite_journal(*tc, "PRAGMA journal_mode", "wal");
	return DG_OK;
}

/* Write the snapshot into fd, the new file tmp; for a restore with the
 * mode and owner of the target (st, NULL when there is none). */
static int lite_write(int fd, const struct restore_input *in, const char *path, const char *tmp,
                      const struct stat *st, int check_only)
{
	if (!check_only) {
		if (fchmod(fd, st ? st->st_mode & 07777 : default_mode()) < 0)
			warn("cannot set the mode of '%s':", tmp);
		if (st && geteuid() == 0 && fchown(fd, st->st_uid, st->st_gid) < 0)
			warn("cannot give '%s' the owner of '%s':", tmp, path);
	}
	int werr = 0, rc;
	struct stat ist;
	/* An uncompressed, verified snapshot on a file system that shares
	 * blocks (XFS with reflink, Btrfs): the copy is a reflink. */
	if (in->meta && in->meta->compression && strcmp(in->meta->compression, "none") == 0 &&
	    fstat(in->fd, &ist) == 0 && S_ISREG(ist.st_mode) && lseek(in->fd, 0, SEEK_CUR) == 0 &&
	    ioctl(fd, FICLONE, in->fd) == 0) {
		verbose("'%s' shares the blocks of '%s' (reflink)", tmp, in->name);
		rc = DG_OK;
	} else {
		char *base = path_base(path);
		char *label = xasprintf("restoring %s", base);
		rc = feed_snapshot(in, fd, label, NULL, &werr);
		free(label);
		free(base);
	}
	if (rc == DG_NO && werr) {
		errno = werr;
		error("cannot write '%s':", tmp);
	}
	if (close(fd) < 0 && rc == DG_OK) {
		error("cannot write '%s':", tmp);
		rc = DG_NO;
	}
	return rc;
}

/* Open the new file tmp: its integrity, its row counts; for a restore, the
 * target's marker written into it and the target's journal mode kept (wal:
 * 1 WAL, 0 another, -1 no target: the snapshot's). */
static int lite_check(const struct target *t, const struct restore_input *in, const char *path,
                      const char *tmp, const char *marker, int wal, int check_only)
{
	char err[ERRLEN];
	struct target nt;
	copy_with_db(&nt, t, tmp);
	struct dbconn *nc;
	int r = db_connect(&nt, &nc, err, sizeof err);
	target_free(&nt);
	if (r != DG_OK) {
		error("'%s' does not hold a usable SQLite database: %s", in->name, err);
		return DG_INTEGRITY;
	}
	char *ok = NULL;
	if (db_query_value(nc, "PRAGMA integrity_check", &ok, err, sizeof err) < 0 || !ok || strcmp(ok, "ok")) {
		error("the restored database fails PRAGMA integrity_check: %s", ok ? ok : err);
		free(ok);
		db_close(nc);
		return DG_INTEGRITY;
	}
	free(ok);
	int rc = compare_counts(nc, in->meta, "the restored database");
	if (rc == DG_OK && !check_only) {
		if (db_marker_write(nc, marker, err, sizeof err) < 0) {
			error("cannot keep the marker of '%s': %s", path, err);
			rc = DG_NO;
		}
		/* The journal mode is a property of the file: keep the target's. */
		int snap_wal = lite_journal(nc, "PRAGMA journal_mode", "wal");
		if (wal >= 0 && snap_wal != wal)
			lite_journal(nc, wal ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode = DELETE", "");
	}
	db_close(nc);
	return rc;
}

/* Rename tmp, complete and synced, over the target path (tc: a connection
 * to it, or NULL; wal: it is in WAL mode). */
static int lite_swap(struct dbconn *tc, const char *tmp, const char *path, int wal)
{
	char err[ERRLEN];
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		error("cannot write '%s':", tmp);
		if (fd >= 0)
			close(fd);
		return DG_NO;
	}
	close(fd);
	if (restore_interrupted())
		return 128 + restore_interrupted();

	/* No stale write-ahead log may be replayed over the new file: the
	 * target leaves WAL mode (which checkpoints and removes its log, and
	 * needs every other connection gone), and is locked while renamed. */
	int left_wal = 0;
	if (tc) {
		if (wal)
			left_wal = lite_journal(tc, "PRAGMA journal_mode = DELETE", "delete");
		if ((wal && !left_wal) || db_exec(tc, "BEGIN EXCLUSIVE", err, sizeof err) < 0) {
			if (left_wal)
				lite_journal(tc, "PRAGMA journal_mode = WAL", "wal");
			error("'%s' is in use by another process; stop it and run db-restore again", path);
			return DG_NO;
		}
	}
	progress_stage("putting the restored file in place of '%s'", path);
	fault_point("restore.swap");
	if (rename(tmp, path) < 0) {
		error("cannot rename '%s' to '%s':", tmp, path);
		if (tc) {
			db_exec(tc, "ROLLBACK", NULL, 0);
			if (left_wal)
				lite_journal(tc, "PRAGMA journal_mode = WAL", "wal");
		}
		return DG_NO;
	}
	fault_point("restore.swapped");
	const char *const sfx[] = { "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s%s", path, sfx[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			warn("cannot remove '%s':", p);
		free(p);
	}
	if (fsync_dir_of(path) < 0)
		warn("cannot sync the directory of '%s':", path);
	if (tc)
		db_exec(tc, "ROLLBACK", NULL, 0);
	return DG_OK;
}

int lite_run(const struct target *t, const struct restore_input *in,
             const struct restore_opts *o, int check_only)
{
	const char *path = target_get(t, TF_DATABASE);
	if (!path || strcmp(path, ":memory:") == 0) {
		error("cannot restore into an in-memory SQLite database");
		return DG_USAGE;
	}
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		error("'%s' is not a regular file", path);
		return DG_NO;
	}
	if (!exists && errno != ENOENT) {
		error("cannot read '%s':", path);
		return DG_UNREACHABLE;
	}
	char *tmp = lite_temp_path(path, o, check_only);
	struct dbconn *tc = NULL;
	char *marker = NULL;
	int target_wal = 0;
	if (exists && !check_only && lite_target(t, path, &tc, &marker, &target_wal) == DG_UNREACHABLE) {
		free(tmp);
		return DG_UNREACHABLE;
	}
	int rc = DG_NO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		error("cannot create '%s':", tmp);
		goto out;
	}
	rc = lite_write(fd, in, path, tmp, exists ? &st : NULL, check_only);
	if (rc == DG_OK) {
		fault_point("restore.load");
		rc = lite_check(t, in, path, tmp, marker, exists ? target_wal : -1, check_only);
	}
	if (rc == DG_OK)
		fault_point("restore.counted");
	if (rc == DG_OK && !check_only)
		rc = lite_swap(tc, tmp, path, target_wal);
	if (rc != DG_OK || check_only)
		unlink(tmp);
out:
	db_close(tc);
	free(marker);
	free(tmp);
	return rc;
}

static void lite_cleanup_dir(const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	size_t pl = strlen(prefix), sl = strlen(suffix);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= pl + sl || strncmp(e->d_name, prefix, pl) || strcmp(e->d_name + n - sl, suffix))
			continue;
		char *pidpart = xstrndup(e->d_name, n - sl);
		long pid = name_pid(pidpart);
		free(pidpart);
		if (pid <= 0 || restore_running(pid))
			continue;
		char *p = path_join(dir, e->d_name);
		info("removing '%s', left by an interrupted db-restore", p);
		if (unlink(p) < 0)
			warn("cannot remove '%s':", p);
		free(p);
	}
	closedir(d);
}

void lite_cleanup(const struct target *t, const struct restore_opts *o)
{
	const char *path = target_get(t, TF_DATABASE);
	if (path && strcmp(path, ":memory:")) {
		char *dir = path_dir(path), *base = path_base(path);
		char *prefix = xasprintf(".%s.dbguard-restore.", base);
		lite_cleanup_dir(dir, prefix, "");
		free(prefix);
		free(dir);
		free(base);
	}
	if (o->store)
		lite_cleanup_dir(o->store, ".dbguard-check.", ".sqlite");
}
