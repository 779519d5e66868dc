/* redis.c — see redis.h */
#include "docker/redis.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <yaml.h>

#include "base/io.h"
#include "docker/cli.h"

int dk_redis_persistence_off(const struct strvec *words)
{
	int save_off = 0, aof = 0;
	for (size_t i = 0; i < words->n; i++) {
		const char *w = words->v[i], *next = i + 1 < words->n ? words->v[i + 1] : NULL;
		size_t n = strlen(w);
		if (n > 5 && strcmp(w + n - 5, ".conf") == 0)
			return 0;   /* a configuration file we cannot see decides */
		if (strcmp(w, "--save") == 0 && next && (!*next || !strcmp(next, "\"\"") || !strcmp(next, "''")))
			save_off = 1;
		if (strcmp(w, "--appendonly") == 0 && next && strcmp(next, "yes") == 0)
			aof = 1;
	}
	return save_off && !aof;
}

/* Split a command string as Compose does (shell-like words, quotes). */
static void split_words(const char *s, struct strvec *out)
{
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		struct strbuf w = STRBUF_INIT;
		sb_adds(&w, "");
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			if (*s == '"' || *s == '\'') {
				char q = *s++;
				while (*s && *s != q)
					sb_addc(&w, *s++);
				if (*s)
					s++;
			} else {
				sb_addc(&w, *s++);
			}
		}
		sv_push_owned(out, sb_detach(&w));
	}
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* The command of service in file, as words; 1 when the file sets it. */
static int command_in(const char *file, const char *service, struct strvec *words)
{
	size_t len;
	char *text = read_file(file, &len);
	if (!text)
		return 0;
	yaml_parser_t parser;
	yaml_document_t doc;
	int found = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (yaml_parser_load(&parser, &doc)) {
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		yaml_node_t *cmd = map_get(&doc, map_get(&doc, map_get(&doc, root, "services"), service), "command");
		if (cmd && cmd->type == YAML_SCALAR_NODE) {
			sv_free(words);
			split_words((char *)cmd->data.scalar.value, words);
			found = 1;
		} else if (cmd && cmd->type == YAML_SEQUENCE_NODE) {
			sv_free(words);
			for (yaml_node_item_t *it = cmd->data.sequence.items.start; it < cmd->data.sequence.items.top; it++) {
				yaml_node_t *n = yaml_document_get_node(&doc, *it);
				if (n && n->type == YAML_SCALAR_NODE)
					sv_push(words, (char *)n->data.scalar.value);
			}
			found = 1;
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(text);
	return found;
}

void dk_redis_check(const struct dk_project *p, struct dk_findings *out)
{
	struct dk_dbvols dv;
	dk_project_dbvols(p, &dv);
	for (size_t i = 0; i < p->cp.nservices; i++) {
		const struct cservice *s = &p->cp.services[i];
		if (s->family != DBF_REDIS)
			continue;
		const char *vol = NULL;
		for (size_t k = 0; k < dv.n && !vol; k++)
			if (dv.v[k].svc == s && dv.v[k].volume)
				vol = dv.v[k].volume;
		if (!vol)
			continue;
		struct strvec words = STRVEC_INIT;
		for (size_t f = 0; f < p->cp.files.n; f++)
			command_in(p->cp.files.v[f], s->name, &words);
		if (dk_redis_persistence_off(&words)) {
			out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
			out->v[out->n++] = (struct dk_finding){
				"redis-no-persistence", s, xstrdup(vol), NULL,
				xasprintf("Redis keeps its data in volume '%s' but runs with persistence off (--save \"\" "
				          "and no --appendonly yes): a restart loses everything; drop --save \"\" or add "
				          "--appendonly yes", vol)
			};
		}
		sv_free(&words);
	}
	dk_dbvols_free(&dv);
}

/* ---- talking to a Redis server (RESP, no credentials) ---- */

struct rconn {
	int fd;
	char buf[4096];
	size_t have, off;
};

static int rconn_open(struct rconn *c, const char *host, int port, int timeout_ms, char *why, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	memset(c, 0, sizeof *c);
	c->fd = -1;
	int e = getaddrinfo(host, ps, &hints, &res);
	if (e) {
		snprintf(why, len, "%s: %s", host, gai_strerror(e));
		return -1;
	}
	c->fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd >= 0) {
		/* Linux bounds a blocking connect by the send timeout. */
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(c->fd, res->ai_addr, res->ai_addrlen) < 0) {
			e = errno;
			close(c->fd);
			c->fd = -1;
			errno = e;
		}
	}
	freeaddrinfo(res);
	if (c->fd < 0) {
		snprintf(why, len, "cannot connect to %s:%d: %s", host, port, strerror(errno));
		return -1;
	}
	return 0;
}

static void rconn_close(struct rconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Fill the buffer when it is used up; 0, or -1 at EOF, timeout or error. */
static int rconn_fill(struct rconn *c)
{
	if (c->off < c->have)
		return 0;
	ssize_t n = read_retry(c->fd, c->buf, sizeof c->buf);
	if (n <= 0)
		return -1;
	c->have = (size_t)n;
	c->off = 0;
	return 0;
}

/* One reply line without its CR LF (malloc'd), or NULL. */
static char *rconn_line(struct rconn *c)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "");
	for (;;) {
		if (rconn_fill(c) < 0) {
			sb_free(&sb);
			return NULL;
		}
		char ch = c->buf[c->off++];
		if (ch == '\n')
			break;
		if (sb.len > 65536) {
			sb_free(&sb);
			return NULL;
		}
		sb_addc(&sb, ch);
	}
	if (sb.len && sb.buf[sb.len - 1] == '\r')
		sb.buf[--sb.len] = '\0';
	return sb_detach(&sb);
}

