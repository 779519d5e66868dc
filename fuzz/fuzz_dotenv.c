/* libFuzzer target: dotenv files in every loader's dialect (make fuzz).
 * The text is parsed from memory: no temporary file. */
#include <stdint.h>
#include <stdlib.h>

#include "model/dotenv.h"
#include "base/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msg_verbosity = -1;
	static const enum dotenv_dialect dialects[] = { DOTENV_GENERIC, DOTENV_PHP, DOTENV_NODE, DOTENV_RUBY,
	                                                DOTENV_COMPOSE };
	for (size_t i = 0; i < sizeof dialects / sizeof *dialects; i++) {
		struct dotenv d;
		dotenv_parse((const char *)data, size, "fuzz.env", dialects[i], &d);
		for (size_t k = 0; k < d.n; k++)
			if (!d.v[k].key || !d.v[k].value || (size_t)d.v[k].line > size + 1)
				abort();
		dotenv_free(&d);
	}
	return 0;
}
