/* msg.h — messages on stderr, every one prefixed with the program name.
 * A format ending in ':' gets ": strerror(errno)" appended (as sbase does). */
#ifndef DBGUARD_MSG_H
#define DBGUARD_MSG_H

#include <stddef.h>

extern const char *progname;
/* 0 = -q (errors only), 1 = normal, 2 = -v */
extern int msg_verbosity;
/* A status line (term.h, progress_stage) is on stderr's last line: the next
 * message clears it first. */
extern int msg_status_line;

/* When set, called with the text of every error (die and error: without
 * the program name and newline), e.g. to put errors in JSON output. */
extern void (*msg_error_hook)(const char *text);

void msg_init(const char *argv0);
_Noreturn void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* always shown */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));    /* hidden by -q */
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));    /* hidden by -q */
void verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* only with -v */
/* Every message is shown through msg_escape: control characters (C0, DEL,
 * C1) and bytes that are not UTF-8 become "\xNN", so a value read from a
 * file or URL never reaches the terminal as a control sequence.  Writes at
 * most outlen - 1 bytes and a NUL into out (stopping before a character
 * that does not fit); returns the length. */
size_t msg_escape(char *out, size_t outlen, const char *s, size_t n);
/* s escaped the same way (malloc'd), for text shown outside messages. */
char *xescape(const char *s);
/* Print the version line for --version and exit 0. */
_Noreturn void print_version(void);
/* Flush and close stdout; -1 (after reporting it) when anything failed. */
int close_stdout(void);

#endif
