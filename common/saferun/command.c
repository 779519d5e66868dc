/* command.c — classifying a command line by what it does (command.h). */
#include "saferun/command.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"

static const char *const class_names[] = {
	"other", "client", "test", "migration", "seed", "wipe", "destructive-docker",
};

const char *cmd_class_name(enum cmd_class c)
{
	return class_names[c];
}

int cmd_class_destructive(enum cmd_class c)
{
	return c >= CMD_MIGRATION;
}

static const char *base(const char *w)
{
	const char *s = strrchr(w, '/');
	return s ? s + 1 : w;
}

static int is(const char *w, const char *s)
{
	return w && strcmp(w, s) == 0;
}

static int starts(const char *w, const char *prefix)
{
	return w && strncmp(w, prefix, strlen(prefix)) == 0;
}

/* A short-option cluster ("-fv") holding letter c, or the long option. */
static int has_flag(const char *w, char c, const char *lng)
{
	if (lng && (is(w, lng) || (starts(w, lng) && w[strlen(lng)] == '=' && strcmp(w + strlen(lng) + 1, "false"))))
		return 1;
	return c && w[0] == '-' && w[1] != '-' && w[1] && !strchr(w, '=') && strchr(w + 1, c);
}

static void set(struct command_info *ci, enum cmd_class c, const char *why)
{
	if (c > ci->cls) {
		ci->cls = c;
		ci->why = why;
	}
}

/* An option in names ("-f|--file|...") that takes a value: returns how many
 * words it uses (1 for "--file=x", 2 for "--file x"), 0 when w is not one. */
static int value_option(char *const *w, const char *const names[], char **value)
{
	for (const char *const *n = names; *n; n++) {
		size_t len = strlen(*n);
		if (strncmp(w[0], *n, len))
			continue;
		if (w[0][len] == '\0' && w[1]) {
			if (value)
				*value = w[1];
			return 2;
		}
		if (w[0][len] == '=' && (*n)[1] == '-') {
			if (value)
				*value = w[0] + len + 1;
			return 1;
		}
		if (w[0][len] != '\0' && (*n)[1] != '-' && w[0][1] && w[0][2]) {
			/* "-fx.yml": a short option glued to its value */
			if (value)
				*value = w[0] + len;
			return 1;
		}
	}
	return 0;
}

static void keep(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

/* ---- Docker ---- */

static const char *const docker_valued[] = {
	"--config", "-c", "--context", "-H", "--host", "-l", "--log-level", "--tlscacert", "--tlscert",
	"--tlskey", NULL,
};
static const char *const compose_valued[] = {
	"-f", "--file", "-p", "--project-name", "--profile", "--env-file", "--project-directory",
	"--parallel", "--ansi", "--progress", "-c", "--context", "-H", "--host", "--log-level",
	"--tlscacert", "--tlscert", "--tlskey", "--workdir", NULL,
};

/* Operands of a subcommand, skipping its options (valued ones with their value). */
static void operands(char *const *w, const char *const valued[], struct strvec *out)
{
	int dashdash = 0;
	for (; *w; w++) {
		if (!dashdash && is(*w, "--")) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && (*w)[0] == '-' && (*w)[1]) {
			int n = valued ? value_option(w, valued, NULL) : 0;
			if (n == 2)
				w++;
			continue;
		}
		sv_push(out, *w);
	}
}

