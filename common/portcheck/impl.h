/* impl.h — what the files of portcheck/ share (private to portcheck/). */
#ifndef DBGUARD_PORTCHECK_IMPL_H
#define DBGUARD_PORTCHECK_IMPL_H

#include <stddef.h>
#include "portcheck/portcheck.h"


enum {
	F_RANGE = 1 << 0,     /* host port outside the range */
	F_CONFLICT = 1 << 1,  /* another binding on the same address and port */
	F_TWICE = 1 << 2,     /* the container port published again by a later file */
	F_BUSY = 1 << 3,      /* in use on this machine */
	F_EXPOSED = 1 << 4,   /* every interface */
};

/* ports.c */
int parse_port_range(const char *s, int *lo, int *hi);
void port_str(char *buf, size_t len, int lo, int hi);

/* analyze.c */
int is_container_proxy(const struct listener *l);
void report_analyze(struct report *r, struct compose_project *p, int lo, int hi, const struct listener_list *ls);
void report_free(struct report *r);

/* protection.c */
void check_protection(struct report *r, const struct cservice *s);

/* plan.c */
void plan_ports(struct report *r, const struct listener_list *ls);

/* apply.c */
char *path_to_write(const char *path);

#endif
