/* list.c — listing the snapshots in the store and printing the listing
 * (see store.h). */
#include "store/list.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "store/impl.h"
#include "store/name.h"

/* ---- listing ---- */

static void snapshot_free(struct snapshot *s)
{
	free(s->path);
	free(s->meta_path);
	free(s->name);
	free(s->dbkey);
	free(s->problem);
	free(s->where);
	store_meta_free(&s->meta);
}

void snapshot_list_free(struct snapshot_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		snapshot_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct snapshot *x = a, *y = b;
	if (x->when != y->when)
		return x->when < y->when ? 1 : -1;
	return strcmp(y->name, x->name);
}

/* Parse name for listing: with dbkey, only that database's names. */
static int list_name(const char *name, const char *dbkey, char **key, time_t *when)
{
	if (!dbkey)
		return store_parse_name(name, key, when, NULL, NULL);
	size_t stem, k = strlen(dbkey);
	if (name[0] == '.' || !store_name_ext(name, &stem) || strncmp(name, dbkey, k) != 0 ||
	    store_name_at(name, stem, k, when, NULL) < 0)
		return -1;
	*key = xstrdup(dbkey);
	return 0;
}

void store_list(const char *dir, const char *dbkey, struct snapshot_list *out)
{
	out->v = NULL;
	out->n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *key;
		time_t when;
		if (list_name(de->d_name, dbkey, &key, &when) < 0)
			continue;
		char *path = path_join(dir, de->d_name);
		char *meta_path = xasprintf("%s.meta", path);
		struct stat st;
		/* A data file without metadata is half a snapshot: one being
		 * committed right now, or debris of a killed run that the next
		 * db-snap or db-restore removes; never a snapshot to list. */
		int orphan = !store_file_exists(meta_path) && errno == ENOENT;
		free(meta_path);
		if (orphan || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			free(key);
			continue;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 32;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		struct snapshot *s = &out->v[out->n++];
		memset(s, 0, sizeof *s);
		s->path = path;
		s->meta_path = xasprintf("%s.meta", path);
		s->name = xstrdup(de->d_name);
		s->dbkey = key;
		s->when = when;
		char err[256];
		if (store_meta_read(s->meta_path, &s->meta, err, sizeof err) < 0) {
			s->problem = xstrdup(err);
		} else if ((unsigned long long)st.st_size != s->meta.size) {
			s->problem = xasprintf("its size is %llu bytes, the metadata says %llu",
			                       (unsigned long long)st.st_size, s->meta.size);
		} else {
			s->good = 1;
		}
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof *out->v, newest_first);
}

void store_list_target(const char *dir, const struct target *t, struct snapshot_list *out)
{
	char *key = store_dbkey(t);
	store_list(dir, key, out);
	free(key);
	const char *engine = target_get(t, TF_ENGINE);
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (engine && out->v[i].good && strcmp(out->v[i].meta.engine, engine) != 0)
			snapshot_free(&out->v[i]);
		else
			out->v[k++] = out->v[i];
	}
	out->n = k;
}

const struct snapshot *store_latest(const struct snapshot_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].good)
			return &l->v[i];
	return NULL;
}

/* ---- listing output ---- */

static const char *orempty(const char *s) { return s ? s : ""; }

static void print_tsv(FILE *f, const struct snapshot_list *l)
{
	int where = l->n && l->v[0].where;
	fputs("path\tdatabase\tengine\tcreated\tlabel\tsize\traw_bytes\tcompression\ttables\trows"
	      "\tstatus\treason\tproblem\tkind", f);
	fputs(where ? "\twhere\n" : "\n", f);
	for (size_t i = 0; i < l->n; i++) {
		const struct snapshot *s = &l->v[i];
		char created[32];
		store_format_time(s->when, created);
		tsv_field(f, s->path);
		putc('\t', f);
		tsv_field(f, s->dbkey);
		putc('\t', f);
		tsv_field(f, s->meta.engine);
		fprintf(f, "\t%s\t", created);
		tsv_field(f, s->meta.label);
		if (s->good)
			fprintf(f, "\t%llu\t%llu\t%s\t%zu\t%lld\tgood\t", s->meta.size, s->meta.raw_bytes,
			        s->meta.compression, s->meta.tables.n, s->meta.rows);
		else
			fputs("\t\t\t\t\t\tbad\t", f);
		tsv_field(f, s->meta.reason);
		putc('\t', f);
		tsv_field(f, s->problem);
		fprintf(f, "\t%s", s->good ? store_meta_kind(&s->meta) : "");
		if (where) {
			putc('\t', f);
			tsv_field(f, s->where);
		}
		putc('\n', f);
	}
}

static void json_kv(FILE *f, const char *key, const char *value)
{
	fprintf(f, ",\"%s\":", key);
	json_string(f, value);
}

