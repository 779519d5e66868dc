/* phpunit.c — phpunit.xml / phpunit.xml.dist through expat: the
 * <php><env/><server/></php> entries PHPUnit sets before a test suite runs.
 * They are how a Laravel or Symfony suite switches to its test database
 * (DB_CONNECTION=sqlite, DB_DATABASE=:memory:), and they beat every dotenv
 * file because phpdotenv never overwrites a variable that is already set. */
#include "resolve/framework.h"

#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"

struct xml_state {
	XML_Parser parser;
	int depth;
	int in_php;                /* depth 2 element is <php> */
	struct dotenv *forced, *normal;
};

static const char *attr(const XML_Char **atts, const char *name)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

static void add(struct dotenv *d, const char *key, const char *value, int line)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
	d->v[d->n++] = (struct dotenv_entry){ xstrdup(key), xstrdup(value), line, NULL };
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct xml_state *st = ud;
	st->depth++;
	if (st->depth == 2)
		st->in_php = strcmp(name, "php") == 0;
	if (st->depth != 3 || !st->in_php)
		return;
	int is_server = strcmp(name, "server") == 0;
	if (!is_server && strcmp(name, "env") != 0)
		return;
	const char *key = attr(atts, "name"), *value = attr(atts, "value"), *force = attr(atts, "force");
	if (!key || !*key)
		return;
	int line = (int)XML_GetCurrentLineNumber(st->parser);
	/* <server> always lands in $_SERVER, which Laravel reads first; an
	 * <env> is set only when the variable is unset, unless force="true". */
	int forced = is_server || (force && (!strcasecmp(force, "true") || !strcmp(force, "1")));
	add(forced ? st->forced : st->normal, key, value ? value : "", line);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	(void)name;
	struct xml_state *st = ud;
	st->depth--;
}

int phpunit_parse(const char *text, size_t len, const char *path, struct dotenv *forced, struct dotenv *normal,
                  char *err, size_t errlen)
{
	memset(forced, 0, sizeof *forced);
	memset(normal, 0, sizeof *normal);
	forced->path = xstrdup(path);
	normal->path = xstrdup(path);
	XML_Parser p = XML_ParserCreate(NULL);
	if (!p) {
		snprintf(err, errlen, "0: out of memory");
		return -1;
	}
	struct xml_state st = { p, 0, 0, forced, normal };
	XML_SetUserData(p, &st);
	XML_SetElementHandler(p, on_start, on_end);
	int rc = 0;
	while (len > 0 && rc == 0) {
		int chunk = len > (1u << 30) ? 1 << 30 : (int)len;
		if (XML_Parse(p, text, chunk, 0) == XML_STATUS_ERROR)
			rc = -1;
		text += chunk;
		len -= (size_t)chunk;
	}
	if (rc == 0 && XML_Parse(p, text, 0, 1) == XML_STATUS_ERROR)
		rc = -1;
	if (rc < 0)
		snprintf(err, errlen, "%lu: %s", (unsigned long)XML_GetCurrentLineNumber(p),
		         XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	return rc;
}

int phpunit_load(struct run *r, struct dotenv *forced, struct dotenv *normal)
{
	memset(forced, 0, sizeof *forced);
	memset(normal, 0, sizeof *normal);
	/* PHPUnit reads phpunit.xml, and phpunit.xml.dist only when there is none. */
	const char *names[] = { "phpunit.xml", "phpunit.xml.dist" };
	for (int i = 0; i < 2; i++) {
		char *path = run_path(r, names[i]);
		size_t len;
		char *text = read_file(path, &len);
		if (!text) {
			int rc = 0;
			if (errno != ENOENT && errno != ENOTDIR) {
				error("cannot read '%s': %s", path, strerror(errno));
				r->list->config_errors++;
				run_candidate(r, path, "(unreadable)", "cannot be read", 0);
				rc = -1;
			}
			free(path);
			if (rc < 0)
				return -1;
			continue;
		}
		if (!r->test_run) {
			run_candidate(r, path, "", "not a test run: PHPUnit's <env> entries apply only to test runs", 0);
			free(text);
			free(path);
			return 0;
		}
		char err[256];
		int rc = phpunit_parse(text, len, path, forced, normal, err, sizeof err);
		free(text);
		if (rc < 0) {
			error("%s:%s", path, err);
			r->list->config_errors++;
			run_candidate(r, path, "(malformed)", "not well-formed XML: PHPUnit cannot read it either", 0);
			dotenv_free(forced);
			dotenv_free(normal);
			free(path);
			return -1;
		}
		if (i == 0) {
			char *dist = run_path(r, names[1]);
			if (access(dist, F_OK) == 0)
				run_candidate(r, dist, "", "PHPUnit reads phpunit.xml instead", 0);
			free(dist);
		}
		free(path);
		return 1;
	}
	return 0;
}
