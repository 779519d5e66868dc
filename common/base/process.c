/* process.c — see process.h */
#include "base/process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/io.h"
#include "base/xalloc.h"

extern char **environ;

/* Our environment with env_add merged in, a later KEY= replacing an earlier
 * one.  Only the array is allocated; the strings are borrowed. */
static char **merged_env(char *const *add)
{
	size_t n = 0, m = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	for (char *const *a = add; *a; a++)
		m++;
	char **env = xmalloc((n + m + 1) * sizeof *env);
	size_t k = 0;
	for (char **e = environ; e && *e; e++)
		env[k++] = *e;
	for (char *const *a = add; *a; a++) {
		const char *eq = strchr(*a, '=');
		size_t keylen = eq ? (size_t)(eq - *a) : strlen(*a);
		size_t i;
		for (i = 0; i < k; i++)
			if (strncmp(env[i], *a, keylen) == 0 && env[i][keylen] == '=')
				break;
		env[i] = *a;
		if (i == k)
			k++;
	}
	env[k] = NULL;
	return env;
}

int spawn_child(char *const argv[], const struct spawn_opts *o, pid_t *pid)
{
	static const struct spawn_opts defaults = SPAWN_OPTS_INIT;
	if (!o)
		o = &defaults;
	if (!argv || !argv[0])
		return EINVAL;

	int src[3] = { o->fd_in, o->fd_out, o->fd_err };
	int moved[3] = { -1, -1, -1 };
	/* A source that is itself one of 0..2 could be overwritten by an
	 * earlier dup2 (fd_out = 0 while fd_in is redirected): move such
	 * sources out of the way first. */
	for (int i = 0; i < 3; i++) {
		if (src[i] >= 0 && src[i] <= 2 && src[i] != i) {
			moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
			if (moved[i] < 0) {
				int e = errno;
				for (int j = 0; j < i; j++)
					if (moved[j] >= 0)
						close(moved[j]);
				return e;
			}
			src[i] = moved[i];
		}
	}

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int err = posix_spawn_file_actions_init(&fa);
	if (err)
		goto out_moved;
	err = posix_spawnattr_init(&attr);
	if (err)
		goto out_fa;
	for (int i = 0; i < 3 && !err; i++)
		if (src[i] >= 0)
			err = posix_spawn_file_actions_adddup2(&fa, src[i], i);
	if (!err && o->reset_signals) {
		sigset_t all, none;
		sigfillset(&all);
		sigdelset(&all, SIGKILL);
		sigdelset(&all, SIGSTOP);
		sigemptyset(&none);
		err = posix_spawnattr_setsigdefault(&attr, &all);
		if (!err)
			err = posix_spawnattr_setsigmask(&attr, &none);
		if (!err)
			err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	}
	if (!err) {
		char **env = o->env_add ? merged_env(o->env_add) : environ;
		pid_t p;
		/* glibc reports the exec failure (ENOENT, EACCES, ENOEXEC) as
		 * the return value, so no CLOEXEC pipe is needed here. */
		err = posix_spawnp(&p, argv[0], &fa, &attr, argv, env);
		if (env != environ)
			free(env);
		if (!err && pid)
			*pid = p;
	}
	posix_spawnattr_destroy(&attr);
out_fa:
	posix_spawn_file_actions_destroy(&fa);
out_moved:
	for (int i = 0; i < 3; i++)
		if (moved[i] >= 0)
			close(moved[i]);
	return err;
}

int wait_child(pid_t pid, int *wstatus)
{
	int st;
	pid_t r;
	do
		r = waitpid(pid, &st, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	if (wstatus)
		*wstatus = st;
	return 0;
}

int exit_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

void die_of_signal(int sig)
{
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);   /* the child's core dump is the one that matters */
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig);
}

int exit_status_for_spawn_error(int err)
{
	return err == ENOENT ? 127 : 126;
}

int spawn_piped(char *const argv[], char *const *env_add, enum pipe_dir dir, int other_fd, int err_fd,
                pid_t *pid, int *fd)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return errno;
	int ours = dir == PIPE_FROM_CHILD ? pfd[0] : pfd[1];
	int theirs = dir == PIPE_FROM_CHILD ? pfd[1] : pfd[0];
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.fd_in = dir == PIPE_TO_CHILD ? theirs : other_fd;
	o.fd_out = dir == PIPE_FROM_CHILD ? theirs : other_fd;
	o.fd_err = err_fd;
	o.env_add = env_add;
	int err = spawn_child(argv, &o, pid);
	close(theirs);
	if (err) {
		close(ours);
		return err;
	}
	*fd = ours;
	return 0;
}

int run_capture(char *const argv[], char *const *env_add, int err_fd, char **out, size_t *outlen)
{
	pid_t pid;
	int fd;
	int err = spawn_piped(argv, env_add, PIPE_FROM_CHILD, -1, err_fd, &pid, &fd);
	if (err) {
		errno = err;
		return -1;
	}
	struct strbuf sb = STRBUF_INIT;
	char chunk[8192];
	for (;;) {
		ssize_t n = read_retry(fd, chunk, sizeof chunk);
		if (n <= 0)
			break;   /* a read error ends the capture; the status tells the rest */
		sb_add(&sb, chunk, (size_t)n);
	}
	close(fd);
	int st;
	if (wait_child(pid, &st) < 0) {
		int e = errno;
		sb_free(&sb);
		errno = e;
		return -1;
	}
	if (outlen)
		*outlen = sb.len;
	if (out) {
		*out = sb.buf ? sb_detach(&sb) : xstrdup("");
	} else {
		sb_free(&sb);
	}
	return st;
}

static int is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *find_sibling_program(const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		char *dir = path_dir(self);
		char *p = path_join(dir, name);
		free(dir);
		if (is_executable_file(p))
			return p;
		free(p);
	}
	return xstrdup(name);
}

char *find_on_path(const char *const names[])
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *const *nm = names; *nm; nm++) {
		if (strchr(*nm, '/')) {
			if (is_executable_file(*nm))
				return xstrdup(*nm);
			continue;
		}
		const char *p = path;
		for (;;) {
			const char *colon = strchrnul(p, ':');
			/* An empty PATH element means the current directory. */
			char *cand = colon == p ? xasprintf("./%s", *nm)
			                        : xasprintf("%.*s/%s", (int)(colon - p), p, *nm);
			if (is_executable_file(cand))
				return cand;
			free(cand);
			if (!*colon)
				break;
			p = colon + 1;
		}
	}
	return NULL;
}
