/* restore.c — see restore.h.  A snapshot is never loaded into the target
 * itself.  PostgreSQL: a scratch database on the same server, swapped with
 * the target by two renames in one transaction.  SQLite: a complete file in
 * the target's directory, renamed over it.  MySQL, which cannot rename a
 * schema: a scratch schema whose tables are moved in by one atomic RENAME
 * TABLE, the unfinished step recorded in the store so that the next run can
 * finish it.  Scratch names end in the pid of their db-restore, so the next
 * run can tell a leftover of a killed run from a restore still running. */
#include "restore/impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/compress.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/process.h"
#include "base/term.h"
#include "base/xalloc.h"

/* Our names are <prefix>__dbguard_restore_<pid>: a prefix of at most 35
 * bytes leaves room for the rest within PostgreSQL's 63 and MySQL's 64. */
#define PREFIX_MAX 35

static volatile sig_atomic_t caught;
/* While a snapshot streams: its input, and the loader reading it.  A signal
 * must not wait for a stalled stream or a stuck loader: the input then
 * reads as /dev/null and the loader is ended, so the restore stops at once
 * and cleans up. */
static volatile sig_atomic_t feed_fd = -1, loader_pid;

static void on_signal(int sig)
{
	int saved = errno;
	if (!caught)
		caught = sig;
	if (loader_pid > 0)
		kill((pid_t)loader_pid, SIGKILL);
	if (feed_fd >= 0) {
		int n = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (n >= 0) {
			dup2(n, feed_fd);
			close(n);
		}
	}
	errno = saved;
}

void restore_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int restore_interrupted(void)
{
	return caught;
}

/* ------------------------------------------------------------ helpers */

static int engine_is(const struct target *t, const char *e)
{
	const char *x = target_get(t, TF_ENGINE);
	return x && strcmp(x, e) == 0;
}

void copy_with_db(struct target *dst, const struct target *t, const char *db)
{
	target_copy(dst, t);
	target_set(dst, TF_DATABASE, db, t->src[TF_DATABASE] ? t->src[TF_DATABASE] : "db-restore");
}

char *name_prefix(const char *db)
{
	size_t n = strlen(db);
	if (n > PREFIX_MAX) {
		n = PREFIX_MAX;
		/* Cut before a UTF-8 lead byte, never inside a character. */
		while (n > 0 && ((unsigned char)db[n] & 0xC0) == 0x80)
			n--;
	}
	return xstrndup(db, n);
}

/* A put-back from the safety snapshot runs inside a restore: each run of
 * this process gets its own names. */
static int generation;

char *scratch_name(const char *db, const char *kind)
{
	char *p = name_prefix(db);
	char gen[16] = "";
	if (generation > 1)
		snprintf(gen, sizeof gen, "%d", generation);
	char *s = xasprintf("%s__dbguard_%s%s_%ld", p, kind, gen, (long)getpid());
	free(p);
	return s;
}

/* LIKE pattern matching every name scratch_name() makes for db. */
static char *scratch_pattern(const char *db)
{
	char *p = name_prefix(db);
	struct strbuf sb = STRBUF_INIT;
	for (const char *s = p; *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			sb_addc(&sb, '\\');
		sb_addc(&sb, *s);
	}
	sb_adds(&sb, "\\_\\_dbguard\\_%");
	free(p);
	return sb_detach(&sb);
}

/* The pid at the end of one of our names, or 0. */
long name_pid(const char *name)
{
	size_t n = strlen(name), i = n;
	while (i > 0 && isdigit((unsigned char)name[i - 1]))
		i--;
	if (i == n || i == 0)
		return 0;
	return strtol(name + i, NULL, 10);
}

/* Is pid a db-restore that is still running (then its scratch is not a
 * leftover)?  A reused pid of another program does not count. */
int restore_running(long pid)
{
	if (pid <= 0)
		return 0;
	if (pid == (long)getpid())
		return 1;
	char path[64], comm[64];
	snprintf(path, sizeof path, "/proc/%ld/comm", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read_retry(fd, comm, sizeof comm - 1);
	close(fd);
	if (n <= 0)
		return 0;
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "db-restore") == 0;
}

void drop_leftovers(struct dbconn *c, const char *db, char *(*list_sql)(const char *lit),
                    void (*drop)(struct dbconn *c, const char *name))
{
	char err[ERRLEN];
	char *pat = scratch_pattern(db);
	char *lit = db_quote_literal(c, pat);
	char *sql = list_sql(lit);
	struct rows r;
	if (query_rows(c, sql, 1, &r, err, sizeof err) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const char *name = CELL(&r, i, 0);
			if (!name || restore_running(name_pid(name)))
				continue;
			info("removing '%s', left by an interrupted db-restore", name);
			drop(c, name);
		}
		rows_free(&r);
	} else {
		warn("cannot look for leftovers of interrupted restores: %s", err);
	}
	free(pat);
	free(lit);
	free(sql);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static char *hex_decode(const char *s, size_t len)
{
	char *out = xmalloc(len / 2 + 1);
	size_t k = 0;
	for (size_t i = 0; i + 1 < len; i += 2) {
		int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			break;
		out[k++] = (char)(hi * 16 + lo);
	}
	out[k] = '\0';
	return out;
}

