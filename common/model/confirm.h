/* confirm.h — confirmation for destructive acts: the database name typed at a
 * TTY, or --confirm=NAME / DBGUARD_CONFIRM=NAME naming that very database. */
#ifndef DBGUARD_CONFIRM_H
#define DBGUARD_CONFIRM_H

#include "model/target.h"

/* given: the --confirm value or NULL (DBGUARD_CONFIRM is consulted when NULL).
 * what: a line shown before the prompt, e.g. "this marks 'app' as production".
 * Returns DG_OK when confirmed, DG_UNCONFIRMED otherwise (reason reported). */
int confirm_name(const char *name, const char *given, const char *what);
/* confirm_name() for t, also accepting a SQLite file's full path. */
int target_confirm(const struct target *t, const char *given, const char *what);

#endif
