/* ports.c — a service's ports: short syntax ([IP:][HOST:]CONTAINER[/PROTO])
 * and long syntax, identical bindings kept once, and every place a host
 * port's text is written (the compose file or a .env) for apply to rewrite. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose/impl.h"

/* ---- the model ---- */

static int parse_range(const char *s, size_t n, int *lo, int *hi, int allow_zero)
{
	char buf[32];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *dash = strchr(buf, '-');
	char *end;
	errno = 0;
	long a = strtol(buf, &end, 10), b;
	if (end == buf || !isdigit((unsigned char)buf[0]))
		return -1;
	if (dash) {
		if (end != dash || !isdigit((unsigned char)dash[1]))
			return -1;
		b = strtol(dash + 1, &end, 10);
	} else {
		b = a;
	}
	if (*end || errno || a > 65535 || b > 65535 || a > b || (!allow_zero && a == 0))
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

/* Where the host-port bytes [off, off+len) of an interpolated value are written. */
static void port_site(struct ctx *c, struct cport *pt, const struct node *n, const struct interp_result *r, size_t off,
                      size_t len)
{
	const char *var;
	size_t src;
	int kind = interp_span_source(r, off, len, &var, &src);
	if (kind == 0) {
		pt->noedit = xasprintf("the host port at %s:%d is built from several parts", n->file->path, n->line);
		return;
	}
	struct csite site = { NULL, n->line, n->col, -1, (long)len, NULL, "" };
	if (len >= sizeof site.text) {
		pt->noedit = xasprintf("the host port at %s:%d is too long to be a port", n->file->path, n->line);
		return;
	}
	memcpy(site.text, r->text + off, len);
	if (kind == 2) {
		struct interp_origin o;
		interp_origin(&c->pv->ip, var, &o);
		pt->var = var;
		if (o.from_env) {
			pt->from_environment = 1;
			pt->noedit = xasprintf("it comes from the environment variable %s", var);
			return;
		}
		pt->env_file = o.file;
		pt->env_line = o.line;
		if (o.off < 0) {
			pt->noedit = xasprintf("the value of %s at %s:%d is not plain text", var, o.file, o.line);
			return;
		}
		site.path = o.file;
		site.line = o.line;
		site.col = 0;
		site.off = o.off + (long)src;
		site.var = var;
	} else {
		if (n->off < 0) {
			pt->noedit = xasprintf("the port at %s:%d is not written as a plain or simply quoted value",
			                       n->file->path, n->line);
			return;
		}
		site.path = n->file->path;
		site.off = n->off + (long)src;
		/* Sanity: the bytes there are the port text. */
		if ((size_t)site.off + len > n->file->len || memcmp(n->file->text + site.off, r->text + off, len) != 0) {
			pt->noedit = xasprintf("the port text at %s:%d could not be located", n->file->path, n->line);
			return;
		}
	}
	pt->sites = xrealloc(pt->sites, (pt->nsites + 1) * sizeof *pt->sites);
	pt->sites[pt->nsites++] = site;
}

/* Short syntax: [[IP:](HOST|LO-HI):](PORT|LO-HI)[/PROTO], IPv6 in brackets
 * or bare, as docker's ParsePortSpec splits it. */
static int parse_short_port(struct ctx *c, const struct node *n, struct cport *pt)
{
	struct interp_result r;
	char *text = node_value_r(c, n, "a port", &r);
	if (!text) {
		if (!c->pv->errors)
			compose_fail(c, n, "empty port");
		interp_result_free(&r);
		return -1;
	}
	pt->text = xstrdup(text);
	size_t len = strlen(text);
	const char *slash = strrchr(text, '/');
	snprintf(pt->proto, sizeof pt->proto, "tcp");
	if (slash) {
		const char *proto = slash + 1;
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp")) {
			compose_fail(c, n, "invalid port '%s': unknown protocol '%s'", text, proto);
			interp_result_free(&r);
			return -1;
		}
		snprintf(pt->proto, sizeof pt->proto, "%s", proto);
		len = (size_t)(slash - text);
	}
	size_t ip_off = 0, ip_len = 0, host_off = 0, host_len = 0, cont_off = 0, cont_len = 0;
	int has_host = 0;
	if (text[0] == '[') {
		const char *close = memchr(text, ']', len);
		if (!close || (size_t)(close - text) + 1 >= len || close[1] != ':') {
			compose_fail(c, n, "invalid port '%s': expected [IPv6]:HOST:CONTAINER", text);
			interp_result_free(&r);
			return -1;
		}
		ip_off = 1;
		ip_len = (size_t)(close - text) - 1;
		size_t rest = (size_t)(close - text) + 2;
		const char *colon = memchr(text + rest, ':', len - rest);
		if (!colon) {
			compose_fail(c, n, "invalid port '%s': expected [IPv6]:HOST:CONTAINER", text);
			interp_result_free(&r);
			return -1;
		}
		has_host = 1;
		host_off = rest;
		host_len = (size_t)(colon - text) - rest;
		cont_off = (size_t)(colon - text) + 1;
		cont_len = len - cont_off;
	} else {
		size_t colons = 0, last = 0, prev = 0;
		for (size_t i = 0; i < len; i++)
			if (text[i] == ':') {
				colons++;
				prev = last;
				last = i;
			}
		if (colons == 0) {
			cont_off = 0;
			cont_len = len;
		} else if (colons == 1) {
			has_host = 1;
			host_off = 0;
			host_len = last;
			cont_off = last + 1;
			cont_len = len - cont_off;
		} else {
			has_host = 1;
			ip_off = 0;
			ip_len = prev;
			host_off = prev + 1;
			host_len = last - host_off;
			cont_off = last + 1;
			cont_len = len - cont_off;
		}
	}
	pt->host_ip = xstrndup(text + ip_off, ip_len);
	if (parse_range(text + cont_off, cont_len, &pt->tgt_lo, &pt->tgt_hi, 0) < 0) {
		compose_fail(c, n, "invalid port '%s': the container port must be a number from 1 to 65535 or a range LO-HI", text);
		interp_result_free(&r);
		return -1;
	}
	if (has_host && host_len) {
		if (parse_range(text + host_off, host_len, &pt->pub_lo, &pt->pub_hi, 0) < 0) {
			compose_fail(c, n, "invalid port '%s': the host port must be a number from 1 to 65535 or a range LO-HI", text);
			interp_result_free(&r);
			return -1;
		}
		pt->pub_is_range = memchr(text + host_off, '-', host_len) != NULL;
		if (pt->tgt_hi > pt->tgt_lo && pt->pub_hi - pt->pub_lo != pt->tgt_hi - pt->tgt_lo) {
			compose_fail(c, n, "invalid port '%s': the host and container ranges differ in size", text);
			interp_result_free(&r);
			return -1;
		}
		if (pt->pub_hi == pt->pub_lo && pt->tgt_hi > pt->tgt_lo) {
			compose_fail(c, n, "invalid port '%s': a single host port for a range of container ports", text);
			interp_result_free(&r);
			return -1;
		}
		port_site(c, pt, n, &r, host_off, host_len);
	}
	interp_result_free(&r);
	return 0;
}

