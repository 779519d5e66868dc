/* take.c — db-snap taking a snapshot: of a database into the store (or -o),
 * reusing an unchanged one or cloning when the tier says so, then the
 * retention; or of a Docker volume. */
#include "snapcli/take.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "docker/volsnap.h"
#include "model/config.h"
#include "saferun/retention.h"
#include "snap/instant.h"
#include "snap/output.h"
#include "snap/snapshot.h"
#include "snapcli/prune.h"
#include "store/compress.h"

/* The compression from --compress, from -o FILE's extension, or from the
 * configuration. */
static void choose_compression(const struct opts *o, struct compress_spec *spec)
{
	char *err = NULL;
	const char *cfg = config_get("db-snap", "compress");
	if (o->compress) {
		if (compress_parse(o->compress, spec, &err) < 0)
			die(DG_USAGE, "--compress: %s", err);
		return;
	}
	if (compress_parse(cfg ? cfg : "zstd", spec, &err) < 0)
		die(DG_USAGE, "%s: compress: %s", config_source("db-snap", "compress"), err);
	if (o->output && strcmp(o->output, "-") != 0)
		compress_spec_for_name(spec, o->output);
}

/* The uncompressed size of the last good snapshot of t in the store, or 0. */
static unsigned long long last_dump_bytes(struct ctx *cx, const struct target *t, const char *engine)
{
	struct snapshot_list l;
	store_list_target(cx->store, t, &l);
	unsigned long long raw = 0;
	for (size_t i = 0; i < l.n && !raw; i++)
		if (l.v[i].good && l.v[i].meta.engine && !strcmp(l.v[i].meta.engine, engine))
			raw = l.v[i].meta.raw_bytes;
	snapshot_list_free(&l);
	return raw;
}

/* In the store, under its lock: the newest snapshot when nothing changed
 * since, or a clone when the tier asks for one and the engine can make it.
 * DG_OK with the path printed, another status after an error line, or -1:
 * take a dump (with *job, which may have been reopened). */
static int without_dump(struct ctx *cx, const struct opts *o, struct target *t,
                        struct snapshot_job **job, struct snap_output *d, const char *dbkey,
                        const char *label)
{
	if (snap_output_lock(d, cx->store, LOCK_WAIT_SECONDS, dbkey, t) < 0)
		return DG_NO;
	char *path = o->always ? NULL : snap_unchanged_since(cx->store, t, *job, label);
	int rc = DG_OK;
	const char *tier = snap_tier(o->tier);
	if (path) {
		verbose("unchanged since %s", path);
	} else if (!snap_wants_clone(tier, t)) {
		return -1;
	} else if (strcmp(snapshot_engine(*job), "sqlite") == 0) {
		rc = snap_take_sqlite_clone(cx->store, t, *job, dbkey, label, o->reason, &path);
	} else {
		/* A session of ours on the database would stop the copy. */
		snapshot_close(*job);
		*job = NULL;
		rc = snap_take_pg_clone(cx->store, t, dbkey, label, o->reason, &path);
		if (rc == -1) {
			char err[512];
			int r = snapshot_open(t, job, err, sizeof err);
			if (r != DG_OK) {
				error("%s", err);
				return r;
			}
		}
	}
	if (path)
		printf("%s\n", path);
	free(path);
	return rc;
}

/* [db-snap] retention after each snapshot in the store: a dump, a clone,
 * or the newest one reused because nothing changed (the store then holds
 * what the configuration and the journal's undo points say, whichever
 * kind of snapshot the database got). */
static void retention(struct ctx *cx, const struct target *t)
{
	struct prune_arg pa = { t };
	retention_after_snapshot(cx->store, t, snap_keep_clones_limit(), prune_remove, &pa);
}

static int do_snap_volume(struct ctx *cx, const struct opts *o)
{
	struct volsnap_opts vo = { cx->store, o->volume, o->label, o->reason, { 0 } };
	choose_compression(o, &vo.spec);
	char err[512], *path = NULL;
	int rc = volsnap_take(&vo, &path, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	printf("%s\n", path);
	free(path);
	return DG_OK;
}

int do_snap(struct ctx *cx, const struct opts *o, char **made)
{
	if (o->volume)
		return do_snap_volume(cx, o);
	struct target *t = primary(cx, o);
	struct compress_spec spec;
	choose_compression(o, &spec);
	struct snap_output d;
	if (snap_output_init(&d, o->output, o->meta))
		die(DG_USAGE, "refusing to write a snapshot to a terminal; redirect standard output "
		    "or use -o FILE");
	if (o->meta && !o->output)
		die(DG_USAGE, "--meta goes with -o FILE or -o -");

	char err[512];
	struct snapshot_job *job;
	int rc = snapshot_open(t, &job, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	char *dbkey = store_dbkey(t);
	char *label = store_label(o->label);
	struct snapshot_result res = { 0 };
	struct snapshot_meta m = { 0 };
	struct compress_result cres;
	time_t created = time(NULL);
	verbose("%s %s, server %s", snapshot_engine(job), dbkey, snapshot_server_version(job));

	snapshot_expect_bytes(job, last_dump_bytes(cx, t, snapshot_engine(job)));
	char *what = label && !strcmp(label, "pre-restore") ? xasprintf("safety snapshot of %s", dbkey)
	                                                    : xstrdup(dbkey);
	rc = DG_NO;
	if (!o->output) {
		rc = without_dump(cx, o, t, &job, &d, dbkey, label);
		if (rc == DG_OK)
			retention(cx, t);
		if (rc != -1)
			goto out;
		rc = DG_NO;
	}
	if (snap_output_open(&d, cx->store, LOCK_WAIT_SECONDS, job, &spec, dbkey, label, &created) == 0 &&
	    snapshot_write(job, d.fd, &spec, d.scratch, what, d.shown, !d.direct, &cres, &res) == DG_OK) {
		snapshot_describe(job, created, label, o->reason, spec.kind, &cres, &res, &m);
		if (cx->export_of) {
			free(m.database);
			m.database = xstrdup(cx->export_of);
		}
		rc = snap_output_finish(&d, &m);
	}
	if (rc == DG_OK && !d.direct) {
		if (msg_verbosity >= 2) {
			char sz[32], raw[32];
			verbose("%zu tables, %lld rows; %s (%s uncompressed)", m.tables.n, m.rows,
			        human_bytes(m.size, sz, sizeof sz), human_bytes(m.raw_bytes, raw, sizeof raw));
		}
		if (!o->output)
			retention(cx, t);
		printf("%s\n", d.path);
		if (made)
			*made = xstrdup(d.path);
	}
out:
	snap_output_free(&d);
	free(what);
	snapshot_result_free(&res);
	store_meta_free(&m);
	snapshot_close(job);
	free(dbkey);
	free(label);
	return rc;
}
