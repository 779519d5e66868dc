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
#include "engine/engine.h"
#include "base/exitcodes.h"
#include "cli/cli.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "model/target.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "model/project.h"
#include "resolve/resolve.h"
#include "model/confirm.h"

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

struct probe {
	int done, reachable, missing, status;
	char *marker_note;          /* without --ping: whether the marker was read */
	char err[256];
	char *version, *marker;
	long long size;
	long tables;
};

static void ping(struct target *t, struct probe *p)
{
	struct dbconn *c;
	p->done = 1;
	p->status = db_connect(t, &c, p->err, sizeof p->err);
	/* The server answered: the database is not there yet (a first migrate,
	 * Django's test_<name>) — nothing to lose, not a failure. */
	p->missing = p->status == DG_NO && strstr(p->err, "does not exist") && !target_is(t, "sqlite");
	if (p->status != DG_OK)
		return;
	p->reachable = 1;
	p->version = xstrdup(db_server_version(c));
	p->size = db_size(c, p->err, sizeof p->err);
	/* The number of tables only: counting their rows would read them all. */
	p->tables = db_table_count(c, p->err, sizeof p->err);
	if (db_marker_read(c, &p->marker, p->err, sizeof p->err) < 0)
		p->marker = NULL;
	db_close(c);
	free(t->marker);
	t->marker = xstrdup(p->marker);
	classify_target(t);
}

/* Without --ping: the production marker of a local database is read all
 * the same (a local connection costs milliseconds), so a copy of production
 * under an innocent name is not called safe; elsewhere the report says it
 * was not read. */
static void read_marker(struct target *t, struct probe *p, int offline)
{
	struct dbconn *c;
	char err[256];
	if (offline) {
		p->marker_note = xstrdup("not read (--offline)");
		return;
	}
	const char *h = target_host(t);
	int here = target_is(t, "sqlite") || !h || !*h || h[0] == '/' || !strcmp(h, "localhost") ||
	           !strncmp(h, "127.", 4) || !strcmp(h, "::1");
	if (t->cls != TC_LOCAL || !here) {
		/* A compose service name may not even resolve from here. */
		p->marker_note = here ? xasprintf("not read (a %s database: --ping reads it)", tclass_name(t->cls))
		                      : xstrdup("not read (not on this machine: --ping reads it)");
		return;
	}
	if (db_connect(t, &c, err, sizeof err) != DG_OK) {
		p->marker_note = xasprintf("not read: %s", err);
		return;
	}
	char *marker = NULL;
	if (db_marker_read(c, &marker, err, sizeof err) < 0)
		p->marker_note = xasprintf("not read: %s", err);
	else
		p->marker_note = xasprintf("%s (read from the database)", marker ? marker : "none");
	db_close(c);
	free(t->marker);
	t->marker = marker;
	classify_target(t);
}

static const char *orblank(const char *s) { return s ? s : ""; }

/* s as it may reach a terminal: values come from files and URLs, so control
 * bytes and broken UTF-8 are shown escaped (msg_escape).  Valid until eight
 * more calls. */
static const char *shown(const char *s)
{
	static char *ring[8];
	static unsigned k;
	if (!s)
		return NULL;
	free(ring[k % 8]);
	return ring[k++ % 8] = xescape(s);
}

/* --format=json: every error goes into the object too, once each, and an
 * exit before the object is printed prints {"verdict":"error",...}. */
static struct strvec errors_seen = STRVEC_INIT;
static int json_wanted, json_done;

static void collect_error(const char *text)
{
	for (size_t i = 0; i < errors_seen.n; i++)
		if (!strcmp(errors_seen.v[i], text))
			return;
	sv_push(&errors_seen, text);
}

static void print_errors_json(void)
{
	printf(",\"errors\":[");
	for (size_t i = 0; i < errors_seen.n; i++) {
		if (i)
			putchar(',');
		json_string(stdout, errors_seen.v[i]);
	}
	putchar(']');
}

static void json_at_exit(void)
{
	if (!json_wanted || json_done)
		return;
	json_done = 1;
	printf("{\"verdict\":\"error\",\"targets\":[]");
	print_errors_json();
	printf("}\n");
	fflush(stdout);
}

