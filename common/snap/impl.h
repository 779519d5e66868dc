/* impl.h — private to common/snap/: the snapshot job that every engine's
 * file works on, the observer that watches a dump stream on its way into
 * the compressor, and the functions the files of this folder share.
 * Nothing outside common/snap/ includes it. */
#ifndef DBGUARD_SNAP_IMPL_H
#define DBGUARD_SNAP_IMPL_H

#include <stddef.h>

#include "snap/snapshot.h"
#include "snap/scan.h"
#include "base/xalloc.h"

enum engine_kind { ENG_PG, ENG_MY, ENG_LITE };

struct snapshot_job {
	enum engine_kind kind;
	struct target t;
	struct dbconn *conn;     /* the fingerprints; postgres: holds the exported snapshot */
	char *version;
	long long size;
	unsigned long long expect;   /* the dump's expected size, for the progress; 0 unknown */
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

/* snapshot.c */
void snap_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int snap_by_name(const void *a, const void *b);
/* dump.c */
int snap_observe(void *arg, const void *buf, size_t len);
int snap_run_dump(struct snapshot_job *j, char **argv, char **env, struct compressor *c,
                  struct observer *ob, struct snapshot_result *res, char *err, size_t errlen);
/* pg.c */
int snap_find_pg_dump(struct snapshot_job *j, int server_major, char *err, size_t errlen);
int snap_pg_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                struct snapshot_result *res, char *err, size_t errlen);
/* mysql.c */
int snap_my_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                struct snapshot_result *res, char *err, size_t errlen);
/* sqlite.c */
int snap_lite_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                  struct snapshot_result *res, char *err, size_t errlen);
/* The database copied as it is into dst_path: a reflink where allowed and
 * possible (*how "reflink"), else the online backup API ("page copy"). */
int snap_lite_copy(const char *src_path, const char *dst_path, int allow_reflink,
                   const char **how, int *write_errno, char *err, size_t errlen);
/* snapshot.c: the fingerprint of the state a dump is about to read
 * (res->fingerprint or res->fingerprint_why), and again after it: kept
 * only when both agree (doc/change-detection.md). */
void snap_fingerprint_before(struct snapshot_job *j, struct snapshot_result *res);
void snap_fingerprint_after(struct snapshot_job *j, struct snapshot_result *res);

#endif
