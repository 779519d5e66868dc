/* prune.h — db-snap --prune, and the remover retention uses (prune.c). */
#ifndef DBGUARD_SNAPCLI_PRUNE_H
#define DBGUARD_SNAPCLI_PRUNE_H

#include "snapcli/snapcli.h"

struct prune_arg {
	const struct target *t;
};

/* Remove snapshot s, a clone's database too; arg is a struct prune_arg. */
int prune_remove(void *arg, const struct snapshot *s);
int do_prune(struct ctx *cx, const struct opts *o);

#endif
