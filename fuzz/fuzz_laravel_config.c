/* libFuzzer target: Laravel's bootstrap/cache/config.php, the var_export
 * literal syntax (make fuzz). */
#include <stdint.h>
#include <stdlib.h>

#include "resolve/framework.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	char err[256];
	struct lit *v = phpvar_parse(s, err, sizeof err);
	if (v) {
		const struct lit *db = lit_get(v, "database");
		const char *name = lit_text(lit_get(db, "default"));
		const struct lit *conn = name ? lit_get(lit_get(db, "connections"), name) : NULL;
		(void)lit_text(lit_get(conn, "host"));
		lit_free(v);
	}
	free(s);
	return 0;
}
