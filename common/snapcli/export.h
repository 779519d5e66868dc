/* export.h — db-snap --export (export.c). */
#ifndef DBGUARD_SNAPCLI_EXPORT_H
#define DBGUARD_SNAPCLI_EXPORT_H

#include "snapcli/snapcli.h"

/* The portable dump of the clone o->export, into -o FILE or stdout. */
int do_export(struct ctx *cx, const struct opts *o);

#endif
