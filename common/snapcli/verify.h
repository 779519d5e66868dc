/* verify.h — db-snap --verify (verify.c). */
#ifndef DBGUARD_SNAPCLI_VERIFY_H
#define DBGUARD_SNAPCLI_VERIFY_H

#include "snapcli/snapcli.h"

/* Verify the operands (names in the store or paths), else every snapshot
 * list_store gives: 0, 3 when one is missing, 5 when one fails. */
int do_verify(struct ctx *cx, const struct opts *o, char **operands, int nops);

#endif
