/* xalloc.h — allocation that cannot return NULL (out of memory exits 1),
 * a growable string buffer and a growable NULL-terminated string vector. */
#ifndef DBGUARD_XALLOC_H
#define DBGUARD_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);          /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct strbuf {
	char *buf;   /* always NUL-terminated once anything was added */
	size_t len, cap;
};
#define STRBUF_INIT { NULL, 0, 0 }
void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
const char *sb_str(struct strbuf *sb);  /* "" when empty */
char *sb_detach(struct strbuf *sb);     /* caller frees; sb is reset */
void sb_reset(struct strbuf *sb);       /* len = 0, keeps memory */
void sb_free(struct strbuf *sb);

struct strvec {
	char **v;    /* NULL-terminated once anything was pushed */
	size_t n, cap;
};
#define STRVEC_INIT { NULL, 0, 0 }
void sv_push(struct strvec *sv, const char *s);      /* copies s */
void sv_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sv_push_owned(struct strvec *sv, char *s);      /* takes s */
char **sv_argv(struct strvec *sv);                   /* never NULL */
void sv_free(struct strvec *sv);

#endif
