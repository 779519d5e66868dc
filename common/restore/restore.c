/* restore.c — see restore.h.  A snapshot is never loaded into the target
 * itself.  PostgreSQL: a scratch database on the same server, swapped with
 * the target by two renames in one transaction.  SQLite: a complete file in
 * the target's directory, renamed over it.  MySQL, which cannot rename a
 * schema: a scratch schema whose tables are moved in by one atomic RENAME
 * TABLE, the unfinished step recorded in the store so that the next run can
 * finish it.  Scratch names end in the pid of their db-restore, so the next
 * run can tell a leftover of a killed run from a restore still running. */
#include "restore/restore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/compress.h"
#include "engine/engine.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/term.h"
#include "base/xalloc.h"

#define ERRLEN 512
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

static void copy_with_db(struct target *dst, const struct target *t, const char *db)
{
	target_copy(dst, t);
	target_set(dst, TF_DATABASE, db, t->src[TF_DATABASE] ? t->src[TF_DATABASE] : "db-restore");
}

static char *name_prefix(const char *db)
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

static char *scratch_name(const char *db, const char *kind)
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
static long name_pid(const char *name)
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
static int restore_running(long pid)
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

/* Query results that may hold any bytes travel hex-encoded: rows separated
 * by ' ', fields by ',', each field 'n' (NULL) or 'v' followed by hex. */
struct rows {
	size_t n, nf;
	char **cell;
};
#define CELL(r, i, f) ((r)->cell[(i) * (r)->nf + (f)])

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

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n * r->nf; i++)
		free(r->cell[i]);
	free(r->cell);
	memset(r, 0, sizeof *r);
}