static void rows_decode(const char *enc, size_t nf, struct rows *r)
{
	memset(r, 0, sizeof *r);
	r->nf = nf;
	size_t cap = 0, k = 0;
	const char *p = enc ? enc : "";
	while (*p) {
		for (size_t f = 0; f < nf; f++) {
			size_t len = strcspn(p, ", ");
			char *v = len > 0 && p[0] == 'v' ? hex_decode(p + 1, len - 1) : NULL;
			if (k == cap) {
				cap = cap ? 2 * cap : 16;
				r->cell = xrealloc(r->cell, cap * sizeof *r->cell);
			}
			r->cell[k++] = v;
			p += len;
			if (*p == ',')
				p++;
		}
		r->n++;
		p += strcspn(p, " ");
		if (*p == ' ')
			p++;
	}
}

void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n * r->nf; i++)
		free(r->cell[i]);
	free(r->cell);
	memset(r, 0, sizeof *r);
}

int query_rows(struct dbconn *c, const char *sql, size_t nf, struct rows *r,
               char *err, size_t errlen)
{
	char *v = NULL;
	memset(r, 0, sizeof *r);
	if (db_query_value(c, sql, &v, err, errlen) < 0)
		return -1;
	rows_decode(v, nf, r);
	free(v);
	return 0;
}


/* "concat_ws(',', f(e1), f(e2), ...)" */
char *fields_sql(char *(*f)(const char *), const char *const exprs[], size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "CONCAT_WS(','");
	for (size_t i = 0; i < n; i++) {
		char *e = f(exprs[i]);
		sb_addf(&sb, ", %s", e);
		free(e);
	}
	sb_addc(&sb, ')');
	return sb_detach(&sb);
}

/* ------------------------------------------------ streaming the snapshot */

struct feed {
	int out_fd, in_fd, seekable;
	struct progress prog;
	unsigned long long out;
	const char *const *bad;     /* line starts that switch the loader to another database */
	char head[24];              /* the start of the current line */
	size_t hlen;
	int in_head;
	char *found;                /* the offending line start, once seen */
};

/* A dump that switches databases (USE db, \connect db) would load into
 * the live target itself, not into the scratch database. */
static int line_start_bad(struct feed *f)
{
	for (const char *const *b = f->bad; *b; b++) {
		size_t n = strlen(*b);
		if (f->hlen >= n && strncasecmp(f->head, *b, n) == 0) {
			f->found = xstrndup(f->head, strcspn(f->head, "\r") < f->hlen ? strcspn(f->head, "\r") : f->hlen);
			return 1;
		}
	}
	return 0;
}

