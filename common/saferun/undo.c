/* undo.c — safe-run --journal and --undo (undo.h). */
#include "saferun/undo.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "model/confirm.h"
#include "saferun/journal.h"
#include "saferun/targets.h"
#include "store/store.h"

/* Why a snapshot of the journal cannot be used now, or NULL (malloc'd). */
static char *snapshot_problem(const char *path, struct snapshot_meta *m)
{
	struct stat st;
	char err[512];
	if (stat(path, &st) < 0)
		return xstrdup(errno == ENOENT ? "pruned" : strerror(errno));
	if (store_verify(path, m, err, sizeof err) < 0)
		return xasprintf("fails verification: %s", err);
	return NULL;
}

static int read_journal(struct journal *j, char **path_out)
{
	char *path = journal_path(NULL);
	if (journal_read(path, j) < 0) {
		int e = errno;
		if (e == ENOENT)
			error("no journal yet at '%s': safe-run has not run here", path);
		else
			error("cannot read the journal '%s': %s", path, strerror(e));
		free(path);
		return e == ENOENT ? DG_NOTHING : DG_NO;
	}
	*path_out = path;
	return DG_OK;
}

int saferun_show_journal(long n, int format)
{
	struct journal j;
	char *path;
	int rc = read_journal(&j, &path);
	if (rc != DG_OK)
		return rc;
	size_t first = j.n > (size_t)n ? j.n - (size_t)n : 0;
	if (format == FMT_TSV) {
		printf("n");
		for (int c = 0; c < J_COLS; c++)
			printf("\t%s", journal_columns[c]);
		printf("\tmark\n");
	} else if (format == FMT_JSON) {
		putchar('[');
	}
	for (size_t i = first; i < j.n; i++) {
		const struct journal_entry *e = &j.v[i];
		struct strbuf mark = STRBUF_INIT;
		struct strvec problems = STRVEC_INIT;
		for (size_t k = 0; k < e->snapshots.n; k++) {
			struct snapshot_meta m;
			memset(&m, 0, sizeof m);
			char *p = snapshot_problem(e->snapshots.v[k], &m);
			store_meta_free(&m);
			sv_push_owned(&problems, p ? p : xstrdup(""));
			if (p && !strstr(sb_str(&mark), strncmp(p, "fails", 5) ? "pruned" : "fails verification"))
				sb_addf(&mark, "%s%s", mark.len ? ", " : "",
				        strncmp(p, "fails", 5) ? "pruned" : "fails verification");
		}
		char num[16] = "-";
		if (e->number)
			snprintf(num, sizeof num, "%d", e->number);
		if (format == FMT_TSV) {
			printf("%s", num);
			for (int c = 0; c < J_COLS; c++) {
				putchar('\t');
				tsv_field(stdout, e->col[c]);
			}
			putchar('\t');
			tsv_field(stdout, sb_str(&mark));
			putchar('\n');
		} else if (format == FMT_JSON) {
			printf("%s{\"n\":%s", i > first ? "," : "", e->number ? num : "null");
			for (int c = 0; c < J_COLS; c++) {
				putchar(',');
				json_string(stdout, journal_columns[c]);
				putchar(':');
				json_string(stdout, e->col[c]);
			}
			printf(",\"mark\":");
			json_string(stdout, sb_str(&mark));
			putchar('}');
		} else {
			printf("%3s  %s  %7ss  %-14s %s%s%s%s\n", num, e->col[J_START], e->col[J_DURATION], e->col[J_STATUS],
			       e->col[J_COMMAND], mark.len ? "  [" : "", sb_str(&mark), mark.len ? "]" : "");
			printf("       %s (%s)\n", e->col[J_TARGET], e->col[J_CLASS]);
			if (!e->snapshots.n)
				printf("       snapshot: -\n");
			for (size_t k = 0; k < e->snapshots.n; k++)
				printf("       snapshot: %s%s%s%s\n", e->snapshots.v[k], *problems.v[k] ? "  (" : "",
				       problems.v[k], *problems.v[k] ? ")" : "");
			if (*e->col[J_NOTE])
				printf("       note: %s\n", e->col[J_NOTE]);
		}
		sb_free(&mark);
		sv_free(&problems);
	}
	if (format == FMT_JSON)
		printf("]\n");
	else if (format == FMT_HUMAN && j.n)
		info("undo the run numbered N with: safe-run --undo N (1 = the last one)");
	journal_free(&j);
	free(path);
	return DG_OK;
}

/* ---- undo ---- */

/* A snapshot of a Docker volume (db-snap --volume): engine=volume, the
 * volume's name as its database. */
static int is_volume(const struct snapshot_meta *m)
{
	return m->engine && !strcmp(m->engine, "volume") && m->database;
}

