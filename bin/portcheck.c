/* portcheck — keep the host ports of a project's database services in a
 * protected range: validate the compose files, plan a deterministic
 * migration, apply it by rewriting only the port text, roll it back. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/compose.h"
#include "model/config.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "portcheck/sockets.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "docker/checks.h"
#include "docker/redis.h"
#include "docker/restart.h"
#include "store/store.h"

static const char usage_text[] =
	"usage: portcheck [validate|plan|apply|rollback] [-qv] [-C DIR] [-f FILE]...\n"
	"                 [--range=LO-HI] [--format=human|tsv|json] [--confirm=apply] [--force]\n"
	"                 [--restart [--timeout=SECONDS]]\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	if (!status)
		fputs("\n"
		      "Check that the database services of a compose project publish their\n"
		      "host ports inside a protected range, without conflicts, on ports that are\n"
		      "free, with their data on named volumes; plan, apply and roll back a\n"
		      "migration of the ports.\n"
		      "\n"
		      "  validate             report ports, conflicts, ports in use, data protection\n"
		      "                       (the default)\n"
		      "  plan                 print the port changes apply would make\n"
		      "  apply, migrate       make them: only the port text changes, FILE.backup kept\n"
		      "  rollback             put the FILE.backup copies back\n"
		      "\n"
		      "  -f, --file=FILE      a compose file; repeat for overrides (later wins)\n"
		      "  -C DIR               run as if started in DIR\n"
		      "      --range=LO-HI    the protected range (default from the configuration,\n"
		      "                       7000-7999)\n"
		      "      --format=FORMAT  human (default), tsv or json\n"
		      "      --confirm=apply  confirm apply without a terminal\n"
		      "      --force          apply even when FILE.backup exists (it is replaced)\n"
		      "      --restart        with apply: snapshot the databases, recreate the moved\n"
		      "                       services with Compose, verify them on the new ports\n"
		      "                       and roll everything back on failure; with rollback:\n"
		      "                       recreate the services on the restored ports, verify\n"
		      "      --timeout=SECONDS  with --restart: wait this long for health (default 120)\n"
		      "  -q, --quiet          only errors on stderr\n"
		      "  -v, --verbose        more detail on stderr\n"
		      "  -h, --help           this help\n"
		      "      --version        version\n"
		      "\n"
		      "Exit status: 0 compliant or done, 1 findings (or apply failed and was\n"
		      "undone), 2 usage error or unreadable/invalid files, 3 no compose file, no\n"
		      "database service or nothing to roll back, 6 apply not confirmed.\n", stdout);
	exit(status);
}

/* ---- analysis ---- */

enum {
	F_RANGE = 1 << 0,     /* host port outside the range */
	F_CONFLICT = 1 << 1,  /* another binding on the same address and port */
	F_TWICE = 1 << 2,     /* the container port published again by a later file */
	F_BUSY = 1 << 3,      /* in use on this machine */
	F_EXPOSED = 1 << 4,   /* every interface */
};
static const char *const flag_names[] = { "out-of-range", "conflict", "same-port-in-two-files", "in-use", "exposed" };

struct row {
	struct cservice *s;
	struct cport *p;
	size_t order;         /* position among all rows */
	int db;               /* a database service or an admin UI */
	unsigned flags;
	const struct listener *busy;
	int loses;            /* moves to resolve a conflict */
	int change, manual;
	char *why_manual;
	int new_lo, new_hi;
};

struct finding {
	int note;
	const char *kind;
	const char *file;
	int line;
	const char *service;
	char *msg;
	size_t seq;
};

struct report {
	struct compose_project *p;
	int lo, hi;
	struct row *rows;
	size_t nrows;
	struct finding *fv;
	size_t nf;
	size_t ndb;           /* database services */
	size_t nfindings;     /* not counting notes */
	size_t nunplaced;     /* changes that found no free port */
};

static void add_finding(struct report *r, int note, const char *kind, const char *file, int line, const char *service,
                        const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void add_finding(struct report *r, int note, const char *kind, const char *file, int line, const char *service,
                        const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	r->fv = xrealloc(r->fv, (r->nf + 1) * sizeof *r->fv);
	r->fv[r->nf++] = (struct finding){ note, kind, file, line, service, sb_detach(&sb), 0 };
	if (!note)
		r->nfindings++;
}

static int parse_port_range(const char *s, int *lo, int *hi)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s || *end != '-')
		return -1;
	const char *b0 = end + 1;
	long b = strtol(b0, &end, 10);
	if (end == b0 || *end || a < 1 || b > 65535 || a > b)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static void port_str(char *buf, size_t len, int lo, int hi)
{
	if (lo == hi)
		snprintf(buf, len, "%d", lo);
	else
		snprintf(buf, len, "%d-%d", lo, hi);
}

static int profiles_disjoint(const struct cservice *a, const struct cservice *b)
{
	if (!a->profiles.n || !b->profiles.n)
		return 0;
	for (size_t i = 0; i < a->profiles.n; i++)
		for (size_t j = 0; j < b->profiles.n; j++)
			if (strcmp(a->profiles.v[i], b->profiles.v[j]) == 0)
				return 0;
	return 1;
}

/* Programs that publish container ports: their sockets are a running
 * container's, which may be this very project. */
static int is_container_proxy(const struct listener *l)
{
	static const char *const names[] = { "docker-proxy", "rootlessport", "rootlesskit", "slirp4netns", "pasta", "conmon" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(l->comm, names[i]) == 0)
			return 1;
	return 0;
}

static const char *where_text(const struct cport *p, char *buf, size_t len)
{
	if (p->env_file)
		snprintf(buf, len, "%s:%d (%s:%d %s)", p->file, p->line, p->env_file, p->env_line, p->var);
	else if (p->from_environment)
		snprintf(buf, len, "%s:%d (environment %s)", p->file, p->line, p->var);
	else
		snprintf(buf, len, "%s:%d", p->file, p->line);
	return buf;
}

/* ---- data protection ---- */

static const struct datadir {
	const char *engine;
	const char *dirs[3];
} datadirs[] = {
	{ "postgres", { "/var/lib/postgresql/data", NULL } },
	{ "postgis", { "/var/lib/postgresql/data", NULL } },
	{ "timescaledb", { "/var/lib/postgresql/data", "/home/postgres/pgdata", NULL } },
	{ "cockroach", { "/cockroach/cockroach-data", NULL } },
	{ "mysql", { "/var/lib/mysql", NULL } },
	{ "mariadb", { "/var/lib/mysql", NULL } },
	{ "percona", { "/var/lib/mysql", NULL } },
	{ "redis", { "/data", NULL } },
	{ "valkey", { "/data", NULL } },
	{ "keydb", { "/data", NULL } },
	{ "questdb", { "/var/lib/questdb", "/root/.questdb", NULL } },
	{ "qdrant", { "/qdrant/storage", NULL } },
	{ "mongo", { "/data/db", NULL } },
	{ "clickhouse", { "/var/lib/clickhouse", NULL } },
	{ "cassandra", { "/var/lib/cassandra", NULL } },
	{ "scylla", { "/var/lib/scylla", NULL } },
	{ "elasticsearch", { "/usr/share/elasticsearch/data", NULL } },
	{ "opensearch", { "/usr/share/opensearch/data", NULL } },
	{ "influxdb", { "/var/lib/influxdb2", "/var/lib/influxdb", NULL } },
	{ "neo4j", { "/data", NULL } },
	{ "couchdb", { "/opt/couchdb/data", NULL } },
};

static int covers(const char *mount, const char *dir)
{
	size_t n = strlen(mount);
	while (n > 1 && mount[n - 1] == '/')
		n--;
	return strncmp(mount, dir, n) == 0 && (dir[n] == '\0' || dir[n] == '/');
}

static const struct cmount *data_mount(const struct cservice *s, const char *dir)
{
	const struct cmount *best = NULL;
	for (size_t i = 0; i < s->nmounts; i++)
		if (covers(s->mounts[i].target, dir) && (!best || strlen(s->mounts[i].target) > strlen(best->target)))
			best = &s->mounts[i];
	return best;
}