static void print_human(const struct target_list *l, const struct probe *pr)
{
	int out = 1;
	for (size_t i = 0; i < l->n; i++) {
		const struct target *t = &l->v[i];
		printf("%s%s%s (from %s)\n", term_bold(out), i == 0 ? "primary target" : "also configured",
		       term_reset(out), t->origin ? shown(t->origin) : "?");
		for (int f = 0; f < TF_COUNT; f++) {
			const char *v = target_get(t, f);
			if (!v && f != TF_ENGINE && f != TF_DATABASE)
				continue;
			if (f == TF_PASSWORD)
				v = "(set, not shown)";
			printf("  %-9s %-28s %s\n", tfield_name(f), v ? shown(v) : "(not set)", shown(orblank(t->src[f])));
		}
		if (t->envname)
			printf("  %-9s %-28s %s\n", "env", shown(t->envname), shown(orblank(t->envname_src)));
		if (pr[i].done) {
			char size[32];
			if (pr[i].reachable)
				printf("  %-9s yes: server %s, %s, %ld tables, marker %s\n", "reachable", shown(pr[i].version),
				       pr[i].size >= 0 ? human_bytes((unsigned long long)pr[i].size, size, sizeof size) : "size unknown",
				       pr[i].tables, pr[i].marker ? shown(pr[i].marker) : "none");
			else
				printf("  %-9s no: %s\n", "reachable", shown(pr[i].err));
		} else if (pr[i].marker_note) {
			printf("  %-9s %s\n", "marker", shown(pr[i].marker_note));
		}
		const char *colour = t->cls == TC_PRODUCTION ? term_red(out) : t->cls == TC_LOCAL ? term_green(out) : term_yellow(out);
		printf("  %-9s %s%s%s: %s\n", "class", colour, tclass_name(t->cls), term_reset(out), shown(orblank(t->rule)));
	}
}

static void print_explain(const struct target_list *l, int test_run)
{
	printf("run: %s\n", test_run ? "test run (.env.testing is read first)" : "not a test run");
	for (size_t i = 0; i < l->nnotes; i++)
		printf("  %s\n", shown(l->notes[i]));
	printf("sources, strongest first:\n");
	for (size_t i = 0; i < l->ncand; i++)
		printf("  %s %-24s %s%s%s\n", l->cand[i].used ? "*" : "-", shown(l->cand[i].source),
		       shown(l->cand[i].why), *l->cand[i].says ? ": " : "", shown(l->cand[i].says));
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].unpinned)
			printf("not pinned: %s\n", shown(l->v[i].unpinned));
	printf("\n");
}

static void print_tsv(const struct target_list *l, const struct probe *pr, int pinged)
{
	fputs("role\tengine\thost\tport\tdatabase\tuser\tclass\tsource\trule", stdout);
	if (pinged)
		fputs("\treachable\tversion\tsize\ttables\tmarker", stdout);
	putchar('\n');
	for (size_t i = 0; i < l->n; i++) {
		const struct target *t = &l->v[i];
		char port[16] = "";
		if (target_port(t))
			snprintf(port, sizeof port, "%d", target_port(t));
		const char *fields[] = { i == 0 ? "primary" : "also", target_get(t, TF_ENGINE), target_host(t), port,
		                         target_get(t, TF_DATABASE), target_get(t, TF_USER), tclass_name(t->cls),
		                         t->origin, t->rule };
		for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
			if (k)
				putchar('\t');
			tsv_field(stdout, fields[k]);
		}
		if (pinged) {
			printf("\t%s\t", pr[i].reachable ? "yes" : pr[i].missing ? "missing" : "no");
			tsv_field(stdout, pr[i].version);
			if (pr[i].reachable)
				printf("\t%lld\t%ld\t", pr[i].size, pr[i].tables);
			else
				printf("\t\t\t");
			tsv_field(stdout, pr[i].marker);
		}
		putchar('\n');
	}
}

static void json_kv(const char *key, const char *value, int comma)
{
	if (comma)
		putchar(',');
	json_string(stdout, key);
	putchar(':');
	json_string(stdout, value);
}

