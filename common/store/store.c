/* store.c — the snapshot store (see store.h): names, metadata, listing,
 * verification, locking, stale-file cleanup and retention. */
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/compress.h"
#include "model/config.h"
#include "base/io.h"
#include "base/xalloc.h"
#include "model/project.h"

#define META_FORMAT "dbguard-snapshot-1"
#define TS_LEN 16   /* YYYYMMDDTHHMMSSZ */

/* Longest first: "x.sqlite.zst" must not be taken for "x.sqlite" + ".zst". */
static const char *const exts[] = { "sqlite.zst", "sqlite.gz", "sql.zst", "sql.gz", "tar.zst", "tar.gz",
                                     "sqlite", "sql", "tar", NULL };

char *store_dir(const char *project_dir)
{
	if (project_dir)
		return config_backup_dir(project_dir);
	char *p = project_dir_find();
	char *d = config_backup_dir(p);
	free(p);
	return d;
}

int store_ensure(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
	} else {
		if (errno != ENOENT || mkdir_p(dir, 0700) < 0)
			return -1;
		/* mkdir's mode passes through the umask; the store is private. */
		if (chmod(dir, 0700) < 0)
			return -1;
	}
	char *gi = path_join(dir, ".gitignore");
	int rc = 0;
	if (access(gi, F_OK) < 0)
		rc = atomic_write_file(gi, "*\n", 2, 0644);
	free(gi);
	return rc;
}

static char *sanitize(const char *s)
{
	char *r = xstrdup(s ? s : "");
	for (char *p = r; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			*p = '-';
	}
	if (r[0] == '.')
		r[0] = '-';
	return r;
}

char *store_dbkey(const struct target *t)
{
	const char *db = target_get(t, TF_DATABASE);
	const char *engine = target_get(t, TF_ENGINE);
	if (!db || !*db)
		return xstrdup("db");
	if (engine && strcmp(engine, "sqlite") == 0) {
		char *base = path_base(db);
		char *dot = strrchr(base, '.');
		if (dot && dot != base)
			*dot = '\0';
		char *k = sanitize(*base ? base : "db");
		free(base);
		return k;
	}
	return sanitize(db);
}

char *store_snapshot_name(const char *dbkey, time_t when, const char *label, const char *ext)
{
	char ts[TS_LEN + 1];
	struct tm tm;
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", gmtime_r(&when, &tm));
	char *k = sanitize(dbkey);
	char *l = label && *label ? sanitize(label) : NULL;
	if (ext[0] == '.')
		ext++;
	char *name = xasprintf("%s_%s%s%s.%s", k, ts, l ? "_" : "", l ? l : "", ext);
	free(k);
	free(l);
	return name;
}

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int make_time(int y, int mo, int d, int h, int mi, int s, time_t *out)
{
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	                 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	*out = timegm(&tm);
	return 0;
}

/* "YYYYMMDDTHHMMSSZ" at s -> time; 0 or -1. */
static int parse_ts(const char *s, time_t *out)
{
	if (!digits(s, 8) || s[8] != 'T' || !digits(s + 9, 6) || s[15] != 'Z')
		return -1;
	return make_time(num(s, 4), num(s + 4, 2), num(s + 6, 2), num(s + 9, 2), num(s + 11, 2),
	                 num(s + 13, 2), out);
}

void store_format_time(time_t t, char buf[32])
{
	struct tm tm;
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

int store_parse_time(const char *s, time_t *out)
{
	if (strlen(s) != 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2) || s[19] != 'Z')
		return -1;
	return make_time(num(s, 4), num(s + 5, 2), num(s + 8, 2), num(s + 11, 2), num(s + 14, 2),
	                 num(s + 17, 2), out);
}

static const char *name_ext(const char *name, size_t *stem)
{
	size_t n = strlen(name);
	for (const char *const *e = exts; *e; e++) {
		size_t k = strlen(*e);
		if (n > k + 1 && name[n - k - 1] == '.' && strcmp(name + n - k, *e) == 0) {
			*stem = n - k - 1;
			return *e;
		}
	}
	return NULL;
}

