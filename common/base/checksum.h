/* checksum.h — SHA-256 through OpenSSL's libcrypto, incremental or of a
 * whole file, as lowercase hex (what sha256sum prints). */
#ifndef DBGUARD_CHECKSUM_H
#define DBGUARD_CHECKSUM_H

#include <stddef.h>

#define SHA256_HEX_SIZE 65   /* 64 hex digits and a NUL */

struct sha256 {
	void *ctx;   /* EVP_MD_CTX, kept opaque so callers need no OpenSSL headers */
};

/* 0, or -1 with errno (ENOMEM) when libcrypto cannot set up the digest. */
int sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *buf, size_t len);
/* Write the digest as hex into hex and release the context (also on error). */
int sha256_final(struct sha256 *h, char hex[SHA256_HEX_SIZE]);
/* Release a context without a digest (an aborted computation). */
void sha256_discard(struct sha256 *h);
/* SHA-256 of the file at path; 0, or -1 with errno. */
int sha256_file(const char *path, char hex[SHA256_HEX_SIZE]);

#endif