static int scan_lines(struct feed *f, const char *p, size_t len)
{
	const char *end = p + len;
	while (p < end) {
		if (f->in_head) {
			while (p < end && f->hlen < sizeof f->head && *p != '\n')
				f->head[f->hlen++] = *p++;
			if (p == end && f->hlen < sizeof f->head)
				return 0;
			f->in_head = 0;
			if (line_start_bad(f))
				return -1;
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return 0;
		p = nl + 1;
		f->in_head = 1;
		f->hlen = 0;
	}
	return 0;
}

static int feed_sink(void *arg, const void *buf, size_t len)
{
	struct feed *f = arg;
	if (caught) {
		errno = ECANCELED;
		return -1;
	}
	if (f->bad && scan_lines(f, buf, len) < 0) {
		errno = EPROTO;
		return -1;
	}
	if (write_all(f->out_fd, buf, len) < 0)
		return -1;
	f->out += len;
	if (f->prog.active) {
		off_t pos = f->seekable ? lseek(f->in_fd, 0, SEEK_CUR) : -1;
		progress_update(&f->prog, pos >= 0 ? (unsigned long long)pos : f->out);
	}
	return 0;
}

/* Decompress the snapshot into out_fd, checking it against its metadata.
 * DG_OK; DG_INTEGRITY (reported); DG_NO with *werr set when writing failed
 * (not reported), or reported when reading failed; 128 + signal. */
int feed_snapshot(const struct restore_input *in, int out_fd, const char *label,
                  const char *const *bad, int *werr)
{
	struct feed f;
	memset(&f, 0, sizeof f);
	f.bad = bad;
	f.in_head = 1;
	f.out_fd = out_fd;
	f.in_fd = in->fd;
	f.seekable = lseek(in->fd, 0, SEEK_CUR) >= 0;
	progress_start(&f.prog, label, f.seekable ? in->total : 0);
	struct decompress_result res;
	memset(&res, 0, sizeof res);
	feed_fd = in->fd;
	enum decompress_status st = caught ? DECOMP_OK : decompress_fd(in->fd, feed_sink, &f, &res);
	feed_fd = -1;
	progress_end(&f.prog);
	*werr = 0;
	if (caught)
		return 128 + caught;
	if (f.found) {
		error("'%s' switches to another database ('%s'); db-restore loads only dumps of one"
		      " database, as db-snap makes them", in->name, f.found);
		free(f.found);
		return DG_INTEGRITY;
	}
	switch (st) {
	case DECOMP_OK:
		break;
	case DECOMP_CORRUPT:
	case DECOMP_TRUNCATED:
		error("'%s' is damaged: %s", in->name, res.detail);
		return DG_INTEGRITY;
	case DECOMP_READ_ERROR:
		error("cannot read '%s': %s", in->name, strerror(res.err));
		return DG_NO;
	case DECOMP_SINK_ERROR:
		*werr = res.err ? res.err : EIO;
		return DG_NO;
	}
	const struct snapshot_meta *m = in->meta;
	if (m && m->sha256 && *m->sha256 && strcmp(m->sha256, res.sha256) != 0) {
		error("'%s' does not match its metadata: its SHA-256 is %s, the metadata says %s",
		      in->name, res.sha256, m->sha256);
		return DG_INTEGRITY;
	}
	if (m && m->size && res.in_bytes != m->size) {
		error("'%s' does not match its metadata: %llu bytes, the metadata says %llu",
		      in->name, res.in_bytes, m->size);
		return DG_INTEGRITY;
	}
	if (m && m->raw_bytes && res.out_bytes != m->raw_bytes) {
		error("'%s' does not match its metadata: %llu bytes uncompressed, the metadata says %llu",
		      in->name, res.out_bytes, m->raw_bytes);
		return DG_INTEGRITY;
	}
	return DG_OK;
}

/* What a loader said on stderr: the first line naming an error, else the
 * first line; every line with -v. */
static char *loader_message(int fd)
{
	char buf[16384];
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
	if (n <= 0)
		return xstrdup("no message");
	buf[n] = '\0';
	if (msg_verbosity >= 2) {
		char *copy = xstrdup(buf);
		for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			verbose("  %s", line);
		free(copy);
	}
	char *hit = strstr(buf, "ERROR");
	if (!hit)
		hit = strstr(buf, "FATAL");
	if (hit) {
		while (hit > buf && hit[-1] != '\n')
			hit--;
	} else {
		hit = buf;
		while (*hit == '\n')
			hit++;
	}
	size_t len = strcspn(hit, "\n");
	return len ? xstrndup(hit, len) : xstrdup("no message");
}

static const char *client_package(const char *prog)
{
	return strstr(prog, "psql") ? "postgresql-client" : "mariadb-client";
}

/* Run a loader (psql, mariadb) with the decompressed snapshot on its
 * stdin.  DG_OK when it read everything and succeeded; otherwise reported. */
int run_loader(char *const argv[], char *const env[], const struct restore_input *in,
               const char *label, const char *const *bad)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		error("cannot create a pipe:");
		return DG_NO;
	}
	int errfd = memfd_create("db-restore-loader", MFD_CLOEXEC);
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.fd_in = pfd[0];
	so.fd_out = devnull;
	so.fd_err = errfd;
	so.env_add = env;
	pid_t pid;
	int e = spawn_child(argv, &so, &pid);
	close(pfd[0]);
	if (devnull >= 0)
		close(devnull);
	if (e) {
		close(pfd[1]);
		if (errfd >= 0)
			close(errfd);
		if (e == ENOENT)
			error("cannot run '%s': not found; install %s", argv[0], client_package(argv[0]));
		else
			error("cannot run '%s': %s", argv[0], strerror(e));
		return DG_NO;
	}
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	int werr = 0;
	loader_pid = pid;
	int rc = feed_snapshot(in, pfd[1], label, bad, &werr);
	loader_pid = 0;
	/* A loader must never see the end of a stream that was cut short:
	 * psql --single-transaction would commit what it got. */
	if (rc != DG_OK && werr != EPIPE)
		kill(pid, SIGKILL);
	close(pfd[1]);
	if (rc == DG_OK)
		progress_stage("%s: all read; %s builds the indexes and constraints", label ? label : in->name, argv[0]);
	int st = 0;
	wait_child(pid, &st);
	signal(SIGPIPE, old);
	if (rc == DG_OK || (rc == DG_NO && werr)) {
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			char *msg = loader_message(errfd);
			error("%s failed loading '%s': %s", argv[0], in->name, msg);
			free(msg);
			rc = DG_NO;
		} else if (rc == DG_NO) {
			error("%s stopped reading '%s': %s", argv[0], in->name, strerror(werr));
		}
	}
	if (errfd >= 0)
		close(errfd);
	return rc;
}

