/* cli.c — see cli.h */
#include "docker/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/io.h"
#include "base/process.h"
#include "model/config.h"

static char *read_all_fd(int fd)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		ssize_t n = read_retry(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		sb_add(&sb, buf, (size_t)n);
	}
	return sb.buf ? sb_detach(&sb) : xstrdup("");
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int run_argv(char **argv, int in_fd, struct dk_result *r)
{
	r->out = NULL;
	r->err = NULL;
	int efd = memfd_create("docker-stderr", MFD_CLOEXEC);
	int ofd = memfd_create("docker-stdout", MFD_CLOEXEC);
	int nullfd = -1;
	if (efd < 0 || ofd < 0) {
		r->status = 1;
		r->out = xstrdup("");
		r->err = xasprintf("cannot make a buffer: %s", strerror(errno));
		if (efd >= 0)
			close(efd);
		if (ofd >= 0)
			close(ofd);
		return r->status;
	}
	if (in_fd < 0)
		in_fd = nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.fd_in = in_fd;
	o.fd_out = ofd;
	o.fd_err = efd;
	pid_t pid;
	int e = spawn_child(argv, &o, &pid);
	if (nullfd >= 0)
		close(nullfd);
	if (e) {
		r->status = exit_status_for_spawn_error(e);
		r->out = xstrdup("");
		r->err = xasprintf("cannot run '%s': %s", argv[0], strerror(e));
	} else {
		int st;
		r->status = wait_child(pid, &st) < 0 ? 1 : exit_status_of(st);
		r->out = read_all_fd(ofd);
		r->err = read_all_fd(efd);
		chomp(r->err);
	}
	close(ofd);
	close(efd);
	return r->status;
}

int dk_run(const struct strvec *args, int in_fd, struct dk_result *r)
{
	struct strvec v = STRVEC_INIT;
	sv_push(&v, "docker");
	for (size_t i = 0; i < args->n; i++)
		sv_push(&v, args->v[i]);
	int rc = run_argv(sv_argv(&v), in_fd, r);
	sv_free(&v);
	return rc;
}

int dk_runl(struct dk_result *r, ...)
{
	struct strvec v = STRVEC_INIT;
	va_list ap;
	va_start(ap, r);
	for (const char *a; (a = va_arg(ap, const char *));)
		sv_push(&v, a);
	va_end(ap);
	int rc = dk_run(&v, -1, r);
	sv_free(&v);
	return rc;
}

void dk_result_free(struct dk_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *dk_first_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	char *l = nl ? xstrndup(s, (size_t)(nl - s)) : xstrdup(s);
	chomp(l);
	return l;
}

int dk_engine_check(char *err, size_t errlen)
{
	struct dk_result r;
	dk_runl(&r, "version", "--format", "{{.Server.Version}}", (char *)NULL);
	int rc = 0;
	if (r.status == 127) {
		snprintf(err, errlen, "no 'docker' on PATH; install the Docker CLI (Debian: docker.io)");
		rc = -1;
	} else if (r.status != 0 || !*r.out) {
		const char *host = getenv("DOCKER_HOST");
		char *why = dk_first_line(*r.err ? r.err : "no answer");
		snprintf(err, errlen, "no Docker Engine reachable at %s: %s; start the daemon or set DOCKER_HOST",
		         host && *host ? host : "the default socket", why);
		free(why);
		rc = -1;
	}
	dk_result_free(&r);
	return rc;
}

/* 2: the v2 plugin (`docker compose version` answers), 1: v1's
 * docker-compose on PATH, 0: neither.  Asked once per process. */
static int compose_which(void)
{
	static int which = -1;
	if (which < 0) {
		struct dk_result r;
		dk_runl(&r, "compose", "version", (char *)NULL);
		which = r.status == 0 ? 2 : 0;
		dk_result_free(&r);
		if (!which) {
			static const char *const names[] = { "docker-compose", NULL };
			char *p = find_on_path(names);
			which = p ? 1 : 0;
			free(p);
		}
	}
	return which;
}

int dk_compose_argv(struct strvec *args)
{
	int which = compose_which();
	if (which == 2) {
		sv_push(args, "docker");
		sv_push(args, "compose");
	} else if (which == 1) {
		sv_push(args, "docker-compose");
	}
	return which ? 0 : -1;
}

int dk_compose_check(char *err, size_t errlen)
{
	if (compose_which())
		return 0;
	snprintf(err, errlen, "no Docker Compose: neither 'docker compose' (the v2 plugin; Debian: "
	         "docker-compose-plugin from Docker's repository) nor 'docker-compose' (v1; Debian: "
	         "docker-compose) is on PATH; install one of them");
	return -1;
}

const char *dk_helper_image(void)
{
	const char *c = config_get("dbguard", "docker_helper_image");
	return c && *c ? c : "busybox";
}
