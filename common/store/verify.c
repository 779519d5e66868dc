/* verify.c — full verification of a snapshot against its metadata (see
 * store.h). */
#include "store/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "store/compress.h"
#include "store/impl.h"
#include "store/name.h"

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
		int clone_name = strcmp(ext, "pgclone") == 0;
		int pg_clone = store_meta_is_clone(m) && strcmp(m->engine, "postgres") == 0;
		if (clone_name != pg_clone) {
			snprintf(err, errlen, "its name says %s, the metadata says %s", clone_name ?
			         "a PostgreSQL clone" : "a dump", pg_clone ? "a PostgreSQL clone" : "a dump");
			name_bad = 1;
		} else if (strcmp(want, m->compression) != 0) {
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

size_t store_verify_all(char *const *paths, size_t n, FILE *out)
{
	return store_verify_all_with(paths, n, out, NULL, NULL);
}

size_t store_verify_all_with(char *const *paths, size_t n, FILE *out,
                             int (*check)(void *arg, const struct snapshot_meta *m,
                                          char *err, size_t errlen), void *arg)
{
	size_t bad = 0;
	for (size_t i = 0; i < n; i++) {
		char err[512];
		struct snapshot_meta m;
		if (store_verify(paths[i], &m, err, sizeof err) == 0 &&
		    (!check || check(arg, &m, err, sizeof err) == 0)) {
			if (msg_verbosity >= 1)
				fprintf(out, "%s: OK\n", paths[i]);
		} else {
			fprintf(out, "%s: FAILED\n", paths[i]);
			fflush(out);
			error("'%s' failed verification: %s", paths[i], err);
			bad++;
		}
		store_meta_free(&m);
	}
	if (bad && n > 1)
		error("%zu of %zu snapshots failed verification", bad, n);
	return bad;
}
