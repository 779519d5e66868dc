/* remote.h — db-snap and the remote store: --remote, --push, --pull,
 * [store] push (remote.c). */
#ifndef DBGUARD_SNAPCLI_REMOTE_H
#define DBGUARD_SNAPCLI_REMOTE_H

#include "remote/remote.h"
#include "snapcli/snapcli.h"

/* The remote store, or exit: 2 when none is configured. */
struct remote *open_remote(void);
/* --list, --verify or --prune with --remote. */
int do_remote(struct ctx *cx, const struct opts *o);
int do_push(struct ctx *cx, const struct opts *o, char **operands, int nops);
int do_pull(struct ctx *cx, char **operands, int nops);
/* [store] push of the new snapshot at path (r opened before it). */
int push_new(struct ctx *cx, struct remote *r, enum push_mode mode, const char *path);

#endif
