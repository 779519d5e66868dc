/* pull.c — a remote snapshot into the local store: downloaded under a
 * temporary name, checked against the remote SHA-256, decrypted, checked
 * against the snapshot's own metadata, renamed, its metadata written, and
 * verified as db-snap --verify does. */
#include "remote/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/checksum.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "remote/crypt.h"
#include "remote/impl.h"

static char *temp_beside(const char *path)
{
	char *tmp = NULL;
	int fd = make_temp_beside(path, &tmp, 0600);
	if (fd < 0)
		return NULL;
	close(fd);
	return tmp;
}

/* The snapshot's name is in the store already: that is fine only when it is
 * the remote's snapshot (then *local takes over *path). */
static int pull_already_here(const struct snapshot *s, const char *store, char **path, char **local)
{
	char err[700];
	struct snapshot_meta have;
	memset(&have, 0, sizeof have);
	int rc = DG_NO;
	if (store_verify(*path, &have, err, sizeof err) == 0 && strcmp(have.sha256, s->meta.sha256) == 0) {
		info("'%s' is already in '%s'", s->name, store);
		*local = *path;
		*path = NULL;
		rc = DG_OK;
	} else {
		error("'%s' is in the store already, and it is not the remote's snapshot; "
		      "move it away to pull this one", *path);
	}
	store_meta_free(&have);
	return rc;
}

/* Download the remote object into dl and check it against the remote
 * SHA-256. */
static int pull_download(struct remote *r, const struct snapshot *s, const struct remote_extra *x,
                         const char *dl)
{
	char err[700];
	char *src = rclone_path(r, x->object);
	const char *args[] = { "copyto", "--ignore-times", src, dl, NULL };
	int rc = rclone_run(r, args, NULL, err, sizeof err);
	free(src);
	if (rc != DG_OK) {
		error("cannot pull '%s': %s", s->name, err);
		if (rc == DG_NOTHING)
			rc = DG_INTEGRITY;
		return rc;
	}
	char sum[SHA256_HEX_SIZE];
	if (sha256_file(dl, sum) < 0) {
		error("cannot read '%s':", dl);
		return DG_NO;
	}
	if (strcmp(sum, x->sha256) != 0) {
		error("the remote copy of '%s' is damaged: its SHA-256 is %s, its metadata says %s; "
		      "nothing was kept", s->name, sum, x->sha256);
		return DG_INTEGRITY;
	}
	return DG_OK;
}

/* Decrypt *dl into a new temporary file beside path, which replaces *dl, and
 * check it against the snapshot's own metadata. */
static int pull_decrypt(const struct snapshot *s, const char *path, const char *project_dir, char **dl)
{
	char err[700];
	char *plain = temp_beside(path);
	if (!plain) {
		error("cannot create a temporary file beside '%s':", path);
		return DG_NO;
	}
	int rc = crypt_decrypt(*dl, plain, s->path, project_dir, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		unlink(plain);
		free(plain);
		return rc;
	}
	unlink(*dl);
	free(*dl);
	*dl = plain;
	struct stat st;
	char sum[SHA256_HEX_SIZE];
	if (stat(*dl, &st) < 0 || sha256_file(*dl, sum) < 0 || strcmp(sum, s->meta.sha256) != 0 ||
	    (unsigned long long)st.st_size != s->meta.size) {
		error("the decrypted copy of '%s' does not match its metadata; nothing was kept", s->name);
		return DG_INTEGRITY;
	}
	return DG_OK;
}

/* Put the checked download dl in place as path, write its metadata and
 * verify it; on failure neither path nor its metadata is left. */
