/* portcheck.h — keep the host ports of a project's database services in a
 * protected range: load and analyze a compose project (session.c), print the
 * report, the plan or the addresses (print.c), apply the plan (apply.c),
 * roll it back (rollback.c). */
#ifndef DBGUARD_PORTCHECK_H
#define DBGUARD_PORTCHECK_H

#include <stddef.h>
#include "base/xalloc.h"
#include "compose/compose.h"
#include "portcheck/sockets.h"

struct row {
	struct cservice *s;
	struct cport *p;
	size_t order;         /* position among all rows */
	int db;               /* a database service or an admin UI */
	unsigned flags;
	const struct listener *busy;
	int loses;            /* moves to resolve a conflict */
	int change, manual;
	char *why_manual;
	int new_lo, new_hi;
};

struct finding {
	int note;
	const char *kind;
	const char *file;
	int line;
	const char *service;
	char *msg;
	size_t seq;
};

struct report {
	struct compose_project *p;
	int lo, hi;
	struct row *rows;
	size_t nrows;
	struct finding *fv;
	size_t nf;
	size_t ndb;           /* database services */
	size_t nfindings;     /* not counting notes */
	size_t nunplaced;     /* changes that found no free port */
};

struct session {
	struct strvec files;
	struct compose_project p;
	struct listener_list ls;
	struct report r;
	int loaded, analyzed;
};

/* The --range option (or the configuration's range) as lo, hi; -1 reported. */
int parse_range_option(const char *range, int *lo, int *hi);
/* Read the compose files, the ports in use, and analyze: DG_OK, or the
 * status of what went wrong (reported); session_free in every case. */
int session_load(struct session *ss, const struct strvec *files, int lo, int hi);
void session_free(struct session *ss);

/* --only=ports: keep the findings about ports (out of range, conflicts, the
 * same port in two files, in use, exposed) and the notes; drop the others. */
void report_keep_port_findings(struct report *r);

/* format: FMT_HUMAN, FMT_TSV or FMT_JSON (base/output.h). */
void print_validate(const struct report *r, int format);
void print_plan(const struct report *r, int format);

/* Apply the plan of ss (confirm: the --confirm value or NULL; force: replace
 * an earlier FILE.backup): an exit status. */
int portcheck_apply(struct session *ss, const char *confirm, int force, int format);

/* What apply --restart adds (bin/portcheck.c): before() runs once apply is
 * confirmed, before any file changes (non-zero: stop, nothing changed);
 * after() runs once the rewritten files check out (non-zero: the files are
 * put back and apply fails, DG_NO).  The addresses are printed after it. */
struct apply_hooks {
	int (*before)(void *arg);
	int (*after)(void *arg);
	void *arg;
};
int portcheck_apply_hooked(struct session *ss, const char *confirm, int force, int format,
                           const struct apply_hooks *h);

/* The services' access addresses, as apply prints them after its edits. */
void print_addresses(const struct report *r, int format);
/* Add a finding (note: 1 for a note) to a report. */
void add_finding(struct report *r, int note, const char *kind, const char *file, int line, const char *service,
                 const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Put the FILE.backup copies back (given: the -f files): an exit status. */
int portcheck_rollback(const struct strvec *given);

#endif
