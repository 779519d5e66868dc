/* ports.c — a host port range as text: "LO-HI" read, "N" or "LO-HI" written. */
#include <stdio.h>
#include <stdlib.h>

#include "portcheck/impl.h"

int parse_port_range(const char *s, int *lo, int *hi)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s || *end != '-')
		return -1;
	const char *b0 = end + 1;
	long b = strtol(b0, &end, 10);
	if (end == b0 || *end || a < 1 || b > 65535 || a > b)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

void port_str(char *buf, size_t len, int lo, int hi)
{
	if (lo == hi)
		snprintf(buf, len, "%d", lo);
	else
		snprintf(buf, len, "%d-%d", lo, hi);
}