static void compose(char *const *w, struct command_info *ci)
{
	struct docker_cmd *d = &ci->docker;
	d->compose = 1;
	for (; *w && (*w)[0] == '-'; w++) {
		char *v = NULL;
		int n = value_option(w, compose_valued, &v);
		if (n) {
			if (value_option(w, (const char *const[]){ "-f", "--file", NULL }, NULL))
				sv_push(&d->files, v);
			else if (value_option(w, (const char *const[]){ "-p", "--project-name", NULL }, NULL))
				keep(&d->project, v);
			else if (value_option(w, (const char *const[]){ "--profile", NULL }, NULL))
				sv_push(&d->profiles, v);
			else if (value_option(w, (const char *const[]){ "--env-file", NULL }, NULL))
				keep(&d->env_file, v);
			else if (value_option(w, (const char *const[]){ "--project-directory", NULL }, NULL))
				keep(&d->project_directory, v);
			w += n - 1;
		} else if (is(*w, "--dry-run")) {
			d->dry_run = 1;
		}
	}
	if (!*w)
		return;
	keep(&d->subcommand, *w);
	static const char *const down_valued[] = { "--rmi", "-t", "--timeout", NULL };
	static const char *const rm_valued[] = { NULL };
	const char *const *valued = is(*w, "down") ? down_valued : rm_valued;
	for (char *const *a = w + 1; *a; a++) {
		if (is(*a, "--"))
			break;
		int n = value_option(a, valued, NULL);
		if (n) {
			a += n - 1;
			continue;
		}
		if (has_flag(*a, 'v', "--volumes"))
			d->remove_volumes = 1;
		if (has_flag(*a, 'f', "--force") || has_flag(*a, 's', "--stop"))
			d->force = 1;
	}
	operands(w + 1, valued, &d->operands);
	if (d->dry_run)
		return;   /* Compose itself promises to change nothing */
	if (d->remove_volumes && is(*w, "down"))
		set(ci, CMD_DOCKER_DESTRUCTIVE, "docker compose down -v removes the project's volumes");
	else if (d->remove_volumes && is(*w, "rm"))
		set(ci, CMD_DOCKER_DESTRUCTIVE, "docker compose rm -v removes the services' anonymous volumes");
}

static void docker(char *const *w, struct command_info *ci)
{
	struct docker_cmd *d = &ci->docker;
	for (; *w && (*w)[0] == '-'; w++) {
		int n = value_option(w, docker_valued, NULL);
		if (n)
			w += n - 1;
	}
	if (!*w)
		return;
	if (is(*w, "compose")) {
		keep(&d->tool, strcmp(d->tool, "podman") ? "docker compose" : "podman compose");
		compose(w + 1, ci);
		return;
	}
	static const char *const prune_valued[] = { "--filter", NULL };
	const char *group = *w, *sub = w[1];
	char *const *rest = w + 1;
	if ((is(group, "volume") || is(group, "system") || is(group, "container")) && sub) {
		d->subcommand = xasprintf("%s %s", group, sub);
		rest = w + 2;
	} else {
		keep(&d->subcommand, group);
		sub = NULL;
	}
	for (char *const *a = rest; *a && !is(*a, "--"); a++) {
		int n = value_option(a, prune_valued, NULL);
		if (n) {
			a += n - 1;
			continue;
		}
		if (has_flag(*a, 'v', "--volumes"))
			d->remove_volumes = 1;
		if (has_flag(*a, 'a', "--all"))
			d->all = 1;
		if (has_flag(*a, 'f', "--force"))
			d->force = 1;
	}
	operands(rest, prune_valued, &d->operands);
	if (is(group, "volume") && (is(sub, "rm") || is(sub, "remove")))
		set(ci, CMD_DOCKER_DESTRUCTIVE, "docker volume rm removes volumes");
	else if (is(group, "volume") && is(sub, "prune"))
		set(ci, CMD_DOCKER_DESTRUCTIVE, "docker volume prune removes volumes");
	else if (is(group, "system") && is(sub, "prune") && d->remove_volumes)
		set(ci, CMD_DOCKER_DESTRUCTIVE, "docker system prune --volumes removes volumes");
	else if ((is(group, "rm") || (is(group, "container") && (is(sub, "rm") || is(sub, "remove")))) &&
	         d->remove_volumes)
		set(ci, CMD_DOCKER_DESTRUCTIVE, "docker rm -v removes the containers' anonymous volumes");
}

/* ---- frameworks ---- */

