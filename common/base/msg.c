/* msg.c — see msg.h */
#include "base/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/io.h"

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

static void vmsg(const char *prefix, int is_error, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[4096];
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
	if (msg_error_hook && is_error) {
		line[len] = '\0';
		msg_error_hook(line + clear + strlen(progname) + 2);
	}
	line[len++] = '\n';
	fflush(stdout);
	/* One write per message so concurrent programs do not interleave lines. */
	write_all(2, line, len);
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
