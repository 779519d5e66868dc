/* push.c — a local snapshot onto the remote: the data under a temporary
 * name, checked there against its SHA-256 (or a hash the backend reports,
 * recorded too, or a download of it), moved into place, and the metadata
 * last, so that nothing incomplete is ever listed. */
#include "remote/remote.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/checksum.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/process.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "remote/crypt.h"
#include "remote/impl.h"

int remote_push_mode(enum push_mode *mode)
{
	const char *v = config_get("store", "push");
	*mode = PUSH_NO;
	if (!v || !*v || !strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		return DG_OK;
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1")) {
		*mode = PUSH_YES;
		return DG_OK;
	}
	if (!strcasecmp(v, "background")) {
		*mode = PUSH_BACKGROUND;
		return DG_OK;
	}
	error("%s: push = %s: expected no, yes or background", config_source("store", "push"), v);
	return DG_USAGE;
}

/* The first word of rclone hashsum's output: the hex digest. */
static int remote_digest(struct remote *r, const char *obj, const char *type, int download, char *hex,
                         size_t hexlen, char *err, size_t errlen)
{
	char *p = rclone_path(r, obj);
	const char *args[] = { "hashsum", type, p, download ? "--download" : NULL, NULL };
	char *out = NULL;
	int rc = rclone_run(r, args, &out, err, errlen);
	free(p);
	if (rc != DG_OK)
		return rc;
	size_t n = strcspn(out, " \t\n");
	if (n == 0 || n >= hexlen) {
		snprintf(err, errlen, "the remote '%s' reported no %s hash for '%s'", r->spec, type, obj);
		free(out);
		return DG_UNREACHABLE;
	}
	memcpy(hex, out, n);
	hex[n] = '\0';
	free(out);
	return DG_OK;
}

/* Upload file to the remote as name: a temporary object first, checked
 * there, then moved into place.  *hash_type/hash_hex: the backend hash
 * used when it was not SHA-256 ("" otherwise). */
static int upload_checked(struct remote *r, const char *file, const char *name, const char *sha256,
                          char hash_type[8], char hash_hex[SHA256_HEX_SIZE], char *err, size_t errlen)
{
	char *tmpname = xasprintf(".%s.part-%ld-%ld", name, (long)getpid(), (long)time(NULL));
	char *tmp = rclone_path(r, tmpname), *dst = rclone_path(r, name);
	int rc;
	const char *up[] = { "copyto", "--ignore-times", file, tmp, NULL };
	hash_type[0] = hash_hex[0] = '\0';
	if ((rc = rclone_run(r, up, NULL, err, errlen)) != DG_OK)
		goto fail;
	if ((rc = rclone_hashes(r, err, errlen)) != DG_OK)
		goto fail;
	char got[SHA256_HEX_SIZE], want[SHA256_HEX_SIZE];
	const char *type = r->has_sha256 ? "sha256" : r->has_md5 ? "md5" : r->has_sha1 ? "sha1" : "sha256";
	if (strcmp(type, "sha256") == 0) {
		snprintf(want, sizeof want, "%s", sha256);
	} else if (remote_hash_file(file, type, want, sizeof want) < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", file, strerror(errno));
		rc = DG_NO;
		goto fail;
	}
	int download = !r->has_sha256 && !r->has_md5 && !r->has_sha1;
	if ((rc = remote_digest(r, tmpname, type, download, got, sizeof got, err, errlen)) != DG_OK)
		goto fail;
	if (strcasecmp(got, want) != 0) {
		snprintf(err, errlen, "the uploaded copy of '%s' on '%s' does not match: %s %s there, %s here",
		         name, r->spec, type, got, want);
		rc = DG_INTEGRITY;
		goto fail;
	}
	verbose("'%s' arrived whole: %s %s%s", name, type, got, download ? " (read back)" : "");
	if (strcmp(type, "sha256") != 0) {
		snprintf(hash_type, 8, "%s", type);
		snprintf(hash_hex, SHA256_HEX_SIZE, "%s", got);
	}
	const char *mv[] = { "moveto", tmp, dst, NULL };
	if ((rc = rclone_run(r, mv, NULL, err, errlen)) != DG_OK)
		goto fail;
	free(tmpname);
	free(tmp);
	free(dst);
	return DG_OK;
fail:;
	char e2[200];
	remote_delete(r, tmpname, e2, sizeof e2);
	free(tmpname);
	free(tmp);
	free(dst);
	return rc;
}