static const char *service_env(const struct cservice *s, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = s->environment.n; i-- > 0;)
		if (strncmp(s->environment.v[i], key, k) == 0 && s->environment.v[i][k] == '=')
			return s->environment.v[i] + k + 1;
	return NULL;
}

static const struct cvolume *top_volume(const struct compose_project *p, const char *name)
{
	for (size_t i = 0; i < p->nvolumes; i++)
		if (strcmp(p->volumes[i].name, name) == 0)
			return &p->volumes[i];
	return NULL;
}

static int temp_path(const char *src)
{
	static const char *const tmp[] = { "/tmp", "/var/tmp", "/dev/shm", "/run" };
	for (size_t i = 0; i < sizeof tmp / sizeof *tmp; i++)
		if (covers(tmp[i], src))
			return 1;
	return 0;
}

static void check_protection(struct report *r, const struct cservice *s)
{
	const struct datadir *dd = NULL;
	for (size_t i = 0; i < sizeof datadirs / sizeof *datadirs && !dd; i++)
		if (s->engine && strcmp(s->engine, datadirs[i].engine) == 0)
			dd = &datadirs[i];
	if (dd) {
		const char *dirs[4] = { NULL };
		size_t nd = 0;
		const char *pgdata = s->family == DBF_POSTGRES ? service_env(s, "PGDATA") : NULL;
		if (pgdata && *pgdata)
			dirs[nd++] = pgdata;
		else
			for (size_t i = 0; dd->dirs[i]; i++)
				dirs[nd++] = dd->dirs[i];
		const struct cmount *m = NULL;
		for (size_t i = 0; i < nd && !m; i++)
			m = data_mount(s, dirs[i]);
		if (!m) {
			add_finding(r, 0, "no-volume", s->file, s->line, s->name,
			            "the data directory %s is on no volume: the data goes with the container "
			            "(docker compose down -v or rm deletes it); mount a named volume there", dirs[0]);
		} else if (!strcmp(m->type, "tmpfs")) {
			add_finding(r, 0, "tmpfs", m->file, m->line, s->name,
			            "the data directory %s is a tmpfs: the data is lost when the container stops", m->target);
		} else if (!strcmp(m->type, "volume") && !m->source) {
			add_finding(r, 0, "anonymous-volume", m->file, m->line, s->name,
			            "the data directory %s is on an anonymous volume, which docker compose down -v "
			            "deletes and nothing names; use a named volume", m->target);
		} else if (!strcmp(m->type, "volume") && !top_volume(r->p, m->source)) {
			add_finding(r, 0, "undeclared-volume", m->file, m->line, s->name,
			            "the volume '%s' holding %s is not declared in the top-level volumes, so compose "
			            "refuses to start", m->source, m->target);
		} else if (!strcmp(m->type, "bind") && temp_path(m->source)) {
			add_finding(r, 0, "temp-bind", m->file, m->line, s->name,
			            "the data directory %s is bound to the temporary path %s, which the system "
			            "may clean; use a named volume", m->target, m->source);
		}
	}
	if (!s->restart)
		add_finding(r, 0, "no-restart", s->file, s->line, s->name,
		            "no restart policy; add restart: unless-stopped");
	else if (!strcmp(s->restart, "no"))
		add_finding(r, 0, "no-restart", s->file, s->line, s->name,
		            "restart: no; use unless-stopped so the database comes back after a reboot");
	if (s->healthcheck == 0)
		add_finding(r, 0, "no-healthcheck", s->file, s->line, s->name,
		            "no healthcheck, so dependants cannot wait for the database to be ready");
	else if (s->healthcheck < 0)
		add_finding(r, 0, "no-healthcheck", s->file, s->line, s->name, "the healthcheck is disabled");
}

/* ---- the plan ---- */

struct taken {
	unsigned char used[65536];
};

static int block_of(enum db_family f, int *lo, int *hi)
{
	char key[32];
	snprintf(key, sizeof key, "block_%s", db_family_name(f));
	const char *v = config_get("portcheck", key);
	return v && parse_port_range(v, lo, hi) == 0 ? 0 : -1;
}

static int in_any_block(int port)
{
	for (int f = DBF_POSTGRES; f < DBF_COUNT; f++) {
		int lo, hi;
		if (block_of((enum db_family)f, &lo, &hi) == 0 && port >= lo && port <= hi)
			return 1;
	}
	return 0;
}

/* The first run of n free ports in [from, to], avoiding the other families'
 * blocks when outside_blocks. */
static int find_free(const struct taken *t, int from, int to, int n, int outside_blocks)
{
	for (int p = from; p >= 1 && p + n - 1 <= to; p++) {
		int ok = 1;
		for (int k = 0; k < n && ok; k++)
			ok = !t->used[p + k] && !(outside_blocks && in_any_block(p + k));
		if (ok)
			return p;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = *(struct row *const *)a, *y = *(struct row *const *)b;
	if (x->s != y->s)
		return x->order < y->order ? -1 : 1;   /* rows of a service are contiguous */
	if (x->p->pub_lo != y->p->pub_lo)
		return x->p->pub_lo < y->p->pub_lo ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void plan(struct report *r, const struct listener_list *ls)
{
	struct taken *t = xcalloc(1, sizeof *t);
	for (size_t i = 0; i < ls->n; i++)
		t->used[ls->v[i].port] = 1;
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		const struct cport *p = w->p;
		if (!p->pub_lo)
			continue;
		w->change = w->db && ((w->flags & F_RANGE) || w->loses || ((w->flags & F_BUSY) && !is_container_proxy(w->busy)));
		if (!w->change)
			for (int k = p->pub_lo; k <= p->pub_hi; k++)
				t->used[k] = 1;
		w->new_lo = p->pub_lo;
		w->new_hi = p->pub_hi;
	}
	struct row **todo = xmalloc((r->nrows + 1) * sizeof *todo);
	size_t n = 0;
	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].change)
			todo[n++] = &r->rows[i];
	qsort(todo, n, sizeof *todo, row_cmp);
	const struct cservice *cur = NULL;
	int prev = 0;
	for (size_t i = 0; i < n; i++) {
		struct row *w = todo[i];
		int size = w->p->pub_hi - w->p->pub_lo + 1;
		if (w->s != cur) {
			cur = w->s;
			prev = r->lo - 1;
		}
		int blo, bhi, got = 0;
		if (block_of(w->s->family, &blo, &bhi) == 0) {
			if (blo < r->lo)
				blo = r->lo;
			if (bhi > r->hi)
				bhi = r->hi;
			got = find_free(t, blo > prev + 1 ? blo : prev + 1, bhi, size, 0);
		}
		if (!got)
			got = find_free(t, prev + 1, r->hi, size, 1);
		if (!got)
			got = find_free(t, prev + 1, r->hi, size, 0);
		if (!got)
			got = find_free(t, r->lo, r->hi, size, 0);
		if (!got) {
			w->manual = 1;
			w->why_manual = xasprintf("no %d free port%s left in %d-%d", size, size > 1 ? "s" : "", r->lo, r->hi);
			w->new_lo = w->new_hi = 0;
			r->nunplaced++;
			continue;
		}
		w->new_lo = got;
		w->new_hi = got + size - 1;
		for (int k = w->new_lo; k <= w->new_hi; k++)
			t->used[k] = 1;
		prev = w->new_hi;
	}
	free(todo);
	free(t);
	/* A change can be written only where the text is this binding's alone. */
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		if (!w->change || w->manual)
			continue;
		if (w->p->noedit || !w->p->nsites) {
			w->manual = 1;
			w->why_manual = xstrdup(w->p->noedit ? w->p->noedit : "its host port is written nowhere it can be changed");
			continue;
		}
		for (size_t j = 0; j < r->nrows && !w->manual; j++) {
			const struct row *o = &r->rows[j];
			if (o == w)
				continue;
			for (size_t a = 0; a < w->p->nsites && !w->manual; a++)
				for (size_t b = 0; b < o->p->nsites && !w->manual; b++)
					if (strcmp(w->p->sites[a].path, o->p->sites[b].path) == 0 &&
					    w->p->sites[a].off == o->p->sites[b].off) {
						w->manual = 1;
						w->why_manual = xasprintf("the same text at %s:%d also sets the port of '%s'",
						                          w->p->sites[a].path, w->p->sites[a].line, o->s->name);
					}
		}
	}
}