static int query_rows(struct dbconn *c, const char *sql, size_t nf, struct rows *r,
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

/* The SQL of one encoded field for each engine. */
static char *pgf(const char *expr)
{
	return xasprintf("coalesce('v' || encode(convert_to((%s)::text, 'UTF8'), 'hex'), 'n')", expr);
}

static char *myf(const char *expr)
{
	return xasprintf("IFNULL(CONCAT('v', HEX(%s)), 'n')", expr);
}

/* "concat_ws(',', f(e1), f(e2), ...)" */
static char *fields_sql(char *(*f)(const char *), const char *const exprs[], size_t n)
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
static int feed_snapshot(const struct restore_input *in, int out_fd, const char *label,
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
static int run_loader(char *const argv[], char *const env[], const struct restore_input *in,
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
static int compare_counts(struct dbconn *c, const struct snapshot_meta *m, const char *what)
{
	char err[ERRLEN];
	struct table_counts tc;
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
static int counts_of(const struct target *t, const char *db, const struct snapshot_meta *m,
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

/* ------------------------------------------------------------ PostgreSQL */

struct pginfo {
	int exists;
	char *owner, *encoding, *collate, *ctype, *provider, *locale, *tablespace, *connlimit,
	     *comment, *acl;
};

static void pginfo_free(struct pginfo *p)
{
	free(p->owner), free(p->encoding), free(p->collate), free(p->ctype), free(p->provider);
	free(p->locale), free(p->tablespace), free(p->connlimit), free(p->comment), free(p->acl);
	memset(p, 0, sizeof *p);
}

static int pg_admin(const struct target *t, struct dbconn **c)
{
	char err[ERRLEN];
	const char *db = target_get(t, TF_DATABASE);
	int rc;
	/* One cannot rename the database one is connected to. */
	if (db && strcmp(db, "postgres") == 0) {
		struct target a;
		copy_with_db(&a, t, "template1");
		rc = db_connect(&a, c, err, sizeof err);
		target_free(&a);
	} else {
		rc = db_connect_admin(t, c, err, sizeof err);
	}
	if (rc != DG_OK)
		error("%s", err);
	return rc;
}

static int pg_info(struct dbconn *c, const char *db, struct pginfo *pi, char *err, size_t errlen)
{
	memset(pi, 0, sizeof *pi);
	int major = db_server_major(c);
	const char *exprs[] = {
		"pg_catalog.pg_get_userbyid(d.datdba)", "pg_catalog.pg_encoding_to_char(d.encoding)",
		"d.datcollate", "d.datctype",
		major >= 15 ? "d.datlocprovider" : "NULL",
		major >= 17 ? "d.datlocale" : major >= 15 ? "d.daticulocale" : "NULL",
		"s.spcname", "d.datconnlimit",
		"pg_catalog.shobj_description(d.oid, 'pg_database')", "d.datacl",
	};
	size_t nf = sizeof exprs / sizeof *exprs;
	char *fields = fields_sql(pgf, exprs, nf);
	char *lit = db_quote_literal(c, db);
	char *sql = xasprintf("SELECT %s FROM pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace s"
	                      " ON s.oid = d.dattablespace WHERE d.datname = %s", fields, lit);
	struct rows r;
	int rc = query_rows(c, sql, nf, &r, err, errlen);
	free(fields);
	free(lit);
	free(sql);
	if (rc < 0)
		return -1;
	if (r.n == 1) {
		char **v[] = { &pi->owner, &pi->encoding, &pi->collate, &pi->ctype, &pi->provider,
		               &pi->locale, &pi->tablespace, &pi->connlimit, &pi->comment, &pi->acl };
		for (size_t f = 0; f < nf; f++) {
			*v[f] = CELL(&r, 0, f);
			CELL(&r, 0, f) = NULL;
		}
		pi->exists = 1;
	}
	rows_free(&r);
	return 0;
}

/* A new database name: empty (template0) with the properties of pi, or a
 * copy of clone (a clone snapshot: its files, with its own properties). */
static int pg_create(struct dbconn *c, const char *name, const struct pginfo *pi, int with_owner,
                     const char *clone, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	char *q = db_quote_ident(c, name);
	if (clone) {
		char *qc = db_quote_ident(c, clone);
		sb_addf(&sb, "CREATE DATABASE %s WITH TEMPLATE = %s%s", q, qc,
		        db_server_major(c) >= 15 ? " STRATEGY = FILE_COPY" : "");
		free(qc);
		if (pi->exists && with_owner && pi->owner) {
			char *v = db_quote_ident(c, pi->owner);
			sb_addf(&sb, " OWNER = %s", v);
			free(v);
		}
	} else {
		sb_addf(&sb, "CREATE DATABASE %s WITH TEMPLATE = template0", q);
	}
	free(q);
	if (pi->exists && !clone) {
		char *v;
		if (with_owner && pi->owner) {
			v = db_quote_ident(c, pi->owner);
			sb_addf(&sb, " OWNER = %s", v);
			free(v);
		}
		const char *const keys[] = { "ENCODING", "LC_COLLATE", "LC_CTYPE" };
		const char *const vals[] = { pi->encoding, pi->collate, pi->ctype };
		for (size_t i = 0; i < 3; i++)
			if (vals[i]) {
				v = db_quote_literal(c, vals[i]);
				sb_addf(&sb, " %s = %s", keys[i], v);
				free(v);
			}
		if (pi->provider && pi->locale && (pi->provider[0] == 'i' || pi->provider[0] == 'b')) {
			v = db_quote_literal(c, pi->locale);
			sb_addf(&sb, pi->provider[0] == 'i' ? " LOCALE_PROVIDER = icu ICU_LOCALE = %s"
			                                    : " LOCALE_PROVIDER = builtin BUILTIN_LOCALE = %s", v);
			free(v);
		} else if (pi->provider && pi->provider[0] == 'c') {
			sb_adds(&sb, " LOCALE_PROVIDER = libc");
		}
		if (pi->tablespace && strcmp(pi->tablespace, "pg_default") != 0) {
			v = db_quote_ident(c, pi->tablespace);
			sb_addf(&sb, " TABLESPACE = %s", v);
			free(v);
		}
		if (pi->connlimit && strcmp(pi->connlimit, "-1") != 0)
			sb_addf(&sb, " CONNECTION LIMIT = %d", atoi(pi->connlimit));
	}
	int rc = db_exec(c, sb_str(&sb), err, errlen);
	sb_free(&sb);
	return rc;
}

static void pg_drop(struct dbconn *c, const char *name, int quietly)
{
	char err[ERRLEN];
	char *q = db_quote_ident(c, name);
	/* WITH (FORCE) ends a loader's session still finishing; before 13,
	 * give that session a moment to go. */
	int force = db_server_major(c) >= 13;
	char *sql = xasprintf("DROP DATABASE IF EXISTS %s%s", q, force ? " WITH (FORCE)" : "");
	int rc = -1;
	for (int i = 0; i < (force ? 1 : 20) && rc < 0; i++) {
		if (i)
			usleep(250000);
		rc = db_exec(c, sql, err, sizeof err);
	}
	if (rc < 0 && !quietly)
		warn("cannot drop the database '%s': %s", name, err);
	free(q);
	free(sql);
}

/* Other client sessions on db, one line each; 0 and *list NULL when none. */
static int pg_session_list(struct dbconn *c, const char *db, char **list, char *err, size_t errlen)
{
	char *lit = db_quote_literal(c, db);
	char *sql = xasprintf(
		"SELECT string_agg(format('pid %%s, user %%s, application %%s, from %%s, %%s',"
		" a.pid, coalesce(a.usename, '?'),"
		" coalesce(nullif(translate(a.application_name, E'\\n\\t', '  '), ''), '?'),"
		" coalesce(host(a.client_addr), 'local socket'), coalesce(a.state, '?')), E'\\n' ORDER BY a.pid)"
		" FROM pg_catalog.pg_stat_activity a WHERE a.datname = %s"
		" AND a.pid <> pg_catalog.pg_backend_pid() AND a.backend_type = 'client backend'", lit);
	int rc = db_query_value(c, sql, list, err, errlen);
	free(lit);
	free(sql);
	return rc;
}

static void report_sessions(const char *db, const char *list, int terminate)
{
	size_t n = 1;
	for (const char *p = list; *p; p++)
		n += *p == '\n';
	if (terminate)
		warn("'%s' has %zu other session%s open; ending %s (--terminate-connections)",
		     db, n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
	else
		error("'%s' has %zu other session%s open", db, n, n == 1 ? "" : "s");
	char *copy = xstrdup(list);
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (terminate)
			warn("  %s", line);
		else
			error("  %s", line);
	free(copy);
}

/* Database-level properties a restore must keep: the comment (and with it
 * the dbguard marker), privileges and settings.  pg_dump leaves them out of
 * a plain dump, so the scratch database gets the target's. */
static void pg_copy_properties(struct dbconn *c, const char *target, const char *scratch,
                               const struct pginfo *pi)
{
	char err[ERRLEN];
	char *qs = db_quote_ident(c, scratch);
	if (pi->comment) {
		char *lit = db_quote_literal(c, pi->comment);
		char *sql = xasprintf("COMMENT ON DATABASE %s IS %s", qs, lit);
		if (db_exec(c, sql, err, sizeof err) < 0)
			warn("cannot keep the comment (and marker) of '%s': %s", target, err);
		free(lit);
		free(sql);
	}
	char *lit = db_quote_literal(c, target);
	if (pi->acl) {
		const char *exprs[] = { "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END",
		                        "a.privilege_type", "CASE WHEN a.is_grantable THEN 'y' ELSE '' END" };
		char *fields = fields_sql(pgf, exprs, 3);
		char *sql = xasprintf("SELECT string_agg(%s, ' ') FROM pg_catalog.pg_database d,"
		                      " pg_catalog.aclexplode(d.datacl) a WHERE d.datname = %s", fields, lit);
		struct rows r;
		if (query_rows(c, sql, 3, &r, err, sizeof err) == 0) {
			char *rev = xasprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", qs);
			db_exec(c, rev, NULL, 0);
			free(rev);
			for (size_t i = 0; i < r.n; i++) {
				const char *who = CELL(&r, i, 0), *priv = CELL(&r, i, 1), *grant = CELL(&r, i, 2);
				if (!who || !priv)
					continue;
				char *qw = strcmp(who, "PUBLIC") == 0 ? xstrdup("PUBLIC") : db_quote_ident(c, who);
				char *g = xasprintf("GRANT %s ON DATABASE %s TO %s%s", priv, qs, qw,
				                    grant && *grant ? " WITH GRANT OPTION" : "");
				if (db_exec(c, g, err, sizeof err) < 0)
					warn("cannot keep the privilege %s of %s on '%s': %s", priv, who, target, err);
				free(qw);
				free(g);
			}
			rows_free(&r);
		} else {
			warn("cannot read the privileges on '%s': %s", target, err);
		}
		free(fields);
		free(sql);
	}
	char *f = pgf("s.c");
	char *sql = xasprintf("SELECT string_agg(%s, ' ') FROM pg_catalog.pg_db_role_setting r"
	                      " JOIN pg_catalog.pg_database d ON d.oid = r.setdatabase,"
	                      " unnest(r.setconfig) s(c) WHERE r.setrole = 0 AND d.datname = %s", f, lit);
	struct rows r;
	if (query_rows(c, sql, 1, &r, err, sizeof err) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			char *setting = CELL(&r, i, 0);
			char *eq = setting ? strchr(setting, '=') : NULL;
			if (!eq)
				continue;
			*eq = '\0';
			char *qn = db_quote_ident(c, setting);
			struct strbuf v = STRBUF_INIT;
			/* List settings are stored as "a, b"; each element is its own literal. */
			int list = !strcmp(setting, "search_path") || !strcmp(setting, "temp_tablespaces") ||
			           strstr(setting, "preload_libraries");
			if (list) {
				char *copy = xstrdup(eq + 1);
				for (char *save = NULL, *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
					while (*e == ' ')
						e++;
					size_t n = strlen(e);
					if (n >= 2 && e[0] == '"' && e[n - 1] == '"') {
						e[n - 1] = '\0';
						e++;
					}
					char *l = db_quote_literal(c, e);
					sb_addf(&v, "%s%s", v.len ? ", " : "", l);
					free(l);
				}
				free(copy);
			} else {
				char *l = db_quote_literal(c, eq + 1);
				sb_adds(&v, l);
				free(l);
			}
			char *alter = xasprintf("ALTER DATABASE %s SET %s TO %s", qs, qn, sb_str(&v));
			if (db_exec(c, alter, err, sizeof err) < 0)
				warn("cannot keep the setting %s of '%s': %s", setting, target, err);
			free(alter);
			free(qn);
			sb_free(&v);
		}
		rows_free(&r);
	} else {
		warn("cannot read the settings of '%s': %s", target, err);
	}
	free(f);
	free(sql);
	free(lit);
	free(qs);
}

static char *pg_program(const char *name, int major)
{
	char *p = xasprintf("/usr/lib/postgresql/%d/bin/%s", major, name);
	if (major > 0 && access(p, X_OK) == 0)
		return p;
	free(p);
	return xstrdup(name);
}

static int pg_load(const struct target *t, const char *scratch, const struct restore_input *in, int major)
{
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	sv_push_owned(&argv, pg_program("psql", major));
	sv_push(&argv, "-X");
	sv_push(&argv, "-q");
	sv_push(&argv, "-v");
	sv_push(&argv, "ON_ERROR_STOP=1");
	sv_push(&argv, "--single-transaction");
	char *cleanup = NULL, err[ERRLEN];
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("%s", err);
		sv_free(&argv);
		sv_free(&env);
		return DG_NO;
	}
	/* The name goes through the environment: psql would read a "-d" that
	 * looks like a connection string as one. */
	sv_pushf(&env, "PGDATABASE=%s", scratch);
	sv_push(&env, "PGAPPNAME=dbguard-restore");
	char *label = xasprintf("restoring %s", target_get(t, TF_DATABASE));
	static const char *const bad[] = { "\\connect", "\\c ", "\\!", NULL };
	int rc = run_loader(sv_argv(&argv), sv_argv(&env), in, label, bad);
	free(label);
	db_client_cleanup(cleanup);
	sv_free(&argv);
	sv_free(&env);
	return rc;
}

/* The swap: one transaction renaming the target away and the scratch
 * database in.  0, or -1 with err. */
static int pg_swap(struct dbconn *c, const char *db, const char *scratch, const char *old,
                   int exists, int terminate, char *err, size_t errlen)
{
	char *qd = db_quote_ident(c, db), *qs = db_quote_ident(c, scratch), *qo = db_quote_ident(c, old);
	char *lit = db_quote_literal(c, db);
	char *kill = xasprintf("SELECT count(pg_catalog.pg_terminate_backend(pid%s))"
	                       " FROM pg_catalog.pg_stat_activity WHERE datname = %s"
	                       " AND pid <> pg_catalog.pg_backend_pid()",
	                       db_server_major(c) >= 14 ? ", 5000" : "", lit);
	char *away = xasprintf("ALTER DATABASE %s RENAME TO %s", qd, qo);
	char *in = xasprintf("ALTER DATABASE %s RENAME TO %s", qs, qd);
	int rc = -1;
	/* A session may arrive between ending the others and the rename. */
	for (int attempt = 0; attempt < 3 && rc < 0; attempt++) {
		if (attempt)
			db_exec(c, "ROLLBACK", NULL, 0);
		if (db_exec(c, "BEGIN", err, errlen) < 0)
			break;
		if ((exists && terminate && db_exec(c, kill, err, errlen) < 0) ||
		    (exists && db_exec(c, away, err, errlen) < 0) ||
		    db_exec(c, in, err, errlen) < 0)
			continue;
		if (db_exec(c, "COMMIT", err, errlen) == 0)
			rc = 0;
		if (!terminate)
			break;
	}
	if (rc < 0)
		db_exec(c, "ROLLBACK", NULL, 0);
	free(qd), free(qs), free(qo), free(lit), free(kill), free(away), free(in);
	return rc;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int pg_run(const struct target *t, const struct restore_input *in,
                  const struct restore_opts *o, int check_only)
{
	struct dbconn *c;
	int rc = pg_admin(t, &c);
	if (rc != DG_OK)
		return rc;
	char err[ERRLEN];
	const char *db = target_get(t, TF_DATABASE);
	int major = db_server_major(c);
	struct pginfo pi;
	if (pg_info(c, db, &pi, err, sizeof err) < 0) {
		error("cannot read the properties of '%s': %s", db, err);
		db_close(c);
		return DG_NO;
	}
	char *scratch = scratch_name(db, "restore");
	char *old = NULL;
	/* A clone snapshot is copied by the server itself, from the clone,
	 * which stays for the next restore. */
	const char *clone = in->meta && store_meta_is_clone(in->meta) ? in->meta->clone : NULL;
	if (clone && (in->meta->port != target_port(t) ||
	              strcmp(in->meta->host ? in->meta->host : "", target_host(t) ? target_host(t) : ""))) {
		error("'%s' is a clone on the server %s:%d, not on this one; db-snap --export writes its "
		      "portable dump", in->name, in->meta->host, in->meta->port);
		rc = DG_USAGE;
		goto out;
	}
	if (pg_create(c, scratch, &pi, 1, clone, err, sizeof err) < 0) {
		if (pi.exists && pi.owner && strstr(err, "must be")) {
			warn("cannot give the restored database the owner '%s' (%s); it will be owned by the"
			     " connecting user", pi.owner, err);
			rc = pg_create(c, scratch, &pi, 0, clone, err, sizeof err) < 0 ? DG_NO : DG_OK;
		} else {
			rc = DG_NO;
		}
		if (rc != DG_OK) {
			error("cannot create the scratch database '%s': %s", scratch, err);
			goto out;
		}
	}
	if (clone) {
		verbose("copied the clone '%s' into the scratch database '%s'", clone, scratch);
		rc = DG_OK;
	} else {
		verbose("loading '%s' into the scratch database '%s'", in->name, scratch);
		rc = pg_load(t, scratch, in, major);
	}
	if (rc == DG_OK)
		rc = counts_of(t, scratch, in->meta, "the restored database");
	if (rc == DG_OK && caught)
		rc = 128 + caught;
	if (rc != DG_OK || check_only) {
		pg_drop(c, scratch, 0);
		goto out;
	}
	pg_copy_properties(c, db, scratch, &pi);

	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", gmtime_r(&now, &tm));
	if (o->keep_old) {
		char *p = name_prefix(db);
		old = xasprintf("%s_old_%s", p, stamp);
		free(p);
	} else {
		old = scratch_name(db, "old");
	}
	double t0 = now_seconds();
	/* From here the restore runs to its end: a signal only ends the run after. */
	if (pg_swap(c, db, scratch, old, pi.exists, o->terminate_connections, err, sizeof err) < 0) {
		if (strstr(err, "being accessed by other users")) {
			char *list = NULL, e2[ERRLEN];
			if (pg_session_list(c, db, &list, e2, sizeof e2) == 0 && list)
				report_sessions(db, list, 0);
			free(list);
			error("'%s' is in use; close its sessions or use --terminate-connections", db);
		} else {
			error("cannot swap the restored database in for '%s': %s", db, err);
		}
		pg_drop(c, scratch, 0);
		rc = DG_NO;
		goto out;
	}
	verbose("swapped '%s' in for '%s' in %.3f s", scratch, db, now_seconds() - t0);
	if (!pi.exists)
		;
	else if (o->keep_old)
		info("the replaced database is kept as '%s'", old);
	else
		pg_drop(c, old, 0);
	rc = DG_OK;
out:
	pginfo_free(&pi);
	free(scratch);
	free(old);
	db_close(c);
	return rc;
}

static void pg_cleanup(struct dbconn *c, const char *db)
{
	char err[ERRLEN];
	char *pat = scratch_pattern(db);
	char *lit = db_quote_literal(c, pat);
	char *f = pgf("datname");
	char *sql = xasprintf("SELECT string_agg(%s, ' ') FROM pg_catalog.pg_database WHERE datname LIKE %s",
	                      f, lit);
	struct rows r;
	if (query_rows(c, sql, 1, &r, err, sizeof err) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const char *name = CELL(&r, i, 0);
			if (!name || restore_running(name_pid(name)))
				continue;
			info("removing '%s', left by an interrupted db-restore", name);
			pg_drop(c, name, 0);
		}
		rows_free(&r);
	} else {
		warn("cannot look for leftovers of interrupted restores: %s", err);
	}
	free(pat);
	free(lit);
	free(f);
	free(sql);
}

/* ---------------------------------------------------------------- SQLite */

static mode_t default_mode(void)
{
	mode_t m = umask(022);
	umask(m);
	return 0666 & ~m;
}

static int lite_query(struct dbconn *c, const char *sql, char **v)
{
	*v = NULL;
	return db_query_value(c, sql, v, NULL, 0);
}

static int lite_run(const struct target *t, const struct restore_input *in,
                    const struct restore_opts *o, int check_only)
{
	const char *path = target_get(t, TF_DATABASE);
	char err[ERRLEN];
	if (!path || strcmp(path, ":memory:") == 0) {
		error("cannot restore into an in-memory SQLite database");
		return DG_USAGE;
	}
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		error("'%s' is not a regular file", path);
		return DG_NO;
	}
	if (!exists && errno != ENOENT) {
		error("cannot read '%s':", path);
		return DG_UNREACHABLE;
	}
	char *tmp;
	if (check_only) {
		const char *dir = o->store;
		struct stat ds;
		if (!dir || stat(dir, &ds) < 0 || !S_ISDIR(ds.st_mode) || access(dir, W_OK) < 0)
			dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		char *name = xasprintf(".dbguard-check.%ld.sqlite", (long)getpid());
		tmp = path_join(dir, name);
		free(name);
	} else {
		char *dir = path_dir(path), *base = path_base(path);
		tmp = xasprintf("%s/.%s.dbguard-restore.%ld", dir, base, (long)getpid());
		free(dir);
		free(base);
	}

	/* The target as it is: its marker, and its journal mode to keep. */
	struct dbconn *tc = NULL;
	char *marker = NULL, *mode = NULL;
	int target_wal = 0;
	if (exists && !check_only) {
		int r = db_connect(t, &tc, err, sizeof err);
		if (r == DG_UNREACHABLE) {
			error("%s", err);
			free(tmp);
			return r;
		}
		if (r != DG_OK) {
			warn("%s; replacing it all the same", err);
			tc = NULL;
		} else {
			if (db_marker_read(tc, &marker, err, sizeof err) < 0)
				warn("cannot read the marker of '%s': %s", path, err);
			lite_query(tc, "PRAGMA journal_mode", &mode);
			target_wal = mode && strcasecmp(mode, "wal") == 0;
			free(mode);
			mode = NULL;
		}
	}

	int rc = DG_NO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		error("cannot create '%s':", tmp);
		goto out;
	}
	if (!check_only) {
		if (fchmod(fd, exists ? st.st_mode & 07777 : default_mode()) < 0)
			warn("cannot set the mode of '%s':", tmp);
		if (exists && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
			warn("cannot give '%s' the owner of '%s':", tmp, path);
	}
	int werr = 0;
	char *base = path_base(path);
	char *label = xasprintf("restoring %s", base);
	rc = feed_snapshot(in, fd, label, NULL, &werr);
	free(label);
	free(base);
	if (rc == DG_NO && werr) {
		errno = werr;
		error("cannot write '%s':", tmp);
	}
	if (close(fd) < 0 && rc == DG_OK) {
		error("cannot write '%s':", tmp);
		rc = DG_NO;
	}
	if (rc != DG_OK)
		goto out_unlink;

	struct target nt;
	copy_with_db(&nt, t, tmp);
	struct dbconn *nc;
	int r = db_connect(&nt, &nc, err, sizeof err);
	target_free(&nt);
	if (r != DG_OK) {
		error("'%s' does not hold a usable SQLite database: %s", in->name, err);
		rc = DG_INTEGRITY;
		goto out_unlink;
	}
	char *ok = NULL;
	if (db_query_value(nc, "PRAGMA integrity_check", &ok, err, sizeof err) < 0 || !ok || strcmp(ok, "ok")) {
		error("the restored database fails PRAGMA integrity_check: %s", ok ? ok : err);
		free(ok);
		db_close(nc);
		rc = DG_INTEGRITY;
		goto out_unlink;
	}
	free(ok);
	rc = compare_counts(nc, in->meta, "the restored database");
	if (rc == DG_OK && !check_only) {
		if (db_marker_write(nc, marker, err, sizeof err) < 0) {
			error("cannot keep the marker of '%s': %s", path, err);
			rc = DG_NO;
		}
		/* The journal mode is a property of the file: keep the target's. */
		lite_query(nc, "PRAGMA journal_mode", &mode);
		int snap_wal = mode && strcasecmp(mode, "wal") == 0;
		free(mode);
		mode = NULL;
		if (exists && snap_wal != target_wal) {
			lite_query(nc, target_wal ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode = DELETE", &mode);
			free(mode);
			mode = NULL;
		}
	}
	db_close(nc);
	if (rc != DG_OK || check_only)
		goto out_unlink;
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		error("cannot write '%s':", tmp);
		if (fd >= 0)
			close(fd);
		rc = DG_NO;
		goto out_unlink;
	}
	close(fd);
	if (caught) {
		rc = 128 + caught;
		goto out_unlink;
	}

	/* No stale write-ahead log may be replayed over the new file: the
	 * target leaves WAL mode (which checkpoints and removes its log, and
	 * needs every other connection gone), and is locked while renamed. */
	int left_wal = 0;
	if (tc) {
		if (target_wal) {
			lite_query(tc, "PRAGMA journal_mode = DELETE", &mode);
			left_wal = mode && strcasecmp(mode, "delete") == 0;
			free(mode);
			mode = NULL;
		}
		if ((target_wal && !left_wal) || db_exec(tc, "BEGIN EXCLUSIVE", err, sizeof err) < 0) {
			if (left_wal)
				lite_query(tc, "PRAGMA journal_mode = WAL", &mode);
			free(mode);
			mode = NULL;
			error("'%s' is in use by another process; stop it and run db-restore again", path);
			rc = DG_NO;
			goto out_unlink;
		}
	}
	if (rename(tmp, path) < 0) {
		error("cannot rename '%s' to '%s':", tmp, path);
		if (tc) {
			db_exec(tc, "ROLLBACK", NULL, 0);
			if (left_wal)
				lite_query(tc, "PRAGMA journal_mode = WAL", &mode);
			free(mode);
		}
		rc = DG_NO;
		goto out_unlink;
	}
	const char *const sfx[] = { "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 3; i++) {
		char *p = xasprintf("%s%s", path, sfx[i]);
		if (unlink(p) < 0 && errno != ENOENT)
			warn("cannot remove '%s':", p);
		free(p);
	}
	if (fsync_dir_of(path) < 0)
		warn("cannot sync the directory of '%s':", path);
	if (tc)
		db_exec(tc, "ROLLBACK", NULL, 0);
	rc = DG_OK;
	goto out;
out_unlink:
	unlink(tmp);
out:
	db_close(tc);
	free(marker);
	free(tmp);
	return rc;
}

static void lite_cleanup_dir(const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	size_t pl = strlen(prefix), sl = strlen(suffix);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= pl + sl || strncmp(e->d_name, prefix, pl) || strcmp(e->d_name + n - sl, suffix))
			continue;
		char *pidpart = xstrndup(e->d_name, n - sl);
		long pid = name_pid(pidpart);
		free(pidpart);
		if (pid <= 0 || restore_running(pid))
			continue;
		char *p = path_join(dir, e->d_name);
		info("removing '%s', left by an interrupted db-restore", p);
		if (unlink(p) < 0)
			warn("cannot remove '%s':", p);
		free(p);
	}
	closedir(d);
}

static void lite_cleanup(const struct target *t, const struct restore_opts *o)
{
	const char *path = target_get(t, TF_DATABASE);
	if (path && strcmp(path, ":memory:")) {
		char *dir = path_dir(path), *base = path_base(path);
		char *prefix = xasprintf(".%s.dbguard-restore.", base);
		lite_cleanup_dir(dir, prefix, "");
		free(prefix);
		free(dir);
		free(base);
	}
	if (o->store)
		lite_cleanup_dir(o->store, ".dbguard-check.", ".sqlite");
}

/* ----------------------------------------------------------------- MySQL */

struct ddl {
	char *kind;      /* PROCEDURE FUNCTION VIEW TRIGGER EVENT */
	char *name;
	char *sql_mode;  /* NULL for views */
	char *tz;        /* events */
	char *create;
	char *cs, *coll; /* the client character set and collation it was made with */
};

struct ddl_list {
	struct ddl *v;
	size_t n;
};

static void ddl_free(struct ddl_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].kind), free(l->v[i].name), free(l->v[i].sql_mode);
		free(l->v[i].tz), free(l->v[i].create), free(l->v[i].cs), free(l->v[i].coll);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Every object of the connection's database: kind, name, and for all but
 * tables the character set and collation of the client that made it. */
