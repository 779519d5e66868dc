/* term.c — see term.h */
#include "base/term.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"

int term_is_tty(int fd)
{
	return isatty(fd) == 1;
}

int term_use_color(int fd)
{
	const char *t = getenv("TERM"), *nc = getenv("NO_COLOR");
	/* no-color.org: present and not empty; NO_COLOR= disables nothing. */
	return term_is_tty(fd) && !(nc && *nc) && !(t && strcmp(t, "dumb") == 0);
}

static const char *seq(int fd, const char *s)
{
	return term_use_color(fd) ? s : "";
}

const char *term_red(int fd) { return seq(fd, "\033[31m"); }
const char *term_yellow(int fd) { return seq(fd, "\033[33m"); }
const char *term_green(int fd) { return seq(fd, "\033[32m"); }
const char *term_bold(int fd) { return seq(fd, "\033[1m"); }
const char *term_reset(int fd) { return seq(fd, "\033[0m"); }

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_draw(struct progress *p, double t)
{
	char done[32], rate[32], line[256];
	double el = t - p->start;
	human_bytes(p->done, done, sizeof done);
	human_bytes(el > 0.05 ? (unsigned long long)((double)p->done / el) : 0, rate, sizeof rate);
	unsigned secs = (unsigned)el;
	/* The label names a database, from input: escaped like a message. */
	char label[96] = "";
	if (p->label)
		msg_escape(label, sizeof label, p->label, strlen(p->label));
	int n = snprintf(line, sizeof line, "\r%s%s%s  %s/s  %u:%02u",
	                 label, p->label ? "  " : "", done, rate,
	                 secs / 60, secs % 60);
	if (p->total > 0 && n > 0 && (size_t)n < sizeof line) {
		unsigned long long pct = p->done >= p->total ? 100 : p->done * 100 / p->total;
		n += snprintf(line + n, sizeof line - (size_t)n, "  %llu%%", pct);
		/* The time left, once the rate is known. */
		if (el >= 0.3 && p->done > 0 && p->done < p->total && (size_t)n < sizeof line) {
			double left = (double)(p->total - p->done) * el / (double)p->done;
			unsigned l = left > 359999 ? 359999 : (unsigned)left;
			n += snprintf(line + n, sizeof line - (size_t)n, "  ETA %u:%02u", l / 60, l % 60);
		}
	}
	if (n > 0 && (size_t)n < sizeof line - 4) {
		memcpy(line + n, "\033[K", 3);   /* erase what a longer line left */
		n += 3;
		write_all(2, line, (size_t)n);
	}
}

void progress_start(struct progress *p, const char *label, unsigned long long total)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->total = total;
	p->active = msg_verbosity >= 1 && term_is_tty(2);
	p->start = p->last = now();
}

void progress_update(struct progress *p, unsigned long long done)
{
	p->done = done;
	if (!p->active)
		return;
	double t = now();
	/* At most ten lines a second, but the moment the expected size is
	 * reached is always drawn: a fast dump's last line says 100%. */
	int reached = p->total > 0 && done >= p->total && !p->drew_total;
	if (t - p->last < 0.1 && !reached)
		return;
	p->drew_total |= reached;
	p->last = t;
	progress_draw(p, t);
}

void progress_stage(const char *fmt, ...)
{
	if (msg_verbosity < 1 || !term_is_tty(2))
		return;
	char line[512];
	int n = snprintf(line, sizeof line, "\r%s: ", progname);
	va_list ap;
	va_start(ap, fmt);
	int m = n > 0 ? vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap) : -1;
	va_end(ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof line - 8)
		len = sizeof line - 8;
	memcpy(line + len, "...\033[K", 6);
	write_all(2, line, len + 6);
	msg_status_line = 1;
}

void progress_stage_end(void)
{
	if (msg_status_line)
		write_all(2, "\r\033[K", 4);
	msg_status_line = 0;
}

void progress_end(struct progress *p)
{
	if (p->active)
		write_all(2, "\r\033[K", 4);
	p->active = 0;
}

int term_can_prompt(void)
{
	if (!term_is_tty(0) || !term_is_tty(2))
		return 0;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int term_prompt(const char *prompt, char *buf, size_t len)
{
	if (!buf || len == 0)
		return -1;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (prompt && write_all(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return -1;
	}
	size_t n = 0;
	int got = 0;
	for (;;) {
		char c;
		/* One byte at a time: nothing past the newline is consumed. */
		ssize_t r = read_retry(fd, &c, 1);
		if (r <= 0)
			break;
		got = 1;
		if (c == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = c;
	}
	close(fd);
	if (!got)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 0;
}
