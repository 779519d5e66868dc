/* cli.h — the docker CLI as a child process: `docker` found on PATH, Compose
 * as the v2 plugin (`docker compose`) or v1 (`docker-compose`), argv arrays
 * only (never a socket protocol of our own), stdout and stderr captured. */
#ifndef DBGUARD_DOCKER_CLI_H
#define DBGUARD_DOCKER_CLI_H

#include <stddef.h>
#include "base/xalloc.h"

/* The result of one docker command. */
struct dk_result {
	int status;      /* shell-style exit status; 127 when docker is missing */
	char *out;       /* stdout, NUL-terminated (never NULL) */
	char *err;       /* stderr, last line trimmed of its newline (never NULL) */
};

/* Run `docker ARGS...` (args->v without "docker").  stdin: in_fd (-1: /dev/null). */
int dk_run(const struct strvec *args, int in_fd, struct dk_result *r);
/* The same with the arguments given inline, NULL-terminated. */
int dk_runl(struct dk_result *r, ...) __attribute__((sentinel));
void dk_result_free(struct dk_result *r);

/* 0 when a Docker Engine answers; else -1 with one line in err saying what
 * to try (no docker on PATH, no daemon at DOCKER_HOST, permission). */
int dk_engine_check(char *err, size_t errlen);

/* Push the command that runs Compose onto args: "docker" "compose" when the
 * v2 plugin answers (`docker compose version`), else "docker-compose" when
 * it is on PATH.  -1 (nothing pushed) when neither is there. */
int dk_compose_argv(struct strvec *args);

/* 0 when dk_compose_argv finds a Compose; else -1 with one line in err
 * naming both and what to install. */
int dk_compose_check(char *err, size_t errlen);

/* The image of the throwaway helper containers (sh, tar, du): the config's
 * docker_helper_image (DBGUARD_DOCKER_HELPER_IMAGE), else "busybox". */
const char *dk_helper_image(void);

/* The first line of s (malloc'd), trailing blanks removed. */
char *dk_first_line(const char *s);

#endif
