/* guard.c — see guard.h */
#include "docker/guard.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "docker/cli.h"
#include "docker/inventory.h"
#include "docker/volume.h"
#include "model/confirm.h"

static const char *base_name(const char *s)
{
	const char *slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

static int has_flag(char *const argv[], int from, const char *shortf, const char *longf)
{
	for (int i = from; argv[i]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0)
			break;
		if (longf && strcmp(a, longf) == 0)
			return 1;
		/* -v, and -v inside a cluster of short flags (-fv) */
		if (shortf && a[0] == '-' && a[1] != '-' && strchr(a + 1, shortf[1]))
			return 1;
	}
	return 0;
}

/* The index of the docker subcommand after the CLI's global options. */
static int docker_subcommand(char *const argv[])
{
	for (int i = 1; argv[i]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-H") == 0 || strcmp(a, "--host") == 0 || strcmp(a, "-c") == 0 ||
		    strcmp(a, "--context") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "-l") == 0 ||
		    strcmp(a, "--log-level") == 0) {
			if (argv[i + 1])
				i++;
			continue;
		}
		if (a[0] != '-')
			return i;
	}
	return -1;
}

/* The global options of a compose command line (after "compose" or
 * "docker-compose"): -p/--project-name, -f/--file.  Returns the index of
 * the subcommand in argv (or -1). */
static int compose_globals(char *const argv[], int start, const char **project_name, struct strvec *files)
{
	for (int i = start; argv[i]; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-p") == 0 || strcmp(a, "--project-name") == 0) {
			if (argv[i + 1])
				*project_name = argv[++i];
		} else if (strncmp(a, "--project-name=", 15) == 0) {
			*project_name = a + 15;
		} else if (strncmp(a, "-p", 2) == 0 && a[2]) {
			*project_name = a + 2;
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) {
			if (argv[i + 1])
				sv_push(files, argv[++i]);
		} else if (strncmp(a, "--file=", 7) == 0) {
			sv_push(files, a + 7);
		} else if (strcmp(a, "--env-file") == 0 || strcmp(a, "--project-directory") == 0 ||
		           strcmp(a, "--profile") == 0 || strcmp(a, "--ansi") == 0 || strcmp(a, "-H") == 0 ||
		           strcmp(a, "--host") == 0 || strcmp(a, "--context") == 0 || strcmp(a, "-c") == 0) {
			if (argv[i + 1])
				i++;
		} else if (a[0] == '-') {
			continue;
		} else {
			return i;
		}
	}
	return -1;
}

static void push_lines(struct strvec *sv, const char *text)
{
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		if (n) {
			char *l = xstrndup(s, n);
			int dup = 0;
			for (size_t i = 0; i < sv->n && !dup; i++)
				dup = strcmp(sv->v[i], l) == 0;
			if (dup)
				free(l);
			else
				sv_push_owned(sv, l);
		}
		s += n + (nl ? 1 : 0);
	}
}

/* An anonymous volume's name: 64 hex digits. */
static int anonymous_name(const char *n)
{
	size_t i = 0;
	for (; n[i]; i++)
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return 0;
	return i == 64;
}

/* The anonymous volumes mounted by the containers ids (names or IDs):
 * what `rm -v` and `down -v` delete besides the named ones. */
static void anonymous_of(struct dk_guard *g, const struct strvec *ids)
{
	if (!ids->n)
		return;
	struct strvec a = STRVEC_INIT;
	sv_push(&a, "inspect");
	sv_push(&a, "--format");
	sv_push(&a, "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}}\n{{end}}{{end}}");
	for (size_t i = 0; i < ids->n; i++)
		sv_push(&a, ids->v[i]);
	struct dk_result r;
	dk_run(&a, -1, &r);
	sv_free(&a);
	struct strvec names = STRVEC_INIT;
	push_lines(&names, r.out);
	for (size_t i = 0; i < names.n; i++)
		if (anonymous_name(names.v[i]))
			push_lines(&g->doomed, names.v[i]);
	sv_free(&names);
	dk_result_free(&r);
}

/* The project's database volumes as `portcheck volumes --format=tsv` lists
 * them (a child: the compose files are read there), one strvec of columns
 * per row.  Returns portcheck's exit status, or -1 when it could not run. */
