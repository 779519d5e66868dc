/* verify.h — full verification of a snapshot against its metadata. */
#ifndef DBGUARD_STORE_VERIFY_H
#define DBGUARD_STORE_VERIFY_H

#include <stddef.h>
#include <stdio.h>

#include "store/meta.h"

/* Full verification: metadata present and consistent, size, SHA-256 of the
 * file equal to the metadata's, and the compressed stream intact to its end.
 * 0 when good, else -1 with the first problem in err. */
int store_verify(const char *snapshot_path, struct snapshot_meta *m, char *err, size_t errlen);
/* Verify each of n snapshot paths: "PATH: FAILED" on out and the problem
 * through error() for a bad one, "PATH: OK" for a good one unless quiet,
 * and a count when more than one failed.  Returns how many failed. */
size_t store_verify_all(char *const *paths, size_t n, FILE *out);
/* The same, with check (when not NULL) run on each snapshot that passes:
 * 0, or -1 with the problem in err (a clone's database checked in its
 * server). */
size_t store_verify_all_with(char *const *paths, size_t n, FILE *out,
                             int (*check)(void *arg, const struct snapshot_meta *m,
                                          char *err, size_t errlen), void *arg);

#endif