/* The remote already holds this very snapshot (metadata with the same
 * SHA-256, and its object). */
static int already_there(struct remote *r, const char *name, const char *sha256,
                         const struct remote_object *objs, size_t n)
{
	char *meta = xasprintf("%s.meta", name);
	int have_meta = 0;
	for (size_t i = 0; i < n; i++)
		have_meta |= strcmp(objs[i].name, meta) == 0;
	int yes = 0;
	if (have_meta) {
		char *p = rclone_path(r, meta), *text = NULL, err[300];
		const char *args[] = { "cat", p, NULL };
		if (rclone_run(r, args, &text, err, sizeof err) == DG_OK) {
			char *sum = remote_meta_value(text, "sha256"), *obj = remote_meta_value(text, "remote_object");
			char *size = remote_meta_value(text, "remote_size");
			for (size_t i = 0; obj && size && i < n; i++)
				if (strcmp(objs[i].name, obj) == 0 && objs[i].size == strtoull(size, NULL, 10))
					yes = sum && strcmp(sum, sha256) == 0;
			free(sum);
			free(obj);
			free(size);
		}
		free(text);
		free(p);
	}
	free(meta);
	return yes;
}

int remote_push(struct remote *r, const char *path)
{
	char err[700];
	char *name = path_base(path), *meta_path = xasprintf("%s.meta", path);
	char *text = NULL, *enc_tmp = NULL, *meta_tmp = NULL, *obj = NULL;
	struct snapshot_meta m;
	memset(&m, 0, sizeof m);
	struct remote_object *objs = NULL;
	size_t nobj = 0;
	int rc = DG_INTEGRITY;
	struct stat st;
	char sum[SHA256_HEX_SIZE];
	if (store_meta_read(meta_path, &m, err, sizeof err) < 0 || !(text = read_file(meta_path, NULL))) {
		error("cannot push '%s': its metadata cannot be used: %s", path, err);
		goto out;
	}
	if (stat(path, &st) < 0 || sha256_file(path, sum) < 0) {
		error("cannot push '%s':", path);
		rc = errno == ENOENT ? DG_NOTHING : DG_NO;
		goto out;
	}
	if ((unsigned long long)st.st_size != m.size || strcmp(sum, m.sha256) != 0) {
		error("cannot push '%s': it does not match its metadata (size or SHA-256); "
		      "db-snap --verify says more", path);
		goto out;
	}
	if ((rc = remote_objects(r, &objs, &nobj, err, sizeof err)) != DG_OK) {
		error("cannot push '%s': %s", name, err);
		goto out;
	}
	/* What a killed push of this snapshot left. */
	size_t nl = strlen(name);
	for (size_t i = 0; i < nobj; i++)
		if (remote_is_temp(objs[i].name) && strncmp(objs[i].name + 1, name, nl) == 0 &&
		    objs[i].name[nl + 1] == '.') {
			verbose("removing '%s', left by an interrupted push", objs[i].name);
			if ((rc = remote_delete(r, objs[i].name, err, sizeof err)) != DG_OK) {
				error("cannot push '%s': %s", name, err);
				goto out;
			}
		}
	if (already_there(r, name, m.sha256, objs, nobj)) {
		info("'%s' is already on '%s'", name, r->spec);
		rc = DG_OK;
		goto out;
	}

	const char *file = path;
	char osum[SHA256_HEX_SIZE];
	snprintf(osum, sizeof osum, "%s", sum);
	int encrypted = crypt_wanted();
	if (encrypted) {
		int fd = make_temp_beside(path, &enc_tmp, 0600);
		if (fd < 0) {
			error("cannot create a temporary file beside '%s':", path);
			rc = DG_NO;
			goto out;
		}
		close(fd);
		if ((rc = crypt_encrypt(path, enc_tmp, err, sizeof err)) != DG_OK) {
			error("%s", err);
			goto out;
		}
		if (stat(enc_tmp, &st) < 0 || sha256_file(enc_tmp, osum) < 0) {
			error("cannot read '%s':", enc_tmp);
			rc = DG_NO;
			goto out;
		}
		file = enc_tmp;
	}
	obj = xasprintf("%s%s", name, encrypted ? ".age" : "");
	char htype[8], hhex[SHA256_HEX_SIZE];
	if ((rc = upload_checked(r, file, obj, osum, htype, hhex, err, sizeof err)) != DG_OK) {
		error("cannot push '%s': %s; the local snapshot is as it was", name, err);
		goto out;
	}
	/* The metadata, last: the local one and where the data is. */
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, text);
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		sb_addc(&sb, '\n');
	sb_addf(&sb, "remote_object=%s\nremote_size=%llu\nremote_sha256=%s\n", obj,
	        (unsigned long long)st.st_size, osum);
	if (htype[0])
		sb_addf(&sb, "remote_hash=%s:%s\n", htype, hhex);
	if (encrypted)
		sb_adds(&sb, "encryption=age\n");
	const char *td = getenv("TMPDIR");
	meta_tmp = xasprintf("%s/dbguard-push.XXXXXX", td && *td ? td : "/tmp");
	int mfd = mkstemp(meta_tmp);
	if (mfd < 0 || write_all(mfd, sb.buf, sb.len) < 0 || close(mfd) < 0) {
		error("cannot write '%s':", meta_tmp);
		if (mfd >= 0)
			unlink(meta_tmp);
		free(meta_tmp);
		meta_tmp = NULL;
		sb_free(&sb);
		rc = DG_NO;
		goto out;
	}
	sb_free(&sb);
	char *mname = xasprintf("%s.meta", name);
	char mh[8], mx[SHA256_HEX_SIZE], msum[SHA256_HEX_SIZE];
	if (sha256_file(meta_tmp, msum) < 0)
		msum[0] = '\0';
	rc = upload_checked(r, meta_tmp, mname, msum, mh, mx, err, sizeof err);
	free(mname);
	if (rc != DG_OK) {
		error("cannot push the metadata of '%s': %s; the local snapshot is as it was", name, err);
		goto out;
	}
	info("pushed '%s' to '%s'%s", name, r->spec, encrypted ? " (encrypted with age)" : "");
	rc = DG_OK;