static const char my_objects_sql[] =
	"SELECT GROUP_CONCAT(CONCAT_WS(',', CONCAT('v', HEX(k)), CONCAT('v', HEX(n)),"
	" IFNULL(CONCAT('v', HEX(cs)), 'n'), IFNULL(CONCAT('v', HEX(co)), 'n')) ORDER BY o, s SEPARATOR ' ')"
	" FROM (SELECT 1 AS o, 0 AS s, ROUTINE_TYPE AS k, ROUTINE_NAME AS n, CHARACTER_SET_CLIENT AS cs,"
	"  COLLATION_CONNECTION AS co FROM information_schema.ROUTINES"
	"  WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')"
	" UNION ALL SELECT 2, 0, 'VIEW', TABLE_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION"
	"  FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
	" UNION ALL SELECT 3, ACTION_ORDER, 'TRIGGER', TRIGGER_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION"
	"  FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"
	" UNION ALL SELECT 4, 0, 'EVENT', EVENT_NAME, CHARACTER_SET_CLIENT, COLLATION_CONNECTION"
	"  FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
	" UNION ALL SELECT 5, 0, 'TABLE', TABLE_NAME, NULL, NULL FROM information_schema.TABLES"
	"  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE')) x";

/* Every object of the connection's database: kind and name. */
static int my_objects(struct dbconn *c, struct rows *r, char *err, size_t errlen)
{
	if (db_exec(c, "SET SESSION group_concat_max_len = 4294967295", err, errlen) < 0)
		return -1;
	return query_rows(c, my_objects_sql, 4, r, err, errlen);
}

