/* plan.c — safe-run's decisions before the command runs (plan.h). */
#include "saferun/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "model/classify.h"
#include "model/confirm.h"

/* A class name from db-envcheck's output; one we cannot read is refused. */
static int refused_class(const char *cls)
{
	enum tclass c;
	return tclass_parse(cls, &c) < 0 || class_refused(c);
}

/* The --confirm value for a database: the one naming it, else the first. */
static const char *confirm_value(const struct strvec *confirms, const char *name)
{
	for (size_t i = 0; i < confirms->n; i++)
		if (!strcmp(confirms->v[i], name))
			return confirms->v[i];
	return confirms->n ? confirms->v[0] : NULL;
}

/* What will happen to each database before the command runs: the same
 * decisions for --dry-run and the real run. */
void saferun_plan(int env_status, const struct found_list *l, const struct plan_opts *o, struct plan *p)
{
	memset(p, 0, sizeof *p);
	p->take = xcalloc(l->n + 1, sizeof *p->take);
	int docker = o->cls == CMD_DOCKER_DESTRUCTIVE;
	/* Unreachable (4) is not a refusal by itself: each database decides. */
	if (env_status < 0 || (env_status != DG_OK && env_status != DG_NO && env_status != DG_NOTHING &&
	                       env_status != DG_UNREACHABLE))
		p->refusal = xstrdup("db-envcheck could not tell which database this command touches (see above)");
	else if (env_status == DG_NOTHING && o->require_db)
		p->refusal = xstrdup("no database found and --require-db (or require_db = yes) is set");
	else if (env_status == DG_NOTHING && docker && !o->no_snap && !o->docker_volumes)
		p->refusal = xstrdup("a destructive Docker command, and no database was found to snapshot first");

	/* Refused classes need --allow-production and the name of each database. */
	for (size_t i = 0; i < l->n && !p->refusal; i++) {
		const struct found *f = &l->v[i];
		if (!refused_class(f->col[C_CLASS])) {
			if (strcmp(f->col[C_CLASS], "local") && !o->dry_run)
				warn("%s is %s: %s", f->describe, f->col[C_CLASS], f->col[C_RULE]);
			continue;
		}
		if (!o->allow_production) {
			p->refusal = xasprintf("%s is %s: %s; to run it anyway: safe-run --allow-production (and confirm "
			                        "the name '%s')", f->describe, f->col[C_CLASS], f->col[C_RULE],
			                        found_confirm_name(f));
			break;
		}
		if (o->dry_run)
			continue;
		char *what = xasprintf("'%s' will run against %s database %s", o->masked, f->col[C_CLASS],
		                       f->describe);
		int rc = confirm_name(found_confirm_name(f), confirm_value(o->confirms, found_confirm_name(f)), what);
		free(what);
		if (rc != DG_OK)
			p->refusal = xstrdup("--allow-production was not confirmed with the database name");
	}

	for (size_t i = 0; i < l->n && !p->refusal && !o->no_snap; i++) {
		const struct found *f = &l->v[i];
		if (found_nothing_yet(f)) {
			sv_pushf(&p->notes, "%s: nothing persistent to snapshot yet", f->describe);
		} else if (found_missing(f)) {
			sv_pushf(&p->notes, "%s does not exist yet: nothing to snapshot", f->describe);
		} else if (found_unreachable(f) && (i == 0 || docker) && o->dry_run) {
			/* The real run lets db-snap try, and say why it cannot. */
			p->refusal = xasprintf("the snapshot of %s would fail: it does not answer (db-envcheck --ping); "
			                        "fix that, or run without one: safe-run --no-snap", f->describe);
		} else if (found_unreachable(f) && !(i == 0 || docker)) {
			/* Not reachable from here, so not by this command either. */
			sv_pushf(&p->notes, "%s is unreachable from here; not snapshotted", f->describe);
			if (!o->dry_run)
				warn("%s is unreachable from here; not snapshotted", f->describe);
		} else {
			p->take[i] = 1;
		}
	}
}

void saferun_plan_print(const struct found_list *l, const struct plan_opts *o, const struct plan *p)
{
	printf("command:  %s\n", o->masked);
	printf("class:    %s%s\n", cmd_class_name(o->cls), o->test_run ? " (test run)" : "");
	for (size_t i = 0; i < l->n; i++)
		printf("target:   %s (%s, %s: %s)\n", l->v[i].describe, i ? "also configured" : "primary",
		       l->v[i].col[C_CLASS], l->v[i].col[C_RULE]);
	if (!l->n)
		printf("target:   none found\n");
	printf("verdict:  %s\n", p->refusal ? "would refuse" : "would run");
	if (p->refusal)
		printf("reason:   %s\n", p->refusal);
	for (size_t i = 0; i < l->n && !p->refusal; i++) {
		if (p->take[i])
			printf("snapshot: %s, by db-snap --reason 'safe-run: %s'\n", l->v[i].describe, o->masked);
		else if (o->no_snap)
			printf("snapshot: none for %s (--no-snap)\n", l->v[i].describe);
	}
	for (size_t i = 0; i < p->notes.n && !p->refusal; i++)
		printf("snapshot: none: %s\n", p->notes.v[i]);
}

void saferun_plan_free(struct plan *p)
{
	free(p->refusal);
	sv_free(&p->notes);
	free(p->take);
	memset(p, 0, sizeof *p);
}
