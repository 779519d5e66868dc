/* db-envcheck — say which database(s) this project points at, where each
 * value came from, and whether touching it is safe. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/classify.h"
#include "model/config.h"
#include "model/dburl.h"
#include "base/exitcodes.h"
#include "cli/cli.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "model/target.h"
#include "base/xalloc.h"
#include "model/project.h"
#include "resolve/resolve.h"
#include "envcheck/probe.h"
#include "envcheck/report.h"

static const char usage_text[] =
	"usage: db-envcheck [-qv] [-C DIR] [--url[=URL]] [--test-run] [--explain]\n"
	"                   [--format=human|env|tsv|json] [--with-password] [--ping | --offline]\n"
	"                   [--mark=production|staging|clear [--confirm=NAME]]\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	if (!status)
		fputs("\n"
		      "Report the databases this project's command would touch, where every\n"
		      "value came from, and whether touching them is safe.\n"
		      "\n"
		      "  -C DIR               run as if started in DIR\n"
		      "      --url=URL        check URL instead of the project's configuration\n"
		      "      --url            print a URL of the primary target (no password)\n"
		      "      --with-password  with --url: include the password\n"
		      "      --test-run       treat this run as a test run (.env.testing first)\n"
		      "      --explain        show every source, which one won, and why\n"
		      "      --format=FORMAT  human (default), env (for eval), tsv or json\n"
		      "      --ping           connect: reachability, version, size, tables, marker\n"
		      "      --offline        connect to nothing (the marker of a local database\n"
		      "                       is read otherwise)\n"
		      "      --mark=CLASS     store the marker production or staging, or clear it\n"
		      "      --confirm=NAME   confirm --mark without a terminal\n"
		      "  -q, --quiet          only errors on stderr\n"
		      "  -v, --verbose        more detail on stderr\n"
		      "  -h, --help           this help\n"
		      "      --version        version\n"
		      "\n"
		      "Exit status: 0 safe, 1 production (or a refused class), 2 usage or\n"
		      "configuration error, 3 no database found, 4 primary target unreachable,\n"
		      "6 --mark not confirmed.\n", stdout);
	exit(status);
}


struct opts {
	const char *url, *mark, *confirm;
	int print_url, with_password, test_run, explain, ping, offline;
	int format;
};

static void parse_options(int argc, char **argv, struct opts *o)
{
	enum { OPT_URL = CLI_OPT_FIRST, OPT_TEST_RUN, OPT_EXPLAIN, OPT_FORMAT, OPT_WITH_PASSWORD, OPT_PING,
	       OPT_OFFLINE, OPT_MARK, OPT_CONFIRM };
	static const struct option longopts[] = {
		{ "url", optional_argument, NULL, OPT_URL },
		{ "test-run", no_argument, NULL, OPT_TEST_RUN },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "with-password", no_argument, NULL, OPT_WITH_PASSWORD },
		{ "ping", no_argument, NULL, OPT_PING },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "mark", required_argument, NULL, OPT_MARK },
		{ "confirm", required_argument, NULL, OPT_CONFIRM },
		CLI_COMMON_LONGOPTS
	};
	*o = (struct opts){ .format = FMT_HUMAN };
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhC:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_URL:
			if (optarg)
				o->url = optarg;
			else
				o->print_url = 1;
			break;
		case OPT_TEST_RUN: o->test_run = 1; break;
		case OPT_EXPLAIN: o->explain = 1; break;
		case OPT_FORMAT:
			o->format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_ENV | CLI_FMT_TSV | CLI_FMT_JSON, usage);
			envcheck_json_wanted = o->format == FMT_JSON;
			break;
		case OPT_WITH_PASSWORD: o->with_password = o->print_url = 1; break;
		case OPT_PING: o->ping = 1; break;
		case OPT_OFFLINE: o->offline = 1; break;
		case OPT_MARK:
			if (strcmp(optarg, "production") && strcmp(optarg, "staging") && strcmp(optarg, "clear")) {
				error("unknown marker '%s'; use production, staging or clear", optarg);
				usage(DG_USAGE);
			}
			o->mark = optarg;
			break;
		case OPT_CONFIRM: o->confirm = optarg; break;
		default: cli_common(opt, optarg, usage);
		}
	}
	/* "--url URL": a bare --url followed by an operand names the URL to check. */
	if (optind < argc && o->print_url && !o->url && !o->with_password) {
		o->url = argv[optind++];
		o->print_url = 0;
	}
	if (o->print_url)
		envcheck_json_wanted = 0;   /* --url prints the URL, nothing else */
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	if (o->ping && o->offline) {
		error("--ping and --offline go one at a time");
		usage(DG_USAGE);
	}
}