static size_t file_rank(const struct compose_project *p, const char *file)
{
	for (size_t i = 0; i < p->files.n; i++)
		if (strcmp(p->files.v[i], file) == 0)
			return i;
	for (size_t i = 0; i < p->extends_files.n; i++)
		if (strcmp(p->extends_files.v[i], file) == 0)
			return p->files.n + i;
	return p->files.n + p->extends_files.n;
}

static const struct compose_project *sort_project;

static int finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;
	size_t fx = file_rank(sort_project, x->file), fy = file_rank(sort_project, y->file);
	if (fx != fy)
		return fx < fy ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Findings in the order of the files and lines they are about. */
static void sort_findings(struct report *r)
{
	for (size_t i = 0; i < r->nf; i++)
		r->fv[i].seq = i;
	sort_project = r->p;
	if (r->nf)
		qsort(r->fv, r->nf, sizeof *r->fv, finding_cmp);
}

static void analyze(struct report *r, struct compose_project *p, int lo, int hi, const struct listener_list *ls)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->lo = lo;
	r->hi = hi;
	for (size_t i = 0; i < p->nservices; i++) {
		struct cservice *s = &p->services[i];
		if (s->family != DBF_NONE)
			r->ndb++;
		for (size_t j = 0; j < s->nports; j++) {
			r->rows = xrealloc(r->rows, (r->nrows + 1) * sizeof *r->rows);
			struct row *w = &r->rows[r->nrows];
			memset(w, 0, sizeof *w);
			w->s = s;
			w->p = &s->ports[j];
			w->order = r->nrows++;
			w->db = s->family != DBF_NONE;
		}
	}
	char pb[32], qb[32];
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		const struct cport *pt = w->p;
		if (!pt->pub_lo)
			continue;
		if (w->db && (pt->pub_lo < lo || pt->pub_hi > hi))
			w->flags |= F_RANGE;
		if (w->db && (!*pt->host_ip || !strcmp(pt->host_ip, "0.0.0.0") || !strcmp(pt->host_ip, "::")))
			w->flags |= F_EXPOSED;
		w->busy = sockets_find(ls, pt->proto, pt->host_ip, pt->pub_lo, pt->pub_hi);
		if (w->busy && w->db)
			w->flags |= F_BUSY;
		for (size_t j = 0; j < i; j++) {
			struct row *o = &r->rows[j];
			const struct cport *q = o->p;
			if (!q->pub_lo || (!w->db && !o->db) || strcmp(pt->proto, q->proto) != 0 ||
			    q->pub_hi < pt->pub_lo || pt->pub_hi < q->pub_lo || !addr_overlap(pt->host_ip, q->host_ip) ||
			    profiles_disjoint(w->s, o->s))
				continue;
			w->flags |= F_CONFLICT;
			o->flags |= F_CONFLICT;
			/* The later binding moves, unless it is not a database's. */
			if (w->db)
				w->loses = 1;
			else
				o->loses = 1;
			port_str(pb, sizeof pb, pt->pub_lo, pt->pub_hi);
			port_str(qb, sizeof qb, q->pub_lo, q->pub_hi);
			const char *same = strcmp(pt->file, q->file) ? " (in another file)" : "";
			struct row *dbrow = w->db ? w : o, *other = w->db ? o : w;
			add_finding(r, 0, "conflict", dbrow->p->file, dbrow->p->line, dbrow->s->name,
			            "host port %s/%s is also published by '%s' at %s:%d%s",
			            dbrow == w ? pb : qb, pt->proto, other->s->name, other->p->file, other->p->line, same);
		}
	}
	/* The same container port published again by a later file: compose
	 * appends ports lists, so an override does not replace the base's. */
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		if (!w->db || !w->p->pub_lo)
			continue;
		for (size_t j = 0; j < i; j++) {
			struct row *o = &r->rows[j];
			if (o->s != w->s || !o->p->pub_lo || o->p->tgt_lo != w->p->tgt_lo || strcmp(o->p->proto, w->p->proto) ||
			    !strcmp(o->p->file, w->p->file))
				continue;
			w->flags |= F_TWICE;
			port_str(pb, sizeof pb, w->p->pub_lo, w->p->pub_hi);
			port_str(qb, sizeof qb, o->p->pub_lo, o->p->pub_hi);
			add_finding(r, 0, "same-port-in-two-files", w->p->file, w->p->line, w->s->name,
			            "container port %d/%s is published twice, as %s here and as %s at %s:%d; compose "
			            "adds the ports of later files to the earlier ones (mark this list !override to replace them)",
			            w->p->tgt_lo, w->p->proto, pb, qb, o->p->file, o->p->line);
			break;
		}
		for (size_t k = 1; k < w->p->nsites; k++)
			if (strcmp(w->p->sites[k].path, w->p->sites[0].path) != 0)
				add_finding(r, 1, "repeated", w->p->sites[k].path, w->p->sites[k].line, w->s->name,
				            "port %d is repeated from %s:%d; compose keeps one binding", w->p->pub_lo,
				            w->p->sites[0].path, w->p->sites[0].line);
	}
	plan(r, ls);
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		const struct cport *pt = w->p;
		if (!w->db)
			continue;
		if (!pt->pub_lo) {
			add_finding(r, 1, "random-port", pt->file, pt->line, w->s->name,
			            "container port %d is published on a random host port", pt->tgt_lo);
			continue;
		}
		port_str(pb, sizeof pb, pt->pub_lo, pt->pub_hi);
		port_str(qb, sizeof qb, w->new_lo, w->new_hi);
		if (w->flags & F_RANGE)
			add_finding(r, 0, "out-of-range", pt->file, pt->line, w->s->name, "host port %s is outside %d-%d; %s%s",
			            pb, lo, hi, w->new_lo ? "suggested " : "", w->new_lo ? qb : w->why_manual);
		if (w->busy) {
			char owner[96];
			listener_owner(w->busy, owner, sizeof owner);
			if (is_container_proxy(w->busy))
				add_finding(r, 1, "container", pt->file, pt->line, w->s->name,
				            "host port %s is held by %s, a running container's (perhaps this project's)", pb, owner);
			else
				add_finding(r, 0, "in-use", pt->file, pt->line, w->s->name,
				            "host port %s is in use on this machine by %s", pb, owner);
		}
		if (w->flags & F_EXPOSED)
			add_finding(r, 0, "exposed", pt->file, pt->line, w->s->name,
			            "host port %s is published on every interface, so the %s is reachable "
			            "from the network; bind it to 127.0.0.1", pb, w->s->family == DBF_ADMIN ? "admin UI" : "database");
	}
	for (size_t i = 0; i < p->nservices; i++)
		if (p->services[i].family != DBF_NONE && p->services[i].family != DBF_ADMIN)
			check_protection(r, &p->services[i]);
	for (size_t i = 0; i < p->nvolumes; i++) {
		const struct cvolume *v = &p->volumes[i];
		if (v->external)
			add_finding(r, 1, "external-volume", v->file, v->line, NULL,
			            "volume '%s' is external: compose never creates nor deletes it%s%s", v->name,
			            v->fixed_name ? "; its name is " : "", v->fixed_name ? v->fixed_name : "");
		else if (v->fixed_name)
			add_finding(r, 1, "fixed-name", v->file, v->line, NULL,
			            "volume '%s' has the fixed name '%s': every project using that name shares its data",
			            v->name, v->fixed_name);
	}
	sort_findings(r);
}

static void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nrows; i++)
		free(r->rows[i].why_manual);
	free(r->rows);
	for (size_t i = 0; i < r->nf; i++)
		free(r->fv[i].msg);
	free(r->fv);
	memset(r, 0, sizeof *r);
}

/* ---- output ---- */

struct table {
	size_t ncol;
	struct strvec cells;
};

