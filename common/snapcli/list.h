/* list.h — db-snap --list and --latest (list.c). */
#ifndef DBGUARD_SNAPCLI_LIST_H
#define DBGUARD_SNAPCLI_LIST_H

#include "snapcli/snapcli.h"

/* The snapshots --list, --latest, --verify and --push work on: the
 * volume's, all (--all) or the target's; *dbkey NULL with --all. */
void list_store(struct ctx *cx, const struct opts *o, struct snapshot_list *l, char **dbkey);
int do_list(struct ctx *cx, const struct opts *o);
int do_latest(struct ctx *cx, const struct opts *o);

#endif
