/* impl.h — private to common/snap/: the snapshot job that every engine's
 * file works on, the observer that watches a dump stream on its way into the
 * compressor, the dump scanners' state, and the functions the files of this
 * folder share.  Nothing outside common/snap/ includes it. */
#ifndef DBGUARD_SNAP_IMPL_H
#define DBGUARD_SNAP_IMPL_H

#include <stddef.h>

#include "snap/snapshot.h"
#include "base/xalloc.h"

enum engine_kind { ENG_PG, ENG_MY, ENG_LITE };

struct snapshot_job {
	enum engine_kind kind;
	struct target t;
	struct dbconn *conn;     /* postgres: holds the exported snapshot */
	char *version;
	long long size;
	char *prog;              /* pg_dump or mariadb-dump */
	char *tmp_beside;
};

struct observer {
	void (*scan)(void *scanner, const char *buf, size_t len);
	void *scanner;
	void (*progress)(void *arg, unsigned long long raw);
	void *arg;
	unsigned long long raw;
};

/* PostgreSQL dump scanner (scan_pg.c) */
struct pgtable {
	char *schema, *name, *display;
	unsigned long oid;
	long long own;               /* rows in its own COPY block */
};

enum { PG_BOL, PG_PREFIX, PG_COLLECT, PG_SKIP, PG_IN_BOL, PG_IN_BS, PG_IN_SKIP };

struct pgscan {
	int state, data_entry;
	struct strbuf line;
	struct pgtable *tabs;        /* sorted by (schema, name) */
	size_t n;
	long cur;                    /* table of the open COPY block, -1 unknown */
};

/* MySQL / MariaDB dump scanner (scan_mysql.c) */
enum { MY_BOL, MY_PREFIX, MY_SKIP, MY_DELIM, MY_NAME, MY_PRE, MY_TUPLE, MY_STR, MY_STR_ESC,
       MY_STR_QEND, MY_BETWEEN };

struct myscan {
	int state, delim_normal;
	int for_insert;              /* MY_NAME reads an INSERT's table, else a CREATE TABLE's */
	int tick;                    /* saw a backtick inside a name */
	int depth;
	char quote;
	long cur;
	struct strbuf line, name;
	struct strvec tables;        /* from CREATE TABLE, in dump order */
	long long *rows;
	size_t cap;
};

/* snapshot.c */
void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int by_name(const void *a, const void *b);
/* dump.c */
int observe(void *arg, const void *buf, size_t len);
int run_dump(struct snapshot_job *j, char **argv, char **env, struct compressor *c,
             struct observer *ob, struct snapshot_result *res, char *err, size_t errlen);
/* pg.c */
int find_pg_dump(struct snapshot_job *j, int server_major, char *err, size_t errlen);
int pg_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
           struct snapshot_result *res, char *err, size_t errlen);
/* scan_pg.c */
int pgtable_cmp(const void *a, const void *b);
void pg_scan(void *arg, const char *buf, size_t len);
/* mysql.c */
int my_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
           struct snapshot_result *res, char *err, size_t errlen);
/* scan_mysql.c */
void my_scan(void *arg, const char *buf, size_t len);
/* sqlite.c */
int lite_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
             struct snapshot_result *res, char *err, size_t errlen);

#endif
