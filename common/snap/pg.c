/* pg.c — PostgreSQL snapshots: the pg_dump that matches the server, the
 * catalog (tables, inheritance) read in the exported MVCC snapshot pg_dump
 * then dumps, and the row counts as count(*) sees them. */
#include "snap/impl.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/output.h"
#include "base/process.h"
#include "base/xalloc.h"
#include "snap/snapshot.h"

static int is_exec(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* "pg_dump (PostgreSQL) 15.5 (Debian 15.5-1)" -> "15.5"; NULL if not run. */
static char *program_version(const char *prog)
{
	char *argv[] = { (char *)prog, "--version", NULL };
	char *out = NULL;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int st = run_capture(argv, NULL, devnull, &out, NULL);
	if (devnull >= 0)
		close(devnull);
	if (st < 0 || !out) {
		free(out);
		return NULL;
	}
	char *v = NULL;
	for (char *p = out; *p; p++)
		if (*p >= '0' && *p <= '9' && (p == out || p[-1] == ' ')) {
			size_t n = strspn(p, "0123456789.");
			v = xstrndup(p, n);
			break;
		}
	free(out);
	return v;
}

/* The pg_dump matching the server: Debian's version-specific binary (the
 * wrapper in /usr/bin costs a Perl start and may pick another version),
 * else the newest installed, else pg_dump on PATH. */
int snap_find_pg_dump(struct snapshot_job *j, int server_major, char *err, size_t errlen)
{
	int have = 0;
	char *p = xasprintf("/usr/lib/postgresql/%d/bin/pg_dump", server_major);
	if (server_major > 0 && is_exec(p)) {
		j->prog = p;
		return DG_OK;
	}
	free(p);
	DIR *d = opendir("/usr/lib/postgresql");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end || v <= have)
			continue;
		char *cand = xasprintf("/usr/lib/postgresql/%ld/bin/pg_dump", v);
		if (is_exec(cand)) {
			free(j->prog);
			j->prog = cand;
			have = (int)v;
		} else {
			free(cand);
		}
	}
	if (d)
		closedir(d);
	if (!j->prog) {
		const char *names[] = { "pg_dump", NULL };
		j->prog = find_on_path(names);
		if (!j->prog) {
			snap_err(err, errlen, "pg_dump not found; install the Debian package "
			           "postgresql-client-%d (or put pg_dump on PATH)", server_major);
			return DG_NO;
		}
		char *v = program_version(j->prog);
		have = v ? atoi(v) : 0;
		free(v);
	}
	if (have > 0 && have < server_major) {
		char *v = program_version(j->prog);
		snap_err(err, errlen, "%s %s is older than the server (PostgreSQL %s) and cannot dump it; "
		           "install the Debian package postgresql-client-%d", j->prog, v ? v : "(unknown)",
		           j->version, server_major);
		free(v);
		return DG_NO;
	}
	return DG_OK;
}

/* ---- PostgreSQL ---- */

/* The tables and inheritance links as of the exported snapshot; names come
 * TSV-escaped so that any byte survives the one-value query. */
static int pg_catalog(struct dbconn *c, struct pgscan *s, unsigned long **edges, size_t *nedges,
                      char *err, size_t errlen)
{
#define ESC(x) "replace(replace(replace(" x ", E'\\\\', E'\\\\\\\\'), E'\\t', E'\\\\t')," \
               " E'\\n', E'\\\\n')"
	char *v = NULL;
	/* The tables db_tables() counts (engine/pg.c), with their oids. */
	if (db_query_value(c,
	        "SELECT string_agg(c.oid::text || E'\\t' || " ESC("n.nspname") " || E'\\t' || "
	        ESC("c.relname") ", E'\\n')"
	        " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
	        " WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema'"
	        " AND n.nspname !~ '^pg_'", &v, err, errlen) < 0)
		return -1;
#undef ESC
	for (char *line = v, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		char *f[3];
		if (tsv_split(line, f, 3) != 3)
			continue;
		pgscan_add_table(s, strtoul(f[0], NULL, 10), f[1], f[2]);
	}
	free(v);
	pgscan_ready(s);
	/* count(*) on a parent also counts its inheritance children and
	 * partitions, whose rows pg_dump writes in their own COPY blocks. */
	v = NULL;
	if (db_query_value(c, "SELECT string_agg(inhrelid::text || ' ' || inhparent::text, ' ')"
	                      " FROM pg_catalog.pg_inherits", &v, err, errlen) < 0)
		return -1;
	size_t ecap = 0;
	*nedges = 0;
	for (char *p = v; p && *p;) {
		char *end;
		unsigned long child = strtoul(p, &end, 10);
		unsigned long parent = strtoul(end, &end, 10);
		if (*nedges + 2 > ecap) {
			ecap = ecap ? ecap * 2 : 32;
			*edges = xrealloc(*edges, ecap * sizeof **edges);
		}
		(*edges)[(*nedges)++] = child;
		(*edges)[(*nedges)++] = parent;
		p = end;
		while (*p == ' ')
			p++;
	}
	free(v);
	return 0;
}

