/* msg.c — see msg.h */
#include "base/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/xalloc.h"

const char *progname = "dbguard";
int msg_verbosity = 1;
int msg_status_line;
void (*msg_error_hook)(const char *text);

void msg_init(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	if (argv0 && *argv0)
		progname = slash ? slash + 1 : argv0;
}

size_t msg_escape(char *out, size_t outlen, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t k = 0;
	while (p < end && k + 4 < outlen) {
		size_t seq = 1;
		unsigned c = *p;
		/* The length of a valid UTF-8 sequence at p (RFC 3629: no
		 * overlong forms, no surrogates, nothing past U+10FFFF), or 1. */
		if (c >= 0xc2 && c <= 0xf4) {
			size_t want = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
			unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
			if ((size_t)(end - p) >= want && p[1] >= lo && p[1] <= hi) {
				seq = 2;
				while (seq < want && p[seq] >= 0x80 && p[seq] <= 0xbf)
					seq++;
				if (seq != want)
					seq = 1;
			}
		}
		/* C0 controls, DEL, C1 controls (U+0080..U+009F, which some
		 * terminals obey as ESC sequences) and bytes that are not UTF-8
		 * are shown as \xNN; everything else as it is. */
		int c1 = seq == 2 && c == 0xc2 && p[1] < 0xa0;
		if (seq == 1 && (c < 0x20 || c >= 0x7f)) {
			out[k++] = '\\';
			out[k++] = 'x';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
			p++;
		} else if (c1) {
			if (k + 8 >= outlen)
				break;
			for (int i = 0; i < 2; i++) {
				out[k++] = '\\';
				out[k++] = 'x';
				out[k++] = hex[p[i] >> 4];
				out[k++] = hex[p[i] & 15];
			}
			p += 2;
		} else {
			if (k + seq >= outlen)
				break;
			memcpy(out + k, p, seq);
			k += seq;
			p += seq;
		}
	}
	if (outlen)
		out[k] = '\0';
	return k;
}

char *xescape(const char *s)
{
	size_t n = strlen(s), cap = 4 * n + 9;
	char *out = xmalloc(cap);
	msg_escape(out, cap, s, n);
	return out;
}

static void vmsg(const char *prefix, int is_error, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[4096], shown[4 * sizeof line + 2];
	/* A status line on the terminal is cleared first, so the message
	 * starts a line of its own. */
	size_t clear = msg_status_line ? 4 : 0;
	msg_status_line = 0;
	int n = snprintf(line, sizeof line, "%s%s: %s", clear ? "\r\033[K" : "", progname, prefix);
	if (n < 0 || (size_t)n >= sizeof line)
		n = 0;
	int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	size_t len = m < 0 ? (size_t)n : (size_t)n + (size_t)m;
	if (len >= sizeof line - 64)
		len = sizeof line - 64;
	if (len > 0 && fmt[0] && fmt[strlen(fmt) - 1] == ':')
		len += (size_t)snprintf(line + len, sizeof line - len, " %s", strerror(saved));
	/* A message quotes values from files, URLs and the environment: what
	 * reaches the terminal (or the hook: safe-run's journal) is text,
	 * never a control sequence.  Our own clearing sequence and "prog: "
	 * apart, for the hook. */
	if (n == 0)
		clear = 0;
	memcpy(shown, line, clear);
	size_t pre = clear + strlen(progname) + 2 < len ? clear + strlen(progname) + 2 : len;
	size_t head = clear + msg_escape(shown + clear, sizeof shown - 1 - clear, line + clear, pre - clear);
	len = head + msg_escape(shown + head, sizeof shown - 1 - head, line + pre, len - pre);
	if (msg_error_hook && is_error)
		msg_error_hook(shown + head);
	shown[len++] = '\n';
	fflush(stdout);
	/* One write per message so concurrent programs do not interleave lines. */
	write_all(2, shown, len);
	errno = saved;
}

void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", 1, fmt, ap);
	va_end(ap);
	exit(status);
}

void error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg("", 1, fmt, ap);
	va_end(ap);
}

void warn(const char *fmt, ...)
{
	if (msg_verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg("warning: ", 0, fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	if (msg_verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg("", 0, fmt, ap);
	va_end(ap);
}

void verbose(const char *fmt, ...)
{
	if (msg_verbosity < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg("", 0, fmt, ap);
	va_end(ap);
}

void print_version(void)
{
	printf("%s (dbguard) %s\n", progname, DBGUARD_VERSION);
	exit(close_stdout() == 0 ? DG_OK : DG_NO);
}

int close_stdout(void)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);
	if (fclose(stdout) != 0)
		bad = 1;
	if (bad && errno != EPIPE) {
		error("cannot write to standard output:");
		return -1;
	}
	return bad ? -1 : 0;
}
