/* db-rehearse — the engine work of safe-run --rehearse, as a program that
 * links the engines (safe-run links none): --prepare copies a database
 * beside itself and notes its checksum, inventory and the environment that
 * points a command at the copy; --report proves the original unchanged,
 * compares the copy with its inventory from before, prints what would be
 * lost and drops the copy; --drop and --clean remove copies. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rehearse/rehearse.h"
#include "resolve/resolve.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "model/config.h"
#include "model/project.h"
#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/xalloc.h"

static const char usage_text[] =
	"usage: db-rehearse --prepare --dir=DIR [--id=N] [--snap=REASON] [-qv] [--target=N] [--test-run]\n"
	"       db-rehearse --report --dir=DIR [--format=human|json] [--keep] [-qv] [--target=N] [--test-run]\n"
	"       db-rehearse --drop=COPY [-qv] [--target=N] [--test-run]\n"
	"       db-rehearse --clean [-qv] [--target=N] [--test-run]\n";

static _Noreturn void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	if (!status)
		fputs("\n"
		      "The engine work of safe-run --rehearse: a throwaway copy of a database, the\n"
		      "proof that the original did not change, and the report of what a command\n"
		      "did to the copy.  safe-run runs it; it is a program of its own so that\n"
		      "safe-run links no database library.\n"
		      "\n"
		      "      --prepare            copy the database beside itself; write its checksum,\n"
		      "                           the copy's inventory and the redirecting environment\n"
		      "                           into DIR; print the copy's name, how it was made\n"
		      "                           and the snapshot taken (if any), tab-separated\n"
		      "      --report             compare the copy with its inventory, print the\n"
		      "                           report, check the original, drop the copy\n"
		      "      --drop=COPY          drop a rehearsal copy\n"
		      "      --clean              drop the copies of rehearsals that did not finish\n"
		      "      --dir=DIR            where --prepare leaves what --report reads (0700)\n"
		      "      --id=N               the run the copy belongs to (default: the parent)\n"
		      "      --snap=REASON        with --prepare: snapshot the original first (db-snap\n"
		      "                           --reason=REASON), after the redirect is known\n"
		      "      --format=FORMAT      with --report: human or json\n"
		      "      --keep               with --report: do not drop the copy\n"
		      "      --target=N           the Nth database db-envcheck lists (1 = primary)\n"
		      "      --test-run           resolve the databases of a test run\n"
		      "  -q, --quiet              only errors\n"
		      "  -v, --verbose            say each step\n"
		      "  -h, --help               this help\n"
		      "      --version            version\n"
		      "\n"
		      "Exit status: 0 done (--report: nothing lost), 1 failed, or --report found a\n"
		      "loss, or --prepare cannot redirect the database, 2 usage error, 3 no such\n"
		      "database, 4 unreachable, 5 --report: the original changed.\n", stdout);
	exit(status);
}

enum mode { M_NONE, M_PREPARE, M_REPORT, M_DROP, M_CLEAN };

struct opts {
	enum mode mode;
	const char *dir, *snap, *drop;
	long id;
	int target, test_run, format, keep;
};

static void parse_options(int argc, char **argv, struct opts *o)
{
	enum { OPT_PREPARE = CLI_OPT_FIRST, OPT_REPORT, OPT_DROP, OPT_CLEAN, OPT_DIR, OPT_ID, OPT_SNAP,
	       OPT_FORMAT, OPT_KEEP, OPT_TARGET, OPT_TEST_RUN };
	static const struct option longopts[] = {
		{ "prepare", no_argument, NULL, OPT_PREPARE },
		{ "report", no_argument, NULL, OPT_REPORT },
		{ "drop", required_argument, NULL, OPT_DROP },
		{ "clean", no_argument, NULL, OPT_CLEAN },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "id", required_argument, NULL, OPT_ID },
		{ "snap", required_argument, NULL, OPT_SNAP },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "keep", no_argument, NULL, OPT_KEEP },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "test-run", no_argument, NULL, OPT_TEST_RUN },
		CLI_COMMON_LONGOPTS
	};
	int opt;
	enum mode m;
	while ((opt = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
		m = M_NONE;
		switch (opt) {
		case OPT_PREPARE: m = M_PREPARE; break;
		case OPT_REPORT: m = M_REPORT; break;
		case OPT_DROP: m = M_DROP; o->drop = optarg; break;
		case OPT_CLEAN: m = M_CLEAN; break;
		case OPT_DIR: o->dir = optarg; break;
		case OPT_ID: {
			char *end;
			o->id = strtol(optarg, &end, 10);
			if (*end || o->id <= 0) {
				error("--id wants a positive number, not '%s'", optarg);
				usage(DG_USAGE);
			}
			break;
		}
		case OPT_SNAP: o->snap = optarg; break;
		case OPT_FORMAT: o->format = cli_format(optarg, CLI_FMT_HUMAN | CLI_FMT_JSON, usage); break;
		case OPT_KEEP: o->keep = 1; break;
		case OPT_TARGET: o->target = cli_target_number(optarg, usage); break;
		case OPT_TEST_RUN: o->test_run = 1; break;
		default: cli_common(opt, optarg, usage);
		}
		if (m != M_NONE) {
			if (o->mode != M_NONE && o->mode != m) {
				error("--prepare, --report, --drop and --clean go alone");
				usage(DG_USAGE);
			}
			o->mode = m;
		}
	}
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		usage(DG_USAGE);
	}
	if (o->mode == M_NONE) {
		error("say what to do: --prepare, --report, --drop=COPY or --clean");
		usage(DG_USAGE);
	}
	if ((o->mode == M_PREPARE || o->mode == M_REPORT) && !o->dir) {
		error("--%s needs --dir=DIR", o->mode == M_PREPARE ? "prepare" : "report");
		usage(DG_USAGE);
	}
}

/* A file of the run's directory, for target number n. */
static char *state_path(const struct opts *o, const char *what)
{
	char name[64];
	snprintf(name, sizeof name, "%d.%s", o->target, what);
	return path_join(o->dir, name);
}

