/* meta.h — a snapshot's metadata, the ".meta" file beside it, and the row
 * counts it records.
 *
 * The metadata is "key=value" lines, readable with grep, written last and
 * atomically: a snapshot without valid metadata is not a snapshot.
 *   format=dbguard-snapshot-1
 *   engine=postgres | mysql | sqlite
 *   server_version=15.18
 *   database=app_dev            (name, or the SQLite file path)
 *   host=127.0.0.1              (no credentials, ever; empty for sqlite)
 *   port=5432
 *   created=2026-11-21T16:30:00Z
 *   dbguard_version=0.1.0
 *   label=pre-restore           (may be empty)
 *   reason=safe-run: npm test   (may be empty; newlines become spaces)
 *   compression=zstd | gzip | none
 *   raw_bytes=123456            (uncompressed size)
 *   size=34567                  (size of the snapshot file)
 *   sha256=<64 hex>             (of the snapshot file, as sha256sum prints it)
 *   fingerprint=postgres1:<hex> (db_fingerprint() of the state dumped; absent
 *                                when no signal could prove it)
 *   kind=clone                  (only for clones; absent: a dump)
 *   clone=dbguard_clone_...     (a PostgreSQL clone's database name)
 *   clone_bytes=123456          (the clone's size)
 *   tables=2
 *   rows=2500
 *   table=<name>\t<rows>        (one line per table, sorted by name, as of
 *                                the snapshot itself)
 *   meta_sha256=<64 hex>        (always the last line: the SHA-256 of every
 *                                byte before it, so `head -n -1 S.meta |
 *                                sha256sum` checks it by hand)
 * Unknown keys are ignored when reading, so later versions may add some.
 * Metadata whose seal is missing (an older dbguard's) or does not match is
 * refused whole: nothing in it is used. */
#ifndef DBGUARD_STORE_META_H
#define DBGUARD_STORE_META_H

#include <stddef.h>
#include <time.h>

#include "model/tables.h"

struct snapshot_meta {
	char *engine, *server_version, *database, *host, *label, *reason;
	char *compression, *sha256, *dbguard_version;
	char *fingerprint;          /* NULL when none was recorded */
	char *kind, *clone;         /* "clone" and a PostgreSQL clone's name; NULL for a dump */
	unsigned long long clone_bytes;
	int port;
	time_t created;             /* UTC */
	unsigned long long raw_bytes, size;
	long long rows;
	struct table_counts tables;
};

/* Read and write metadata.  store_meta_read: 0, or -1 with a reason in err
 * (no file, unreadable, not sealed, seal not matching, malformed). */
int store_meta_read(const char *meta_path, struct snapshot_meta *m, char *err, size_t errlen);
/* The same from len bytes of text in memory (what store_meta_read does
 * with the file's contents). */
int store_meta_parse(const char *text, size_t len, struct snapshot_meta *m, char *err, size_t errlen);
/* Write m to meta_path: atomically (temp file, fsync, rename, fsync dir)
 * when it is a regular file or does not exist yet, as it is when it is a
 * device or a pipe (renaming over /dev/null would replace the device).
 * 0, or -1 with errno. */
int store_meta_write(const char *meta_path, const struct snapshot_meta *m);
/* The metadata text store_meta_write writes (malloc'd).  rows and the
 * tables= count are computed from m->tables. */
char *store_meta_format(const struct snapshot_meta *m);
/* Sealed metadata text with the lines of extra added (the remote store's
 * keys), sealed anew (malloc'd). */
char *store_meta_extend(const char *text, const char *extra);
void store_meta_free(struct snapshot_meta *m);
/* 1 when m describes a clone (kind=clone). */
int store_meta_is_clone(const struct snapshot_meta *m);
/* "clone" or "dump". */
const char *store_meta_kind(const struct snapshot_meta *m);

#endif
