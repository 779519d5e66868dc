/* compose_ports.c — Laravel Sail and other compose setups: .env says
 * DB_HOST=mysql, a name that only resolves inside the compose network.  On
 * the host the database is reached at the port compose publishes for it
 * (Sail: '${FORWARD_DB_PORT:-3306}:3306'), which is what --ping, db-snap
 * and safe-run must use.  The mapping is read with portcheck's compose
 * reader; FORWARD_DB_PORT is the fallback when the mapping cannot be read. */
#include "resolve/framework.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "compose/compose.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

/* Inside a container on a compose network the service names resolve
 * through Docker's embedded DNS server, 127.0.0.11. */
static int inside_compose_network(const char *host)
{
	char *conf = read_file("/etc/resolv.conf", NULL);
	int docker_dns = conf && strstr(conf, "nameserver 127.0.0.11") != NULL;
	free(conf);
	if (!docker_dns)
		return 0;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	int ok = getaddrinfo(host, NULL, &hints, &res) == 0;
	if (res)
		freeaddrinfo(res);
	return ok;
}

/* The project's compose files as docker compose picks them in its directory. */
static int compose_files(struct run *r, struct strvec *files)
{
	static const char *const base[] = { "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml" };
	static const char *const over[] = { "compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
	                                     "docker-compose.override.yaml" };
	const char *const *sets[] = { base, over };
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < 4; i++) {
			char *p = run_path(r, sets[s][i]);
			if (access(p, F_OK) == 0) {
				sv_push_owned(files, p);
				break;
			}
			free(p);
		}
	return files->n > 0;
}

static struct compose_project *project(struct run *r)
{
	if (r->compose_tried)
		return r->compose;
	r->compose_tried = 1;
	struct strvec files = STRVEC_INIT;
	if (!compose_files(r, &files))
		return NULL;
	struct compose_project *p = xcalloc(1, sizeof *p);
	/* Its warnings (unset variables of other services) are portcheck's business. */
	int save = msg_verbosity;
	msg_verbosity = 0;
	int rc = compose_load(p, &files);
	msg_verbosity = save;
	if (rc != 0) {
		run_note(r, "%s could not be read: the host port of a compose service is unknown", files.v[0]);
		compose_free(p);
		free(p);
		p = NULL;
	}
	sv_free(&files);
	r->compose = p;
	return p;
}

void compose_release(struct run *r)
{
	if (r->compose) {
		compose_free(r->compose);
		free(r->compose);
	}
	r->compose = NULL;
}

static int valid_port(const char *s)
{
	if (!s || !*s || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return 0;
	long n = strtol(s, NULL, 10);
	return n >= 1 && n <= 65535;
}

/* FORWARD_DB_PORT as compose sees it: the process environment, then .env. */
static const char *forward_port(struct run *r, char **where)
{
	const char *v = getenv("FORWARD_DB_PORT");
	if (v) {
		*where = xstrdup("environment FORWARD_DB_PORT");
		return v;
	}
	char *env = run_path(r, ".env");
	for (size_t i = 0; i < r->nfiles; i++)
		if (!strcmp(r->files[i]->path, env)) {
			const struct dotenv_entry *e = dotenv_get(r->files[i], "FORWARD_DB_PORT");
			if (e) {
				*where = xasprintf("%s:%d FORWARD_DB_PORT", r->files[i]->path, e->line);
				free(env);
				return e->value;
			}
		}
	free(env);
	return NULL;
}

static void reach_at(struct target *t, const char *host, const char *host_src, int port, const char *port_src)
{
	char buf[16];
	snprintf(buf, sizeof buf, "%d", port);
	target_set(t, TF_HOST, host, host_src);
	target_set(t, TF_PORT, buf, port_src);
}

void compose_forward(struct run *r, struct target *t)
{
	const char *host = target_get(t, TF_HOST);
	if (!host || host[0] == '/' || strchr(host, '.') || strchr(host, ':') || !strcasecmp(host, "localhost"))
		return;
	struct strvec files = STRVEC_INIT;
	int have = compose_files(r, &files);
	sv_free(&files);
	if (!have)
		return;
	if (inside_compose_network(host)) {
		run_note(r, "'%s' resolves here through Docker's DNS: this runs inside the compose network, so it is used as it is",
		         host);
		return;
	}
	char *svc = xstrdup(host);
	char *was = xstrdup(t->src[TF_HOST] ? t->src[TF_HOST] : "?");
	int port = target_port(t);
	struct compose_project *p = project(r);
	if (p) {
		const struct cservice *s = NULL;
		for (size_t i = 0; i < p->nservices; i++)
			if (!strcmp(p->services[i].name, svc))
				s = &p->services[i];
		if (!s) {
			free(svc);
			free(was);
			return;   /* not a compose service: a machine on the network */
		}
		for (size_t i = 0; i < s->nports; i++) {
			const struct cport *c = &s->ports[i];
			if (strcmp(c->proto, "tcp") || port < c->tgt_lo || port > c->tgt_hi)
				continue;
			if (!c->pub_lo) {
				run_note(r, "compose service '%s' publishes container port %d on a random host port (%s:%d): "
				            "start it and name the port with --url", svc, port, c->file, c->line);
				break;
			}
			int pub = c->pub_lo + (port - c->tgt_lo);
			const char *ip = c->host_ip && *c->host_ip && strcmp(c->host_ip, "0.0.0.0") && strcmp(c->host_ip, "::")
			               ? c->host_ip : "127.0.0.1";
			char *hsrc = xasprintf("compose service '%s' (%s), published on this machine (%s:%d)", svc, was, c->file,
			                       c->line);
			char *psrc = c->var ? (c->env_file ? xasprintf("%s:%d ports (%s from %s:%d)", c->file, c->line, c->var,
			                                               c->env_file, c->env_line)
			                                   : xasprintf("%s:%d ports (%s from the %s)", c->file, c->line, c->var,
			                                               c->from_environment ? "environment" : "default"))
			                    : xasprintf("%s:%d ports", c->file, c->line);
			reach_at(t, ip, hsrc, pub, psrc);
			run_note(r, "'%s' is a compose service; from this machine it is %s:%d (%s)", svc, ip, pub, psrc);
			free(hsrc);
			free(psrc);
			free(svc);
			free(was);
			return;
		}
		run_note(r, "compose service '%s' publishes no host port for %d: it is reachable only inside the compose network",
		         svc, port);
		free(svc);
		free(was);
		return;
	}
	/* The mapping could not be read: Sail's FORWARD_DB_PORT still says
	 * where the database is published. */
	char *where = NULL;
	const char *fwd = forward_port(r, &where);
	if (valid_port(fwd)) {
		char *hsrc = xasprintf("compose service '%s' (%s), published on this machine", svc, was);
		reach_at(t, "127.0.0.1", hsrc, atoi(fwd), where);
		run_note(r, "'%s' is taken for a compose service published at 127.0.0.1:%s (%s); the compose port mapping itself "
		            "could not be read", svc, fwd, where);
		free(hsrc);
	} else {
		run_note(r, "'%s' may be a compose service, but neither the compose port mapping nor FORWARD_DB_PORT says where "
		            "it is published", svc);
	}
	free(where);
	free(svc);
	free(was);
}
