/* dotenv.h — .env files read the way each framework's own loader reads
 * them.  One dialect per loader:
 *   php      phpdotenv 5 (Laravel): ${VAR} only, no $VAR; a name alone
 *            unsets; whitespace inside an unquoted value is an error;
 *   node     dotenv 16 + dotenv-expand 12 (Next.js, Vite, Prisma, Knex):
 *            every line that does not match is skipped; '#' anywhere ends an
 *            unquoted value; backtick quotes; $VAR, ${VAR}, ${VAR-d},
 *            ${VAR:-d}, ${VAR+a}, ${VAR:+a}, nested, \$;
 *   ruby     bkeepers/dotenv (dotenv-rails): $VAR and ${VAR}, \$, and $(cmd),
 *            which runs a shell and so cannot be pinned;
 *   compose  compose-go: the compose operators ${VAR:-d} ${VAR-d} ${VAR:?e}
 *            ${VAR?e} ${VAR:+a} ${VAR+a};
 *   generic  what the loaders agree on, for a project of no known framework.
 * Every dialect ends a line at LF, CRLF or a lone CR (as every loader does),
 * skips a UTF-8 BOM, and lets the last duplicate win.  Expansion is bounded
 * (DOTENV_MAX_VALUE bytes, DOTENV_MAX_DEPTH levels): beyond that the value
 * is reported as "FILE:LINE: expansion too large" and not set. */
#ifndef DBGUARD_DOTENV_H
#define DBGUARD_DOTENV_H

#include <stddef.h>

enum dotenv_dialect { DOTENV_GENERIC, DOTENV_PHP, DOTENV_NODE, DOTENV_RUBY, DOTENV_COMPOSE };

#define DOTENV_MAX_VALUE (64 * 1024)
#define DOTENV_MAX_DEPTH 32

struct dotenv_entry {
	char *key;
	char *value;
	int line;
	char *unpinned;     /* why the value cannot be known without running
	                       something ("$(...) runs a shell command"), or NULL */
};

struct dotenv {
	char *path;
	struct dotenv_entry *v;
	size_t n, cap;
	size_t *slot;       /* hash of keys -> 1 + index of the key's last entry (0: empty) */
	size_t nslot;
	int errors;         /* malformed lines (each already reported as "prog: FILE:LINE: what") */
	int skipped;        /* lines the loader skips (reported with -v) */
	enum dotenv_dialect dialect;
};

/* 0 when read (possibly with malformed lines counted in errors); -1 with errno
 * when it cannot be read (nothing reported).  Warns about a file others can write. */
int dotenv_load(const char *path, struct dotenv *out);
int dotenv_load_as(const char *path, enum dotenv_dialect dialect, struct dotenv *out);
/* Parse text[0..len) as the file `path` (named in messages); never fails. */
void dotenv_parse(const char *text, size_t len, const char *path, enum dotenv_dialect dialect, struct dotenv *out);
/* The last entry for key, or NULL. */
const struct dotenv_entry *dotenv_get(const struct dotenv *d, const char *key);
void dotenv_free(struct dotenv *d);
/* "phpdotenv (Laravel)", ... for --explain. */
const char *dotenv_dialect_name(enum dotenv_dialect dialect);

#endif