static int pull_install(struct remote *r, const struct snapshot *s, const struct remote_extra *x,
                        const char *dl, const char *path, const char *meta_path)
{
	if (link(dl, path) < 0) {
		error("cannot create '%s':", path);
		return DG_NO;
	}
	unlink(dl);
	if (fsync_dir_of(path) < 0 || store_meta_write(meta_path, &s->meta) < 0) {
		error("cannot write '%s':", meta_path);
		unlink(path);
		unlink(meta_path);
		return DG_NO;
	}
	char err[700];
	struct snapshot_meta have;
	memset(&have, 0, sizeof have);
	int rc = DG_OK;
	if (store_verify(path, &have, err, sizeof err) < 0) {
		error("the pulled '%s' failed verification: %s; removed", s->name, err);
		unlink(path);
		unlink(meta_path);
		rc = DG_INTEGRITY;
	} else {
		info("pulled '%s' from '%s'%s", s->name, r->spec, x->encrypted ? " (decrypted)" : "");
	}
	store_meta_free(&have);
	return rc;
}

int remote_pull(struct remote *r, const struct remote_listing *rl, size_t i, const char *store,
                const char *project_dir, char **local)
{
	const struct snapshot *s = &rl->l.v[i];
	const struct remote_extra *x = &rl->x[i];
	*local = NULL;
	if (!s->good) {
		error("'%s' on the remote is not a whole snapshot: %s; not pulled", s->path, s->problem);
		return DG_INTEGRITY;
	}
	char *path = path_join(store, s->name), *meta_path = xasprintf("%s.meta", path);
	char *dl = NULL;
	int rc = DG_NO, lock = -1;
	if (access(path, F_OK) == 0) {
		rc = pull_already_here(s, store, &path, local);
		goto out;
	}
	if (store_ensure(store) < 0) {
		error("cannot create the snapshot store '%s':", store);
		goto out;
	}
	lock = store_lock(store, s->dbkey, 600);
	if (lock < 0) {
		error("cannot lock '%s' in the store '%s':", s->dbkey, store);
		goto out;
	}
	if (!(dl = temp_beside(path))) {
		error("cannot create a temporary file beside '%s':", path);
		goto out;
	}
	if ((rc = pull_download(r, s, x, dl)) != DG_OK)
		goto out;
	if (x->encrypted && (rc = pull_decrypt(s, path, project_dir, &dl)) != DG_OK)
		goto out;
	if ((rc = pull_install(r, s, x, dl, path, meta_path)) != DG_OK)
		goto out;
	*local = path;
	path = NULL;
out:
	if (dl) {
		unlink(dl);
		free(dl);
	}
	store_unlock(lock);
	free(path);
	free(meta_path);
	return rc;
}

int remote_fetch(const char *name, const struct target *t, const char *store, const char *project_dir,
                 char **path)
{
	*path = NULL;
	struct remote *r;
	int rc = remote_open(&r);
	if (rc == DG_NOTHING) {
		error("--remote: no remote store is configured: set [store] remote = REMOTE:PATH in"
		      " .dbguard.conf, or DBGUARD_REMOTE");
		return DG_USAGE;
	}
	if (rc != DG_OK)
		return rc;
	if (!name && !t) {
		error("no database configured here: no --url, DATABASE_URL, DB_* variables or .env naming one");
		remote_close(r);
		return DG_NOTHING;
	}
	struct remote_listing rl;
	char *dbkey = name ? NULL : store_dbkey(t);
	rc = remote_list(r, dbkey, name ? NULL : target_get(t, TF_ENGINE), store, &rl);
	if (rc == DG_OK) {
		long k = -1;
		if (name) {
			k = remote_find(r, &rl, name);
			if (k < 0) {
				error("no snapshot '%s' on '%s' (db-snap --list --remote --all lists them)", name,
				      remote_spec(r));
				rc = DG_NOTHING;
			}
		} else {
			const struct snapshot *s = store_latest(&rl.l);
			if (s) {
				k = s - rl.l.v;
			} else {
				error("no good snapshot of '%s' on '%s'", target_confirm_name(t), remote_spec(r));
				rc = DG_NOTHING;
			}
		}
		if (k >= 0)
			rc = remote_pull(r, &rl, (size_t)k, store, project_dir, path);
	}
	remote_listing_free(&rl);
	free(dbkey);
	remote_close(r);
	return rc;
}
