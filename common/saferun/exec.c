/* exec.c — see exec.h */
#include "saferun/exec.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/process.h"

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

int saferun_command_status(const char *cmd)
{
	if (strchr(cmd, '/'))
		return access(cmd, F_OK) != 0 ? DG_NOT_FOUND : access(cmd, X_OK) != 0 ? DG_CANNOT_EXEC : 0;
	const char *names[] = { cmd, NULL };
	char *p = find_on_path(names);
	free(p);
	return p ? 0 : DG_NOT_FOUND;
}

int saferun_exec(char *const argv[], int *ws)
{
	/* The command owns the terminal: ^C and ^\ reach it, not us. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, fwd = { .sa_handler = forward_signal };
	sigemptyset(&ign.sa_mask);
	sigemptyset(&fwd.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGQUIT, &ign, NULL);
	sigaction(SIGTERM, &fwd, NULL);
	sigaction(SIGHUP, &fwd, NULL);
	struct spawn_opts so = SPAWN_OPTS_INIT;
	pid_t pid;
	int err = spawn_child(argv, &so, &pid);
	if (err)
		return err;
	child_pid = pid;
	*ws = 0;
	wait_child(pid, ws);
	child_pid = 0;
	return 0;
}

void saferun_status_text(int ws, char *buf, size_t len)
{
	if (WIFSIGNALED(ws))
		snprintf(buf, len, "signal %s", sigabbrev_np(WTERMSIG(ws)) ? sigabbrev_np(WTERMSIG(ws)) : "?");
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(ws));
}

double saferun_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
