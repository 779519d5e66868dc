/* print.c — what portcheck prints on stdout: the validate report, the plan
 * and the services' addresses, each as human, tsv or json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/output.h"
#include "base/xalloc.h"
#include "portcheck/impl.h"

static const char *const flag_names[] = { "out-of-range", "conflict", "same-port-in-two-files", "in-use", "exposed" };

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

static void validate_human(const struct report *r)
{
	char st[128], sug[32], pb[32], tg[32], where[512];
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
}

static void validate_tsv(const struct report *r)
{
	char st[128], sug[32], pb[32], tg[32], src[256];
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
}

static void validate_json(const struct report *r)
{
	char pb[32];
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

void print_validate(const struct report *r, int format)
{
	if (format == FMT_HUMAN)
		validate_human(r);
	else if (format == FMT_TSV)
		validate_tsv(r);
	else
		validate_json(r);
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

void print_plan(const struct report *r, int format)
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

void print_addresses(const struct report *r, int format)
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
