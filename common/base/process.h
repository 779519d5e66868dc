/* process.h — child processes started from an argv array (posix_spawnp, never
 * a shell), waited for with EINTR retried, their status mapped like a shell. */
#ifndef DBGUARD_PROCESS_H
#define DBGUARD_PROCESS_H

#include <sys/types.h>

struct spawn_opts {
	int fd_in, fd_out, fd_err;  /* -1: inherit */
	char *const *env_add;       /* "KEY=value" added to (or replacing in) our environment, or NULL */
	int reset_signals;          /* child gets default dispositions and an empty mask */
};
#define SPAWN_OPTS_INIT { -1, -1, -1, NULL, 1 }

/* Start argv[0] (searched on PATH).  Returns 0 and *pid, or an errno value
 * (ENOENT: not found, EACCES/ENOEXEC: cannot execute); nothing printed. */
int spawn_child(char *const argv[], const struct spawn_opts *o, pid_t *pid);
/* waitpid without EINTR; returns 0 with the raw wait status, or -1. */
int wait_child(pid_t pid, int *wstatus);
/* Shell-style exit status: WEXITSTATUS, or 128+signal. */
int exit_status_of(int wstatus);
/* Die of signal sig, as the child that got it did, so that a calling shell
 * sees a ^C as a ^C (and stops its loop); no core dump of our own.  Exits
 * 128+sig if the signal does not end us. */
_Noreturn void die_of_signal(int sig);
/* Exit status for a spawn_child error: 127 for ENOENT, 126 otherwise. */
int exit_status_for_spawn_error(int err);
/* Start argv with one end of a pipe: PIPE_FROM_CHILD reads its stdout,
 * PIPE_TO_CHILD writes its stdin.  Its other standard stream goes to
 * other_fd and its stderr to err_fd (-1: inherited).  Returns 0 with *pid
 * and *fd (our end, close-on-exec), or an errno value with nothing left
 * open (ENOENT: not found). */
enum pipe_dir { PIPE_FROM_CHILD, PIPE_TO_CHILD };
int spawn_piped(char *const argv[], char *const *env_add, enum pipe_dir dir, int other_fd, int err_fd,
                pid_t *pid, int *fd);
/* Run argv, capture its stdout (NUL-terminated, malloc'd) into *out; stderr
 * inherited unless err_fd >= 0.  Returns the wait status, or -1 with errno
 * when it could not be started. */
int run_capture(char *const argv[], char *const *env_add, int err_fd, char **out, size_t *outlen);
/* The path of a sibling dbguard program: next to /proc/self/exe if there and
 * executable, else name itself (to be found on PATH).  Caller frees. */
char *find_sibling_program(const char *name);
/* The first of names[] found executable on PATH (full path, malloc'd) or NULL. */
char *find_on_path(const char *const names[]);

#endif