/* --format=json when there is no target to report: the verdict alone. */
static void print_bare_json(const char *verdict)
{
	printf("{\"verdict\":\"%s\",\"targets\":[]", verdict);
	envcheck_print_errors_json();
	printf("}\n");
	envcheck_json_done = 1;
}

static int do_nothing_found(const struct target_list *l, const struct opts *o)
{
	if (o->explain && o->format != FMT_JSON)
		envcheck_print_explain(l, l->test_run);
	error("no database configured here: no --url, DATABASE_URL, DB_* variables or .env naming one");
	if (o->format == FMT_JSON)
		print_bare_json("none");
	return DG_NOTHING;
}

static int do_mark(struct target_list *l, const struct opts *o, int errors)
{
	int status = errors ? DG_USAGE : envcheck_mark(&l->v[0], o->mark, o->confirm);
	if (status == DG_OK && o->format == FMT_JSON)
		print_bare_json(strcmp(o->mark, "clear") ? "marked" : "cleared");
	return status;
}

static void print_report(const struct target_list *l, const struct probe *pr, const struct opts *o,
                         const char *verdict, int refused, enum tclass worst)
{
	if (o->print_url) {
		char *u = dburl_format(&l->v[0], o->with_password);
		printf("%s\n", u);
		free(u);
	} else if (o->format == FMT_ENV) {
		envcheck_print_env(&l->v[0], verdict);
	} else if (o->format == FMT_TSV) {
		envcheck_print_tsv(l, pr, o->ping);
	} else if (o->format == FMT_JSON) {
		envcheck_print_json(l, pr, verdict);
	} else {
		if (o->explain)
			envcheck_print_explain(l, l->test_run);
		envcheck_print_human(l, pr);
		printf("verdict: %s\n", refused ? "refused: production or a class the policy refuses"
		                        : worst == TC_LOCAL ? "safe" : "allowed with a warning");
	}
}

/* Probe every target, print the report, and say on stderr what is not safe. */
static int do_check(struct target_list *l, struct probe *pr, const struct opts *o, int errors)
{
	for (size_t i = 0; i < l->n; i++) {
		if (o->ping)
			envcheck_ping(&l->v[i], &pr[i]);
		else if (!o->print_url)
			envcheck_read_marker(&l->v[i], &pr[i], o->offline);
	}

	int refused = 0;
	enum tclass worst = TC_LOCAL;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].cls > worst)
			worst = l->v[i].cls;
		if (class_refused(l->v[i].cls))
			refused = 1;
	}
	const char *verdict = errors ? "error" : refused ? "refused" : worst == TC_LOCAL ? "safe" : "warn";

	/* A database the server says does not exist yet is no failure: nothing
	 * of it can be lost (a first migrate, Django's test_<name>). */
	if (o->ping && !pr[0].reachable && pr[0].missing && !errors && !refused)
		info("%s", pr[0].err);
	else if (o->ping && !pr[0].reachable && !errors && !refused)
		error("%s", pr[0].err);
	print_report(l, pr, o, verdict, refused, worst);
	for (size_t i = 0; i < l->n; i++) {
		const struct target *t = &l->v[i];
		char *d = target_describe(t);
		if (class_refused(t->cls))
			info("refusing %s: %s: %s", d, tclass_name(t->cls), t->rule);
		else if (t->cls != TC_LOCAL)
			warn("%s is %s: %s", d, tclass_name(t->cls), t->rule);
		free(d);
	}
	int status = DG_OK;
	if (errors)
		status = DG_USAGE;
	else if (refused)
		status = DG_NO;
	else if (o->ping && !pr[0].reachable && !pr[0].missing)
		status = DG_UNREACHABLE;
	for (size_t i = 1; i < l->n; i++)
		if (pr[i].done && !pr[i].reachable)
			warn("%s", pr[i].err);
	return status;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	msg_error_hook = envcheck_collect_error;
	atexit(envcheck_json_at_exit);
	struct opts o;
	parse_options(argc, argv, &o);

	char *project = project_dir_find();
	int errors = config_load(project);
	struct resolve_opts ro = { o.url, o.test_run, NULL };
	struct target_list l;
	resolve_targets(&ro, &l);
	errors += l.config_errors;
	free(project);
	struct probe *pr = xcalloc(l.n ? l.n : 1, sizeof *pr);
	for (size_t i = 0; i < l.n; i++)
		classify_target(&l.v[i]);

	int status;
	if (l.n == 0)
		status = errors ? DG_USAGE : do_nothing_found(&l, &o);
	else if (o.mark)
		status = do_mark(&l, &o, errors);
	else
		status = do_check(&l, pr, &o, errors);

	for (size_t i = 0; i < l.n; i++) {
		free(pr[i].version);
		free(pr[i].marker);
		free(pr[i].marker_note);
	}
	free(pr);
	target_list_free(&l);
	envcheck_json_at_exit();
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	return status;
}
