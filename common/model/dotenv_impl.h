/* dotenv_impl.h — what the dotenv dialects (dotenv.c, dotenv_php.c,
 * dotenv_node.c, dotenv_ruby.c) share; not for use outside them. */
#ifndef DBGUARD_DOTENV_IMPL_H
#define DBGUARD_DOTENV_IMPL_H

#include <ctype.h>
#include <stddef.h>

#include "base/xalloc.h"
#include "model/dotenv.h"

static inline int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
static inline int is_blank(int c) { return c == ' ' || c == '\t'; }
static inline int is_word(int c) { return isalnum(c) || c == '_'; }

/* Report "FILE:LINE: what" as an error (fmt takes one %s: arg). */
void dv_bad(struct dotenv *d, int line, const char *fmt, const char *arg);
/* A line the loader skips: reported with -v. */
void dv_skipped(struct dotenv *d, int line, const char *why);
/* "FILE:LINE: expansion too large". */
void dv_too_large(struct dotenv *d, int line);
void dv_set_entry(struct dotenv *d, const char *key, size_t keylen, char *value, int line, const char *unpinned);
void dv_unset_entry(struct dotenv *d, const char *key, size_t keylen);
/* A variable for expansion: the process environment, then the file's last
 * entry for it so far (NULL when unset). */
const char *dv_lookup(const struct dotenv *d, const char *name, size_t n);
/* Why the file's value of name cannot be pinned, or NULL. */
const char *dv_lookup_unpinned(const struct dotenv *d, const char *name, size_t n);

/* An expansion under way: output bounded by DOTENV_MAX_VALUE. */
struct xp {
	struct dotenv *d;
	int line;
	int failed;         /* reported already */
	const char *unpinned;
};
void dv_xp_add(struct xp *x, struct strbuf *out, const char *s, size_t n);
/* A variable's value for the expansion x (dv_lookup), noting in x when the
 * file's value of it cannot be pinned. */
const char *dv_xp_lookup(struct xp *x, const char *name, size_t n);
/* After a closing quote only blanks and a comment may follow. */
int dv_rest_is_blank(const char *q);
/* The start of one line of a dotenv file at p (its number line): white
 * space skipped (at counts its newlines, l is where it ends), "export "
 * when a key follows (export), the key [k, ke) of the bytes is_key takes,
 * blanks after it up to s, and the value after "=" or ": " (v, NULL when
 * neither follows a key). */
struct dv_head {
	const char *l, *k, *ke, *s, *v;
	int at, export;
};
void dv_line_head(const char *p, int line, int (*is_key)(int), struct dv_head *h);
/* The line after the one at l (the end of the text after the last). */
const char *dv_next_line(const char *l);
/* An unquoted value at v: up to a '#' or the end of the line; *end the
 * end of the line. */
char *dv_unquoted_value(const char *v, const char **end);
/* Strip white space from both ends of s, in place; its new length. */
size_t dv_trim(char *s);
/* dotenv's LINE expression at v (after the separator): the raw value and
 * where the match ends; *nl the newlines inside a quoted value. */
char *dv_node_value(const char *v, const char **end, int *nl);

void dv_parse_php(struct dotenv *d, const char *text);
void dv_parse_node(struct dotenv *d, const char *text);
void dv_expand_node(struct dotenv *d);
void dv_parse_ruby(struct dotenv *d, const char *text);

#endif
