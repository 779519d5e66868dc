/* mysql.c — MySQL / MariaDB snapshots: mariadb-dump (or mysqldump) in one
 * transaction, restorable with "mariadb DB < file". */
#include "snap/impl.h"

#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/xalloc.h"

int snap_my_run(struct snapshot_job *j, struct compressor *c, struct observer *ob,
                struct snapshot_result *res, char *err, size_t errlen)
{
	struct myscan s;
	myscan_init(&s);
	struct strvec argv = STRVEC_INIT, env = STRVEC_INIT;
	char *cleanup = NULL;
	int rc = DG_NO;
	sv_push(&argv, j->prog);
	if (db_client_args(&j->t, &argv, &env, &cleanup, err, errlen) < 0)
		goto out;
	/* Restorable with "mariadb DB < file": no CREATE DATABASE, no USE. */
	const char *flags[] = { "--single-transaction", "--routines", "--triggers", "--events",
	                        "--hex-blob", "--no-tablespaces", "--default-character-set=utf8mb4",
	                        "--", NULL };
	for (const char **f = flags; *f; f++)
		sv_push(&argv, *f);
	sv_push(&argv, target_get(&j->t, TF_DATABASE));
	ob->scan = my_scan;
	ob->scanner = &s;
	/* Before mariadb-dump opens its consistent snapshot. */
	snap_fingerprint_before(j, res);
	rc = snap_run_dump(j, sv_argv(&argv), sv_argv(&env), c, ob, res, err, errlen);
	if (rc == DG_OK)
		snap_fingerprint_after(j, res);
	if (rc != DG_OK)
		goto out;
	res->counts.v = xcalloc(s.tables.n ? s.tables.n : 1, sizeof *res->counts.v);
	for (size_t i = 0; i < s.tables.n; i++) {
		/* db_tables() leaves the marker out; so does the snapshot's list. */
		if (strcmp(s.tables.v[i], "dbguard_marker") == 0)
			continue;
		res->counts.v[res->counts.n].name = xstrdup(s.tables.v[i]);
		res->counts.v[res->counts.n].rows = s.rows[i];
		res->counts.n++;
	}
	qsort(res->counts.v, res->counts.n, sizeof *res->counts.v, snap_by_name);
out:
	myscan_free(&s);
	sv_free(&argv);
	sv_free(&env);
	db_client_cleanup(cleanup);
	return rc;
}
