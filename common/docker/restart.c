/* restart.c — see restart.h */
#include "docker/restart.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/process.h"
#include "docker/cli.h"
#include "docker/redis.h"
#include "docker/volume.h"

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void fail(struct dk_restart *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct dk_restart *rs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct strbuf sb = STRBUF_INIT;
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	error("%s", sb_str(&sb));
	if (!rs->failed_step)
		rs->failed_step = sb_detach(&sb);
	else
		sb_free(&sb);
}

static const char *env_of(const struct cservice *s, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; i < s->environment.n; i++)
		if (strncmp(s->environment.v[i], key, k) == 0 && s->environment.v[i][k] == '=')
			return s->environment.v[i] + k + 1;
	return NULL;
}

static const char *env_any(const struct cservice *s, const char *a, const char *b)
{
	const char *v = env_of(s, a);
	return v && *v ? v : b ? env_of(s, b) : NULL;
}

/* The credentials the image's entrypoint was given, as a target. */
static int creds_of(const struct cservice *s, struct target *t)
{
	memset(t, 0, sizeof *t);
	const char *user = NULL, *pw = NULL, *db = NULL;
	if (s->family == DBF_POSTGRES) {
		user = env_of(s, "POSTGRES_USER");
		if (!user || !*user)
			user = "postgres";
		pw = env_of(s, "POSTGRES_PASSWORD");
		db = env_of(s, "POSTGRES_DB");
		if (!db || !*db)
			db = user;
		target_set(t, TF_ENGINE, "postgres", "compose");
	} else if (s->family == DBF_MYSQL) {
		db = env_any(s, "MARIADB_DATABASE", "MYSQL_DATABASE");
		user = env_any(s, "MARIADB_USER", "MYSQL_USER");
		pw = env_any(s, "MARIADB_PASSWORD", "MYSQL_PASSWORD");
		if (!user || !*user || !pw || !*pw) {
			user = "root";
			pw = env_any(s, "MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD");
		}
		target_set(t, TF_ENGINE, "mysql", "compose");
	} else {
		return 0;
	}
	if (!pw || !*pw || !db || !*db)
		return 0;
	target_set(t, TF_USER, user, "compose");
	target_set(t, TF_PASSWORD, pw, "compose");
	target_set(t, TF_DATABASE, db, "compose");
	return 1;
}

static const struct cservice *service_of(const struct dk_project *p, const char *name)
{
	for (size_t i = 0; i < p->cp.nservices; i++)
		if (strcmp(p->cp.services[i].name, name) == 0)
			return &p->cp.services[i];
	return NULL;
}

int dk_restart_init(struct dk_restart *rs, const struct strvec *files, int timeout)
{
	memset(rs, 0, sizeof *rs);
	rs->timeout = timeout;
	for (size_t i = 0; i < files->n; i++)
		sv_push(&rs->files, files->v[i]);
	int saved = msg_verbosity;
	msg_verbosity = 0;   /* portcheck has said what there was to say about the files */
	int rc = dk_project_load(NULL, &rs->files, &rs->proj);
	msg_verbosity = saved;
	return rc;
}

void dk_restart_add_move(struct dk_restart *rs, const char *service, const char *host_ip, int old_port,
                         int new_port, int target_port)
{
	rs->mv = xrealloc(rs->mv, (rs->n + 1) * sizeof *rs->mv);
	rs->mv[rs->n++] = (struct dk_move){ xstrdup(service), xstrdup(host_ip ? host_ip : ""), old_port, new_port,
		                                target_port };
	for (size_t i = 0; i < rs->nst; i++)
		if (strcmp(rs->st[i].service, service) == 0)
			return;
	const struct cservice *s = service_of(&rs->proj, service);
	rs->st = xrealloc(rs->st, (rs->nst + 1) * sizeof *rs->st);
	struct dk_svc_state *st = &rs->st[rs->nst++];
	memset(st, 0, sizeof *st);
	st->service = xstrdup(service);
	st->family = s ? s->family : DBF_OTHER;
	st->has_creds = s ? creds_of(s, &st->tgt) : 0;
}

/* ---- talking to the databases ---- */

