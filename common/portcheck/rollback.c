/* rollback.c — put the FILE.backup copies of an apply back: beside the
 * compose files, the files they extend, and the .env. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "portcheck/impl.h"

int portcheck_rollback(const struct strvec *given)
{
	struct strvec files = STRVEC_INIT;
	int rc = compose_find(given->v, given->n, &files, 1);
	if (rc == DG_NOTHING) {
		error("nothing to roll back: no compose file here or in any parent directory");
		return DG_NOTHING;
	}
	if (rc)
		return rc;
	struct strvec cand = STRVEC_INIT;
	for (size_t i = 0; i < files.n; i++)
		sv_push(&cand, files.v[i]);
	/* The files read through extends are known only by parsing; talk of
	 * unset variables is beside the point here. */
	int saved = msg_verbosity;
	msg_verbosity = 0;
	char *dir = path_dir(files.v[0]);
	config_load(dir);
	struct compose_project p;
	if (compose_load(&p, &files) == DG_OK)
		for (size_t i = 0; i < p.extends_files.n; i++)
			sv_push(&cand, p.extends_files.v[i]);
	compose_free(&p);
	msg_verbosity = saved;
	sv_push_owned(&cand, path_join(dir, ".env"));
	free(dir);
	size_t restored = 0;
	int failed = 0;
	struct strvec done = STRVEC_INIT;
	for (size_t i = 0; i < cand.n; i++) {
		char *real = path_to_write(cand.v[i]);
		int seen = 0;
		for (size_t j = 0; j < done.n; j++)
			seen |= strcmp(done.v[j], real) == 0;
		char *backup = xasprintf("%s.backup", real);
		struct stat st;
		if (!seen && lstat(backup, &st) == 0) {
			if (rename(backup, real) < 0) {
				error("cannot put '%s' back as '%s':", backup, cand.v[i]);
				failed = 1;
			} else {
				fsync_dir_of(real);
				printf("%s\n", cand.v[i]);
				restored++;
			}
		}
		sv_push(&done, real);
		free(backup);
		free(real);
	}
	sv_free(&done);
	sv_free(&cand);
	sv_free(&files);
	if (failed)
		return DG_NO;
	if (!restored) {
		error("nothing to roll back: no FILE.backup beside the compose files or the .env");
		return DG_NOTHING;
	}
	info("restored %zu file%s from the .backup cop%s", restored, restored == 1 ? "" : "s",
	     restored == 1 ? "y" : "ies");
	return DG_OK;
}