static int my_connect_db(const struct target *t, const char *db, struct dbconn **c)
{
	struct target s;
	copy_with_db(&s, t, db);
	char err[ERRLEN];
	int rc = db_connect(&s, c, err, sizeof err);
	target_free(&s);
	if (rc != DG_OK)
		error("%s", err);
	return rc;
}

/* Run SHOW CREATE for the objects objs[idx[k]] whose client character set
 * is cs, through the mariadb client with that character set (so the text
 * comes back as the bytes it was made of), each row on one line of its
 * batch output.  Fills out->v[k] for those.  0 or -1 (reported). */
static int my_fetch_group(const struct target *t, const char *db, const struct rows *objs,
                          const size_t *idx, size_t n, const char *cs, struct ddl_list *out)
{
	struct strbuf stmts = STRBUF_INIT;
	for (size_t k = 0; k < n; k++) {
		const char *c = CELL(objs, idx[k], 2);
		if (out->v[k].kind || strcmp(c ? c : "", cs))
			continue;
		struct strbuf q = STRBUF_INIT;
		sb_addc(&q, '`');
		for (const char *p = CELL(objs, idx[k], 1); *p; p++) {
			if (*p == '`')
				sb_addc(&q, '`');
			sb_addc(&q, *p);
		}
		sb_addc(&q, '`');
		sb_addf(&stmts, "SHOW CREATE %s %s;\n", CELL(objs, idx[k], 0), sb_str(&q));
		sb_free(&q);
	}
	const char *const names[] = { "mariadb", "mysql", NULL };
	char *prog = find_on_path(names);
	if (!prog) {
		error("cannot run 'mariadb': not found; install mariadb-client");
		sb_free(&stmts);
		return -1;
	}
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	sv_push_owned(&argv, prog);
	char *cleanup = NULL, err[ERRLEN];
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("%s", err);
		sv_free(&argv);
		sv_free(&env);
		sb_free(&stmts);
		return -1;
	}
	sv_push(&argv, "--batch");
	sv_push(&argv, "--skip-column-names");
	sv_pushf(&argv, "--default-character-set=%s", *cs ? cs : "utf8mb4");
	sv_pushf(&argv, "--database=%s", db);
	sv_push(&argv, "-e");
	sv_push(&argv, sb_str(&stmts));
	char *text = NULL;
	int st = run_capture(sv_argv(&argv), sv_argv(&env), -1, &text, NULL);
	db_client_cleanup(cleanup);
	sv_free(&argv);
	sv_free(&env);
	sb_free(&stmts);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		error("cannot read the definitions of the views, triggers and routines of '%s'", db);
		free(text);
		return -1;
	}
	char *save = NULL;
	char *line = strtok_r(text, "\n", &save);
	for (size_t k = 0; k < n; k++) {
		const char *c = CELL(objs, idx[k], 2);
		if (out->v[k].kind || strcmp(c ? c : "", cs))
			continue;
		const char *kind = CELL(objs, idx[k], 0);
		char *f[8];
		int nf = line ? tsv_split(line, f, 8) : 0;
		/* Columns: VIEW name, create, ...; TRIGGER/PROCEDURE/FUNCTION name,
		 * sql_mode, create, ...; EVENT name, sql_mode, time_zone, create, ... */
		int is_view = strcmp(kind, "VIEW") == 0, is_event = strcmp(kind, "EVENT") == 0;
		int ci = is_view ? 1 : is_event ? 3 : 2;
		if (nf <= ci || strcmp(f[ci], "NULL") == 0) {
			error("cannot read the definition of %s '%s' in '%s'", kind, CELL(objs, idx[k], 1), db);
			free(text);
			return -1;
		}
		struct ddl *d = &out->v[k];
		d->kind = xstrdup(kind);
		d->name = xstrdup(CELL(objs, idx[k], 1));
		d->sql_mode = is_view ? NULL : xstrdup(f[1]);
		d->tz = is_event ? xstrdup(f[2]) : NULL;
		d->create = xstrdup(f[ci]);
		d->cs = xstrdup(c);
		d->coll = xstrdup(CELL(objs, idx[k], 3));
		line = strtok_r(NULL, "\n", &save);
	}
	free(text);
	return 0;
}