static const char *connect_host(const char *ip)
{
	if (!ip || !*ip || strcmp(ip, "0.0.0.0") == 0)
		return "127.0.0.1";
	if (strcmp(ip, "::") == 0)
		return "::1";
	return ip;
}

static int tcp_connect(const char *host, int port, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return -1;
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		return -1;
	}
	int rc = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	struct pollfd p = { fd, POLLOUT, 0 };
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (rc < 0 && (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr)) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

/* A real protocol exchange, no credentials needed: PostgreSQL answers an
 * SSLRequest with 'S' or 'N'; MySQL/MariaDB greets with protocol 10;
 * Redis answers PING with +PONG (or -NOAUTH: still Redis).  Others: the
 * TCP connect.  0, or -1 with what went wrong in why. */
static int handshake(enum db_family f, const char *host, int port, char *why, size_t len)
{
	int fd = tcp_connect(host, port, 3000);
	if (fd < 0) {
		snprintf(why, len, "nothing accepts connections on %s:%d", host, port);
		return -1;
	}
	unsigned char buf[128];
	int rc = 0;
	ssize_t n;
	if (f == DBF_POSTGRES) {
		static const unsigned char ssl_request[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
		if (write(fd, ssl_request, sizeof ssl_request) != (ssize_t)sizeof ssl_request ||
		    (n = read(fd, buf, 1)) != 1 || (buf[0] != 'S' && buf[0] != 'N')) {
			snprintf(why, len, "%s:%d does not answer as PostgreSQL", host, port);
			rc = -1;
		}
	} else if (f == DBF_MYSQL) {
		n = read(fd, buf, sizeof buf);
		if (n < 5 || (buf[4] != 10 && buf[4] != 0xff)) {
			snprintf(why, len, "%s:%d does not greet as MySQL/MariaDB", host, port);
			rc = -1;
		}
	} else if (f == DBF_REDIS) {
		if (write(fd, "PING\r\n", 6) != 6 || (n = read(fd, buf, sizeof buf - 1)) < 1 ||
		    (buf[0] != '+' && buf[0] != '-')) {
			snprintf(why, len, "%s:%d does not answer PING as Redis", host, port);
			rc = -1;
		}
	}
	close(fd);
	return rc;
}

static int port_free(const char *ip, int port)
{
	int fd = tcp_connect(connect_host(ip), port, 500);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return 1;
}

/* ---- Compose ---- */

static void compose_base(const struct dk_restart *rs, struct strvec *a)
{
	dk_compose_argv(a);
	sv_push(a, "-p");
	sv_push(a, rs->proj.name);
	for (size_t i = 0; i < rs->files.n; i++) {
		sv_push(a, "-f");
		sv_push(a, rs->files.v[i]);
	}
}

/* Run Compose with our stderr; 0 or its status. */
static int compose_run(const struct dk_restart *rs, const char *const *args, const struct strvec *services,
                       char **out)
{
	struct strvec a = STRVEC_INIT;
	compose_base(rs, &a);
	for (; *args; args++)
		sv_push(&a, *args);
	for (size_t i = 0; services && i < services->n; i++)
		sv_push(&a, services->v[i]);
	int st;
	if (out) {
		st = run_capture(sv_argv(&a), NULL, -1, out, NULL);
	} else {
		struct spawn_opts so = SPAWN_OPTS_INIT;
		so.fd_out = 2;
		pid_t pid;
		int e = spawn_child(sv_argv(&a), &so, &pid);
		st = -1;
		if (!e)
			wait_child(pid, &st);
	}
	sv_free(&a);
	return st < 0 ? 127 : exit_status_of(st);
}

/* Wait for service's container: healthy by its healthcheck, else running
 * with its port accepting connections. */
static int wait_healthy(struct dk_restart *rs, const char *service, enum db_family f, const char *host, int port)
{
	double deadline = mono() + rs->timeout;
	char *id = NULL, why[256] = "";
	struct strvec svc = STRVEC_INIT;
	sv_push(&svc, service);
	static const char *const ps[] = { "ps", "-q", NULL };
	const char *state = "not created";
	while (mono() < deadline) {
		if (!id) {
			char *out = NULL;
			if (compose_run(rs, ps, &svc, &out) == 0 && out && *out)
				id = dk_first_line(out);
			free(out);
		}
		if (id) {
			struct dk_result r;
			dk_runl(&r, "inspect", "--format",
			        "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", id,
			        (char *)NULL);
			char st[32] = "", health[32] = "";
			sscanf(r.out, "%31s %31s", st, health);
			dk_result_free(&r);
			if (strcmp(st, "exited") == 0 || strcmp(st, "dead") == 0) {
				state = "exited";
				break;
			}
			if (strcmp(health, "unhealthy") == 0) {
				state = "unhealthy";
				break;
			}
			if (strcmp(health, "healthy") == 0 ||
			    (strcmp(health, "none") == 0 && strcmp(st, "running") == 0 && handshake(DBF_OTHER, host, port, why, sizeof why) == 0)) {
				free(id);
				sv_free(&svc);
				return 0;
			}
			state = strcmp(health, "starting") == 0 ? "starting (health)" : st;
		}
		nap(250);
	}
	(void)f;
	fail(rs, "health of '%s': its container is %s after %d s%s", service, state,
	     (int)(rs->timeout), strcmp(state, "unhealthy") == 0 ? " (docker inspect shows its healthcheck's output)" : "");
	free(id);
	sv_free(&svc);
	return -1;
}

static int counts_equal(const struct table_counts *a, const struct table_counts *b, char *why, size_t len)
{
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].name, b->v[j].name);
		if (c < 0) {
			snprintf(why, len, "table '%s' is gone", a->v[i].name);
			return 0;
		}
		if (c > 0) {
			snprintf(why, len, "table '%s' is new", b->v[j].name);
			return 0;
		}
		if (a->v[i].rows != b->v[j].rows) {
			snprintf(why, len, "table '%s' has %lld rows, the snapshot %lld", a->v[i].name, b->v[j].rows,
			         a->v[i].rows);
			return 0;
		}
		i++;
		j++;
	}
	return 1;
}

