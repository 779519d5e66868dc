/* snapshot.c — see snapshot.h.
 * Row counts come from the dump stream itself: COPY blocks of pg_dump (one
 * line per row up to "\."), the tuples of mariadb-dump's INSERT statements,
 * and for SQLite the backup copy.  What is counted is therefore exactly
 * what was dumped, however busy the database was. */
#include "snap/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fs.h>
#include <sqlite3.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/process.h"
#include "base/xalloc.h"

enum engine_kind { ENG_PG, ENG_MY, ENG_LITE };

struct snapshot_job {
	enum engine_kind kind;
	struct target t;
	struct dbconn *conn;     /* postgres: holds the exported snapshot */
	char *version;
	long long size;
	char *prog;              /* pg_dump or mariadb-dump */
	char *tmp_beside;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the fatal-signal guard ---- */

#define GUARD_SLOTS 16

static struct guard_slot {
	volatile sig_atomic_t used;
	int is_dir;
	char path[PATH_MAX];
} guard_slots[GUARD_SLOTS];
static volatile sig_atomic_t guard_pid;

static void guard_handler(int sig)
{
	int saved = errno;
	if (guard_pid > 0)
		kill((pid_t)guard_pid, SIGTERM);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < GUARD_SLOTS; i++)
			if (guard_slots[i].used && guard_slots[i].is_dir == pass) {
				if (pass)
					rmdir(guard_slots[i].path);
				else
					unlink(guard_slots[i].path);
			}
	/* Die of the same signal, so the caller's shell sees an interrupt. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	errno = saved;
}

static const int guarded[] = { SIGINT, SIGTERM, SIGHUP };

void snapshot_guard_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = guard_handler;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof guarded / sizeof *guarded; i++) {
		struct sigaction old;
		/* A signal ignored by our parent (nohup) stays ignored. */
		if (sigaction(guarded[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(guarded[i], &sa, NULL);
	}
}

void snapshot_guard_hold(int hold)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof guarded / sizeof *guarded; i++)
		sigaddset(&set, guarded[i]);
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

void snapshot_guard_path(const char *path, int is_dir)
{
	if (!path || strlen(path) >= PATH_MAX)
		return;
	for (int i = 0; i < GUARD_SLOTS; i++)
		if (!guard_slots[i].used) {
			memcpy(guard_slots[i].path, path, strlen(path) + 1);
			guard_slots[i].is_dir = is_dir;
			guard_slots[i].used = 1;
			return;
		}
}

void snapshot_guard_forget(const char *path)
{
	if (!path)
		return;
	for (int i = 0; i < GUARD_SLOTS; i++)
		if (guard_slots[i].used && strcmp(guard_slots[i].path, path) == 0)
			guard_slots[i].used = 0;
}

void snapshot_guard_child(pid_t pid)
{
	guard_pid = pid;
}

/* ---- opening: connect, version, size, dump program ---- */

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
static int find_pg_dump(struct snapshot_job *j, int server_major, char *err, size_t errlen)
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
			set_err(err, errlen, "pg_dump not found; install the Debian package "
			           "postgresql-client-%d (or put pg_dump on PATH)", server_major);
			return DG_NO;
		}
		char *v = program_version(j->prog);
		have = v ? atoi(v) : 0;
		free(v);
	}
	if (have > 0 && have < server_major) {
		char *v = program_version(j->prog);
		set_err(err, errlen, "%s %s is older than the server (PostgreSQL %s) and cannot dump it; "
		           "install the Debian package postgresql-client-%d", j->prog, v ? v : "(unknown)",
		           j->version, server_major);
		free(v);
		return DG_NO;
	}
	return DG_OK;
}

