/* sqlite.c — SQLite for a rehearsal: sqlite_master and the table-valued
 * pragmas read into an inventory, the SQL dialect of the shared queries,
 * and copies made beside the file with the online backup API (a
 * consistent copy even while another connection writes). */
#include "rehearse/impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"

#define LITE_TABLES "(SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'" \
	" AND name <> 'dbguard_marker' ORDER BY name)"

static int lite_schema(struct dbconn *c, struct rh_inventory *inv, char *err, size_t errlen)
{
	static const char columns_sql[] =
		"SELECT group_concat(m.name || char(31) || p.name || char(31) || p.type || char(31) || p.\"notnull\""
		" || char(31) || p.pk, char(30)) FROM " LITE_TABLES " m, pragma_table_info(m.name) p";
	static const char fk_sql[] =
		"SELECT group_concat(name || char(31) || id || char(31) || cols || char(31) || tab || char(31) || tos"
		" || char(31) || on_delete, char(30)) FROM (SELECT m.name AS name, f.id AS id,"
		" group_concat(f.\"from\", ',') AS cols, f.\"table\" AS tab, group_concat(coalesce(f.\"to\", ''), ',') AS tos,"
		" f.on_delete AS on_delete FROM " LITE_TABLES " m, pragma_foreign_key_list(m.name) f"
		" GROUP BY m.name, f.id)";
	static const char unique_sql[] =
		"SELECT group_concat(name || char(31) || idx || char(31) || cols, char(30)) FROM"
		" (SELECT m.name AS name, l.name AS idx, (SELECT group_concat(i.name, ',') FROM pragma_index_info(l.name) i)"
		" AS cols FROM " LITE_TABLES " m, pragma_index_list(m.name) l WHERE l.\"unique\" AND l.origin <> 'pk')";
	struct strvec rows = STRVEC_INIT;
	int rc = rh_rows_of(c, "SELECT group_concat(name, char(30)) FROM " LITE_TABLES, &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		char *ref = db_quote_ident(c, rows.v[i]);
		rh_table_add(inv, rows.v[i], ref);
		free(ref);
	}
	sv_free(&rows);
	if (rc == 0)
		rc = rh_rows_of(c, columns_sql, &rows, err, errlen);
	/* The primary key's columns in their order: pk is the 1-based position. */
	for (int pos = 0; rc == 0 && pos <= 16; pos++) {
		for (size_t i = 0; i < rows.n; i++) {
			struct strvec f = STRVEC_INIT;
			rh_split(rows.v[i], RH_FS, &f);
			struct rh_table *t = f.n == 5 ? rh_table_find(inv, f.v[0]) : NULL;
			if (t && pos == 0)
				rh_column_add(t, f.v[1], *f.v[2] ? f.v[2] : "(none)", !strcmp(f.v[3], "1"));
			else if (t && atoi(f.v[4]) == pos)
				rh_pk_add(t, f.v[1]);
			sv_free(&f);
		}
	}
	sv_free(&rows);
	for (size_t i = 0; i < inv->n; i++) {
		struct rh_table *t = &inv->t[i];
		if (!t->npk)
			continue;
		struct strbuf def = STRBUF_INIT;
		sb_adds(&def, "PRIMARY KEY (");
		for (size_t k = 0; k < t->npk; k++)
			sb_addf(&def, "%s%s", k ? "," : "", t->pk[k]);
		sb_addc(&def, ')');
		rh_constraint_add(t, 'p', "primary key", sb_str(&def), NULL, 0);
		sb_free(&def);
	}
	if (rc == 0)
		rc = rh_rows_of(c, fk_sql, &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		struct strvec f = STRVEC_INIT;
		rh_split(rows.v[i], RH_FS, &f);
		struct rh_table *t = f.n == 6 ? rh_table_find(inv, f.v[0]) : NULL;
		if (t) {
			char *name = xasprintf("foreign key %s", f.v[1]);
			char *def = xasprintf("FOREIGN KEY (%s) REFERENCES %s(%s) ON DELETE %s", f.v[2], f.v[3], f.v[4], f.v[5]);
			rh_constraint_add(t, 'f', name, def, f.v[3], !strcmp(f.v[5], "CASCADE"));
			free(name);
			free(def);
		}
		sv_free(&f);
	}
	sv_free(&rows);
	if (rc == 0)
		rc = rh_rows_of(c, unique_sql, &rows, err, errlen);
	for (size_t i = 0; rc == 0 && i < rows.n; i++) {
		struct strvec f = STRVEC_INIT;
		rh_split(rows.v[i], RH_FS, &f);
		struct rh_table *t = f.n == 3 ? rh_table_find(inv, f.v[0]) : NULL;
		if (t) {
			char *def = xasprintf("UNIQUE (%s)", f.v[2]);
			rh_constraint_add(t, 'u', f.v[1], def, NULL, 0);
			free(def);
		}
		sv_free(&f);
	}
	sv_free(&rows);
	return rc;
}

