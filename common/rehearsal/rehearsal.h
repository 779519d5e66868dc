/* rehearsal.h — safe-run --rehearse: run a command against throwaway copies
 * of the databases it touches and report what it would lose.  The flow of
 * children (db-snap, db-rehearse) lives here, on safe-run's side; the
 * engine work is db-rehearse's (common/rehearse/), as safe-run links no
 * database library. */
#ifndef DBGUARD_REHEARSAL_H
#define DBGUARD_REHEARSAL_H

#include <stddef.h>

/* One database of the run, as db-envcheck reported it. */
struct rehearsal_target {
	const char *engine, *database, *describe;
	char *snapshot;       /* out: the snapshot of the original (malloc'd), or NULL */
};

struct rehearsal_opts {
	int json;             /* --format=json */
	int test_run;         /* --test-run: the databases of a test run */
	int no_snap;          /* --no-snap: no snapshot of the originals first */
};

/* Rehearse cmd (masked: how it is shown) on copies of targets[0..n).
 * Prints the report on stdout.  Returns 0 (the command succeeded and
 * nothing would be lost), 1 (a loss, or the command failed on the copy)
 * or 125 (the rehearsal could not be made, or the command changed an
 * original); *verdict (malloc'd) is the journal's status, *loss_only is 1
 * when the command succeeded and only a loss made it 1.  Interrupted by a
 * signal: the copies are dropped and -SIGNAL is returned, for the caller to
 * journal and die of. */
int rehearsal_run(char **cmd, const char *masked, struct rehearsal_target *targets, size_t n,
                  const struct rehearsal_opts *o, char **verdict, int *loss_only);

#endif