static int parse_long_port(struct ctx *c, const struct node *n, struct cport *pt)
{
	struct node *tn = node_get(n, "target"), *pn = node_get(n, "published");
	char *target = node_value(c, tn, "target");
	if (!target) {
		if (!c->pv->errors)
			compose_fail(c, n, "a port without 'target'");
		return -1;
	}
	int ok = parse_range(target, strlen(target), &pt->tgt_lo, &pt->tgt_hi, 0) == 0 && pt->tgt_lo == pt->tgt_hi;
	if (!ok) {
		compose_fail(c, tn, "invalid target port '%s': must be a number from 1 to 65535", target);
		free(target);
		return -1;
	}
	char *hip = node_value(c, node_get(n, "host_ip"), "host_ip");
	pt->host_ip = hip ? hip : xstrdup("");
	char *proto = node_value(c, node_get(n, "protocol"), "protocol");
	snprintf(pt->proto, sizeof pt->proto, "%s", proto ? proto : "tcp");
	if (strcmp(pt->proto, "tcp") && strcmp(pt->proto, "udp") && strcmp(pt->proto, "sctp")) {
		compose_fail(c, n, "invalid protocol '%s'", proto);
		free(proto);
		free(target);
		return -1;
	}
	free(proto);
	pt->mode = node_value(c, node_get(n, "mode"), "mode");
	pt->name = node_value(c, node_get(n, "name"), "name");
	struct interp_result r;
	char *pub = node_value_r(c, pn, "published", &r);
	if (pub && *pub) {
		if (parse_range(pub, strlen(pub), &pt->pub_lo, &pt->pub_hi, 0) < 0) {
			compose_fail(c, pn, "invalid published port '%s': must be a number from 1 to 65535 or a range LO-HI", pub);
			interp_result_free(&r);
			free(target);
			return -1;
		}
		pt->pub_is_range = strchr(pub, '-') != NULL;
		port_site(c, pt, pn, &r, 0, strlen(pub));
	}
	pt->text = xasprintf("%s%s%s%s%s/%s", *pt->host_ip ? pt->host_ip : "", *pt->host_ip ? ":" : "", pub ? pub : "",
	                     pub && *pub ? ":" : "", target, pt->proto);
	interp_result_free(&r);
	free(target);
	return 0;
}