static void print_json(const struct target_list *l, const struct probe *pr, const char *verdict)
{
	printf("{\"verdict\":");
	json_string(stdout, verdict);
	printf(",\"targets\":[");
	for (size_t i = 0; i < l->n; i++) {
		const struct target *t = &l->v[i];
		printf("%s{\"primary\":%s", i ? "," : "", i == 0 ? "true" : "false");
		json_kv("engine", target_get(t, TF_ENGINE), 1);
		json_kv("host", target_host(t), 1);
		printf(",\"port\":");
		if (target_port(t))
			printf("%d", target_port(t));
		else
			printf("null");
		json_kv("database", target_get(t, TF_DATABASE), 1);
		json_kv("user", target_get(t, TF_USER), 1);
		printf(",\"password_set\":%s", target_get(t, TF_PASSWORD) ? "true" : "false");
		json_kv("class", tclass_name(t->cls), 1);
		json_kv("rule", t->rule, 1);
		json_kv("source", t->origin, 1);
		json_kv("environment", t->envname, 1);
		printf(",\"sources\":{");
		int comma = 0;
		for (int f = 0; f < TF_COUNT; f++)
			if (t->src[f]) {
				json_kv(tfield_name(f), t->src[f], comma);
				comma = 1;
			}
		putchar('}');
		if (pr[i].done) {
			printf(",\"reachable\":%s", pr[i].reachable ? "true" : "false");
			if (pr[i].missing)
				printf(",\"missing\":true");
			if (pr[i].reachable) {
				json_kv("version", pr[i].version, 1);
				printf(",\"size\":%lld,\"tables\":%ld", pr[i].size, pr[i].tables);
				json_kv("marker", pr[i].marker, 1);
			} else {
				json_kv("error", pr[i].err, 1);
			}
		}
		putchar('}');
	}
	putchar(']');
	print_errors_json();
	printf("}\n");
	json_done = 1;
}

static void print_env(const struct target *t, const char *verdict)
{
	char port[16] = "";
	if (target_port(t))
		snprintf(port, sizeof port, "%d", target_port(t));
	const char *keys[] = { "ENGINE", "HOST", "PORT", "DATABASE", "USER", "CLASS", "SOURCE", "RULE", "VERDICT" };
	const char *vals[] = { target_get(t, TF_ENGINE), target_host(t), port, target_get(t, TF_DATABASE),
	                       target_get(t, TF_USER), tclass_name(t->cls), t->origin, t->rule, verdict };
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		printf("DBGUARD_%s=", keys[k]);
		shell_quote(stdout, vals[k] ? vals[k] : "");
		putchar('\n');
	}
}