static void print_json(FILE *f, const struct snapshot_list *l)
{
	putc('[', f);
	for (size_t i = 0; i < l->n; i++) {
		const struct snapshot *s = &l->v[i];
		const struct snapshot_meta *m = &s->meta;
		char created[32];
		store_format_time(s->when, created);
		fprintf(f, "%s{\"path\":", i ? "," : "");
		json_string(f, s->path);
		json_kv(f, "name", s->name);
		json_kv(f, "database_key", s->dbkey);
		fprintf(f, ",\"good\":%s", s->good ? "true" : "false");
		json_kv(f, "problem", s->problem);
		json_kv(f, "created", created);
		if (s->where)
			json_kv(f, "where", s->where);
		if (s->good) {
			json_kv(f, "engine", m->engine);
			json_kv(f, "server_version", m->server_version);
			json_kv(f, "database", m->database);
			json_kv(f, "host", m->host && *m->host ? m->host : NULL);
			if (m->port)
				fprintf(f, ",\"port\":%d", m->port);
			else
				fputs(",\"port\":null", f);
			json_kv(f, "label", m->label && *m->label ? m->label : NULL);
			json_kv(f, "reason", m->reason && *m->reason ? m->reason : NULL);
			json_kv(f, "kind", store_meta_kind(m));
			if (store_meta_is_clone(m)) {
				json_kv(f, "clone", m->clone);
				fprintf(f, ",\"clone_bytes\":%llu", m->clone_bytes);
			}
			json_kv(f, "compression", m->compression);
			fprintf(f, ",\"size\":%llu,\"raw_bytes\":%llu", m->size, m->raw_bytes);
			json_kv(f, "sha256", m->sha256);
			json_kv(f, "dbguard_version", m->dbguard_version);
			fprintf(f, ",\"tables\":%zu,\"rows\":%lld,\"counts\":{", m->tables.n, m->rows);
			for (size_t t = 0; t < m->tables.n; t++) {
				if (t)
					putc(',', f);
				json_string(f, m->tables.v[t].name);
				fprintf(f, ":%lld", m->tables.v[t].rows);
			}
			putc('}', f);
		}
		putc('}', f);
	}
	fputs("]\n", f);
}

static void print_human(FILE *f, const struct snapshot_list *l, int with_db)
{
	/* People read the table: paths below the current directory are
	 * shown relative to it. */
	char cwd[4096];
	size_t cl = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
	size_t n = l->n;
	enum { NC = 9 };
	int where = n && l->v[0].where;
	char **cell = xcalloc(n * NC + NC, sizeof *cell);
	const char *head[NC] = { "CREATED (UTC)", "DATABASE", "LABEL", "KIND", "SIZE", "ROWS", "SNAPSHOT",
	                         "WHERE", "REASON" };
	size_t w[NC] = { 0 };
	for (int c = 0; c < NC; c++) {
		cell[c] = xstrdup(head[c]);
		w[c] = strlen(head[c]);
	}
	for (size_t i = 0; i < n; i++) {
		const struct snapshot *s = &l->v[i];
		char **row = cell + (i + 1) * NC, size[32];
		struct tm tm;
		char created[32];
		strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S", gmtime_r(&s->when, &tm));
		row[0] = xstrdup(created);
		row[1] = xstrdup(s->dbkey);
		row[2] = xescape(s->meta.label && *s->meta.label ? s->meta.label : "-");
		row[3] = xstrdup(s->good ? store_meta_kind(&s->meta) : "-");
		/* A clone's size is the database's in the server, not its file's. */
		row[4] = xstrdup(s->good ? human_bytes(store_meta_is_clone(&s->meta) ? s->meta.clone_bytes
		                                        : s->meta.size, size, sizeof size) : "-");
		row[5] = s->good ? xasprintf("%lld", s->meta.rows) : xstrdup("-");
		const char *shown = s->path;
		if (cl > 1 && strncmp(shown, cwd, cl) == 0 && shown[cl] == '/')
			shown += cl + 1;
		/* The table goes to a terminal: names and reasons escaped. */
		row[6] = xescape(shown);
		row[7] = xescape(orempty(s->where));
		if (s->good) {
			row[8] = xescape(orempty(s->meta.reason));
		} else {
			char *why = xescape(s->problem);
			row[8] = xasprintf("NOT GOOD: %s", why);
			free(why);
		}
		for (int c = 0; c < NC; c++)
			if (strlen(row[c]) > w[c])
				w[c] = strlen(row[c]);
	}
	for (size_t i = 0; i <= n; i++) {
		char **row = cell + i * NC;
		struct strbuf sb = STRBUF_INIT;
		for (int c = 0; c < NC; c++) {
			if ((c == 1 && !with_db) || (c == 7 && !where))
				continue;
			if (c == NC - 1) {
				sb_adds(&sb, row[c]);
				break;
			}
			/* SIZE and ROWS are numbers: right-aligned. */
			if (c == 4 || c == 5)
				sb_addf(&sb, "%*s  ", (int)w[c], row[c]);
			else
				sb_addf(&sb, "%-*s  ", (int)w[c], row[c]);
		}
		while (sb.len && sb.buf[sb.len - 1] == ' ')
			sb.buf[--sb.len] = '\0';
		fprintf(f, "%s\n", sb_str(&sb));
		sb_free(&sb);
	}
	for (size_t i = 0; i < n * NC + NC; i++)
		free(cell[i]);
	free(cell);
}

void store_print_list(FILE *f, const struct snapshot_list *l, enum out_format fmt, int with_db)
{
	if (fmt == FMT_TSV)
		print_tsv(f, l);
	else if (fmt == FMT_JSON)
		print_json(f, l);
	else
		print_human(f, l, with_db);
}

char *store_find(const char *dir, const char *arg)
{
	size_t n = strlen(arg);
	char *p = n > 5 && strcmp(arg + n - 5, ".meta") == 0 ? xstrndup(arg, n - 5) : xstrdup(arg);
	if (!store_file_exists(p) && !strchr(p, '/')) {
		char *in_store = path_join(dir, p);
		if (store_file_exists(in_store)) {
			free(p);
			return in_store;
		}
		free(in_store);
	}
	return p;
}

void store_show_list(const struct snapshot_list *l, enum out_format fmt, int with_db, const char *of,
                     const char *dir)
{
	if (l->n == 0 && fmt == FMT_HUMAN)
		info("no snapshots%s%s%s in '%s'", of ? " of '" : "", of ? of : "", of ? "'" : "", dir);
	else
		store_print_list(stdout, l, fmt, with_db);
}
