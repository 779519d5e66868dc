/* target.c — which database a db-snap mode works on: the primary target
 * (or --target=N's), or the configured server that holds a clone. */
#include "snapcli/snapcli.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "cli/cli.h"
#include "resolve/resolve.h"

/* The primary target, or exit 3/2 saying why there is none. */
struct target *primary(struct ctx *cx, const struct opts *o)
{
	if (cx->override)
		return cx->override;
	if (!cx->resolved) {
		struct resolve_opts ro = { o->url, o->test_run, NULL };
		resolve_targets(&ro, &cx->targets);
		cx->resolved = 1;
		if (cx->targets.config_errors)
			exit(DG_USAGE);
	}
	if (cx->targets.n == 0)
		die(DG_NOTHING, "no database configured here: no --url, DATABASE_URL, DB_* variables "
		    "or .env naming one%s", o->mode == MODE_SNAP ? "" : " (--all works on the whole store)");
	return cli_pick_target(&cx->targets, (int)o->target);
}

/* The configured target whose server holds clone m (its credentials reach
 * the clone), or NULL. */
struct target *server_of(struct ctx *cx, const struct opts *o, const struct snapshot_meta *m)
{
	if (!cx->resolved) {
		struct resolve_opts ro = { o->url, o->test_run, NULL };
		resolve_targets(&ro, &cx->targets);
		cx->resolved = 1;
	}
	for (size_t i = 0; i < cx->targets.n; i++) {
		struct target *t = &cx->targets.v[i];
		const char *e = target_get(t, TF_ENGINE);
		if (e && strcmp(e, "postgres") == 0 && target_port(t) == m->port &&
		    strcmp(target_host(t) ? target_host(t) : "", m->host ? m->host : "") == 0)
			return t;
	}
	return NULL;
}