/* "2 databases and 1 volume is"... as the undone line says it. */
static char *count_text(size_t dbs, size_t vols)
{
	size_t all = dbs + vols;
	char *d = xasprintf("%zu database%s", dbs, dbs == 1 ? "" : "s");
	char *v = xasprintf("%zu volume%s", vols, vols == 1 ? "" : "s");
	char *t = xasprintf("%s%s%s %s", vols && !dbs ? "" : d, dbs && vols ? " and " : "", vols ? v : "",
	                    all == 1 ? "is" : "are");
	free(d);
	free(v);
	return t;
}

static int same_sqlite(const char *dir, const char *db, const char *meta_db)
{
	char *p = db[0] == '/' || !dir ? xstrdup(db) : path_join(dir, db);
	char *r = realpath(p, NULL);
	int same = r ? strcmp(r, meta_db) == 0 : 0;
	if (!r) {
		/* Gone since (a wipe may delete the file): the same name will do. */
		char *a = path_base(p), *b = path_base(meta_db);
		same = strcmp(a, b) == 0;
		free(a);
		free(b);
	}
	free(r);
	free(p);
	return same;
}

/* The target of l the snapshot with metadata m came from, or -1. */
static int target_of(const struct found_list *l, const struct snapshot_meta *m, const char *dir)
{
	int best = -1, best_score = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct found *f = &l->v[i];
		if (!m->engine || strcmp(f->col[C_ENGINE], m->engine) || !m->database)
			continue;
		int score;
		if (!strcmp(m->engine, "sqlite")) {
			if (!same_sqlite(dir, f->col[C_DATABASE], m->database))
				continue;
			score = 2;
		} else {
			if (strcmp(f->col[C_DATABASE], m->database))
				continue;
			char port[16];
			snprintf(port, sizeof port, "%d", m->port);
			score = m->host && !strcmp(f->col[C_HOST], m->host) && !strcmp(f->col[C_PORT], port) ? 2 : 1;
		}
		if (score > best_score) {
			best = (int)i;
			best_score = score;
		}
	}
	return best;
}

static const char *confirm_for(const char *name, char *const confirms[])
{
	if (!confirms || !confirms[0])
		return NULL;
	for (char *const *c = confirms; *c; c++)
		if (!strcmp(*c, name))
			return *c;
	return confirms[0];   /* names another database: confirm_name says so */
}

static void journal_undo(const char *path, const struct journal_entry *e, int n, double start,
                         const struct strvec *describe, const struct strvec *classes_of, const char *status)
{
	char when[32], cwd[4096], duration[32], note[128];
	time_t t = (time_t)start;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	if (!getcwd(cwd, sizeof cwd))
		strcpy(cwd, "?");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(duration, sizeof duration, "%.3f", (double)now.tv_sec + now.tv_nsec / 1e9 - start);
	struct passwd *pw = getpwuid(getuid());
	struct strbuf targets = STRBUF_INIT, classes = STRBUF_INIT;
	for (size_t k = 0; k < describe->n; k++) {
		sb_addf(&targets, "%s%s", k ? ", " : "", describe->v[k]);
		sb_addf(&classes, "%s%s", k ? ", " : "", classes_of->v[k]);
	}
	char *command = xasprintf("safe-run --undo %d", n);
	snprintf(note, sizeof note, "undo of the run of %s", e->col[J_START]);
	const char *fields[J_COLS] = { when, duration, pw ? pw->pw_name : "?", cwd, command, sb_str(&targets),
	                               sb_str(&classes), "-", status, "undo", e->col[J_TEST_RUN], note };
	if (journal_append(path, fields) < 0)
		error("cannot write the journal '%s':", path);
	free(command);
	sb_free(&targets);
	sb_free(&classes);
}

/* What each snapshot of run n puts back: index[k] into l (-1: a Docker
 * volume), with its description, class and the name that confirms it.
 * DG_OK, or DG_NOTHING (reported) when a database is not configured now. */
static int undo_targets(int n, const struct journal_entry *e, const struct snapshot_meta *meta,
                        const struct found_list *l, const char *dir, int *index, struct strvec *describe,
                        struct strvec *classes, struct strvec *names)
{
	for (size_t k = 0; k < e->snapshots.n; k++) {
		if (is_volume(&meta[k])) {
			index[k] = -1;
			sv_pushf(describe, "volume %s", meta[k].database);
			sv_push(classes, "volume");
			sv_push(names, meta[k].database);
			continue;
		}
		index[k] = target_of(l, &meta[k], dir);
		if (index[k] < 0) {
			error("cannot undo run %d: the database '%s' of '%s' is not configured in '%s' now (was it set "
			      "in the environment?); restore it with db-restore --url=URL '%s'", n, meta[k].database,
			      e->snapshots.v[k], dir ? dir : ".", e->snapshots.v[k]);
			return DG_NOTHING;
		}
		sv_push(describe, l->v[index[k]].describe);
		sv_push(classes, l->v[index[k]].col[C_CLASS]);
		sv_push(names, found_confirm_name(&l->v[index[k]]));
	}
	return DG_OK;
}

