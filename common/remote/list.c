/* list.c — what the remote holds: its objects (rclone lsf) and the
 * metadata of every snapshot (copied in one rclone run into a temporary
 * directory and read there). */
#include "remote/remote.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "model/config.h"
#include "remote/impl.h"
#include "remote/rclone.h"

int remote_open(struct remote **out)
{
	*out = NULL;
	const char *spec = config_get("store", "remote");
	if (!spec || !*spec)
		return DG_NOTHING;
	const char *src = config_source("store", "remote");
	const char *colon = strchr(spec, ':');
	if (!colon || colon == spec || spec[0] == '-' || strpbrk(spec, "\n\r")) {
		error("%s: remote '%s' is not REMOTE:PATH (an rclone remote, as `rclone listremotes` "
		      "shows it, a colon, and a path in it)", src, spec);
		return DG_USAGE;
	}
	struct remote *r = xcalloc(1, sizeof *r);
	size_t n = strlen(spec);
	while (n > (size_t)(colon - spec) + 1 && spec[n - 1] == '/')
		n--;
	r->spec = xstrndup(spec, n);
	r->name = xstrndup(spec, (size_t)(colon - spec));
	r->source = xstrdup(src ? src : "[store] remote");
	*out = r;
	return DG_OK;
}

void remote_close(struct remote *r)
{
	if (!r)
		return;
	free(r->spec);
	free(r->name);
	free(r->source);
	free(r);
}

const char *remote_spec(const struct remote *r)
{
	return r->spec;
}

void remote_listing_free(struct remote_listing *rl)
{
	for (size_t i = 0; i < rl->l.n; i++) {
		free(rl->x[i].object);
		free(rl->x[i].sha256);
		free(rl->x[i].hash_type);
		free(rl->x[i].hash);
	}
	free(rl->x);
	rl->x = NULL;
	snapshot_list_free(&rl->l);
	sv_free(&rl->orphans);
	sv_free(&rl->no_meta);
}

int remote_objects(struct remote *r, struct remote_object **objs, size_t *n, char *err, size_t errlen)
{
	*objs = NULL;
	*n = 0;
	const char *args[] = { "lsf", "--files-only", "--max-depth", "1", "--format", "sp", "--separator", "\t",
	                       r->spec, NULL };
	char *out = NULL;
	int rc = rclone_run(r, args, &out, err, errlen);
	if (rc == DG_NOTHING)
		return DG_OK;   /* no directory yet: nothing pushed */
	if (rc != DG_OK)
		return rc;
	size_t cap = 0;
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (!tab || !tab[1])
			continue;
		*tab = '\0';
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			*objs = xrealloc(*objs, cap * sizeof **objs);
		}
		(*objs)[*n].size = strtoull(line, NULL, 10);
		(*objs)[*n].name = xstrdup(tab + 1);
		(*n)++;
	}
	free(out);
	return DG_OK;
}

void remote_objects_free(struct remote_object *objs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(objs[i].name);
	free(objs);
}

static const struct remote_object *find_object(const struct remote_object *o, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(o[i].name, name) == 0)
			return &o[i];
	return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int remote_is_temp(const char *name)
{
	return name[0] == '.' && strstr(name, ".part-") != NULL;
}

/* The snapshot name a data object stands for ("x.sql.zst.age" -> "x.sql.zst"),
 * or NULL when it is none. */
static char *data_name(const char *obj, const char *dbkey)
{
	if (obj[0] == '.' || ends_with(obj, ".meta"))
		return NULL;
	char *n = ends_with(obj, ".age") ? xstrndup(obj, strlen(obj) - 4) : xstrdup(obj);
	char *key = NULL;
	if (store_parse_name(n, &key, NULL, NULL, NULL) < 0 || (dbkey && strcmp(key, dbkey) != 0)) {
		free(key);
		free(n);
		return NULL;
	}
	free(key);
	return n;
}

char *remote_meta_value(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > k && strncmp(p, key, k) == 0 && p[k] == '=')
			return xstrndup(p + k + 1, n - k - 1);
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* Copy the metadata objects into a new temporary directory (*dir). */
static int fetch_metas(struct remote *r, const char *dbkey, char **dir, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char *templ = xasprintf("%s/dbguard-remote.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(templ)) {
		snprintf(err, errlen, "cannot make a temporary directory '%s': %s", templ, strerror(errno));
		free(templ);
		return DG_NO;
	}
	*dir = templ;
	char *pattern = xasprintf("%s%s*.meta", dbkey ? dbkey : "", dbkey ? "_" : "");
	const char *args[] = { "copy", "--max-depth", "1", "--include", pattern, r->spec, templ, NULL };
	int rc = rclone_run(r, args, NULL, err, errlen);
	free(pattern);
	return rc == DG_NOTHING ? DG_OK : rc;
}

