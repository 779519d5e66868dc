/* term.h — terminal awareness: TTY detection, colour (never with NO_COLOR or
 * off a TTY), a progress line on stderr, and reading an answer from the TTY. */
#ifndef DBGUARD_TERM_H
#define DBGUARD_TERM_H

#include <stddef.h>

int term_is_tty(int fd);
/* Colour on stderr/stdout: fd is a TTY, NO_COLOR unset, TERM not "dumb". */
int term_use_color(int fd);
/* ANSI sequences, or "" when colour is off for fd. */
const char *term_red(int fd);
const char *term_yellow(int fd);
const char *term_green(int fd);
const char *term_bold(int fd);
const char *term_reset(int fd);

/* Progress on stderr: only when stderr is a TTY and msg_verbosity >= 1.
 * total 0 = unknown (no percentage).  Updates are rate-limited (~10/s). */
struct progress {
	int active;
	int drew_total;   /* the 100% line was drawn */
	const char *label;
	unsigned long long total, done;
	double start, last;
};
void progress_start(struct progress *p, const char *label, unsigned long long total);
void progress_update(struct progress *p, unsigned long long done);
void progress_end(struct progress *p);   /* clears the line */
/* What a long step after the progress line is doing ("counting the rows of
 * ..."), on one line of stderr when it is a terminal; the next message or
 * progress_stage_end clears it. */
void progress_stage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void progress_stage_end(void);

/* Is there a terminal to ask on (stdin and stderr are TTYs, /dev/tty opens)? */
int term_can_prompt(void);
/* Print prompt on /dev/tty and read one line (without newline) into buf.
 * 0, or -1 (no TTY, EOF). */
int term_prompt(const char *prompt, char *buf, size_t len);

#endif