/* The name with its time at key_len + 1 (after "<dbkey>_"): 0 or -1. */
static int parse_at(const char *name, size_t stem, size_t key_len, time_t *when, char **label)
{
	size_t t = key_len + 1;
	if (key_len == 0 || name[key_len] != '_' || t + TS_LEN > stem || parse_ts(name + t, when) < 0)
		return -1;
	size_t after = t + TS_LEN;
	if (after == stem) {
		if (label)
			*label = NULL;
		return 0;
	}
	if (name[after] != '_' || after + 1 == stem)
		return -1;
	if (label)
		*label = xstrndup(name + after + 1, stem - after - 1);
	return 0;
}

int store_parse_name(const char *name, char **dbkey, time_t *when, char **label, char **ext)
{
	size_t stem;
	const char *e = name_ext(name, &stem);
	if (!e || name[0] == '.')
		return -1;
	for (size_t i = 1; i < stem; i++) {
		time_t t;
		if (name[i] != '_' || parse_at(name, stem, i, &t, label) < 0)
			continue;
		if (dbkey)
			*dbkey = xstrndup(name, i);
		if (when)
			*when = t;
		if (ext)
			*ext = xstrdup(e);
		return 0;
	}
	return -1;
}

/* ---- metadata ---- */

void store_meta_free(struct snapshot_meta *m)
{
	if (!m)
		return;
	free(m->engine);
	free(m->server_version);
	free(m->database);
	free(m->host);
	free(m->label);
	free(m->reason);
	free(m->compression);
	free(m->sha256);
	free(m->dbguard_version);
	table_counts_free(&m->tables);
	memset(m, 0, sizeof *m);
}

static int parse_ull(const char *s, unsigned long long *out)
{
	if (!*s || strlen(s) > 19 || !digits(s, (int)strlen(s)))
		return -1;
	*out = strtoull(s, NULL, 10);
	return 0;
}

