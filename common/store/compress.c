/* compress.c — see compress.h
 * The producer (the caller's thread, usually reading a dump's pipe) fills
 * fixed buffers of a ring; one compression thread drains them, compresses,
 * hashes and writes.  Memory is the ring plus the codec's state, whatever the
 * size of the database. */
#include "store/compress.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/io.h"
#include "base/xalloc.h"

#define SLOTS 4
#define SLOT_SIZE (1u << 20)
#define OBUF_SIZE (1u << 19)
#define ZSTD_MIN_LEVEL (-7)
#define ZSTD_MAX_LEVEL 19   /* 20..22 need windows far beyond our memory budget */

/* ---- names, parsing, detection ---- */

const char *compress_name(enum compress_kind kind)
{
	switch (kind) {
	case COMPRESS_ZSTD: return "zstd";
	case COMPRESS_GZIP: return "gzip";
	default: return "none";
	}
}

const char *compress_suffix(enum compress_kind kind)
{
	switch (kind) {
	case COMPRESS_ZSTD: return ".zst";
	case COMPRESS_GZIP: return ".gz";
	default: return "";
	}
}

void compress_spec_for_name(struct compress_spec *spec, const char *name)
{
	size_t n = strlen(name);
	enum compress_kind want = spec->kind;
	if (n > 4 && strcmp(name + n - 4, ".zst") == 0)
		want = COMPRESS_ZSTD;
	else if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
		want = COMPRESS_GZIP;
	else if ((n > 4 && strcmp(name + n - 4, ".sql") == 0) ||
	         (n > 7 && strcmp(name + n - 7, ".sqlite") == 0) ||
	         (n > 3 && strcmp(name + n - 3, ".db") == 0))
		want = COMPRESS_NONE;
	if (want != spec->kind) {
		spec->kind = want;
		spec->level = want == COMPRESS_ZSTD ? COMPRESS_ZSTD_DEFAULT_LEVEL
		            : want == COMPRESS_GZIP ? COMPRESS_GZIP_DEFAULT_LEVEL : 0;
	}
}

int compress_parse(const char *s, struct compress_spec *spec, char **err)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	int lo, hi;
	*err = NULL;
	if (n == 4 && strncmp(s, "zstd", 4) == 0) {
		spec->kind = COMPRESS_ZSTD;
		spec->level = COMPRESS_ZSTD_DEFAULT_LEVEL;
		lo = ZSTD_MIN_LEVEL;
		hi = ZSTD_MAX_LEVEL;
	} else if (n == 4 && strncmp(s, "gzip", 4) == 0) {
		spec->kind = COMPRESS_GZIP;
		spec->level = COMPRESS_GZIP_DEFAULT_LEVEL;
		lo = 1;
		hi = 9;
	} else if (n == 4 && strncmp(s, "none", 4) == 0) {
		spec->kind = COMPRESS_NONE;
		spec->level = 0;
		if (colon) {
			*err = xasprintf("compression 'none' takes no level (got '%s')", s);
			return -1;
		}
		return 0;
	} else {
		*err = xasprintf("unknown compression '%.*s' (expected zstd[:LEVEL], gzip[:LEVEL] or none)",
		                 (int)n, s);
		return -1;
	}
	if (!colon)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || errno || v < lo || v > hi || v == 0) {
		if (spec->kind == COMPRESS_ZSTD)
			*err = xasprintf("invalid zstd level '%s' (expected 1..%d, or %d..-1 for faster)",
			                 colon + 1, hi, lo);
		else
			*err = xasprintf("invalid gzip level '%s' (expected %d..%d)", colon + 1, lo, hi);
		return -1;
	}
	spec->level = (int)v;
	return 0;
}

/* Format by magic bytes: zstd 28 B5 2F FD, gzip 1F 8B, anything else none. */
static enum compress_kind compress_detect(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	if (len >= 4 && b[0] == 0x28 && b[1] == 0xB5 && b[2] == 0x2F && b[3] == 0xFD)
		return COMPRESS_ZSTD;
	if (len >= 2 && b[0] == 0x1F && b[1] == 0x8B)
		return COMPRESS_GZIP;
	return COMPRESS_NONE;
}

int compress_detect_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	unsigned char b[4];
	size_t got = 0;
	while (got < sizeof b) {
		ssize_t n = read_retry(fd, b + got, sizeof b - got);
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (int)compress_detect(b, got);
}

