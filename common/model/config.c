/* config.c — layered configuration (see config.h).  The built-in layer is
 * etc/dbguard.conf compiled in, and it is also the schema: a key it does not
 * have is reported as unknown, so a typo never silently loosens the policy. */
#include "model/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

extern const char dbguard_default_config[];

struct entry {
	char *section, *key, *value, *source;
};

static struct entry *entries;
static size_t nentries, centries;
static struct listcache {
	char *section, *key;
	struct strvec items;
} *lists;
static size_t nlists;
static char env_source[160];

static void add_entry(const char *section, const char *key, const char *value, const char *source)
{
	if (nentries == centries) {
		centries = centries ? centries * 2 : 64;
		entries = xrealloc(entries, centries * sizeof *entries);
	}
	entries[nentries++] = (struct entry){ xstrdup(section), xstrdup(key), xstrdup(value), xstrdup(source) };
}

static void clear_all(void)
{
	for (size_t i = 0; i < nentries; i++) {
		free(entries[i].section);
		free(entries[i].key);
		free(entries[i].value);
		free(entries[i].source);
	}
	nentries = 0;
	for (size_t i = 0; i < nlists; i++) {
		free(lists[i].section);
		free(lists[i].key);
		sv_free(&lists[i].items);
	}
	free(lists);
	lists = NULL;
	nlists = 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int known_in_builtin(const char *section, const char *key)
{
	for (size_t i = 0; i < nentries && strcmp(entries[i].source, "built-in") == 0; i++)
		if (strcmp(entries[i].section, section) == 0 && (!key || strcmp(entries[i].key, key) == 0))
			return 1;
	return 0;
}

/* Parse text as one layer; name is used in messages.  Returns error count. */
static int parse_layer(const char *text, const char *name, int builtin)
{
	int errors = 0, lineno = 0;
	char section[64] = "dbguard";
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *raw = xstrndup(p, n);
		p += n + (nl ? 1 : 0);
		lineno++;
		char *line = raw;
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		/* '#' starts a comment at line start or after whitespace. */
		for (char *c = line; *c; c++)
			if (*c == '#' && (c == line || isspace((unsigned char)c[-1]))) {
				*c = '\0';
				break;
			}
		line = trim(line);
		if (!*line) {
			free(raw);
			continue;
		}
		if (*line == '[') {
			char *close = strchr(line, ']');
			if (!close || close[1] || close - line - 1 <= 0 || (size_t)(close - line - 1) >= sizeof section) {
				error("%s:%d: malformed section header '%s'; expected [name]", name, lineno, line);
				errors++;
			} else {
				*close = '\0';
				snprintf(section, sizeof section, "%s", trim(line + 1));
				if (!builtin && !known_in_builtin(section, NULL)) {
					error("%s:%d: unknown section [%s]; known: [dbguard], [db-snap], [store], [safe-run], [portcheck]",
					      name, lineno, section);
					errors++;
				}
			}
			free(raw);
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq) {
			error("%s:%d: expected 'key = value', got '%s'", name, lineno, line);
			errors++;
			free(raw);
			continue;
		}
		*eq = '\0';
		char *key = trim(line), *value = trim(eq + 1);
		if (!*key) {
			error("%s:%d: missing key before '='", name, lineno);
			errors++;
		} else if (!builtin && !known_in_builtin(section, key)) {
			warn("%s:%d: unknown key '%s' in [%s]; ignored", name, lineno, key, section);
		} else {
			char *src = xasprintf("%s:%d", name, lineno);
			add_entry(section, key, value, builtin ? "built-in" : src);
			free(src);
		}
		free(raw);
	}
	return errors;
}

static int load_file(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;   /* an absent layer is normal */
	if (st.st_mode & S_IWOTH) {
		error("refusing '%s': it is writable by others; fix with: chmod o-w '%s'", path, path);
		return 1;
	}
	char *text = read_file(path, NULL);
	if (!text) {
		error("cannot read '%s':", path);
		return 1;
	}
	int errors = parse_layer(text, path, 0);
	free(text);
	return errors;
}

int config_load(const char *project_dir)
{
	clear_all();
	int errors = parse_layer(dbguard_default_config, "built-in", 1);
	errors += load_file(SYSCONFDIR "/dbguard/dbguard.conf");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *user = NULL;
	if (xdg && *xdg)
		user = xasprintf("%s/dbguard/dbguard.conf", xdg);
	else if (home && *home)
		user = xasprintf("%s/.config/dbguard/dbguard.conf", home);
	if (user)
		errors += load_file(user);
	free(user);
	if (project_dir) {
		char *proj = path_join(project_dir, ".dbguard.conf");
		errors += load_file(proj);
		free(proj);
	}
	return errors;
}

