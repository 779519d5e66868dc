/* name.c — snapshot names (see store.h): the <database> key of a target,
 * building and parsing "<database>_<time>[_<label>].<ext>", and the UTC
 * times in names and metadata. */
#include "store/name.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/io.h"
#include "base/xalloc.h"
#include "store/impl.h"

/* Longest first: "x.sqlite.zst" must not be taken for "x.sqlite" + ".zst". */
static const char *const exts[] = { "sqlite.zst", "sqlite.gz", "sql.zst", "sql.gz", "tar.zst", "tar.gz",
                                     "pgclone", "sqlite", "sql", "tar", NULL };

static char *sanitize(const char *s)
{
	char *r = xstrdup(s ? s : "");
	for (char *p = r; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			*p = '-';
	}
	if (r[0] == '.')
		r[0] = '-';
	return r;
}

char *store_dbkey(const struct target *t)
{
	const char *db = target_get(t, TF_DATABASE);
	const char *engine = target_get(t, TF_ENGINE);
	if (!db || !*db)
		return xstrdup("db");
	if (engine && strcmp(engine, "sqlite") == 0) {
		char *base = path_base(db);
		char *dot = strrchr(base, '.');
		if (dot && dot != base)
			*dot = '\0';
		char *k = sanitize(*base ? base : "db");
		free(base);
		return k;
	}
	return sanitize(db);
}

char *store_snapshot_name(const char *dbkey, time_t when, const char *label, const char *ext)
{
	char ts[TS_LEN + 1];
	struct tm tm;
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", gmtime_r(&when, &tm));
	char *k = sanitize(dbkey);
	char *l = label && *label ? sanitize(label) : NULL;
	if (ext[0] == '.')
		ext++;
	char *name = xasprintf("%s_%s%s%s.%s", k, ts, l ? "_" : "", l ? l : "", ext);
	free(k);
	free(l);
	return name;
}

int store_digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int make_time(int y, int mo, int d, int h, int mi, int s, time_t *out)
{
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
	                 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	*out = timegm(&tm);
	return 0;
}

/* "YYYYMMDDTHHMMSSZ" at s -> time; 0 or -1. */
int store_parse_stamp(const char *s, time_t *out)
{
	if (!store_digits(s, 8) || s[8] != 'T' || !store_digits(s + 9, 6) || s[15] != 'Z')
		return -1;
	return make_time(num(s, 4), num(s + 4, 2), num(s + 6, 2), num(s + 9, 2), num(s + 11, 2),
	                 num(s + 13, 2), out);
}

void store_format_time(time_t t, char buf[32])
{
	struct tm tm;
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

int store_parse_time(const char *s, time_t *out)
{
	if (strlen(s) != 20 || !store_digits(s, 4) || s[4] != '-' || !store_digits(s + 5, 2) || s[7] != '-' ||
	    !store_digits(s + 8, 2) || s[10] != 'T' || !store_digits(s + 11, 2) || s[13] != ':' ||
	    !store_digits(s + 14, 2) || s[16] != ':' || !store_digits(s + 17, 2) || s[19] != 'Z')
		return -1;
	return make_time(num(s, 4), num(s + 5, 2), num(s + 8, 2), num(s + 11, 2), num(s + 14, 2),
	                 num(s + 17, 2), out);
}

const char *store_name_ext(const char *name, size_t *stem)
{
	size_t n = strlen(name);
	for (const char *const *e = exts; *e; e++) {
		size_t k = strlen(*e);
		if (n > k + 1 && name[n - k - 1] == '.' && strcmp(name + n - k, *e) == 0) {
			*stem = n - k - 1;
			return *e;
		}
	}
	return NULL;
}

/* The name with its time at key_len + 1 (after "<dbkey>_"): 0 or -1. */
int store_name_at(const char *name, size_t stem, size_t key_len, time_t *when, char **label)
{
	size_t t = key_len + 1;
	if (key_len == 0 || name[key_len] != '_' || t + TS_LEN > stem || store_parse_stamp(name + t, when) < 0)
		return -1;
	size_t after = t + TS_LEN;
	if (after == stem) {
		if (label)
			*label = NULL;
		return 0;
	}
	if (name[after] != '_' || after + 1 == stem)
		return -1;
	if (label)
		*label = xstrndup(name + after + 1, stem - after - 1);
	return 0;
}

int store_parse_name(const char *name, char **dbkey, time_t *when, char **label, char **ext)
{
	size_t stem;
	const char *e = store_name_ext(name, &stem);
	if (!e || name[0] == '.')
		return -1;
	for (size_t i = 1; i < stem; i++) {
		time_t t;
		if (name[i] != '_' || store_name_at(name, stem, i, &t, label) < 0)
			continue;
		if (dbkey)
			*dbkey = xstrndup(name, i);
		if (when)
			*when = t;
		if (ext)
			*ext = xstrdup(e);
		return 0;
	}
	return -1;
}

char *store_label(const char *label)
{
	if (!label || !*label)
		return NULL;
	/* The name's rules; the metadata records what the name says. */
	char *name = store_snapshot_name("x", 0, label, "sql");
	char *l = NULL;
	store_parse_name(name, NULL, NULL, &l, NULL);
	free(name);
	return l;
}