/* ---- writing ---- */

struct compressor {
	int out_fd;
	enum compress_kind kind;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t not_full, not_empty;
	struct { char *buf; size_t len; } slot[SLOTS];
	unsigned head, tail, filled;   /* filled slots run from tail; the producer fills head */
	int eof, stop;
	_Atomic int err;

	/* producer side */
	int have_cur;
	size_t cur_len;

	/* compression thread side */
	ZSTD_CCtx *zc;
	z_stream zs;
	int zs_live;
	char *obuf;
	size_t opos;
	struct sha256 sha;
	char hex[SHA256_HEX_SIZE];

	_Atomic unsigned long long raw, out;
};

static int emit(struct compressor *c, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	/* The only place the thread may be cancelled: compressor_abort must not
	 * hang on a write to a pipe whose reader has stopped reading. */
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	int r = write_all(c->out_fd, buf, len);
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	if (r < 0)
		return -1;
	sha256_update(&c->sha, buf, len);
	c->out += len;
	return 0;
}

static int flush_obuf(struct compressor *c)
{
	int r = emit(c, c->obuf, c->opos);
	c->opos = 0;
	return r;
}

/* Compress one buffer (finish: end the stream); output leaves through emit. */
static int compress_chunk(struct compressor *c, const char *buf, size_t len, int finish)
{
	if (c->kind == COMPRESS_NONE)
		return emit(c, buf, len);
	if (c->kind == COMPRESS_ZSTD) {
		ZSTD_inBuffer in = { buf, len, 0 };
		for (;;) {
			ZSTD_outBuffer out = { c->obuf, OBUF_SIZE, c->opos };
			size_t r = ZSTD_compressStream2(c->zc, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
			c->opos = out.pos;
			if (ZSTD_isError(r)) {
				errno = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? ENOMEM : EIO;
				return -1;
			}
			if ((c->opos == OBUF_SIZE || (finish && r == 0)) && flush_obuf(c) < 0)
				return -1;
			if (finish ? r == 0 : in.pos == in.size)
				return 0;
		}
	}
	c->zs.next_in = (Bytef *)buf;
	c->zs.avail_in = (uInt)len;
	for (;;) {
		c->zs.next_out = (Bytef *)c->obuf + c->opos;
		c->zs.avail_out = (uInt)(OBUF_SIZE - c->opos);
		int r = deflate(&c->zs, finish ? Z_FINISH : Z_NO_FLUSH);
		c->opos = OBUF_SIZE - c->zs.avail_out;
		if (r == Z_STREAM_ERROR) {
			errno = EIO;
			return -1;
		}
		if ((c->opos == OBUF_SIZE || (finish && r == Z_STREAM_END)) && flush_obuf(c) < 0)
			return -1;
		if (finish ? r == Z_STREAM_END : c->zs.avail_in == 0)
			return 0;
	}
}

static void fail(struct compressor *c, int e)
{
	pthread_mutex_lock(&c->mu);
	c->err = e ? e : EIO;
	pthread_cond_broadcast(&c->not_full);
	pthread_mutex_unlock(&c->mu);
}

static void *compress_thread(void *arg)
{
	struct compressor *c = arg;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (c->filled == 0 && !c->eof && !c->stop)
			pthread_cond_wait(&c->not_empty, &c->mu);
		if (c->stop || c->filled == 0) {
			int stop = c->stop;
			pthread_mutex_unlock(&c->mu);
			if (stop)
				return NULL;
			break;
		}
		unsigned i = c->tail;
		pthread_mutex_unlock(&c->mu);

		int r = compress_chunk(c, c->slot[i].buf, c->slot[i].len, 0);
		int e = errno;

		pthread_mutex_lock(&c->mu);
		c->tail = (c->tail + 1) % SLOTS;
		c->filled--;
		pthread_cond_broadcast(&c->not_full);
		pthread_mutex_unlock(&c->mu);
		if (r < 0) {
			fail(c, e);
			return NULL;
		}
	}
	if (compress_chunk(c, NULL, 0, 1) < 0 || flush_obuf(c) < 0) {
		fail(c, errno);
		return NULL;
	}
	if (sha256_final(&c->sha, c->hex) < 0)
		fail(c, errno);
	return NULL;
}

