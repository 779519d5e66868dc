/* output.c — see output.h */
#include "base/output.h"

#include <string.h>

int out_format_parse(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "tsv") == 0)
		return FMT_TSV;
	if (strcmp(s, "json") == 0)
		return FMT_JSON;
	if (strcmp(s, "env") == 0)
		return FMT_ENV;
	if (strcmp(s, "human") == 0 || strcmp(s, "table") == 0)
		return FMT_HUMAN;
	return -1;
}

void tsv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		switch (*s) {
		case '\t': fputs("\\t", f); break;
		case '\n': fputs("\\n", f); break;
		case '\\': fputs("\\\\", f); break;
		default: putc(*s, f);
		}
	}
}

int tsv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *out = line;
	fields[n++] = out;
	for (char *in = line; *in && *in != '\n'; in++) {
		if (*in == '\t') {
			*out++ = '\0';
			if (n == max)
				return -1;
			fields[n++] = out;
		} else if (*in == '\\' && in[1]) {
			in++;
			*out++ = *in == 't' ? '\t' : *in == 'n' ? '\n' : *in;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
	return n;
}

void json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				putc(c, f);
		}
	}
	putc('"', f);
}

void shell_quote(FILE *f, const char *s)
{
	/* Plain words stay plain so "DBGUARD_CLASS=production" greps as it reads. */
	if (s && *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:@%+,") == strlen(s)) {
		fputs(s, f);
		return;
	}
	putc('\'', f);
	for (; s && *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			putc(*s, f);
	}
	putc('\'', f);
}

const char *human_bytes(unsigned long long n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (n < 1024) {
		snprintf(buf, len, "%llu B", n);
		return buf;
	}
	double v = (double)n / 1024.0;
	size_t u = 0;
	/* Switch unit before "1024.0 KiB" would be printed. */
	while (v >= 1023.95 && u + 1 < sizeof units / sizeof *units) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}