static void table_row(struct table *t, const char *const *cols)
{
	for (size_t i = 0; i < t->ncol; i++)
		sv_push(&t->cells, cols[i] ? cols[i] : "");
}

static void table_print(struct table *t)
{
	size_t *w = xcalloc(t->ncol, sizeof *w);
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t n = strlen(t->cells.v[i]);
		if (n > w[i % t->ncol])
			w[i % t->ncol] = n;
	}
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t c = i % t->ncol;
		if (c + 1 == t->ncol)
			printf("%s\n", t->cells.v[i]);
		else
			printf("%-*s  ", (int)w[c], t->cells.v[i]);
	}
	free(w);
	sv_free(&t->cells);
}

static void flags_text(unsigned flags, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof flag_names / sizeof *flag_names; i++)
		if (flags & (1u << i)) {
			size_t n = strlen(buf);
			snprintf(buf + n, len - n, "%s%s", n ? "," : "", flag_names[i]);
		}
	if (!buf[0])
		snprintf(buf, len, "ok");
}

static const char *source_text(const struct cport *p, char *buf, size_t len)
{
	if (p->env_file)
		snprintf(buf, len, "%s:%d", p->env_file, p->env_line);
	else if (p->from_environment)
		snprintf(buf, len, "environment");
	else
		buf[0] = '\0';
	return buf;
}

static void jkey(const char *k, int comma)
{
	if (comma)
		putchar(',');
	json_string(stdout, k);
	putchar(':');
}

static void jstr(const char *k, const char *v, int comma)
{
	jkey(k, comma);
	json_string(stdout, v);
}

static void jint(const char *k, long v, int comma)
{
	jkey(k, comma);
	printf("%ld", v);
}

static void jport(const char *k, int lo, int hi, int comma)
{
	char b[32];
	jkey(k, comma);
	if (!lo) {
		fputs("null", stdout);
		return;
	}
	port_str(b, sizeof b, lo, hi);
	json_string(stdout, b);
}

static void jstrvec(const char *k, const struct strvec *sv, int comma)
{
	jkey(k, comma);
	putchar('[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			putchar(',');
		json_string(stdout, sv->v[i]);
	}
	putchar(']');
}

static const char *engine_of(const struct cservice *s)
{
	return s && s->engine ? s->engine : s && s->family ? db_family_name(s->family) : "";
}

static const struct cservice *service_named(const struct report *r, const char *name)
{
	for (size_t i = 0; name && i < r->p->nservices; i++)
		if (strcmp(r->p->services[i].name, name) == 0)
			return &r->p->services[i];
	return NULL;
}

static void print_validate(const struct report *r, int format)
{
	char st[128], sug[32], pb[32], tg[32], where[512], src[256];
	if (format == FMT_HUMAN) {
		static const char *const head[] = { "SERVICE", "ENGINE", "ADDRESS", "PORT", "TARGET", "STATUS", "SUGGESTED", "WRITTEN AT" };
		struct table t = { 8, STRVEC_INIT };
		table_row(&t, head);
		for (size_t i = 0; i < r->nrows; i++) {
			const struct row *w = &r->rows[i];
			if (!w->db)
				continue;
			flags_text(w->flags, st, sizeof st);
			port_str(pb, sizeof pb, w->p->pub_lo, w->p->pub_hi);
			port_str(tg, sizeof tg, w->p->tgt_lo, w->p->tgt_hi);
			snprintf(tg + strlen(tg), sizeof tg - strlen(tg), "/%s", w->p->proto);
			if (w->new_lo)
				port_str(sug, sizeof sug, w->new_lo, w->new_hi);
			else
				snprintf(sug, sizeof sug, "%s", w->change ? "none free" : "-");
			const char *cols[] = { w->s->name, engine_of(w->s), *w->p->host_ip ? w->p->host_ip : "*",
			                       w->p->pub_lo ? pb : "random", tg, w->p->pub_lo ? st : "-", sug,
			                       where_text(w->p, where, sizeof where) };
			table_row(&t, cols);
		}
		table_print(&t);
		if (r->nf)
			putchar('\n');
		for (size_t i = 0; i < r->nf; i++) {
			const struct finding *f = &r->fv[i];
			printf("%s:%d: %s%s%s%s\n", f->file, f->line, f->note ? "note: " : "", f->service ? f->service : "",
			       f->service ? ": " : "", f->msg);
		}
		return;
	}
	if (format == FMT_TSV) {
		puts("kind\tservice\tengine\tfile\tline\thost_ip\tpublished\ttarget\tprotocol\tstatus\tsuggested\tsource\tdetail");
		for (size_t i = 0; i < r->nrows; i++) {
			const struct row *w = &r->rows[i];
			if (!w->db)
				continue;
			flags_text(w->flags, st, sizeof st);
			port_str(pb, sizeof pb, w->p->pub_lo, w->p->pub_hi);
			port_str(tg, sizeof tg, w->p->tgt_lo, w->p->tgt_hi);
			port_str(sug, sizeof sug, w->new_lo, w->new_hi);
			char owner[96] = "";
			if (w->busy)
				listener_owner(w->busy, owner, sizeof owner);
			const char *cols[] = { "port", w->s->name, engine_of(w->s), w->p->file, NULL, w->p->host_ip,
			                       w->p->pub_lo ? pb : "", tg, w->p->proto, w->p->pub_lo ? st : "random",
			                       w->p->pub_lo && w->new_lo ? sug : "", source_text(w->p, src, sizeof src),
			                       w->busy ? owner : w->why_manual };
			for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
				if (c)
					putchar('\t');
				if (c == 4)
					printf("%d", w->p->line);
				else
					tsv_field(stdout, cols[c]);
			}
			putchar('\n');
		}
		for (size_t i = 0; i < r->nf; i++) {
			const struct finding *f = &r->fv[i];
			printf("%s\t", f->note ? "note" : "finding");
			tsv_field(stdout, f->service);
			putchar('\t');
			tsv_field(stdout, f->service ? engine_of(service_named(r, f->service)) : "");
			putchar('\t');
			tsv_field(stdout, f->file);
			printf("\t%d\t\t\t\t\t", f->line);
			tsv_field(stdout, f->kind);
			printf("\t\t\t");
			tsv_field(stdout, f->msg);
			putchar('\n');
		}
		return;
	}
	printf("{");
	jkey("compliant", 0);
	printf(r->nfindings ? "false" : "true");
	snprintf(pb, sizeof pb, "%d-%d", r->lo, r->hi);
	jstr("range", pb, 1);
	jstrvec("files", &r->p->files, 1);
	jstrvec("extends_files", &r->p->extends_files, 1);
	jstr("env_file", r->p->env_path, 1);
	jkey("services", 1);
	putchar('[');
	int comma = 0;
	for (size_t i = 0; i < r->p->nservices; i++) {
		const struct cservice *s = &r->p->services[i];
		if (s->family == DBF_NONE)
			continue;
		printf("%s{", comma++ ? "," : "");
		jstr("name", s->name, 0);
		jstr("engine", engine_of(s), 1);
		jstr("family", db_family_name(s->family), 1);
		jstr("image", s->image, 1);
		jstr("file", s->file, 1);
		jint("line", s->line, 1);
		jstrvec("profiles", &s->profiles, 1);
		jstr("restart", s->restart, 1);
		jkey("healthcheck", 1);
		printf(s->healthcheck > 0 ? "true" : "false");
		putchar('}');
	}
	printf("]");
	jkey("ports", 1);
	putchar('[');
	comma = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (!w->db)
			continue;
		printf("%s{", comma++ ? "," : "");
		jstr("service", w->s->name, 0);
		jstr("engine", engine_of(w->s), 1);
		jstr("host_ip", w->p->host_ip, 1);
		jport("published", w->p->pub_lo, w->p->pub_hi, 1);
		jport("target", w->p->tgt_lo, w->p->tgt_hi, 1);
		jstr("protocol", w->p->proto, 1);
		jstr("file", w->p->file, 1);
		jint("line", w->p->line, 1);
		jstr("variable", w->p->var, 1);
		jstr("env_file", w->p->env_file, 1);
		jkey("env_line", 1);
		if (w->p->env_file)
			printf("%d", w->p->env_line);
		else
			printf("null");
		jkey("in_range", 1);
		printf(w->p->pub_lo && !(w->flags & F_RANGE) ? "true" : "false");
		jkey("status", 1);
		putchar('[');
		int c2 = 0;
		for (size_t k = 0; k < sizeof flag_names / sizeof *flag_names; k++)
			if (w->flags & (1u << k)) {
				if (c2++)
					putchar(',');
				json_string(stdout, flag_names[k]);
			}
		putchar(']');
		jport("suggested", w->p->pub_lo ? w->new_lo : 0, w->new_hi, 1);
		jkey("in_use_by", 1);
		if (w->busy) {
			putchar('{');
			jkey("pid", 0);
			if (w->busy->pid)
				printf("%d", w->busy->pid);
			else
				printf("null");
			jstr("program", *w->busy->comm ? w->busy->comm : NULL, 1);
			jstr("address", w->busy->addr, 1);
			putchar('}');
		} else {
			printf("null");
		}
		putchar('}');
	}
	printf("]");
	for (int note = 0; note <= 1; note++) {
		jkey(note ? "notes" : "findings", 1);
		putchar('[');
		comma = 0;
		for (size_t i = 0; i < r->nf; i++) {
			const struct finding *f = &r->fv[i];
			if (f->note != note)
				continue;
			printf("%s{", comma++ ? "," : "");
			jstr("kind", f->kind, 0);
			jstr("file", f->file, 1);
			jint("line", f->line, 1);
			jstr("service", f->service, 1);
			jstr("message", f->msg, 1);
			putchar('}');
		}
		putchar(']');
	}
	printf("}\n");
}