static int do_mark(struct target *t, const char *mark, const char *confirm)
{
	const char *engine = target_get(t, TF_ENGINE);
	if (!engine || (strcmp(engine, "postgres") && strcmp(engine, "mysql") && strcmp(engine, "sqlite")))
		die(DG_USAGE, "cannot mark a database whose engine is unknown; set DB_CONNECTION or use --url");
	const char *name = target_confirm_name(t);
	char *what = strcmp(mark, "clear") == 0
		? xasprintf("this removes the dbguard marker from '%s'", name)
		: xasprintf("this marks '%s' as %s", name, mark);
	int rc = target_confirm(t, confirm, what);
	free(what);
	if (rc != DG_OK)
		return rc;
	struct dbconn *c;
	char err[256];
	rc = db_connect(t, &c, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	if (db_marker_write(c, strcmp(mark, "clear") == 0 ? NULL : mark, err, sizeof err) < 0) {
		error("cannot write the marker: %s", err);
		db_close(c);
		return DG_NO;
	}
	db_close(c);
	if (strcmp(mark, "clear") == 0)
		info("cleared the dbguard marker of '%s'", name);
	else
		info("marked '%s' as %s", name, mark);
	return DG_OK;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	msg_error_hook = collect_error;
	atexit(json_at_exit);
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
	const char *url = NULL, *mark = NULL, *confirm = NULL;
	int print_url = 0, with_password = 0, test_run = 0, explain = 0, do_ping = 0, offline = 0;
	int format = FMT_HUMAN;
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhC:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_URL:
			if (optarg)
				url = optarg;
			else
				print_url = 1;
			break;
		case OPT_TEST_RUN: test_run = 1; break;
		case OPT_EXPLAIN: explain = 1; break;
		case OPT_FORMAT:
			format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_ENV | CLI_FMT_TSV | CLI_FMT_JSON, usage);
			json_wanted = format == FMT_JSON;
			break;
		case OPT_WITH_PASSWORD: with_password = print_url = 1; break;
		case OPT_PING: do_ping = 1; break;
		case OPT_OFFLINE: offline = 1; break;
		case OPT_MARK:
			if (strcmp(optarg, "production") && strcmp(optarg, "staging") && strcmp(optarg, "clear")) {
				error("unknown marker '%s'; use production, staging or clear", optarg);
				usage(DG_USAGE);
			}
			mark = optarg;
			break;
		case OPT_CONFIRM: confirm = optarg; break;
		default: cli_common(opt, optarg, usage);
		}
	}
	/* "--url URL": a bare --url followed by an operand names the URL to check. */
	if (optind < argc && print_url && !url && !with_password) {
		url = argv[optind++];
		print_url = 0;
	}
	if (print_url)
		json_wanted = 0;   /* --url prints the URL, nothing else */
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	if (do_ping && offline) {
		error("--ping and --offline go one at a time");
		usage(DG_USAGE);
	}

	char *project = project_dir_find();
	int errors = config_load(project);
	struct resolve_opts ro = { url, test_run, NULL };
	struct target_list l;
	resolve_targets(&ro, &l);
	errors += l.config_errors;
	free(project);
	struct probe *pr = xcalloc(l.n ? l.n : 1, sizeof *pr);
	for (size_t i = 0; i < l.n; i++)
		classify_target(&l.v[i]);

	int status = DG_OK;
	if (l.n == 0 && errors == 0) {
		if (explain && format != FMT_JSON)
			print_explain(&l, l.test_run);
		error("no database configured here: no --url, DATABASE_URL, DB_* variables or .env naming one");
		status = DG_NOTHING;
		if (format == FMT_JSON) {
			printf("{\"verdict\":\"none\",\"targets\":[]");
			print_errors_json();
			printf("}\n");
			json_done = 1;
		}
		goto out;
	}
	if (l.n == 0) {
		status = DG_USAGE;
		goto out;
	}
	if (mark) {
		status = errors ? DG_USAGE : do_mark(&l.v[0], mark, confirm);
		if (status == DG_OK && format == FMT_JSON) {
			printf("{\"verdict\":\"%s\",\"targets\":[]", strcmp(mark, "clear") ? "marked" : "cleared");
			print_errors_json();
			printf("}\n");
			json_done = 1;
		}
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (do_ping)
			ping(&l.v[i], &pr[i]);
		else if (!print_url)
			read_marker(&l.v[i], &pr[i], offline);
	}

	int refused = 0;
	enum tclass worst = TC_LOCAL;
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].cls > worst)
			worst = l.v[i].cls;
		if (class_refused(l.v[i].cls))
			refused = 1;
	}
	const char *verdict = errors ? "error" : refused ? "refused" : worst == TC_LOCAL ? "safe" : "warn";

	/* A database the server says does not exist yet is no failure: nothing
	 * of it can be lost (a first migrate, Django's test_<name>). */
	if (do_ping && !pr[0].reachable && pr[0].missing && !errors && !refused)
		info("%s", pr[0].err);
	else if (do_ping && !pr[0].reachable && !errors && !refused)
		error("%s", pr[0].err);
	if (print_url) {
		char *u = dburl_format(&l.v[0], with_password);
		printf("%s\n", u);
		free(u);
	} else if (format == FMT_ENV) {
		print_env(&l.v[0], verdict);
	} else if (format == FMT_TSV) {
		print_tsv(&l, pr, do_ping);
	} else if (format == FMT_JSON) {
		print_json(&l, pr, verdict);
	} else {
		if (explain)
			print_explain(&l, l.test_run);
		print_human(&l, pr);
		printf("verdict: %s\n", refused ? "refused: production or a class the policy refuses"
		                        : worst == TC_LOCAL ? "safe" : "allowed with a warning");
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct target *t = &l.v[i];
		char *d = target_describe(t);
		if (class_refused(t->cls))
			info("refusing %s: %s: %s", d, tclass_name(t->cls), t->rule);
		else if (t->cls != TC_LOCAL)
			warn("%s is %s: %s", d, tclass_name(t->cls), t->rule);
		free(d);
	}
	if (errors)
		status = DG_USAGE;
	else if (refused)
		status = DG_NO;
	else if (do_ping && !pr[0].reachable && !pr[0].missing)
		status = DG_UNREACHABLE;
	for (size_t i = 1; i < l.n; i++)
		if (pr[i].done && !pr[i].reachable)
			warn("%s", pr[i].err);
out:
	for (size_t i = 0; i < l.n; i++) {
		free(pr[i].version);
		free(pr[i].marker);
		free(pr[i].marker_note);
	}
	free(pr);
	target_list_free(&l);
	json_at_exit();
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	return status;
}