static char *url_escape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c))
			sb_addc(&sb, (char)c);
		else
			sb_addf(&sb, "%%%02X", c);
	}
	return sb.buf ? sb_detach(&sb) : xstrdup("");
}

/* DATABASE_URL=... for the service's credentials on host:port: a child's
 * environment, never its argv.  The caller wipes and frees it. */
static char *url_env(const struct dk_svc_state *st, const char *host, int port)
{
	char *user = url_escape(target_get(&st->tgt, TF_USER));
	char *pw = url_escape(target_get(&st->tgt, TF_PASSWORD));
	char *db = url_escape(target_get(&st->tgt, TF_DATABASE));
	char *env = xasprintf("DATABASE_URL=%s://%s:%s@%s:%d/%s", st->family == DBF_POSTGRES ? "postgres" : "mysql",
	                      user, pw, strchr(host, ':') ? "[::1]" : host, port, db);
	explicit_bzero(pw, strlen(pw));
	free(user);
	free(pw);
	free(db);
	return env;
}

/* Run db-snap with the service's credentials in its environment; its stdout
 * in *out, its stderr to err_fd (-1: ours).  Returns its exit status. */
static int db_snap(const struct dk_svc_state *st, const char *host, int port, char *const *args, int err_fd,
                   char **out)
{
	char *env0 = url_env(st, host, port);
	char *env[] = { env0, NULL };
	struct strvec a = STRVEC_INIT;
	sv_push_owned(&a, find_sibling_program("db-snap"));
	for (; *args; args++)
		sv_push(&a, *args);
	int ws = run_capture(sv_argv(&a), env, err_fd, out, NULL);
	explicit_bzero(env0, strlen(env0));
	free(env0);
	sv_free(&a);
	return ws < 0 ? 127 : exit_status_of(ws);
}

/* The tables and row counts of the database now, as a dump counts them:
 * db-snap writes the dump to /dev/null and its metadata to our pipe (the
 * engines' client libraries stay out of portcheck).  quiet: its complaints
 * go to /dev/null (a server still starting).  0, DG_UNREACHABLE, or -1. */
