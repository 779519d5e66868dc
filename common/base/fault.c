/* fault.c — see fault.h; empty unless built with -DDBGUARD_FAULTS. */
#include "base/fault.h"

#ifdef DBGUARD_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fault_point(const char *step)
{
	static int passed;
	const char *want = getenv("DBGUARD_FAULT");
	if (!want)
		return;
	size_t n = strlen(step);
	if (strncmp(want, step, n) != 0 || (want[n] && want[n] != '@'))
		return;
	int nth = want[n] == '@' ? atoi(want + n + 1) : 1;
	if (++passed < nth)
		return;
	/* Say where, for the test's log, in one write; then die as kill -9. */
	char line[128];
	size_t len = (size_t)snprintf(line, sizeof line, "fault: SIGKILL at %s\n", step);
	if (len < sizeof line && write(2, line, len) < 0)
		(void)0;
	raise(SIGKILL);
}
#else
typedef int fault_points_are_compiled_out;
#endif
