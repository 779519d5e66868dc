/* tables.c — table lists (tables.h). */
#include "model/tables.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/output.h"
#include "base/xalloc.h"

void table_counts_free(struct table_counts *tc)
{
	if (!tc)
		return;
	for (size_t i = 0; i < tc->n; i++)
		free(tc->v[i].name);
	free(tc->v);
	tc->v = NULL;
	tc->n = 0;
}

int table_counts_add_line(struct table_counts *tc, size_t *cap, const char *value)
{
	char *f[2], *copy = xstrdup(value);
	int nf = tsv_split(copy, f, 2);
	size_t nd = nf == 2 ? strlen(f[1]) : 0;
	if (nf != 2 || !*f[0] || !nd || nd > 19 || strspn(f[1], "0123456789") != nd ||
	    strtoull(f[1], NULL, 10) > LLONG_MAX) {
		free(copy);
		return -1;
	}
	if (tc->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		tc->v = xrealloc(tc->v, *cap * sizeof *tc->v);
	}
	tc->v[tc->n].name = xstrdup(f[0]);
	tc->v[tc->n].rows = (long long)strtoull(f[1], NULL, 10);
	tc->n++;
	free(copy);
	return 0;
}

int table_counts_from_meta(const char *text, struct table_counts *out)
{
	out->v = NULL;
	out->n = 0;
	size_t cap = 0;
	for (const char *s = text; s && *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		if (len > 6 && !strncmp(s, "table=", 6)) {
			char *line = xstrndup(s + 6, len - 6);
			int bad = table_counts_add_line(out, &cap, line);
			free(line);
			if (bad) {
				table_counts_free(out);
				return -1;
			}
		}
		s = nl ? nl + 1 : NULL;
	}
	return 0;
}
