/* only.c — portcheck --only=ports: a report of the port findings alone, so
 * that CI fails when a port leaves the range and for nothing else. */
#include <stdlib.h>
#include <string.h>

#include "portcheck/portcheck.h"

static const char *const port_kinds[] = {
	"out-of-range", "conflict", "same-port-in-two-files", "in-use", "exposed",
};

void report_keep_port_findings(struct report *r)
{
	size_t k = 0;
	r->nfindings = 0;
	for (size_t i = 0; i < r->nf; i++) {
		int keep = r->fv[i].note;
		for (size_t f = 0; f < sizeof port_kinds / sizeof *port_kinds && !keep; f++)
			keep = !strcmp(r->fv[i].kind, port_kinds[f]);
		if (!keep) {
			free(r->fv[i].msg);
			continue;
		}
		r->nfindings += !r->fv[i].note;
		r->fv[k++] = r->fv[i];
	}
	r->nf = k;
}