static const char *action_of(const struct row *w)
{
	return w->manual ? "manual" : w->change ? "change" : "keep";
}

static void sites_text(const struct cport *p, struct strbuf *sb)
{
	for (size_t k = 0; k < p->nsites; k++) {
		if (k)
			sb_adds(sb, ", ");
		sb_addf(sb, "%s:%d", p->sites[k].path, p->sites[k].line);
		if (p->sites[k].var)
			sb_addf(sb, " (%s)", p->sites[k].var);
	}
}

static void print_plan(const struct report *r, int format)
{
	char pb[32], nb[32], tg[32];
	struct table t = { 7, STRVEC_INIT };
	if (format == FMT_HUMAN) {
		static const char *const head[] = { "SERVICE", "ENGINE", "PORT", "NEW", "TARGET", "ACTION", "EDIT" };
		table_row(&t, head);
	} else if (format == FMT_TSV) {
		puts("service\tengine\thost_ip\tport\tnew\ttarget\tprotocol\taction\tedit\treason");
	} else {
		printf("{");
		snprintf(pb, sizeof pb, "%d-%d", r->lo, r->hi);
		jstr("range", pb, 0);
		jkey("ports", 1);
		putchar('[');
	}
	int comma = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (!w->db || !w->p->pub_lo)
			continue;
		port_str(pb, sizeof pb, w->p->pub_lo, w->p->pub_hi);
		port_str(nb, sizeof nb, w->new_lo, w->new_hi);
		port_str(tg, sizeof tg, w->p->tgt_lo, w->p->tgt_hi);
		struct strbuf edit = STRBUF_INIT;
		if (w->change && !w->manual)
			sites_text(w->p, &edit);
		if (format == FMT_HUMAN) {
			char target[48];
			snprintf(target, sizeof target, "%s/%s", tg, w->p->proto);
			const char *cols[] = { w->s->name, engine_of(w->s), pb, w->new_lo ? nb : "-", target, action_of(w),
			                       w->manual ? w->why_manual : sb_str(&edit) };
			table_row(&t, cols);
		} else if (format == FMT_TSV) {
			const char *cols[] = { w->s->name, engine_of(w->s), w->p->host_ip, pb, w->new_lo ? nb : "", tg,
			                       w->p->proto, action_of(w), sb_str(&edit), w->manual ? w->why_manual : "" };
			for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
				if (c)
					putchar('\t');
				tsv_field(stdout, cols[c]);
			}
			putchar('\n');
		} else {
			printf("%s{", comma++ ? "," : "");
			jstr("service", w->s->name, 0);
			jstr("engine", engine_of(w->s), 1);
			jstr("host_ip", w->p->host_ip, 1);
			jstr("port", pb, 1);
			jstr("new", w->new_lo ? nb : NULL, 1);
			jstr("target", tg, 1);
			jstr("protocol", w->p->proto, 1);
			jstr("action", action_of(w), 1);
			jkey("edits", 1);
			putchar('[');
			for (size_t k = 0; w->change && !w->manual && k < w->p->nsites; k++) {
				const struct csite *s = &w->p->sites[k];
				printf("%s{", k ? "," : "");
				jstr("file", s->path, 0);
				jint("line", s->line, 1);
				jint("offset", s->off, 1);
				jstr("old", s->text, 1);
				jstr("new", nb, 1);
				jstr("variable", s->var, 1);
				putchar('}');
			}
			putchar(']');
			jstr("reason", w->manual ? w->why_manual : NULL, 1);
			putchar('}');
		}
		sb_free(&edit);
	}
	if (format == FMT_HUMAN)
		table_print(&t);
	else if (format == FMT_JSON)
		printf("]}\n");
}

static const char *scheme_for(const struct cservice *s, int target)
{
	static const struct { const char *engine; int port; const char *scheme; } special[] = {
		{ "questdb", 8812, "postgres" }, { "questdb", 9009, "tcp" }, { "qdrant", 6334, "grpc" },
		{ "clickhouse", 9000, "clickhouse" }, { "neo4j", 7687, "bolt" }, { "cockroach", 8080, "http" },
	};
	static const struct { const char *engine, *scheme; } engines[] = {
		{ "mongo", "mongodb" }, { "questdb", "http" }, { "qdrant", "http" }, { "clickhouse", "http" },
		{ "elasticsearch", "http" }, { "opensearch", "http" }, { "influxdb", "http" }, { "neo4j", "http" },
		{ "couchdb", "http" },
	};
	const char *e = engine_of(s);
	for (size_t i = 0; i < sizeof special / sizeof *special; i++)
		if (!strcmp(e, special[i].engine) && target == special[i].port)
			return special[i].scheme;
	for (size_t i = 0; i < sizeof engines / sizeof *engines; i++)
		if (!strcmp(e, engines[i].engine))
			return engines[i].scheme;
	switch (s->family) {
	case DBF_POSTGRES: return "postgres";
	case DBF_MYSQL: return "mysql";
	case DBF_REDIS: return "redis";
	case DBF_QUESTDB:
	case DBF_QDRANT:
	case DBF_ADMIN: return "http";
	default: return "tcp";
	}
}

static void print_addresses(const struct report *r, int format)
{
	struct table t = { 2, STRVEC_INIT };
	if (format == FMT_TSV)
		puts("service\taddress");
	else if (format == FMT_JSON)
		printf("{\"addresses\":[");
	else {
		static const char *const head[] = { "SERVICE", "ADDRESS" };
		table_row(&t, head);
	}
	int comma = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (!w->db || !w->p->pub_lo)
			continue;
		const char *ip = w->p->host_ip;
		char host[64], pb[32];
		if (!*ip || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::") || !strcmp(ip, "127.0.0.1"))
			snprintf(host, sizeof host, "localhost");
		else if (strchr(ip, ':'))
			snprintf(host, sizeof host, "[%s]", ip);
		else
			snprintf(host, sizeof host, "%s", ip);
		port_str(pb, sizeof pb, w->p->pub_lo, w->p->pub_hi);
		char *url = xasprintf("%s://%s:%s", scheme_for(w->s, w->p->tgt_lo), host, pb);
		if (format == FMT_TSV) {
			tsv_field(stdout, w->s->name);
			putchar('\t');
			tsv_field(stdout, url);
			putchar('\n');
		} else if (format == FMT_JSON) {
			printf("%s{", comma++ ? "," : "");
			jstr("service", w->s->name, 0);
			jstr("address", url, 1);
			putchar('}');
		} else {
			const char *cols[] = { w->s->name, url };
			table_row(&t, cols);
		}
		free(url);
	}
	if (format == FMT_JSON)
		printf("]}\n");
	else if (format == FMT_HUMAN)
		table_print(&t);
}