void remote_rmdir(char *dir)
{
	if (!dir)
		return;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *p = path_join(dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

struct pair {
	struct snapshot s;
	struct remote_extra x;
};

static int newest_first(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	if (x->s.when != y->s.when)
		return x->s.when < y->s.when ? 1 : -1;
	return strcmp(y->s.name, x->s.name);
}

static void pair_free(struct pair *p)
{
	free(p->s.name);
	free(p->s.dbkey);
	free(p->s.path);
	free(p->s.meta_path);
	free(p->s.problem);
	store_meta_free(&p->s.meta);
	free(p->x.object);
	free(p->x.sha256);
	free(p->x.hash_type);
	free(p->x.hash);
}

/* Read p's metadata, copied as dir/on, and judge it against the objects on
 * the remote: p->s.good, or p->s.problem says why not. */
static void pair_judge(struct pair *p, const char *dir, const char *on, const struct remote_object *objs,
                       size_t nobj)
{
	char *local = path_join(dir, on), rerr[256];
	char *text = read_file(local, NULL);
	if (!text || store_meta_read(local, &p->s.meta, rerr, sizeof rerr) < 0) {
		p->s.problem = xasprintf("its metadata cannot be used: %s", text ? rerr : "not copied");
	} else {
		p->x.object = remote_meta_value(text, "remote_object");
		char *size = remote_meta_value(text, "remote_size");
		p->x.sha256 = remote_meta_value(text, "remote_sha256");
		char *hash = remote_meta_value(text, "remote_hash"), *enc = remote_meta_value(text, "encryption");
		p->x.encrypted = enc && strcmp(enc, "age") == 0;
		if (hash && strchr(hash, ':')) {
			p->x.hash_type = xstrndup(hash, (size_t)(strchr(hash, ':') - hash));
			p->x.hash = xstrdup(strchr(hash, ':') + 1);
		}
		if (size)
			p->x.size = strtoull(size, NULL, 10);
		free(size);
		free(hash);
		if (!p->x.object || !size || !p->x.sha256 || (enc && !p->x.encrypted) ||
		    strchr(p->x.object, '/')) {
			p->s.problem = xstrdup("its metadata lacks the remote_object, remote_size and "
			                       "remote_sha256 a push records, or names an unknown encryption");
		} else {
			const struct remote_object *o = find_object(objs, nobj, p->x.object);
			p->x.have_object = o != NULL;
			p->x.object_size = o ? o->size : 0;
			if (!o)
				p->s.problem = xasprintf("its data object '%s' is missing", p->x.object);
			else if (o->size != p->x.size)
				p->s.problem = xasprintf("its data object is %llu bytes, the metadata says %llu",
				                         o->size, p->x.size);
			else
				p->s.good = 1;
		}
		free(enc);
	}
	free(text);
	free(local);
}

/* A pair for every metadata object of dbkey (NULL: of any database), its
 * metadata read from dir; less the good ones of another engine than engine
 * (if not NULL).  *np is their number. */
static struct pair *list_pairs(struct remote *r, const char *dbkey, const char *engine, const char *local_store,
                               const struct remote_object *objs, size_t nobj, const char *dir, size_t *np)
{
	struct pair *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < nobj; i++) {
		const char *on = objs[i].name;
		if (!ends_with(on, ".meta") || on[0] == '.')
			continue;
		char *name = xstrndup(on, strlen(on) - 5), *key = NULL;
		time_t when;
		if (store_parse_name(name, &key, &when, NULL, NULL) < 0 || (dbkey && strcmp(key, dbkey) != 0)) {
			free(name);
			free(key);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof *v);
		}
		struct pair *p = &v[n++];
		memset(p, 0, sizeof *p);
		p->s.name = name;
		p->s.dbkey = key;
		p->s.when = when;
		p->s.path = rclone_path(r, name);
		p->s.meta_path = rclone_path(r, on);
		pair_judge(p, dir, on, objs, nobj);
		if (engine && p->s.good && strcmp(p->s.meta.engine, engine) != 0) {
			n--;
			pair_free(p);
			continue;
		}
		char *lp = local_store ? path_join(local_store, name) : NULL;
		char *lm = lp ? xasprintf("%s.meta", lp) : NULL;
		p->s.where = xstrdup(lp && access(lp, F_OK) == 0 && access(lm, F_OK) == 0 ? "local+remote" : "remote");
		free(lp);
		free(lm);
	}
	*np = n;
	return v;
}

