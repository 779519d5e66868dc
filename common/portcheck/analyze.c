/* analyze.c — the findings about a compose project's database ports: out of
 * the range, conflicts, published twice, in use, exposed; then the plan and
 * the data-protection checks; findings sorted by file and line. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "portcheck/impl.h"

void add_finding(struct report *r, int note, const char *kind, const char *file, int line, const char *service,
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
int is_container_proxy(const struct listener *l)
{
	static const char *const names[] = { "docker-proxy", "rootlessport", "rootlesskit", "slirp4netns", "pasta", "conmon" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(l->comm, names[i]) == 0)
			return 1;
	return 0;
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

/* A row per published port, in the order of the services and their ports. */
static void collect_rows(struct report *r, struct compose_project *p)
{
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
}

/* Out of the range, exposed, in use, and conflicts between bindings. */
static void check_bindings(struct report *r, const struct listener_list *ls)
{
	char pb[32], qb[32];
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		const struct cport *pt = w->p;
		if (!pt->pub_lo)
			continue;
		if (w->db && (pt->pub_lo < r->lo || pt->pub_hi > r->hi))
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
}

/* The same container port published again by a later file: compose
 * appends ports lists, so an override does not replace the base's. */
static void check_published_twice(struct report *r)
{
	char pb[32], qb[32];
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
}

/* The findings about each database port, with the plan's suggestion. */
static void port_findings(struct report *r)
{
	char pb[32], qb[32];
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
			            pb, r->lo, r->hi, w->new_lo ? "suggested " : "", w->new_lo ? qb : w->why_manual);
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
}

static void volume_notes(struct report *r, const struct compose_project *p)
{
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
}

void report_analyze(struct report *r, struct compose_project *p, int lo, int hi, const struct listener_list *ls)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->lo = lo;
	r->hi = hi;
	collect_rows(r, p);
	check_bindings(r, ls);
	check_published_twice(r);
	plan_ports(r, ls);
	port_findings(r);
	for (size_t i = 0; i < p->nservices; i++)
		if (p->services[i].family != DBF_NONE && p->services[i].family != DBF_ADMIN)
			check_protection(r, &p->services[i]);
	volume_notes(r, p);
	sort_findings(r);
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nrows; i++)
		free(r->rows[i].why_manual);
	free(r->rows);
	for (size_t i = 0; i < r->nf; i++)
		free(r->fv[i].msg);
	free(r->fv);
	memset(r, 0, sizeof *r);
}
