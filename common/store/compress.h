/* compress.h — streamed snapshot compression (zstd, gzip, none) on its own
 * thread fed through a small ring of buffers, so a dump and its compression
 * overlap on two cores in flat memory; the compressed bytes are hashed
 * (SHA-256) on the way out.  And the reverse: decompression with the format
 * recognised by its magic bytes, reporting corrupt and truncated streams. */
#ifndef DBGUARD_COMPRESS_H
#define DBGUARD_COMPRESS_H

#include <stddef.h>

#include "base/checksum.h"

enum compress_kind { COMPRESS_NONE, COMPRESS_GZIP, COMPRESS_ZSTD };

#define COMPRESS_ZSTD_DEFAULT_LEVEL 2
#define COMPRESS_GZIP_DEFAULT_LEVEL 6

struct compress_spec {
	enum compress_kind kind;
	int level;   /* 0 for none */
};

/* "zstd[:LEVEL]", "gzip[:LEVEL]", "none" -> spec.  0, or -1 with *err set
 * to a malloc'd message without program name ("unknown compression 'lz4'
 * (expected zstd[:LEVEL], gzip[:LEVEL] or none)"); the caller prefixes where
 * the value came from and frees it.  zstd levels 1..19 (and zstd's negative
 * fast levels), gzip 1..9. */
int compress_parse(const char *s, struct compress_spec *spec, char **err);
const char *compress_name(enum compress_kind kind);     /* "zstd" "gzip" "none" */
/* What follows the data extension: ".zst", ".gz", "" (so ".sql.zst",
 * ".sqlite.gz", ".sql"). */
const char *compress_suffix(enum compress_kind kind);
/* The compression a file name asks for: ".zst" zstd, ".gz" gzip, ".sql",
 * ".sqlite" or ".db" none, at that compression's default level; any other
 * name leaves spec as it is. */
void compress_spec_for_name(struct compress_spec *spec, const char *name);
/* A file's format by its magic bytes: zstd 28 B5 2F FD, gzip 1F 8B,
 * anything else none; -1 with errno when unreadable. */
int compress_detect_file(const char *path);

/* ---- writing ---- */

struct compress_result {
	char sha256[SHA256_HEX_SIZE];   /* of the compressed bytes, as written */
	unsigned long long raw_bytes;   /* given to the compressor */
	unsigned long long out_bytes;   /* written to out_fd */
};

struct compressor;

/* Start the compression thread writing to out_fd (which stays the caller's:
 * not closed, not fsynced).  level 0 = the kind's default.  NULL with errno. */
struct compressor *compressor_open(int out_fd, enum compress_kind kind, int level);
/* Queue bytes for compression.  0, or -1 with errno when the writer failed
 * (ENOSPC, EFBIG, EPIPE, EIO: the errno of the failed write). */
int compressor_write(struct compressor *c, const void *buf, size_t len);
/* Read in_fd (a dump's pipe) to EOF straight into the ring.  observe, if not
 * NULL, sees every chunk on the calling thread (progress, counting) and may
 * stop the pump by returning non-zero (pump then returns -1, errno ECANCELED
 * unless observe set another).  0 at EOF, or -1 with errno: when
 * compressor_error(c) is non-zero the writer failed, else reading did. */
int compressor_pump(struct compressor *c, int in_fd,
                    int (*observe)(void *arg, const void *buf, size_t len), void *arg);
/* The errno of the writer's failure, or 0. */
int compressor_error(const struct compressor *c);
/* Flush the end of the stream, wait for the thread, free c.  0 with res
 * filled, or -1 with errno (the writer's failure).  c is freed either way. */
int compressor_close(struct compressor *c, struct compress_result *res);
/* Stop without finishing the stream and free c (after an error, a signal). */
void compressor_abort(struct compressor *c);

/* ---- reading ---- */

enum decompress_status {
	DECOMP_OK = 0,
	DECOMP_READ_ERROR,   /* reading the input failed: res->err */
	DECOMP_CORRUPT,      /* not a valid stream of its format, or its check failed */
	DECOMP_TRUNCATED,    /* the input ended inside the stream */
	DECOMP_SINK_ERROR,   /* the sink failed: res->err (EPIPE when a loader died) */
};

struct decompress_result {
	enum compress_kind kind;        /* as detected */
	char sha256[SHA256_HEX_SIZE];   /* of the input (compressed) bytes; set on DECOMP_OK */
	unsigned long long in_bytes, out_bytes;
	int err;                        /* errno for READ_ERROR and SINK_ERROR */
	char detail[192];               /* on failure: one line for the user, e.g.
	                                   "truncated zstd stream" */
};

/* The sink gets the decompressed bytes in order: 0, or -1 with errno. */
typedef int (*decompress_sink)(void *arg, const void *buf, size_t len);

/* Decompress in_fd to EOF, format by magic bytes, into sink (NULL: nowhere).
 * Several concatenated zstd frames or gzip members are one stream, as the
 * standard tools read them. */
enum decompress_status decompress_fd(int in_fd, decompress_sink sink, void *arg,
                                     struct decompress_result *res);
/* The same into out_fd (a loader's stdin pipe) through write_all. */
enum decompress_status decompress_to_fd(int in_fd, int out_fd, struct decompress_result *res);
/* `zstd -t` / `gzip -t` for a file, and its SHA-256 in res->sha256. */
enum decompress_status compress_verify_file(const char *path, struct decompress_result *res);

#endif
