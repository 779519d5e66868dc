/* find.c — which compose files a project has, found as docker compose finds
 * them (compose.h, compose_find). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "compose/compose.h"
#include "model/dotenv.h"

/* ---- discovery ---- */

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int compose_find(char *const *given, size_t ngiven, struct strvec *files, int quiet)
{
	memset(files, 0, sizeof *files);
	struct strvec names = STRVEC_INIT;
	if (ngiven) {
		for (size_t i = 0; i < ngiven; i++)
			sv_push(&names, given[i]);
	} else {
		const char *cf = getenv("COMPOSE_FILE");
		struct dotenv env;
		int have_env = 0;
		/* Only a .env that mentions COMPOSE_FILE is read here, so its other
		 * problems are reported once, when the project's .env is read. */
		char *raw = cf ? NULL : read_file(".env", NULL);
		int mentions = raw && strstr(raw, "COMPOSE_FILE");
		free(raw);
		if (mentions && dotenv_load(".env", &env) == 0) {
			have_env = 1;
			const struct dotenv_entry *e = dotenv_get(&env, "COMPOSE_FILE");
			cf = e ? e->value : NULL;
		}
		if (cf && *cf) {
			const char *sep = getenv("COMPOSE_PATH_SEPARATOR");
			if (!sep || !*sep)
				sep = ":";
			char *copy = xstrdup(cf);
			for (char *save = NULL, *tok = strtok_r(copy, sep, &save); tok; tok = strtok_r(NULL, sep, &save))
				if (*tok)
					sv_push(&names, tok);
			free(copy);
		}
		if (have_env)
			dotenv_free(&env);
	}
	if (names.n) {
		for (size_t i = 0; i < names.n; i++) {
			if (strcmp(names.v[i], "-") == 0) {
				error("reading a compose file from standard input is not supported; name the file");
				sv_free(&names);
				return DG_USAGE;
			}
			if (!exists(names.v[i])) {
				error("cannot open '%s':", names.v[i]);
				sv_free(&names);
				return DG_USAGE;
			}
			sv_push(files, names.v[i]);
		}
		sv_free(&names);
		return DG_OK;
	}
	static const char *const base[] = { "compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml" };
	static const char *const over[] = { "compose.override.yml", "compose.override.yaml", "docker-compose.override.yml",
	                                     "docker-compose.override.yaml" };
	char *dir = xstrdup(".");
	char *abs = getcwd(NULL, 0);
	for (int up = 0; abs; up++) {
		for (size_t i = 0; i < sizeof base / sizeof *base && !files->n; i++) {
			char *p = path_join(dir, base[i]);
			if (exists(p))
				sv_push(files, p);
			free(p);
		}
		if (files->n) {
			for (size_t i = 0; i < sizeof over / sizeof *over && files->n == 1; i++) {
				char *p = path_join(dir, over[i]);
				if (exists(p))
					sv_push(files, p);
				free(p);
			}
			break;
		}
		if (strcmp(abs, "/") == 0)
			break;
		char *parent = path_dir(abs);
		free(abs);
		abs = parent;
		free(dir);
		dir = xstrdup(abs);
	}
	free(abs);
	free(dir);
	if (!files->n) {
		if (!quiet)
			error("no compose file here or in any parent directory (compose.yaml, compose.yml, "
			      "docker-compose.yml, docker-compose.yaml); name one with -f");
		return DG_NOTHING;
	}
	return DG_OK;
}
