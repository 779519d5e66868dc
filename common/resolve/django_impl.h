/* django_impl.h — what the Django settings reader's files share (private
 * to common/resolve/django*.c): the tokens of django_lex.c, the evaluation
 * state and value helpers of django_eval.c, the environment and database-URL
 * calls of django_env.c.  The public interface is in framework.h. */
#ifndef DBGUARD_DJANGO_IMPL_H
#define DBGUARD_DJANGO_IMPL_H

#include <stddef.h>

#include "resolve/framework.h"

enum { MAX_IMPORT_DEPTH = 8, MAX_EXPR_DEPTH = 64 };
/* The key under which a map holds a whole database URL (dj_database_url, env.db). */
#define URL_KEY "__url__"

/* ---- tokens (django_lex.c) ---- */

enum ttype { T_NAME, T_NUM, T_STR, T_OP, T_NL };

struct tok {
	enum ttype type;
	const char *s;     /* raw text */
	size_t n;
	char *str;         /* T_STR: the decoded value */
	int fstring;       /* T_STR: an f-string (not a literal) */
	int line, col;
};

struct toks {
	struct tok *v;
	size_t n;
};

/* Split Python source into tokens, a T_NL after each logical line. */
void django_lex(const char *text, struct toks *ts);
void django_toks_free(struct toks *ts);

/* ---- evaluation (django_eval.c) ---- */

struct ev {
	struct toks *ts;
	size_t i, end;
	const char *file;
	const struct django_io *io;
	struct django_settings *s;
	int depth;
};

/* The arguments of a call, evaluated (the first few of each kind). */
struct args {
	struct lit *pos[4];
	size_t npos;
	char *kw[6];
	struct lit *kwv[6];
	size_t nkw;
};
/* The keyword argument name=, or NULL. */
struct lit *django_kwarg(struct args *a, const char *name);

int django_is_op(const struct ev *e, const char *op);
int django_is_name(const struct tok *t, const char *name);
/* A new value of kind at FILE:line of e. */
struct lit *django_mk(enum lit_kind kind, char *s, const struct ev *e, int line);
/* A value that cannot be read statically, saying what it is. */
struct lit *django_opaque(const struct ev *e, int line, const char *what);
struct lit *django_lit_copy(const struct lit *v);
/* m[key] = v (v owned by m; an earlier value is freed). */
void django_map_set(struct lit *m, const char *key, struct lit *v);
/* The directory above dir ("." gives "..", ".." gives "../.."). */
char *django_path_up(const char *dir);
/* DATABASES cannot be read: say why and where. */
void django_set_opaque_databases(struct django_settings *s, const char *where, const char *why);

/* ---- environment and database URLs (django_env.c) ---- */

struct lit *django_env_lookup(struct ev *e, int line, const struct lit *key, const struct lit *def);
struct lit *django_url_map(struct ev *e, int line, struct lit *url);
/* A call settings files make to read the environment or a database URL:
 * its value, or NULL when fn is not one. */
struct lit *django_env_call(struct ev *e, const char *fn, struct args *a, int line);

#endif