static int inventory(const struct dk_guard *g, struct strvec **rows, size_t *nrows)
{
	*rows = NULL;
	*nrows = 0;
	char *prog = find_sibling_program("portcheck");
	struct strvec a = STRVEC_INIT;
	sv_push_owned(&a, prog);
	sv_push(&a, "volumes");
	sv_push(&a, "-q");
	sv_push(&a, "--format=tsv");
	if (g->project_name)
		sv_pushf(&a, "--project-name=%s", g->project_name);
	for (size_t i = 0; i < g->files.n; i++)
		sv_pushf(&a, "--file=%s", g->files.v[i]);
	char *out = NULL;
	int ws = run_capture(sv_argv(&a), NULL, -1, &out, NULL);
	sv_free(&a);
	if (ws < 0) {
		error("cannot run portcheck:");
		free(out);
		return -1;
	}
	int status = exit_status_of(ws);
	char *save = NULL;
	for (char *line = status == 0 && out ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[DKI_COLS + 1];
		if (tsv_split(line, f, DKI_COLS + 1) != DKI_COLS || !strcmp(f[0], "project"))
			continue;   /* the header */
		*rows = xrealloc(*rows, (*nrows + 1) * sizeof **rows);
		struct strvec *r = &(*rows)[(*nrows)++];
		*r = (struct strvec)STRVEC_INIT;
		for (int c = 0; c < DKI_COLS; c++)
			sv_push(r, f[c]);
	}
	free(out);
	return status;
}

static void rows_free(struct strvec *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sv_free(&rows[i]);
	free(rows);
}

static void compose_doomed(struct dk_guard *g)
{
	struct strvec *rows;
	size_t n;
	int status = inventory(g, &rows, &n);
	if (status != 0) {
		g->problem = status == DG_USAGE || status == DG_NOTHING ? xstrdup("the compose files could not be read")
		                                                        : xasprintf("portcheck volumes exit %d", status);
		rows_free(rows, n);
		return;
	}
	/* down -v keeps external volumes */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].v[DKI_KIND], "named") && !strcmp(rows[i].v[DKI_EXISTS], "yes"))
			push_lines(&g->doomed, rows[i].v[DKI_VOLUME]);
	/* The database services' containers' anonymous volumes go too (an
	 * image's VOLUME with no mount in the compose file). */
	struct strvec ids = STRVEC_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(rows[i].v[DKI_SERVICE], rows[i - 1].v[DKI_SERVICE]))
			continue;
		char *fp = xasprintf("label=com.docker.compose.project=%s", rows[i].v[DKI_PROJECT]);
		char *fs = xasprintf("label=com.docker.compose.service=%s", rows[i].v[DKI_SERVICE]);
		struct dk_result r;
		dk_runl(&r, "ps", "-aq", "--filter", fp, "--filter", fs, (char *)NULL);
		if (r.status == 0)
			push_lines(&ids, r.out);
		dk_result_free(&r);
		free(fp);
		free(fs);
	}
	anonymous_of(g, &ids);
	sv_free(&ids);
	rows_free(rows, n);
}

void dk_guard_plan(char *const argv[], int classify_only, struct dk_guard *g)
{
	memset(g, 0, sizeof *g);
	if (!argv[0])
		return;
	const char *prog = base_name(argv[0]);
	int sub = -1, compose = 0;
	if (strcmp(prog, "docker-compose") == 0) {
		compose = 1;
		sub = compose_globals(argv, 1, &g->project_name, &g->files);
	} else if (strcmp(prog, "docker") == 0) {
		sub = docker_subcommand(argv);
		if (sub > 0 && strcmp(argv[sub], "compose") == 0) {
			compose = 1;
			sub = compose_globals(argv, sub + 1, &g->project_name, &g->files);
		}
	} else {
		return;
	}
	g->docker = 1;
	if (sub < 0)
		return;
	const char *s = argv[sub];
	char err[512];
	if (compose && strcmp(s, "up") == 0) {
		g->up = 1;
		return;
	}
	/* docker rm -v, docker container rm -v: the containers' operands start here. */
	int rm_from = 0;
	if (!compose && strcmp(s, "rm") == 0)
		rm_from = sub + 1;
	else if (!compose && strcmp(s, "container") == 0 && argv[sub + 1] &&
	         (!strcmp(argv[sub + 1], "rm") || !strcmp(argv[sub + 1], "remove")))
		rm_from = sub + 2;
	int deletes = compose ? (strcmp(s, "down") == 0 || strcmp(s, "rm") == 0) && has_flag(argv, sub + 1, "-v", "--volumes")
	            : strcmp(s, "volume") == 0 && argv[sub + 1] &&
	              (!strcmp(argv[sub + 1], "rm") || !strcmp(argv[sub + 1], "remove") || !strcmp(argv[sub + 1], "prune"));
	deletes |= rm_from && has_flag(argv, rm_from, "-v", "--volumes");
	deletes |= !compose && strcmp(s, "system") == 0 && argv[sub + 1] && !strcmp(argv[sub + 1], "prune") &&
	           has_flag(argv, sub + 2, NULL, "--volumes");
	if (!deletes)
		return;
	g->deletes = 1;
	if (classify_only)
		return;
	if (dk_engine_check(err, sizeof err) < 0) {
		g->no_engine = xstrdup(err);
		return;
	}
	if (compose) {
		compose_doomed(g);
		return;
	}
	const char *obj = argv[sub + 1];
	struct dk_result r = { 0 };
	if (rm_from) {
		struct strvec ids = STRVEC_INIT;
		int opts = 1;
		for (int i = rm_from; argv[i]; i++) {
			if (opts && strcmp(argv[i], "--") == 0)
				opts = 0;
			else if (!opts || argv[i][0] != '-')
				sv_push(&ids, argv[i]);
		}
		anonymous_of(g, &ids);
		sv_free(&ids);
	} else if (strcmp(s, "volume") == 0 && obj && (strcmp(obj, "rm") == 0 || strcmp(obj, "remove") == 0)) {
		int opts = 1;
		for (int i = sub + 2; argv[i]; i++) {
			if (opts && strcmp(argv[i], "--") == 0) {
				opts = 0;
				continue;
			}
			if (opts && argv[i][0] == '-')
				continue;
			struct dk_volume v;
			int found = dk_volume_inspect(argv[i], &v, err, sizeof err);
			if (found > 0)
				push_lines(&g->doomed, argv[i]);
			else if (found < 0 && !g->problem)
				g->problem = xstrdup(err);
			dk_volume_free(&v);
		}
	} else if ((strcmp(s, "volume") == 0 && obj && strcmp(obj, "prune") == 0) ||
	           (strcmp(s, "system") == 0 && obj && strcmp(obj, "prune") == 0 &&
	            has_flag(argv, sub + 2, NULL, "--volumes"))) {
		/* Every volume no container uses: what an engine before 23.0
		 * prunes; newer ones take only the anonymous ones without --all. */
		dk_runl(&r, "volume", "ls", "-q", "--filter", "dangling=true", (char *)NULL);
		if (r.status == 0)
			push_lines(&g->doomed, r.out);
		else
			g->problem = dk_first_line(*r.err ? r.err : "docker volume ls failed");
		dk_result_free(&r);
	}
}

