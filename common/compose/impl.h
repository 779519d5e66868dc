/* impl.h — what the files of compose/ share (private to compose/): the tree
 * of YAML nodes, the files read, and the helpers that walk them. */
#ifndef DBGUARD_COMPOSE_IMPL_H
#define DBGUARD_COMPOSE_IMPL_H

#include <stddef.h>

#include "compose/compose.h"
#include "model/interpolate.h"

enum { N_SCALAR, N_SEQ, N_MAP, N_ALIAS };

struct cfile;

struct node {
	int kind;
	int style;            /* yaml_scalar_style_t */
	int open;             /* container still being read: an alias to it is recursive */
	char *tag;
	char *value;          /* scalar text; anchor name for an alias */
	struct cfile *file;
	int line, col;        /* 1-based */
	long off, len;        /* bytes of the scalar's text in the file when they are its value; off -1 otherwise */
	struct node **kids;   /* a mapping holds key, value, key, value ... */
	size_t n, cap;
	struct node *target;  /* alias */
};

struct cfile {
	char *path;
	char *text;
	size_t len;
	size_t *lines;        /* byte offset where each line starts */
	size_t nlines;
	struct node **docs;   /* flattened documents */
	size_t ndocs;
};

struct priv {
	struct node **arena;
	size_t narena, carena;
	struct cfile **files;
	size_t nfiles;
	struct interp ip;
	int errors;
};

struct ctx {
	struct compose_project *p;
	struct priv *pv;
};

/* family.c: the family of an image name (by the [portcheck] images_* lists) or of a
 * dbguard.role label value; *engine gets the fragment or role that matched
 * (static or owned by the configuration). */
enum db_family compose_family(const char *image, const char *role, const char **engine);

/* yaml.c */
void node_push(struct node *parent, struct node *kid);
struct node *node_copy(struct priv *pv, const struct node *n);
int node_is_null(const struct node *n);
int node_has_tag(const struct node *n, const char *tag);
struct node *node_get(const struct node *m, const char *key);
const char *node_kind(const struct node *n);
struct cfile *cfile_get(struct priv *pv, const char *path, int *err);

/* merge.c */
struct node *compose_merge(struct priv *pv, struct node *base, struct node *over, const char *key);
struct node *compose_services(struct ctx *c, struct node *root);
struct node *compose_extends(struct ctx *c, struct cfile *f, struct node *services, const char *name,
                             struct node *at, int depth);

/* value.c */
void compose_fail(struct ctx *c, const struct node *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
char *node_value_r(struct ctx *c, const struct node *n, const char *what, struct interp_result *r);
char *node_value(struct ctx *c, const struct node *n, const char *what);
int value_is_true(const char *s);

/* ports.c */
void cport_free(struct cport *pt);
void compose_read_ports(struct ctx *c, struct cservice *s, struct node *ports);

/* service.c */
void compose_read_service(struct ctx *c, struct node *key, struct node *svc);
void compose_read_top_volumes(struct ctx *c, struct node *vols);

#endif
