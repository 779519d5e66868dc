/* list.h — db-restore --list (list.c). */
#ifndef DBGUARD_RESTORECLI_LIST_H
#define DBGUARD_RESTORECLI_LIST_H

#include "restorecli/restorecli.h"

/* The snapshots of the target (of every database with --all or without
 * one, of the volume with --volume), in the format asked. */
int do_restore_list(struct ctx *cx, const struct opts *o);

#endif
