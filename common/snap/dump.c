/* dump.c — running a dump program (pg_dump, mariadb-dump) into the
 * compressor, its output watched by an observer (row scanner, progress),
 * and its failure told in one line without a password. */
#include "snap/impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/fault.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/process.h"
#include "base/xalloc.h"
#include "snap/guard.h"

/* ---- running a dump program into the compressor ---- */

int snap_observe(void *arg, const void *buf, size_t len)
{
	struct observer *o = arg;
	if (o->scan)
		o->scan(o->scanner, buf, len);
	o->raw += len;
	if (o->progress)
		o->progress(o->arg, o->raw);
	return 0;
}

/* Replace every copy of secret in s by "****" (a dump program's message
 * could quote a connection string). */
static void scrub(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	if (n < 3)
		return;
	for (char *p; (p = strstr(s, secret));) {
		memcpy(p, "****", 4);
		memmove(p + 4, p + n, strlen(p + n) + 1);
	}
}

/* The line of a dump program's stderr that says what went wrong, without
 * the "prog: " and "error: " prefixes. */
static char *child_message(int fd, const char *prog, const char *password)
{
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	scrub(buf, password);
	char *base = path_base(prog), *pick = NULL;
	for (char *line = buf, *next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		char *l = line;
		size_t bl = strlen(base);
		if (strncmp(l, base, bl) == 0 && l[bl] == ':')
			l += bl + 1;
		while (*l == ' ')
			l++;
		if (!*l)
			continue;
		int is_err = strncmp(l, "error:", 6) == 0 || strstr(l, "rror") != NULL;
		if (strncmp(l, "error:", 6) == 0)
			for (l += 6; *l == ' '; l++)
				;
		if (!pick || (is_err && !strstr(pick, "rror"))) {
			free(pick);
			pick = xstrdup(l);
		}
		if (is_err)
			break;
	}
	free(base);
	return pick;
}

static void show_child_stderr(int fd, const char *password)
{
	if (msg_verbosity < 2)
		return;
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	scrub(buf, password);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		verbose("%s", line);
}

int snap_run_dump(struct snapshot_job *j, char **argv, char **env, struct compressor *c,
                  struct observer *ob, struct snapshot_result *res, char *err, size_t errlen)
{
	const char *password = target_get(&j->t, TF_PASSWORD);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snap_err(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return DG_NO;
	}
	/* Fewer, larger reads: the pump wakes once per MiB, not per 64 KiB. */
	fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20);
	int efd = memfd_create("dump-stderr", MFD_CLOEXEC);
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.fd_in = nullfd;
	o.fd_out = pfd[1];
	o.fd_err = efd;
	o.env_add = env;
	pid_t pid;
	int e = spawn_child(argv, &o, &pid);
	close(pfd[1]);
	if (nullfd >= 0)
		close(nullfd);
	if (e) {
		close(pfd[0]);
		if (efd >= 0)
			close(efd);
		snap_err(err, errlen, "cannot run '%s': %s", argv[0], strerror(e));
		return DG_NO;
	}
	snapshot_guard_child(pid);
	fault_point("snap.dumping");
	int pr = compressor_pump(c, pfd[0], snap_observe, ob);
	int perr = errno;
	close(pfd[0]);
	if (pr < 0)
		kill(pid, SIGTERM);
	int st = 0;
	wait_child(pid, &st);
	snapshot_guard_child(0);
	int rc = DG_OK;
	char *base = path_base(argv[0]);
	if (pr < 0 && compressor_error(c)) {
		res->write_errno = compressor_error(c);
		snap_err(err, errlen, "cannot write the snapshot: %s", strerror(res->write_errno));
		rc = DG_NO;
	} else if (pr < 0) {
		snap_err(err, errlen, "cannot read the output of %s: %s", base, strerror(perr));
		rc = DG_NO;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *m = efd >= 0 ? child_message(efd, argv[0], password) : NULL;
		if (m)
			snap_err(err, errlen, "%s failed: %s", base, m);
		else if (WIFSIGNALED(st))
			snap_err(err, errlen, "%s was killed by signal %d", base, WTERMSIG(st));
		else
			snap_err(err, errlen, "%s failed with status %d", base, exit_status_of(st));
		free(m);
		rc = DG_NO;
	} else if (efd >= 0) {
		show_child_stderr(efd, password);
	}
	free(base);
	if (efd >= 0)
		close(efd);
	return rc;
}
