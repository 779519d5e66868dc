/* exitcodes.h — the suite's one exit-status table (DESIGN.md, "Conventions"). */
#ifndef DBGUARD_EXITCODES_H
#define DBGUARD_EXITCODES_H

enum dg_exit {
	DG_OK = 0,           /* done / safe / compliant */
	DG_NO = 1,           /* production found, findings, the operation failed */
	DG_USAGE = 2,        /* usage or configuration error */
	DG_NOTHING = 3,      /* no database configured, no snapshot, no compose file */
	DG_UNREACHABLE = 4,  /* database unreachable */
	DG_INTEGRITY = 5,    /* snapshot corrupt or not matching its metadata */
	DG_UNCONFIRMED = 6,  /* the user declined, or no TTY and no --confirm=NAME */
	DG_REFUSED = 125,    /* safe-run refused or failed before running the command */
	DG_CANNOT_EXEC = 126,
	DG_NOT_FOUND = 127,
};

#endif
