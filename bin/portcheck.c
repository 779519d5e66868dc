/* portcheck — keep the host ports of a project's database services in a
 * protected range: validate the compose files, plan a deterministic
 * migration, apply it by rewriting only the port text, roll it back. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/config.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "portcheck/portcheck.h"
#include "base/xalloc.h"
#include "docker/checks.h"
#include "docker/inventory.h"
#include "docker/redis.h"
#include "docker/restart.h"
#include "store/store.h"

static const char usage_text[] =
	"usage: portcheck [validate|plan|apply|rollback] [-qv] [-C DIR] [-f FILE]...\n"
	"                 [--range=LO-HI] [--format=human|tsv|json] [--only=ports]\n"
	"                 [--confirm=apply] [--force] [--restart [--timeout=SECONDS]]\n"
	"       portcheck volumes [-qv] [-C DIR] [-f FILE]... [-p NAME] [--format=human|tsv|json]\n";

static _Noreturn void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	if (!status)
		fputs("\n"
		      "Check that the database services of a compose project publish their\n"
		      "host ports inside a protected range, without conflicts, on ports that are\n"
		      "free, with their data on named volumes; plan, apply and roll back a\n"
		      "migration of the ports.\n"
		      "\n"
		      "  validate             report ports, conflicts, ports in use, data protection\n"
		      "                       (the default)\n"
		      "  plan                 print the port changes apply would make\n"
		      "  apply, migrate       make them: only the port text changes, FILE.backup kept\n"
		      "  rollback             put the FILE.backup copies back\n"
		      "  volumes              the database services' volumes in the Docker Engine:\n"
		      "                       name, kind, exists, size, empty-volume trap\n"
		      "\n"
		      "  -f, --file=FILE      a compose file; repeat for overrides (later wins)\n"
		      "  -C DIR               run as if started in DIR\n"
		      "  -p, --project-name=NAME  with volumes: the Compose project's name (else\n"
		      "                       as Compose derives it)\n"
		      "      --range=LO-HI    the protected range (default from the configuration,\n"
		      "                       7000-7999)\n"
		      "      --format=FORMAT  human (default), tsv or json\n"
		      "      --only=ports     validate: report, and exit 1 for, port findings only\n"
		      "      --confirm=apply  confirm apply without a terminal\n"
		      "      --force          apply even when FILE.backup exists (it is replaced)\n"
		      "      --restart        with apply: snapshot the databases, recreate the moved\n"
		      "                       services with Compose, verify them on the new ports\n"
		      "                       and roll everything back on failure; with rollback:\n"
		      "                       recreate the services on the restored ports, verify\n"
		      "      --timeout=SECONDS  with --restart: wait this long for health (default 120)\n"
		      "  -q, --quiet          only errors on stderr\n"
		      "  -v, --verbose        more detail on stderr\n"
		      "  -h, --help           this help\n"
		      "      --version        version\n"
		      "\n"
		      "Exit status: 0 compliant or done, 1 findings (or apply failed and was\n"
		      "undone), 2 usage error or unreadable/invalid files, 3 no compose file, no\n"
		      "database service or nothing to roll back, 4 volumes: no Docker Engine\n"
		      "answers, 6 apply not confirmed.\n", stdout);
	exit(status);
}

enum command { VALIDATE, PLAN, APPLY, ROLLBACK, VOLUMES };

struct opts {
	enum command what;
	struct strvec given;  /* -f FILE... */
	const char *range, *confirm, *project;
	int format, force, ports_only, restart, timeout;
};

static enum command parse_command(const char *cmd)
{
	if (!strcmp(cmd, "validate"))
		return VALIDATE;
	if (!strcmp(cmd, "plan"))
		return PLAN;
	if (!strcmp(cmd, "apply") || !strcmp(cmd, "migrate"))
		return APPLY;
	if (!strcmp(cmd, "rollback"))
		return ROLLBACK;
	if (!strcmp(cmd, "volumes"))
		return VOLUMES;
	error("unknown command '%s'; use validate, plan, apply, rollback or volumes", cmd);
	usage(DG_USAGE);
}