/* ---- loading ---- */

struct session {
	struct strvec files;
	struct compose_project p;
	struct listener_list ls;
	struct report r;
	int loaded, analyzed;
};

static int parse_range_option(const char *range, int *lo, int *hi)
{
	if (!range || parse_port_range(range, lo, hi) < 0) {
		error("invalid port range '%s'; expected LO-HI, e.g. 7000-7999", range ? range : "");
		return -1;
	}
	return 0;
}

static int load_session(struct session *ss, const struct strvec *files, int lo, int hi)
{
	memset(ss, 0, sizeof *ss);
	for (size_t i = 0; i < files->n; i++)
		sv_push(&ss->files, files->v[i]);
	for (size_t i = 0; i < ss->files.n; i++)
		verbose("reading '%s'", ss->files.v[i]);
	int rc = compose_load(&ss->p, &ss->files);
	ss->loaded = 1;
	if (rc)
		return rc;
	for (size_t i = 0; i < ss->p.extends_files.n; i++)
		verbose("read '%s' through extends", ss->p.extends_files.v[i]);
	size_t ndb = 0;
	for (size_t i = 0; i < ss->p.nservices; i++)
		ndb += ss->p.services[i].family != DBF_NONE;
	if (!ndb) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < ss->files.n; i++)
			sb_addf(&sb, "%s'%s'", i ? ", " : "", ss->files.v[i]);
		error("no database service in %s (recognised by image, by the label dbguard.role, or by the "
		      "images_* lists of [portcheck] in the configuration)", sb_str(&sb));
		sb_free(&sb);
		return DG_NOTHING;
	}
	if (sockets_load(&ss->ls) < 0)
		warn("ports in use on this machine are not checked");
	analyze(&ss->r, &ss->p, lo, hi, &ss->ls);
	ss->analyzed = 1;
	return DG_OK;
}

static void session_free(struct session *ss)
{
	if (ss->analyzed)
		report_free(&ss->r);
	sockets_free(&ss->ls);
	if (ss->loaded)
		compose_free(&ss->p);
	sv_free(&ss->files);
}

/* ---- apply and rollback ---- */

struct edit {
	long off, len;
	const char *old;
	char new_[24];
	int line;
};

struct fedit {
	char *path;           /* as named in messages */
	char *real;           /* the file written (a symbolic link's target) */
	char *backup;
	struct edit *e;
	size_t n;
	char *text;
	size_t len;
	struct stat st;
	int backed_up, replaced;
};

/* The file to write for path: itself, or what a symbolic link points at, so
 * the link survives. */
static char *real_path(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		char *r = realpath(path, NULL);
		if (r)
			return r;
	}
	return xstrdup(path);
}

static int edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static struct fedit *collect_edits(const struct report *r, size_t *nfiles)
{
	struct fedit *fv = NULL;
	size_t nf = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (!w->change || w->manual)
			continue;
		for (size_t k = 0; k < w->p->nsites; k++) {
			const struct csite *s = &w->p->sites[k];
			char *real = real_path(s->path);
			size_t f;
			for (f = 0; f < nf && strcmp(fv[f].real, real) != 0; f++)
				;
			if (f == nf) {
				fv = xrealloc(fv, (nf + 1) * sizeof *fv);
				memset(&fv[nf], 0, sizeof *fv);
				fv[nf].path = xstrdup(s->path);
				fv[nf].real = real;
				fv[nf].backup = xasprintf("%s.backup", real);
				nf++;
			} else {
				free(real);
			}
			struct fedit *fe = &fv[f];
			int dup = 0;
			for (size_t j = 0; j < fe->n; j++)
				dup |= fe->e[j].off == s->off;
			if (dup)
				continue;
			fe->e = xrealloc(fe->e, (fe->n + 1) * sizeof *fe->e);
			struct edit *e = &fe->e[fe->n++];
			e->off = s->off;
			e->len = s->len;
			e->old = s->text;
			e->line = s->line;
			port_str(e->new_, sizeof e->new_, w->new_lo, w->new_hi);
			/* A range stays written as a range, even of one port. */
			if (w->p->pub_is_range && w->new_lo == w->new_hi)
				snprintf(e->new_, sizeof e->new_, "%d-%d", w->new_lo, w->new_hi);
		}
	}
	for (size_t f = 0; f < nf; f++)
		qsort(fv[f].e, fv[f].n, sizeof *fv[f].e, edit_cmp);
	*nfiles = nf;
	return fv;
}

static void free_edits(struct fedit *fv, size_t nf)
{
	for (size_t f = 0; f < nf; f++) {
		free(fv[f].path);
		free(fv[f].real);
		free(fv[f].backup);
		free(fv[f].e);
		free(fv[f].text);
	}
	free(fv);
}

static int confirm_apply(const char *given, size_t nfiles)
{
	if (!given) {
		given = getenv("DBGUARD_CONFIRM");
		if (given && !*given)
			given = NULL;
	}
	if (given) {
		if (strcmp(given, "apply") == 0)
			return DG_OK;
		error("confirmation '%s' does not allow this; apply is confirmed by --confirm=apply; nothing was changed",
		      given);
		return DG_UNCONFIRMED;
	}
	if (!term_can_prompt()) {
		error("apply rewrites %zu file%s and cannot ask without a terminal; confirm with --confirm=apply; "
		      "nothing was changed", nfiles, nfiles == 1 ? "" : "s");
		return DG_UNCONFIRMED;
	}
	char answer[64];
	char *prompt = xasprintf("type 'apply' to rewrite %zu file%s: ", nfiles, nfiles == 1 ? "" : "s");
	int rc = term_prompt(prompt, answer, sizeof answer);
	free(prompt);
	if (rc < 0 || strcmp(answer, "apply") != 0) {
		error("not confirmed; nothing was changed");
		return DG_UNCONFIRMED;
	}
	return DG_OK;
}

/* Undo a half-done apply: every replaced file gets its backup back, every
 * backup made for this run goes. */
static void undo(struct fedit *fv, size_t nf)
{
	for (size_t f = 0; f < nf; f++) {
		if (fv[f].replaced) {
			if (rename(fv[f].backup, fv[f].real) < 0)
				error("cannot restore '%s' from '%s':", fv[f].path, fv[f].backup);
			else
				fsync_dir_of(fv[f].real);
		} else if (fv[f].backed_up) {
			unlink(fv[f].backup);
		}
	}
}

static int same_binding_now(const struct report *after, const struct row *w)
{
	for (size_t i = 0; i < after->nrows; i++) {
		const struct row *a = &after->rows[i];
		if (strcmp(a->s->name, w->s->name) == 0 && a->p->tgt_lo == w->p->tgt_lo && a->p->tgt_hi == w->p->tgt_hi &&
		    strcmp(a->p->proto, w->p->proto) == 0 && strcmp(a->p->host_ip, w->p->host_ip) == 0 &&
		    a->p->pub_lo == w->new_lo && a->p->pub_hi == w->new_hi)
			return 1;
	}
	return 0;
}

