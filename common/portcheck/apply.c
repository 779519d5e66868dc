/* apply.c — apply the plan: rewrite only the port text of each file, after a
 * confirmation, keeping FILE.backup; read the result again and undo it all
 * when a port did not move as planned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/term.h"
#include "base/xalloc.h"
#include "portcheck/impl.h"

struct edit {
	long off, len;
	const char *old;
	char new_[24];
	int line;
};

struct fedit {
	char *path;           /* as named in messages */
	char *real;           /* the file written (a symbolic link's target) */
	char *backup;
	struct edit *e;
	size_t n;
	char *text;
	size_t len;
	struct stat st;
	int backed_up, replaced;
};

/* The file to write for path: itself, or what a symbolic link points at, so
 * the link survives. */
char *path_to_write(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		char *r = realpath(path, NULL);
		if (r)
			return r;
	}
	return xstrdup(path);
}

static int edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static struct fedit *collect_edits(const struct report *r, size_t *nfiles)
{
	struct fedit *fv = NULL;
	size_t nf = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (!w->change || w->manual)
			continue;
		for (size_t k = 0; k < w->p->nsites; k++) {
			const struct csite *s = &w->p->sites[k];
			char *real = path_to_write(s->path);
			size_t f;
			for (f = 0; f < nf && strcmp(fv[f].real, real) != 0; f++)
				;
			if (f == nf) {
				fv = xrealloc(fv, (nf + 1) * sizeof *fv);
				memset(&fv[nf], 0, sizeof *fv);
				fv[nf].path = xstrdup(s->path);
				fv[nf].real = real;
				fv[nf].backup = xasprintf("%s.backup", real);
				nf++;
			} else {
				free(real);
			}
			struct fedit *fe = &fv[f];
			int dup = 0;
			for (size_t j = 0; j < fe->n; j++)
				dup |= fe->e[j].off == s->off;
			if (dup)
				continue;
			fe->e = xrealloc(fe->e, (fe->n + 1) * sizeof *fe->e);
			struct edit *e = &fe->e[fe->n++];
			e->off = s->off;
			e->len = s->len;
			e->old = s->text;
			e->line = s->line;
			port_str(e->new_, sizeof e->new_, w->new_lo, w->new_hi);
			/* A range stays written as a range, even of one port. */
			if (w->p->pub_is_range && w->new_lo == w->new_hi)
				snprintf(e->new_, sizeof e->new_, "%d-%d", w->new_lo, w->new_hi);
		}
	}
	for (size_t f = 0; f < nf; f++)
		qsort(fv[f].e, fv[f].n, sizeof *fv[f].e, edit_cmp);
	*nfiles = nf;
	return fv;
}

static void free_edits(struct fedit *fv, size_t nf)
{
	for (size_t f = 0; f < nf; f++) {
		free(fv[f].path);
		free(fv[f].real);
		free(fv[f].backup);
		free(fv[f].e);
		free(fv[f].text);
	}
	free(fv);
}

static int confirm_apply(const char *given, size_t nfiles)
{
	if (!given) {
		given = getenv("DBGUARD_CONFIRM");
		if (given && !*given)
			given = NULL;
	}
	if (given) {
		if (strcmp(given, "apply") == 0)
			return DG_OK;
		error("confirmation '%s' does not allow this; apply is confirmed by --confirm=apply; nothing was changed",
		      given);
		return DG_UNCONFIRMED;
	}
	if (!term_can_prompt()) {
		error("apply rewrites %zu file%s and cannot ask without a terminal; confirm with --confirm=apply; "
		      "nothing was changed", nfiles, nfiles == 1 ? "" : "s");
		return DG_UNCONFIRMED;
	}
	char answer[64];
	char *prompt = xasprintf("type 'apply' to rewrite %zu file%s: ", nfiles, nfiles == 1 ? "" : "s");
	int rc = term_prompt(prompt, answer, sizeof answer);
	free(prompt);
	if (rc < 0 || strcmp(answer, "apply") != 0) {
		error("not confirmed; nothing was changed");
		return DG_UNCONFIRMED;
	}
	return DG_OK;
}

/* Undo a half-done apply: every replaced file gets its backup back, every
 * backup made for this run goes. */
static void undo(struct fedit *fv, size_t nf)
{
	for (size_t f = 0; f < nf; f++) {
		if (fv[f].replaced) {
			if (rename(fv[f].backup, fv[f].real) < 0)
				error("cannot restore '%s' from '%s':", fv[f].path, fv[f].backup);
			else
				fsync_dir_of(fv[f].real);
		} else if (fv[f].backed_up) {
			unlink(fv[f].backup);
		}
	}
}

static int same_binding_now(const struct report *after, const struct row *w)
{
	for (size_t i = 0; i < after->nrows; i++) {
		const struct row *a = &after->rows[i];
		if (strcmp(a->s->name, w->s->name) == 0 && a->p->tgt_lo == w->p->tgt_lo && a->p->tgt_hi == w->p->tgt_hi &&
		    strcmp(a->p->proto, w->p->proto) == 0 && strcmp(a->p->host_ip, w->p->host_ip) == 0 &&
		    a->p->pub_lo == w->new_lo && a->p->pub_hi == w->new_hi)
			return 1;
	}
	return 0;
}

int portcheck_apply(struct session *ss, const char *confirm, int force, int format)
{
	return portcheck_apply_hooked(ss, confirm, force, format, NULL);
}