static int current_counts(const struct dk_svc_state *st, const char *host, int port, int quiet,
                          struct table_counts *tc)
{
	char *const args[] = { "-q", "--tier=dump", "--compress=none", "-o", "/dev/null", "--meta=/dev/stdout", NULL };
	char *out = NULL;
	int null = quiet ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	int status = db_snap(st, host, port, args, null, &out);
	if (null >= 0)
		close(null);
	int rc = status == DG_UNREACHABLE ? DG_UNREACHABLE
	       : status != 0 || !out || table_counts_from_meta(out, tc) < 0 ? -1 : 0;
	free(out);
	return rc;
}

static int verify_one(struct dk_restart *rs, struct dk_svc_state *st, const char *host, int port)
{
	char why[512];
	double deadline = mono() + rs->timeout;
	/* The server may still be starting after a TCP-only health wait. */
	while (handshake(st->family, host, port, why, sizeof why) < 0) {
		if (mono() >= deadline) {
			fail(rs, "verify '%s' on port %d: %s", st->service, port, why);
			return -1;
		}
		nap(250);
	}
	if (st->family == DBF_REDIS && st->checked_keys) {
		long long keys = -1;
		if (dk_redis_keys(host, port, 3000, &keys, why, sizeof why) != DK_REDIS_OK) {
			fail(rs, "verify '%s' on port %d: %s", st->service, port, why);
			return -1;
		}
		if (keys != st->redis_keys) {
			fail(rs, "verify '%s' on port %d: the data differs from the backup: %lld keys, the backup %lld",
			     st->service, port, keys, st->redis_keys);
			return -1;
		}
		info("  %s: answers on %s:%d, %lld keys, as in the backup", st->service, host, port, keys);
		return 0;
	}
	if (!st->has_creds) {
		info("  %s: answers on %s:%d", st->service, host, port);
		return 0;
	}
	struct table_counts now = { 0 };
	int rc;
	/* The server may still refuse logins while it starts. */
	while ((rc = current_counts(st, host, port, 1, &now)) == DG_UNREACHABLE && mono() < deadline)
		nap(250);
	if (rc != 0)
		rc = current_counts(st, host, port, 0, &now);   /* once more, to say why */
	if (rc != 0) {
		fail(rs, "verify '%s' on port %d: %s", st->service, port,
		     rc == DG_UNREACHABLE ? "the database does not accept the login" : "db-snap could not count its rows");
		return -1;
	}
	if (st->checked_counts && !counts_equal(&st->counts, &now, why, sizeof why)) {
		fail(rs, "verify '%s' on port %d: the data differs from the snapshot: %s", st->service, port, why);
		table_counts_free(&now);
		return -1;
	}
	long long rows = 0;
	for (size_t i = 0; i < now.n; i++)
		rows += now.v[i].rows;
	info("  %s: answers on %s:%d, %zu tables, %lld rows%s", st->service, host, port, now.n, rows,
	     st->checked_counts ? ", as in the snapshot" : "");
	table_counts_free(&now);
	return 0;
}

/* ---- the phases ---- */

/* db-snap of a database with credentials: the URL goes through the
 * environment (DATABASE_URL), never argv.  0, -1 (failed, reported), or
 * DG_UNREACHABLE when the database is not running. */
static int logical_snapshot(struct dk_restart *rs, struct dk_svc_state *st, int port, const char *host)
{
	char *reason = xasprintf("portcheck apply --restart: before moving '%s'", st->service);
	char *const args[] = { "-q", "--label=pre-port-move", "--reason", reason, NULL };
	char *out = NULL;
	int status = db_snap(st, host, port, args, -1, &out);
	free(reason);
	if (status == DG_UNREACHABLE) {
		free(out);
		return DG_UNREACHABLE;
	}
	if (status != 0 || !out || !*out) {
		fail(rs, "backup of '%s': db-snap exit %d", st->service, status);
		free(out);
		return -1;
	}
	st->snapshot = dk_first_line(out);
	free(out);
	/* The counts the snapshot recorded: what the move must keep. */
	char *meta = xasprintf("%s.meta", st->snapshot), *text = read_file(meta, NULL);
	if (text && table_counts_from_meta(text, &st->counts) == 0)
		st->checked_counts = 1;
	free(text);
	free(meta);
	info("  %s: %s", st->service, st->snapshot);
	return 0;
}

