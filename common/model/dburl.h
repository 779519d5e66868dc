/* dburl.h — database URLs and libpq keyword=value strings into targets. */
#ifndef DBGUARD_DBURL_H
#define DBGUARD_DBURL_H

#include <stddef.h>
#include "base/xalloc.h"
#include "model/target.h"

/* Parse url into t, each field's source set to `source`.  Returns 0, or -1
 * with a one-line reason (no password in it) in err. */
int dburl_parse(const char *url, struct target *t, const char *source, char *err, size_t errlen);
/* A URL for psql/mysql; password only when with_password. */
char *dburl_format(const struct target *t, int with_password);
/* The hosts libpq tries in turn ("h1,h2" with "p1,p2" or one port for all;
 * an empty port item is the engine's default), one item per host in hosts
 * and ports (the port as a decimal string).  Returns the number of hosts. */
size_t dburl_hosts(const struct target *t, struct strvec *hosts, struct strvec *ports);
/* Append those hosts to sb as "h1:p1,h2:p2" (an IPv6 address in brackets). */
void dburl_add_hosts(struct strbuf *sb, const struct target *t);
/* Engine name from a driver/scheme word: pgsql, postgresql, mysql, mariadb, sqlite... NULL if none. */
const char *engine_from_driver(const char *word);

#endif
