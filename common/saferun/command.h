/* command.h — what a command line does to databases, decided from its argv
 * (safe-run(1), "COMMAND CLASSES"): wrappers (sudo, env VAR=…, npx, bundle
 * exec, sail…) are looked through, Docker's global options are skipped with
 * their values, and the subcommand and its flags decide.  The [safe-run]
 * pattern lists of the configuration add to what is built in. */
#ifndef DBGUARD_COMMAND_H
#define DBGUARD_COMMAND_H

#include "base/xalloc.h"

/* Weakest first: a command line gets the strongest class any rule gives. */
enum cmd_class {
	CMD_OTHER, CMD_CLIENT, CMD_TEST, CMD_MIGRATION, CMD_SEED, CMD_WIPE, CMD_DOCKER_DESTRUCTIVE,
};

/* A Docker (or Compose, or Sail) command line as parsed.  Lists are empty
 * and strings NULL when the command line does not set them. */
struct docker_cmd {
	int compose;                /* docker compose, docker-compose, podman-compose or sail */
	char *tool;                 /* "docker", "docker compose", "docker-compose", "sail", "podman"... */
	char *subcommand;           /* "down", "rm", "volume rm", "volume prune", "system prune", ... */
	char *project;              /* -p/--project-name, or COMPOSE_PROJECT_NAME from an env prefix */
	char *project_directory;    /* --project-directory */
	char *env_file;             /* --env-file (the last one) */
	struct strvec files;        /* -f/--file, in order */
	struct strvec profiles;     /* --profile */
	struct strvec operands;     /* the subcommand's operands: volumes, containers or services */
	int remove_volumes;         /* -v/--volumes (down, rm), --volumes (system prune) */
	int all;                    /* -a/--all */
	int force;                  /* -f/--force (rm, prune), -s/--stop (compose rm) */
	int dry_run;                /* compose --dry-run: Compose itself changes nothing */
};

struct command_info {
	enum cmd_class cls;
	const char *why;            /* what decided it, e.g. "docker compose down -v removes volumes" */
	int is_docker;              /* docker below is filled in */
	struct docker_cmd docker;
};

/* Classify argv (NULL-terminated).  Built-in rules first, then the
 * configuration's pattern lists (config_load must have run); the strongest
 * class wins.  Free with command_info_free. */
void command_classify(char *const argv[], struct command_info *out);
void command_info_free(struct command_info *ci);

/* "other", "client", "test", "migration", "seed", "wipe", "destructive-docker". */
const char *cmd_class_name(enum cmd_class c);
/* Migration, seed, wipe and destructive Docker: a run worth an undo hint. */
int cmd_class_destructive(enum cmd_class c);

#endif