out:
	if (enc_tmp) {
		unlink(enc_tmp);
		free(enc_tmp);
	}
	if (meta_tmp) {
		unlink(meta_tmp);
		free(meta_tmp);
	}
	remote_objects_free(objs, nobj);
	store_meta_free(&m);
	free(text);
	free(obj);
	free(name);
	free(meta_path);
	return rc;
}

int remote_push_background(const char *path, const char *store)
{
	char *full = realpath(path, NULL);
	char *log = path_join(store, ".push.log");
	int lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	int nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int rc = -1;
	if (!full || lfd < 0 || nfd < 0) {
		warn("cannot start the background push of '%s':", path);
		goto out;
	}
	struct strvec av = STRVEC_INIT;
	sv_push_owned(&av, find_sibling_program("db-snap"));
	sv_push(&av, "--push");
	sv_push(&av, full);
	/* Nothing of ours held open: a caller reading our output to its end
	 * (safe-run, a shell's $(...)) must not wait for the upload. */
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.fd_in = nfd;
	so.fd_out = nfd;
	so.fd_err = lfd;
	pid_t pid;
	int e = spawn_child(sv_argv(&av), &so, &pid);
	if (e) {
		errno = e;
		warn("cannot start the background push of '%s':", path);
	} else {
		info("pushing '%s' to the remote in the background (messages in '%s')", path, log);
		rc = 0;
	}
	sv_free(&av);
out:
	if (lfd >= 0)
		close(lfd);
	if (nfd >= 0)
		close(nfd);
	free(full);
	free(log);
	return rc;
}