static int is_sha256(const char *s)
{
	if (strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* Keys that must be present; bit i for required[i]. */
static const char *const required[] = { "format", "engine", "database", "created", "compression",
                                        "raw_bytes", "size", "sha256", "tables", "rows", NULL };

int store_meta_read(const char *meta_path, struct snapshot_meta *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	size_t len;
	char *buf = read_file(meta_path, &len);
	if (!buf) {
		if (errno == ENOENT)
			snprintf(err, errlen, "no metadata file");
		else
			snprintf(err, errlen, "cannot read the metadata: %s", strerror(errno));
		return -1;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "the metadata is not a text file");
		free(buf);
		return -1;
	}
	unsigned seen = 0;
	unsigned long long ntables = 0, rows = 0;
	size_t cap = 0;
	int lineno = 0;
	char *line = buf, *next;
	const char *problem = NULL;
	for (; *line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!*line)
			continue;
		char *eq = strchr(line, '=');
		if (!eq) {
			problem = "not a key=value line";
			break;
		}
		*eq = '\0';
		const char *k = line, *v = eq + 1;
		for (int i = 0; required[i]; i++)
			if (strcmp(k, required[i]) == 0)
				seen |= 1u << i;
		char **str = NULL;
		if (strcmp(k, "format") == 0) {
			if (strcmp(v, META_FORMAT) != 0) {
				problem = "unknown metadata format";
				break;
			}
		} else if (strcmp(k, "engine") == 0) {
			if (strcmp(v, "postgres") && strcmp(v, "mysql") && strcmp(v, "sqlite") &&
			    strcmp(v, "volume")) {
				problem = "unknown engine";
				break;
			}
			str = &m->engine;
		} else if (strcmp(k, "server_version") == 0) {
			str = &m->server_version;
		} else if (strcmp(k, "database") == 0) {
			str = &m->database;
		} else if (strcmp(k, "host") == 0) {
			str = &m->host;
		} else if (strcmp(k, "port") == 0) {
			unsigned long long p = 0;
			if (*v && (parse_ull(v, &p) < 0 || p > 65535)) {
				problem = "invalid port";
				break;
			}
			m->port = (int)p;
		} else if (strcmp(k, "created") == 0) {
			if (store_parse_time(v, &m->created) < 0) {
				problem = "invalid time (expected YYYY-MM-DDTHH:MM:SSZ)";
				break;
			}
		} else if (strcmp(k, "dbguard_version") == 0) {
			str = &m->dbguard_version;
		} else if (strcmp(k, "label") == 0) {
			str = &m->label;
		} else if (strcmp(k, "reason") == 0) {
			str = &m->reason;
		} else if (strcmp(k, "compression") == 0) {
			if (strcmp(v, "zstd") && strcmp(v, "gzip") && strcmp(v, "none")) {
				problem = "unknown compression";
				break;
			}
			str = &m->compression;
		} else if (strcmp(k, "raw_bytes") == 0 || strcmp(k, "size") == 0) {
			if (parse_ull(v, k[0] == 'r' ? &m->raw_bytes : &m->size) < 0) {
				problem = "invalid number";
				break;
			}
		} else if (strcmp(k, "sha256") == 0) {
			if (!is_sha256(v)) {
				problem = "invalid sha256 (expected 64 lowercase hex digits)";
				break;
			}
			str = &m->sha256;
		} else if (strcmp(k, "tables") == 0 || strcmp(k, "rows") == 0) {
			if (parse_ull(v, k[0] == 't' ? &ntables : &rows) < 0) {
				problem = "invalid number";
				break;
			}
		} else if (strcmp(k, "table") == 0) {
			char *f[3];
			char *copy = xstrdup(v);
			unsigned long long n;
			if (tsv_split(copy, f, 2) != 2 || !*f[0] || parse_ull(f[1], &n) < 0) {
				free(copy);
				problem = "invalid table line (expected table=NAME<TAB>ROWS)";
				break;
			}
			if (m->tables.n == cap) {
				cap = cap ? cap * 2 : 16;
				m->tables.v = xrealloc(m->tables.v, cap * sizeof *m->tables.v);
			}
			m->tables.v[m->tables.n].name = xstrdup(f[0]);
			m->tables.v[m->tables.n].rows = (long long)n;
			m->tables.n++;
			free(copy);
		}
		if (str) {
			free(*str);
			*str = xstrdup(v);
		}
	}
	if (problem) {
		snprintf(err, errlen, "metadata line %d: %s", lineno, problem);
		goto bad;
	}
	for (int i = 0; required[i]; i++)
		if (!(seen & (1u << i))) {
			snprintf(err, errlen, "the metadata has no %s", required[i]);
			goto bad;
		}
	unsigned long long sum = 0;
	for (size_t i = 0; i < m->tables.n; i++)
		sum += (unsigned long long)m->tables.v[i].rows;
	if (ntables != m->tables.n || sum != rows) {
		snprintf(err, errlen, "the metadata does not add up: tables=%llu rows=%llu, but %zu table "
		         "lines with %llu rows", ntables, rows, m->tables.n, sum);
		goto bad;
	}
	m->rows = (long long)rows;
	free(buf);
	return 0;
bad:
	free(buf);
	store_meta_free(m);
	return -1;
}

/* One key=value line; a value never spans lines. */
static void meta_kv(struct strbuf *sb, const char *key, const char *value)
{
	sb_adds(sb, key);
	sb_addc(sb, '=');
	for (const char *p = value ? value : ""; *p; p++)
		sb_addc(sb, *p == '\n' || *p == '\r' ? ' ' : *p);
	sb_addc(sb, '\n');
}

static void tsv_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\t': sb_adds(sb, "\\t"); break;
		case '\n': sb_adds(sb, "\\n"); break;
		case '\\': sb_adds(sb, "\\\\"); break;
		default: sb_addc(sb, *s);
		}
	}
}

