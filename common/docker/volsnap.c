/* volsnap.c — see volsnap.h
 *
 * A restore works inside the volume, so every step is a rename on one file
 * system, done by helper containers named dbguard-vol-<volume>:
 *   extract  the archive into .dbguard-restore-new/ (the old content stays);
 *            the host checks the stream's SHA-256, its size and the entry
 *            count against the metadata, and removes the directory on failure;
 *   commit   create .dbguard-restore-commit: from here on the new content wins;
 *            move every old top-level entry into .dbguard-restore-old/, create
 *            .dbguard-restore-phase2, move the new entries up, remove the rest.
 * A restore killed anywhere leaves either no commit marker (the old content,
 * whole; the next run removes .dbguard-restore-new) or the marker, and the
 * next run finishes the commit from where it stopped before anything else. */
#include "docker/volsnap.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/process.h"
#include "base/xalloc.h"
#include "docker/cli.h"
#include "docker/volume.h"
#include "model/confirm.h"

#define LOCK_WAIT_SECONDS 600

/* The script of the helper container; $1 is the step. */
static const char restore_script[] =
	"set -e\n"
	"cd /v\n"
	"N=.dbguard-restore-new O=.dbguard-restore-old C=.dbguard-restore-commit P=.dbguard-restore-phase2\n"
	"finish() {\n"
	"  if [ ! -e $P ]; then\n"
	"    mkdir -p $O\n"
	"    for f in .[!.]* ..?* *; do\n"
	"      [ -e \"$f\" ] || [ -L \"$f\" ] || continue\n"
	"      case $f in .dbguard-restore-*) continue ;; esac\n"
	"      mv \"$f\" $O/\n"
	"    done\n"
	"    sync; touch $P; sync\n"
	"  fi\n"
	"  if [ -d $N ]; then\n"
	"    for f in $N/.[!.]* $N/..?* $N/*; do\n"
	"      [ -e \"$f\" ] || [ -L \"$f\" ] || continue\n"
	"      mv \"$f\" ./\n"
	"    done\n"
	/* The volume's own directory as the snapshot had it (a database's
	 * data directory is 0700 and its server's). */
	"    chown \"$(stat -c %u:%g $N)\" .; chmod \"$(stat -c %a $N)\" .\n"
	"  fi\n"
	"  sync; rm -rf $O $N; rm -f $P; sync; rm -f $C; sync\n"
	"}\n"
	"case $1 in\n"
	"recover)\n"
	"  if [ -e $C ]; then echo completed; finish\n"
	"  elif [ -e $N ] || [ -e $O ] || [ -e $P ]; then echo discarded; rm -rf $N $O; rm -f $P; sync\n"
	"  fi ;;\n"
	"extract)\n"
	"  rm -rf $N; mkdir $N\n"
	"  tar -C $N -xf -\n"
	"  sync\n"
	"  find $N -mindepth 1 | wc -l ;;\n"
	"discard) rm -rf $N; sync ;;\n"
	"commit) touch $C; sync; finish ;;\n"
	"esac\n";

char *volsnap_dbkey(const char *volume)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = volume; *p; p++) {
		char c = *p;
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		         c == '_' || c == '-' || (c == '.' && p != volume);
		sb_addc(&sb, ok ? c : '-');
	}
	return sb.buf ? sb_detach(&sb) : xstrdup("volume");
}

void volsnap_list(const char *store, const char *volume, struct snapshot_list *out)
{
	char *key = volume ? volsnap_dbkey(volume) : NULL;
	store_list(store, key, out);
	free(key);
	/* Keep the volume snapshots, in order; the others go into a list of
	 * their own to be freed. */
	struct snapshot_list rest = { xcalloc(out->n ? out->n : 1, sizeof *rest.v), 0 };
	size_t j = 0;
	for (size_t i = 0; i < out->n; i++) {
		struct snapshot *s = &out->v[i];
		int vol = s->good ? strcmp(s->meta.engine, "volume") == 0 : strstr(s->name, ".tar") != NULL;
		if (vol)
			out->v[j++] = *s;
		else
			rest.v[rest.n++] = *s;
	}
	out->n = j;
	snapshot_list_free(&rest);
}

