/* snapcli.h — db-snap's modes behind its command line (bin/db-snap.c): the
 * options, the state every mode shares, and which database a mode works on
 * (target.c).  One file per mode: take, list, verify, export, prune, remote. */
#ifndef DBGUARD_SNAPCLI_H
#define DBGUARD_SNAPCLI_H

#include "model/target.h"
#include "store/store.h"

/* A second snapshot of one database may wait this long for the first. */
#define LOCK_WAIT_SECONDS 600

enum mode { MODE_SNAP, MODE_LIST, MODE_LATEST, MODE_VERIFY, MODE_PRUNE, MODE_EXPORT, MODE_PUSH, MODE_PULL };

struct opts {
	enum mode mode;
	int mode_set, all, dry_run, test_run, format, always, remote;
	const char *tier;           /* NULL: [db-snap] tier */
	const char *export;         /* --export SNAPSHOT */
	long target;                /* 1 = primary; N = the Nth database db-envcheck lists */
	const char *url, *label, *reason, *compress, *output, *meta, *volume;
	struct prune_policy policy;
	int policy_given, retention;
};

struct ctx {
	char *project, *store;
	struct target_list targets;
	int resolved;
	/* --export: the clone to dump, and the database it is a clone of. */
	struct target *override;
	const char *export_of;
};

/* The primary target (or --target=N's; cx->override while exporting), or
 * exit 3/2 saying why there is none. */
struct target *primary(struct ctx *cx, const struct opts *o);
/* The configured PostgreSQL target on the server of clone m, or NULL. */
struct target *server_of(struct ctx *cx, const struct opts *o, const struct snapshot_meta *m);

#endif