/* What lies there without being a listed snapshot: data objects without
 * metadata, and the temporary objects of killed pushes (of dbkey, if not
 * NULL). */
static void list_unlisted(const struct remote_object *objs, size_t nobj, const char *dbkey,
                          struct remote_listing *out)
{
	for (size_t i = 0; i < nobj; i++) {
		const char *on = objs[i].name;
		char *dn = data_name(on, dbkey);
		if (dn) {
			char *meta = xasprintf("%s.meta", dn);
			if (!find_object(objs, nobj, meta)) {
				sv_push(&out->no_meta, on);
				sv_push(&out->orphans, on);
			}
			free(meta);
			free(dn);
		} else if (remote_is_temp(on)) {
			char *key = NULL;
			/* ".<name>.part-…": of this database? */
			char *inner = xstrndup(on + 1, (size_t)(strstr(on, ".part-") - on - 1));
			if (ends_with(inner, ".meta"))
				inner[strlen(inner) - 5] = '\0';
			if (ends_with(inner, ".age"))
				inner[strlen(inner) - 4] = '\0';
			if (!dbkey || (store_parse_name(inner, &key, NULL, NULL, NULL) == 0 && strcmp(key, dbkey) == 0))
				sv_push(&out->orphans, on);
			free(key);
			free(inner);
		}
	}
}

/* The pairs v (freed) into out's two parallel arrays, newest first. */
static void listing_take(struct remote_listing *out, struct pair *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof *v, newest_first);
	out->l.v = xcalloc(n ? n : 1, sizeof *out->l.v);
	out->x = xcalloc(n ? n : 1, sizeof *out->x);
	out->l.n = n;
	for (size_t i = 0; i < n; i++) {
		out->l.v[i] = v[i].s;
		out->x[i] = v[i].x;
	}
	free(v);
}

int remote_list(struct remote *r, const char *dbkey, const char *engine, const char *local_store,
                struct remote_listing *out)
{
	memset(out, 0, sizeof *out);
	char err[600];
	struct remote_object *objs;
	size_t nobj;
	int rc = remote_objects(r, &objs, &nobj, err, sizeof err);
	if (rc != DG_OK) {
		error("%s", err);
		return rc;
	}
	int any_meta = 0;
	for (size_t i = 0; i < nobj && !any_meta; i++)
		any_meta = ends_with(objs[i].name, ".meta") && objs[i].name[0] != '.';
	char *dir = NULL;
	if (any_meta && (rc = fetch_metas(r, dbkey, &dir, err, sizeof err)) != DG_OK) {
		error("%s", err);
		remote_rmdir(dir);
		remote_objects_free(objs, nobj);
		return rc;
	}
	size_t n;
	struct pair *v = list_pairs(r, dbkey, engine, local_store, objs, nobj, dir, &n);
	list_unlisted(objs, nobj, dbkey, out);
	listing_take(out, v, n);
	remote_rmdir(dir);
	remote_objects_free(objs, nobj);
	return DG_OK;
}

long remote_find(const struct remote *r, const struct remote_listing *rl, const char *operand)
{
	const char *name = operand;
	size_t sl = strlen(r->spec);
	if (strncmp(operand, r->spec, sl) == 0 && (operand[sl] == '/' || r->spec[sl - 1] == ':'))
		name = operand + sl + (operand[sl] == '/');
	else if (strchr(name, '/'))
		name = strrchr(name, '/') + 1;
	char *n = xstrdup(name);
	if (ends_with(n, ".meta"))
		n[strlen(n) - 5] = '\0';
	if (ends_with(n, ".age"))
		n[strlen(n) - 4] = '\0';
	long found = -1;
	for (size_t i = 0; i < rl->l.n && found < 0; i++)
		if (strcmp(rl->l.v[i].name, n) == 0)
			found = (long)i;
	free(n);
	return found;
}