int saferun_undo(int n, char *const confirms[], int dry_run)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double start = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	struct journal j;
	char *path;
	int rc = read_journal(&j, &path);
	if (rc != DG_OK)
		return rc;
	const struct journal_entry *e = journal_undo_point(&j, n);
	struct found_list l = { 0 };
	int *index = NULL;
	if (!e) {
		int points = 0;
		for (size_t i = 0; i < j.n; i++)
			points += j.v[i].number > 0;
		error("no run %d to undo: the journal '%s' has %d run%s with a snapshot (safe-run --journal "
		      "numbers them)", n, path, points, points == 1 ? "" : "s");
		rc = DG_NOTHING;
		goto out;
	}
	/* Every snapshot of the run must be there and intact before anything
	 * is touched: half an undo is worse than none. */
	size_t ns = e->snapshots.n;
	struct snapshot_meta *meta = xcalloc(ns, sizeof *meta);
	index = xcalloc(ns, sizeof *index);
	for (size_t k = 0; k < ns && rc == DG_OK; k++) {
		char *p = snapshot_problem(e->snapshots.v[k], &meta[k]);
		if (p) {
			int pruned = strncmp(p, "fails", 5) != 0;
			error("cannot undo run %d ('%s'): its snapshot '%s' %s; nothing was changed", n,
			      e->col[J_COMMAND], e->snapshots.v[k],
			      pruned ? "is gone (pruned or removed)" : p);
			rc = pruned ? DG_NOTHING : DG_INTEGRITY;
			free(p);
		}
	}
	const char *dir = e->col[J_CWD];
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		dir = NULL;
	int test_run = !strcmp(e->col[J_TEST_RUN], "yes") || !strcmp(e->col[J_CMD_CLASS], "test");
	size_t nvol = 0;
	for (size_t k = 0; k < ns && rc == DG_OK; k++)
		nvol += is_volume(&meta[k]);
	if (rc == DG_OK && nvol < ns) {
		int st_env = saferun_envcheck(dir, test_run, &l);
		if (st_env < 0 || st_env == DG_USAGE)
			rc = DG_REFUSED;
	}
	struct strvec describe = STRVEC_INIT, classes = STRVEC_INIT, names = STRVEC_INIT;
	if (rc == DG_OK)
		rc = undo_targets(n, e, meta, &l, dir, index, &describe, &classes, &names);
	if (rc == DG_OK) {
		info("undo run %d: %s", n, e->col[J_COMMAND]);
		info("  ran %s in %s (%s)", e->col[J_START], e->col[J_CWD], e->col[J_STATUS]);
		for (size_t k = 0; k < ns; k++) {
			char when[32];
			store_format_time(meta[k].created, when);
			info("  %s <- '%s' (taken %s)", describe.v[k], e->snapshots.v[k], when);
		}
	}
	for (size_t k = 0; k < ns && rc == DG_OK && !dry_run; k++) {
		const char *name = names.v[k];
		char *what = xasprintf("this puts '%s' back as it was before '%s'", name, e->col[J_COMMAND]);
		rc = confirm_name(name, confirm_for(name, confirms), what);
		free(what);
	}
	size_t done = 0;
	for (size_t k = 0; k < ns && rc == DG_OK && !dry_run; k++) {
		int r = index[k] < 0 ? saferun_restore_volume(dir, names.v[k], e->snapshots.v[k])
		                     : saferun_restore(dir, &l.v[index[k]], (size_t)index[k], test_run, e->snapshots.v[k], 0);
		if (r != DG_OK) {
			error("undo of run %d stopped: %s was not restored (db-restore exit %d)%s", n, describe.v[k], r,
			      done ? (nvol ? "; the ones before it were" : "; the databases before it were") : "");
			rc = r < 0 ? DG_NO : r;
			break;
		}
		done++;
	}
	if (rc == DG_OK && !dry_run) {
		char *count = count_text(done - nvol, nvol);
		info("undone: %s back as %s before '%s'", count, done == 1 ? "it was" : "they were", e->col[J_COMMAND]);
		free(count);
	}
	if (!dry_run && (done || rc != DG_UNCONFIRMED)) {
		char status[32];
		snprintf(status, sizeof status, "exit %d", rc);
		if (describe.n == ns && rc != DG_NOTHING && rc != DG_INTEGRITY)
			journal_undo(path, e, n, start, &describe, &classes, status);
	}
	sv_free(&describe);
	sv_free(&classes);
	sv_free(&names);
	for (size_t k = 0; k < ns; k++)
		store_meta_free(&meta[k]);
	free(meta);
out:
	free(index);
	found_list_free(&l);
	journal_free(&j);
	free(path);
	return rc;
}