static int cmd_apply(struct session *ss, const char *confirm, int force, int format, int print)
{
	struct report *r = &ss->r;
	size_t nf, nmanual = 0;
	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].manual) {
			nmanual++;
			char pb[32], nb[32];
			port_str(pb, sizeof pb, r->rows[i].p->pub_lo, r->rows[i].p->pub_hi);
			port_str(nb, sizeof nb, r->rows[i].new_lo, r->rows[i].new_hi);
			error("%s:%d: %s: cannot move host port %s%s%s by itself: %s", r->rows[i].p->file, r->rows[i].p->line,
			      r->rows[i].s->name, pb, r->rows[i].new_lo ? " to " : "", r->rows[i].new_lo ? nb : "",
			      r->rows[i].why_manual);
		}
	struct fedit *fv = collect_edits(r, &nf);
	if (nf == 0) {
		if (!nmanual)
			info("nothing to change: the database ports are in %d-%d, free and without conflicts", r->lo, r->hi);
		print_addresses(r, format);
		free_edits(fv, nf);
		return nmanual ? DG_NO : DG_OK;
	}
	for (size_t f = 0; f < nf; f++)
		for (size_t j = 0; j < fv[f].n; j++)
			info("%s:%d: %s -> %s", fv[f].path, fv[f].e[j].line, fv[f].e[j].old, fv[f].e[j].new_);
	int status = DG_NO;
	for (size_t f = 0; f < nf; f++) {
		struct stat st;
		if (!force && lstat(fv[f].backup, &st) == 0) {
			error("'%s' exists, from an earlier apply; run 'portcheck rollback' to restore it, remove it, or "
			      "use --force to replace it; nothing was changed", fv[f].backup);
			goto out;
		}
	}
	/* Read again now and check every edit lands on the text the plan saw. */
	for (size_t f = 0; f < nf; f++) {
		if (stat(fv[f].real, &fv[f].st) < 0 || !(fv[f].text = read_file(fv[f].real, &fv[f].len))) {
			error("cannot read '%s':", fv[f].path);
			goto out;
		}
		long prev_end = 0;
		for (size_t j = 0; j < fv[f].n; j++) {
			const struct edit *e = &fv[f].e[j];
			if (e->off < prev_end || (size_t)(e->off + e->len) > fv[f].len ||
			    memcmp(fv[f].text + e->off, e->old, (size_t)e->len) != 0) {
				error("'%s' changed since it was read; run portcheck again; nothing was changed", fv[f].path);
				goto out;
			}
			prev_end = e->off + e->len;
		}
	}
	status = confirm_apply(confirm, nf);
	if (status != DG_OK)
		goto out;
	status = DG_NO;
	for (size_t f = 0; f < nf; f++) {
		if (atomic_write_file_like(fv[f].backup, fv[f].text, fv[f].len, &fv[f].st) < 0) {
			error("cannot write '%s':", fv[f].backup);
			undo(fv, nf);
			goto out;
		}
		fv[f].backed_up = 1;
	}
	for (size_t f = 0; f < nf; f++) {
		struct strbuf out = STRBUF_INIT;
		long at = 0;
		for (size_t j = 0; j < fv[f].n; j++) {
			sb_add(&out, fv[f].text + at, (size_t)(fv[f].e[j].off - at));
			sb_adds(&out, fv[f].e[j].new_);
			at = fv[f].e[j].off + fv[f].e[j].len;
		}
		sb_add(&out, fv[f].text + at, fv[f].len - (size_t)at);
		int rc = atomic_write_file_like(fv[f].real, out.buf, out.len, &fv[f].st);
		sb_free(&out);
		if (rc < 0) {
			error("cannot write '%s':", fv[f].path);
			undo(fv, nf);
			error("the files are as they were");
			goto out;
		}
		fv[f].replaced = 1;
	}
	/* Read the result as compose will and check every port moved. */
	/* The warnings of this second reading were given on the first. */
	struct session after;
	int saved = msg_verbosity;
	msg_verbosity = 0;
	int rc = load_session(&after, &ss->files, r->lo, r->hi);
	msg_verbosity = saved;
	int ok = rc == DG_OK;
	for (size_t i = 0; ok && i < r->nrows; i++)
		if (r->rows[i].change && !r->rows[i].manual && !same_binding_now(&after.r, &r->rows[i])) {
			error("after the edit, '%s' does not publish the planned port %d", r->rows[i].s->name, r->rows[i].new_lo);
			ok = 0;
		}
	if (!ok) {
		undo(fv, nf);
		error("the edited files did not check out; the originals are back");
		session_free(&after);
		goto out;
	}
	if (print)
		print_addresses(&after.r, format);
	size_t nedits = 0;
	for (size_t f = 0; f < nf; f++)
		nedits += fv[f].n;
	info("changed %zu port%s in %zu file%s; the originals are kept as FILE.backup ('portcheck rollback' puts them back)",
	     nedits, nedits == 1 ? "" : "s", nf, nf == 1 ? "" : "s");
	if (after.r.nfindings)
		info("%zu finding%s remain; 'portcheck validate' lists them", after.r.nfindings,
		     after.r.nfindings == 1 ? "" : "s");
	session_free(&after);
	status = nmanual ? DG_NO : DG_OK;
out:
	free_edits(fv, nf);
	return status;
}

static int cmd_rollback(const struct strvec *given, int list_files)
{
	struct strvec files = STRVEC_INIT;
	int rc = compose_find(given->v, given->n, &files, 1);
	if (rc == DG_NOTHING) {
		error("nothing to roll back: no compose file here or in any parent directory");
		return DG_NOTHING;
	}
	if (rc)
		return rc;
	struct strvec cand = STRVEC_INIT;
	for (size_t i = 0; i < files.n; i++)
		sv_push(&cand, files.v[i]);
	/* The files read through extends are known only by parsing; talk of
	 * unset variables is beside the point here. */
	int saved = msg_verbosity;
	msg_verbosity = 0;
	char *dir = path_dir(files.v[0]);
	config_load(dir);
	struct compose_project p;
	if (compose_load(&p, &files) == DG_OK)
		for (size_t i = 0; i < p.extends_files.n; i++)
			sv_push(&cand, p.extends_files.v[i]);
	compose_free(&p);
	msg_verbosity = saved;
	sv_push_owned(&cand, path_join(dir, ".env"));
	free(dir);
	size_t restored = 0;
	int failed = 0;
	struct strvec done = STRVEC_INIT;
	for (size_t i = 0; i < cand.n; i++) {
		char *real = real_path(cand.v[i]);
		int seen = 0;
		for (size_t j = 0; j < done.n; j++)
			seen |= strcmp(done.v[j], real) == 0;
		char *backup = xasprintf("%s.backup", real);
		struct stat st;
		if (!seen && lstat(backup, &st) == 0) {
			if (rename(backup, real) < 0) {
				error("cannot put '%s' back as '%s':", backup, cand.v[i]);
				failed = 1;
			} else {
				fsync_dir_of(real);
				if (list_files)
					printf("%s\n", cand.v[i]);
				restored++;
			}
		}
		sv_push(&done, real);
		free(backup);
		free(real);
	}
	sv_free(&done);
	sv_free(&cand);
	sv_free(&files);
	if (failed)
		return DG_NO;
	if (!restored) {
		error("nothing to roll back: no FILE.backup beside the compose files or the .env");
		return DG_NOTHING;
	}
	info("restored %zu file%s from the .backup cop%s", restored, restored == 1 ? "" : "s",
	     restored == 1 ? "y" : "ies");
	return DG_OK;
}

/* Findings about the project's data volumes: Redis persistence from the
 * files; the empty-volume trap and a missing external volume from the
 * Docker Engine, when one answers. */
static void add_docker_findings(struct report *r, const struct strvec *files)
{
	struct dk_project p;
	int saved = msg_verbosity;
	msg_verbosity = 0;
	int rc = dk_project_load(NULL, files, &p);
	msg_verbosity = saved;
	if (rc != 0)
		return;
	struct dk_findings f, redis = { NULL, 0 };
	char err[512];
	dk_redis_check(&p, &redis);
	if (dk_check_project(&p, &f, err, sizeof err) < 0) {
		verbose("volumes not checked against a Docker Engine: %s", err);
		f.v = NULL;
		f.n = 0;
	}
	for (size_t i = 0; i < redis.n; i++) {
		f.v = xrealloc(f.v, (f.n + 1) * sizeof *f.v);
		f.v[f.n++] = redis.v[i];
	}
	free(redis.v);
	for (size_t i = 0; i < f.n; i++) {
		const struct cservice *s = NULL;
		for (size_t k = 0; k < r->p->nservices && !s; k++)
			if (strcmp(r->p->services[k].name, f.v[i].svc->name) == 0)
				s = &r->p->services[k];
		if (s)
			add_finding(r, 0, f.v[i].kind, s->file, s->line, s->name, "%s", f.v[i].msg);
	}
	if (f.n)
		sort_findings(r);
	dk_findings_free(&f);
	dk_project_free(&p);
}

