/* crypt.h — remote copies encrypted with age ([store] encrypt_to: public-key
 * recipients, so a machine that pushes cannot read old copies back) and
 * decrypted with [store] identity.  age runs as a child with an argv array;
 * recipients are public keys, the identity is a file name: no secret in argv. */
#ifndef DBGUARD_CRYPT_H
#define DBGUARD_CRYPT_H

#include <stddef.h>

/* Whether [store] encrypt_to names any recipient. */
int crypt_wanted(void);
/* Encrypt the file in to out (created 0600).  DG_OK, or DG_USAGE (age
 * missing, a bad recipient) / DG_NO with one line in err. */
int crypt_encrypt(const char *in, const char *out, char *err, size_t errlen);
/* Decrypt in to out with [store] identity (relative to project_dir); what
 * names the snapshot in messages.
 * DG_OK, or DG_USAGE (age missing, no identity configured, an identity
 * that does not match the recipients), DG_INTEGRITY (not an age file, or
 * damaged), with one line in err. */
int crypt_decrypt(const char *in, const char *out, const char *what, const char *project_dir, char *err,
                  size_t errlen);

#endif
