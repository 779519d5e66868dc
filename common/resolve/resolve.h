/* resolve.h — target resolution: which databases this run will touch, and
 * where each value came from (DESIGN.md "Targets"). */
#ifndef DBGUARD_RESOLVE_H
#define DBGUARD_RESOLVE_H

#include "model/target.h"

struct resolve_opts {
	const char *url;         /* --url, or NULL */
	int test_run;            /* --test-run */
	const char *project_dir; /* NULL: discover (DESIGN.md: the dir holding .env, else cwd) */
};

/* Fill list with every target configured for this run; the primary one first.
 * Errors in files are reported (file:line) and counted in config_errors. */
void resolve_targets(const struct resolve_opts *o, struct target_list *list);

#endif
