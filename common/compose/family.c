/* family.c — which services are databases: the family of an image name by the
 * [portcheck] images_* lists, or of a dbguard.role label. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose/impl.h"
#include "model/config.h"

static const char *const family_names[DBF_COUNT] = { "", "postgres", "mysql", "redis", "questdb", "qdrant", "other", "admin" };

const char *db_family_name(enum db_family f)
{
	return f >= 0 && f < DBF_COUNT ? family_names[f] : "";
}

static int list_match(char **list, const char *s, const char **engine)
{
	for (; list && *list; list++)
		if (**list && strstr(s, *list)) {
			*engine = *list;
			return 1;
		}
	return 0;
}

enum db_family compose_family(const char *image, const char *role, const char **engine)
{
	static const enum db_family order[] = { DBF_ADMIN, DBF_QUESTDB, DBF_QDRANT, DBF_POSTGRES, DBF_MYSQL, DBF_REDIS, DBF_OTHER };
	*engine = NULL;
	if (role && *role) {
		if (!strcasecmp(role, "none") || !strcasecmp(role, "ignore"))
			return DBF_NONE;
		for (int f = DBF_POSTGRES; f < DBF_COUNT; f++)
			if (!strcasecmp(role, family_names[f])) {
				*engine = family_names[f];
				return (enum db_family)f;
			}
		for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
			char key[32];
			snprintf(key, sizeof key, "images_%s", family_names[order[i]]);
			for (char **l = config_get_list("portcheck", key); *l; l++)
				if (!strcasecmp(role, *l)) {
					*engine = *l;
					return order[i];
				}
		}
		*engine = "database";
		return DBF_OTHER;
	}
	if (!image || !*image)
		return DBF_NONE;
	/* registry/path/name:tag@digest -> name, lower case */
	char *name = xstrdup(image);
	char *at = strchr(name, '@');
	if (at)
		*at = '\0';
	char *slash = strrchr(name, '/');
	char *base = slash ? slash + 1 : name;
	char *colon = strchr(base, ':');
	if (colon)
		*colon = '\0';
	for (char *p = base; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t order_n = sizeof order / sizeof *order;
	enum db_family found = DBF_NONE;
	/* postgres-exporter, mysqld-exporter...: metrics about a database, not one. */
	if (strstr(base, "exporter"))
		order_n = 0;
	for (size_t i = 0; i < order_n && found == DBF_NONE; i++) {
		char key[32];
		snprintf(key, sizeof key, "images_%s", family_names[order[i]]);
		if (list_match(config_get_list("portcheck", key), base, engine))
			found = order[i];
	}
	free(name);
	return found;
}
