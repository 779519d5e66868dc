/* engine_impl.h — what an engine adapter provides to engine.c (private to
 * engine*.c): one table of operations per engine, and helpers they share. */
#ifndef DBGUARD_ENGINE_IMPL_H
#define DBGUARD_ENGINE_IMPL_H

#include <stddef.h>
#include "engine/engine.h"

struct engine_ops {
	const char *name;            /* "postgres", "mysql", "sqlite" */
	/* admin: connect to the maintenance database instead of t's. */
	int (*connect)(const struct target *t, int admin, struct dbconn **out,
	               char *err, size_t errlen);
	void (*close)(struct dbconn *c);
	const char *(*version)(struct dbconn *c);
	int (*major)(struct dbconn *c);
	long long (*size)(struct dbconn *c, char *err, size_t errlen);
	/* Every base table but dbguard_marker: the name shown (names) and the
	 * quoted reference for SQL (refs), in the same order. */
	int (*list_tables)(struct dbconn *c, struct strvec *names, struct strvec *refs,
	                   char *err, size_t errlen);
	/* Starts a read-only transaction whose reads all see one snapshot. */
	const char *begin_read_sql;
	int (*in_transaction)(struct dbconn *c);
	/* 1 when table `name` exists in the connected database, 0, -1 with err. */
	int (*table_exists)(struct dbconn *c, const char *name, char *err, size_t errlen);
	/* NULL: the marker lives in a dbguard_marker table (engine.c). */
	int (*marker_read)(struct dbconn *c, char **marker, char *err, size_t errlen);
	int (*marker_write)(struct dbconn *c, const char *marker, char *err, size_t errlen);
	int (*exec)(struct dbconn *c, const char *sql, char *err, size_t errlen);
	int (*query_value)(struct dbconn *c, const char *sql, char **value,
	                   char *err, size_t errlen);
	char *(*quote_ident)(struct dbconn *c, const char *name);
	char *(*quote_literal)(struct dbconn *c, const char *value);
	int (*client_args)(const struct target *t, struct strvec *argv, struct strvec *env,
	                   char **cleanup_path, char *err, size_t errlen);
	/* The signals of db_fingerprint() as text into state (engine.c hashes
	 * it), or *why (malloc'd) when no signal can prove "unchanged"; 0, or
	 * -1 with err.  doc/change-detection.md says why these signals. */
	int (*fingerprint)(struct dbconn *c, int for_snapshot, struct strbuf *state, char **why,
	                   char *err, size_t errlen);
};

/* Every adapter's connection starts with this, so engine.c can dispatch. */
struct dbconn {
	const struct engine_ops *ops;
};

extern const struct engine_ops engine_pg_ops;
extern const struct engine_ops engine_mysql_ops;
extern const struct engine_ops engine_sqlite_ops;

/* snprintf into err (when err is not NULL and errlen > 0). */
void engine_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The first line of a client library's message, without trailing blanks
 * or a final full stop, into a new string. */
char *engine_first_line(const char *msg);
/* Replace every occurrence of password in err by "****": a last guard, as
 * no message is built from a password in the first place. */
void engine_scrub(char *err, size_t errlen, const char *password);
/* "host:port", "[v6]:port" or the socket path, for messages. */
char *engine_where(const struct target *t);
/* ", check the user and password (<where they came from>)" advice. */
char *engine_auth_hint(const struct target *t);

#endif