static void artisan(char *const *w, struct command_info *ci)
{
	const char *c = *w;
	if (!c)
		return;
	int seed = 0;
	for (char *const *a = w + 1; *a; a++)
		if (is(*a, "--seed") || starts(*a, "--seeder"))
			seed = 1;
	if (is(c, "migrate:fresh") || is(c, "migrate:refresh") || is(c, "migrate:reset") || is(c, "db:wipe"))
		set(ci, CMD_WIPE, "artisan: drops or empties every table");
	else if (is(c, "db:seed") || (seed && starts(c, "migrate")))
		set(ci, CMD_SEED, "artisan: seeds the database");
	else if ((starts(c, "migrate") && !is(c, "migrate:status")) || is(c, "schema:dump"))
		set(ci, CMD_MIGRATION, "artisan: migrates the database");
	else if (is(c, "test") || is(c, "dusk") || starts(c, "test:"))
		set(ci, CMD_TEST, "artisan test: a test run");
	else if (is(c, "db") || is(c, "tinker"))
		set(ci, CMD_CLIENT, "artisan: a database client");
}

static void rails(char *const *w, struct command_info *ci)
{
	for (; *w; w++) {
		const char *c = *w;
		if (is(c, "db:drop") || starts(c, "db:drop:") || starts(c, "db:reset") || starts(c, "db:purge") ||
		    is(c, "db:schema:load") || is(c, "db:structure:load") || is(c, "db:setup") ||
		    is(c, "db:seed:replant") || is(c, "db:truncate_all"))
			set(ci, CMD_WIPE, "rails: drops, empties or reloads the database");
		else if (is(c, "db:seed") || starts(c, "db:fixtures:load"))
			set(ci, CMD_SEED, "rails: seeds the database");
		else if (starts(c, "db:") && !is(c, "db:version") && !starts(c, "db:migrate:status") && !is(c, "db:create"))
			set(ci, CMD_MIGRATION, "rails: migrates the database");
		else if (is(c, "test") || starts(c, "test:") || is(c, "spec") || starts(c, "spec:"))
			set(ci, CMD_TEST, "rails test: a test run");
		else if (is(c, "dbconsole") || is(c, "db"))
			set(ci, CMD_CLIENT, "rails dbconsole: a database client");
	}
}

static void django(char *const *w, struct command_info *ci)
{
	const char *c = *w;
	if (!c)
		return;
	if (is(c, "flush") || is(c, "reset_db") || is(c, "reset_schema"))
		set(ci, CMD_WIPE, "manage.py: empties the database");
	else if (is(c, "loaddata"))
		set(ci, CMD_SEED, "manage.py loaddata: loads data");
	else if (is(c, "migrate"))
		set(ci, CMD_MIGRATION, "manage.py migrate: migrates the database");
	else if (is(c, "test"))
		set(ci, CMD_TEST, "manage.py test: a test run");
	else if (is(c, "dbshell"))
		set(ci, CMD_CLIENT, "manage.py dbshell: a database client");
}

static int any(char *const *w, const char *s)
{
	for (; *w; w++)
		if (is(*w, s))
			return 1;
	return 0;
}

static void prisma(char *const *w, struct command_info *ci)
{
	const char *a = w[0], *b = a ? w[1] : NULL;
	if (is(a, "migrate") && is(b, "reset"))
		set(ci, CMD_WIPE, "prisma migrate reset drops the database");
	else if (is(a, "db") && is(b, "push") && any(w + 2, "--force-reset"))
		set(ci, CMD_WIPE, "prisma db push --force-reset drops the database");
	else if (is(a, "db") && is(b, "seed"))
		set(ci, CMD_SEED, "prisma db seed seeds the database");
	else if ((is(a, "migrate") && (is(b, "dev") || is(b, "deploy") || is(b, "resolve"))) ||
	         (is(a, "db") && (is(b, "push") || is(b, "execute"))))
		set(ci, CMD_MIGRATION, "prisma: changes the schema");
}