static char *meta_value(const char *meta_path, const char *key)
{
	char *text = read_file(meta_path, NULL);
	if (!text)
		return NULL;
	size_t k = strlen(key);
	char *val = NULL;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (strncmp(line, key, k) == 0 && line[k] == '=') {
			val = nl ? xstrndup(line + k + 1, (size_t)(nl - line - k - 1)) : xstrdup(line + k + 1);
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return val;
}

char *volsnap_meta_volume(const char *snapshot_path)
{
	char *meta = xasprintf("%s.meta", snapshot_path);
	char *v = meta_value(meta, "volume");
	if (!v)
		v = meta_value(meta, "database");
	free(meta);
	return v;
}

/* ---- counting the entries of a tar stream as it passes ---- */

struct tarcount {
	unsigned char hdr[512];
	size_t have;
	unsigned long long skip;
	long files;
	int zeros, end;
};

static unsigned long long tar_size(const unsigned char *h)
{
	unsigned long long v = 0;
	if (h[124] & 0x80) {   /* base-256 */
		for (int i = 125; i < 136; i++)
			v = (v << 8) | h[i];
		return v;
	}
	for (int i = 124; i < 136 && h[i]; i++)
		if (h[i] >= '0' && h[i] <= '7')
			v = v * 8 + (unsigned)(h[i] - '0');
	return v;
}

static int tar_observe(void *arg, const void *buf, size_t len)
{
	struct tarcount *t = arg;
	const unsigned char *p = buf;
	while (len && !t->end) {
		if (t->skip) {
			size_t n = len < t->skip ? len : (size_t)t->skip;
			t->skip -= n;
			p += n;
			len -= n;
			continue;
		}
		size_t n = 512 - t->have;
		if (n > len)
			n = len;
		memcpy(t->hdr + t->have, p, n);
		t->have += n;
		p += n;
		len -= n;
		if (t->have < 512)
			continue;
		t->have = 0;
		int zero = 1;
		for (int i = 0; i < 512 && zero; i++)
			zero = t->hdr[i] == 0;
		if (zero) {
			if (++t->zeros == 2)
				t->end = 1;
			continue;
		}
		t->zeros = 0;
		unsigned long long size = tar_size(t->hdr);
		char type = (char)t->hdr[156];
		t->skip = (size + 511) / 512 * 512;
		if (type == 'L' || type == 'K' || type == 'x' || type == 'g')
			continue;
		if (strcmp((char *)t->hdr, "./") != 0 && strcmp((char *)t->hdr, ".") != 0)
			t->files++;
	}
	return 0;
}

/* ---- taking a snapshot ---- */

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static char *engine_version(void)
{
	struct dk_result r;
	dk_runl(&r, "version", "--format", "{{.Server.Version}}", (char *)NULL);
	char *v = dk_first_line(r.status == 0 ? r.out : "");
	dk_result_free(&r);
	return v;
}

static char *helper_name(const char *volume)
{
	char *k = volsnap_dbkey(volume);
	char *n = xasprintf("dbguard-vol-%s", k);
	free(k);
	return n;
}

/* A helper container of an earlier, killed run may still be at work on the
 * volume: let it finish first. */
static void wait_for_helper(const char *volume)
{
	char *name = helper_name(volume);
	struct dk_result r;
	dk_runl(&r, "wait", name, (char *)NULL);
	dk_result_free(&r);
	dk_runl(&r, "rm", "-f", name, (char *)NULL);
	dk_result_free(&r);
	free(name);
}

/* The label of the new snapshot as a snapshot name carries it, or NULL. */
static char *take_label(const struct volsnap_opts *o)
{
	char *label = NULL;
	if (o->label && *o->label) {
		char *n = store_snapshot_name("x", 0, o->label, "tar");
		store_parse_name(n, NULL, NULL, &label, NULL);
		free(n);
	}
	return label;
}

/* The path of the new snapshot and of its metadata, neither of which
 * exists yet (after a few tries: the name holds the second); returns the
 * time the name was made of. */
static time_t take_name(const struct volsnap_opts *o, const char *key, const char *label, char **path,
                        char **meta_path)
{
	char *ext = xasprintf("tar%s", compress_suffix(o->spec.kind));
	time_t created;
	for (int tries = 0;; tries++) {
		created = time(NULL);
		char *name = store_snapshot_name(key, created, label, ext);
		free(*path);
		free(*meta_path);
		*path = path_join(o->store, name);
		*meta_path = xasprintf("%s.meta", *path);
		free(name);
		if ((!exists(*path) && !exists(*meta_path)) || tries == 3)
			break;
		struct timespec ts = { 0, 250000000L };
		nanosleep(&ts, NULL);
	}
	free(ext);
	return created;
}

/* Why the helper container's archive of the volume is not whole, into err:
 * pr and perr are the pump's result and errno, status the container's, efd
 * its stderr (or -1). */
static void take_failure(const struct volsnap_opts *o, struct compressor *comp, const char *path, int efd,
                         int pr, int perr, int status, char *err, size_t errlen)
{
	char ebuf[2048] = "", *last = ebuf;
	int no_image = 0;
	if (efd >= 0) {
		ssize_t n = pread(efd, ebuf, sizeof ebuf - 1, 0);
		ebuf[n > 0 ? n : 0] = '\0';
		no_image = strstr(ebuf, "Unable to find image") != NULL;
		/* The last line says why: "Unable to find image" comes
		 * before the reason the pull failed. */
		for (char *l = ebuf, *nl; l && *l; l = nl) {
			nl = strchr(l, '\n');
			if (nl)
				*nl++ = '\0';
			if (*l && strncmp(l, "Run 'docker", 11) != 0)
				last = l;
		}
		if (strncmp(last, "docker: ", 8) == 0)
			last += 8;
	}
	if (pr < 0 && compressor_error(comp))
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(compressor_error(comp)));
	else if (pr < 0)
		snprintf(err, errlen, "cannot read the archive of volume '%s': %s", o->volume, strerror(perr));
	else
		snprintf(err, errlen, "the '%s' helper container could not read volume '%s'%s%s%s%s",
		         dk_helper_image(), o->volume, *last ? ": " : "", last,
		         status == 0 ? " (the archive ended early)" : "",
		         no_image ? "; set docker_helper_image (or "
		         "DBGUARD_DOCKER_HELPER_IMAGE) to a local image with sh and tar" : "");
}

