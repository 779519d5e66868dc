/* undo.h — safe-run --journal and safe-run --undo: the journal shown with
 * its undo points numbered (1 = the newest run that took a snapshot), and
 * every database of run N put back as it was before that run. */
#ifndef DBGUARD_UNDO_H
#define DBGUARD_UNDO_H

/* Print the last n entries in format (FMT_HUMAN, FMT_TSV, FMT_JSON), each
 * snapshot checked: "pruned" when gone, "fails verification" when it does.
 * Returns an exit status. */
int saferun_show_journal(long n, int format);

/* Undo run n: show what will be restored, confirm each database by name
 * (confirms: the --confirm values given, NULL-terminated), then db-restore
 * each.  dry_run: show, touch nothing.  Returns an exit status. */
int saferun_undo(int n, char *const confirms[], int dry_run);

#endif
