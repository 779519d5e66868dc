/* libFuzzer target: reading safe-run's journal (saferun/journal.c) and
 * numbering its undo points (make fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/msg.h"
#include "saferun/journal.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msg_verbosity = -1;
	const char *path = fuzz_file("journal", data, size, NULL);
	struct journal j;
	if (journal_read(path, &j) == 0) {
		int points = 0;
		for (size_t i = 0; i < j.n; i++)
			points += j.v[i].number > 0;
		for (int n = 1; n <= points; n++)
			if (!journal_undo_point(&j, n))
				abort();
		struct strvec refs = STRVEC_INIT;
		journal_recent_snapshots(&j, 10, &refs);
		sv_free(&refs);
		journal_free(&j);
	}
	return 0;
}
