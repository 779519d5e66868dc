/* instant.c — see instant.h. */
#include "snap/instant.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/checksum.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "snap/clone.h"
#include "snap/guard.h"

static int is_pg(const struct target *t)
{
	const char *e = target_get(t, TF_ENGINE);
	return e && strcmp(e, "postgres") == 0;
}

static int is_sqlite(const struct target *t)
{
	const char *e = target_get(t, TF_ENGINE);
	return e && strcmp(e, "sqlite") == 0;
}

static int file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A loopback host or a socket: the server runs on this machine, where a
 * clone costs disk the user sees. */
static int is_local(const struct target *t)
{
	const char *h = target_host(t);
	return !h || h[0] == '/' || strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 ||
	       strcmp(h, "::1") == 0;
}

const char *snap_tier(const char *o_tier)
{
	if (o_tier)
		return o_tier;
	const char *v = config_get("db-snap", "tier");
	if (!v)
		return "dump";
	if (strcmp(v, "auto") && strcmp(v, "clone") && strcmp(v, "dump"))
		die(DG_USAGE, "%s: tier: '%s' is not auto, clone or dump", config_source("db-snap", "tier"), v);
	return v;
}

int snap_wants_clone(const char *tier, const struct target *t)
{
	if (strcmp(tier, "dump") == 0 || (!is_pg(t) && !is_sqlite(t)))
		return 0;
	return strcmp(tier, "clone") == 0 || is_sqlite(t) || is_local(t);
}

long snap_keep_clones_limit(void)
{
	return config_get_long("db-snap", "keep_clones", 3);
}

/* ---- reuse ---- */

char *snap_unchanged_since(const char *store, const struct target *t, struct snapshot_job *job,
                           const char *label)
{
	struct snapshot_list l;
	store_list_target(store, t, &l);
	const struct snapshot *s = store_latest(&l);
	char *fp = NULL, *why = NULL, *reuse = NULL;
	const char *db = target_get(t, TF_DATABASE);
	char *real = is_sqlite(t) ? realpath(db, NULL) : NULL;
	if (!s) {
		verbose("no earlier snapshot to compare with");
	} else if (!s->meta.fingerprint) {
		verbose("%s has no fingerprint to compare with", s->name);
	} else if (label && strcmp(label, s->meta.label ? s->meta.label : "") != 0) {
		verbose("a new snapshot for the label '%s'", label);
	} else if (strcmp(s->meta.engine, snapshot_engine(job)) != 0 ||
	           strcmp(s->meta.database, real ? real : db) != 0 ||
	           strcmp(s->meta.host ? s->meta.host : "", target_host(t) ? target_host(t) : "") != 0 ||
	           s->meta.port != target_port(t)) {
		verbose("%s is of another database or server", s->name);
	} else {
		snapshot_fingerprint(job, &fp, &why);
		if (!fp)
			verbose("a new snapshot: %s", why);
		else if (strcmp(fp, s->meta.fingerprint) != 0)
			verbose("changed since %s", s->path);
		else if (s->meta.clone && clone_pg_exists(t, s->meta.clone, NULL, 0) != 1)
			verbose("unchanged since %s, but its clone '%s' is gone", s->path, s->meta.clone);
		else
			reuse = xstrdup(s->path);
	}
	free(real);
	free(fp);
	free(why);
	snapshot_list_free(&l);
	return reuse;
}

/* ---- clones: cleaning up, removing, retention ---- */

/* The clone named in a .pgclone file (malloc'd), or NULL. */
static char *clone_of_file(const char *path)
{
	size_t len;
	char *text = read_file(path, &len);
	char *p = text ? strstr(text, "clone=") : NULL, *name = NULL;
	if (p) {
		p += 6;
		name = xstrndup(p, strcspn(p, "\n"));
		if (strncmp(name, CLONE_PG_PREFIX, strlen(CLONE_PG_PREFIX)) != 0) {
			free(name);
			name = NULL;
		}
	}
	free(text);
	return name;
}

void snap_clean_stale_clones(const char *store, const char *dbkey, const struct target *t)
{
	if (!is_pg(t))
		return;
	DIR *d = opendir(store);
	if (!d)
		return;
	struct dirent *de;
	size_t k = strlen(dbkey);
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		int temp = n[0] == '.' && strncmp(n + 1, dbkey, k) == 0 && n[1 + k] == '_' &&
		           strstr(n, ".pgclone.tmp.");
		size_t len = strlen(n);
		int orphan = !temp && strncmp(n, dbkey, k) == 0 && n[k] == '_' && len > 8 &&
		             strcmp(n + len - 8, ".pgclone") == 0;
		if (!temp && !orphan)
			continue;
		char *path = path_join(store, n), *meta = xasprintf("%s.meta", path);
		if (orphan && file_exists(meta)) {
			free(path);
			free(meta);
			continue;
		}
		char *clone = clone_of_file(path), err[512];
		if (clone && clone_pg_drop(t, clone, err, sizeof err) < 0) {
			warn("cannot drop the clone '%s' of a snapshot that did not finish: %s", clone, err);
		} else {
			if (clone)
				verbose("dropped the clone '%s' of a snapshot that did not finish", clone);
			unlink(path);
		}
		free(clone);
		free(path);
		free(meta);
	}
	closedir(d);
}