/* Test runners, whichever way they are started. */
static const char *const test_programs[] = {
	"pytest", "py.test", "phpunit", "pest", "paratest", "rspec", "jest", "vitest", "mocha", "ava",
	"tox", "nox", "cypress", "playwright", NULL,
};
static const char *const client_programs[] = {
	"psql", "mysql", "mariadb", "sqlite3", "pgcli", "mycli", "litecli", "usql", NULL,
};

static int in_list(const char *w, const char *const list[])
{
	for (; *list; list++)
		if (is(w, *list))
			return 1;
	return 0;
}

/* Options of runners like npx before the program they start. */
static char *const *skip_runner_options(char *const *w)
{
	static const char *const valued[] = { "-p", "--package", "-c", "--call", "--cwd", "--dir", "-C", NULL };
	while (*w && (*w)[0] == '-') {
		if (is(*w, "--"))
			return w + 1;
		int n = value_option(w, valued, NULL);
		w += n ? n : 1;
	}
	return w;
}

static void classify_from(char *const *w, struct command_info *ci, int depth);

static void program(char *const *w, struct command_info *ci, int depth)
{
	const char *p = base(w[0]);
	char *const *rest = w + 1;
	if (is(p, "docker") || is(p, "podman")) {
		ci->is_docker = 1;
		keep(&ci->docker.tool, p);
		docker(rest, ci);
	} else if (is(p, "docker-compose") || is(p, "podman-compose")) {
		ci->is_docker = 1;
		keep(&ci->docker.tool, p);
		compose(rest, ci);
	} else if (is(p, "sail")) {
		const char *s = rest[0];
		if (is(s, "artisan") || is(s, "art") || is(s, "a"))
			artisan(rest + 1, ci);
		else if (is(s, "php") || is(s, "composer") || is(s, "bin") || is(s, "npx") || is(s, "npm") ||
		         is(s, "yarn") || is(s, "pnpm") || is(s, "bun") || is(s, "psql") || is(s, "mysql") ||
		         is(s, "mariadb"))
			classify_from(is(s, "bin") ? rest + 1 : rest, ci, depth + 1);
		else if (is(s, "test") || is(s, "pest") || is(s, "phpunit") || is(s, "dusk"))
			set(ci, CMD_TEST, "sail test: a test run");
		else if (s) {
			/* Everything else, Sail hands to docker compose. */
			ci->is_docker = 1;
			keep(&ci->docker.tool, "sail");
			compose(rest, ci);
		}
	} else if (is(p, "php")) {
		char *const *a = rest;
		while (*a && (*a)[0] == '-')
			a += (is(*a, "-d") || is(*a, "-c")) && a[1] ? 2 : 1;
		if (*a)
			classify_from(a, ci, depth + 1);
	} else if (is(p, "artisan")) {
		artisan(rest, ci);
	} else if (is(p, "composer")) {
		const char *s = is(rest[0], "run") || is(rest[0], "run-script") ? rest[1] : rest[0];
		if (is(s, "test") || starts(s, "test:"))
			set(ci, CMD_TEST, "composer test: a test run");
	} else if (starts(p, "python")) {
		char *const *a = rest;
		while (*a && (*a)[0] == '-' && !is(*a, "-m"))
			a++;
		if (is(*a, "-m") && a[1]) {
			if (is(a[1], "django"))
				django(a + 2, ci);
			else
				classify_from(a + 1, ci, depth + 1);
		} else if (*a) {
			classify_from(a, ci, depth + 1);
		}
	} else if (is(p, "manage.py") || is(p, "django-admin")) {
		django(rest, ci);
	} else if (is(p, "rails") || is(p, "rake")) {
		rails(rest, ci);
	} else if (is(p, "bundle") || is(p, "poetry") || is(p, "pipenv") || is(p, "uv") || is(p, "pdm") ||
	           is(p, "hatch")) {
		if (is(rest[0], "exec") || is(rest[0], "run"))
			classify_from(skip_runner_options(rest + 1), ci, depth + 1);
	} else if (is(p, "npx") || is(p, "bunx") || is(p, "pnpx")) {
		classify_from(skip_runner_options(rest), ci, depth + 1);
	} else if (is(p, "npm") || is(p, "pnpm") || is(p, "yarn") || is(p, "bun")) {
		if (is(rest[0], "exec") || is(rest[0], "dlx") || is(rest[0], "x"))
			classify_from(skip_runner_options(rest + 1), ci, depth + 1);
		else if (is(p, "yarn") && rest[0] && rest[0][0] != '-')
			classify_from(rest, ci, depth + 1);   /* yarn prisma migrate reset */
	} else if (is(p, "prisma")) {
		prisma(rest, ci);
	} else if (is(p, "knex")) {
		const char *s = rest[0];
		if (starts(s, "migrate:") && !is(s, "migrate:status") && !is(s, "migrate:list") && !is(s, "migrate:make"))
			set(ci, CMD_MIGRATION, "knex migrate: migrates the database");
		else if (is(s, "seed:run"))
			set(ci, CMD_SEED, "knex seed:run seeds the database");
	} else if (is(p, "sequelize") || is(p, "sequelize-cli")) {
		const char *s = rest[0];
		if (is(s, "db:drop"))
			set(ci, CMD_WIPE, "sequelize db:drop drops the database");
		else if (starts(s, "db:seed"))
			set(ci, CMD_SEED, "sequelize db:seed seeds the database");
		else if (starts(s, "db:migrate") && !is(s, "db:migrate:status"))
			set(ci, CMD_MIGRATION, "sequelize db:migrate migrates the database");
	} else if (is(p, "drizzle-kit")) {
		const char *s = rest[0];
		if (is(s, "push") || is(s, "migrate") || is(s, "drop") || starts(s, "push:"))
			set(ci, CMD_MIGRATION, "drizzle-kit: changes the schema");
	} else if (starts(p, "typeorm")) {
		const char *s = rest[0];
		if (is(s, "schema:drop"))
			set(ci, CMD_WIPE, "typeorm schema:drop drops every table");
		else if (is(s, "migration:run") || is(s, "migration:revert") || is(s, "schema:sync"))
			set(ci, CMD_MIGRATION, "typeorm: changes the schema");
	} else if (is(p, "dbmate")) {
		const char *s = rest[0];
		for (char *const *a = rest; *a && (*a)[0] == '-'; a++)
			s = a[1];
		if (is(s, "drop"))
			set(ci, CMD_WIPE, "dbmate drop drops the database");
		else if (is(s, "up") || is(s, "migrate") || is(s, "rollback") || is(s, "down") || is(s, "load"))
			set(ci, CMD_MIGRATION, "dbmate: migrates the database");
	} else if (is(p, "flyway")) {
		if (any(rest, "clean"))
			set(ci, CMD_WIPE, "flyway clean drops every object");
		else if (any(rest, "migrate") || any(rest, "undo") || any(rest, "baseline") || any(rest, "repair"))
			set(ci, CMD_MIGRATION, "flyway: migrates the database");
	} else if (is(p, "alembic")) {
		if (any(rest, "upgrade") || any(rest, "downgrade") || any(rest, "stamp"))
			set(ci, CMD_MIGRATION, "alembic: migrates the database");
	} else if (in_list(p, test_programs)) {
		set(ci, CMD_TEST, "a test runner");
	} else if (in_list(p, client_programs)) {
		set(ci, CMD_CLIENT, "a database client");
	}
}

