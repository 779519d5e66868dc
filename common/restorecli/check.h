/* check.h — db-restore --check (check.c). */
#ifndef DBGUARD_RESTORECLI_CHECK_H
#define DBGUARD_RESTORECLI_CHECK_H

#include "restorecli/restorecli.h"

/* Load the snapshot into a throwaway database, compare, drop it. */
int do_check(struct ctx *cx, const struct opts *o, struct restore_job *j);

#endif