int snap_remove(const struct snapshot *s, const struct target *t)
{
	if (s->meta.clone) {
		char err[512];
		if (!t) {
			error("cannot drop the clone '%s' of '%s': name its database (not --all)",
			      s->meta.clone, s->name);
			return -1;
		}
		if (clone_pg_drop(t, s->meta.clone, err, sizeof err) < 0) {
			error("cannot drop the clone '%s' of '%s': %s", s->meta.clone, s->name, err);
			return -1;
		}
	}
	if (store_remove(s) < 0) {
		error("cannot remove '%s':", s->path);
		return -1;
	}
	return 0;
}

void snap_keep_clones(const char *store, const struct target *t, int room)
{
	long keep = snap_keep_clones_limit() - (room ? 1 : 0);
	struct snapshot_list l;
	store_list_target(store, t, &l);
	const struct snapshot *newest = room ? NULL : store_latest(&l);
	long seen = 0;
	for (size_t i = 0; i < l.n; i++) {
		const struct snapshot *s = &l.v[i];
		if (!s->good || !store_meta_is_clone(&s->meta) || ++seen <= keep || s == newest)
			continue;
		if (snap_remove(s, t) == 0)
			verbose("removed the clone %s (keep_clones = %ld)", s->name, snap_keep_clones_limit());
	}
	snapshot_list_free(&l);
}

/* ---- taking clones ---- */

static void describe(struct snapshot_meta *m, const char *engine, const char *version,
                     const char *database, const struct target *t, time_t created,
                     const char *label, const char *reason)
{
	m->engine = xstrdup(engine);
	m->server_version = xstrdup(version ? version : "");
	m->database = xstrdup(database);
	m->host = xstrdup(target_host(t) && !is_sqlite(t) ? target_host(t) : "");
	m->port = is_sqlite(t) ? 0 : target_port(t);
	m->created = created;
	m->dbguard_version = xstrdup(DBGUARD_VERSION);
	m->label = xstrdup(label ? label : "");
	m->reason = xstrdup(reason ? reason : "");
	m->compression = xstrdup("none");
	m->kind = xstrdup("clone");
}

static void take_counts(struct snapshot_meta *m, struct table_counts *counts)
{
	m->tables = *counts;
	counts->v = NULL;
	counts->n = 0;
	for (size_t i = 0; i < m->tables.n; i++)
		m->rows += m->tables.v[i].rows;
}

int snap_take_pg_clone(const char *store, const struct target *t, const char *dbkey,
                       const char *label, const char *reason, char **path_out)
{
	char err[512], *why = NULL;
	*path_out = NULL;
	if (clone_pg_blocked(t, &why, err, sizeof err) < 0) {
		verbose("a dump instead of a clone: %s", err);
		return -1;
	}
	if (why) {
		verbose("a dump instead of a clone: %s", why);
		free(why);
		return -1;
	}
	const char *db = target_get(t, TF_DATABASE);
	char *path = NULL, *meta_path = NULL, *tmp = NULL;
	time_t created = store_new_path(store, dbkey, label, "pgclone", &path, &meta_path);
	char *clone = clone_pg_name(db, created);
	int rc = DG_NO;
	struct clone_result cr = { 0 };
	struct snapshot_meta m = { 0 };
	/* The file naming the clone exists before the clone does: a run
	 * killed at any moment leaves it for the next run to clean up (so it
	 * is not one of the paths the signal guard removes). */
	int fd = make_temp_beside(path, &tmp, 0600);
	char *text = xasprintf("dbguard-clone-1\nclone=%s\n", clone);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		error("cannot write '%s':", tmp ? tmp : path);
		goto out;
	}
	/* Old clones go first: dropping one is a transaction, which after
	 * the clone would make its fingerprint stale at once. */
	snap_keep_clones(store, t, 1);
	verbose("cloning '%s' into '%s'", db, clone);
	rc = clone_pg_create(t, clone, &cr, err, sizeof err);
	if (rc != DG_OK) {
		if (strstr(err, "other users")) {
			verbose("a dump instead of a clone: %s", err);
			rc = -1;
		} else {
			error("cannot clone '%s': %s", db, err);
		}
		goto out;
	}
	rc = DG_NO;
	struct stat st;
	char hex[SHA256_HEX_SIZE];
	if (fstat(fd, &st) < 0 || sha256_file(tmp, hex) < 0) {
		error("cannot read '%s':", tmp);
		goto drop;
	}
	describe(&m, "postgres", cr.server_version, db, t, created, label, reason);
	m.raw_bytes = m.size = (unsigned long long)st.st_size;
	m.sha256 = xstrdup(hex);
	m.clone = xstrdup(clone);
	m.clone_bytes = cr.bytes > 0 ? (unsigned long long)cr.bytes : 0;
	m.fingerprint = cr.fingerprint;
	cr.fingerprint = NULL;
	if (!m.fingerprint)
		verbose("no fingerprint recorded: %s", cr.fingerprint_why ? cr.fingerprint_why : "unknown");
	take_counts(&m, &cr.counts);
	if (snapshot_commit(tmp, path, meta_path, 0, &m) == DG_OK) {
		free(tmp);
		tmp = NULL;
		if (msg_verbosity >= 2) {
			char sz[32];
			verbose("%zu tables, %lld rows; a clone of %s", m.tables.n, m.rows,
			        human_bytes(m.clone_bytes, sz, sizeof sz));
		}
		*path_out = path;
		path = NULL;
		rc = DG_OK;
		goto out;
	}
