/* lit.c — the literal value tree the PHP (var_export) and Python
 * (settings) readers build (see framework.h). */
#include "resolve/framework.h"

#include <stdlib.h>
#include <string.h>

void lit_free(struct lit *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		lit_free(v->vals[i]);
	}
	free(v->keys);
	free(v->vals);
	free(v->s);
	free(v->where);
	free(v);
}

struct lit *lit_get(const struct lit *m, const char *key)
{
	if (!m || m->kind != LIT_MAP)
		return NULL;
	/* The last duplicate wins, as in PHP and Python. */
	for (size_t i = m->n; i-- > 0;)
		if (strcmp(m->keys[i], key) == 0)
			return m->vals[i];
	return NULL;
}

const char *lit_text(const struct lit *v)
{
	return v && (v->kind == LIT_STR || v->kind == LIT_NUM) ? v->s : NULL;
}
