/* cli.h — what every program's command line shares, so that all five answer
 * alike: -q/-v/-h/-C DIR/--version, --format=, --target=N and the one
 * decision for a --target past the end. */
#ifndef DBGUARD_CLI_H
#define DBGUARD_CLI_H

#include "model/target.h"

/* getopt_long code of --version; programs number their own options from
 * CLI_OPT_FIRST up. */
enum { CLI_OPT_VERSION = 256, CLI_OPT_FIRST };

/* The long options every program has; end a program's table with it. */
#define CLI_COMMON_LONGOPTS                                   \
	{ "quiet", no_argument, NULL, 'q' },                  \
	{ "verbose", no_argument, NULL, 'v' },                \
	{ "help", no_argument, NULL, 'h' },                   \
	{ "version", no_argument, NULL, CLI_OPT_VERSION },    \
	{ NULL, 0, NULL, 0 }

/* Handle one of the common options (q, v, h, C, --version) or an unknown
 * one: -h calls usage(0), anything not common calls usage(2); never returns
 * for those.  Call it from the default: of a program's option switch. */
void cli_common(int opt, const char *arg, void (*usage)(int status));

/* Bits of the formats a program accepts. */
#define CLI_FMT_HUMAN (1u << 0)
#define CLI_FMT_TSV   (1u << 1)
#define CLI_FMT_JSON  (1u << 2)
#define CLI_FMT_ENV   (1u << 3)
/* --format=arg: the enum out_format value, or usage(2) naming the formats
 * in `allowed`. */
int cli_format(const char *arg, unsigned allowed, void (*usage)(int status));
/* The format to use when none was given (fmt < 0): human on a terminal,
 * tsv otherwise. */
int cli_format_default(int fmt);

/* --target=arg: a number from 1 (the primary database), or usage(2). */
int cli_target_number(const char *arg, void (*usage)(int status));
/* The n-th (from 1) target of l.  Past the end: one message and exit 3
 * (DG_NOTHING: there is no such database to work on), the same in every
 * program. */
struct target *cli_pick_target(struct target_list *l, int n);

#endif
