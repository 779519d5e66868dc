/* take.h — taking a snapshot: db-snap's default mode (take.c). */
#ifndef DBGUARD_SNAPCLI_TAKE_H
#define DBGUARD_SNAPCLI_TAKE_H

#include "snapcli/snapcli.h"

/* Take a snapshot (-o, the store, or --volume) and print its path; *made
 * (made may be NULL) gets a new snapshot's path in the store. */
int do_snap(struct ctx *cx, const struct opts *o, char **made);

#endif