/* A running Redis writes what it holds in memory to its volume first (SAVE),
 * so the volume snapshot, and Redis itself after the move, have it all,
 * whatever its persistence settings or its last save.  Not running: its
 * volume is at rest; a password we do not have: snapshotted as last saved. */
static int redis_save(struct dk_restart *rs, struct dk_svc_state *st, const struct dk_move *m)
{
	char why[256];
	long long keys = 0;
	int port = m->old_port;
	switch (dk_redis_save_service(rs->proj.name, st->service, m->target_port, rs->timeout * 1000, &keys, why,
	                              sizeof why)) {
	case DK_REDIS_OK:
		st->redis_keys = keys;
		st->checked_keys = 1;
		info("  %s: Redis saved %lld keys to its volume (SAVE)", st->service, keys);
		return 0;
	case DK_REDIS_DOWN:
		info("  %s: not running on port %d; snapshotting its volume", st->service, port);
		return 0;
	case DK_REDIS_AUTH:
		warn("  %s: %s: its volume holds what Redis last saved", st->service, why);
		return 0;
	default:
		fail(rs, "backup of '%s': %s", st->service, why);
		return -1;
	}
}

int dk_restart_backup(struct dk_restart *rs, const char *dir)
{
	char err[512];
	info("phase 1/4: backup");
	if (dk_engine_check(err, sizeof err) < 0 || dk_compose_check(err, sizeof err) < 0) {
		fail(rs, "backup: %s", err);
		return -1;
	}
	struct dk_dbvols dv;
	dk_project_dbvols(&rs->proj, &dv);
	int rc = 0;
	for (size_t i = 0; i < rs->nst && rc == 0; i++) {
		struct dk_svc_state *st = &rs->st[i];
		const struct dk_move *m = NULL;
		for (size_t k = 0; k < rs->n && !m; k++)
			if (strcmp(rs->mv[k].service, st->service) == 0)
				m = &rs->mv[k];
		if (st->has_creds && (st->family == DBF_POSTGRES || st->family == DBF_MYSQL)) {
			rc = logical_snapshot(rs, st, m->old_port, connect_host(m->host_ip));
			if (rc != DG_UNREACHABLE)
				continue;
			/* Not running: its volume is all there is, and it is at rest. */
			info("  %s: not running on port %d; snapshotting its volume", st->service, m->old_port);
			rc = 0;
		}
		if (st->family == DBF_REDIS)
			rc = redis_save(rs, st, m);
		int any = 0;
		for (size_t k = 0; k < dv.n && rc == 0; k++) {
			if (strcmp(dv.v[k].svc->name, st->service) != 0 || !dv.v[k].volume)
				continue;
			int status;
			char *path = dk_snap_volume(dir, dv.v[k].volume, "pre-port-move", "portcheck apply --restart",
			                            &status);
			if (!path) {
				fail(rs, "backup of '%s': volume '%s': db-snap --volume exit %d", st->service, dv.v[k].volume,
				     status);
				rc = -1;
			} else {
				info("  %s: %s", st->service, path);
				free(st->snapshot);
				st->snapshot = path;
				any = 1;
			}
		}
		if (rc == 0 && !any)
			warn("  %s: no credentials and no named volume: nothing to snapshot", st->service);
	}
	dk_dbvols_free(&dv);
	if (rc)
		return rc;
	info("phase 2/4: validation");
	for (size_t k = 0; k < rs->n; k++) {
		if (!port_free(rs->mv[k].host_ip, rs->mv[k].new_port)) {
			fail(rs, "validation: port %d for '%s' is in use", rs->mv[k].new_port, rs->mv[k].service);
			return -1;
		}
		info("  %s: port %d is free", rs->mv[k].service, rs->mv[k].new_port);
	}
	return 0;
}

static int recreate(struct dk_restart *rs, const char *why)
{
	struct strvec svcs = STRVEC_INIT;
	for (size_t i = 0; i < rs->nst; i++)
		sv_push(&svcs, rs->st[i].service);
	static const char *const up[] = { "up", "-d", "--no-deps", NULL };
	int st = compose_run(rs, up, &svcs, NULL);
	sv_free(&svcs);
	if (st != 0) {
		fail(rs, "%s: compose up exit %d", why, st);
		return -1;
	}
	return 0;
}

