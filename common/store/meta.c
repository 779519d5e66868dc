/* meta.c — a snapshot's metadata, the ".meta" file (see store.h): reading
 * and checking it, formatting it, writing it atomically. */
#include "store/meta.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/checksum.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "store/impl.h"
#include "store/name.h"

#define META_FORMAT "dbguard-snapshot-1"

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
	free(m->fingerprint);
	free(m->kind);
	free(m->clone);
	table_counts_free(&m->tables);
	memset(m, 0, sizeof *m);
}

int store_meta_is_clone(const struct snapshot_meta *m)
{
	return m->kind && strcmp(m->kind, "clone") == 0;
}

const char *store_meta_kind(const struct snapshot_meta *m)
{
	return store_meta_is_clone(m) ? "clone" : "dump";
}

static int parse_ull(const char *s, unsigned long long *out)
{
	if (!*s || strlen(s) > 19 || !store_digits(s, (int)strlen(s)))
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
	int rc = store_meta_parse(buf, len, m, err, errlen);
	free(buf);
	return rc;
}

/* One key=value line into m (the tables= and rows= counts into *ntables
 * and *rows, to be checked at the end): NULL, or what is wrong with it. */
static const char *meta_field(struct snapshot_meta *m, const char *k, const char *v,
                              unsigned long long *ntables, unsigned long long *rows, size_t *cap)
{
	char **str = NULL;
	if (strcmp(k, "format") == 0) {
		if (strcmp(v, META_FORMAT) != 0)
			return "unknown metadata format";
	} else if (strcmp(k, "engine") == 0) {
		if (strcmp(v, "postgres") && strcmp(v, "mysql") && strcmp(v, "sqlite") && strcmp(v, "volume"))
			return "unknown engine";
		str = &m->engine;
	} else if (strcmp(k, "server_version") == 0) {
		str = &m->server_version;
	} else if (strcmp(k, "database") == 0) {
		str = &m->database;
	} else if (strcmp(k, "host") == 0) {
		str = &m->host;
	} else if (strcmp(k, "port") == 0) {
		unsigned long long p = 0;
		if (*v && (parse_ull(v, &p) < 0 || p > 65535))
			return "invalid port";
		m->port = (int)p;
	} else if (strcmp(k, "created") == 0) {
		if (store_parse_time(v, &m->created) < 0)
			return "invalid time (expected YYYY-MM-DDTHH:MM:SSZ)";
	} else if (strcmp(k, "dbguard_version") == 0) {
		str = &m->dbguard_version;
	} else if (strcmp(k, "label") == 0) {
		str = &m->label;
	} else if (strcmp(k, "reason") == 0) {
		str = &m->reason;
	} else if (strcmp(k, "fingerprint") == 0) {
		str = &m->fingerprint;
	} else if (strcmp(k, "kind") == 0) {
		if (strcmp(v, "clone") && strcmp(v, "dump"))
			return "unknown kind (expected clone or dump)";
		str = &m->kind;
	} else if (strcmp(k, "clone") == 0) {
		str = &m->clone;
	} else if (strcmp(k, "clone_bytes") == 0) {
		if (parse_ull(v, &m->clone_bytes) < 0)
			return "invalid number";
	} else if (strcmp(k, "compression") == 0) {
		if (strcmp(v, "zstd") && strcmp(v, "gzip") && strcmp(v, "none"))
			return "unknown compression";
		str = &m->compression;
	} else if (strcmp(k, "raw_bytes") == 0 || strcmp(k, "size") == 0) {
		if (parse_ull(v, k[0] == 'r' ? &m->raw_bytes : &m->size) < 0)
			return "invalid number";
	} else if (strcmp(k, "sha256") == 0) {
		if (!is_sha256(v))
			return "invalid sha256 (expected 64 lowercase hex digits)";
		str = &m->sha256;
	} else if (strcmp(k, "tables") == 0 || strcmp(k, "rows") == 0) {
		/* Row counts are long long in memory. */
		if (parse_ull(v, k[0] == 't' ? ntables : rows) < 0 || *rows > LLONG_MAX)
			return "invalid number";
	} else if (strcmp(k, "meta_sha256") == 0) {
		return "meta_sha256 before the last line";
	} else if (strcmp(k, "table") == 0) {
		if (table_counts_add_line(&m->tables, cap, v) < 0)
			return "invalid table line (expected table=NAME<TAB>ROWS)";
	}
	if (str) {
		free(*str);
		*str = xstrdup(v);
	}
	return NULL;
}

/* The seal: the last line is "meta_sha256=" and the SHA-256 of every byte
 * before that line, so that `head -n -1 S.meta | sha256sum` checks it by
 * hand.  *body_len is the length of what it covers.  0, or -1 with err. */