static void parse_options(int argc, char **argv, struct opts *o)
{
	enum { OPT_RANGE = CLI_OPT_FIRST, OPT_FORMAT, OPT_ONLY, OPT_CONFIRM, OPT_FORCE, OPT_RESTART, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "range", required_argument, NULL, OPT_RANGE },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "only", required_argument, NULL, OPT_ONLY },
		{ "confirm", required_argument, NULL, OPT_CONFIRM },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "restart", no_argument, NULL, OPT_RESTART },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "project-name", required_argument, NULL, 'p' },
		CLI_COMMON_LONGOPTS
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "qvhC:f:p:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f': sv_push(&o->given, optarg); break;
		case 'p': o->project = optarg; break;
		case OPT_RANGE: o->range = optarg; break;
		case OPT_FORMAT:
			o->format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_TSV | CLI_FMT_JSON, usage);
			break;
		case OPT_ONLY:
			if (strcmp(optarg, "ports")) {
				error("--only takes 'ports', not '%s'", optarg);
				usage(DG_USAGE);
			}
			o->ports_only = 1;
			break;
		case OPT_CONFIRM: o->confirm = optarg; break;
		case OPT_FORCE: o->force = 1; break;
		case OPT_RESTART: o->restart = 1; break;
		case OPT_TIMEOUT: {
			char *end;
			long t = strtol(optarg, &end, 10);
			if (!*optarg || *end || t < 1 || t > 86400) {
				error("--timeout wants a number of seconds from 1 to 86400, not '%s'", optarg);
				usage(DG_USAGE);
			}
			o->timeout = (int)t;
			break;
		}
		default: cli_common(opt, optarg, usage);
		}
	}
	const char *cmd = optind < argc ? argv[optind++] : "validate";
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	o->what = parse_command(cmd);
	if (o->restart && o->what != APPLY && o->what != ROLLBACK) {
		error("--restart goes with apply and rollback");
		usage(DG_USAGE);
	}
	if (o->project && o->what != VOLUMES) {
		error("-p goes with volumes");
		usage(DG_USAGE);
	}
	if (o->what == VOLUMES && (o->range || o->confirm || o->force || o->ports_only)) {
		error("volumes takes -f, -p and --format");
		usage(DG_USAGE);
	}
	if (o->timeout && !o->restart) {
		error("--timeout goes with --restart");
		usage(DG_USAGE);
	}
	if (!o->timeout)
		o->timeout = 120;
}

/* Find the compose files, read the project's configuration (the files name
 * the project), settle the range, and load and analyze the project. */
static int do_load(const struct opts *o, struct session *ss)
{
	struct strvec files;
	int status = compose_find(o->given.v, o->given.n, &files, 0);
	if (status)
		return status;
	char *dir = path_dir(files.v[0]);
	int cerr = config_load(dir);
	free(dir);
	int lo, hi;
	const char *range = o->range ? o->range : cerr ? NULL : config_get("portcheck", "range");
	if (cerr || parse_range_option(range, &lo, &hi) < 0) {
		sv_free(&files);
		return DG_USAGE;
	}
	status = session_load(ss, &files, lo, hi);
	sv_free(&files);
	return status;
}

/* Findings about the project's data volumes: Redis persistence from the
 * files; the empty-volume trap and a missing external volume from the
 * Docker Engine, when one answers. */
static void add_docker_findings(struct report *r, const struct strvec *files)
{
	struct dk_project p;
	int saved = msg_verbosity;
	msg_verbosity = 0;
	int rc = dk_project_load(NULL, files, &p);
	msg_verbosity = saved;
	if (rc != 0)
		return;
	struct dk_findings f, redis = { NULL, 0 };
	char err[512];
	dk_redis_check(&p, &redis);
	if (dk_check_project(&p, &f, err, sizeof err) < 0) {
		verbose("volumes not checked against a Docker Engine: %s", err);
		f.v = NULL;
		f.n = 0;
	}
	for (size_t i = 0; i < redis.n; i++) {
		f.v = xrealloc(f.v, (f.n + 1) * sizeof *f.v);
		f.v[f.n++] = redis.v[i];
	}
	free(redis.v);
	for (size_t i = 0; i < f.n; i++) {
		const struct cservice *s = NULL;
		for (size_t k = 0; k < r->p->nservices && !s; k++)
			if (strcmp(r->p->services[k].name, f.v[i].svc->name) == 0)
				s = &r->p->services[k];
		if (s)
			add_finding(r, 0, f.v[i].kind, s->file, s->line, s->name, "%s", f.v[i].msg);
	}
	dk_findings_free(&f);
	dk_project_free(&p);
}

static int do_validate(struct session *ss, int format, int ports_only)
{
	struct report *r = &ss->r;
	if (!ports_only)
		add_docker_findings(r, &ss->files);
	if (ports_only)
		report_keep_port_findings(r);
	print_validate(r, format);
	size_t changes = 0;
	for (size_t i = 0; i < r->nrows; i++)
		changes += r->rows[i].change;
	/* After apply, what is left may be nothing a port change fixes. */
	if (r->nfindings && changes)
		info("%zu finding%s; 'portcheck plan' shows the port changes that fix the ports", r->nfindings,
		     r->nfindings == 1 ? "" : "s");
	else if (r->nfindings)
		info("%zu finding%s, none that a port change fixes: every database port is in %d-%d",
		     r->nfindings, r->nfindings == 1 ? "" : "s", r->lo, r->hi);
	else
		info("compliant: every database port is in %d-%d, free and without conflicts", r->lo, r->hi);
	return r->nfindings ? DG_NO : DG_OK;
}

