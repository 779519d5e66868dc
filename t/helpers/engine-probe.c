/* engine-probe.c — drives the engine adapters (common/engine/engine.h) directly, so
 * t/06-engines.bats can test them against real servers before and apart
 * from the programs.  Built by that test file, not installed.
 *
 *   engine-probe ENGINE HOST PORT DATABASE USER COMMAND...
 *
 * Empty strings leave a field unset; the password comes from PROBE_PASSWORD
 * (never argv).  Commands run in order on one connection:
 *   info             engine, version, major, size (one "key value" a line)
 *   tables           "name<TAB>rows" lines
 *   marker           the marker, or "none"
 *   mark CLASS|clear write or remove the marker
 *   exec SQL         run a statement
 *   value SQL        print the first column of the first row ("NULL" for none)
 *   ident S | literal S   print the quoted form
 *   txn-tables       the tables inside a transaction the probe opened
 *   fingerprint      db_fingerprint: the fingerprint, or "none: WHY"
 *   snap-fingerprint the same with for_snapshot, inside a transaction the
 *                    probe opened (REPEATABLE READ for postgres)
 * Without a connection (must be the only command):
 *   client PROG ARGS...   run PROG with db_client_args, then clean up and
 *                         say whether the option file is gone
 *   clientargs       print the argv and env entries db_client_args adds
 * Exit status: db_connect's status when it fails, 1 when a command fails. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/engine.h"
#include "base/exitcodes.h"
#include "base/msg.h"
#include "model/target.h"
#include "base/xalloc.h"

static void set(struct target *t, enum tfield f, const char *v)
{
	if (v && *v)
		target_set(t, f, v, "engine-probe");
}

static int print_tables(struct dbconn *c)
{
	char err[512];
	struct table_counts tc;
	if (db_tables(c, &tc, err, sizeof err) < 0) {
		error("tables: %s", err);
		return -1;
	}
	for (size_t i = 0; i < tc.n; i++)
		printf("%s\t%lld\n", tc.v[i].name, tc.v[i].rows);
	table_counts_free(&tc);
	return 0;
}

static int client(const struct target *t, char **args, int n)
{
	char err[512], *cleanup = NULL;
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	sv_push(&argv, args[0]);
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("client: %s", err);
		return DG_NO;
	}
	for (int i = 1; i < n; i++)
		sv_push(&argv, args[i]);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < env.n; i++)
			putenv(env.v[i]);
		execvp(argv.v[0], argv.v);
		_exit(127);
	}
	int ws = 0;
	waitpid(pid, &ws, 0);
	int fd = cleanup ? atoi(cleanup + strlen("/dev/fd/")) : -1;
	db_client_cleanup(cleanup);
	if (fd >= 0)
		printf("cleanup %s\n", fcntl(fd, F_GETFD) < 0 ? "done" : "left");
	sv_free(&argv);
	sv_free(&env);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static int clientargs(const struct target *t)
{
	char err[512], *cleanup = NULL;
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	if (db_client_args(t, &argv, &env, &cleanup, err, sizeof err) < 0) {
		error("clientargs: %s", err);
		return DG_NO;
	}
	for (size_t i = 0; i < argv.n; i++)
		printf("arg %s\n", argv.v[i]);
	for (size_t i = 0; i < env.n; i++)
		printf("env %s\n", env.v[i]);
	if (cleanup) {
		/* The memfd: private, and inherited by the client (no FD_CLOEXEC). */
		struct stat st;
		int fd = atoi(cleanup + strlen("/dev/fd/"));
		int fl = fcntl(fd, F_GETFD);
		if (stat(cleanup, &st) == 0 && fl >= 0)
			printf("file %o %s\n", (unsigned)(st.st_mode & 07777),
			       fl & FD_CLOEXEC ? "close-on-exec" : "inherited");
	}
	db_client_cleanup(cleanup);
	sv_free(&argv);
	sv_free(&env);
	return 0;
}

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	if (argc < 7) {
		fputs("usage: engine-probe ENGINE HOST PORT DATABASE USER COMMAND...\n", stderr);
		return DG_USAGE;
	}
	struct target t = { 0 };
	set(&t, TF_ENGINE, argv[1]);
	set(&t, TF_HOST, argv[2]);
	set(&t, TF_PORT, argv[3]);
	set(&t, TF_DATABASE, argv[4]);
	set(&t, TF_USER, argv[5]);
	set(&t, TF_PASSWORD, getenv("PROBE_PASSWORD"));
	char **cmd = argv + 6;
	int ncmd = argc - 6;
	int rc = 0;
	if (strcmp(cmd[0], "client") == 0 && ncmd >= 2) {
		rc = client(&t, cmd + 1, ncmd - 1);
		target_free(&t);
		return rc;
	}
	if (strcmp(cmd[0], "clientargs") == 0) {
		rc = clientargs(&t);
		target_free(&t);
		return rc;
	}

	char err[512];
	struct dbconn *c = NULL;
	int admin = strcmp(cmd[0], "admin") == 0;
	rc = admin ? db_connect_admin(&t, &c, err, sizeof err) : db_connect(&t, &c, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		target_free(&t);
		return rc;
	}
	if (admin)
		cmd++, ncmd--;
	for (int i = 0; i < ncmd && rc == 0; i++) {
		const char *op = cmd[i], *arg = i + 1 < ncmd ? cmd[i + 1] : NULL;
		char *v = NULL;
		if (strcmp(op, "info") == 0) {
			printf("engine %s\nversion %s\nmajor %d\n", db_engine(c),
			       db_server_version(c), db_server_major(c));
			long long size = db_size(c, err, sizeof err);
			if (size < 0) {
				error("size: %s", err);
				rc = 1;
			}
			printf("size %lld\n", size);
		} else if (strcmp(op, "tables") == 0) {
			rc = print_tables(c) < 0;
		} else if (strcmp(op, "txn-tables") == 0) {
			rc = db_exec(c, "BEGIN", err, sizeof err) < 0 || print_tables(c) < 0 ||
			     db_exec(c, "ROLLBACK", err, sizeof err) < 0;
		} else if (strcmp(op, "fingerprint") == 0 || strcmp(op, "snap-fingerprint") == 0) {
			int snap = op[0] == 's';
			char *why = NULL;
			const char *begin = strcmp(db_engine(c), "postgres") == 0
			                  ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : NULL;
			if (snap && begin && db_exec(c, begin, err, sizeof err) < 0) {
				error("begin: %s", err);
				rc = 1;
			} else if (db_fingerprint(c, snap, &v, &why, err, sizeof err) < 0) {
				error("fingerprint: %s", err);
				rc = 1;
			} else {
				printf("%s%s\n", v ? v : "none: ", v ? "" : why);
			}
			if (snap && begin)
				db_exec(c, "ROLLBACK", NULL, 0);
			free(why);
		} else if (strcmp(op, "marker") == 0) {
			if (db_marker_read(c, &v, err, sizeof err) < 0) {
				error("marker: %s", err);
				rc = 1;
			}
			printf("%s\n", v ? v : "none");
		} else if (arg && strcmp(op, "mark") == 0) {
			i++;
			if (db_marker_write(c, strcmp(arg, "clear") == 0 ? NULL : arg, err, sizeof err) < 0) {
				error("mark: %s", err);
				rc = 1;
			}
		} else if (arg && strcmp(op, "exec") == 0) {
			i++;
			if (db_exec(c, arg, err, sizeof err) < 0) {
				error("exec: %s", err);
				rc = 1;
			}
		} else if (arg && strcmp(op, "value") == 0) {
			i++;
			if (db_query_value(c, arg, &v, err, sizeof err) < 0) {
				error("value: %s", err);
				rc = 1;
			}
			printf("%s\n", v ? v : "NULL");
		} else if (arg && strcmp(op, "ident") == 0) {
			i++;
			v = db_quote_ident(c, arg);
			printf("%s\n", v);
		} else if (arg && strcmp(op, "literal") == 0) {
			i++;
			v = db_quote_literal(c, arg);
			printf("%s\n", v);
		} else {
			error("unknown command '%s'", op);
			rc = DG_USAGE;
		}
		free(v);
	}
	db_close(c);
	target_free(&t);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