static int meta_unseal(const char *text, size_t len, size_t *body_len, char *err, size_t errlen)
{
	size_t end = len;
	if (end && text[end - 1] == '\n')
		end--;
	size_t start = end;
	while (start && text[start - 1] != '\n')
		start--;
	static const char key[] = "meta_sha256=";
	const char *line = text + start;
	if (end - start != sizeof key - 1 + 64 || memcmp(line, key, sizeof key - 1) != 0) {
		int elsewhere = (len >= sizeof key - 1 && memcmp(text, key, sizeof key - 1) == 0) ||
		                memmem(text, len, "\nmeta_sha256=", sizeof key) != NULL;
		if (elsewhere)
			snprintf(err, errlen, "the metadata was edited: meta_sha256 is not its last line");
		else
			snprintf(err, errlen, "the metadata has no meta_sha256 line (an older dbguard "
			         "wrote it), so it cannot be checked");
		return -1;
	}
	struct sha256 h;
	char hex[SHA256_HEX_SIZE];
	if (sha256_init(&h) < 0) {
		snprintf(err, errlen, "cannot compute a checksum: %s", strerror(errno));
		return -1;
	}
	sha256_update(&h, text, start);
	if (sha256_final(&h, hex) < 0) {
		snprintf(err, errlen, "cannot compute a checksum: %s", strerror(errno));
		return -1;
	}
	if (memcmp(hex, line + sizeof key - 1, 64) != 0) {
		snprintf(err, errlen, "the metadata was edited or damaged: its content does not match its meta_sha256 line");
		return -1;
	}
	*body_len = start;
	return 0;
}

int store_meta_parse(const char *text, size_t len, struct snapshot_meta *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "the metadata is not a text file");
		return -1;
	}
	if (meta_unseal(text, len, &len, err, errlen) < 0)
		return -1;
	char *buf = xstrndup(text, len);
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
		problem = meta_field(m, k, v, &ntables, &rows, &cap);
		if (problem)
			break;
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
	/* Each count is at most LLONG_MAX, so the sum cannot wrap before it
	 * is found too large. */
	unsigned long long sum = 0;
	int too_many = 0;
	for (size_t i = 0; i < m->tables.n && !too_many; i++) {
		sum += (unsigned long long)m->tables.v[i].rows;
		too_many = sum > LLONG_MAX;
	}
	if (ntables != m->tables.n || sum != rows || too_many) {
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

/* Close sb with its seal line and hand its text over. */
static char *meta_seal(struct strbuf *sb)
{
	struct sha256 h;
	char hex[SHA256_HEX_SIZE];
	if (sha256_init(&h) < 0)
		die(DG_NO, "cannot compute a checksum:");
	sha256_update(&h, sb->buf, sb->len);
	if (sha256_final(&h, hex) < 0)
		die(DG_NO, "cannot compute a checksum:");
	sb_addf(sb, "meta_sha256=%s\n", hex);
	return sb_detach(sb);
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
	if (m->fingerprint && *m->fingerprint)
		meta_kv(&sb, "fingerprint", m->fingerprint);
	if (store_meta_is_clone(m)) {
		meta_kv(&sb, "kind", "clone");
		if (m->clone)
			meta_kv(&sb, "clone", m->clone);
		sb_addf(&sb, "clone_bytes=%llu\n", m->clone_bytes);
	}
	long long rows = 0;
	for (size_t i = 0; i < m->tables.n; i++)
		rows += m->tables.v[i].rows;
	sb_addf(&sb, "tables=%zu\nrows=%lld\n", m->tables.n, rows);
	for (size_t i = 0; i < m->tables.n; i++) {
		sb_adds(&sb, "table=");
		tsv_escape(&sb, m->tables.v[i].name);
		sb_addf(&sb, "\t%lld\n", m->tables.v[i].rows);
	}
	return meta_seal(&sb);
}

char *store_meta_extend(const char *text, const char *extra)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = strlen(text);
	if (len && text[len - 1] == '\n')
		len--;
	size_t start = len;
	while (start && text[start - 1] != '\n')
		start--;
	/* Without its seal: the lines before a last meta_sha256= line. */
	sb_add(&sb, text, strncmp(text + start, "meta_sha256=", 12) == 0 ? start : strlen(text));
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		sb_addc(&sb, '\n');
	sb_adds(&sb, extra);
	return meta_seal(&sb);
}

int store_meta_write(const char *meta_path, const struct snapshot_meta *m)
{
	char *text = store_meta_format(m);
	size_t len = strlen(text);
	struct stat st;
	int rc;
	if (stat(meta_path, &st) < 0 || S_ISREG(st.st_mode)) {
		rc = atomic_write_file(meta_path, text, len, 0600);
	} else {
		int fd = open(meta_path, O_WRONLY | O_CLOEXEC);
		rc = fd < 0 ? -1 : write_all(fd, text, len);
		int e = errno;
		if (fd >= 0 && close(fd) < 0 && rc == 0)
			rc = -1;
		else
			errno = e;
	}
	int e = errno;
	free(text);
	errno = e;
	return rc;
}
