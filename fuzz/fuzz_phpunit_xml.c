/* libFuzzer target: phpunit.xml <php><env>/<server> entries through expat
 * (make fuzz). */
#include <stdint.h>
#include <stdlib.h>

#include "model/dotenv.h"
#include "resolve/framework.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dotenv forced, normal;
	char err[256];
	phpunit_parse((const char *)data, size, "phpunit.xml", &forced, &normal, err, sizeof err);
	(void)dotenv_get(&forced, "DB_DATABASE");
	dotenv_free(&forced);
	dotenv_free(&normal);
	return 0;
}
