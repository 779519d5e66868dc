/* redis.h — Redis as a data service: its persistence read from the
 * service's command (redis-server --save "" without --appendonly yes keeps
 * nothing on disk), so portcheck can say when a named volume holds a Redis
 * that will come back empty after any restart. */
#ifndef DBGUARD_DOCKER_REDIS_H
#define DBGUARD_DOCKER_REDIS_H

#include "docker/checks.h"
#include "docker/project.h"

/* Add a "redis-no-persistence" finding for every Redis service that keeps
 * its data in a named volume with RDB and AOF both off.  Needs no engine. */
void dk_redis_check(const struct dk_project *p, struct dk_findings *out);

/* 1 when the words of a redis-server command line turn RDB and AOF off. */
int dk_redis_persistence_off(const struct strvec *words);

#endif
