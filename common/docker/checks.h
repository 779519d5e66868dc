/* checks.h — what only the Docker Engine can tell about a Compose project's
 * database volumes: the "new empty volume" trap (the project's volume does
 * not exist yet or is empty while a volume with the same key under another
 * project name holds data: a renamed directory, a changed name: or
 * COMPOSE_PROJECT_NAME), and an external volume that does not exist. */
#ifndef DBGUARD_DOCKER_CHECKS_H
#define DBGUARD_DOCKER_CHECKS_H

#include <stddef.h>
#include "docker/project.h"

struct dk_finding {
	const char *kind;        /* "empty-volume-trap", "missing-external-volume" */
	const struct cservice *svc;
	char *volume;            /* the project's volume */
	char *other;             /* empty-volume-trap: the volume holding the data */
	char *msg;               /* one line: what is wrong and what to do */
};

struct dk_findings {
	struct dk_finding *v;
	size_t n;
};

/* Check p against the engine.  0 (findings in out, maybe none), or -1 with
 * err when the engine cannot be asked. */
int dk_check_project(const struct dk_project *p, struct dk_findings *out, char *err, size_t errlen);
void dk_findings_free(struct dk_findings *f);

#endif
