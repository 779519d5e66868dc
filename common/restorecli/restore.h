/* restore.h — db-restore's default mode: put a snapshot back (restore.c). */
#ifndef DBGUARD_RESTORECLI_RESTORE_H
#define DBGUARD_RESTORECLI_RESTORE_H

#include "restorecli/restorecli.h"

/* Open, confirm, take the safety snapshot, load and swap; j is freed by
 * the caller. */
int do_restore(struct ctx *cx, const struct opts *o, struct restore_job *j);

#endif