char *store_meta_format(const struct snapshot_meta *m)
{
	struct strbuf sb = STRBUF_INIT;
	char created[32];
	store_format_time(m->created, created);
	meta_kv(&sb, "format", META_FORMAT);
	meta_kv(&sb, "engine", m->engine);
	meta_kv(&sb, "server_version", m->server_version);
	meta_kv(&sb, "database", m->database);
	meta_kv(&sb, "host", m->host);
	if (m->port)
		sb_addf(&sb, "port=%d\n", m->port);
	else
		sb_adds(&sb, "port=\n");
	meta_kv(&sb, "created", created);
	meta_kv(&sb, "dbguard_version", m->dbguard_version ? m->dbguard_version : DBGUARD_VERSION);
	meta_kv(&sb, "label", m->label);
	meta_kv(&sb, "reason", m->reason);
	meta_kv(&sb, "compression", m->compression);
	sb_addf(&sb, "raw_bytes=%llu\nsize=%llu\n", m->raw_bytes, m->size);
	meta_kv(&sb, "sha256", m->sha256);
	long long rows = 0;
	for (size_t i = 0; i < m->tables.n; i++)
		rows += m->tables.v[i].rows;
	sb_addf(&sb, "tables=%zu\nrows=%lld\n", m->tables.n, rows);
	for (size_t i = 0; i < m->tables.n; i++) {
		sb_adds(&sb, "table=");
		tsv_escape(&sb, m->tables.v[i].name);
		sb_addf(&sb, "\t%lld\n", m->tables.v[i].rows);
	}
	return sb_detach(&sb);
}

int store_meta_write(const char *meta_path, const struct snapshot_meta *m)
{
	char *text = store_meta_format(m);
	int rc = atomic_write_file(meta_path, text, strlen(text), 0600);
	int e = errno;
	free(text);
	errno = e;
	return rc;
}

/* ---- listing ---- */

static void snapshot_free(struct snapshot *s)
{
	free(s->path);
	free(s->meta_path);
	free(s->name);
	free(s->dbkey);
	free(s->problem);
	store_meta_free(&s->meta);
}

void snapshot_list_free(struct snapshot_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		snapshot_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct snapshot *x = a, *y = b;
	if (x->when != y->when)
		return x->when < y->when ? 1 : -1;
	return strcmp(y->name, x->name);
}

/* Parse name for listing: with dbkey, only that database's names. */
static int list_name(const char *name, const char *dbkey, char **key, time_t *when)
{
	if (!dbkey)
		return store_parse_name(name, key, when, NULL, NULL);
	size_t stem, k = strlen(dbkey);
	if (name[0] == '.' || !name_ext(name, &stem) || strncmp(name, dbkey, k) != 0 ||
	    parse_at(name, stem, k, when, NULL) < 0)
		return -1;
	*key = xstrdup(dbkey);
	return 0;
}

void store_list(const char *dir, const char *dbkey, struct snapshot_list *out)
{
	out->v = NULL;
	out->n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *key;
		time_t when;
		if (list_name(de->d_name, dbkey, &key, &when) < 0)
			continue;
		char *path = path_join(dir, de->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			free(key);
			continue;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 32;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		struct snapshot *s = &out->v[out->n++];
		memset(s, 0, sizeof *s);
		s->path = path;
		s->meta_path = xasprintf("%s.meta", path);
		s->name = xstrdup(de->d_name);
		s->dbkey = key;
		s->when = when;
		char err[256];
		if (store_meta_read(s->meta_path, &s->meta, err, sizeof err) < 0) {
			s->problem = xstrdup(err);
		} else if ((unsigned long long)st.st_size != s->meta.size) {
			s->problem = xasprintf("its size is %llu bytes, the metadata says %llu",
			                       (unsigned long long)st.st_size, s->meta.size);
		} else {
			s->good = 1;
		}
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, newest_first);
}