int snapshot_open(const struct target *t, struct snapshot_job **out, char *err, size_t errlen)
{
	*out = NULL;
	const char *engine = target_get(t, TF_ENGINE);
	enum engine_kind kind;
	if (engine && strcmp(engine, "postgres") == 0)
		kind = ENG_PG;
	else if (engine && strcmp(engine, "mysql") == 0)
		kind = ENG_MY;
	else if (engine && strcmp(engine, "sqlite") == 0)
		kind = ENG_LITE;
	else {
		set_err(err, errlen, "cannot snapshot a database whose engine is %s%s%s",
		           engine ? "'" : "", engine ? engine : "unknown", engine ? "'" : "");
		return DG_USAGE;
	}
	if (kind == ENG_LITE && target_get(t, TF_DATABASE) &&
	    strcmp(target_get(t, TF_DATABASE), ":memory:") == 0) {
		set_err(err, errlen, "cannot snapshot an in-memory SQLite database");
		return DG_USAGE;
	}
	struct dbconn *c;
	int rc = db_connect(t, &c, err, errlen);
	if (rc != DG_OK)
		return rc;
	struct snapshot_job *j = xcalloc(1, sizeof *j);
	j->kind = kind;
	target_copy(&j->t, t);
	j->version = xstrdup(db_server_version(c));
	j->size = db_size(c, NULL, 0);
	/* Kept open: PostgreSQL's holds the exported snapshot, and every
	 * engine's reads the fingerprints around the dump. */
	j->conn = c;
	if (kind == ENG_PG) {
		rc = find_pg_dump(j, db_server_major(c), err, errlen);
		if (rc == DG_OK)
			verbose("dump program: %s", j->prog);
	} else {
		if (kind == ENG_MY) {
			const char *names[] = { "mariadb-dump", "mysqldump", NULL };
			j->prog = find_on_path(names);
			if (!j->prog) {
				set_err(err, errlen, "mariadb-dump not found; install the Debian package "
				           "mariadb-client (or put mariadb-dump or mysqldump on PATH)");
				rc = DG_NO;
			} else {
				verbose("dump program: %s", j->prog);
			}
		}
	}
	if (rc != DG_OK) {
		snapshot_close(j);
		return rc;
	}
	*out = j;
	return DG_OK;
}

const char *snapshot_engine(const struct snapshot_job *j)
{
	return j->kind == ENG_PG ? "postgres" : j->kind == ENG_MY ? "mysql" : "sqlite";
}

const char *snapshot_server_version(const struct snapshot_job *j) { return j->version; }
long long snapshot_size_estimate(const struct snapshot_job *j) { return j->size; }

long long snapshot_scratch_bytes(const struct snapshot_job *j)
{
	return j->kind == ENG_LITE && j->size > 0 ? j->size : 0;
}

void snapshot_close(struct snapshot_job *j)
{
	if (!j)
		return;
	db_close(j->conn);
	target_free(&j->t);
	free(j->version);
	free(j->prog);
	free(j->tmp_beside);
	free(j);
}

void snapshot_result_free(struct snapshot_result *res)
{
	table_counts_free(&res->counts);
	free(res->fingerprint);
	free(res->fingerprint_why);
	res->fingerprint = res->fingerprint_why = NULL;
}

void snapshot_fingerprint(struct snapshot_job *j, char **fp, char **why)
{
	char err[512];
	if (db_fingerprint(j->conn, 0, fp, why, err, sizeof err) < 0)
		*why = xasprintf("cannot read the change signals: %s", err);
}

/* The fingerprint before the dump (before_fp, or its why) and after it:
 * only a state that stayed the same through the whole dump is recorded. */
static void fingerprint_before(struct snapshot_job *j, struct snapshot_result *res)
{
	char err[512];
	if (db_fingerprint(j->conn, 1, &res->fingerprint, &res->fingerprint_why, err, sizeof err) < 0)
		res->fingerprint_why = xasprintf("cannot read the change signals: %s", err);
}

static void fingerprint_after(struct snapshot_job *j, struct snapshot_result *res)
{
	char err[512], *fp = NULL, *why = NULL;
	if (!res->fingerprint)
		return;
	if (db_fingerprint(j->conn, 0, &fp, &why, err, sizeof err) < 0 || !fp ||
	    strcmp(fp, res->fingerprint) != 0) {
		free(res->fingerprint);
		res->fingerprint = NULL;
		res->fingerprint_why = xstrdup("the database changed while it was being dumped");
	}
	free(fp);
	free(why);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct table_count *)a)->name, ((const struct table_count *)b)->name);
}

/* ---- running a dump program into the compressor ---- */

struct observer {
	void (*scan)(void *scanner, const char *buf, size_t len);
	void *scanner;
	void (*progress)(void *arg, unsigned long long raw);
	void *arg;
	unsigned long long raw;
};

static int observe(void *arg, const void *buf, size_t len)
{
	struct observer *o = arg;
	if (o->scan)
		o->scan(o->scanner, buf, len);
	o->raw += len;
	if (o->progress)
		o->progress(o->arg, o->raw);
	return 0;
}

/* Replace every copy of secret in s by "****" (a dump program's message
 * could quote a connection string). */