static const char *env_override(const char *key)
{
	char name[128] = "DBGUARD_";
	size_t i = strlen(name);
	for (const char *k = key; *k && i < sizeof name - 1; k++)
		name[i++] = *k == '-' ? '_' : (char)toupper((unsigned char)*k);
	name[i] = '\0';
	const char *v = getenv(name);
	if (v)
		snprintf(env_source, sizeof env_source, "environment %s", name);
	return v;
}

static const struct entry *find(const char *section, const char *key)
{
	for (size_t i = nentries; i-- > 0;)
		if (strcmp(entries[i].section, section) == 0 && strcmp(entries[i].key, key) == 0)
			return &entries[i];
	return NULL;
}

static const struct entry *lookup(const char *section, const char *key)
{
	const struct entry *e = find(section ? section : "dbguard", key);
	if (!e && section && strcmp(section, "dbguard") != 0)
		e = find("dbguard", key);
	return e;
}

const char *config_get(const char *section, const char *key)
{
	const struct entry *e = lookup(section, key);
	if (e && strcmp(e->source, "command line") == 0)
		return e->value;
	const char *v = env_override(key);
	if (v)
		return v;
	return e ? e->value : NULL;
}

const char *config_source(const char *section, const char *key)
{
	const struct entry *e = lookup(section, key);
	if (e && strcmp(e->source, "command line") == 0)
		return e->source;
	if (env_override(key))
		return env_source;
	return e ? e->source : NULL;
}

int config_get_bool(const char *section, const char *key, int def)
{
	const char *v = config_get(section, key);
	if (!v || !*v)
		return def;
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		return 0;
	warn("%s: '%s' is not yes or no; using %s", config_source(section, key), v, def ? "yes" : "no");
	return def;
}

long config_get_long(const char *section, const char *key, long def)
{
	const char *v = config_get(section, key);
	if (!v || !*v)
		return def;
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || *end || n < 0) {
		warn("%s: '%s' is not a number; using %ld", config_source(section, key), v, def);
		return def;
	}
	return n;
}

static void split_into(struct strvec *sv, const char *value)
{
	char *copy = xstrdup(value);
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *item = trim(tok);
		if (!*item)
			continue;
		int dup = 0;
		for (size_t i = 0; i < sv->n && !dup; i++)
			dup = strcmp(sv->v[i], item) == 0;
		if (!dup)
			sv_push(sv, item);
	}
	free(copy);
}

char **config_get_list(const char *section, const char *key)
{
	const char *sec = section ? section : "dbguard";
	for (size_t i = 0; i < nlists; i++)
		if (strcmp(lists[i].section, sec) == 0 && strcmp(lists[i].key, key) == 0)
			return sv_argv(&lists[i].items);
	lists = xrealloc(lists, (nlists + 1) * sizeof *lists);
	struct listcache *lc = &lists[nlists++];
	lc->section = xstrdup(sec);
	lc->key = xstrdup(key);
	lc->items = (struct strvec)STRVEC_INIT;
	int found = 0;
	for (size_t i = 0; i < nentries; i++)
		if (strcmp(entries[i].section, sec) == 0 && strcmp(entries[i].key, key) == 0) {
			split_into(&lc->items, entries[i].value);
			found = 1;
		}
	if (!found && strcmp(sec, "dbguard") != 0)
		for (size_t i = 0; i < nentries; i++)
			if (strcmp(entries[i].section, "dbguard") == 0 && strcmp(entries[i].key, key) == 0)
				split_into(&lc->items, entries[i].value);
	const char *env = env_override(key);
	if (env)
		split_into(&lc->items, env);
	return sv_argv(&lc->items);
}

void config_set(const char *section, const char *key, const char *value)
{
	add_entry(section ? section : "dbguard", key, value, "command line");
	for (size_t i = 0; i < nlists; i++)
		if (strcmp(lists[i].section, section ? section : "dbguard") == 0 && strcmp(lists[i].key, key) == 0)
			split_into(&lists[i].items, value);
}

char *config_backup_dir(const char *project_dir)
{
	const char *dir = config_get(NULL, "backup_dir");
	if (!dir || !*dir)
		dir = "backups";
	return path_join(project_dir ? project_dir : ".", dir);
}
