/* plan.h — what safe-run will do to each database before the command runs,
 * decided the same way for --dry-run and the real run: snapshot it, nothing
 * to snapshot (and why), or refuse (and why). */
#ifndef DBGUARD_PLAN_H
#define DBGUARD_PLAN_H

#include "base/xalloc.h"
#include "saferun/command.h"
#include "saferun/targets.h"

struct plan_opts {
	int allow_production, require_db, no_snap, dry_run, test_run;
	const struct strvec *confirms;   /* every --confirm=NAME */
	const char *masked;              /* the command, secrets masked */
	enum cmd_class cls;
	size_t docker_volumes;           /* volumes the Docker command deletes, snapshotted first */
};

struct plan {
	char *refusal;              /* why the command must not run, or NULL */
	struct strvec notes;        /* databases not snapshotted, and why */
	int *take;                  /* take[i]: snapshot database i first */
};

/* env_status: db-envcheck's exit status (-1: it did not run).  Refused
 * classes are confirmed by name here (not in a dry run).  Free with
 * saferun_plan_free. */
void saferun_plan(int env_status, const struct found_list *l, const struct plan_opts *o, struct plan *p);
void saferun_plan_free(struct plan *p);
/* --dry-run: the command, its class, the targets, the verdict and the
 * snapshots, on standard output. */
void saferun_plan_print(const struct found_list *l, const struct plan_opts *o, const struct plan *p);

#endif