static void scrub(char *s, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	if (n < 3)
		return;
	for (char *p; (p = strstr(s, secret));) {
		memcpy(p, "****", 4);
		memmove(p + 4, p + n, strlen(p + n) + 1);
	}
}

/* The line of a dump program's stderr that says what went wrong, without
 * the "prog: " and "error: " prefixes. */
static char *child_message(int fd, const char *prog, const char *password)
{
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	scrub(buf, password);
	char *base = path_base(prog), *pick = NULL;
	for (char *line = buf, *next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		char *l = line;
		size_t bl = strlen(base);
		if (strncmp(l, base, bl) == 0 && l[bl] == ':')
			l += bl + 1;
		while (*l == ' ')
			l++;
		if (!*l)
			continue;
		int is_err = strncmp(l, "error:", 6) == 0 || strstr(l, "rror") != NULL;
		if (strncmp(l, "error:", 6) == 0)
			for (l += 6; *l == ' '; l++)
				;
		if (!pick || (is_err && !strstr(pick, "rror"))) {
			free(pick);
			pick = xstrdup(l);
		}
		if (is_err)
			break;
	}
	free(base);
	return pick;
}

static void show_child_stderr(int fd, const char *password)
{
	if (msg_verbosity < 2)
		return;
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	scrub(buf, password);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		verbose("%s", line);
}

static int run_dump(struct snapshot_job *j, char **argv, char **env, struct compressor *c,
                    struct observer *ob, struct snapshot_result *res, char *err, size_t errlen)
{
	const char *password = target_get(&j->t, TF_PASSWORD);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		set_err(err, errlen, "cannot make a pipe: %s", strerror(errno));
		return DG_NO;
	}
	/* Fewer, larger reads: the pump wakes once per MiB, not per 64 KiB. */
	fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20);
	int efd = memfd_create("dump-stderr", MFD_CLOEXEC);
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct spawn_opts o = SPAWN_OPTS_INIT;
	o.fd_in = nullfd;
	o.fd_out = pfd[1];
	o.fd_err = efd;
	o.env_add = env;
	pid_t pid;
	int e = spawn_child(argv, &o, &pid);
	close(pfd[1]);
	if (nullfd >= 0)
		close(nullfd);
	if (e) {
		close(pfd[0]);
		if (efd >= 0)
			close(efd);
		set_err(err, errlen, "cannot run '%s': %s", argv[0], strerror(e));
		return DG_NO;
	}
	snapshot_guard_child(pid);
	int pr = compressor_pump(c, pfd[0], observe, ob);
	int perr = errno;
	close(pfd[0]);
	if (pr < 0)
		kill(pid, SIGTERM);
	int st = 0;
	wait_child(pid, &st);
	snapshot_guard_child(0);
	int rc = DG_OK;
	char *base = path_base(argv[0]);
	if (pr < 0 && compressor_error(c)) {
		res->write_errno = compressor_error(c);
		set_err(err, errlen, "cannot write the snapshot: %s", strerror(res->write_errno));
		rc = DG_NO;
	} else if (pr < 0) {
		set_err(err, errlen, "cannot read the output of %s: %s", base, strerror(perr));
		rc = DG_NO;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *m = efd >= 0 ? child_message(efd, argv[0], password) : NULL;
		if (m)
			set_err(err, errlen, "%s failed: %s", base, m);
		else if (WIFSIGNALED(st))
			set_err(err, errlen, "%s was killed by signal %d", base, WTERMSIG(st));
		else
			set_err(err, errlen, "%s failed with status %d", base, exit_status_of(st));
		free(m);
		rc = DG_NO;
	} else if (efd >= 0) {
		show_child_stderr(efd, password);
	}
	free(base);
	if (efd >= 0)
		close(efd);
	return rc;
}

/* ---- PostgreSQL ---- */

struct pgtable {
	char *schema, *name, *display;
	unsigned long oid;
	long long own;               /* rows in its own COPY block */
};

enum { PG_BOL, PG_PREFIX, PG_COLLECT, PG_SKIP, PG_IN_BOL, PG_IN_BS, PG_IN_SKIP };

#define PG_LINE_MAX (4u << 20)

struct pgscan {
	int state, data_entry;
	struct strbuf line;
	struct pgtable *tabs;        /* sorted by (schema, name) */
	size_t n;
	long cur;                    /* table of the open COPY block, -1 unknown */
};

static int pgtable_cmp(const void *a, const void *b)
{
	const struct pgtable *x = a, *y = b;
	int r = strcmp(x->schema, y->schema);
	return r ? r : strcmp(x->name, y->name);
}

