/* project.h — a Compose project as the engine will see it: its name (as
 * Compose derives it: -p, COMPOSE_PROJECT_NAME, .env, the files' name:,
 * else the directory's base name), its files, and the Docker volume names
 * of its database services. */
#ifndef DBGUARD_DOCKER_PROJECT_H
#define DBGUARD_DOCKER_PROJECT_H

#include "base/xalloc.h"
#include "compose/compose.h"

struct dk_project {
	char *name;
	struct compose_project cp;
	int loaded;
};

/* A database service's named volume: the service, the key in the compose
 * file, and the volume's name in the engine. */
struct dk_dbvol {
	const struct cservice *svc;
	const char *key;         /* NULL for an anonymous volume */
	char *volume;            /* engine name; NULL for an anonymous volume */
	const char *target;      /* mount point in the container */
	int external;
};

struct dk_dbvols {
	struct dk_dbvol *v;
	size_t n;
};

/* Load the project: project_name (-p) or NULL, the -f files (may be empty).
 * 0, or a DG_* status (reported). */
int dk_project_load(const char *project_name, const struct strvec *files, struct dk_project *p);
void dk_project_free(struct dk_project *p);

/* Compose's normalisation of a project name (lower case, [a-z0-9_-]). */
char *dk_project_normalize(const char *name);

/* The volumes mounted by the project's database services. */
void dk_project_dbvols(const struct dk_project *p, struct dk_dbvols *out);
void dk_dbvols_free(struct dk_dbvols *d);

#endif
