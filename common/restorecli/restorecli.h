/* restorecli.h — db-restore's modes behind its command line
 * (bin/db-restore.c): the options, the state every mode shares, and the
 * snapshot a run loads (job.c).  One file per mode: restore, check, list,
 * volume. */
#ifndef DBGUARD_RESTORECLI_H
#define DBGUARD_RESTORECLI_H

#include "model/target.h"
#include "restore/pick.h"
#include "restore/summary.h"

struct opts {
	struct pick_opts pick;  /* SNAPSHOT, --meta, --url, --target, --into, --check, ... */
	const char *confirm, *volume;
	int test_run, allow_production, no_safety, unverified, list, all, format, remote;
};

/* What every mode shares: the project, its store, the configured targets. */
struct ctx {
	char *project, *store;
	struct target_list targets;
	int ti;                         /* the configured target named, -1 when none */
	struct target_now now;          /* what the target holds before a restore */
	char *safety;                   /* the safety snapshot taken */
	char *pulled;                   /* --remote: the snapshot pulled into the store */
};

/* Pick and open the snapshot into j; with --remote, the one pulled from
 * the remote store into the local one first (verified there). */
int job_open(struct ctx *cx, const struct opts *o, struct restore_job *j);

#endif