/* An identifier as pg_dump prints it (fmtId): bare, or in double quotes
 * with "" for a quote. */
static char *pg_ident(const char **pp)
{
	const char *p = *pp;
	struct strbuf sb = STRBUF_INIT;
	if (*p == '"') {
		for (p++;; p++) {
			if (!*p) {
				sb_free(&sb);
				return NULL;
			}
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			sb_addc(&sb, *p);
		}
		p++;
	} else {
		while (*p && *p != '.' && *p != ' ' && *p != '(')
			sb_addc(&sb, *p++);
	}
	*pp = p;
	if (!sb.len) {
		sb_free(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

static long pg_copy_table(struct pgscan *s, const char *line)
{
	const char *p = line + 5;
	char *schema = pg_ident(&p), *name = NULL;
	long idx = -1;
	if (schema && *p == '.') {
		p++;
		name = pg_ident(&p);
	}
	if (name) {
		struct pgtable key = { .schema = schema, .name = name };
		struct pgtable *hit = bsearch(&key, s->tabs, s->n, sizeof *s->tabs, pgtable_cmp);
		if (hit)
			idx = hit - s->tabs;
	}
	free(schema);
	free(name);
	return idx;
}

static void pg_line(struct pgscan *s)
{
	const char *l = sb_str(&s->line);
	if (strncmp(l, "-- ", 3) == 0) {
		s->data_entry = strstr(l, "; Type: TABLE DATA;") != NULL;
	} else if (s->data_entry) {
		size_t n = strlen(l);
		s->data_entry = 0;
		if (n > 12 && strcmp(l + n - 12, " FROM stdin;") == 0) {
			/* Even a block of a table we do not know must be skipped as
			 * data, or its rows would be read as statements. */
			s->cur = pg_copy_table(s, l);
			s->state = PG_IN_BOL;
		}
	}
	sb_reset(&s->line);
}

static const char pg_copy_prefix[] = "COPY ";
static const char pg_data_prefix[] = "-- Data for Name: ";

static void pg_scan(void *arg, const char *buf, size_t len)
{
	struct pgscan *s = arg;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		switch (s->state) {
		case PG_BOL:
		case PG_PREFIX: {
			char c = *p++;
			if (c == '\n') {
				sb_reset(&s->line);
				s->state = PG_BOL;
				break;
			}
			sb_addc(&s->line, c);
			const char *l = s->line.buf;
			size_t n = s->line.len;
			int copy = n <= 5 && memcmp(l, pg_copy_prefix, n) == 0;
			int data = n <= 18 && memcmp(l, pg_data_prefix, n) == 0;
			if ((copy && n == 5) || (data && n == 18))
				s->state = PG_COLLECT;
			else if (copy || data)
				s->state = PG_PREFIX;
			else {
				sb_reset(&s->line);
				s->state = PG_SKIP;
			}
			break;
		}
		case PG_COLLECT: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = (size_t)((nl ? nl : end) - p);
			if (s->line.len + n <= PG_LINE_MAX)
				sb_add(&s->line, p, n);
			p += n;
			if (nl) {
				p++;
				s->state = PG_BOL;
				pg_line(s);
			}
			break;
		}
		case PG_SKIP:
		case PG_IN_SKIP: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				p = end;
				break;
			}
			p = nl + 1;
			s->state = s->state == PG_SKIP ? PG_BOL : PG_IN_BOL;
			break;
		}
		case PG_IN_BOL: {
			/* One line per row; only the end marker starts with "\." (a
			 * backslash in data is written "\\"). */
			char c = *p++;
			if (c == '\\') {
				s->state = PG_IN_BS;
				break;
			}
			if (s->cur >= 0)
				s->tabs[s->cur].own++;
			if (c != '\n')
				s->state = PG_IN_SKIP;
			break;
		}
		case PG_IN_BS: {
			char c = *p++;
			if (c == '.') {
				s->state = PG_SKIP;
				s->cur = -1;
				break;
			}
			if (s->cur >= 0)
				s->tabs[s->cur].own++;
			s->state = c == '\n' ? PG_IN_BOL : PG_IN_SKIP;
			break;
		}
		}
	}
}

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
	size_t cap = 0;
	for (char *line = v, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		char *f[3];
		if (tsv_split(line, f, 3) != 3)
			continue;
		if (s->n == cap) {
			cap = cap ? cap * 2 : 32;
			s->tabs = xrealloc(s->tabs, cap * sizeof *s->tabs);
		}
		struct pgtable *t = &s->tabs[s->n++];
		t->oid = strtoul(f[0], NULL, 10);
		t->schema = xstrdup(f[1]);
		t->name = xstrdup(f[2]);
		t->display = strcmp(f[1], "public") == 0 ? xstrdup(f[2]) : xasprintf("%s.%s", f[1], f[2]);
		t->own = 0;
	}
	free(v);
	if (s->n)
		qsort(s->tabs, s->n, sizeof *s->tabs, pgtable_cmp);
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