int dk_restart_run(struct dk_restart *rs, int to_new)
{
	struct strbuf names = STRBUF_INIT;
	for (size_t i = 0; i < rs->nst; i++)
		sb_addf(&names, "%s%s", i ? ", " : "", rs->st[i].service);
	if (!to_new || rs->rollback)
		info("rollback: recreating %s on the %s ports", sb_str(&names), rs->rollback ? "restored" : "old");
	else
		info("  recreating %s", sb_str(&names));
	sb_free(&names);
	if (recreate(rs, to_new ? "restart" : "restart on the old ports") < 0)
		return -1;
	for (size_t i = 0; i < rs->nst; i++) {
		const struct dk_move *m = NULL;
		for (size_t k = 0; k < rs->n && !m; k++)
			if (strcmp(rs->mv[k].service, rs->st[i].service) == 0)
				m = &rs->mv[k];
		if (wait_healthy(rs, rs->st[i].service, rs->st[i].family, connect_host(m->host_ip),
		                 to_new ? m->new_port : m->old_port) < 0)
			return -1;
	}
	if (to_new && !rs->rollback)
		info("phase 4/4: verification");
	else
		info("rollback: verification");
	for (size_t k = 0; k < rs->n; k++) {
		struct dk_svc_state *st = NULL;
		for (size_t i = 0; i < rs->nst && !st; i++)
			if (strcmp(rs->st[i].service, rs->mv[k].service) == 0)
				st = &rs->st[i];
		if (verify_one(rs, st, connect_host(rs->mv[k].host_ip), to_new ? rs->mv[k].new_port : rs->mv[k].old_port) < 0)
			return -1;
	}
	return 0;
}

int dk_restart_all(const struct strvec *files, int timeout, char **failed_step)
{
	struct dk_restart rs;
	*failed_step = NULL;
	if (dk_restart_init(&rs, files, timeout) != 0) {
		dk_restart_free(&rs);
		*failed_step = xstrdup("reading the compose files");
		return -1;
	}
	char err[512];
	int rc = 0;
	rs.rollback = 1;
	if (dk_engine_check(err, sizeof err) < 0 || dk_compose_check(err, sizeof err) < 0) {
		fail(&rs, "restart: %s", err);
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < rs.proj.cp.nservices; i++) {
		const struct cservice *s = &rs.proj.cp.services[i];
		if (s->family == DBF_NONE || s->family == DBF_ADMIN)
			continue;
		for (size_t j = 0; j < s->nports; j++)
			if (s->ports[j].pub_lo && !strcmp(s->ports[j].proto, "tcp"))
				dk_restart_add_move(&rs, s->name, s->ports[j].host_ip, s->ports[j].pub_lo, s->ports[j].pub_lo,
				                    s->ports[j].tgt_lo);
	}
	for (size_t i = 0; rc == 0 && i < rs.nst; i++)
		if (rs.st[i].family == DBF_REDIS)
			for (size_t k = 0; k < rs.n && rc == 0; k++)
				if (strcmp(rs.mv[k].service, rs.st[i].service) == 0)
					rc = redis_save(&rs, &rs.st[i], &rs.mv[k]);
	if (rc == 0 && rs.n)
		rc = dk_restart_run(&rs, 1);
	if (rs.failed_step)
		*failed_step = xstrdup(rs.failed_step);
	dk_restart_free(&rs);
	return rc;
}

void dk_restart_free(struct dk_restart *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->mv[i].service);
		free(rs->mv[i].host_ip);
	}
	free(rs->mv);
	for (size_t i = 0; i < rs->nst; i++) {
		free(rs->st[i].service);
		free(rs->st[i].snapshot);
		target_free(&rs->st[i].tgt);
		table_counts_free(&rs->st[i].counts);
	}
	free(rs->st);
	dk_project_free(&rs->proj);
	sv_free(&rs->files);
	free(rs->failed_step);
	memset(rs, 0, sizeof *rs);
}