void store_list_target(const char *dir, const struct target *t, struct snapshot_list *out)
{
	char *key = store_dbkey(t);
	store_list(dir, key, out);
	free(key);
	const char *engine = target_get(t, TF_ENGINE);
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (engine && out->v[i].good && strcmp(out->v[i].meta.engine, engine) != 0)
			snapshot_free(&out->v[i]);
		else
			out->v[k++] = out->v[i];
	}
	out->n = k;
}

const struct snapshot *store_latest(const struct snapshot_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].good)
			return &l->v[i];
	return NULL;
}

/* ---- verification ---- */

struct header_check {
	char head[16];
	size_t have;
};

static int head_sink(void *arg, const void *buf, size_t len)
{
	struct header_check *h = arg;
	if (h->have < sizeof h->head) {
		size_t n = sizeof h->head - h->have;
		if (n > len)
			n = len;
		memcpy(h->head + h->have, buf, n);
		h->have += n;
	}
	return 0;
}

static const char *ext_compression(const char *ext)
{
	size_t n = strlen(ext);
	if (n > 4 && strcmp(ext + n - 4, ".zst") == 0)
		return "zstd";
	if (n > 3 && strcmp(ext + n - 3, ".gz") == 0)
		return "gzip";
	return "none";
}

int store_verify(const char *snapshot_path, struct snapshot_meta *mp, char *err, size_t errlen)
{
	struct snapshot_meta own;
	struct snapshot_meta *m = mp ? mp : &own;
	char *meta_path = xasprintf("%s.meta", snapshot_path);
	char e[256];
	int rc = -1;
	if (store_meta_read(meta_path, m, e, sizeof e) < 0) {
		snprintf(err, errlen, "%s", e);
		free(meta_path);
		return -1;
	}
	free(meta_path);
	struct stat st;
	int fd = open(snapshot_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot open it: %s", strerror(errno));
		goto out;
	}
	if ((unsigned long long)st.st_size != m->size) {
		snprintf(err, errlen, "its size is %llu bytes, the metadata says %llu (truncated or altered)",
		         (unsigned long long)st.st_size, m->size);
		goto out;
	}
	/* A store name promises a format; it must be the one recorded. */
	char *base = path_base(snapshot_path), *ext = NULL;
	int name_bad = 0;
	if (store_parse_name(base, NULL, NULL, NULL, &ext) == 0) {
		const char *want = ext_compression(ext);
		int sqlite_name = strncmp(ext, "sqlite", 6) == 0;
		int tar_name = strncmp(ext, "tar", 3) == 0;
		if (strcmp(want, m->compression) != 0) {
			snprintf(err, errlen, "its name says %s, the metadata says %s", want, m->compression);
			name_bad = 1;
		} else if (tar_name != (strcmp(m->engine, "volume") == 0)) {
			snprintf(err, errlen, "its name says %s, the metadata says engine %s",
			         tar_name ? "a volume archive" : "a database", m->engine);
			name_bad = 1;
		} else if (sqlite_name != (strcmp(m->engine, "sqlite") == 0)) {
			snprintf(err, errlen, "its name says %s, the metadata says engine %s",
			         sqlite_name ? "sqlite" : "an SQL dump", m->engine);
			name_bad = 1;
		}
	}
	free(base);
	free(ext);
	if (name_bad)
		goto out;
	struct header_check h = { .have = 0 };
	struct decompress_result res;
	enum decompress_status st2 = decompress_fd(fd, head_sink, &h, &res);
	if (st2 != DECOMP_OK) {
		snprintf(err, errlen, "%s", res.detail[0] ? res.detail : "cannot read it");
		goto out;
	}
	if (strcmp(compress_name(res.kind), m->compression) != 0) {
		snprintf(err, errlen, "it is %s data, the metadata says %s", compress_name(res.kind),
		         m->compression);
		goto out;
	}
	if (strcmp(res.sha256, m->sha256) != 0) {
		snprintf(err, errlen, "checksum mismatch: its SHA-256 is %s, the metadata says %s",
		         res.sha256, m->sha256);
		goto out;
	}
	if (res.out_bytes != m->raw_bytes) {
		snprintf(err, errlen, "it holds %llu bytes uncompressed, the metadata says %llu",
		         res.out_bytes, m->raw_bytes);
		goto out;
	}
	if (strcmp(m->engine, "sqlite") == 0 &&
	    (h.have < 16 || memcmp(h.head, "SQLite format 3", 16) != 0)) {
		snprintf(err, errlen, "it does not hold a SQLite database");
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (!mp)
		store_meta_free(&own);
	return rc;
}

/* ---- locking and stale files ---- */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int store_lock(const char *dir, const char *dbkey, int wait_seconds)
{
	char *p = xasprintf("%s/.lock.%s", dir, dbkey);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(p);
	if (fd < 0)
		return -1;
	double start = mono();
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || mono() - start >= wait_seconds) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

void store_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing the only descriptor releases the flock */
}