static int pg_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                  struct snapshot_result *res, char *err, size_t errlen)
{
	struct pgscan s = { .state = PG_BOL, .cur = -1 };
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
	fingerprint_before(j, res);
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
	rc = run_dump(j, sv_argv(&argv), sv_argv(&env), c, ob, res, err, errlen);
	if (rc == DG_OK)
		fingerprint_after(j, res);
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
	qsort(res->counts.v, res->counts.n, sizeof *res->counts.v, by_name);
out:
	for (size_t i = 0; i < s.n; i++) {
		free(s.tabs[i].schema);
		free(s.tabs[i].name);
		free(s.tabs[i].display);
	}
	free(s.tabs);
	sb_free(&s.line);
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

/* ---- MySQL / MariaDB ---- */

enum { MY_BOL, MY_PREFIX, MY_SKIP, MY_DELIM, MY_NAME, MY_PRE, MY_TUPLE, MY_STR, MY_STR_ESC,
       MY_STR_QEND, MY_BETWEEN };

struct myscan {
	int state, delim_normal;
	int for_insert;              /* MY_NAME reads an INSERT's table, else a CREATE TABLE's */
	int tick;                    /* saw a backtick inside a name */
	int depth;
	char quote;
	long cur;
	struct strbuf line, name;
	struct strvec tables;        /* from CREATE TABLE, in dump order */
	long long *rows;
	size_t cap;
};

/* The bytes that change the state inside a tuple. */
static const unsigned char my_special[256] = { ['\''] = 1, ['"'] = 1, ['('] = 1, [')'] = 1 };

static const char my_insert[] = "INSERT INTO `";
static const char my_create[] = "CREATE TABLE `";
static const char my_delim[] = "DELIMITER ";

static void my_name_done(struct myscan *s)
{
	const char *n = sb_str(&s->name);
	if (!s->for_insert) {
		if (s->tables.n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 32;
			s->rows = xrealloc(s->rows, s->cap * sizeof *s->rows);
		}
		s->rows[s->tables.n] = 0;
		sv_push(&s->tables, n);
		s->state = MY_SKIP;
	} else {
		s->cur = -1;
		/* A table's data follows its CREATE TABLE: look there first. */
		for (size_t i = s->tables.n; i-- > 0;)
			if (strcmp(s->tables.v[i], n) == 0) {
				s->cur = (long)i;
				break;
			}
		s->state = MY_PRE;
	}
	sb_reset(&s->name);
}

static void my_scan(void *arg, const char *buf, size_t len)
{
	struct myscan *s = arg;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		char c = *p;
		switch (s->state) {
		case MY_BOL:
		case MY_PREFIX: {
			p++;
			if (c == '\n') {
				sb_reset(&s->line);
				s->state = MY_BOL;
				break;
			}
			sb_addc(&s->line, c);
			const char *l = s->line.buf;
			size_t n = s->line.len;
			/* Statements inside DELIMITER ;; blocks are routine and
			 * trigger bodies, not data. */
			int ins = s->delim_normal && n <= 13 && memcmp(l, my_insert, n) == 0;
			int cre = s->delim_normal && n <= 14 && memcmp(l, my_create, n) == 0;
			int del = n <= 10 && memcmp(l, my_delim, n) == 0;
			if ((ins && n == 13) || (cre && n == 14)) {
				s->for_insert = ins;
				s->tick = 0;
				sb_reset(&s->name);
				sb_reset(&s->line);
				s->state = MY_NAME;
			} else if (del && n == 10) {
				sb_reset(&s->line);
				s->state = MY_DELIM;
			} else if (ins || cre || del) {
				s->state = MY_PREFIX;
			} else {
				sb_reset(&s->line);
				s->state = MY_SKIP;
			}
			break;
		}
		case MY_SKIP: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				p = end;
				break;
			}
			p = nl + 1;
			s->state = MY_BOL;
			break;
		}
		case MY_DELIM:
			p++;
			if (c == '\n') {
				const char *d = sb_str(&s->line);
				size_t n = strlen(d);
				while (n && (d[n - 1] == ' ' || d[n - 1] == '\r'))
					n--;
				s->delim_normal = n == 1 && d[0] == ';';
				sb_reset(&s->line);
				s->state = MY_BOL;
			} else if (s->line.len < 64) {
				sb_addc(&s->line, c);
			}
			break;
		case MY_NAME:
			if (c == '`') {
				p++;
				if (s->tick)
					sb_addc(&s->name, '`');
				s->tick = !s->tick;
			} else if (s->tick) {
				my_name_done(s);   /* c is read again in the new state */
			} else {
				p++;
				if (s->name.len < 1024)
					sb_addc(&s->name, c);
			}
			break;
		case MY_PRE:
			p++;
			if (c == '(') {
				if (s->cur >= 0)
					s->rows[s->cur]++;
				s->depth = 1;
				s->state = MY_TUPLE;
			} else if (c == ';') {
				s->state = MY_SKIP;
			}
			break;
		case MY_TUPLE:
			/* Numbers, NULLs and hex make up most of a tuple: skip to
			 * the next byte that matters. */
			while (p < end && !my_special[(unsigned char)*p])
				p++;
			if (p == end)
				break;
			c = *p++;
			if (c == '\'' || c == '"') {
				s->quote = c;
				s->state = MY_STR;
			} else if (c == '(') {
				s->depth++;
			} else if (c == ')' && --s->depth == 0) {
				s->state = MY_BETWEEN;
			}
			break;
		case MY_STR: {
			/* memchr is vectorised: find the closing quote, then make
			 * sure no backslash before it escapes something. */
			const char *q = memchr(p, s->quote, (size_t)(end - p));
			const char *bs = memchr(p, '\\', (size_t)((q ? q : end) - p));
			if (bs) {
				p = bs + 1;
				s->state = MY_STR_ESC;
			} else if (q) {
				p = q + 1;
				s->state = MY_STR_QEND;
			} else {
				p = end;
			}
			break;
		}
		case MY_STR_ESC:
			p++;
			s->state = MY_STR;
			break;
		case MY_STR_QEND:
			/* A doubled quote stays inside the string. */
			if (c == s->quote) {
				p++;
				s->state = MY_STR;
			} else {
				s->state = MY_TUPLE;
			}
			break;
		case MY_BETWEEN:
			p++;
			if (c == '(') {
				if (s->cur >= 0)
					s->rows[s->cur]++;
				s->depth = 1;
				s->state = MY_TUPLE;
			} else if (c == ';') {
				s->state = MY_SKIP;
			} else if (c != ',' && c != '\n' && c != ' ' && c != '\r' && c != '\t') {
				s->state = MY_SKIP;
			}
			break;
		}
	}
}