static char *lite_concat(char *const *exprs, size_t n, int sep)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addf(&sb, " || char(%d) || ", sep);
		sb_addf(&sb, "(%s)", exprs[i]);
	}
	return sb_detach(&sb);
}

static char *lite_agg(const char *expr)
{
	return xasprintf("group_concat(%s, char(30))", expr);
}

static char *lite_text(const char *col)
{
	return xasprintf("coalesce(CAST(x.%s AS TEXT), char(2))", col);
}

static int lite_copy(const struct target *t, struct dbconn *s, const char *copy, const char **how, char *err, size_t errlen)
{
	(void)s;
	const char *orig = target_get(t, TF_DATABASE);
	struct stat st;
	if (stat(orig, &st) < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", orig, strerror(errno));
		return DG_UNREACHABLE;
	}
	int fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", copy, strerror(errno));
		return DG_NO;
	}
	close(fd);
	sqlite3 *src = NULL, *dst = NULL;
	int rc = sqlite3_open_v2(orig, &src, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(copy, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(src, 5000);
		sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
		if (!b) {
			rc = sqlite3_errcode(dst);
		} else {
			do
				rc = sqlite3_backup_step(b, -1);
			while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
			sqlite3_backup_finish(b);
			rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		}
	}
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "cannot copy '%s' to '%s': %s", orig, copy,
		         dst ? sqlite3_errmsg(dst) : src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
	sqlite3_close(src);
	sqlite3_close(dst);
	if (rc != SQLITE_OK) {
		unlink(copy);
		return DG_NO;
	}
	*how = "backup";
	return DG_OK;
}

static int lite_drop(const struct target *t, struct dbconn *s, const char *copy, char *err, size_t errlen)
{
	(void)t;
	(void)s;
	static const char *const suffixes[] = { "-wal", "-shm", "-journal", "" };
	int rc = 0;
	for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
		char *p = xasprintf("%s%s", copy, suffixes[i]);
		if (unlink(p) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove '%s': %s", p, strerror(errno));
			rc = -1;
		}
		free(p);
	}
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static int lite_list(const struct target *t, struct dbconn *s, struct strvec *out, char *err, size_t errlen)
{
	(void)s;
	char *dir = path_dir(target_get(t, TF_DATABASE));
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot read the directory '%s': %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strstr(e->d_name, RH_MARK) && !ends_with(e->d_name, "-wal") && !ends_with(e->d_name, "-shm") &&
		    !ends_with(e->d_name, "-journal"))
			sv_push_owned(out, path_join(dir, e->d_name));
	closedir(d);
	free(dir);
	return 0;
}

const struct rh_engine rh_sqlite = {
	.name = "sqlite",
	.schema = lite_schema,
	.concat = lite_concat,
	.agg = lite_agg,
	.text = lite_text,
	.row_hash = NULL,
	.begin = "BEGIN",
	.end = "COMMIT",
	.copy = lite_copy,
	.drop = lite_drop,
	.list = lite_list,
};
