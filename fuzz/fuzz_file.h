/* fuzz_file.h — for the fuzz targets whose parser reads a file: the input
 * written to a file of a given name in a directory of their own. */
#ifndef DBGUARD_FUZZ_FILE_H
#define DBGUARD_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The input as the file name in a private directory (made at the first
 * call; *dir gets it when dir is not NULL); aborts when it cannot be
 * written. */
static const char *fuzz_file(const char *name, const uint8_t *data, size_t size, const char **dir)
{
	static char d[] = "/tmp/fuzz-XXXXXX";
	static char path[sizeof d + 64];
	if (!path[0]) {
		if (!mkdtemp(d))
			abort();
		snprintf(path, sizeof path, "%s/%s", d, name);
	}
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	if (dir)
		*dir = d;
	return path;
}

#endif