static int my_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                  struct snapshot_result *res, char *err, size_t errlen)
{
	struct myscan s = { .state = MY_BOL, .delim_normal = 1, .cur = -1 };
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	char *cleanup = NULL;
	int rc = DG_NO;
	sv_push(&argv, j->prog);
	if (db_client_args(&j->t, &argv, &env, &cleanup, err, errlen) < 0)
		goto out;
	char *dir = cleanup ? path_dir(cleanup) : NULL;
	snapshot_guard_path(cleanup, 0);
	snapshot_guard_path(dir, 1);
	/* Restorable with "mariadb DB < file": no CREATE DATABASE, no USE. */
	const char *flags[] = { "--single-transaction", "--routines", "--triggers", "--events",
	                        "--hex-blob", "--no-tablespaces", "--default-character-set=utf8mb4",
	                        "--", NULL };
	for (const char **f = flags; *f; f++)
		sv_push(&argv, *f);
	sv_push(&argv, target_get(&j->t, TF_DATABASE));
	ob->scan = my_scan;
	ob->scanner = &s;
	/* Before mariadb-dump opens its consistent snapshot. */
	fingerprint_before(j, res);
	rc = run_dump(j, sv_argv(&argv), sv_argv(&env), c, ob, res, err, errlen);
	if (rc == DG_OK)
		fingerprint_after(j, res);
	snapshot_guard_forget(cleanup);
	snapshot_guard_forget(dir);
	free(dir);
	if (rc != DG_OK)
		goto out;
	res->counts.v = xcalloc(s.tables.n ? s.tables.n : 1, sizeof *res->counts.v);
	for (size_t i = 0; i < s.tables.n; i++) {
		/* db_tables() leaves the marker out; so does the snapshot's list. */
		if (strcmp(s.tables.v[i], "dbguard_marker") == 0)
			continue;
		res->counts.v[res->counts.n].name = xstrdup(s.tables.v[i]);
		res->counts.v[res->counts.n].rows = s.rows[i];
		res->counts.n++;
	}
	qsort(res->counts.v, res->counts.n, sizeof *res->counts.v, by_name);
out:
	sb_free(&s.line);
	sb_free(&s.name);
	sv_free(&s.tables);
	free(s.rows);
	sv_free(&argv);
	sv_free(&env);
	db_client_cleanup(cleanup);
	return rc;
}

