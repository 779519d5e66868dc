/* pick.c — see pick.h. */
#include "restore/pick.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "model/dburl.h"

/* ------------------------------------------------------------ the snapshot */

/* arg "-" is standard input, with its metadata read from meta_file (NULL:
 * unverified); another arg a file, or the name of one in store; no arg the
 * newest good snapshot of t (NULL: no database configured).  DG_OK,
 * DG_NOTHING or DG_INTEGRITY. */
static int pick_snapshot(const char *arg, const char *meta_file, const char *store,
                         const struct target *t, struct picked_snapshot *p)
{
	memset(p, 0, sizeof *p);
	p->name = "standard input";
	char err[512];
	if (arg && strcmp(arg, "-") == 0) {
		if (meta_file) {
			if (store_meta_read(meta_file, &p->meta, err, sizeof err) < 0) {
				error("cannot use the metadata '%s': %s", meta_file, err);
				return DG_INTEGRITY;
			}
			p->m = &p->meta;
		}
	} else if (arg) {
		struct stat st;
		p->path = xstrdup(arg);
		if (stat(p->path, &st) < 0 && !strchr(arg, '/')) {
			char *in_store = path_join(store, arg);
			if (stat(in_store, &st) == 0) {
				free(p->path);
				p->path = in_store;
			} else {
				free(in_store);
			}
		}
		if (stat(p->path, &st) < 0) {
			error("no snapshot '%s':", arg);
			return DG_NOTHING;
		}
	} else {
		if (!t) {
			error("no database configured here: no --url, DATABASE_URL, DB_* variables or .env"
			      " naming one");
			return DG_NOTHING;
		}
		struct snapshot_list sl;
		store_list_target(store, t, &sl);
		/* Not a pre-restore safety snapshot: a second plain db-restore
		 * would undo the first. */
		const struct snapshot *s = NULL;
		for (size_t i = 0; i < sl.n && !s; i++)
			if (sl.v[i].good && !(sl.v[i].meta.label && !strcmp(sl.v[i].meta.label, "pre-restore")))
				s = &sl.v[i];
		if (s)
			p->path = xstrdup(s->path);
		else
			error("no good snapshot of '%s' in '%s'; take one with db-snap",
			      target_confirm_name(t), store);
		snapshot_list_free(&sl);
		if (!p->path)
			return DG_NOTHING;
	}
	if (p->path) {
		p->name = p->path;
		if (store_verify(p->path, &p->meta, err, sizeof err) < 0) {
			error("'%s' failed verification: %s; nothing was changed", p->path, err);
			return DG_INTEGRITY;
		}
		p->m = &p->meta;
		verbose("'%s' verified: checksum, compressed stream and metadata", p->path);
	}
	if (!p->m)
		warn("restoring an UNVERIFIED stream: its checksum, its engine and its row counts cannot"
		     " be checked; only a stream that loads completely replaces the target");
	return DG_OK;
}

static void picked_snapshot_free(struct picked_snapshot *p)
{
	store_meta_free(&p->meta);
	free(p->path);
	memset(p, 0, sizeof *p);
}

/* -------------------------------------------------------------- the target */

/* path made absolute: the file's real path, or its directory's and its
 * name when the file does not exist (a deleted SQLite database). */
static char *real_file(const char *path)
{
	char *r = realpath(path, NULL);
	if (r)
		return r;
	char *dir = path_dir(path), *base = path_base(path), *rdir = realpath(dir, NULL);
	r = rdir ? path_join(rdir, base) : NULL;
	free(dir);
	free(base);
	free(rdir);
	return r;
}