/* The definitions of db's routines, views, triggers and events, as SHOW
 * CREATE gives them with db the current database (so without its name in
 * them), in the order they are to be made. */
static int my_fetch_ddl(const struct target *t, const char *db, const struct rows *objs,
                        struct ddl_list *out)
{
	memset(out, 0, sizeof *out);
	size_t *idx = xcalloc(objs->n + 1, sizeof *idx), n = 0;
	for (size_t i = 0; i < objs->n; i++)
		if (CELL(objs, i, 0) && CELL(objs, i, 1) && strcmp(CELL(objs, i, 0), "TABLE"))
			idx[n++] = i;
	out->v = xcalloc(n + 1, sizeof *out->v);
	out->n = n;
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++)
		if (!out->v[k].kind) {
			const char *cs = CELL(objs, idx[k], 2);
			rc = my_fetch_group(t, db, objs, idx, n, cs ? cs : "", out);
		}
	free(idx);
	if (rc < 0)
		ddl_free(out);
	return rc;
}

static int my_create_one(struct dbconn *c, const struct ddl *d, char *err, size_t errlen)
{
	int rc = 0;
	if (d->sql_mode) {
		char *lit = db_quote_literal(c, d->sql_mode);
		char *sql = xasprintf("SET SESSION sql_mode = %s", lit);
		rc = db_exec(c, sql, err, errlen);
		free(lit);
		free(sql);
	}
	if (rc == 0 && d->tz) {
		char *lit = db_quote_literal(c, d->tz);
		char *sql = xasprintf("SET SESSION time_zone = %s", lit);
		rc = db_exec(c, sql, err, errlen);
		free(lit);
		free(sql);
	}
	/* Made again with the character set it was made with, from the bytes
	 * fetched in that character set: the same definition, byte for byte. */
	if (rc == 0 && d->cs && d->coll) {
		char *cs = db_quote_literal(c, d->cs), *coll = db_quote_literal(c, d->coll);
		char *sql = xasprintf("SET SESSION character_set_client = %s, character_set_results = %s,"
		                      " collation_connection = %s", cs, cs, coll);
		rc = db_exec(c, sql, err, errlen);
		free(cs);
		free(coll);
		free(sql);
	}
	if (rc == 0)
		rc = db_exec(c, d->create, err, errlen);
	db_exec(c, "SET NAMES utf8mb4", NULL, 0);
	db_exec(c, "SET SESSION sql_mode = @dbguard_sql_mode, time_zone = @dbguard_time_zone", NULL, 0);
	return rc;
}