/* ---- SQLite ---- */

static int lite_fail(sqlite3 *db, const char *what, const char *path, char *err, size_t errlen)
{
	set_err(err, errlen, "cannot %s '%s': %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
	return DG_NO;
}

/* Copy the live database with the online backup API inside one read
 * transaction of the source, so every step sees the same state (and a
 * writer elsewhere cannot make the copy restart forever). */
static int lite_copy(const char *src_path, const char *dst_path, int allow_reflink,
                     const char **how, int *write_errno, char *err, size_t errlen);

/* Share the file's blocks (FICLONE: XFS with reflink, Btrfs) while the
 * read transaction holds the file still: in rollback-journal mode no
 * writer can commit past our shared lock, and in WAL mode with an empty
 * log the file is the whole database and no checkpoint can write it while
 * we read.  1 when done, 0 when not possible here. */
static int lite_reflink(const char *src_path, const char *dst_path)
{
	char *wal = xasprintf("%s-wal", src_path);
	struct stat st;
	int wal_used = stat(wal, &st) == 0 && st.st_size > 0;
	free(wal);
	if (wal_used)
		return 0;
	int in = open(src_path, O_RDONLY | O_CLOEXEC), out = open(dst_path, O_WRONLY | O_CLOEXEC);
	int done = in >= 0 && out >= 0 && ioctl(out, FICLONE, in) == 0 && fsync(out) == 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return done;
}

static int lite_backup(const char *src_path, const char *dst_path, int *write_errno,
                       char *err, size_t errlen)
{
	return lite_copy(src_path, dst_path, 1, NULL, write_errno, err, errlen);
}

/* The SQLite copy: reflink when allowed and possible (*how "reflink"),
 * else the online backup API page by page ("page copy"). */
static int lite_copy(const char *src_path, const char *dst_path, int allow_reflink,
                     const char **how, int *write_errno, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc = DG_NO;
	if (how)
		*how = "page copy";
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rc = lite_fail(src, "open", src_path, err, errlen);
		goto out;
	}
	sqlite3_busy_timeout(src, 10000);
	sqlite3_db_config(src, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		rc = lite_fail(src, "read", src_path, err, errlen);
		goto out;
	}
	if (allow_reflink && lite_reflink(src_path, dst_path)) {
		if (how)
			*how = "reflink";
		rc = DG_OK;
		goto out;
	}
	if (sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(dst, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK) {
		rc = lite_fail(dst, "write", dst_path, err, errlen);
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = lite_fail(dst, "copy to", dst_path, err, errlen);
		goto out;
	}
	int r;
	while ((r = sqlite3_backup_step(b, 4096)) == SQLITE_OK || r == SQLITE_BUSY || r == SQLITE_LOCKED)
		if (r != SQLITE_OK)
			sqlite3_sleep(50);
	int fin = sqlite3_backup_finish(b);
	b = NULL;
	if (r != SQLITE_DONE || fin != SQLITE_OK) {
		/* A full disk reaches SQLite as an I/O error; the errno says which. */
		int e = sqlite3_system_errno(dst);
		if (e == ENOSPC || e == EFBIG || e == EDQUOT) {
			*write_errno = e;
			set_err(err, errlen, "cannot write the copy of '%s': %s", src_path, strerror(e));
		} else {
			set_err(err, errlen, "cannot copy '%s': %s", src_path,
			        sqlite3_errstr(r != SQLITE_DONE ? r : fin));
		}
		goto out;
	}
	rc = DG_OK;
out:
	if (b)
		sqlite3_backup_finish(b);
	if (src) {
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(src);
	}
	if (dst && sqlite3_close(dst) != SQLITE_OK && rc == DG_OK)
		rc = lite_fail(dst, "write", dst_path, err, errlen);
	return rc;
}

static int lite_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                    struct snapshot_result *res, char *err, size_t errlen)
{
	char *tmp;
	char *beside = xasprintf("%s.copy", j->tmp_beside);
	int fd = make_temp_beside(beside, &tmp, 0600);
	free(beside);
	if (fd < 0) {
		char *dir = path_dir(j->tmp_beside);
		set_err(err, errlen, "cannot create a temporary file in '%s': %s", dir, strerror(errno));
		free(dir);
		if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)
			res->write_errno = errno;
		return DG_NO;
	}
	snapshot_guard_path(tmp, 0);
	close(fd);
	fingerprint_before(j, res);
	int rc = lite_backup(target_get(&j->t, TF_DATABASE), tmp, &res->write_errno, err, errlen);
	if (rc != DG_OK)
		goto out;
	fingerprint_after(j, res);
	/* Count in the copy itself, through the engine, so the counts are
	 * the ones db_tables() gives after a restore. */
	struct target ct = { 0 };
	target_set(&ct, TF_ENGINE, "sqlite", "snapshot");
	target_set(&ct, TF_DATABASE, tmp, "snapshot");
	struct dbconn *dc;
	rc = db_connect(&ct, &dc, err, errlen);
	target_free(&ct);
	if (rc != DG_OK) {
		rc = DG_NO;
		goto out;
	}
	rc = db_tables(dc, &res->counts, err, errlen) < 0 ? DG_NO : DG_OK;
	db_close(dc);
	if (rc != DG_OK)
		goto out;
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "cannot read '%s': %s", tmp, strerror(errno));
		rc = DG_NO;
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (compressor_pump(c, fd, observe, ob) < 0) {
		if (compressor_error(c)) {
			res->write_errno = compressor_error(c);
			set_err(err, errlen, "cannot write the snapshot: %s", strerror(res->write_errno));
		} else {
			set_err(err, errlen, "cannot read '%s': %s", tmp, strerror(errno));
		}
		rc = DG_NO;
	}
	close(fd);