/* Send an inline command; return its reply: a status or error line as is
 * ("+OK", "-ERR ..."), an integer (":5"), or a bulk string's bytes (with a
 * leading '$').  NULL when the connection fails. */
static char *rconn_cmd(struct rconn *c, const char *cmd)
{
	char *line = NULL;
	size_t n = strlen(cmd);
	if (write_all(c->fd, cmd, n) < 0 || write_all(c->fd, "\r\n", 2) < 0 || !(line = rconn_line(c)))
		return NULL;
	if (line[0] != '$')
		return line;
	long long blen = strtoll(line + 1, NULL, 10);
	free(line);
	if (blen > (1 << 24))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	sb_addc(&sb, '$');
	for (long long i = 0; blen >= 0 && i < blen + 2; i++) {   /* the bytes and CR LF */
		if (rconn_fill(c) < 0) {
			sb_free(&sb);
			return NULL;
		}
		char ch = c->buf[c->off++];
		if (i < blen)
			sb_addc(&sb, ch);
	}
	return sb_detach(&sb);
}

/* INFO keyspace: "db0:keys=4,expires=1,avg_ttl=0" per database.  The keys
 * without a TTL: those only a client can add or remove. */
static int keys_of(struct rconn *c, long long *keys, char *why, size_t len)
{
	char *r = rconn_cmd(c, "INFO keyspace");
	if (!r || r[0] != '$') {
		snprintf(why, len, "INFO keyspace: %s", r ? r : "no answer");
		free(r);
		return -1;
	}
	long long total = 0;
	for (const char *p = r; (p = strstr(p, "keys=")) != NULL;) {
		long long k = strtoll(p + 5, NULL, 10), x = 0;
		const char *e = strstr(p, "expires=");
		const char *nl = strchr(p, '\n');
		if (e && (!nl || e < nl))
			x = strtoll(e + 8, NULL, 10);
		total += k - x;
		p += 5;
	}
	free(r);
	*keys = total;
	return 0;
}

int dk_redis_save(const char *host, int port, int timeout_ms, long long *keys, char *why, size_t len)
{
	struct rconn c;
	if (rconn_open(&c, host, port, timeout_ms, why, len) < 0)
		return DK_REDIS_DOWN;
	int rc = DK_REDIS_OK;
	char *r = rconn_cmd(&c, "SAVE");
	if (!r) {
		snprintf(why, len, "%s:%d: no answer to SAVE", host, port);
		rc = DK_REDIS_FAILED;
	} else if (strncmp(r, "-NOAUTH", 7) == 0 || strncmp(r, "-WRONGPASS", 10) == 0) {
		snprintf(why, len, "%s:%d wants a password", host, port);
		rc = DK_REDIS_AUTH;
	} else if (strcmp(r, "+OK") != 0) {
		snprintf(why, len, "%s:%d: SAVE: %s", host, port, r[0] == '-' ? r + 1 : r);
		rc = DK_REDIS_FAILED;
	} else if (keys_of(&c, keys, why, len) < 0) {
		rc = DK_REDIS_FAILED;
	}
	free(r);
	rconn_close(&c);
	return rc;
}

int dk_redis_keys(const char *host, int port, int timeout_ms, long long *keys, char *why, size_t len)
{
	struct rconn c;
	if (rconn_open(&c, host, port, timeout_ms, why, len) < 0)
		return DK_REDIS_DOWN;
	int rc = keys_of(&c, keys, why, len) < 0 ? DK_REDIS_FAILED : DK_REDIS_OK;
	if (rc != DK_REDIS_OK && (strstr(why, "-NOAUTH") || strstr(why, "-WRONGPASS")))
		rc = DK_REDIS_AUTH;
	rconn_close(&c);
	return rc;
}

int dk_redis_save_service(const char *project, const char *service, int target_port, int timeout_ms,
                          long long *keys, char *why, size_t len)
{
	struct dk_result r;
	char *fp = xasprintf("label=com.docker.compose.project=%s", project);
	char *fs = xasprintf("label=com.docker.compose.service=%s", service);
	dk_runl(&r, "ps", "-q", "--filter", fp, "--filter", fs, (char *)NULL);
	free(fp);
	free(fs);
	char *id = r.status == 0 && *r.out ? dk_first_line(r.out) : NULL;
	dk_result_free(&r);
	if (!id) {
		snprintf(why, len, "no running container of service '%s'", service);
		return DK_REDIS_DOWN;
	}
	char tp[32];
	snprintf(tp, sizeof tp, "%d/tcp", target_port);
	dk_runl(&r, "port", id, tp, (char *)NULL);
	free(id);
	/* "127.0.0.1:7030", "0.0.0.0:7030" or "[::]:7030": the first will do. */
	char *line = r.status == 0 && *r.out ? dk_first_line(r.out) : NULL;
	dk_result_free(&r);
	char *colon = line ? strrchr(line, ':') : NULL;
	if (!colon) {
		snprintf(why, len, "service '%s' publishes no port for %s", service, tp);
		free(line);
		return DK_REDIS_DOWN;
	}
	*colon = '\0';
	int port = atoi(colon + 1);
	const char *host = line;
	if (!strcmp(host, "0.0.0.0") || !*host)
		host = "127.0.0.1";
	else if (!strcmp(host, "[::]"))
		host = "::1";
	else if (host[0] == '[') {
		host++;
		char *rb = strchr(host, ']');
		if (rb)
			*rb = '\0';
	}
	int rc = dk_redis_save(host, port, timeout_ms, keys, why, len);
	free(line);
	return rc;
}
