/* cli.c — the command-line conventions every program shares (cli.h). */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/term.h"

void cli_common(int opt, const char *arg, void (*usage)(int status))
{
	switch (opt) {
	case 'q': msg_verbosity = 0; return;
	case 'v': msg_verbosity = 2; return;
	case 'C':
		if (chdir(arg) < 0)
			die(DG_USAGE, "cannot change to '%s':", arg);
		return;
	case 'h': usage(DG_OK); break;
	case CLI_OPT_VERSION: print_version();
	}
	usage(DG_USAGE);
	exit(DG_USAGE);
}

int cli_format(const char *arg, unsigned allowed, void (*usage)(int status))
{
	static const struct { int fmt; unsigned bit; const char *name; } names[] = {
		{ FMT_HUMAN, CLI_FMT_HUMAN, "human" }, { FMT_ENV, CLI_FMT_ENV, "env" },
		{ FMT_TSV, CLI_FMT_TSV, "tsv" }, { FMT_JSON, CLI_FMT_JSON, "json" },
	};
	int fmt = out_format_parse(arg);
	char list[64] = "";
	size_t n = 0, shown = 0;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (!(allowed & names[i].bit))
			continue;
		if (fmt == names[i].fmt)
			return fmt;
		n++;
	}
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (!(allowed & names[i].bit))
			continue;
		shown++;
		strcat(list, shown == 1 ? "" : shown == n ? " or " : ", ");
		strcat(list, names[i].name);
	}
	error("unknown format '%s'; use %s", arg, list);
	usage(DG_USAGE);
	exit(DG_USAGE);
}

int cli_format_default(int fmt)
{
	return fmt >= 0 ? fmt : term_is_tty(1) ? FMT_HUMAN : FMT_TSV;
}

int cli_target_number(const char *arg, void (*usage)(int status))
{
	char *end;
	long n = strtol(arg, &end, 10);
	if (*arg == '\0' || *end || n < 1 || n > 1000) {
		error("--target=%s: expected a number from 1 (the primary database)", arg);
		usage(DG_USAGE);
		exit(DG_USAGE);
	}
	return (int)n;
}

struct target *cli_pick_target(struct target_list *l, int n)
{
	if (n >= 1 && (size_t)n <= l->n)
		return &l->v[n - 1];
	if (l->n == 0)
		die(DG_NOTHING, "--target=%d: no database is configured here (see db-envcheck)", n);
	die(DG_NOTHING, "--target=%d: only %zu database%s configured here (db-envcheck lists them)", n, l->n,
	    l->n == 1 ? " is" : "s are");
}
