/* guard.h — safe-run in front of a Docker command: which volumes the
 * command line would delete (compose down -v and rm -v: the project's
 * database volumes; volume rm: the volumes named; volume prune and system
 * prune --volumes: the unused ones), their snapshots before it runs, and
 * the empty-volume trap check before `compose up`.  The anonymous volumes
 * of the containers that compose down -v, compose rm -v and docker rm -v
 * remove are snapshotted too: an image's VOLUME holds a database as well.
 *
 * All of it through children, so that safe-run links no compose reader and
 * no store writer: `portcheck volumes --format=tsv` reads the compose files
 * (which volumes, and the empty-volume trap), `db-snap --volume=NAME` takes
 * the snapshots, and the docker CLI answers the rest (DESIGN.md, safe-run). */
#ifndef DBGUARD_DOCKER_GUARD_H
#define DBGUARD_DOCKER_GUARD_H

#include "base/xalloc.h"

struct dk_guard {
	int docker;             /* a docker / docker-compose command line at all */
	int deletes;            /* it deletes volumes */
	int up;                 /* compose up */
	const char *project_name;
	struct strvec files;    /* compose -f files */
	struct strvec doomed;   /* existing volumes it would delete */
	struct strvec snaps;    /* "volume\tpath" of the snapshots taken */
	char *problem;          /* why the volumes could not be listed, or NULL */
	char *no_engine;        /* no Docker Engine answers (so nothing can be
	                           deleted either): why, or NULL */
};

/* Classify argv and, for a deleting command, ask the engine which existing
 * volumes go (not with classify_only).  Never fails: g->problem says what
 * could not be found out. */
void dk_guard_plan(char *const argv[], int classify_only, struct dk_guard *g);

/* Snapshot every doomed volume with db-snap --volume (into the store of the
 * current directory's project, label safe-run, this reason); g->snaps gets
 * them.  0, or -1 after reporting which snapshot failed ("refusing to run"
 * is the caller's). */
int dk_guard_snapshot(struct dk_guard *g, const char *reason);

/* compose up: 0 when no database service would start on an empty volume
 * while its data sits elsewhere (or the user confirmed the volume's name),
 * else -1 after reporting the findings and what to do. */
int dk_guard_up_check(struct dk_guard *g, const struct strvec *confirms);

/* "to undo: db-restore --volume=..." lines on stderr. */
void dk_guard_hint(const struct dk_guard *g);

void dk_guard_free(struct dk_guard *g);

#endif
