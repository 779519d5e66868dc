/* journal.c — reading and writing safe-run's journal (journal.h). */
#include "saferun/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "model/config.h"
#include "model/project.h"
#include "saferun/targets.h"
#include "store/store.h"

const char *const journal_columns[J_COLS] = {
	"start", "duration", "user", "cwd", "command", "target", "class", "snapshot", "status",
	"command_class", "test_run", "note",
};

/* A backup_dir other than the default (an installed dbguard.conf repeats
 * the default, so where it was set says nothing). */
static int backup_dir_configured(void)
{
	const char *dir = config_get(NULL, "backup_dir");
	return dir && *dir && strcmp(dir, "backups") != 0;
}

char *journal_path(int *outside)
{
	char *project = project_dir_marked();
	if (outside)
		*outside = 0;
	if (project || backup_dir_configured()) {
		char *dir = store_dir(project);
		char *path = path_join(dir, "journal");
		free(dir);
		free(project);
		return path;
	}
	if (outside)
		*outside = 1;
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	/* The XDG spec: a relative $XDG_STATE_HOME is invalid and ignored. */
	char *base = state && *state == '/' ? xstrdup(state)
	                                    : path_join(home && *home ? home : "/", ".local/state");
	char *path = xasprintf("%s/dbguard/journal", base);
	free(base);
	return path;
}

int journal_read(const char *path, struct journal *j)
{
	j->v = NULL;
	j->n = 0;
	size_t len;
	char *text = read_file(path, &len);
	if (!text)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *cols[J_COLS + 1];
		int nc = tsv_split(line, cols, J_COLS + 1);
		if (nc != J_COLS_V1 && nc != J_COLS)
			continue;
		j->v = xrealloc(j->v, (j->n + 1) * sizeof *j->v);
		struct journal_entry *e = &j->v[j->n++];
		memset(e, 0, sizeof *e);
		for (int c = 0; c < J_COLS; c++)
			e->col[c] = xstrdup(c < nc ? cols[c] : "");
		const char *s = e->col[J_SNAPSHOT];
		if (*s && strcmp(s, "-") != 0) {
			for (;;) {
				const char *sep = strstr(s, ", ");
				sv_push_owned(&e->snapshots, sep ? xstrndup(s, (size_t)(sep - s)) : xstrdup(s));
				if (!sep)
					break;
				s = sep + 2;
			}
		}
	}
	free(text);
	/* A run that took a snapshot is an undo point; a rehearsal is not (it
	 * ran on copies), unless the command changed an original after all. */
	int number = 0;
	for (size_t i = j->n; i-- > 0;) {
		const char *st = j->v[i].col[J_STATUS] ? j->v[i].col[J_STATUS] : "";
		int rehearsal = !strncmp(st, "rehearsal:", 10) && !strstr(st, "changed an original");
		if (j->v[i].snapshots.n && !rehearsal)
			j->v[i].number = ++number;
	}
	return 0;
}

void journal_free(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++) {
		for (int c = 0; c < J_COLS; c++)
			free(j->v[i].col[c]);
		sv_free(&j->v[i].snapshots);
	}
	free(j->v);
	j->v = NULL;
	j->n = 0;
}

const struct journal_entry *journal_undo_point(const struct journal *j, int n)
{
	for (size_t i = j->n; i-- > 0;)
		if (j->v[i].number == n)
			return &j->v[i];
	return NULL;
}

void journal_recent_snapshots(const struct journal *j, int runs, struct strvec *out)
{
	for (size_t i = j->n; i-- > 0;)
		if (j->v[i].number > 0 && j->v[i].number <= runs)
			for (size_t k = 0; k < j->v[i].snapshots.n; k++)
				sv_push(out, j->v[i].snapshots.v[k]);
}

int journal_append(const char *path, const char *const fields[J_COLS])
{
	char *dir = path_dir(path);
	struct stat st;
	int rc = stat(dir, &st) == 0 ? 0 : mkdir_p(dir, 0700);
	free(dir);
	if (rc < 0)
		return -1;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem)
		return -1;
	for (int i = 0; i < J_COLS; i++) {
		if (i)
			putc('\t', mem);
		tsv_field(mem, fields[i]);
	}
	putc('\n', mem);
	fclose(mem);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	rc = fd < 0 || write_all(fd, buf, len) < 0 ? -1 : 0;
	int e = errno;
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	else
		errno = e;
	free(buf);
	return rc;
}

void journal_record(const char *masked, double start, double end, const struct found_list *l,
                    const struct strvec *volsnaps, const char *status, const char *cmd_class, int test_run,
                    const struct strvec *notes)
{
	int outside;
	char *path = journal_path(&outside);
	char *dir = path_dir(path);
	if (!outside && store_ensure(dir) < 0)
		error("cannot create the store '%s' for the journal:", dir);
	free(dir);
	char when[32], cwd[4096], duration[32];
	time_t t = (time_t)start;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	if (!getcwd(cwd, sizeof cwd))
		strcpy(cwd, "?");
	snprintf(duration, sizeof duration, "%.3f", end - start);
	struct passwd *pw = getpwuid(getuid());
	struct strbuf targets = STRBUF_INIT, classes = STRBUF_INIT, snaps = STRBUF_INIT, ns = STRBUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		sb_addf(&targets, "%s%s", i ? ", " : "", l->v[i].describe);
		sb_addf(&classes, "%s%s", i ? ", " : "", l->v[i].col[C_CLASS]);
		if (l->v[i].snapshot)
			sb_addf(&snaps, "%s%s", snaps.len ? ", " : "", l->v[i].snapshot);
	}
	/* A Docker volume is a target too: "volume NAME", class "volume". */
	size_t nt = l->n;
	for (size_t i = 0; volsnaps && i < volsnaps->n; i++, nt++) {
		const char *tab = strchr(volsnaps->v[i], '\t');
		sb_addf(&targets, "%svolume %.*s", nt ? ", " : "", (int)(tab - volsnaps->v[i]), volsnaps->v[i]);
		sb_addf(&classes, "%svolume", nt ? ", " : "");
		sb_addf(&snaps, "%s%s", snaps.len ? ", " : "", tab + 1);
	}
	for (size_t i = 0; notes && i < notes->n; i++)
		sb_addf(&ns, "%s%s", i ? "; " : "", notes->v[i]);
	const char *fields[J_COLS] = { when, duration, pw ? pw->pw_name : "?", cwd, masked,
	                               nt ? sb_str(&targets) : "-", nt ? sb_str(&classes) : "-",
	                               snaps.len ? sb_str(&snaps) : "-", status, cmd_class,
	                               test_run ? "yes" : "no", sb_str(&ns) };
	if (journal_append(path, fields) < 0)
		error("cannot write the journal '%s':", path);
	sb_free(&targets);
	sb_free(&classes);
	sb_free(&snaps);
	sb_free(&ns);
	free(path);
}
