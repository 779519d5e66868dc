/* exec.h — running the wrapped command: found before any snapshot is taken,
 * started with the terminal's ^C and ^\ left to it (safe-run ignores them
 * and forwards SIGTERM and SIGHUP), waited for, its status told. */
#ifndef DBGUARD_SAFERUN_EXEC_H
#define DBGUARD_SAFERUN_EXEC_H

#include <stddef.h>

/* 0 when cmd (argv[0]) can be run, else DG_NOT_FOUND or DG_CANNOT_EXEC. */
int saferun_command_status(const char *cmd);

/* Run argv to its end; *ws its wait status.  0, or the errno of a failed
 * start (nothing run). */
int saferun_exec(char *const argv[], int *ws);

/* "exit N" or "signal NAME", as the journal writes a status. */
void saferun_status_text(int ws, char *buf, size_t len);

/* The wall clock in seconds. */
double saferun_now(void);

#endif
