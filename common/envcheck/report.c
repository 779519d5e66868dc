/* report.c — db-envcheck's report in its four forms, and the errors a
 * JSON report carries. */
#include "envcheck/report.h"

#include <stdio.h>
#include <string.h>

#include "base/output.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "model/classify.h"
#include "model/target.h"

static const char *orblank(const char *s) { return s ? s : ""; }

/* --format=json: every error goes into the object too, once each, and an
 * exit before the object is printed prints {"verdict":"error",...}. */
static struct strvec errors_seen = STRVEC_INIT;
int envcheck_json_wanted, envcheck_json_done;

void envcheck_collect_error(const char *text)
{
	for (size_t i = 0; i < errors_seen.n; i++)
		if (!strcmp(errors_seen.v[i], text))
			return;
	sv_push(&errors_seen, text);
}

void envcheck_print_errors_json(void)
{
	printf(",\"errors\":[");
	for (size_t i = 0; i < errors_seen.n; i++) {
		if (i)
			putchar(',');
		json_string(stdout, errors_seen.v[i]);
	}
	putchar(']');
}

void envcheck_json_at_exit(void)
{
	if (!envcheck_json_wanted || envcheck_json_done)
		return;
	envcheck_json_done = 1;
	printf("{\"verdict\":\"error\",\"targets\":[]");
	envcheck_print_errors_json();
	printf("}\n");
	fflush(stdout);
}

void envcheck_print_human(const struct target_list *l, const struct probe *pr)
{
	int out = 1;
	for (size_t i = 0; i < l->n; i++) {
		const struct target *t = &l->v[i];
		printf("%s%s%s (from %s)\n", term_bold(out), i == 0 ? "primary target" : "also configured",
		       term_reset(out), t->origin ? t->origin : "?");
		for (int f = 0; f < TF_COUNT; f++) {
			const char *v = target_get(t, f);
			if (!v && f != TF_ENGINE && f != TF_DATABASE)
				continue;
			if (f == TF_PASSWORD)
				v = "(set, not shown)";
			printf("  %-9s %-28s %s\n", tfield_name(f), v ? v : "(not set)", orblank(t->src[f]));
		}
		if (t->envname)
			printf("  %-9s %-28s %s\n", "env", t->envname, orblank(t->envname_src));
		if (pr[i].done) {
			char size[32];
			if (pr[i].reachable)
				printf("  %-9s yes: server %s, %s, %ld tables, marker %s\n", "reachable", pr[i].version,
				       pr[i].size >= 0 ? human_bytes((unsigned long long)pr[i].size, size, sizeof size) : "size unknown",
				       pr[i].tables, pr[i].marker ? pr[i].marker : "none");
			else
				printf("  %-9s no: %s\n", "reachable", pr[i].err);
		} else if (pr[i].marker_note) {
			printf("  %-9s %s\n", "marker", pr[i].marker_note);
		}
		const char *colour = t->cls == TC_PRODUCTION ? term_red(out) : t->cls == TC_LOCAL ? term_green(out) : term_yellow(out);
		printf("  %-9s %s%s%s: %s\n", "class", colour, tclass_name(t->cls), term_reset(out), orblank(t->rule));
	}
}

void envcheck_print_explain(const struct target_list *l, int test_run)
{
	printf("run: %s\n", test_run ? "test run (.env.testing is read first)" : "not a test run");
	for (size_t i = 0; i < l->nnotes; i++)
		printf("  %s\n", l->notes[i]);
	printf("sources, strongest first:\n");
	for (size_t i = 0; i < l->ncand; i++)
		printf("  %s %-24s %s%s%s\n", l->cand[i].used ? "*" : "-", l->cand[i].source, l->cand[i].why,
		       *l->cand[i].says ? ": " : "", l->cand[i].says);
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].unpinned)
			printf("not pinned: %s\n", l->v[i].unpinned);
	printf("\n");
}

void envcheck_print_tsv(const struct target_list *l, const struct probe *pr, int pinged)
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

void envcheck_print_json(const struct target_list *l, const struct probe *pr, const char *verdict)
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
	envcheck_print_errors_json();
	printf("}\n");
	envcheck_json_done = 1;
}

void envcheck_print_env(const struct target *t, const char *verdict)
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
