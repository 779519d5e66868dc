/* checksum.c — see checksum.h */
#include "base/checksum.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/io.h"

int sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		h->ctx = NULL;
		errno = ENOMEM;
		return -1;
	}
	h->ctx = ctx;
	return 0;
}

void sha256_update(struct sha256 *h, const void *buf, size_t len)
{
	if (h->ctx && len > 0 && EVP_DigestUpdate(h->ctx, buf, len) != 1) {
		/* Cannot happen for SHA-256 in memory; a NULL ctx makes final fail
		 * rather than report a digest of part of the data. */
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

int sha256_final(struct sha256 *h, char hex[SHA256_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	hex[0] = '\0';
	if (!h->ctx) {
		errno = EINVAL;
		return -1;
	}
	int ok = EVP_DigestFinal_ex(h->ctx, md, &n) == 1 && n == 32;
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	if (!ok) {
		errno = EINVAL;
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * n] = '\0';
	return 0;
}

void sha256_discard(struct sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int sha256_file(const char *path, char hex[SHA256_HEX_SIZE])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct sha256 h;
	if (sha256_init(&h) < 0) {
		close(fd);
		return -1;
	}
	size_t size = 1 << 18;
	char *buf = malloc(size);
	if (!buf) {
		sha256_discard(&h);
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	ssize_t n;
	while ((n = read_retry(fd, buf, size)) > 0)
		sha256_update(&h, buf, (size_t)n);
	int e = errno;
	free(buf);
	close(fd);
	if (n < 0) {
		sha256_discard(&h);
		errno = e;
		return -1;
	}
	return sha256_final(&h, hex);
}