void store_clean_stale(const char *dir, const char *dbkey)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t k = strlen(dbkey);
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		time_t t;
		char *path = NULL;
		/* ".<dbkey>_<time>....tmp.XXXXXX" (and a SQLite journal beside one)
		 * are temporary files of a run that died; under the lock no run
		 * of this database is alive to own them. */
		if (n[0] == '.' && strncmp(n + 1, dbkey, k) == 0 && n[1 + k] == '_' &&
		    strlen(n + 2 + k) >= TS_LEN && parse_ts(n + 2 + k, &t) == 0 && strstr(n, ".tmp.")) {
			path = path_join(dir, n);
		} else {
			/* Metadata whose data file is gone: removing a snapshot takes
			 * the data first, and a crash between the two leaves this. */
			size_t len = strlen(n);
			if (len > 5 && strcmp(n + len - 5, ".meta") == 0) {
				char *data = xstrndup(n, len - 5);
				size_t stem;
				char *dpath = path_join(dir, data);
				if (name_ext(data, &stem) && strncmp(data, dbkey, k) == 0 &&
				    parse_at(data, stem, k, &t, NULL) == 0 && access(dpath, F_OK) < 0 &&
				    errno == ENOENT)
					path = path_join(dir, n);
				free(dpath);
				free(data);
			}
		}
		if (path) {
			unlink(path);
			free(path);
		}
	}
	closedir(d);
}

/* ---- listing output ---- */

static const char *orempty(const char *s) { return s ? s : ""; }

static void print_tsv(FILE *f, const struct snapshot_list *l)
{
	fputs("path\tdatabase\tengine\tcreated\tlabel\tsize\traw_bytes\tcompression\ttables\trows"
	      "\tstatus\treason\tproblem\n", f);
	for (size_t i = 0; i < l->n; i++) {
		const struct snapshot *s = &l->v[i];
		char created[32];
		store_format_time(s->when, created);
		tsv_field(f, s->path);
		putc('\t', f);
		tsv_field(f, s->dbkey);
		putc('\t', f);
		tsv_field(f, s->meta.engine);
		fprintf(f, "\t%s\t", created);
		tsv_field(f, s->meta.label);
		if (s->good)
			fprintf(f, "\t%llu\t%llu\t%s\t%zu\t%lld\tgood\t", s->meta.size, s->meta.raw_bytes,
			        s->meta.compression, s->meta.tables.n, s->meta.rows);
		else
			fputs("\t\t\t\t\t\tbad\t", f);
		tsv_field(f, s->meta.reason);
		putc('\t', f);
		tsv_field(f, s->problem);
		putc('\n', f);
	}
}

static void json_kv(FILE *f, const char *key, const char *value)
{
	fprintf(f, ",\"%s\":", key);
	json_string(f, value);
}

