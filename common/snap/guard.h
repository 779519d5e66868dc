/* guard.h — the fatal-signal guard of a snapshot in progress.  After
 * snapshot_guard_install(), SIGINT, SIGTERM and SIGHUP unlink every
 * registered path (rmdir for directories), send SIGTERM to the registered
 * child (the dump program), and then kill the process with the same
 * signal.  Paths are copied; at most 16 at once. */
#ifndef DBGUARD_SNAP_GUARD_H
#define DBGUARD_SNAP_GUARD_H

#include <sys/types.h>

void snapshot_guard_install(void);
void snapshot_guard_path(const char *path, int is_dir);
void snapshot_guard_forget(const char *path);
void snapshot_guard_child(pid_t pid);    /* 0: none */
/* Block / unblock the guarded signals around a step that must not be cut. */
void snapshot_guard_hold(int hold);

#endif