int portcheck_apply_hooked(struct session *ss, const char *confirm, int force, int format,
                           const struct apply_hooks *h)
{
	struct report *r = &ss->r;
	size_t nf, nmanual = 0;
	for (size_t i = 0; i < r->nrows; i++)
		if (r->rows[i].manual) {
			nmanual++;
			char pb[32], nb[32];
			port_str(pb, sizeof pb, r->rows[i].p->pub_lo, r->rows[i].p->pub_hi);
			port_str(nb, sizeof nb, r->rows[i].new_lo, r->rows[i].new_hi);
			error("%s:%d: %s: cannot move host port %s%s%s by itself: %s", r->rows[i].p->file, r->rows[i].p->line,
			      r->rows[i].s->name, pb, r->rows[i].new_lo ? " to " : "", r->rows[i].new_lo ? nb : "",
			      r->rows[i].why_manual);
		}
	struct fedit *fv = collect_edits(r, &nf);
	if (nf == 0) {
		if (!nmanual)
			info("nothing to change: the database ports are in %d-%d, free and without conflicts", r->lo, r->hi);
		print_addresses(r, format);
		free_edits(fv, nf);
		return nmanual ? DG_NO : DG_OK;
	}
	for (size_t f = 0; f < nf; f++)
		for (size_t j = 0; j < fv[f].n; j++)
			info("%s:%d: %s -> %s", fv[f].path, fv[f].e[j].line, fv[f].e[j].old, fv[f].e[j].new_);
	int status = DG_NO;
	for (size_t f = 0; f < nf; f++) {
		struct stat st;
		if (!force && lstat(fv[f].backup, &st) == 0) {
			error("'%s' exists, from an earlier apply; run 'portcheck rollback' to restore it, remove it, or "
			      "use --force to replace it; nothing was changed", fv[f].backup);
			goto out;
		}
	}
	/* Read again now and check every edit lands on the text the plan saw. */
	for (size_t f = 0; f < nf; f++) {
		if (stat(fv[f].real, &fv[f].st) < 0 || !(fv[f].text = read_file(fv[f].real, &fv[f].len))) {
			error("cannot read '%s':", fv[f].path);
			goto out;
		}
		long prev_end = 0;
		for (size_t j = 0; j < fv[f].n; j++) {
			const struct edit *e = &fv[f].e[j];
			if (e->off < prev_end || (size_t)(e->off + e->len) > fv[f].len ||
			    memcmp(fv[f].text + e->off, e->old, (size_t)e->len) != 0) {
				error("'%s' changed since it was read; run portcheck again; nothing was changed", fv[f].path);
				goto out;
			}
			prev_end = e->off + e->len;
		}
	}
	status = confirm_apply(confirm, nf);
	if (status != DG_OK)
		goto out;
	status = DG_NO;
	if (h && h->before && h->before(h->arg) != 0)
		goto out;
	for (size_t f = 0; f < nf; f++) {
		if (atomic_write_file_like(fv[f].backup, fv[f].text, fv[f].len, &fv[f].st) < 0) {
			error("cannot write '%s':", fv[f].backup);
			undo(fv, nf);
			goto out;
		}
		fv[f].backed_up = 1;
	}
	for (size_t f = 0; f < nf; f++) {
		struct strbuf out = STRBUF_INIT;
		long at = 0;
		for (size_t j = 0; j < fv[f].n; j++) {
			sb_add(&out, fv[f].text + at, (size_t)(fv[f].e[j].off - at));
			sb_adds(&out, fv[f].e[j].new_);
			at = fv[f].e[j].off + fv[f].e[j].len;
		}
		sb_add(&out, fv[f].text + at, fv[f].len - (size_t)at);
		int rc = atomic_write_file_like(fv[f].real, out.buf, out.len, &fv[f].st);
		sb_free(&out);
		if (rc < 0) {
			error("cannot write '%s':", fv[f].path);
			undo(fv, nf);
			error("the files are as they were");
			goto out;
		}
		fv[f].replaced = 1;
	}
	/* Read the result as compose will and check every port moved. */
	/* The warnings of this second reading were given on the first. */
	struct session after;
	int saved = msg_verbosity;
	msg_verbosity = 0;
	int rc = session_load(&after, &ss->files, r->lo, r->hi);
	msg_verbosity = saved;
	int ok = rc == DG_OK;
	for (size_t i = 0; ok && i < r->nrows; i++)
		if (r->rows[i].change && !r->rows[i].manual && !same_binding_now(&after.r, &r->rows[i])) {
			error("after the edit, '%s' does not publish the planned port %d", r->rows[i].s->name, r->rows[i].new_lo);
			ok = 0;
		}
	if (!ok) {
		undo(fv, nf);
		error("the edited files did not check out; the originals are back");
		session_free(&after);
		goto out;
	}
	if (!h)
		print_addresses(&after.r, format);
	size_t nedits = 0;
	for (size_t f = 0; f < nf; f++)
		nedits += fv[f].n;
	info("changed %zu port%s in %zu file%s; the originals are kept as FILE.backup ('portcheck rollback' puts them back)",
	     nedits, nedits == 1 ? "" : "s", nf, nf == 1 ? "" : "s");
	if (h && h->after && h->after(h->arg) != 0) {
		undo(fv, nf);
		session_free(&after);
		goto out;
	}
	if (h)
		print_addresses(&after.r, format);
	if (after.r.nfindings)
		info("%zu finding%s remain%s; 'portcheck validate' lists them", after.r.nfindings,
		     after.r.nfindings == 1 ? "" : "s", after.r.nfindings == 1 ? "s" : "");
	session_free(&after);
	status = nmanual ? DG_NO : DG_OK;
out:
	free_edits(fv, nf);
	return status;
}