/* Create the objects in the connection's database: routines, then views
 * (again and again while a view waits for another), triggers, events. */
static int my_create_objects(struct dbconn *c, const struct ddl_list *l, char *err, size_t errlen)
{
	db_exec(c, "SET @dbguard_sql_mode = @@SESSION.sql_mode, @dbguard_time_zone = @@SESSION.time_zone", NULL, 0);
	const char *const order[] = { "PROCEDURE", "FUNCTION", "VIEW", "TRIGGER", "EVENT" };
	for (size_t k = 0; k < 5; k++) {
		char *done = xcalloc(l->n + 1, 1);
		int progress = 1, left = 1;
		while (progress && left) {
			progress = left = 0;
			for (size_t i = 0; i < l->n; i++) {
				if (done[i] || strcmp(l->v[i].kind, order[k]))
					continue;
				if (my_create_one(c, &l->v[i], err, errlen) == 0) {
					done[i] = 1;
					progress = 1;
				} else {
					left = 1;
				}
			}
			if (strcmp(order[k], "VIEW") != 0)
				break;
		}
		free(done);
		if (left)
			return -1;
	}
	return 0;
}

static char *my_ident(struct dbconn *c, const char *a, const char *b)
{
	char *qa = db_quote_ident(c, a), *qb = b ? db_quote_ident(c, b) : NULL;
	char *r = qb ? xasprintf("%s.%s", qa, qb) : xstrdup(qa);
	free(qa);
	free(qb);
	return r;
}

static char *state_path(const struct restore_opts *o)
{
	return o->store && o->dbkey ? xasprintf("%s/.restore-%s.state", o->store, o->dbkey) : NULL;
}

static char *abs_path(const char *p)
{
	if (!p)
		return NULL;
	char *r = realpath(p, NULL);
	return r ? r : xstrdup(p);
}

static void state_write(const struct restore_opts *o, const struct target *t, const char *scratch,
                        const char *old)
{
	char *path = state_path(o);
	if (!path)
		return;
	char *snap = abs_path(o->snapshot_path), *safety = abs_path(o->safety_path);
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "format=dbguard-restore-state-1\nengine=mysql\n");
	sb_addf(&sb, "host=%s\nport=%d\ndatabase=%s\nscratch=%s\nold=%s\nsnapshot=%s\nsafety=%s\n",
	        target_host(t), target_port(t), target_get(t, TF_DATABASE), scratch, old,
	        snap ? snap : "", safety ? safety : "");
	if (atomic_write_file(path, sb.buf, sb.len, 0600) < 0)
		warn("cannot record the restore in '%s':", path);
	sb_free(&sb);
	free(snap);
	free(safety);
	free(path);
}

static void state_remove(const struct restore_opts *o)
{
	char *path = state_path(o);
	if (path && unlink(path) == 0)
		fsync_dir_of(path);
	free(path);
}

static int my_put_back(const struct target *t, const struct restore_opts *o, const char *old);

