/* prune.c — retention: which snapshots a prune policy keeps and why, and
 * removing a snapshot (see store.h). */
#include "store/prune.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "store/impl.h"

/* ---- retention ---- */

static void because(struct strbuf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void because(struct strbuf *why, const char *fmt, ...)
{
	if (why->len)
		sb_adds(why, ", ");
	va_list ap;
	va_start(ap, fmt);
	sb_vaddf(why, fmt, ap);
	va_end(ap);
}

static int same_path(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return 1;
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra && rb && !strcmp(ra, rb);
	free(ra);
	free(rb);
	return same;
}

struct bucket_rule {
	long limit;
	const char *fmt, *name;
	long count;
	char last[32];
};

void store_prune_plan(const struct snapshot_list *l, const struct prune_policy *p,
               time_t now, char **keep)
{
	char *done = xcalloc(l->n ? l->n : 1, 1);
	for (size_t i = 0; i < l->n; i++)
		keep[i] = NULL;
	for (size_t g = 0; g < l->n; g++) {
		if (done[g])
			continue;
		const char *key = l->v[g].dbkey;
		struct bucket_rule rules[4] = {
			{ p->keep_hourly, "%Y-%m-%dT%H", "hourly", 0, "" },
			{ p->keep_daily, "%Y-%m-%d", "daily", 0, "" },
			{ p->keep_weekly, "%G-W%V", "weekly", 0, "" },
			{ p->keep_monthly, "%Y-%m", "monthly", 0, "" },
		};
		long last = 0;
		int newest = 0;
		/* The list is newest first, so the first snapshot met in a period
		 * is that period's newest. */
		for (size_t i = g; i < l->n; i++) {
			const struct snapshot *s = &l->v[i];
			if (done[i] || strcmp(s->dbkey, key) != 0)
				continue;
			done[i] = 1;
			struct strbuf why = STRBUF_INIT;
			if (!s->good) {
				because(&why, "not good: %s", s->problem ? s->problem : "unknown");
				keep[i] = sb_detach(&why);
				continue;
			}
			if (!newest) {
				because(&why, "newest");
				newest = 1;
			}
			if (s->meta.label && *s->meta.label && !p->prune_labelled)
				because(&why, "labelled");
			for (char *const *k = p->keep_paths; k && *k; k++)
				if (same_path(s->path, *k)) {
					because(&why, "undo point");
					break;
				}
			if (p->keep_last >= 0 && last < p->keep_last) {
				last++;
				because(&why, "last %ld", p->keep_last);
			}
			if (p->keep_days >= 0 && now - s->when < (time_t)p->keep_days * 86400)
				because(&why, "within %ld days", p->keep_days);
			struct tm tm;
			gmtime_r(&s->when, &tm);
			for (int r = 0; r < 4; r++) {
				char b[32];
				strftime(b, sizeof b, rules[r].fmt, &tm);
				if (strcmp(b, rules[r].last) == 0)
					continue;
				snprintf(rules[r].last, sizeof rules[r].last, "%s", b);
				if (rules[r].limit > 0 && rules[r].count < rules[r].limit) {
					rules[r].count++;
					because(&why, "%s", rules[r].name);
				}
			}
			keep[i] = why.len ? sb_detach(&why) : NULL;
			sb_free(&why);
		}
	}
	free(done);
}

int store_remove(const struct snapshot *s)
{
	if (unlink(s->path) < 0 && errno != ENOENT)
		return -1;
	if (unlink(s->meta_path) < 0 && errno != ENOENT)
		return -1;
	return fsync_dir_of(s->path);
}

size_t store_prune_with(const struct snapshot_list *l, const struct prune_policy *p, time_t now,
                        int dry_run, FILE *out, int (*remove)(void *arg, const struct snapshot *s),
                        void *arg)
{
	char **keep = xcalloc(l->n ? l->n : 1, sizeof *keep);
	store_prune_plan(l, p, now, keep);
	long clones = 0;
	for (size_t i = 0; p->keep_clones >= 0 && i < l->n; i++) {
		if (!l->v[i].good || !store_meta_is_clone(&l->v[i].meta) || ++clones <= p->keep_clones ||
		    !keep[i] || strstr(keep[i], "newest"))
			continue;
		free(keep[i]);
		keep[i] = NULL;
	}
	size_t gone = 0, failed = 0;
	unsigned long long bytes = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct snapshot *s = &l->v[i];
		if (keep[i]) {
			verbose("keep %s (%s)", s->name, keep[i]);
			continue;
		}
		if (!dry_run && remove && remove(arg, s) < 0) {
			failed++;
			continue;
		}
		if (!dry_run && !remove && store_remove(s) < 0) {
			error("cannot remove '%s':", s->path);
			failed++;
			continue;
		}
		if (out)
			fprintf(out, "%s\n", s->path);
		else
			verbose("removed '%s'", s->path);
		gone++;
		bytes += s->meta.size;
	}
	char b[32];
	(out ? info : verbose)("%s %zu snapshot%s (%s), kept %zu", dry_run ? "would remove" : "removed", gone,
	                       gone == 1 ? "" : "s", human_bytes(bytes, b, sizeof b), l->n - gone - failed);
	for (size_t i = 0; i < l->n; i++)
		free(keep[i]);
	free(keep);
	return failed;
}

void prune_policy_from_config(struct prune_policy *p, const char *section, const char *prefix)
{
	static const char *const suffix[] = { "_days", "_hourly", "_daily", "_weekly", "_monthly" };
	long *field[] = { &p->keep_days, &p->keep_hourly, &p->keep_daily, &p->keep_weekly, &p->keep_monthly };
	*p = (struct prune_policy)PRUNE_POLICY_INIT;
	p->keep_last = config_get_long(section, prefix, 30);
	for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
		char key[64];
		snprintf(key, sizeof key, "%s%s", prefix, suffix[i]);
		*field[i] = config_get_long(section, key, -1);
	}
}