static void print_json(FILE *f, const struct snapshot_list *l)
{
	putc('[', f);
	for (size_t i = 0; i < l->n; i++) {
		const struct snapshot *s = &l->v[i];
		const struct snapshot_meta *m = &s->meta;
		char created[32];
		store_format_time(s->when, created);
		fprintf(f, "%s{\"path\":", i ? "," : "");
		json_string(f, s->path);
		json_kv(f, "name", s->name);
		json_kv(f, "database_key", s->dbkey);
		fprintf(f, ",\"good\":%s", s->good ? "true" : "false");
		json_kv(f, "problem", s->problem);
		json_kv(f, "created", created);
		if (s->good) {
			json_kv(f, "engine", m->engine);
			json_kv(f, "server_version", m->server_version);
			json_kv(f, "database", m->database);
			json_kv(f, "host", m->host && *m->host ? m->host : NULL);
			if (m->port)
				fprintf(f, ",\"port\":%d", m->port);
			else
				fputs(",\"port\":null", f);
			json_kv(f, "label", m->label && *m->label ? m->label : NULL);
			json_kv(f, "reason", m->reason && *m->reason ? m->reason : NULL);
			json_kv(f, "compression", m->compression);
			fprintf(f, ",\"size\":%llu,\"raw_bytes\":%llu", m->size, m->raw_bytes);
			json_kv(f, "sha256", m->sha256);
			json_kv(f, "dbguard_version", m->dbguard_version);
			fprintf(f, ",\"tables\":%zu,\"rows\":%lld,\"counts\":{", m->tables.n, m->rows);
			for (size_t t = 0; t < m->tables.n; t++) {
				if (t)
					putc(',', f);
				json_string(f, m->tables.v[t].name);
				fprintf(f, ":%lld", m->tables.v[t].rows);
			}
			putc('}', f);
		}
		putc('}', f);
	}
	fputs("]\n", f);
}

static void print_human(FILE *f, const struct snapshot_list *l, int with_db)
{
	/* People read the table: paths below the current directory are
	 * shown relative to it. */
	char cwd[4096];
	size_t cl = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
	size_t n = l->n;
	char **cell = xcalloc(n * 7 + 7, sizeof *cell);
	const char *head[7] = { "CREATED (UTC)", "DATABASE", "LABEL", "SIZE", "ROWS", "SNAPSHOT", "REASON" };
	size_t w[7] = { 0 };
	for (int c = 0; c < 7; c++) {
		cell[c] = xstrdup(head[c]);
		w[c] = strlen(head[c]);
	}
	for (size_t i = 0; i < n; i++) {
		const struct snapshot *s = &l->v[i];
		char **row = cell + (i + 1) * 7, size[32];
		struct tm tm;
		char created[32];
		strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S", gmtime_r(&s->when, &tm));
		row[0] = xstrdup(created);
		row[1] = xstrdup(s->dbkey);
		row[2] = xstrdup(s->meta.label && *s->meta.label ? s->meta.label : "-");
		row[3] = xstrdup(s->good ? human_bytes(s->meta.size, size, sizeof size) : "-");
		row[4] = s->good ? xasprintf("%lld", s->meta.rows) : xstrdup("-");
		const char *shown = s->path;
		if (cl > 1 && strncmp(shown, cwd, cl) == 0 && shown[cl] == '/')
			shown += cl + 1;
		row[5] = xstrdup(shown);
		row[6] = s->good ? xstrdup(orempty(s->meta.reason)) : xasprintf("NOT GOOD: %s", s->problem);
		for (int c = 0; c < 7; c++)
			if (strlen(row[c]) > w[c])
				w[c] = strlen(row[c]);
	}
	for (size_t i = 0; i <= n; i++) {
		char **row = cell + i * 7;
		struct strbuf sb = STRBUF_INIT;
		for (int c = 0; c < 7; c++) {
			if (c == 1 && !with_db)
				continue;
			if (c == 6) {
				sb_adds(&sb, row[c]);
				break;
			}
			/* SIZE and ROWS are numbers: right-aligned. */
			if (c == 3 || c == 4)
				sb_addf(&sb, "%*s  ", (int)w[c], row[c]);
			else
				sb_addf(&sb, "%-*s  ", (int)w[c], row[c]);
		}
		while (sb.len && sb.buf[sb.len - 1] == ' ')
			sb.buf[--sb.len] = '\0';
		fprintf(f, "%s\n", sb_str(&sb));
		sb_free(&sb);
	}
	for (size_t i = 0; i < n * 7 + 7; i++)
		free(cell[i]);
	free(cell);
}