/* Replace the target's objects by the scratch schema's.  0 or -1 (reported). */
static int my_replace(const struct target *t, struct dbconn *adm, const char *db, const char *scratch,
                      const char *old, const char *charset_sql, const struct restore_opts *o)
{
	char err[ERRLEN];
	struct dbconn *sc = NULL, *tc = NULL;
	struct rows sobj = { 0 }, tobj = { 0 };
	struct ddl_list ddl = { 0 };
	int rc = -1;
	if (my_connect_db(t, scratch, &sc) != DG_OK)
		return -1;
	if (my_objects(sc, &sobj, err, sizeof err) < 0) {
		error("cannot list the objects of '%s': %s", scratch, err);
		goto out;
	}
	if (my_fetch_ddl(t, scratch, &sobj, &ddl) < 0)
		goto out;
	if (my_connect_db(t, db, &tc) != DG_OK)
		goto out;
	if (my_objects(tc, &tobj, err, sizeof err) < 0) {
		error("cannot list the objects of '%s': %s", db, err);
		goto out;
	}

	/* From the first change to the target until the end, the store holds
	 * a record of this restore, so that the next run can finish it. */
	state_write(o, t, scratch, old);
	db_exec(tc, "SET SESSION FOREIGN_KEY_CHECKS = 0", NULL, 0);
	db_exec(sc, "SET SESSION FOREIGN_KEY_CHECKS = 0", NULL, 0);
	/* Tables with triggers cannot change schema; views of the target
	 * would stand in the way of the scratch tables' names. */
	struct strbuf sql = STRBUF_INIT;
	for (size_t i = 0; i < tobj.n; i++) {
		const char *kind = CELL(&tobj, i, 0), *name = CELL(&tobj, i, 1);
		if (!kind || !name || strcmp(kind, "TABLE") == 0)
			continue;
		char *q = my_ident(tc, name, NULL);
		sb_reset(&sql);
		sb_addf(&sql, "DROP %s IF EXISTS %s", kind, q);
		free(q);
		if (db_exec(tc, sb_str(&sql), err, sizeof err) < 0) {
			error("cannot drop %s '%s' of '%s': %s", kind, name, db, err);
			sb_free(&sql);
			goto fail;
		}
	}
	for (size_t i = 0; i < sobj.n; i++) {
		const char *kind = CELL(&sobj, i, 0), *name = CELL(&sobj, i, 1);
		if (!kind || !name || strcmp(kind, "TRIGGER"))
			continue;
		char *q = my_ident(sc, name, NULL);
		sb_reset(&sql);
		sb_addf(&sql, "DROP TRIGGER %s", q);
		free(q);
		if (db_exec(sc, sb_str(&sql), err, sizeof err) < 0) {
			error("cannot drop trigger '%s' of '%s': %s", name, scratch, err);
			sb_free(&sql);
			goto fail;
		}
	}
	char *qo = my_ident(adm, old, NULL);
	sb_reset(&sql);
	sb_addf(&sql, "CREATE DATABASE %s%s", qo, charset_sql);
	free(qo);
	if (db_exec(adm, sb_str(&sql), err, sizeof err) < 0) {
		error("cannot create the schema '%s': %s", old, err);
		sb_free(&sql);
		goto fail;
	}
	/* One statement moves every table: MariaDB renames all or none. */
	sb_reset(&sql);
	sb_adds(&sql, "RENAME TABLE ");
	size_t moves = 0;
	for (int side = 0; side < 2; side++) {
		const struct rows *r = side ? &sobj : &tobj;
		const char *from = side ? scratch : db, *to = side ? db : old;
		for (size_t i = 0; i < r->n; i++) {
			const char *kind = CELL(r, i, 0), *name = CELL(r, i, 1);
			if (!kind || !name || strcmp(kind, "TABLE"))
				continue;
			char *a = my_ident(adm, from, name), *b = my_ident(adm, to, name);
			sb_addf(&sql, "%s%s TO %s", moves++ ? ", " : "", a, b);
			free(a);
			free(b);
		}
	}
	double t0 = now_seconds();
	if (moves && db_exec(adm, sb_str(&sql), err, sizeof err) < 0) {
		error("cannot move the restored tables into '%s': %s", db, err);
		sb_free(&sql);
		goto fail;
	}
	sb_free(&sql);
	verbose("moved %zu tables in %.3f s", moves, now_seconds() - t0);
	if (my_create_objects(tc, &ddl, err, sizeof err) < 0) {
		error("cannot create the views, triggers and routines of the snapshot in '%s': %s", db, err);
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	rc = my_put_back(t, o, old) == DG_OK ? -2 : -1;
out:
	rows_free(&sobj);
	rows_free(&tobj);
	ddl_free(&ddl);
	db_close(sc);
	db_close(tc);
	return rc;
}

static int load_snapshot_file(const struct target *t, const char *path, const struct restore_opts *o);

/* Replacing failed part-way: back to the state before, from the safety
 * snapshot.  DG_OK when that worked (said so). */
static int my_put_back(const struct target *t, const struct restore_opts *o, const char *old)
{
	const char *db = target_get(t, TF_DATABASE);
	if (!o->safety_path) {
		error("'%s' is now partly replaced and there is no safety snapshot; its former tables"
		      " are in the schema '%s'", db, old);
		return DG_NO;
	}
	error("replacing '%s' failed part-way; putting it back from the safety snapshot '%s'",
	      db, o->safety_path);
	struct restore_opts back = *o;
	back.snapshot_path = o->safety_path;
	back.safety_path = NULL;
	int rc = load_snapshot_file(t, o->safety_path, &back);
	if (rc == DG_OK)
		error("'%s' is back as it was before, from '%s'", db, o->safety_path);
	else
		error("putting '%s' back failed too; its former tables are in the schema '%s'", db, old);
	return rc;
}

static int my_run(const struct target *t, const struct restore_input *in,
                  const struct restore_opts *o, int check_only)
{
	struct dbconn *c;
	char err[ERRLEN];
	int rc = db_connect_admin(t, &c, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	const char *db = target_get(t, TF_DATABASE);
	char *scratch = scratch_name(db, "restore"), *old = scratch_name(db, "old");
	char *marker = NULL, *charset_sql = xstrdup("");
	struct rows r = { 0 };
	char *lit = db_quote_literal(c, db);
	const char *exprs[] = { "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME" };
	char *fields = fields_sql(myf, exprs, 2);
	char *sql = xasprintf("SELECT %s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", fields, lit);
	int q = query_rows(c, sql, 2, &r, err, sizeof err);
	free(lit);
	free(fields);
	free(sql);
	if (q < 0) {
		error("cannot read the properties of '%s': %s", db, err);
		rc = DG_NO;
		goto out;
	}
	int exists = r.n == 1;
	if (exists && CELL(&r, 0, 0) && CELL(&r, 0, 1)) {
		free(charset_sql);
		charset_sql = xasprintf(" CHARACTER SET %s COLLATE %s", CELL(&r, 0, 0), CELL(&r, 0, 1));
	}
	rows_free(&r);
	if (exists && !check_only) {
		struct dbconn *tc;
		if (my_connect_db(t, db, &tc) != DG_OK) {
			rc = DG_NO;
			goto out;
		}
		if (db_marker_read(tc, &marker, err, sizeof err) < 0)
			warn("cannot read the marker of '%s': %s", db, err);
		db_close(tc);
	}
	char *qs = my_ident(c, scratch, NULL);
	sql = xasprintf("CREATE DATABASE %s%s", qs, charset_sql);
	q = db_exec(c, sql, err, sizeof err);
	free(sql);
	if (q < 0) {
		error("cannot create the scratch schema '%s': %s", scratch, err);
		free(qs);
		rc = DG_NO;
		goto out;
	}
	verbose("loading '%s' into the scratch schema '%s'", in->name, scratch);
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	const char *const names[] = { "mariadb", "mysql", NULL };
	char *prog = find_on_path(names);
	sv_push_owned(&argv, prog ? prog : xstrdup("mariadb"));
	char *cleanup = NULL;
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("%s", err);
		rc = DG_NO;
	} else {
		sv_pushf(&argv, "--database=%s", scratch);
		char *label = xasprintf("restoring %s", db);
		static const char *const bad[] = { "USE ", "USE\t", "CREATE DATABASE", "CREATE SCHEMA",
		                                   "DROP DATABASE", "DROP SCHEMA", "\\!", NULL };
		rc = run_loader(sv_argv(&argv), sv_argv(&env), in, label, bad);
		free(label);
	}
	db_client_cleanup(cleanup);
	sv_free(&argv);
	sv_free(&env);
	if (rc == DG_OK)
		rc = counts_of(t, scratch, in->meta, "the restored database");
	if (rc == DG_OK && !check_only) {
		struct dbconn *sc;
		rc = my_connect_db(t, scratch, &sc);
		if (rc == DG_OK) {
			if (db_marker_write(sc, marker, err, sizeof err) < 0) {
				error("cannot keep the marker of '%s': %s", db, err);
				rc = DG_NO;
			}
			db_close(sc);
		}
	}
	if (rc == DG_OK && caught)
		rc = 128 + caught;
	if (rc == DG_OK && !check_only && !exists) {
		char *qd = my_ident(c, db, NULL);
		sql = xasprintf("CREATE DATABASE %s%s", qd, charset_sql);
		if (db_exec(c, sql, err, sizeof err) < 0) {
			error("cannot create the database '%s': %s", db, err);
			rc = DG_NO;
		}
		free(qd);
		free(sql);
	}
	if (rc == DG_OK && !check_only) {
		int m = my_replace(t, c, db, scratch, old, charset_sql, o);
		rc = m == 0 ? DG_OK : DG_NO;
		if (m == 0 || m == -2) {
			/* Done, or put back from the safety snapshot: nothing to finish. */
			char *qo = my_ident(c, old, NULL);
			sql = xasprintf("DROP DATABASE IF EXISTS %s", qo);
			if (db_exec(c, sql, err, sizeof err) < 0)
				warn("cannot drop the schema '%s': %s", old, err);
			free(qo);
			free(sql);
			state_remove(o);
		}
	}
	sql = xasprintf("DROP DATABASE IF EXISTS %s", qs);
	if (db_exec(c, sql, err, sizeof err) < 0)
		warn("cannot drop the scratch schema '%s': %s", scratch, err);
	free(sql);
	free(qs);
out:
	free(scratch);
	free(old);
	free(marker);
	free(charset_sql);
	db_close(c);
	return rc;
}

static void my_cleanup(struct dbconn *c, const char *db)
{
	char err[ERRLEN];
	char *pat = scratch_pattern(db);
	char *lit = db_quote_literal(c, pat);
	char *f = myf("SCHEMA_NAME");
	char *sql = xasprintf("SELECT GROUP_CONCAT(%s SEPARATOR ' ') FROM information_schema.SCHEMATA"
	                      " WHERE SCHEMA_NAME LIKE %s", f, lit);
	struct rows r;
	if (query_rows(c, sql, 1, &r, err, sizeof err) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const char *name = CELL(&r, i, 0);
			if (!name || restore_running(name_pid(name)))
				continue;
			info("removing '%s', left by an interrupted db-restore", name);
			char *q = my_ident(c, name, NULL);
			char *drop = xasprintf("DROP DATABASE IF EXISTS %s", q);
			if (db_exec(c, drop, err, sizeof err) < 0)
				warn("cannot drop the schema '%s': %s", name, err);
			free(q);
			free(drop);
		}
		rows_free(&r);
	} else {
		warn("cannot look for leftovers of interrupted restores: %s", err);
	}
	free(pat);
	free(lit);
	free(f);
	free(sql);
}

