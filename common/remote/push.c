/* push.c — a local snapshot onto the remote: the data under a temporary
 * name, checked there against its SHA-256 (or a hash the backend reports,
 * recorded too, or a download of it), moved into place, and the metadata
 * last, so that nothing incomplete is ever listed. */
#include "remote/remote.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* The hex digest of type for the object name in rclone lsjson output
 * ("Name":"x", ... "Hashes":{"sha256":"..."}), or "" when absent. */
static void lsjson_hash(const char *json, const char *name, const char *type, char hex[SHA256_HEX_SIZE])
{
	hex[0] = '\0';
	char *key = xasprintf("\"Name\":\"%s\"", name);
	const char *p = strstr(json, key);
	free(key);
	if (!p)
		return;
	const char *end = strchr(p, '}');
	const char *h = strstr(p, "\"Hashes\"");
	if (!h || (end && h > end))
		return;
	end = strchr(h, '}');
	char *tk = xasprintf("\"%s\":\"", type);
	const char *v = strstr(h, tk);
	if (v && (!end || v < end)) {
		v += strlen(tk);
		size_t n = strcspn(v, "\"");
		if (n < SHA256_HEX_SIZE) {
			memcpy(hex, v, n);
			hex[n] = '\0';
		}
	}
	free(tk);
}

/* The digest in rclone hashsum output ("<hex>  <name>" lines), or "". */
static void hashsum_line(const char *out, const char *name, char hex[SHA256_HEX_SIZE])
{
	hex[0] = '\0';
	size_t nl = strlen(name);
	for (const char *p = out; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *sp = memchr(p, ' ', n);
		if (sp && (size_t)(p + n - sp) == nl + 2 && sp[1] == ' ' && memcmp(sp + 2, name, nl) == 0 &&
		    (size_t)(sp - p) < SHA256_HEX_SIZE) {
			memcpy(hex, p, (size_t)(sp - p));
			hex[sp - p] = '\0';
			return;
		}
		p = e ? e + 1 : NULL;
	}
}

/* A push's two files under their temporary names, in a private directory
 * of the store (a hard link of the data: no copy), so one rclone run
 * uploads both. */
struct stage {
	char *dir, *data, *meta;    /* local paths */
	char *tdata, *tmeta;        /* temporary names on the remote */
};

static void stage_free(struct stage *st)
{
	if (st->data)
		unlink(st->data);
	if (st->meta)
		unlink(st->meta);
	if (st->dir)
		rmdir(st->dir);
	free(st->dir);
	free(st->data);
	free(st->meta);
	free(st->tdata);
	free(st->tmeta);
	memset(st, 0, sizeof *st);
}

