/* classify.h — production / staging / local / remote / unknown, and the rule
 * that decided it (DESIGN.md, "Classification"). */
#ifndef DBGUARD_CLASSIFY_H
#define DBGUARD_CLASSIFY_H

#include "model/target.h"

/* Set t->cls and t->rule from names, host, environment name and t->marker. */
void classify_target(struct target *t);
/* Is class c refused by the policy ([dbguard] refuse_classes; production always)? */
int class_refused(enum tclass c);
/* Does a host name count as local (loopback, socket, single label)? */
int host_is_local(const char *host);

#endif
