/* engine.h — one interface over libpq, libmysqlclient and libsqlite3, so a
 * tool sees "connect to this target, count its tables", never three client
 * APIs.  Implementations: engine/pg.c, engine/mysql.c, engine/sqlite.c,
 * dispatched by engine.c on target->val[TF_ENGINE]. */
#ifndef DBGUARD_ENGINE_H
#define DBGUARD_ENGINE_H

#include <stddef.h>
#include "model/tables.h"
#include "model/target.h"
#include "base/xalloc.h"

struct dbconn;   /* opaque; one open connection */


/* Connect to t.  Returns DG_OK, or DG_UNREACHABLE (server not reachable:
 * refused, timeout, no such socket, sqlite file missing), or DG_NO (reached
 * but refused: authentication, database does not exist), or DG_USAGE (no or
 * unknown engine, no sqlite file named), with one line in err saying what
 * and what to try; never a password.  connect_timeout 5 s.
 * For sqlite a missing file is DG_UNREACHABLE and is never created.
 * A host starting with '/' is a socket: PostgreSQL's socket directory, the
 * MySQL server's socket file.  *out is NULL unless DG_OK. */
int db_connect(const struct target *t, struct dbconn **out, char *err, size_t errlen);
/* Same, but to the server's maintenance database ("postgres", else
 * "template1" / no default schema), for creating, renaming and dropping
 * databases.  Not for sqlite (DG_USAGE). */
int db_connect_admin(const struct target *t, struct dbconn **out, char *err, size_t errlen);
void db_close(struct dbconn *c);
const char *db_engine(const struct dbconn *c);      /* "postgres", "mysql", "sqlite" */

/* "15.18" / "10.11.6-MariaDB" / "3.40.1"; valid while c is open. */
const char *db_server_version(struct dbconn *c);
/* Server major version as an integer (15, 10, 3), 0 when unknown. */
int db_server_major(struct dbconn *c);
/* Database size in bytes (pg_database_size, information_schema, file size +
 * WAL); -1 on error (message in err). */
long long db_size(struct dbconn *c, char *err, size_t errlen);
/* Every base table (user schemas only; not the dbguard_marker table) with an
 * exact row count, sorted by name (strcmp).  The counts come from one
 * read-only snapshot transaction, unless c is already inside a transaction
 * (then they are read in it).  0 or -1 with err; out is empty on error. */
int db_tables(struct dbconn *c, struct table_counts *out, char *err, size_t errlen);

/* The number of base tables db_tables() would list, without counting their
 * rows (one catalog query); -1 with err. */
long db_table_count(struct dbconn *c, char *err, size_t errlen);

/* The dbguard marker: "production", "staging", or NULL when none.
 * PostgreSQL: COMMENT ON DATABASE containing "dbguard:production";
 * MySQL/SQLite: one-row table dbguard_marker(class TEXT, set_at TEXT).
 * db_marker_read returns 0 (and *marker NULL or malloc'd) or -1 with err. */
int db_marker_read(struct dbconn *c, char **marker, char *err, size_t errlen);
/* marker NULL clears it; otherwise 1-32 lowercase letters.  PostgreSQL
 * keeps any other text of the database comment.  0 or -1 with err. */
int db_marker_write(struct dbconn *c, const char *marker, char *err, size_t errlen);

/* Run one SQL statement (no result wanted).  0 or -1 with err. */
int db_exec(struct dbconn *c, const char *sql, char *err, size_t errlen);
/* Run a query, first column of first row into *value (malloc'd, NULL for SQL NULL
 * or no row).  0 or -1 with err. */
int db_query_value(struct dbconn *c, const char *sql, char **value, char *err, size_t errlen);
/* Quote an identifier / a literal for this engine (malloc'd). */
char *db_quote_ident(struct dbconn *c, const char *name);
char *db_quote_literal(struct dbconn *c, const char *value);

/* A fingerprint of the database's state, read in one round trip and
 * without scanning a table: two equal fingerprints mean the database has
 * not changed in between (never the other way round: a change elsewhere
 * on the server may change it too).  *fp is "<engine>1:<sha256 hex>"
 * (malloc'd); or *fp is NULL and *why (malloc'd) says why no signal can
 * prove "unchanged" for this database now (then it must be snapshotted).
 * for_snapshot: the caller is about to take a snapshot and will record
 * the fingerprint with it.  PostgreSQL: call it inside the snapshot's own
 * transaction, after the snapshot is taken.  MySQL: additionally proves
 * that no InnoDB transaction was in flight, so a dump started afterwards
 * sees exactly the state fingerprinted.  0, or -1 with err. */
int db_fingerprint(struct dbconn *c, int for_snapshot, char **fp, char **why,
                   char *err, size_t errlen);
/* The same, and the text that was hashed in *state (malloc'd; NULL with
 * *why): "key=value" lines, for a caller that must compare parts of it
 * (the PostgreSQL clone tier accounts for its own CREATE DATABASE). */
int db_fingerprint_text(struct dbconn *c, int for_snapshot, char **fp, char **why, char **state,
                        char *err, size_t errlen);

/* How to run this engine's client programs (pg_dump, psql, mariadb-dump,
 * mariadb) against t without a password in argv: appends connection options
 * to argv and "KEY=value" entries to env, never the database name.
 *   postgres: "-h" HOST "-p" PORT ["-U" USER]; env PGPASSWORD=... (when t has
 *     a password), PGCONNECT_TIMEOUT=5.
 *   mysql: one argument "--defaults-file=/dev/fd/N", which must be the
 *     program's FIRST option, so push it right after the program name.  N is
 *     a 0600 memfd ([client] user, password, host+port or socket): nothing
 *     on disk, nothing that outlives the processes holding it.  It is not
 *     close-on-exec, so that the client inherits it: spawn the client next,
 *     and call db_client_cleanup right after.  (--defaults-file, not
 *     --defaults-extra-file: a ~/.my.cnf would override the target.)
 *   sqlite: nothing; the caller adds the file name.
 * *cleanup_path is set to "/dev/fd/N" (malloc'd) or NULL; once the child
 * has been started, pass it to db_client_cleanup().  Option files an older
 * dbguard left in TMPDIR are removed first (db_client_clean_stale).  0 or
 * -1 with err. */
int db_client_args(const struct target *t, struct strvec *argv, struct strvec *env,
                   char **cleanup_path, char *err, size_t errlen);
/* Close the descriptor db_client_args opened, then free the path.  NULL is
 * a no-op. */
void db_client_cleanup(char *cleanup_path);
/* Remove <TMPDIR or /tmp>/dbguard-my.XXXXXX/client.cnf option files (with a
 * password in them) that an older dbguard left when it was killed, when
 * the directory is ours, holds nothing else, and no live process was started
 * with that file. */
void db_client_clean_stale(void);

/* MySQL: sql (a view's definition as the server prints it, every name
 * backquoted) with every qualifier naming the database from (`from`
 * followed by '.') replaced by to (already quoted), outside string
 * literals; *hits counts them.  NULL when sql does not scan (an unclosed
 * quote or name).  Text only: no connection. */
char *mysql_requalify(const char *sql, const char *from, const char *to, int *hits);

#endif
