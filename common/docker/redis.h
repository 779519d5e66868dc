/* redis.h — Redis as a data service: its persistence read from the
 * service's command (redis-server --save "" without --appendonly yes keeps
 * nothing on disk), so portcheck can say when a named volume holds a Redis
 * that will come back empty after any restart; and a running Redis asked to
 * save its data and count its keys, so portcheck apply --restart backs up
 * and verifies what is in its memory, not only what it last wrote. */
#ifndef DBGUARD_DOCKER_REDIS_H
#define DBGUARD_DOCKER_REDIS_H

#include "docker/checks.h"
#include "docker/project.h"

/* Add a "redis-no-persistence" finding for every Redis service that keeps
 * its data in a named volume with RDB and AOF both off.  Needs no engine. */
void dk_redis_check(const struct dk_project *p, struct dk_findings *out);

/* 1 when the words of a redis-server command line turn RDB and AOF off. */
int dk_redis_persistence_off(const struct strvec *words);

/* What a Redis server at host:port answered (no credentials are sent). */
enum { DK_REDIS_OK, DK_REDIS_DOWN, DK_REDIS_AUTH, DK_REDIS_FAILED };

/* SAVE: have it write its whole data set to its RDB file now, so a
 * snapshot of its volume holds what it has in memory (its persistence may be
 * off, or its last save minutes old), then count its keys (keys_of: those
 * without a TTL, over every database).  DK_REDIS_OK with *keys; DK_REDIS_DOWN
 * when nothing accepts the connection; DK_REDIS_AUTH when it wants a
 * password; DK_REDIS_FAILED (SAVE refused, e.g. a full disk).  why says
 * which.  timeout_ms bounds each read (SAVE of a big data set takes time). */
int dk_redis_save(const char *host, int port, int timeout_ms, long long *keys, char *why, size_t len);

/* dk_redis_save of the running container of a Compose service, on the host
 * port it publishes target_port on now (the files may already name another
 * one); DK_REDIS_DOWN when it has no running container or no such port. */
int dk_redis_save_service(const char *project, const char *service, int target_port, int timeout_ms,
                          long long *keys, char *why, size_t len);

/* Only the key count, as dk_redis_save counts it. */
int dk_redis_keys(const char *host, int port, int timeout_ms, long long *keys, char *why, size_t len);

#endif
