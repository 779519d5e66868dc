/* interpolate.h — compose variable interpolation ($VAR, ${VAR}, ${VAR:-d},
 * ${VAR-d}, ${VAR:?msg}, ${VAR?msg}, ${VAR:+r}, ${VAR+r}, nesting, $$) from
 * the process environment, then the project's .env, remembering which bytes
 * of the result came from which input bytes or which variable, so a port can
 * be edited where it is really written. */
#ifndef DBGUARD_INTERPOLATE_H
#define DBGUARD_INTERPOLATE_H

#include <stddef.h>

#include "model/dotenv.h"

/* Where a variable's value comes from. */
struct interp_origin {
	int set;             /* defined at all */
	int from_env;        /* process environment (not editable) */
	const char *file;    /* the .env path when from it */
	int line;            /* its line there */
	long off, len;       /* bytes of the value in the .env file; off -1 when the
	                        raw text is not the value (quoted escapes, expansion) */
};

/* A run of output bytes and where they came from: literal input text
 * (src_off is an offset into the input string) or a variable's value
 * (src_off is an offset into that value). */
struct interp_seg {
	size_t out_off, out_len;
	size_t src_off;
	const char *var;     /* NULL for literal input text */
};

struct interp_result {
	char *text;
	struct interp_seg *seg;
	size_t nseg;
};

struct interp {
	struct dotenv env;
	int have_env;
	char *env_text;      /* raw .env, for the byte offsets of values */
	size_t env_len;
	char **names;        /* every variable name seen; segments point here */
	int *warned;         /* names[i] was reported as unset */
	size_t nnames;
	int warnings;
};

/* Read dotenv_path (absent is fine).  0, or -1 after reporting a file that
 * exists but cannot be read or has malformed lines. */
int interp_init(struct interp *ip, const char *dotenv_path);
void interp_free(struct interp *ip);

/* Expand s.  where ("file:line") prefixes messages.  0 with *out filled; -1
 * after reporting a ${VAR:?message} failure or an invalid ${...}.  An unset
 * variable without default is a warning (once per name) and expands empty. */
int interp_expand(struct interp *ip, const char *s, const char *where, struct interp_result *out);
void interp_result_free(struct interp_result *r);

/* Look up a variable as interpolation does. */
void interp_origin(const struct interp *ip, const char *name, struct interp_origin *o);

/* The bytes [off, off+len) of r->text come from one place: either the input
 * (returns 1, *src_off into the input string) or a single variable (returns
 * 2, *var and *src_off into its value).  0 when they are mixed. */
int interp_span_source(const struct interp_result *r, size_t off, size_t len, const char **var, size_t *src_off);

#endif