static long pg_index_of(const struct pgscan *s, unsigned long oid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->tabs[i].oid == oid)
			return (long)i;
	return -1;
}

/* Rows of table i as count(*) sees them: its own and every descendant's,
 * each descendant once even under multiple inheritance. */
static long long pg_total(const struct pgscan *s, size_t i, const unsigned long *edges,
                          size_t nedges, char *seen)
{
	memset(seen, 0, s->n);
	size_t *stack = xmalloc((s->n + 1) * sizeof *stack), top = 0;
	long long sum = 0;
	stack[top++] = i;
	seen[i] = 1;
	while (top) {
		size_t k = stack[--top];
		sum += s->tabs[k].own;
		for (size_t e = 0; e + 1 < nedges; e += 2) {
			if (edges[e + 1] != s->tabs[k].oid)
				continue;
			long ch = pg_index_of(s, edges[e]);
			if (ch >= 0 && !seen[ch]) {
				seen[ch] = 1;
				stack[top++] = (size_t)ch;
			}
		}
	}
	free(stack);
	return sum;
}

int snap_pg_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                struct snapshot_result *res, char *err, size_t errlen)
{
	struct pgscan s;
	pgscan_init(&s);
	unsigned long *edges = NULL;
	size_t nedges = 0;
	char *snap = NULL;
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	char *cleanup = NULL;
	int rc = DG_NO;
	/* The catalog is read, and pg_dump runs, in one MVCC snapshot that
	 * this transaction exports and holds until pg_dump is done. */
	if (db_exec(j->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0 ||
	    db_query_value(j->conn, "SELECT pg_catalog.pg_export_snapshot()", &snap, err, errlen) < 0 ||
	    !snap || pg_catalog(j->conn, &s, &edges, &nedges, err, errlen) < 0)
		goto out;
	/* Inside the exported snapshot, before pg_dump reads the sequences. */
	snap_fingerprint_before(j, res);
	sv_push(&argv, j->prog);
	if (db_client_args(&j->t, &argv, &env, &cleanup, err, errlen) < 0)
		goto out;
	sv_push(&argv, "--no-password");
	sv_pushf(&argv, "--snapshot=%s", snap);
	/* The name through the environment: as an argument, a name holding
	 * '=' or starting with "postgres://" would be read as a connection
	 * string. */
	sv_pushf(&env, "PGDATABASE=%s", target_get(&j->t, TF_DATABASE));
	sv_push(&env, "PGAPPNAME=db-snap");
	ob->scan = pg_scan;
	ob->scanner = &s;
	rc = snap_run_dump(j, sv_argv(&argv), sv_argv(&env), c, ob, res, err, errlen);
	if (rc == DG_OK)
		snap_fingerprint_after(j, res);
	db_exec(j->conn, rc == DG_OK ? "COMMIT" : "ROLLBACK", NULL, 0);
	if (rc != DG_OK)
		goto out;
	res->counts.v = xcalloc(s.n ? s.n : 1, sizeof *res->counts.v);
	char *seen = xmalloc(s.n ? s.n : 1);
	for (size_t i = 0; i < s.n; i++) {
		res->counts.v[i].name = xstrdup(s.tabs[i].display);
		res->counts.v[i].rows = pg_total(&s, i, edges, nedges, seen);
	}
	free(seen);
	res->counts.n = s.n;
	qsort(res->counts.v, res->counts.n, sizeof *res->counts.v, snap_by_name);
out:
	pgscan_free(&s);
	free(edges);
	free(snap);
	/* PGPASSWORD=... lives in env: wipe it before freeing. */
	for (size_t i = 0; i < env.n; i++)
		memset(env.v[i], 0, strlen(env.v[i]));
	sv_free(&argv);
	sv_free(&env);
	db_client_cleanup(cleanup);
	return rc;
}