static int do_plan(const struct session *ss, int format)
{
	const struct report *r = &ss->r;
	print_plan(r, format);
	size_t nmanual = 0;
	for (size_t i = 0; i < r->nrows; i++)
		nmanual += r->rows[i].manual;
	if (nmanual)
		info("%zu port%s need%s a change by hand; see the reasons above", nmanual, nmanual == 1 ? "" : "s",
		     nmanual == 1 ? "s" : "");
	return nmanual ? DG_NO : DG_OK;
}

/* apply --restart: the phases of seed /protect-databases' migrate around
 * portcheck_apply (common/docker/restart.c does the work). */
struct restart_run {
	struct dk_restart rs;
	char *dir, *store;   /* the project's directory (db-snap -C), its store */
	int after_failed;
};

static int restart_before(void *arg)
{
	struct restart_run *rr = arg;
	if (dk_restart_backup(&rr->rs, rr->dir) < 0) {
		error("nothing was changed: %s failed", rr->rs.failed_step);
		return -1;
	}
	info("phase 3/4: migration");
	return 0;
}

static int restart_after(void *arg)
{
	struct restart_run *rr = arg;
	if (dk_restart_run(&rr->rs, 1) == 0)
		return 0;
	rr->after_failed = 1;
	error("rolling back: %s", rr->rs.failed_step);
	return -1;
}

static int do_apply_restart(struct session *ss, const struct opts *o)
{
	struct report *r = &ss->r;
	struct restart_run rr = { .after_failed = 0 };
	if (dk_restart_init(&rr.rs, &ss->files, o->timeout) != 0) {
		dk_restart_free(&rr.rs);
		return DG_USAGE;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (w->db && w->change && !w->manual && w->p->pub_lo && w->new_lo && !strcmp(w->p->proto, "tcp"))
			dk_restart_add_move(&rr.rs, w->s->name, w->p->host_ip, w->p->pub_lo, w->new_lo, w->p->tgt_lo);
	}
	char *dir = path_dir(ss->files.v[0]), *abs = realpath(dir, NULL);
	rr.dir = abs ? abs : dir;
	rr.store = store_dir(rr.dir);
	free(abs ? dir : NULL);
	struct apply_hooks h = { restart_before, restart_after, &rr };
	int status = portcheck_apply_hooked(ss, o->confirm, o->force, o->format, rr.rs.n ? &h : NULL);
	if (status == DG_OK && rr.rs.n) {
		info("migrated: every moved database answers on its new port with its data");
	} else if (rr.after_failed) {
		char *step = rr.rs.failed_step;
		rr.rs.failed_step = NULL;
		status = DG_NO;
		if (dk_restart_run(&rr.rs, 0) < 0) {
			error("rollback failed at %s (after %s); the files are back, the snapshots of the backup phase "
			      "are in '%s'", rr.rs.failed_step, step, rr.store);
		} else {
			print_addresses(r, o->format);
			error("rolled back: %s; the files are back and the services answer on their old ports, verified",
			      step);
		}
		free(step);
	}
	free(rr.store);
	free(rr.dir);
	dk_restart_free(&rr.rs);
	return status;
}

static int do_rollback(const struct opts *o)
{
	int status = portcheck_rollback(&o->given);
	if (status != DG_OK || !o->restart)
		return status;
	struct strvec files;
	char *step = NULL;
	if (compose_find(o->given.v, o->given.n, &files, 1) == 0 && dk_restart_all(&files, o->timeout, &step) < 0) {
		error("the files are back, but the restart failed: %s", step ? step : "reading the compose files");
		status = DG_NO;
	}
	free(step);
	sv_free(&files);
	return status;
}

/* volumes: the files found and the project's configuration read (it names
 * the images of each engine), then common/docker/inventory.c. */
static int do_volumes(const struct opts *o)
{
	struct strvec files;
	int status = compose_find(o->given.v, o->given.n, &files, 0);
	if (status)
		return status;
	char *dir = path_dir(files.v[0]);
	status = config_load(dir) ? DG_USAGE : dk_inventory_print(o->project, &files, o->format);
	free(dir);
	sv_free(&files);
	return status;
}

/* validate, plan or apply: each reads and analyzes the project first. */
static int do_check(const struct opts *o)
{
	struct session ss;
	memset(&ss, 0, sizeof ss);
	int status = do_load(o, &ss);
	if (status == DG_OK) {
		if (o->what == VALIDATE)
			status = do_validate(&ss, o->format, o->ports_only);
		else if (o->what == PLAN)
			status = do_plan(&ss, o->format);
		else if (o->restart)
			status = do_apply_restart(&ss, o);
		else
			status = portcheck_apply(&ss, o->confirm, o->force, o->format);
	}
	session_free(&ss);
	return status;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	struct opts o = { .given = STRVEC_INIT, .format = FMT_HUMAN };
	parse_options(argc, argv, &o);
	int status = o.what == ROLLBACK  ? do_rollback(&o)
	           : o.what == VOLUMES ? do_volumes(&o)
	                               : do_check(&o);
	sv_free(&o.given);
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	return status;
}