/* Look through sudo, env, nice, time, nohup and command to the program. */
static void classify_from(char *const *w, struct command_info *ci, int depth)
{
	if (depth > 8)
		return;
	while (*w) {
		const char *p = base(*w);
		if (is(p, "sudo") || is(p, "doas")) {
			static const char *const valued[] = { "-u", "--user", "-g", "--group", "-C", "--close-from",
			                                      "-D", "--chdir", "-h", "--host", "-p", "--prompt", "-r",
			                                      "--role", "-t", "--type", "-U", "--other-user", "-T",
			                                      "--command-timeout", "-R", "--chroot", NULL };
			w++;
			while (*w && (*w)[0] == '-') {
				if (is(*w, "--")) {
					w++;
					break;
				}
				int n = value_option(w, valued, NULL);
				w += n ? n : 1;
			}
			/* sudo VAR=value command */
			while (*w && strchr(*w, '=') && (*w)[0] != '-' && (*w)[0] != '=')
				w++;
		} else if (is(p, "env")) {
			static const char *const valued[] = { "-u", "--unset", "-C", "--chdir", "-S", "--split-string", NULL };
			w++;
			while (*w) {
				if (is(*w, "--")) {
					w++;
					continue;
				}
				if ((*w)[0] == '-') {
					int n = value_option(w, valued, NULL);
					w += n ? n : 1;
					continue;
				}
				if (!strchr(*w, '=') || (*w)[0] == '=')
					break;
				if (starts(*w, "COMPOSE_PROJECT_NAME="))
					keep(&ci->docker.project, strchr(*w, '=') + 1);
				w++;
			}
		} else if (is(p, "nice") || is(p, "ionice") || is(p, "nohup") || is(p, "time") || is(p, "command") ||
		           is(p, "exec") || is(p, "chronic")) {
			static const char *const valued[] = { "-n", "--adjustment", "-c", "--class", "-o", "--output",
			                                      "-f", "--format", NULL };
			w++;
			while (*w && (*w)[0] == '-') {
				int n = value_option(w, valued, NULL);
				w += n ? n : 1;
			}
		} else {
			break;
		}
	}
	if (*w)
		program(w, ci, depth);
}

