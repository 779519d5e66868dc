/* rclone.h — rclone as a child process (argv arrays through base/process,
 * never a shell, never a credential in argv: rclone reads its remotes from
 * its own configuration or RCLONE_CONFIG_<NAME>_* variables), its failures
 * turned into one line and the suite's exit status. */
#ifndef DBGUARD_RCLONE_H
#define DBGUARD_RCLONE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct remote {
	char *spec;             /* "dav:team/seeds" as configured, no trailing '/' */
	char *name;             /* "dav" (the rclone remote), for messages */
	char *source;           /* where it was configured, for messages */
	int hashes_known;
	int has_sha256, has_md5, has_sha1;
};

/* "spec/name" (spec itself when name is NULL).  Caller frees. */
char *rclone_path(const struct remote *r, const char *name);

/* Run `rclone GLOBAL-FLAGS args...`; its stdout into *out (malloc'd, NUL
 * terminated) when out is not NULL.  Returns DG_OK, or with one line in
 * err: DG_USAGE (rclone missing, unknown remote, credentials refused, bad
 * usage), DG_NOTHING (rclone's "not found": *rc_exit 3 or 4) or
 * DG_UNREACHABLE (anything else: down, timed out, a failed transfer). */
int rclone_run(const struct remote *r, const char *const *args, char **out, char *err, size_t errlen);

/* The same in two steps, so that several rclone runs can go at once:
 * rclone_start never fails in a way rclone_finish does not report. */
struct rclone_job {
	pid_t pid;
	FILE *out, *err;
	int spawn_err, no_tmp;
};
int rclone_start(const struct remote *r, const char *const *args, struct rclone_job *j);
int rclone_finish(const struct remote *r, struct rclone_job *j, char **out, char *err, size_t errlen);

/* Learn which of SHA-256, MD5 and SHA-1 the backend can report without a
 * download (rclone backend features).  DG_OK or as rclone_run. */
int rclone_hashes(struct remote *r, char *err, size_t errlen);
int rclone_hashes_start(struct remote *r, struct rclone_job *j);
int rclone_hashes_finish(struct remote *r, struct rclone_job *j, char *err, size_t errlen);

#endif
