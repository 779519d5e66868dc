/* protection.c — is a database service's data safe: its data directory on a
 * named, declared volume (not the container, a tmpfs, an anonymous volume or
 * a temporary bind), a restart policy, a healthcheck. */
#include <stdlib.h>
#include <string.h>

#include "portcheck/impl.h"

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

void check_protection(struct report *r, const struct cservice *s)
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
