/* guard.c — the fatal-signal guard (snapshot.h): on SIGINT, SIGTERM or
 * SIGHUP remove the registered scratch files and stop the dump program. */
#include "snap/guard.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUARD_SLOTS 16

static struct guard_slot {
	volatile sig_atomic_t used;
	int is_dir;
	char path[PATH_MAX];
} guard_slots[GUARD_SLOTS];
static volatile sig_atomic_t guard_pid;

static void guard_handler(int sig)
{
	int saved = errno;
	if (guard_pid > 0)
		kill((pid_t)guard_pid, SIGTERM);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < GUARD_SLOTS; i++)
			if (guard_slots[i].used && guard_slots[i].is_dir == pass) {
				if (pass)
					rmdir(guard_slots[i].path);
				else
					unlink(guard_slots[i].path);
			}
	/* Die of the same signal, so the caller's shell sees an interrupt. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	errno = saved;
}

static const int guarded[] = { SIGINT, SIGTERM, SIGHUP };

void snapshot_guard_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = guard_handler;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof guarded / sizeof *guarded; i++) {
		struct sigaction old;
		/* A signal ignored by our parent (nohup) stays ignored. */
		if (sigaction(guarded[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(guarded[i], &sa, NULL);
	}
}

void snapshot_guard_hold(int hold)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof guarded / sizeof *guarded; i++)
		sigaddset(&set, guarded[i]);
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

void snapshot_guard_path(const char *path, int is_dir)
{
	if (!path || strlen(path) >= PATH_MAX)
		return;
	for (int i = 0; i < GUARD_SLOTS; i++)
		if (!guard_slots[i].used) {
			memcpy(guard_slots[i].path, path, strlen(path) + 1);
			guard_slots[i].is_dir = is_dir;
			guard_slots[i].used = 1;
			return;
		}
}

void snapshot_guard_forget(const char *path)
{
	if (!path)
		return;
	for (int i = 0; i < GUARD_SLOTS; i++)
		if (guard_slots[i].used && strcmp(guard_slots[i].path, path) == 0)
			guard_slots[i].used = 0;
}

void snapshot_guard_child(pid_t pid)
{
	guard_pid = pid;
}
