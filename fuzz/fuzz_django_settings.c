/* libFuzzer target: Django settings read statically (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolve/framework.h"
#include "base/xalloc.h"

static const char *get(void *ctx, const char *key, char **where)
{
	(void)ctx;
	*where = xstrdup("fuzz");
	return strcmp(key, "DATABASE_URL") == 0 ? "postgres://u@localhost/app" : NULL;
}

static void import_star(void *ctx, const char *file, const char *module, struct django_settings *s, int depth)
{
	(void)ctx;
	(void)file;
	(void)module;
	(void)s;
	(void)depth;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct django_settings s;
	memset(&s, 0, sizeof s);
	struct django_io io = { get, import_star, NULL };
	django_parse(text, "mysite/settings.py", &io, &s, 0);
	if (s.databases)
		for (size_t i = 0; s.databases->kind == LIT_MAP && i < s.databases->n; i++)
			(void)lit_text(lit_get(s.databases->vals[i], "NAME"));
	django_settings_free(&s);
	free(text);
	return 0;
}
