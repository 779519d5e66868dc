/* probe.h — what db-envcheck learns by connecting to a target: --ping's
 * reachability, version, size, tables and marker; the marker of a local
 * database read without --ping; and --mark writing that marker. */
#ifndef DBGUARD_ENVCHECK_PROBE_H
#define DBGUARD_ENVCHECK_PROBE_H

#include "model/target.h"

struct probe {
	int done, reachable, missing, status;
	char *marker_note;          /* without --ping: whether the marker was read */
	char err[256];
	char *version, *marker;
	long long size;
	long tables;
};

void envcheck_ping(struct target *t, struct probe *p);
void envcheck_read_marker(struct target *t, struct probe *p, int offline);
int envcheck_mark(struct target *t, const char *mark, const char *confirm);

#endif
