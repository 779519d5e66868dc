/* confirm.c — see confirm.h
 * A confirmation must name the database it allows, so an answer meant for
 * another database (or a reflexive "yes") never allows anything. */
#include "model/confirm.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/term.h"
#include "base/xalloc.h"

int confirm_name(const char *name, const char *given, const char *what)
{
	if (!given) {
		given = getenv("DBGUARD_CONFIRM");
		if (given && !*given)
			given = NULL;
	}
	if (given) {
		if (strcmp(given, name) == 0)
			return DG_OK;
		error("confirmation '%s' does not name the database '%s'", given, name);
		return DG_UNCONFIRMED;
	}
	if (!term_can_prompt()) {
		if (what)
			error("%s; cannot ask without a terminal, confirm with --confirm=%s", what, name);
		else
			error("cannot ask for confirmation without a terminal, confirm with --confirm=%s", name);
		return DG_UNCONFIRMED;
	}
	if (what)
		error("%s", what);
	char *prompt = xasprintf("type the database name '%s' to confirm: ", name);
	char answer[1024];
	int r = term_prompt(prompt, answer, sizeof answer);
	free(prompt);
	if (r < 0) {
		error("not confirmed: no answer; nothing was done");
		return DG_UNCONFIRMED;
	}
	if (strcmp(answer, name) != 0) {
		/* The answer is not repeated: it may be a password typed by mistake. */
		error("not confirmed: the answer does not name the database '%s'; nothing was done", name);
		return DG_UNCONFIRMED;
	}
	return DG_OK;
}


int target_confirm(const struct target *t, const char *given, const char *what)
{
	const char *db = target_get(t, TF_DATABASE);
	if (given && db && target_is(t, "sqlite")) {
		char *a = realpath(given, NULL), *b = realpath(db, NULL);
		if (strcmp(given, db) == 0 || (a && b && strcmp(a, b) == 0))
			given = target_confirm_name(t);
		free(a);
		free(b);
	}
	return confirm_name(target_confirm_name(t), given, what);
}