out:
	if (rc != DG_OK)
		snapshot_result_free(res);
	unlink(tmp);
	/* Opening the copy may have left these beside it. */
	char *side = xasprintf("%s-wal", tmp);
	unlink(side);
	free(side);
	side = xasprintf("%s-shm", tmp);
	unlink(side);
	free(side);
	snapshot_guard_forget(tmp);
	free(tmp);
	return rc;
}

int snapshot_copy(struct snapshot_job *j, const char *out_path, const char **how,
                  struct snapshot_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	if (j->kind != ENG_LITE) {
		set_err(err, errlen, "only a SQLite database is copied as it is");
		return DG_USAGE;
	}
	fingerprint_before(j, res);
	int rc = lite_copy(target_get(&j->t, TF_DATABASE), out_path, 1, how, &res->write_errno,
	                   err, errlen);
	if (rc == DG_OK) {
		fingerprint_after(j, res);
		struct target ct = { 0 };
		target_set(&ct, TF_ENGINE, "sqlite", "snapshot");
		target_set(&ct, TF_DATABASE, out_path, "snapshot");
		struct dbconn *dc;
		rc = db_connect(&ct, &dc, err, errlen);
		target_free(&ct);
		if (rc == DG_OK) {
			rc = db_tables(dc, &res->counts, err, errlen) < 0 ? DG_NO : DG_OK;
			db_close(dc);
		} else {
			rc = DG_NO;
		}
	}
	/* Opening the copy may have left these beside it. */
	char *side = xasprintf("%s-wal", out_path);
	unlink(side);
	free(side);
	side = xasprintf("%s-shm", out_path);
	unlink(side);
	free(side);
	if (rc != DG_OK)
		snapshot_result_free(res);
	return rc;
}

int snapshot_run(struct snapshot_job *j, struct compressor *c, const char *tmp_beside,
                 void (*progress)(void *arg, unsigned long long raw), void *arg,
                 struct snapshot_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	free(j->tmp_beside);
	j->tmp_beside = xstrdup(tmp_beside);
	struct observer ob = { .progress = progress, .arg = arg };
	switch (j->kind) {
	case ENG_PG: return pg_run(j, c, &ob, res, err, errlen);
	case ENG_MY: return my_run(j, c, &ob, res, err, errlen);
	default: return lite_run(j, c, &ob, res, err, errlen);
	}
}
