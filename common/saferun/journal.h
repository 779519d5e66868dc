/* journal.h — safe-run's journal: one TSV line per run, appended with one
 * write(2) to an O_APPEND file, so concurrent runs never interleave.
 *
 * Columns: start, duration, user, cwd, command (masked), target, class,
 * snapshot (the paths taken, ", "-joined, or "-"), status, command_class,
 * test_run (yes/no), note.  Lines of the first version have only the first
 * nine; they read with the last three empty.
 *
 * Where: the journal lives in the snapshot store of the project
 * (backups/journal); outside any project (no .env, .dbguard.conf or
 * framework root upward) and without a configured backup_dir, under
 * $XDG_STATE_HOME/dbguard/ (default ~/.local/state/dbguard/), not in the
 * directory the user happens to stand in. */
#ifndef DBGUARD_JOURNAL_H
#define DBGUARD_JOURNAL_H

#include <stddef.h>

#include "base/xalloc.h"

enum {
	J_START, J_DURATION, J_USER, J_CWD, J_COMMAND, J_TARGET, J_CLASS, J_SNAPSHOT, J_STATUS,
	J_CMD_CLASS, J_TEST_RUN, J_NOTE, J_COLS
};
#define J_COLS_V1 9
extern const char *const journal_columns[J_COLS];

struct journal_entry {
	char *col[J_COLS];
	struct strvec snapshots;    /* the snapshot column split */
	int number;                 /* 1 = the newest run that took a snapshot; 0 = none taken */
};
struct journal {
	struct journal_entry *v;    /* oldest first, as in the file */
	size_t n;
};

/* The journal's path for the current directory (malloc'd), and whether it
 * is the state-directory one (*outside set to 1). */
char *journal_path(int *outside);
/* Read path into j; 0, or -1 with errno (ENOENT: no journal yet).  Lines
 * that do not parse are skipped. */
int journal_read(const char *path, struct journal *j);
void journal_free(struct journal *j);
/* The entry numbered n (1 = newest with a snapshot), or NULL. */
const struct journal_entry *journal_undo_point(const struct journal *j, int n);
/* Append one line; its directory is created (0700).  0, or -1 with errno. */
int journal_append(const char *path, const char *const fields[J_COLS]);
/* Append the line of one run of a command: its masked command line, start
 * and end times, the databases found (with the snapshots taken), the Docker
 * volumes snapshotted ("volume<TAB>path" each, or NULL: targets
 * "volume NAME" of class "volume", their snapshots with the others), status
 * ("exit 0", "refused"...), command class, test run or not, and notes.  The
 * store is created first when the journal is in one; failures are reported. */
struct found_list;
void journal_record(const char *masked, double start, double end, const struct found_list *l,
                    const struct strvec *volsnaps, const char *status, const char *cmd_class, int test_run,
                    const struct strvec *notes);
/* Every snapshot path the newest `runs` numbered entries refer to (for
 * retention: [safe-run] keep_undo), appended to out. */
void journal_recent_snapshots(const struct journal *j, int runs, struct strvec *out);

#endif
