/* compress-driver.c — drives common/store/compress.c and common/base/checksum.c from
 * t/15-compress.bats; compiled by the test itself against libdbguard.a.
 *   compress-driver compress SPEC OUT [write|stop=N]
 *                                               stdin -> OUT ("-": stdout),
 *                                               prints "sha256 raw out"; stop=N
 *                                               gives up after N bytes read
 *   compress-driver decompress IN               IN -> stdout, kind on stderr
 *   compress-driver verify FILE                 prints "kind sha256" or the fault
 *   compress-driver parse SPEC                  prints "kind level suffix"
 *   compress-driver detect FILE                 prints the kind
 *   compress-driver sha256 FILE                 prints the digest
 * Exit: 0 ok, 1 failure (errno message), 2 usage, 5 corrupt or truncated. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/checksum.h"
#include "store/compress.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"

static unsigned long long stop_after, seen;

static int stop_at(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	seen += len;
	return seen >= stop_after;
}

static int st_exit(enum decompress_status st, const struct decompress_result *r, const char *what)
{
	if (st == DECOMP_OK)
		return DG_OK;
	error("'%s': %s", what, r->detail);
	return st == DECOMP_CORRUPT || st == DECOMP_TRUNCATED ? DG_INTEGRITY : DG_NO;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	/* A file-size limit must surface as EFBIG from write, not kill us. */
	signal(SIGXFSZ, SIG_IGN);
	if (argc < 3)
		die(DG_USAGE, "usage: compress-driver compress|decompress|verify|parse|detect|sha256 ARG...");
	const char *cmd = argv[1];

	if (strcmp(cmd, "parse") == 0) {
		struct compress_spec spec;
		char *err;
		if (compress_parse(argv[2], &spec, &err) < 0)
			die(DG_USAGE, "--compress: %s", err);
		printf("%s %d %s\n", compress_name(spec.kind), spec.level, compress_suffix(spec.kind));
		return close_stdout() ? DG_NO : DG_OK;
	}
	if (strcmp(cmd, "detect") == 0) {
		int k = compress_detect_file(argv[2]);
		if (k < 0)
			die(DG_NO, "cannot read '%s':", argv[2]);
		printf("%s\n", compress_name((enum compress_kind)k));
		return close_stdout() ? DG_NO : DG_OK;
	}
	if (strcmp(cmd, "sha256") == 0) {
		char hex[SHA256_HEX_SIZE];
		if (sha256_file(argv[2], hex) < 0)
			die(DG_NO, "cannot read '%s':", argv[2]);
		printf("%s\n", hex);
		return close_stdout() ? DG_NO : DG_OK;
	}
	if (strcmp(cmd, "verify") == 0) {
		struct decompress_result r;
		enum decompress_status st = compress_verify_file(argv[2], &r);
		if (st == DECOMP_OK)
			printf("%s %s %llu %llu\n", compress_name(r.kind), r.sha256, r.in_bytes, r.out_bytes);
		if (close_stdout())
			return DG_NO;
		return st_exit(st, &r, argv[2]);
	}
	if (strcmp(cmd, "decompress") == 0) {
		int fd = strcmp(argv[2], "-") == 0 ? 0 : open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die(DG_NO, "cannot open '%s':", argv[2]);
		struct decompress_result r;
		enum decompress_status st = decompress_to_fd(fd, 1, &r);
		fprintf(stderr, "%s\n", compress_name(r.kind));
		return st_exit(st, &r, argv[2]);
	}
	if (strcmp(cmd, "compress") == 0 && argc >= 4) {
		struct compress_spec spec;
		char *err;
		if (compress_parse(argv[2], &spec, &err) < 0)
			die(DG_USAGE, "--compress: %s", err);
		int out = strcmp(argv[3], "-") == 0 ? 1
		        : open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out < 0)
			die(DG_NO, "cannot create '%s':", argv[3]);
		struct compressor *c = compressor_open(out, spec.kind, spec.level);
		if (!c)
			die(DG_NO, "cannot start compression:");
		int r;
		if (argc >= 5 && strcmp(argv[4], "write") == 0) {
			/* odd-sized writes that straddle the ring's buffers */
			char buf[7919];
			ssize_t n;
			r = 0;
			while (r == 0 && (n = read_retry(0, buf, sizeof buf)) > 0)
				r = compressor_write(c, buf, (size_t)n);
			if (n < 0)
				r = -1;
		} else {
			if (argc >= 5 && strncmp(argv[4], "stop=", 5) == 0)
				stop_after = strtoull(argv[4] + 5, NULL, 10);
			r = compressor_pump(c, 0, stop_after ? stop_at : NULL, NULL);
		}
		if (r < 0) {
			int e = errno;
			compressor_abort(c);
			errno = e;
			die(DG_NO, "cannot write '%s':", argv[3]);
		}
		struct compress_result res;
		if (compressor_close(c, &res) < 0)
			die(DG_NO, "cannot write '%s':", argv[3]);
		if (out != 1 && close(out) < 0)
			die(DG_NO, "cannot write '%s':", argv[3]);
		fprintf(out == 1 ? stderr : stdout, "%s %llu %llu\n", res.sha256, res.raw_bytes, res.out_bytes);
		return close_stdout() ? DG_NO : DG_OK;
	}
	die(DG_USAGE, "unknown command '%s'", cmd);
}
