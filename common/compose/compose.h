/* compose.h — compose files read as docker compose reads them: discovery,
 * libyaml parsing with anchors, aliases and merge keys, several files merged
 * in order (!reset, !override), extends, interpolation; then the model
 * portcheck needs (services, ports with the exact bytes of their host-port
 * text, volumes, restart, healthcheck).  Alias bombs, deep nesting and huge
 * files are refused before anything is expanded. */
#ifndef DBGUARD_COMPOSE_H
#define DBGUARD_COMPOSE_H

#include <stddef.h>

#include "base/xalloc.h"

#define COMPOSE_MAX_BYTES (4L << 20)   /* per file */
#define COMPOSE_MAX_NODES 100000L      /* per document, aliases expanded */
#define COMPOSE_MAX_DEPTH 64           /* nesting, aliases expanded */

/* Database families; each has a port block (block_<name>) and an image
 * list (images_<name>) in the [portcheck] configuration. */
enum db_family { DBF_NONE, DBF_POSTGRES, DBF_MYSQL, DBF_REDIS, DBF_QUESTDB, DBF_QDRANT, DBF_OTHER, DBF_ADMIN };
#define DBF_COUNT (DBF_ADMIN + 1)
const char *db_family_name(enum db_family f);   /* "postgres", ..., "admin"; "" for none */

/* Bytes [off, off+len) of path hold a host port's text: a compose file, or a
 * .env file when the port comes from a variable (var names it). */
struct csite {
	const char *path;
	int line, col;
	long off, len;
	const char *var;
	char text[24];        /* the bytes there when read, to check before rewriting */
};

struct cport {
	const char *file;     /* where the entry is written */
	int line;
	char *text;           /* the entry after interpolation, for messages */
	char *host_ip;        /* "" = every interface */
	int pub_lo, pub_hi;   /* host ports; 0 when none is published (random port) */
	int tgt_lo, tgt_hi;   /* container ports */
	char proto[8];        /* tcp, udp, sctp */
	char *mode, *name;    /* long syntax, or NULL */
	int pub_is_range;     /* host port written as LO-HI */
	struct csite *sites;  /* every place this binding's host port is written */
	size_t nsites;
	char *noedit;         /* why the host port cannot be rewritten in place, or NULL */
	const char *var;      /* the variable the host port came from, or NULL */
	const char *env_file; /* its .env file and line, when it came from there */
	int env_line;
	int from_environment; /* ... or the process environment */
};

struct cmount {
	char *type;           /* volume, bind, tmpfs, npipe, image, cluster */
	char *source;         /* NULL for an anonymous volume or tmpfs */
	char *target;
	const char *file;
	int line;
};

struct cservice {
	char *name;
	const char *file;
	int line;
	char *image;          /* NULL when the service only builds */
	char *role;           /* the dbguard.role label */
	enum db_family family;
	char *engine;         /* what made it a database: image fragment or role */
	struct strvec profiles;
	struct strvec environment;   /* KEY=value */
	char *restart;        /* NULL when absent */
	int healthcheck;      /* 0 absent, 1 present, -1 disabled */
	struct cmount *mounts;
	size_t nmounts;
	struct cport *ports;
	size_t nports;
};

struct cvolume {
	char *name;
	const char *file;
	int line;
	int external;
	char *fixed_name;     /* name: */
};

struct compose_project {
	char *dir;                  /* project directory: that of the first file */
	struct strvec files;        /* the compose files, in order */
	struct strvec extends_files;/* other files read through extends */
	char *env_path;             /* <dir>/.env, whether or not it exists */
	struct cservice *services;
	size_t nservices;
	struct cvolume *volumes;
	size_t nvolumes;
	int warnings;               /* unset variables and the like */
	void *priv;
};

/* The compose files, as docker compose finds them: the given ones (-f, in
 * order), else COMPOSE_FILE (environment, then ./.env; separated by
 * COMPOSE_PATH_SEPARATOR or ':'), else compose.yaml, compose.yml,
 * docker-compose.yml or docker-compose.yaml here or in the nearest parent
 * holding one, plus the first compose.override.yml, compose.override.yaml,
 * docker-compose.override.yml or docker-compose.override.yaml beside it.
 * 0; DG_NOTHING when none is found; DG_USAGE when a named file is missing
 * (both reported unless quiet). */
int compose_find(char *const *given, size_t ngiven, struct strvec *files, int quiet);

/* Read, merge and interpret files.  0, or DG_USAGE after reporting every
 * problem as "FILE:LINE: what". */
int compose_load(struct compose_project *p, const struct strvec *files);
void compose_free(struct compose_project *p);

#endif