/* Stage directories of pushes that were killed (their process is gone). */
static void clean_stages(const char *store)
{
	DIR *d = opendir(store);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		long pid;
		if (strncmp(de->d_name, ".push.", 6) != 0 || sscanf(de->d_name + 6, "%ld.", &pid) != 1 ||
		    pid <= 0 || (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			continue;
		char *dir = path_join(store, de->d_name);
		DIR *dd = opendir(dir);
		struct dirent *f;
		while (dd && (f = readdir(dd))) {
			if (f->d_name[0] == '.' && (!f->d_name[1] || (f->d_name[1] == '.' && !f->d_name[2])))
				continue;
			char *fp = path_join(dir, f->d_name);
			unlink(fp);
			free(fp);
		}
		if (dd)
			closedir(dd);
		rmdir(dir);
		free(dir);
	}
	if (d)
		closedir(d);
}

static int stage_make(struct stage *st, const char *store, const char *file, const char *obj,
                      const char *meta_text, size_t meta_len)
{
	memset(st, 0, sizeof *st);
	st->dir = xasprintf("%s/.push.%ld.XXXXXX", store, (long)getpid());
	if (!mkdtemp(st->dir)) {
		free(st->dir);
		st->dir = NULL;
		return -1;
	}
	char *base = path_base(st->dir);
	/* ".<obj>.part-<pid>.XXXXXX": unique, and of this snapshot. */
	st->tdata = xasprintf(".%s.part-%s", obj, base + 6);
	free(base);
	const char *dot = strrchr(obj, '.');
	int age = dot && strcmp(dot, ".age") == 0;
	char *name = age ? xstrndup(obj, (size_t)(dot - obj)) : xstrdup(obj);
	st->tmeta = xasprintf(".%s.meta.part-%s", name, st->tdata + strlen(obj) + 7);
	free(name);
	st->data = path_join(st->dir, st->tdata);
	st->meta = path_join(st->dir, st->tmeta);
	if (link(file, st->data) < 0) {
		free(st->data);
		st->data = NULL;
		return -1;
	}
	int fd = open(st->meta, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, meta_text, meta_len) < 0 || close(fd) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* Upload the staged files, check both there, move the data into place and
 * then the metadata.  While the upload runs, the local snapshot at
 * local (if not NULL) is checked against its recorded SHA-256 local_sum:
 * the check costs no time of its own. */
static int upload_checked(struct remote *r, const struct stage *st, const char *obj, const char *meta_name,
                          const char *data_sha256, const char *meta_sha256, const char *local,
                          const char *local_sum, char *err, size_t errlen)
{
	int rc;
	char *idata = xasprintf("/%s", st->tdata), *imeta = xasprintf("/%s", st->tmeta);
	const char *up[] = { "copy", "--ignore-times", "--no-traverse", "--max-depth", "1", st->dir, r->spec, NULL };
	struct rclone_job job;
	rclone_start(r, up, &job);
	char sum[SHA256_HEX_SIZE];
	int local_rc = local && sha256_file(local, sum) < 0 ? -1 : 0;
	int local_errno = errno;
	if ((rc = rclone_finish(r, &job, NULL, err, errlen)) != DG_OK)
		goto out;
	if (local_rc < 0 || (local && strcmp(sum, local_sum) != 0)) {
		if (local_rc < 0)
			snprintf(err, errlen, "cannot read '%s': %s", local, strerror(local_errno));
		else
			snprintf(err, errlen, "'%s' does not match its metadata (SHA-256); db-snap --verify says more",
			         local);
		rc = local_rc < 0 ? DG_NO : DG_INTEGRITY;
		goto out;
	}
	const char *type = r->has_sha256 ? "sha256" : r->has_md5 ? "md5" : r->has_sha1 ? "sha1" : NULL;
	char want_d[SHA256_HEX_SIZE], want_m[SHA256_HEX_SIZE], got_d[SHA256_HEX_SIZE], got_m[SHA256_HEX_SIZE];
	char *out = NULL;
	if (type) {
		const char *ls[] = { "lsjson", "--files-only", "--max-depth", "1", "--hash-type", type,
		                     "--include", idata, "--include", imeta, r->spec, NULL };
		if ((rc = rclone_run(r, ls, &out, err, errlen)) != DG_OK)
			goto out;
		lsjson_hash(out, st->tdata, type, got_d);
		lsjson_hash(out, st->tmeta, type, got_m);
	} else {
		/* No hash there (WebDAV): read both back once. */
		type = "sha256";
		const char *hs[] = { "hashsum", "sha256", "--download", "--max-depth", "1",
		                     "--include", idata, "--include", imeta, r->spec, NULL };
		if ((rc = rclone_run(r, hs, &out, err, errlen)) != DG_OK)
			goto out;
		hashsum_line(out, st->tdata, got_d);
		hashsum_line(out, st->tmeta, got_m);
	}
	free(out);
	if (strcmp(type, "sha256") == 0) {
		snprintf(want_d, sizeof want_d, "%s", data_sha256);
		snprintf(want_m, sizeof want_m, "%s", meta_sha256);
	} else if (remote_hash_file(st->data, type, want_d, sizeof want_d) < 0 ||
	           remote_hash_file(st->meta, type, want_m, sizeof want_m) < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", st->dir, strerror(errno));
		rc = DG_NO;
		goto out;
	}
	if (strcasecmp(got_d, want_d) != 0 || strcasecmp(got_m, want_m) != 0) {
		snprintf(err, errlen, "the uploaded copy on '%s' does not match: %s %s there, %s here", r->spec, type,
		         strcasecmp(got_d, want_d) ? (*got_d ? got_d : "(none)") : (*got_m ? got_m : "(none)"),
		         strcasecmp(got_d, want_d) ? want_d : want_m);
		rc = DG_INTEGRITY;
		goto out;
	}
	verbose("'%s' arrived whole: %s %s", obj, type, got_d);
	char *from = rclone_path(r, st->tdata), *to = rclone_path(r, obj);
	const char *mv[] = { "moveto", from, to, NULL };
	rc = rclone_run(r, mv, NULL, err, errlen);
	free(from);
	free(to);
	if (rc != DG_OK)
		goto out;
	from = rclone_path(r, st->tmeta);
	to = rclone_path(r, meta_name);
	const char *mm[] = { "moveto", from, to, NULL };
	rc = rclone_run(r, mm, NULL, err, errlen);
	free(from);
	free(to);
out:
	if (rc != DG_OK) {
		char e2[200];
		remote_delete(r, st->tdata, e2, sizeof e2);
		remote_delete(r, st->tmeta, e2, sizeof e2);
	}
	free(idata);
	free(imeta);
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

/* List the remote's objects, and learn at the same time what the backend
 * can hash. */
static int push_list_remote(struct remote *r, const char *name, struct remote_object **objs, size_t *nobj)
{
	char err[700];
	struct rclone_job hj;
	int hashes_started = !r->hashes_known && rclone_hashes_start(r, &hj) == 0;
	if (!r->hashes_known && !hashes_started)
		rclone_hashes_finish(r, &hj, err, sizeof err);   /* reports the spawn failure below */
	int rc = remote_objects(r, objs, nobj, err, sizeof err);
	char herr[700];
	int hrc = hashes_started ? rclone_hashes_finish(r, &hj, herr, sizeof herr) : DG_OK;
	if (rc == DG_OK && hrc != DG_OK) {
		rc = hrc;
		snprintf(err, sizeof err, "%s", herr);
	}
	if (rc != DG_OK)
		error("cannot push '%s': %s", name, err);
	return rc;
}

/* The local snapshot is there, as big as its metadata says; *st is its
 * stat. */
static int push_check_size(const char *path, const struct snapshot_meta *m, struct stat *st)
{
	if (stat(path, st) < 0) {
		error("cannot push '%s':", path);
		return errno == ENOENT ? DG_NOTHING : DG_NO;
	}
	if ((unsigned long long)st->st_size != m->size) {
		error("cannot push '%s': it does not match its metadata (size); db-snap --verify says more", path);
		return DG_INTEGRITY;
	}
	return DG_OK;
}

/* Remove what a killed push of this snapshot left on the remote. */
static int push_clear_leftovers(struct remote *r, const char *name, const struct remote_object *objs, size_t nobj)
{
	char err[700];
	size_t nl = strlen(name);
	for (size_t i = 0; i < nobj; i++)
		if (remote_is_temp(objs[i].name) && strncmp(objs[i].name + 1, name, nl) == 0 &&
		    objs[i].name[nl + 1] == '.') {
			verbose("removing '%s', left by an interrupted push", objs[i].name);
			int rc = remote_delete(r, objs[i].name, err, sizeof err);
			if (rc != DG_OK) {
				error("cannot push '%s': %s", name, err);
				return rc;
			}
		}
	return DG_OK;
}

/* Encrypt path, checked against its SHA-256 first, into a new temporary
 * file beside it (*enc_tmp, the caller removes it); *st and osum are then
 * the ciphertext's. */
static int push_encrypt(const char *path, const struct snapshot_meta *m, char **enc_tmp, struct stat *st,
                        char osum[SHA256_HEX_SIZE])
{
	char err[700];
	int fd = make_temp_beside(path, enc_tmp, 0600);
	if (fd < 0) {
		error("cannot create a temporary file beside '%s':", path);
		return DG_NO;
	}
	close(fd);
	char lsum[SHA256_HEX_SIZE];
	if (sha256_file(path, lsum) < 0 || strcmp(lsum, m->sha256) != 0) {
		error("cannot push '%s': it does not match its metadata (SHA-256); db-snap --verify says more",
		      path);
		return DG_INTEGRITY;
	}
	int rc = crypt_encrypt(path, *enc_tmp, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	if (stat(*enc_tmp, st) < 0 || sha256_file(*enc_tmp, osum) < 0) {
		error("cannot read '%s':", *enc_tmp);
		return DG_NO;
	}
	return DG_OK;
}

/* The metadata to push, in *sb (empty on entry, freed on failure): the
 * local one (text) with where the data (file, pushed as obj) is and how it
 * is checked there, sealed again; msum is its SHA-256. */
static int push_meta(struct remote *r, const char *text, const char *file, const char *obj,
                     unsigned long long size, const char *osum, int encrypted, struct strbuf *sb,
                     char msum[SHA256_HEX_SIZE])
{
	sb_addf(sb, "remote_object=%s\nremote_size=%llu\nremote_sha256=%s\n", obj, size, osum);
	const char *htype = r->has_sha256 ? NULL : r->has_md5 ? "md5" : r->has_sha1 ? "sha1" : NULL;
	if (htype) {
		char hx[SHA256_HEX_SIZE];
		if (remote_hash_file(file, htype, hx, sizeof hx) < 0) {
			error("cannot read '%s':", file);
			sb_free(sb);
			return DG_NO;
		}
		sb_addf(sb, "remote_hash=%s:%s\n", htype, hx);
	}
	if (encrypted)
		sb_adds(sb, "encryption=age\n");
	/* The local metadata with those lines, sealed again. */
	char *sealed = store_meta_extend(text, sb_str(sb));
	sb_free(sb);
	sb_adds(sb, sealed);
	free(sealed);
	struct sha256 h;
	if (sha256_init(&h) < 0) {
		error("cannot compute a SHA-256:");
		sb_free(sb);
		return DG_NO;
	}
	sha256_update(&h, sb->buf, sb->len);
	sha256_final(&h, msum);
	return DG_OK;
}

int remote_push(struct remote *r, const char *path)
{
	char err[700];
	char *name = path_base(path), *meta_path = xasprintf("%s.meta", path), *store = path_dir(path);
	char *text = NULL, *enc_tmp = NULL, *obj = NULL, *mname = NULL;
	struct snapshot_meta m;
	memset(&m, 0, sizeof m);
	struct remote_object *objs = NULL;
	struct stage stg;
	memset(&stg, 0, sizeof stg);
	size_t nobj = 0;
	int rc = DG_INTEGRITY;
	struct stat st;
	if (store_meta_read(meta_path, &m, err, sizeof err) < 0 || !(text = read_file(meta_path, NULL))) {
		error("cannot push '%s': its metadata cannot be used: %s", path, err);
		goto out;
	}
	if ((rc = push_list_remote(r, name, &objs, &nobj)) != DG_OK ||
	    (rc = push_check_size(path, &m, &st)) != DG_OK ||
	    (rc = push_clear_leftovers(r, name, objs, nobj)) != DG_OK)
		goto out;
	clean_stages(store);
	if (already_there(r, name, m.sha256, objs, nobj)) {
		info("'%s' is already on '%s'", name, r->spec);
		rc = DG_OK;
		goto out;
	}
	/* Its SHA-256 is checked while the upload runs (or before encrypting). */
	const char *file = path;
	char osum[SHA256_HEX_SIZE];
	snprintf(osum, sizeof osum, "%s", m.sha256);
	int encrypted = crypt_wanted();
	if (encrypted) {
		if ((rc = push_encrypt(path, &m, &enc_tmp, &st, osum)) != DG_OK)
			goto out;
		file = enc_tmp;
	}
	obj = xasprintf("%s%s", name, encrypted ? ".age" : "");
	mname = xasprintf("%s.meta", name);
	struct strbuf sb = STRBUF_INIT;
	char msum[SHA256_HEX_SIZE];
	if ((rc = push_meta(r, text, file, obj, (unsigned long long)st.st_size, osum, encrypted, &sb, msum)) != DG_OK)
		goto out;
	if (stage_make(&stg, store, file, obj, sb.buf, sb.len) < 0) {
		error("cannot stage '%s' for the push in '%s':", name, store);
		sb_free(&sb);
		rc = DG_NO;
		goto out;
	}
	sb_free(&sb);
	if ((rc = upload_checked(r, &stg, obj, mname, osum, msum, encrypted ? NULL : path, m.sha256, err,
	                         sizeof err)) != DG_OK) {
		error("cannot push '%s': %s; the local snapshot is as it was", name, err);
		goto out;
	}
	info("pushed '%s' to '%s'%s", name, r->spec, encrypted ? " (encrypted with age)" : "");
	rc = DG_OK;
out:
	stage_free(&stg);
	if (enc_tmp) {
		unlink(enc_tmp);
		free(enc_tmp);
	}
	remote_objects_free(objs, nobj);
	store_meta_free(&m);
	free(text);
	free(obj);
	free(mname);
	free(name);
	free(store);
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