/* The volume as a tar archive from a helper container, pumped through comp
 * (into path's temporary file), its entries counted in *tc.  0, or -1 with
 * err set; the container is waited for either way. */
static int take_archive(const struct volsnap_opts *o, struct compressor *comp, const char *path,
                        struct tarcount *tc, char *err, size_t errlen)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	/* nocopy: mounting an empty volume would otherwise hand its root to
	 * the helper image's mount point (root:root 0755), Docker's copy-up. */
	char *mount = xasprintf("%s:/v:ro,nocopy", o->volume);
	char *const argv[] = { "docker", "run", "--rm", "--network", "none", "--log-driver", "none",
		                   "-v", mount, "-w", "/v", "--entrypoint", "", (char *)dk_helper_image(),
		                   "tar", "-cf", "-", ".", NULL };
	struct spawn_opts so = SPAWN_OPTS_INIT;
	int efd = memfd_create("docker-stderr", MFD_CLOEXEC);
	so.fd_out = pfd[1];
	so.fd_err = efd;
	pid_t pid = -1;
	int e = spawn_child(argv, &so, &pid);
	free(mount);
	close(pfd[1]);
	if (e) {
		snprintf(err, errlen, "cannot run 'docker': %s", strerror(e));
		if (efd >= 0)
			close(efd);
		close(pfd[0]);
		return -1;
	}
	int pr = compressor_pump(comp, pfd[0], tar_observe, tc);
	int perr = errno;
	close(pfd[0]);
	int st;
	wait_child(pid, &st);
	int status = exit_status_of(st);
	int bad = status != 0 || pr < 0 || !tc->end;
	if (bad)
		take_failure(o, comp, path, efd, pr, perr, status, err, errlen);
	if (efd >= 0)
		close(efd);
	return bad ? -1 : 0;
}

