/* restart.h — `portcheck apply --restart` and `rollback --restart` as seed
 * /protect-databases migrates ports: backup (a snapshot of every database the
 * stack publishes: logical where the credentials are in the compose
 * environment or .env, of its volume otherwise; and the new ports checked
 * free), migration (the files rewritten by portcheck, then the changed
 * services recreated with the project's Compose), verification (health
 * within the timeout, a protocol handshake on each new host port, the same
 * tables and row counts as the snapshot: db-snap counts them again, its dump
 * thrown away), and on failure the way back.  Every database and store
 * access is a db-snap child, so portcheck links only libyaml. */
#ifndef DBGUARD_DOCKER_RESTART_H
#define DBGUARD_DOCKER_RESTART_H

#include <stddef.h>
#include "compose/compose.h"
#include "docker/project.h"
#include "model/tables.h"
#include "model/target.h"

/* One database service's published port that moves. */
struct dk_move {
	char *service;
	char *host_ip;          /* "" = every interface */
	int old_port, new_port, target_port;
};

struct dk_svc_state {
	char *service;
	enum db_family family;
	int has_creds;
	struct target tgt;      /* host/port filled in per check */
	char *snapshot;         /* taken in the backup phase */
	struct table_counts counts;  /* as of the snapshot (has_creds) */
	int checked_counts;
	long long redis_keys;   /* Redis: its keys when it saved for the backup */
	int checked_keys;
};

struct dk_restart {
	struct dk_project proj; /* as the files were before the edit */
	struct strvec files;
	struct dk_move *mv;
	size_t n;
	struct dk_svc_state *st;
	size_t nst;
	int timeout;            /* seconds for health, per phase */
	int rollback;           /* rollback --restart: say so in the messages */
	char *failed_step;      /* the first step that failed */
};

/* Load the project from files (before any edit) and add the moves. */
int dk_restart_init(struct dk_restart *rs, const struct strvec *files, int timeout);
void dk_restart_add_move(struct dk_restart *rs, const char *service, const char *host_ip, int old_port,
                         int new_port, int target_port);

/* Phase "backup": snapshots (db-snap children: a logical one with the
 * credentials in DATABASE_URL of its environment, else db-snap -C dir
 * --volume) and the new ports free.  0, or -1 with rs->failed_step
 * (nothing changed yet). */
int dk_restart_backup(struct dk_restart *rs, const char *dir);

/* Phases "migration" (recreate the moved services) and "verification"
 * on the new ports (to_new) or the old ones.  0, or -1 with failed_step. */
int dk_restart_run(struct dk_restart *rs, int to_new);

/* rollback --restart: recreate every database service that publishes a
 * port and verify it answers where the files now say. */
int dk_restart_all(const struct strvec *files, int timeout, char **failed_step);

void dk_restart_free(struct dk_restart *rs);

#endif