static int write_private(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, data, len) < 0 || close(fd) < 0) {
		error("cannot write '%s':", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

static int connect_to(const struct target *t, struct dbconn **c)
{
	char err[1024];
	int rc = db_connect(t, c, err, sizeof err);
	if (rc != DG_OK)
		error("%s", err);
	return rc;
}

static char *checksum_of(const struct target *t, struct dbconn *c, const char *like)
{
	char err[1024];
	char *sum = rh_checksum(t, c, like, err, sizeof err);
	if (!sum)
		error("cannot read the checksum of '%s': %s", target_get(t, TF_DATABASE), err);
	return sum;
}

/* The checksum of the original and the inventory of the fresh copy.  A
 * template copy is the original's image at the moment it was made (the
 * server copies files no session writes to), so both come from one read of
 * the copy; any other copy is checked against the original itself. */
static char *read_copy(const struct target *t, const char *copy, const char *how, struct rh_inventory *inv)
{
	struct target ct;
	rh_copy_target(t, copy, &ct);
	struct dbconn *c = NULL, *orig = NULL;
	char err[1024], *sum = NULL;
	int rc = connect_to(&ct, &c);
	target_free(&ct);
	if (rc != DG_OK)
		return NULL;
	if (!strcmp(how, "template")) {
		if (!(sum = rh_checksum_inventory(c, 1, inv, err, sizeof err)))
			error("cannot read the schema of the copy '%s': %s", copy, err);
	} else if ((target_is(t, "sqlite") || connect_to(t, &orig) == DG_OK) && (sum = checksum_of(t, orig, NULL))) {
		if (rh_inventory_read(c, inv, err, sizeof err) < 0) {
			error("cannot read the schema of the copy '%s': %s", copy, err);
			free(sum);
			sum = NULL;
		}
	}
	db_close(orig);
	db_close(c);
	return sum;
}

/* What --report reads: the inventory, the checksum, the environment and
 * the copy's name, each into a private file of the run's directory. */
static int write_state(const struct opts *o, const char *copy, const char *how, const char *sum,
                       const struct rh_inventory *inv, const struct strvec *env)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	rh_inventory_write(mem, inv);
	fclose(mem);
	struct strbuf envtext = STRBUF_INIT, copytext = STRBUF_INIT;
	for (size_t i = 0; i < env->n; i++)
		sb_addf(&envtext, "%s\n", env->v[i]);
	sb_addf(&copytext, "%s\n%s\n", copy, how);
	char *paths[4] = { state_path(o, "before"), state_path(o, "checksum"), state_path(o, "env"),
	                   state_path(o, "copy") };
	int rc = 0;
	if (write_private(paths[0], buf, len) < 0 || write_private(paths[1], sum, strlen(sum)) < 0 ||
	    write_private(paths[2], envtext.buf ? envtext.buf : "", envtext.len) < 0 ||
	    write_private(paths[3], copytext.buf, copytext.len) < 0)
		rc = -1;
	for (int i = 0; i < 4; i++)
		free(paths[i]);
	free(buf);
	sb_free(&envtext);
	sb_free(&copytext);
	return rc;
}

static int do_prepare(const struct opts *o, const struct target *t)
{
	char *copy = rh_copy_name(t, o->id ? o->id : (long)getppid());
	struct strvec env = STRVEC_INIT;
	int status = DG_NO;
	char *sum = NULL, *snapshot = NULL, *pinned = NULL;
	const char *how = "";
	struct dbconn *srv = NULL;
	if (rh_redirect(t, copy, o->target == 1, &env, &pinned) < 0) {
		error("cannot point the command at a copy of '%s': %s pins it, and a command reading it would run "
		      "against the original; make it read the environment (or remove the cache) to rehearse",
		      target_get(t, TF_DATABASE), pinned);
		goto out;
	}
	/* Not to the original: a PostgreSQL template must have no session. */
	if (!target_is(t, "sqlite") && !(srv = rh_server_connect(t))) {
		status = DG_UNREACHABLE;
		goto out;
	}
	rh_copy_clean(t, srv);
	if (o->snap && !(snapshot = rh_snapshot(o->target, o->test_run, o->snap)))
		goto out;
	verbose("copying '%s' to '%s'", target_get(t, TF_DATABASE), copy);
	status = rh_copy_make(t, srv, o->target, o->test_run, copy, &snapshot, &how);
	if (status != DG_OK)
		goto out;
	struct rh_inventory inv;
	if (!(sum = read_copy(t, copy, how, &inv))) {
		status = DG_NO;
	} else {
		if (write_state(o, copy, how, sum, &inv, &env) < 0)
			status = DG_NO;
		else
			printf("%s\t%s\t%s\n", copy, how, snapshot ? snapshot : "");
		rh_inventory_free(&inv);
	}
	if (status != DG_OK)
		rh_copy_drop(t, srv, copy);
out:
	if (status != DG_OK && snapshot)
		printf("\t\t%s\n", snapshot);
	db_close(srv);
	free(snapshot);
	free(sum);
	free(pinned);
	sv_free(&env);
	free(copy);
	return status;
}

static char *read_state(const struct opts *o, const char *what)
{
	char *p = state_path(o, what);
	size_t len;
	char *text = read_file(p, &len);
	if (!text)
		error("cannot read '%s' (written by db-rehearse --prepare):", p);
	free(p);
	return text;
}

static int do_report(const struct opts *o, const struct target *t)
{
	char *copyinfo = read_state(o, "copy"), *sum_before = read_state(o, "checksum");
	if (!copyinfo || !sum_before) {
		free(copyinfo);
		free(sum_before);
		return DG_NO;
	}
	copyinfo[strcspn(copyinfo, "\n")] = '\0';
	const char *copy = copyinfo;
	int status = DG_NO;
	struct rh_inventory before = { 0 }, after = { 0 };
	struct dbconn *orig = NULL, *cc = NULL;
	char err[1024];
	char *p = state_path(o, "before");
	int loaded = rh_inventory_load(p, &before, err, sizeof err);
	free(p);
	if (loaded < 0) {
		error("%s", err);
		goto out;
	}
	/* One connection to the original: its checksum, the diff's old values,
	 * the drop of the copy.  A SQLite file is hashed before it is opened. */
	char *sum_after = target_is(t, "sqlite") ? checksum_of(t, NULL, NULL) : NULL, sum_err[1024];
	struct target ct;
	rh_copy_target(t, copy, &ct);
	int rc = connect_to(t, &orig) != DG_OK ? DG_UNREACHABLE : connect_to(&ct, &cc);
	target_free(&ct);
	/* The original's checksum and the copy's inventory side by side. */
	if (rc == DG_OK && rh_checksum_beside(t, orig, sum_before, &sum_after, sum_err, sizeof sum_err, cc, &after,
	                                      err, sizeof err) < 0) {
		if (!sum_after)
			error("cannot read the checksum of '%s': %s", target_get(t, TF_DATABASE), sum_err);
		else
			error("cannot read the schema of the copy '%s' after the command: %s", copy, err);
		rc = DG_NO;
	}
	int unchanged = sum_after && !strcmp(sum_before, sum_after);
	free(sum_after);
	if (rc != DG_OK)
		goto out;
	struct rh_report *r = rh_diff(&before, &after, orig, cc);
	char *desc = target_describe(t);
	rh_report_print(stdout, r, o->format == FMT_JSON, desc, target_get(t, TF_ENGINE), target_get(t, TF_DATABASE),
	                copy, unchanged);
	free(desc);
	status = !unchanged ? DG_INTEGRITY : rh_report_loss(r) ? DG_NO : DG_OK;
	rh_report_free(r);
out:
	db_close(cc);
	if (!o->keep && rh_copy_drop(t, target_is(t, "sqlite") ? NULL : orig, copy) == 0)
		verbose("dropped the copy '%s'", copy);
	db_close(orig);
	rh_inventory_free(&before);
	rh_inventory_free(&after);
	free(copyinfo);
	free(sum_before);
	return status;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	struct opts o = { .target = 1, .format = FMT_HUMAN };
	parse_options(argc, argv, &o);
	char *project = project_dir_find();
	int cerr = config_load(project);
	free(project);
	if (cerr)
		return DG_USAGE;
	struct target_list list = { 0 };
	struct resolve_opts ro = { NULL, o.test_run, NULL };
	resolve_targets(&ro, &list);
	if (list.config_errors) {
		target_list_free(&list);
		return DG_USAGE;
	}
	const struct target *t = cli_pick_target(&list, o.target);
	int status;
	if (!target_get(t, TF_ENGINE) || !target_get(t, TF_DATABASE)) {
		char *desc = target_describe(t);
		error("cannot rehearse on %s: its %s is not known (db-envcheck --explain says why)", desc,
		      target_get(t, TF_ENGINE) ? "database" : "engine");
		free(desc);
		target_list_free(&list);
		return DG_NO;
	}
	switch (o.mode) {
	case M_PREPARE: status = do_prepare(&o, t); break;
	case M_REPORT: status = do_report(&o, t); break;
	case M_DROP: status = rh_copy_drop(t, NULL, o.drop) < 0 ? DG_NO : DG_OK; break;
	default: rh_copy_clean(t, NULL); status = DG_OK; break;
	}
	target_list_free(&list);
	if (close_stdout() < 0 && status == DG_OK)
		status = DG_NO;
	return status;
}