static void compressor_free(struct compressor *c)
{
	for (int i = 0; i < SLOTS; i++)
		free(c->slot[i].buf);
	free(c->obuf);
	ZSTD_freeCCtx(c->zc);
	if (c->zs_live)
		deflateEnd(&c->zs);
	sha256_discard(&c->sha);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->not_full);
	pthread_cond_destroy(&c->not_empty);
	free(c);
}

struct compressor *compressor_open(int out_fd, enum compress_kind kind, int level)
{
	struct compressor *c = xcalloc(1, sizeof *c);
	c->out_fd = out_fd;
	c->kind = kind;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->not_full, NULL);
	pthread_cond_init(&c->not_empty, NULL);
	for (int i = 0; i < SLOTS; i++)
		c->slot[i].buf = xmalloc(SLOT_SIZE);
	if (kind != COMPRESS_NONE)
		c->obuf = xmalloc(OBUF_SIZE);
	if (sha256_init(&c->sha) < 0)
		goto fail;
	if (kind == COMPRESS_ZSTD) {
		c->zc = ZSTD_createCCtx();
		if (!c->zc ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel,
		                                        level ? level : COMPRESS_ZSTD_DEFAULT_LEVEL)) ||
		    /* the frame checksum lets zstd -t and our verify catch a flipped
		     * byte even inside a stored (incompressible) block */
		    ZSTD_isError(ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1))) {
			errno = c->zc ? EINVAL : ENOMEM;
			goto fail;
		}
	} else if (kind == COMPRESS_GZIP) {
		/* windowBits 15 + 16: a gzip header and trailer, as gzip writes */
		int r = deflateInit2(&c->zs, level ? level : COMPRESS_GZIP_DEFAULT_LEVEL,
		                     Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		if (r != Z_OK) {
			errno = r == Z_MEM_ERROR ? ENOMEM : EINVAL;
			goto fail;
		}
		c->zs_live = 1;
	}
	/* Signals stay with the caller's thread; a failed write in ours then
	 * returns EPIPE or EFBIG instead of killing the process mid-cleanup. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&c->thread, NULL, compress_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		errno = r;
		goto fail;
	}
	return c;
fail:;
	int e = errno;
	compressor_free(c);
	errno = e;
	return NULL;
}

int compressor_error(const struct compressor *c)
{
	return c->err;
}

/* The producer's slot (index head) to fill, waiting while the ring is full. */
static char *acquire(struct compressor *c)
{
	if (c->have_cur)
		return c->slot[c->head].buf;
	pthread_mutex_lock(&c->mu);
	while (c->filled == SLOTS && !c->err)
		pthread_cond_wait(&c->not_full, &c->mu);
	int e = c->err;
	pthread_mutex_unlock(&c->mu);
	if (e) {
		errno = e;
		return NULL;
	}
	c->have_cur = 1;
	c->cur_len = 0;
	return c->slot[c->head].buf;
}

static int submit(struct compressor *c)
{
	pthread_mutex_lock(&c->mu);
	int e = c->err;
	if (!e) {
		c->slot[c->head].len = c->cur_len;
		c->head = (c->head + 1) % SLOTS;
		c->filled++;
		pthread_cond_signal(&c->not_empty);
	}
	pthread_mutex_unlock(&c->mu);
	c->have_cur = 0;
	c->cur_len = 0;
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

int compressor_write(struct compressor *c, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		char *dst = acquire(c);
		if (!dst)
			return -1;
		size_t n = SLOT_SIZE - c->cur_len;
		if (n > len)
			n = len;
		memcpy(dst + c->cur_len, p, n);
		c->cur_len += n;
		c->raw += n;
		p += n;
		len -= n;
		if (c->cur_len == SLOT_SIZE && submit(c) < 0)
			return -1;
	}
	return 0;
}

int compressor_pump(struct compressor *c, int in_fd,
                    int (*observe)(void *arg, const void *buf, size_t len), void *arg)
{
	for (;;) {
		char *dst = acquire(c);
		if (!dst)
			return -1;
		ssize_t n = read_retry(in_fd, dst + c->cur_len, SLOT_SIZE - c->cur_len);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (observe) {
			errno = 0;
			if (observe(arg, dst + c->cur_len, (size_t)n)) {
				if (!errno)
					errno = ECANCELED;
				return -1;
			}
		}
		c->cur_len += (size_t)n;
		c->raw += (unsigned long long)n;
		if (c->cur_len == SLOT_SIZE && submit(c) < 0)
			return -1;
	}
}

int compressor_close(struct compressor *c, struct compress_result *res)
{
	if (c->have_cur && c->cur_len > 0)
		submit(c);
	pthread_mutex_lock(&c->mu);
	c->eof = 1;
	pthread_cond_signal(&c->not_empty);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	int e = c->err;
	if (!e && res) {
		memcpy(res->sha256, c->hex, sizeof res->sha256);
		res->raw_bytes = c->raw;
		res->out_bytes = c->out;
	}
	compressor_free(c);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

void compressor_abort(struct compressor *c)
{
	if (!c)
		return;
	int saved = errno;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->not_empty);
	pthread_mutex_unlock(&c->mu);
	pthread_cancel(c->thread);
	pthread_join(c->thread, NULL);
	compressor_free(c);
	errno = saved;
}

/* ---- reading ---- */

#define IBUF_SIZE (1u << 18)
#define DOBUF_SIZE (1u << 18)

struct reader {
	int fd;
	char *ibuf, *obuf;
	struct sha256 sha;
	decompress_sink sink;
	void *arg;
	struct decompress_result *res;
};

/* Read the next input chunk into ibuf, hashing it: bytes, 0 at EOF, -1. */
static ssize_t next_input(struct reader *r, size_t off)
{
	ssize_t n = read_retry(r->fd, r->ibuf + off, IBUF_SIZE - off);
	if (n < 0) {
		r->res->err = errno;
		snprintf(r->res->detail, sizeof r->res->detail, "read error: %s", strerror(errno));
		return -1;
	}
	sha256_update(&r->sha, r->ibuf + off, (size_t)n);
	r->res->in_bytes += (unsigned long long)n;
	return n;
}

static int give(struct reader *r, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	r->res->out_bytes += len;
	if (r->sink && r->sink(r->arg, buf, len) < 0) {
		r->res->err = errno;
		snprintf(r->res->detail, sizeof r->res->detail, "write error: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static enum decompress_status read_plain(struct reader *r, size_t have)
{
	for (;;) {
		if (give(r, r->ibuf, have) < 0)
			return DECOMP_SINK_ERROR;
		ssize_t n = next_input(r, 0);
		if (n < 0)
			return DECOMP_READ_ERROR;
		if (n == 0)
			return DECOMP_OK;
		have = (size_t)n;
	}
}

static enum decompress_status read_zstd(struct reader *r, size_t have)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d) {
		r->res->err = ENOMEM;
		snprintf(r->res->detail, sizeof r->res->detail, "%s", strerror(ENOMEM));
		return DECOMP_READ_ERROR;
	}
	enum decompress_status st = DECOMP_OK;
	ZSTD_inBuffer in = { r->ibuf, have, 0 };
	size_t hint = 1;   /* 0 once a frame is complete and flushed */
	for (;;) {
		ZSTD_outBuffer out;
		do {
			out = (ZSTD_outBuffer){ r->obuf, DOBUF_SIZE, 0 };
			size_t z = ZSTD_decompressStream(d, &out, &in);
			if (ZSTD_isError(z)) {
				snprintf(r->res->detail, sizeof r->res->detail, "corrupt zstd data: %s",
				         ZSTD_getErrorName(z));
				st = DECOMP_CORRUPT;
				goto out;
			}
			hint = z;
			if (give(r, r->obuf, out.pos) < 0) {
				st = DECOMP_SINK_ERROR;
				goto out;
			}
		} while (in.pos < in.size || out.pos == out.size);
		ssize_t n = next_input(r, 0);
		if (n < 0) {
			st = DECOMP_READ_ERROR;
			goto out;
		}
		if (n == 0)
			break;
		in = (ZSTD_inBuffer){ r->ibuf, (size_t)n, 0 };
	}
	if (hint != 0) {
		snprintf(r->res->detail, sizeof r->res->detail, "truncated zstd stream");
		st = DECOMP_TRUNCATED;
	}
out:
	ZSTD_freeDCtx(d);
	return st;
}

static enum decompress_status read_gzip(struct reader *r, size_t have)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 15 + 16) != Z_OK) {
		r->res->err = ENOMEM;
		snprintf(r->res->detail, sizeof r->res->detail, "%s", strerror(ENOMEM));
		return DECOMP_READ_ERROR;
	}
	enum decompress_status st = DECOMP_OK;
	int in_member = 1, out_full = 0;
	zs.next_in = (Bytef *)r->ibuf;
	zs.avail_in = (uInt)have;
	for (;;) {
		/* Read only when inflate has taken all input and has no output
		 * pending (a full output buffer may hide more). */
		if (zs.avail_in == 0 && !out_full) {
			ssize_t n = next_input(r, 0);
			if (n < 0) {
				st = DECOMP_READ_ERROR;
				break;
			}
			if (n == 0) {
				if (in_member) {
					snprintf(r->res->detail, sizeof r->res->detail, "truncated gzip stream");
					st = DECOMP_TRUNCATED;
				}
				break;
			}
			zs.next_in = (Bytef *)r->ibuf;
			zs.avail_in = (uInt)n;
			if (!in_member) {
				/* another member follows, as `cat a.gz b.gz` makes */
				inflateReset(&zs);
				in_member = 1;
			}
		}
		zs.next_out = (Bytef *)r->obuf;
		zs.avail_out = DOBUF_SIZE;
		int z = inflate(&zs, Z_NO_FLUSH);
		out_full = zs.avail_out == 0;
		if (give(r, r->obuf, DOBUF_SIZE - zs.avail_out) < 0) {
			st = DECOMP_SINK_ERROR;
			break;
		}
		if (z == Z_STREAM_END) {
			in_member = 0;
			out_full = 0;
			if (zs.avail_in > 0) {
				inflateReset(&zs);
				in_member = 1;
			}
		} else if (z == Z_DATA_ERROR || z == Z_NEED_DICT || z == Z_STREAM_ERROR) {
			snprintf(r->res->detail, sizeof r->res->detail, "corrupt gzip data: %s",
			         zs.msg ? zs.msg : "invalid stream");
			st = DECOMP_CORRUPT;
			break;
		} else if (z == Z_MEM_ERROR) {
			r->res->err = ENOMEM;
			snprintf(r->res->detail, sizeof r->res->detail, "%s", strerror(ENOMEM));
			st = DECOMP_READ_ERROR;
			break;
		}
		/* Z_OK, or Z_BUF_ERROR when it simply needs more input */
	}
	inflateEnd(&zs);
	return st;
}

