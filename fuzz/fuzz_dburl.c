/* libFuzzer target: database URLs and keyword strings, as dburl reads them
 * and as Laravel's URL parser does (make fuzz). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/dburl.h"
#include "model/target.h"
#include "resolve/framework.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	for (int laravel = 0; laravel < 2; laravel++) {
		struct target t;
		memset(&t, 0, sizeof t);
		char err[256];
		int rc = laravel ? laravel_url_parse(s, &t, "fuzz", err, sizeof err) : dburl_parse(s, &t, "fuzz", err, sizeof err);
		if (rc == 0) {
			free(dburl_format(&t, 1));
			free(target_describe(&t));
			struct strvec hs = STRVEC_INIT, ps = STRVEC_INIT;
			if (dburl_hosts(&t, &hs, &ps) != hs.n || hs.n != ps.n)
				abort();
			sv_free(&hs);
			sv_free(&ps);
		}
		target_free(&t);
	}
	free(s);
	return 0;
}