/* ---- the configured pattern lists ---- */

static const struct {
	const char *key;
	enum cmd_class cls;
} pattern_lists[] = {
	{ "docker_destructive_commands", CMD_DOCKER_DESTRUCTIVE },
	{ "wipe_commands", CMD_WIPE },
	{ "seed_commands", CMD_SEED },
	{ "migration_commands", CMD_MIGRATION },
	{ "test_commands", CMD_TEST },
	{ "client_commands", CMD_CLIENT },
};

/* The words as typed, and with the program's directory dropped. */
static void patterns(char *const argv[], struct command_info *ci)
{
	struct strbuf as_typed = STRBUF_INIT, bare = STRBUF_INIT;
	for (int i = 0; argv[i]; i++) {
		sb_addf(&as_typed, "%s%s", i ? " " : "", argv[i]);
		sb_addf(&bare, "%s%s", i ? " " : "", i == 0 ? base(argv[i]) : argv[i]);
	}
	for (size_t c = 0; c < sizeof pattern_lists / sizeof *pattern_lists; c++) {
		if (pattern_lists[c].cls <= ci->cls)
			continue;
		for (char **p = config_get_list("safe-run", pattern_lists[c].key); *p; p++)
			if (fnmatch(*p, sb_str(&as_typed), 0) == 0 || fnmatch(*p, sb_str(&bare), 0) == 0) {
				set(ci, pattern_lists[c].cls, "a [safe-run] pattern of the configuration");
				break;
			}
	}
	sb_free(&as_typed);
	sb_free(&bare);
}

void command_classify(char *const argv[], struct command_info *out)
{
	memset(out, 0, sizeof *out);
	out->cls = CMD_OTHER;
	out->why = "no rule matched";
	if (!argv || !argv[0])
		return;
	classify_from(argv, out, 0);
	patterns(argv, out);
}

void command_info_free(struct command_info *ci)
{
	struct docker_cmd *d = &ci->docker;
	free(d->tool);
	free(d->subcommand);
	free(d->project);
	free(d->project_directory);
	free(d->env_file);
	sv_free(&d->files);
	sv_free(&d->profiles);
	sv_free(&d->operands);
	memset(ci, 0, sizeof *ci);
}
