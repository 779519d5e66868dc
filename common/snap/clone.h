/* clone.h — the clone tier of snapshots (issue 14): a PostgreSQL database
 * copied inside its own server by CREATE DATABASE ... TEMPLATE ... STRATEGY
 * FILE_COPY, not connectable, found by its name; restored by a new clone of
 * it renamed into place.  The store keeps a small ".pgclone" file naming
 * the clone, with metadata like any snapshot's. */
#ifndef DBGUARD_CLONE_H
#define DBGUARD_CLONE_H

#include <stddef.h>
#include <time.h>

#include "model/tables.h"
#include "model/target.h"

/* Clone names start with this; no user names a database so. */
#define CLONE_PG_PREFIX "dbguard_clone_"

/* The clone's name for database db at time when:
 * dbguard_clone_<YYYYMMDDTHHMMSSZ>_<first 12 hex digits of SHA-256(db)>. */
char *clone_pg_name(const char *db, time_t when);

/* Why a clone of t cannot be made now (other sessions on it: "2 other
 * sessions (psql, app)"; an old server), in *why (malloc'd), or NULL when
 * it can.  0, or -1 with err (unreachable: the caller's dump reports it). */
int clone_pg_blocked(const struct target *t, char **why, char *err, size_t errlen);

struct clone_result {
	struct table_counts counts;  /* as db_tables() gives them for t */
	char *fingerprint;           /* db_fingerprint() of the state cloned, or NULL */
	char *fingerprint_why;
	char *server_version;
	long long bytes;             /* the clone's size */
};

/* Clone t's database into a new database named name: the fingerprint and
 * row counts in one read-only transaction of the source, the clone, the
 * fingerprint again (kept only when equal; else the counts are taken in
 * the clone).  On failure the clone is dropped.  DG_OK, DG_NO with err
 * (other sessions appeared: err says so), DG_UNREACHABLE. */
int clone_pg_create(const struct target *t, const char *name, struct clone_result *res,
                    char *err, size_t errlen);
void clone_result_free(struct clone_result *res);

/* DROP DATABASE name (IF EXISTS).  A CREATE DATABASE of that name still
 * running for a db-snap that was killed is cancelled first (the server
 * would otherwise finish it after the drop).  0, or -1 with err. */
int clone_pg_drop(const struct target *t, const char *name, char *err, size_t errlen);

/* 1 when database name exists on t's server, 0 not, -1 with err. */
int clone_pg_exists(const struct target *t, const char *name, char *err, size_t errlen);

/* The row counts of clone name (connections allowed for the count only). */
int clone_pg_counts(const struct target *t, const char *name, struct table_counts *out,
                    char *err, size_t errlen);

/* Run fn with clone name connectable (for pg_dump of --export); restores
 * ALLOW_CONNECTIONS false afterwards whatever fn returns. */
int clone_pg_with_connections(const struct target *t, const char *name,
                              int (*fn)(void *arg, const struct target *clone), void *arg,
                              char *err, size_t errlen);

#endif
