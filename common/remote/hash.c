/* hash.c — local digests to compare with what a backend reports (rclone
 * hashsum), and deleting one remote object. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/xalloc.h"
#include "remote/impl.h"

int remote_hash_file(const char *path, const char *type, char *hex, size_t hexlen)
{
	const EVP_MD *md = strcmp(type, "sha256") == 0 ? EVP_sha256() : strcmp(type, "md5") == 0 ? EVP_md5()
	                 : strcmp(type, "sha1") == 0 ? EVP_sha1() : NULL;
	if (!md || hexlen < 2 * (size_t)EVP_MD_size(md) + 1) {
		errno = EINVAL;
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL)) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	static char buf[1 << 17];
	ssize_t n;
	while ((n = read_retry(fd, buf, sizeof buf)) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	int e = errno;
	close(fd);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_DigestFinal_ex(ctx, d, &dl);
	EVP_MD_CTX_free(ctx);
	if (n < 0) {
		errno = e;
		return -1;
	}
	for (unsigned int i = 0; i < dl; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

int remote_delete(struct remote *r, const char *name, char *err, size_t errlen)
{
	char *p = rclone_path(r, name);
	const char *args[] = { "deletefile", p, NULL };
	int rc = rclone_run(r, args, NULL, err, errlen);
	free(p);
	return rc == DG_NOTHING ? DG_OK : rc;
}