/* Close comp (in every case) and check that fd, synced, holds what it
 * wrote; *cres is its account.  0, or -1 with err set. */
static int take_close(struct compressor *comp, int fd, const char *path, struct compress_result *cres,
                      char *err, size_t errlen)
{
	int cr = compressor_close(comp, cres);
	struct stat fst;
	if (cr < 0 || fsync(fd) < 0 || fstat(fd, &fst) < 0 || (unsigned long long)fst.st_size != cres->out_bytes) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The new snapshot's metadata, in m, and as text in *sb: the store's, with
 * the volume's own keys, sealed again. */
static void take_meta(const struct volsnap_opts *o, const struct dk_volume *vol, const char *label,
                      time_t created, const struct compress_result *cres, long files, struct snapshot_meta *m,
                      struct strbuf *sb)
{
	char *version = engine_version();
	m->engine = xstrdup("volume");
	m->server_version = xstrdup(version);
	m->database = xstrdup(o->volume);
	m->host = xstrdup("");
	m->created = created;
	m->dbguard_version = xstrdup(DBGUARD_VERSION);
	m->label = xstrdup(label ? label : "");
	m->reason = xstrdup(o->reason ? o->reason : "");
	m->compression = xstrdup(compress_name(o->spec.kind));
	m->raw_bytes = cres->raw_bytes;
	m->size = cres->out_bytes;
	m->sha256 = xstrdup(cres->sha256);
	free(version);
	char *base = store_meta_format(m);
	struct strbuf extra = STRBUF_INIT;
	sb_addf(&extra, "volume=%s\ndriver=%s\ncompose_project=%s\ncompose_volume=%s\nfiles=%ld\n", vol->name,
	        vol->driver, vol->project, vol->key, files);
	char *sealed = store_meta_extend(base, sb_str(&extra));
	sb_adds(sb, sealed);
	free(sealed);
	free(base);
	sb_free(&extra);
}

/* The temporary file renamed to path (never over another), then its
 * metadata written; on failure path is not left.  0, or -1 with err set. */
static int take_install(const char *tmp, const char *path, const char *meta_path, const struct strbuf *sb,
                        char *err, size_t errlen)
{
	if (rename_noclobber(tmp, path) < 0) {
		snprintf(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		return -1;
	}
	if (fsync_dir_of(path) < 0 || atomic_write_file(meta_path, sb->buf, sb->len, 0600) < 0) {
		snprintf(err, errlen, "cannot write '%s': %s", meta_path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int volsnap_take(const struct volsnap_opts *o, char **out_path, char *err, size_t errlen)
{
	*out_path = NULL;
	if (dk_engine_check(err, errlen) < 0)
		return DG_UNREACHABLE;
	struct dk_volume vol;
	int found = dk_volume_inspect(o->volume, &vol, err, errlen);
	if (found < 0)
		return DG_NO;
	if (found == 0) {
		snprintf(err, errlen, "no Docker volume '%s' (docker volume ls lists them)", o->volume);
		return DG_NOTHING;
	}
	char *key = volsnap_dbkey(o->volume);
	char *label = take_label(o), *path = NULL, *meta_path = NULL, *tmp = NULL;
	int rc = DG_NO, lock = -1, fd = -1;
	struct compressor *comp = NULL;
	struct snapshot_meta m = { 0 };
	if (store_ensure(o->store) < 0) {
		snprintf(err, errlen, "cannot create the snapshot store '%s': %s", o->store, strerror(errno));
		goto out;
	}
	lock = store_lock(o->store, key, LOCK_WAIT_SECONDS);
	if (lock < 0) {
		snprintf(err, errlen, "cannot lock the store for volume '%s': %s", o->volume, strerror(errno));
		goto out;
	}
	store_clean_stale(o->store, key);
	time_t created = take_name(o, key, label, &path, &meta_path);
	fd = make_temp_beside(path, &tmp, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file beside '%s': %s", path, strerror(errno));
		goto out;
	}
	comp = compressor_open(fd, o->spec.kind, o->spec.level);
	if (!comp) {
		snprintf(err, errlen, "cannot start %s compression: %s", compress_name(o->spec.kind), strerror(errno));
		goto out;
	}
	struct tarcount tc = { .have = 0 };
	if (take_archive(o, comp, path, &tc, err, errlen) < 0)
		goto out;
	struct compress_result cres;
	int cr = take_close(comp, fd, path, &cres, err, errlen);
	comp = NULL;
	if (cr < 0)
		goto out;
	close(fd);
	fd = -1;
	struct strbuf sb = STRBUF_INIT;
	take_meta(o, &vol, label, created, &cres, tc.files, &m, &sb);
	int ir = take_install(tmp, path, meta_path, &sb, err, errlen);
	sb_free(&sb);
	if (ir < 0)
		goto out;
	*out_path = path;
	path = NULL;
	rc = DG_OK;
out:
	if (comp)
		compressor_abort(comp);
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	store_unlock(lock);
	store_meta_free(&m);
	dk_volume_free(&vol);
	free(key);
	free(label);
	free(path);
	free(meta_path);
	return rc;
}

/* ---- restoring ---- */

/* Run one step of restore_script in the named helper container with the
 * volume writable; stdin from in_fd (-1: none).  Output in r. */
static int run_step(const char *volume, const char *step, int in_fd, struct dk_result *r)
{
	char *name = helper_name(volume);
	char *mount = xasprintf("%s:/v:nocopy", volume);
	struct strvec a = STRVEC_INIT;
	sv_push(&a, "run");
	sv_push(&a, "--rm");
	if (in_fd >= 0)
		sv_push(&a, "-i");
	sv_push(&a, "--name");
	sv_push(&a, name);
	sv_push(&a, "--network");
	sv_push(&a, "none");
	sv_push(&a, "--log-driver");
	sv_push(&a, "none");
	sv_push(&a, "-v");
	sv_push(&a, mount);
	sv_push(&a, "--entrypoint");
	sv_push(&a, "");
	sv_push(&a, dk_helper_image());
	sv_push(&a, "sh");
	sv_push(&a, "-c");
	sv_push(&a, restore_script);
	sv_push(&a, "sh");
	sv_push(&a, step);
	int rc = dk_run(&a, in_fd, r);
	sv_free(&a);
	free(mount);
	free(name);
	return rc;
}

struct feed {
	int snap_fd, pipe_fd;
	struct decompress_result res;
	enum decompress_status st;
};

static void *feed_thread(void *arg)
{
	struct feed *f = arg;
	f->st = decompress_to_fd(f->snap_fd, f->pipe_fd, &f->res);
	close(f->pipe_fd);
	return NULL;
}

/* The snapshot is whole and a volume's, and the Docker Engine answers; m is
 * its metadata (freed again unless DG_OK). */
static int restore_check_snapshot(const char *snapshot, struct snapshot_meta *m)
{
	char err[512];
	if (dk_engine_check(err, sizeof err) < 0) {
		error("%s", err);
		return DG_UNREACHABLE;
	}
	if (store_verify(snapshot, m, err, sizeof err) < 0) {
		error("'%s' failed verification: %s; nothing was restored", snapshot, err);
		store_meta_free(m);
		return DG_INTEGRITY;
	}
	if (strcmp(m->engine, "volume") != 0) {
		error("'%s' is a %s snapshot, not a volume's; restore it without --volume", snapshot, m->engine);
		store_meta_free(m);
		return DG_USAGE;
	}
	return DG_OK;
}

/* The volume's own keys in the snapshot's metadata: its driver and Compose
 * labels into *like, its volume's name into *snapvol (or NULL).  Returns the
 * number of entries it records, or -1. */
static long restore_meta_keys(const char *snapshot, struct dk_volume *like, char **snapvol)
{
	char *meta_path = xasprintf("%s.meta", snapshot);
	char *files_s = meta_value(meta_path, "files");
	like->driver = meta_value(meta_path, "driver");
	like->project = meta_value(meta_path, "compose_project");
	like->key = meta_value(meta_path, "compose_volume");
	*snapvol = meta_value(meta_path, "volume");
	free(meta_path);
	long files = files_s ? atol(files_s) : -1;
	free(files_s);
	return files;
}

/* No running container uses the volume.  0, or -1 (reported). */
static int restore_not_in_use(const char *volume)
{
	char err[512];
	struct strvec users = STRVEC_INIT;
	int rc = -1;
	if (dk_volume_users(volume, 1, &users, err, sizeof err) < 0) {
		error("%s", err);
	} else if (users.n) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < users.n; i++)
			sb_addf(&sb, "%s%s", i ? " " : "", users.v[i]);
		error("volume '%s' is in use by running container%s %s; stop %s first (docker stop %s, "
		      "or docker compose stop SERVICE) and run db-restore again", volume, users.n > 1 ? "s" : "",
		      sb.buf, users.n > 1 ? "them" : "it", sb.buf);
		sb_free(&sb);
	} else {
		rc = 0;
	}
	sv_free(&users);
	return rc;
}

/* Finish (or discard) what an interrupted restore left in the volume.  0,
 * or -1 (reported). */
static int restore_recover(const char *volume)
{
	struct dk_result r = { 0 };
	wait_for_helper(volume);
	run_step(volume, "recover", -1, &r);
	int rc = 0;
	if (r.status != 0) {
		char *l = dk_first_line(*r.err ? r.err : r.out);
		error("cannot check volume '%s' for an interrupted restore: %s", volume, l);
		free(l);
		rc = -1;
	} else if (strstr(r.out, "completed")) {
		info("completed an interrupted restore of volume '%s' first", volume);
	}
	dk_result_free(&r);
	return rc;
}

/* The safety snapshot of the volume; the store lock *lock is let go while
 * volsnap_take takes it, then taken again.  0, or -1 (reported). */
static int restore_safety(const struct volrestore_opts *o, const char *volume, const char *key, int *lock)
{
	char err[512];
	struct volsnap_opts so = { o->store, volume, "pre-restore", "db-restore: safety snapshot", { 0 } };
	so.spec.kind = COMPRESS_ZSTD;
	so.spec.level = COMPRESS_ZSTD_DEFAULT_LEVEL;
	char *safety = NULL;
	store_unlock(*lock);
	*lock = -1;
	int src = volsnap_take(&so, &safety, err, sizeof err);
	*lock = store_lock(o->store, key, LOCK_WAIT_SECONDS);
	if (src != DG_OK) {
		error("cannot take a safety snapshot of volume '%s': %s; nothing was restored "
		      "(--no-safety-snap skips it)", volume, err);
		return -1;
	}
	info("safety snapshot: %s", safety);
	free(safety);
	return 0;
}

/* What is wrong with an extraction, written into why (NULL: nothing). */
static const char *extract_problem(const struct feed *f, const struct snapshot_meta *m, const struct dk_result *r,
                                   long files, long got, char *why, size_t whylen)
{
	if (f->st != DECOMP_OK) {
		snprintf(why, whylen, "%s", f->res.detail[0] ? f->res.detail : "cannot read it");
	} else if (strcmp(f->res.sha256, m->sha256) != 0 || f->res.out_bytes != m->raw_bytes) {
		snprintf(why, whylen, "it changed since it was verified");
	} else if (r->status != 0) {
		char *l = dk_first_line(*r->err ? r->err : "the helper container failed");
		snprintf(why, whylen, "extracting failed: %s", l);
		free(l);
	} else if (files >= 0 && got != files) {
		snprintf(why, whylen, "%ld entries extracted, the metadata says %ld", got, files);
	} else {
		return NULL;
	}
	return why;
}

/* Extract the snapshot beside the volume's old content, fed by a thread
 * that decompresses and checks the stream on the way; what is not right is
 * discarded again.  *got is the number of entries extracted.  DG_OK or a
 * status (reported). */
static int restore_extract(const struct volrestore_opts *o, const char *volume, const struct snapshot_meta *m,
                           long files, long *got)
{
	int sfd = open(o->snapshot, O_RDONLY | O_CLOEXEC);
	int pfd[2];
	if (sfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		error("cannot read '%s':", o->snapshot);
		if (sfd >= 0)
			close(sfd);
		return DG_NO;
	}
	struct feed f = { .snap_fd = sfd, .pipe_fd = pfd[1] };
	pthread_t th;
	if (pthread_create(&th, NULL, feed_thread, &f) != 0) {
		error("cannot start a thread");
		close(sfd);
		close(pfd[0]);
		close(pfd[1]);
		return DG_NO;
	}
	struct dk_result r = { 0 };
	run_step(volume, "extract", pfd[0], &r);
	close(pfd[0]);
	pthread_join(th, NULL);
	close(sfd);
	*got = -1;
	sscanf(r.out, "%ld", got);
	char why[600];
	const char *bad = extract_problem(&f, m, &r, files, *got, why, sizeof why);
	dk_result_free(&r);
	if (!bad)
		return DG_OK;
	run_step(volume, "discard", -1, &r);
	dk_result_free(&r);
	error("cannot restore volume '%s' from '%s': %s; its content is unchanged", volume, o->snapshot, bad);
	return f.st == DECOMP_CORRUPT || f.st == DECOMP_TRUNCATED ? DG_INTEGRITY : DG_NO;
}

/* The swap of the extracted content for the old one.  0, or -1 (reported). */
static int restore_commit(const char *volume)
{
	struct dk_result r = { 0 };
	run_step(volume, "commit", -1, &r);
	int rc = 0;
	if (r.status != 0) {
		char *l = dk_first_line(*r.err ? r.err : "the helper container failed");
		error("the swap of volume '%s' stopped: %s; run db-restore again to complete it", volume, l);
		free(l);
		rc = -1;
	}
	dk_result_free(&r);
	return rc;
}

int volsnap_restore(const struct volrestore_opts *o)
{
	struct snapshot_meta m;
	int rc = restore_check_snapshot(o->snapshot, &m);
	if (rc != DG_OK)
		return rc;
	struct dk_volume like = { 0 };
	char *snapvol;
	long files = restore_meta_keys(o->snapshot, &like, &snapvol);
	const char *volume = o->volume ? o->volume : snapvol ? snapvol : m.database;
	char *key = volsnap_dbkey(volume);
	int lock = -1;
	rc = DG_NO;
	struct dk_volume cur = { 0 };
	char err[512];

	int found = dk_volume_inspect(volume, &cur, err, sizeof err);
	if (found < 0) {
		error("%s", err);
		goto out;
	}
	char *what = xasprintf("this replaces the content of Docker volume '%s' with '%s'", volume, o->snapshot);
	int c = confirm_name(volume, o->confirm, what);
	free(what);
	if (c != DG_OK) {
		rc = c;
		goto out;
	}
	if (store_ensure(o->store) == 0)
		lock = store_lock(o->store, key, LOCK_WAIT_SECONDS);
	if (found) {
		if (restore_not_in_use(volume) < 0 || restore_recover(volume) < 0 ||
		    (!o->no_safety && restore_safety(o, volume, key, &lock) < 0))
			goto out;
	} else {
		if (dk_volume_create_like(volume, &like, err, sizeof err) < 0) {
			error("%s", err);
			goto out;
		}
		info("created volume '%s'", volume);
	}
	long got;
	if ((rc = restore_extract(o, volume, &m, files, &got)) != DG_OK)
		goto out;
	rc = DG_NO;
	if (restore_commit(volume) < 0)
		goto out;
	info("restored volume '%s' from '%s' (%ld entries)", volume, o->snapshot, got);
	rc = DG_OK;
out:
	store_unlock(lock);
	dk_volume_free(&cur);
	dk_volume_free(&like);
	store_meta_free(&m);
	free(snapvol);
	free(key);
	return rc;
}
