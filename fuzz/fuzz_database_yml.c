/* libFuzzer target: Rails' config/database.yml, ERB forms then YAML with
 * anchors and merge keys (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolve/framework.h"
#include "base/xalloc.h"

static const char *get(void *ctx, const char *key, char **where)
{
	(void)ctx;
	*where = xstrdup("fuzz");
	return strcmp(key, "DB_HOST") == 0 ? "db.example.com" : strcmp(key, "EMPTY") == 0 ? "" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	const char *envs[] = { "development", "test" };
	for (int i = 0; i < 2; i++) {
		struct dbyml y;
		char err[256];
		if (dbyml_parse(s, "config/database.yml", envs[i], get, NULL, &y, err, sizeof err) == 0)
			dbyml_free(&y);
	}
	free(s);
	return 0;
}