int dk_guard_snapshot(struct dk_guard *g, const char *reason)
{
	if (g->no_engine) {
		verbose("no volume snapshots: %s (the command cannot delete any volume either)", g->no_engine);
		return 0;
	}
	if (g->problem) {
		error("cannot tell which volumes the command deletes: %s", g->problem);
		return -1;
	}
	for (size_t i = 0; i < g->doomed.n; i++) {
		int status;
		char *path = dk_snap_volume(NULL, g->doomed.v[i], "safe-run", reason, &status);
		if (!path) {
			error("the snapshot of volume '%s' failed (db-snap exit %d)", g->doomed.v[i], status);
			return -1;
		}
		info("snapshot of volume '%s': %s", g->doomed.v[i], path);
		sv_pushf(&g->snaps, "%s\t%s", g->doomed.v[i], path);
		free(path);
	}
	return 0;
}

int dk_guard_up_check(struct dk_guard *g, const struct strvec *confirms)
{
	char err[512];
	if (dk_engine_check(err, sizeof err) < 0)
		return 0;   /* up will say so itself */
	struct strvec *rows;
	size_t n;
	int status = inventory(g, &rows, &n), rc = 0;
	if (status != 0 && status != DG_USAGE && status != DG_NOTHING)
		warn("cannot check the project's volumes (portcheck volumes exit %d)", status);
	for (size_t i = 0; status == 0 && i < n && rc == 0; i++) {
		char *const *c = rows[i].v;
		if (!*c[DKI_FINDING])
			continue;
		error("%s", c[DKI_FINDING]);
		if (!*c[DKI_DATA_IN])
			continue;   /* a missing external volume: up fails by itself */
		char *what = xasprintf("'up' would start service '%s' on volume '%s', not on the data in '%s'",
		                       c[DKI_SERVICE], c[DKI_VOLUME], c[DKI_DATA_IN]);
		/* The --confirm naming this volume, else the first one. */
		const char *confirm = confirms && confirms->n ? confirms->v[0] : NULL;
		for (size_t k = 0; confirms && k < confirms->n; k++)
			if (strcmp(confirms->v[k], c[DKI_VOLUME]) == 0)
				confirm = confirms->v[k];
		if (confirm_name(c[DKI_VOLUME], confirm, what) != DG_OK)
			rc = -1;
		free(what);
	}
	rows_free(rows, n);
	return rc;
}

void dk_guard_hint(const struct dk_guard *g)
{
	for (size_t i = 0; i < g->snaps.n; i++) {
		const char *tab = strchr(g->snaps.v[i], '\t');
		char *vol = xstrndup(g->snaps.v[i], (size_t)(tab - g->snaps.v[i]));
		info("to bring volume '%s' back: db-restore --volume=%s --confirm=%s '%s'", vol, vol, vol, tab + 1);
		free(vol);
	}
}

void dk_guard_free(struct dk_guard *g)
{
	sv_free(&g->files);
	sv_free(&g->doomed);
	sv_free(&g->snaps);
	free(g->problem);
	free(g->no_engine);
	memset(g, 0, sizeof *g);
}
