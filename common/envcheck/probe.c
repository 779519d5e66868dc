/* probe.c — connecting to a target for db-envcheck: --ping, the marker of
 * a local database, and --mark. */
#include "envcheck/probe.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "engine/engine.h"
#include "model/classify.h"
#include "model/confirm.h"
#include "model/target.h"

void envcheck_ping(struct target *t, struct probe *p)
{
	struct dbconn *c;
	p->done = 1;
	p->status = db_connect(t, &c, p->err, sizeof p->err);
	/* The server answered: the database is not there yet (a first migrate,
	 * Django's test_<name>) — nothing to lose, not a failure. */
	p->missing = p->status == DG_NO && strstr(p->err, "does not exist") && !target_is(t, "sqlite");
	if (p->status != DG_OK)
		return;
	p->reachable = 1;
	p->version = xstrdup(db_server_version(c));
	p->size = db_size(c, p->err, sizeof p->err);
	/* The number of tables only: counting their rows would read them all. */
	p->tables = db_table_count(c, p->err, sizeof p->err);
	if (db_marker_read(c, &p->marker, p->err, sizeof p->err) < 0)
		p->marker = NULL;
	db_close(c);
	free(t->marker);
	t->marker = xstrdup(p->marker);
	classify_target(t);
}

/* Without --ping: the production marker of a local database is read all
 * the same (a local connection costs milliseconds), so a copy of production
 * under an innocent name is not called safe; elsewhere the report says it
 * was not read. */
void envcheck_read_marker(struct target *t, struct probe *p, int offline)
{
	struct dbconn *c;
	char err[256];
	if (offline) {
		p->marker_note = xstrdup("not read (--offline)");
		return;
	}
	const char *h = target_host(t);
	int here = target_is(t, "sqlite") || !h || !*h || h[0] == '/' || !strcmp(h, "localhost") ||
	           !strncmp(h, "127.", 4) || !strcmp(h, "::1");
	if (t->cls != TC_LOCAL || !here) {
		/* A compose service name may not even resolve from here. */
		p->marker_note = here ? xasprintf("not read (a %s database: --ping reads it)", tclass_name(t->cls))
		                      : xstrdup("not read (not on this machine: --ping reads it)");
		return;
	}
	if (db_connect(t, &c, err, sizeof err) != DG_OK) {
		p->marker_note = xasprintf("not read: %s", err);
		return;
	}
	char *marker = NULL;
	if (db_marker_read(c, &marker, err, sizeof err) < 0)
		p->marker_note = xasprintf("not read: %s", err);
	else
		p->marker_note = xasprintf("%s (read from the database)", marker ? marker : "none");
	db_close(c);
	free(t->marker);
	t->marker = marker;
	classify_target(t);
}

int envcheck_mark(struct target *t, const char *mark, const char *confirm)
{
	const char *engine = target_get(t, TF_ENGINE);
	if (!engine || (strcmp(engine, "postgres") && strcmp(engine, "mysql") && strcmp(engine, "sqlite")))
		die(DG_USAGE, "cannot mark a database whose engine is unknown; set DB_CONNECTION or use --url");
	const char *name = target_confirm_name(t);
	char *what = strcmp(mark, "clear") == 0
		? xasprintf("this removes the dbguard marker from '%s'", name)
		: xasprintf("this marks '%s' as %s", name, mark);
	int rc = target_confirm(t, confirm, what);
	free(what);
	if (rc != DG_OK)
		return rc;
	struct dbconn *c;
	char err[256];
	rc = db_connect(t, &c, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	if (db_marker_write(c, strcmp(mark, "clear") == 0 ? NULL : mark, err, sizeof err) < 0) {
		error("cannot write the marker: %s", err);
		db_close(c);
		return DG_NO;
	}
	db_close(c);
	if (strcmp(mark, "clear") == 0)
		info("cleared the dbguard marker of '%s'", name);
	else
		info("marked '%s' as %s", name, mark);
	return DG_OK;
}