/* Compare the tables of c with the snapshot's counts.  DG_OK, or DG_NO
 * with every difference reported. */
int compare_counts(struct dbconn *c, const struct snapshot_meta *m, const char *what)
{
	char err[ERRLEN];
	struct table_counts tc;
	progress_stage("counting the rows of %s", what);
	if (db_tables(c, &tc, err, sizeof err) < 0) {
		error("cannot count the rows of %s: %s", what, err);
		return DG_NO;
	}
	long long total = 0;
	for (size_t i = 0; i < tc.n; i++)
		total += tc.v[i].rows;
	if (!m) {
		info("%s has %zu tables, %lld rows (not compared: no metadata)", what, tc.n, total);
		table_counts_free(&tc);
		return DG_OK;
	}
	int bad = 0;
	for (size_t i = 0; i < m->tables.n; i++) {
		const struct table_count *want = &m->tables.v[i];
		size_t k;
		for (k = 0; k < tc.n; k++)
			if (strcmp(tc.v[k].name, want->name) == 0)
				break;
		if (k == tc.n) {
			error("table '%s' is missing from %s (the snapshot has %lld rows)", want->name, what, want->rows);
			bad = 1;
		} else if (tc.v[k].rows != want->rows) {
			error("row count mismatch in table '%s': the snapshot has %lld rows, %s %lld",
			      want->name, want->rows, what, tc.v[k].rows);
			bad = 1;
		} else {
			verbose("  %-30s %lld rows", want->name, want->rows);
		}
	}
	for (size_t k = 0; k < tc.n; k++) {
		size_t i;
		for (i = 0; i < m->tables.n; i++)
			if (strcmp(tc.v[k].name, m->tables.v[i].name) == 0)
				break;
		if (i == m->tables.n) {
			error("table '%s' is in %s but not in the snapshot's metadata", tc.v[k].name, what);
			bad = 1;
		}
	}
	if (!bad)
		verbose("row counts equal to the snapshot's: %zu tables, %lld rows", tc.n, total);
	table_counts_free(&tc);
	return bad ? DG_NO : DG_OK;
}

/* Connect to database db on t's server and compare its counts. */
int counts_of(const struct target *t, const char *db, const struct snapshot_meta *m,
              const char *what)
{
	struct target s;
	copy_with_db(&s, t, db);
	struct dbconn *c;
	char err[ERRLEN];
	int rc = db_connect(&s, &c, err, sizeof err);
	target_free(&s);
	if (rc != DG_OK) {
		error("cannot connect to %s: %s", what, err);
		return rc;
	}
	rc = compare_counts(c, m, what);
	db_close(c);
	return rc;
}

/* ------------------------------------------------------------ time */

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------- the API */

int restore_prepare(const struct target *t, const struct restore_opts *o, int repair)
{
	if (engine_is(t, "sqlite")) {
		lite_cleanup(t, o);
		return DG_OK;
	}
	const char *db = target_get(t, TF_DATABASE);
	if (!db) {
		error("no database name given for %s", target_get(t, TF_ENGINE));
		return DG_USAGE;
	}
	return engine_is(t, "postgres") ? pg_prepare(t, db) : my_prepare(t, o, db, repair);
}

int restore_in_use;

int restore_sessions_found(void)
{
	return restore_in_use;
}

int restore_sessions(const struct target *t, int terminate)
{
	restore_in_use = 0;
	return engine_is(t, "postgres") ? pg_sessions(t, terminate) : DG_OK;
}

static int run(const struct target *t, const struct restore_input *in, const struct restore_opts *o,
               int check_only)
{
	generation++;
	if (engine_is(t, "postgres"))
		return pg_run(t, in, o, check_only);
	if (engine_is(t, "mysql"))
		return my_run(t, in, o, check_only);
	if (engine_is(t, "sqlite"))
		return lite_run(t, in, o, check_only);
	error("cannot restore into a database whose engine is unknown");
	return DG_USAGE;
}

int restore_load(const struct target *t, const struct restore_input *in, const struct restore_opts *o)
{
	return run(t, in, o, 0);
}

int restore_check(const struct target *t, const struct restore_input *in, const struct restore_opts *o)
{
	return run(t, in, o, 1);
}