/* A restore stopped while replacing: finish it from its snapshot, else go
 * back from its safety snapshot.  DG_OK when there is nothing (left) to do. */
static int my_repair(const struct target *t, const struct restore_opts *o, int repair)
{
	char *path = state_path(o);
	if (!path)
		return DG_OK;
	char *text = read_file(path, NULL);
	if (!text) {
		free(path);
		return DG_OK;
	}
	char *keys[] = { "host", "port", "database", "snapshot", "safety", "old" };
	char *vals[6] = { 0 };
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (size_t k = 0; k < 6; k++)
			if (strcmp(line, keys[k]) == 0)
				vals[k] = eq + 1;
	}
	char port[16];
	snprintf(port, sizeof port, "%d", target_port(t));
	int ours = vals[0] && vals[1] && vals[2] && strcmp(vals[0], target_host(t)) == 0 &&
	           strcmp(vals[1], port) == 0 && strcmp(vals[2], target_get(t, TF_DATABASE)) == 0;
	int rc = DG_OK;
	if (!ours)
		goto out;
	const char *snap = vals[3] && *vals[3] ? vals[3] : NULL;
	const char *safety = vals[4] && *vals[4] ? vals[4] : NULL;
	const char *db = vals[2];
	if (!repair) {
		error("a restore of '%s' from '%s' stopped while replacing the database; run db-restore"
		      " to finish it", db, snap ? snap : "a stream");
		rc = DG_OK;
		goto out;
	}
	error("a restore of '%s' from '%s' stopped while replacing the database; finishing it now",
	      db, snap ? snap : "a stream");
	struct restore_opts again = *o;
	again.snapshot_path = snap;
	again.safety_path = safety;
	rc = snap ? load_snapshot_file(t, snap, &again) : DG_NO;
	if (rc == DG_OK) {
		error("finished the interrupted restore of '%s' from '%s'", db, snap);
	} else if (safety) {
		error("cannot finish it from '%s'; going back to the state before it, from '%s'",
		      snap ? snap : "a stream", safety);
		again.snapshot_path = safety;
		again.safety_path = NULL;
		rc = load_snapshot_file(t, safety, &again);
		if (rc == DG_OK)
			error("'%s' is back as it was before the interrupted restore", db);
	}
	if (rc != DG_OK)
		error("cannot repair '%s'; its former tables are in the schema '%s'; the record is '%s'",
		      db, vals[5] ? vals[5] : "?", path);
	else
		unlink(path);
out:
	free(text);
	free(path);
	return rc;
}

/* Verify and load one snapshot file (a repair, a safety snapshot). */
static int load_snapshot_file(const struct target *t, const char *path, const struct restore_opts *o)
{
	struct snapshot_meta m;
	memset(&m, 0, sizeof m);
	char err[ERRLEN];
	if (store_verify(path, &m, err, sizeof err) < 0) {
		error("cannot use '%s': %s", path, err);
		store_meta_free(&m);
		return DG_INTEGRITY;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error("cannot open '%s':", path);
		store_meta_free(&m);
		return DG_NO;
	}
	struct stat st;
	struct restore_input in = { fd, path, &m, fstat(fd, &st) == 0 ? (unsigned long long)st.st_size : 0 };
	int rc = restore_load(t, &in, o);
	close(fd);
	store_meta_free(&m);
	return rc;
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
	if (engine_is(t, "mysql")) {
		int rc = my_repair(t, o, repair);
		char *p = state_path(o);
		int pending = p && access(p, F_OK) == 0;
		free(p);
		if (rc != DG_OK || pending)
			return rc;
	}
	struct dbconn *c;
	int rc;
	if (engine_is(t, "postgres")) {
		rc = pg_admin(t, &c);
		if (rc != DG_OK)
			return rc;
		pg_cleanup(c, db);
	} else {
		char err[ERRLEN];
		rc = db_connect_admin(t, &c, err, sizeof err);
		if (rc != DG_OK) {
			error("%s", err);
			return rc;
		}
		my_cleanup(c, db);
	}
	db_close(c);
	return DG_OK;
}

int restore_sessions(const struct target *t, int terminate)
{
	if (!engine_is(t, "postgres"))
		return DG_OK;
	struct dbconn *c;
	int rc = pg_admin(t, &c);
	if (rc != DG_OK)
		return rc;
	char *list = NULL, err[ERRLEN];
	const char *db = target_get(t, TF_DATABASE);
	if (pg_session_list(c, db, &list, err, sizeof err) < 0) {
		error("cannot list the sessions on '%s': %s", db, err);
		rc = DG_NO;
	} else if (list && *list) {
		report_sessions(db, list, terminate);
		if (!terminate) {
			error("refusing to replace '%s' while it is in use; close those sessions or use"
			      " --terminate-connections; nothing was changed", db);
			rc = DG_NO;
		}
	}
	free(list);
	db_close(c);
	return rc;
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