void cport_free(struct cport *pt)
{
	free(pt->text);
	free(pt->host_ip);
	free(pt->mode);
	free(pt->name);
	free(pt->sites);
	free(pt->noedit);
}

static int same_binding(const struct cport *a, const struct cport *b)
{
	return strcmp(a->host_ip, b->host_ip) == 0 && a->pub_lo == b->pub_lo && a->pub_hi == b->pub_hi &&
	       a->tgt_lo == b->tgt_lo && a->tgt_hi == b->tgt_hi && strcmp(a->proto, b->proto) == 0;
}

void compose_read_ports(struct ctx *c, struct cservice *s, struct node *ports)
{
	if (node_is_null(ports))
		return;
	if (ports->kind != N_SEQ) {
		compose_fail(c, ports, "'ports' of '%s' must be a list, not %s", s->name, node_kind(ports));
		return;
	}
	for (size_t i = 0; i < ports->n; i++) {
		struct node *n = ports->kids[i];
		struct cport pt;
		memset(&pt, 0, sizeof pt);
		pt.file = n->file->path;
		pt.line = n->line;
		int rc = n->kind == N_MAP ? parse_long_port(c, n, &pt) : n->kind == N_SCALAR ? parse_short_port(c, n, &pt) : -1;
		if (n->kind == N_SEQ)
			compose_fail(c, n, "a port must be a string, a number or a mapping, not a list");
		if (rc < 0) {
			cport_free(&pt);
			continue;
		}
		/* Compose keeps one of identical bindings; remember every place it is written. */
		size_t j;
		for (j = 0; j < s->nports && !same_binding(&s->ports[j], &pt); j++)
			;
		if (j < s->nports) {
			struct cport *q = &s->ports[j];
			for (size_t k = 0; k < pt.nsites; k++) {
				q->sites = xrealloc(q->sites, (q->nsites + 1) * sizeof *q->sites);
				q->sites[q->nsites++] = pt.sites[k];
			}
			if (!q->noedit && pt.noedit)
				q->noedit = xstrdup(pt.noedit);
			cport_free(&pt);
			continue;
		}
		s->ports = xrealloc(s->ports, (s->nports + 1) * sizeof *s->ports);
		s->ports[s->nports++] = pt;
	}
}