static int same_file(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	char *ra = real_file(a), *rb = real_file(b);
	int same = ra && rb && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

/* The configured target the snapshot came from: engine and database equal,
 * host and port too if possible.  -1 when none. */
static int target_of_meta(const struct target_list *l, const struct snapshot_meta *m)
{
	int best = -1, best_score = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct target *t = &l->v[i];
		const char *e = target_get(t, TF_ENGINE), *db = target_get(t, TF_DATABASE);
		if (!e || !db || !m->engine || !m->database || strcmp(e, m->engine))
			continue;
		int sqlite = strcmp(e, "sqlite") == 0;
		if (sqlite ? !same_file(db, m->database) : strcmp(db, m->database) != 0)
			continue;
		int score = 1;
		if (!sqlite && m->host && strcmp(target_host(t), m->host) == 0 && target_port(t) == m->port)
			score = 2;
		if (score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

int into_is_url(const char *s)
{
	return strstr(s, "://") || strncmp(s, "sqlite:", 7) == 0 || strncmp(s, "file:", 5) == 0 ||
	       strchr(s, '=');
}

/* The target --into names: a URL, or a database on the target's server (a
 * file for SQLite). */
static int into_target(const char *into, const struct target *base, struct target *out)
{
	memset(out, 0, sizeof *out);
	char err[256];
	if (into_is_url(into)) {
		if (dburl_parse(into, out, "--into", err, sizeof err) < 0) {
			error("--into: %s", err);
			return DG_USAGE;
		}
		out->origin = xstrdup("--into");
		return DG_OK;
	}
	if (!base) {
		error("--into=%s names a database, but there is no server to find it on; give a URL", into);
		return DG_NOTHING;
	}
	target_copy(out, base);
	target_set(out, TF_DATABASE, into, "--into");
	free(out->origin);
	out->origin = xstrdup("--into");
	return DG_OK;
}

/* A SQLite snapshot is checked in a temporary file: no server needed. */
static void sqlite_check_target(struct target *out, const struct snapshot_meta *m)
{
	target_set(out, TF_ENGINE, "sqlite", "snapshot metadata");
	target_set(out, TF_DATABASE, m->database ? m->database : "snapshot.sqlite", "snapshot metadata");
}

/* The database to restore p into: --into, else the configured one the
 * snapshot came from (unless --url or --target chose), else l->v[ti] (ti
 * -1: none configured).  *index is its place in l (-1 when given by a URL
 * or --into), for the undo hint.  The engine must be known and the
 * snapshot's.  DG_OK, DG_USAGE or DG_NOTHING; free *out either way. */
static int pick_target(const struct target_list *l, int ti, const struct picked_snapshot *p,
                       const struct pick_opts *po, struct target *out, int *index)
{
	const struct snapshot_meta *m = p->m;
	memset(out, 0, sizeof *out);
	if (m && !po->url && !po->target_n) {
		int k = target_of_meta(l, m);
		if (k >= 0 && k != ti) {
			verbose("the snapshot is of '%s', configured as database %d", m->database, k + 1);
			ti = k;
		}
	}
	*index = ti;
	if (po->into) {
		int rc = into_target(po->into, ti >= 0 ? &l->v[ti] : NULL, out);
		if (rc != DG_OK)
			return rc;
		*index = -1;
	} else if (ti >= 0) {
		target_copy(out, &l->v[ti]);
		if (po->url)
			*index = -1;
	} else if (po->check && m && m->engine && strcmp(m->engine, "sqlite") == 0) {
		sqlite_check_target(out, m);
	} else {
		error("no database configured here to restore into: use --url, or run in the project");
		return DG_NOTHING;
	}
	const char *engine = target_get(out, TF_ENGINE);
	if (!engine || (strcmp(engine, "postgres") && strcmp(engine, "mysql") && strcmp(engine, "sqlite"))) {
		error("the engine of %s is unknown; set DB_CONNECTION or use --url", target_confirm_name(out));
		return DG_USAGE;
	}
	if (m && m->engine && strcmp(m->engine, engine) != 0) {
		if (po->check && strcmp(m->engine, "sqlite") == 0) {
			target_free(out);
			memset(out, 0, sizeof *out);
			sqlite_check_target(out, m);
		} else {
			char *d = target_describe(out);
			error("'%s' is a %s snapshot; it cannot be restored into %s", p->name, m->engine, d);
			free(d);
			return DG_USAGE;
		}
	}
	/* The metadata names the database the snapshot belongs to; putting it
	 * into another one is a choice --into states, never a default. */
	const char *db = target_get(out, TF_DATABASE);
	if (m && m->database && db && !po->into && !po->check &&
	    (strcmp(engine, "sqlite") == 0 ? !same_file(db, m->database) : strcmp(db, m->database) != 0)) {
		char *d = target_describe(out);
		error("'%s' is a snapshot of database '%s', not of %s; to restore it there, use --into=%s",
		      p->name, m->database, d, db);
		free(d);
		return DG_USAGE;
	}
	return DG_OK;
}

/* ----------------------------------------------------------------- the job */

int restore_job_open(struct restore_job *j, const struct pick_opts *po, const char *store,
                     const struct target_list *l, int ti)
{
	memset(j, 0, sizeof *j);
	j->fd = -1;
	int rc = pick_snapshot(po->snapshot, po->meta_file, store, ti >= 0 ? &l->v[ti] : NULL, &j->snap);
	if (rc != DG_OK)
		return rc;
	rc = pick_target(l, ti, &j->snap, po, &j->tgt, &j->index);
	if (rc != DG_OK)
		return rc;
	j->dbkey = store_dbkey(&j->tgt);
	struct restore_opts ropt = { po->terminate, po->keep_old, store, j->dbkey, j->snap.path, NULL };
	j->ropt = ropt;
	const char *path = j->snap.path;
	j->fd = path ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (j->fd < 0) {
		error("cannot open '%s':", path);
		return DG_NO;
	}
	struct stat st;
	struct restore_input in = { j->fd, j->snap.name, j->snap.m,
	                            path && fstat(j->fd, &st) == 0 ? (unsigned long long)st.st_size : 0 };
	j->in = in;
	return DG_OK;
}

void restore_job_free(struct restore_job *j)
{
	if (j->fd > 0)
		close(j->fd);
	free(j->dbkey);
	picked_snapshot_free(&j->snap);
	target_free(&j->tgt);
	memset(j, 0, sizeof *j);
	j->fd = -1;
}