void store_print_list(FILE *f, const struct snapshot_list *l, enum out_format fmt, int with_db)
{
	if (fmt == FMT_TSV)
		print_tsv(f, l);
	else if (fmt == FMT_JSON)
		print_json(f, l);
	else
		print_human(f, l, with_db);
}

/* ---- retention ---- */

static void because(struct strbuf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void because(struct strbuf *why, const char *fmt, ...)
{
	if (why->len)
		sb_adds(why, ", ");
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(why, fmt, ap);
	va_end(ap);
}

struct bucket_rule {
	long limit;
	const char *fmt, *name;
	long count;
	char last[32];
};

void store_prune_plan(const struct snapshot_list *l, const struct prune_policy *p,
                      time_t now, char **keep)
{
	char *done = xcalloc(l->n ? l->n : 1, 1);
	for (size_t i = 0; i < l->n; i++)
		keep[i] = NULL;
	for (size_t g = 0; g < l->n; g++) {
		if (done[g])
			continue;
		const char *key = l->v[g].dbkey;
		struct bucket_rule rules[4] = {
			{ p->keep_hourly, "%Y-%m-%dT%H", "hourly", 0, "" },
			{ p->keep_daily, "%Y-%m-%d", "daily", 0, "" },
			{ p->keep_weekly, "%G-W%V", "weekly", 0, "" },
			{ p->keep_monthly, "%Y-%m", "monthly", 0, "" },
		};
		long last = 0;
		int newest = 0;
		/* The list is newest first, so the first snapshot met in a period
		 * is that period's newest. */
		for (size_t i = g; i < l->n; i++) {
			const struct snapshot *s = &l->v[i];
			if (done[i] || strcmp(s->dbkey, key) != 0)
				continue;
			done[i] = 1;
			struct strbuf why = STRBUF_INIT;
			if (!s->good) {
				because(&why, "not good: %s", s->problem ? s->problem : "unknown");
				keep[i] = sb_detach(&why);
				continue;
			}
			if (!newest) {
				because(&why, "newest");
				newest = 1;
			}
			if (s->meta.label && *s->meta.label && !p->prune_labelled)
				because(&why, "labelled");
			if (p->keep_last >= 0 && last < p->keep_last) {
				last++;
				because(&why, "last %ld", p->keep_last);
			}
			if (p->keep_days >= 0 && now - s->when < (time_t)p->keep_days * 86400)
				because(&why, "within %ld days", p->keep_days);
			struct tm tm;
			gmtime_r(&s->when, &tm);
			for (int r = 0; r < 4; r++) {
				char b[32];
				strftime(b, sizeof b, rules[r].fmt, &tm);
				if (strcmp(b, rules[r].last) == 0)
					continue;
				snprintf(rules[r].last, sizeof rules[r].last, "%s", b);
				if (rules[r].limit > 0 && rules[r].count < rules[r].limit) {
					rules[r].count++;
					because(&why, "%s", rules[r].name);
				}
			}
			keep[i] = why.len ? sb_detach(&why) : NULL;
			sb_free(&why);
		}
	}
	free(done);
}

int store_remove(const struct snapshot *s)
{
	if (unlink(s->path) < 0 && errno != ENOENT)
		return -1;
	if (unlink(s->meta_path) < 0 && errno != ENOENT)
		return -1;
	return fsync_dir_of(s->path);
}