drop:
	if (clone_pg_drop(t, clone, err, sizeof err) < 0)
		warn("cannot drop the clone '%s': %s", clone, err);
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		/* No clone (or it was dropped): the file naming it goes too. */
		unlink(tmp);
		free(tmp);
	}
	free(text);
	free(path);
	free(meta_path);
	free(clone);
	clone_result_free(&cr);
	store_meta_free(&m);
	return rc;
}

int snap_take_sqlite_clone(const char *store, const struct target *t, struct snapshot_job *job,
                           const char *dbkey, const char *label, const char *reason, char **path_out)
{
	char *path = NULL, *meta_path = NULL, *tmp = NULL, err[512];
	*path_out = NULL;
	time_t created = store_new_path(store, dbkey, label, "sqlite", &path, &meta_path);
	int rc = DG_NO;
	struct snapshot_result res = { 0 };
	struct snapshot_meta m = { 0 };
	const char *how = NULL;
	int fd = make_temp_beside(path, &tmp, 0600);
	if (fd < 0) {
		error("cannot create a temporary file beside '%s':", path);
		goto out;
	}
	close(fd);
	snapshot_guard_path(tmp, 0);
	rc = snapshot_copy(job, tmp, &how, &res, err, sizeof err);
	if (rc != DG_OK) {
		if (res.write_errno)
			error("cannot write '%s': %s", path, strerror(res.write_errno));
		else
			error("%s", err);
		rc = DG_NO;
		goto out;
	}
	rc = DG_NO;
	struct stat st;
	char hex[SHA256_HEX_SIZE];
	if (stat(tmp, &st) < 0 || sha256_file(tmp, hex) < 0) {
		error("cannot read '%s':", tmp);
		goto out;
	}
	const char *db = target_get(t, TF_DATABASE);
	char *real = realpath(db, NULL);
	describe(&m, "sqlite", snapshot_server_version(job), real ? real : db, t, created, label, reason);
	free(real);
	m.raw_bytes = m.size = m.clone_bytes = (unsigned long long)st.st_size;
	m.sha256 = xstrdup(hex);
	m.fingerprint = res.fingerprint;
	res.fingerprint = NULL;
	if (!m.fingerprint)
		verbose("no fingerprint recorded: %s", res.fingerprint_why ? res.fingerprint_why : "unknown");
	take_counts(&m, &res.counts);
	if (snapshot_commit(tmp, path, meta_path, 0, &m) != DG_OK)
		goto out;
	rc = DG_OK;
	if (msg_verbosity >= 2) {
		char sz[32];
		verbose("%zu tables, %lld rows; a %s of %s", m.tables.n, m.rows, how,
		        human_bytes(m.size, sz, sizeof sz));
	}
	*path_out = path;
	path = NULL;
	snap_keep_clones(store, t, 0);
out:
	if (tmp) {
		unlink(tmp);
		snapshot_guard_forget(tmp);
		free(tmp);
	}
	free(path);
	free(meta_path);
	snapshot_result_free(&res);
	store_meta_free(&m);
	return rc;
}

/* ---- verification ---- */

int snap_verify_clone(const struct target *t, const struct snapshot_meta *m, char *err, size_t errlen)
{
	char e[256];
	int ex = clone_pg_exists(t, m->clone, e, sizeof e);
	if (ex <= 0) {
		snprintf(err, errlen, ex < 0 ? "cannot check the clone '%s': %s"
		                             : "the clone '%s' is gone from the server%s", m->clone,
		         ex < 0 ? e : "");
		return -1;
	}
	struct table_counts now;
	if (clone_pg_counts(t, m->clone, &now, e, sizeof e) < 0) {
		snprintf(err, errlen, "cannot count the rows of the clone '%s': %s", m->clone, e);
		return -1;
	}
	int rc = 0;
	if (now.n != m->tables.n) {
		snprintf(err, errlen, "the clone '%s' has %zu tables, the metadata says %zu", m->clone,
		         now.n, m->tables.n);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < now.n; i++)
		if (strcmp(now.v[i].name, m->tables.v[i].name) || now.v[i].rows != m->tables.v[i].rows) {
			snprintf(err, errlen, "the clone '%s' has %lld rows in '%s', the metadata says %lld in '%s'",
			         m->clone, now.v[i].rows, now.v[i].name, m->tables.v[i].rows, m->tables.v[i].name);
			rc = -1;
		}
	table_counts_free(&now);
	return rc;
}
