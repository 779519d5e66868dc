/* value.c — a node's value as compose sees it: scalars with ${VAR}
 * interpolated (model/interpolate), booleans; errors reported at a node. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/msg.h"
#include "compose/impl.h"

void compose_fail(struct ctx *c, const struct node *at, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (at)
		error("%s:%d: %s", at->file->path, at->line, sb_str(&sb));
	else
		error("%s", sb_str(&sb));
	sb_free(&sb);
	c->pv->errors++;
}

/* A scalar's value with variables interpolated; NULL for null, and NULL
 * after reporting when it is not a scalar or cannot be interpolated. */
char *node_value_r(struct ctx *c, const struct node *n, const char *what, struct interp_result *r)
{
	if (r)
		memset(r, 0, sizeof *r);
	if (node_is_null(n))
		return NULL;
	if (n->kind != N_SCALAR) {
		compose_fail(c, n, "%s must be a scalar, not %s", what, node_kind(n));
		return NULL;
	}
	char *where = xasprintf("%s:%d", n->file->path, n->line);
	struct interp_result tmp;
	struct interp_result *res = r ? r : &tmp;
	int rc = interp_expand(&c->pv->ip, n->value, where, res);
	free(where);
	if (rc < 0) {
		c->pv->errors++;
		return NULL;
	}
	if (r)
		return r->text;
	return res->text ? (free(res->seg), res->text) : NULL;
}

char *node_value(struct ctx *c, const struct node *n, const char *what)
{
	return node_value_r(c, n, what, NULL);
}

int value_is_true(const char *s)
{
	return s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"));
}
