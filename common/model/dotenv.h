/* dotenv.h — .env files read the way frameworks read them (phpdotenv,
 * dotenv, python-dotenv): export prefix, quotes, escapes, ${VAR} expansion,
 * comments, multi-line values, CRLF, BOM; last duplicate wins. */
#ifndef DBGUARD_DOTENV_H
#define DBGUARD_DOTENV_H

#include <stddef.h>

struct dotenv_entry {
	char *key;
	char *value;
	int line;
};

struct dotenv {
	char *path;
	struct dotenv_entry *v;
	size_t n;
	int errors;     /* malformed lines (each already reported as "prog: FILE:LINE: what") */
};

/* 0 when read (possibly with malformed lines counted in errors); -1 with errno
 * when it cannot be read (nothing reported).  Warns about a file others can write. */
int dotenv_load(const char *path, struct dotenv *out);
/* The last entry for key, or NULL. */
const struct dotenv_entry *dotenv_get(const struct dotenv *d, const char *key);
void dotenv_free(struct dotenv *d);

#endif