enum decompress_status decompress_fd(int in_fd, decompress_sink sink, void *arg,
                                     struct decompress_result *res)
{
	memset(res, 0, sizeof *res);
	struct reader r = { .fd = in_fd, .sink = sink, .arg = arg, .res = res };
	if (sha256_init(&r.sha) < 0) {
		res->err = errno;
		snprintf(res->detail, sizeof res->detail, "%s", strerror(errno));
		return DECOMP_READ_ERROR;
	}
	r.ibuf = xmalloc(IBUF_SIZE);
	r.obuf = xmalloc(DOBUF_SIZE);
	posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	enum decompress_status st;
	size_t have = 0;
	/* The magic needs 4 bytes; a pipe may deliver them in pieces. */
	while (have < 4) {
		ssize_t n = next_input(&r, have);
		if (n < 0) {
			st = DECOMP_READ_ERROR;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	res->kind = compress_detect(r.ibuf, have);
	switch (res->kind) {
	case COMPRESS_ZSTD: st = read_zstd(&r, have); break;
	case COMPRESS_GZIP: st = read_gzip(&r, have); break;
	default: st = read_plain(&r, have); break;
	}
out:
	if (st == DECOMP_OK && sha256_final(&r.sha, res->sha256) < 0) {
		res->err = errno;
		snprintf(res->detail, sizeof res->detail, "cannot compute SHA-256");
		st = DECOMP_READ_ERROR;
	}
	sha256_discard(&r.sha);
	free(r.ibuf);
	free(r.obuf);
	return st;
}

static int fd_sink(void *arg, const void *buf, size_t len)
{
	return write_all(*(int *)arg, buf, len);
}

enum decompress_status decompress_to_fd(int in_fd, int out_fd, struct decompress_result *res)
{
	return decompress_fd(in_fd, fd_sink, &out_fd, res);
}

enum decompress_status compress_verify_file(const char *path, struct decompress_result *res)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		memset(res, 0, sizeof *res);
		res->err = errno;
		snprintf(res->detail, sizeof res->detail, "cannot open: %s", strerror(errno));
		return DECOMP_READ_ERROR;
	}
	enum decompress_status st = decompress_fd(fd, NULL, NULL, res);
	close(fd);
	return st;
}