/* apply --restart: the four phases of seed /protect-databases' migrate. */
static int apply_restart(struct session *ss, const char *confirm, int force, int format, int timeout)
{
	struct report *r = &ss->r;
	struct dk_restart rs;
	if (dk_restart_init(&rs, &ss->files, timeout) != 0) {
		dk_restart_free(&rs);
		return DG_USAGE;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (w->db && w->change && !w->manual && w->p->pub_lo && w->new_lo && !strcmp(w->p->proto, "tcp"))
			dk_restart_add_move(&rs, w->s->name, w->p->host_ip, w->p->pub_lo, w->new_lo, w->p->tgt_lo);
	}
	if (rs.n == 0) {
		dk_restart_free(&rs);
		return cmd_apply(ss, confirm, force, format, 1);
	}
	size_t nf;
	struct fedit *fv = collect_edits(r, &nf);
	int status = confirm_apply(confirm, nf);
	free_edits(fv, nf);
	if (status != DG_OK) {
		dk_restart_free(&rs);
		return status;
	}
	char *dir = path_dir(ss->files.v[0]), *store = store_dir(dir);
	free(dir);
	status = DG_NO;
	if (dk_restart_backup(&rs, store) < 0) {
		error("nothing was changed: %s failed", rs.failed_step);
		goto out;
	}
	info("phase 3/4: migration");
	status = cmd_apply(ss, "apply", force, format, 0);
	if (status != DG_OK)
		goto out;
	if (dk_restart_run(&rs, 1) == 0) {
		struct session after;
		int saved = msg_verbosity;
		msg_verbosity = 0;
		int rc = load_session(&after, &ss->files, r->lo, r->hi);
		msg_verbosity = saved;
		if (rc == DG_OK)
			print_addresses(&after.r, format);
		session_free(&after);
		info("migrated: every moved database answers on its new port with its data");
		status = DG_OK;
		goto out;
	}
	status = DG_NO;
	char *step = xstrdup(rs.failed_step);
	error("rolling back: %s", step);
	int saved = msg_verbosity;
	msg_verbosity = 0;
	int frc = cmd_rollback(&ss->files, 0);
	msg_verbosity = saved;
	free(rs.failed_step);
	rs.failed_step = NULL;
	if (frc != DG_OK) {
		error("rollback failed: the .backup files could not be put back; run 'portcheck rollback --restart'");
	} else if (dk_restart_run(&rs, 0) < 0) {
		error("rollback failed at %s; the snapshots of the backup phase are in '%s'", rs.failed_step, store);
	} else {
		print_addresses(r, format);
		error("rolled back: %s; the files are back and the services answer on their old ports, verified",
		      step);
	}
	free(step);
out:
	free(store);
	dk_restart_free(&rs);
	return status;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	enum { OPT_RANGE = 256, OPT_FORMAT, OPT_CONFIRM, OPT_FORCE, OPT_VERSION, OPT_RESTART, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "range", required_argument, NULL, OPT_RANGE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "confirm", required_argument, NULL, OPT_CONFIRM },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "restart", no_argument, NULL, OPT_RESTART },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct strvec given = STRVEC_INIT;
	const char *range = NULL, *confirm = NULL;
	int format = FMT_HUMAN, force = 0, restart = 0, timeout = -1, opt;
	while ((opt = getopt_long(argc, argv, "qvhC:f:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': sv_push(&given, optarg); break;
		case OPT_RANGE: range = optarg; break;
		case OPT_FORMAT:
			format = out_format_parse(optarg);
			if (format < 0 || format == FMT_ENV) {
				error("unknown format '%s'; use human, tsv or json", optarg);
				usage(DG_USAGE);
			}
			break;
		case OPT_CONFIRM: confirm = optarg; break;
		case OPT_FORCE: force = 1; break;
		case OPT_RESTART: restart = 1; break;
		case OPT_TIMEOUT: {
			char *end;
			long t = strtol(optarg, &end, 10);
			if (!*optarg || *end || t < 1 || t > 86400) {
				error("--timeout wants a number of seconds from 1 to 86400, not '%s'", optarg);
				usage(DG_USAGE);
			}
			timeout = (int)t;
			break;
		}
		case 'C':
			if (chdir(optarg) < 0)
				die(DG_USAGE, "cannot change to '%s':", optarg);
			break;
		case 'q': msg_verbosity = 0; break;
		case 'v': msg_verbosity = 2; break;
		case 'h': usage(DG_OK); break;
		case OPT_VERSION: print_version();
		default: usage(DG_USAGE);
		}
	}
	const char *cmd = optind < argc ? argv[optind++] : "validate";
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	enum { VALIDATE, PLAN, APPLY, ROLLBACK } what;
	if (!strcmp(cmd, "validate"))
		what = VALIDATE;
	else if (!strcmp(cmd, "plan"))
		what = PLAN;
	else if (!strcmp(cmd, "apply") || !strcmp(cmd, "migrate"))
		what = APPLY;
	else if (!strcmp(cmd, "rollback"))
		what = ROLLBACK;
	else {
		error("unknown command '%s'; use validate, plan, apply or rollback", cmd);
		usage(DG_USAGE);
	}

	if ((restart || timeout > 0) && what != APPLY && what != ROLLBACK) {
		error("--restart goes with apply and rollback");
		usage(DG_USAGE);
	}
	if (timeout > 0 && !restart) {
		error("--timeout goes with --restart");
		usage(DG_USAGE);
	}
	if (timeout < 0)
		timeout = 120;
	int status;
	if (what == ROLLBACK) {
		status = cmd_rollback(&given, 1);
		if (status == DG_OK && restart) {
			struct strvec rfiles;
			char *step = NULL;
			if (compose_find(given.v, given.n, &rfiles, 1) == 0 && dk_restart_all(&rfiles, timeout, &step) < 0) {
				error("the files are back, but the restart failed: %s", step ? step : "?");
				status = DG_NO;
			}
			free(step);
			sv_free(&rfiles);
		}
		goto done;
	}
	/* The configuration comes from the project, which the files name. */
	struct strvec files;
	status = compose_find(given.v, given.n, &files, 0);
	if (status)
		goto done;
	char *dir = path_dir(files.v[0]);
	int cerr = config_load(dir);
	free(dir);
	if (cerr) {
		sv_free(&files);
		status = DG_USAGE;
		goto done;
	}
	int lo, hi;
	if (!range)
		range = config_get("portcheck", "range");
	if (parse_range_option(range, &lo, &hi) < 0) {
		sv_free(&files);
		status = DG_USAGE;
		goto done;
	}
	struct session ss;
	status = load_session(&ss, &files, lo, hi);
	sv_free(&files);
	if (status == DG_OK) {
		if (what == VALIDATE) {
			add_docker_findings(&ss.r, &ss.files);
			print_validate(&ss.r, format);
			if (ss.r.nfindings)
				info("%zu finding%s; 'portcheck plan' shows the port changes that fix the ports", ss.r.nfindings,
				     ss.r.nfindings == 1 ? "" : "s");
			else
				info("compliant: every database port is in %d-%d, free and without conflicts", lo, hi);
			status = ss.r.nfindings ? DG_NO : DG_OK;
		} else if (what == PLAN) {
			print_plan(&ss.r, format);
			size_t nmanual = 0;
			for (size_t i = 0; i < ss.r.nrows; i++)
				nmanual += ss.r.rows[i].manual;
			if (nmanual)
				info("%zu port%s need%s a change by hand; see the reasons above", nmanual,
				     nmanual == 1 ? "" : "s", nmanual == 1 ? "s" : "");
			status = nmanual ? DG_NO : DG_OK;
		} else if (restart) {
			status = apply_restart(&ss, confirm, force, format, timeout);
		} else {
			status = cmd_apply(&ss, confirm, force, format, 1);
		}
	}
	session_free(&ss);
done:
	sv_free(&given);
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	return status;
}
