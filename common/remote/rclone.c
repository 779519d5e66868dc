/* rclone.c — running rclone and reading its failures (see rclone.h). */
#include "remote/rclone.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/msg.h"
#include "base/process.h"
#include "base/xalloc.h"

char *rclone_path(const struct remote *r, const char *name)
{
	if (!name)
		return xstrdup(r->spec);
	size_t n = strlen(r->spec);
	/* "dav:" is the remote's root: no '/' between it and the name. */
	return xasprintf("%s%s%s", r->spec, n && r->spec[n - 1] == ':' ? "" : "/", name);
}

/* The line of rclone's stderr that says what went wrong, without its
 * timestamp and level: the last ERROR/CRITICAL/Failed line, else the last
 * non-empty one. */
static void last_error_line(const char *text, char *buf, size_t len)
{
	const char *best = NULL, *last = NULL;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n) {
			last = p;
			if (memmem(p, n, "ERROR", 5) || memmem(p, n, "CRITICAL", 8) || memmem(p, n, "Failed", 6) ||
			    memmem(p, n, "Fatal", 5))
				best = p;
		}
		p = nl ? nl + 1 : NULL;
	}
	const char *p = best ? best : last;
	if (!p) {
		snprintf(buf, len, "no message");
		return;
	}
	size_t n = strcspn(p, "\n");
	/* "2026/11/30 15:57:30 ERROR : x: Failed to copy: ..." */
	if (n > 20 && isdigit((unsigned char)p[0]) && p[4] == '/' && p[7] == '/' && p[10] == ' ' && p[13] == ':' &&
	    p[19] == ' ') {
		p += 20;
		n -= 20;
	}
	const char *colon = memmem(p, n, " : ", 3);
	if (colon && (memmem(p, (size_t)(colon - p), "ERROR", 5) || memmem(p, (size_t)(colon - p), "CRITICAL", 8) ||
	              memmem(p, (size_t)(colon - p), "NOTICE", 6))) {
		n -= (size_t)(colon + 3 - p);
		p = colon + 3;
	}
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

static int contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

static const char *const global_flags[][2] = {
	/* Fail in seconds, not minutes, when the remote stops answering;
	 * the user's RCLONE_* variables win. */
	{ "RCLONE_CONTIMEOUT", "--contimeout=15s" },
	{ "RCLONE_TIMEOUT", "--timeout=30s" },
	{ "RCLONE_RETRIES", "--retries=1" },
	{ "RCLONE_LOW_LEVEL_RETRIES", "--low-level-retries=2" },
};

/* Read a temporary file from its start, NUL-terminated (malloc'd). */
static char *slurp(FILE *f)
{
	struct strbuf sb = STRBUF_INIT;
	char chunk[8192];
	size_t n;
	fflush(f);
	rewind(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sb_add(&sb, chunk, n);
	return sb.buf ? sb_detach(&sb) : xstrdup("");
}

int rclone_start(const struct remote *r, const char *const *args, struct rclone_job *j)
{
	memset(j, 0, sizeof *j);
	struct strvec av = STRVEC_INIT;
	sv_push(&av, "rclone");
	for (size_t i = 0; i < sizeof global_flags / sizeof global_flags[0]; i++)
		if (!getenv(global_flags[i][0]))
			sv_push(&av, global_flags[i][1]);
	for (const char *const *a = args; *a; a++)
		sv_push(&av, *a);
	if (msg_verbosity >= 2) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < av.n; i++)
			sb_addf(&sb, "%s%s", i ? " " : "", av.v[i]);
		verbose("running %s", sb_str(&sb));
		sb_free(&sb);
	}
	(void)r;
	/* Output into unlinked temporary files, not pipes: several rclone
	 * runs may go at once without our reading them. */
	j->out = tmpfile();
	j->err = tmpfile();
	if (!j->out || !j->err) {
		j->spawn_err = errno ? errno : EMFILE;
		j->no_tmp = 1;
	} else {
		struct spawn_opts so = SPAWN_OPTS_INIT;
		so.fd_out = fileno(j->out);
		so.fd_err = fileno(j->err);
		j->spawn_err = spawn_child(sv_argv(&av), &so, &j->pid);
	}
	sv_free(&av);
	return j->spawn_err ? -1 : 0;
}

int rclone_finish(const struct remote *r, struct rclone_job *j, char **out, char *err, size_t errlen)
{
	int rc = DG_OK, ws = 0;
	if (j->no_tmp) {
		snprintf(err, errlen, "cannot make a temporary file for rclone's output: %s", strerror(j->spawn_err));
		rc = DG_NO;
		goto done;
	}
	if (j->spawn_err) {
		if (j->spawn_err == ENOENT)
			snprintf(err, errlen, "rclone is not installed (or not on PATH), and the remote '%s' (%s) "
			         "needs it; install it (Debian: apt install rclone)", r->spec, r->source);
		else
			snprintf(err, errlen, "cannot run rclone: %s", strerror(j->spawn_err));
		rc = DG_USAGE;
		goto done;
	}
	if (wait_child(j->pid, &ws) < 0) {
		snprintf(err, errlen, "cannot wait for rclone: %s", strerror(errno));
		rc = DG_NO;
		goto done;
	}
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		if (out)
			*out = slurp(j->out);
		goto done;
	}
	int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	char *text = slurp(j->err);
	char line[400];
	last_error_line(text, line, sizeof line);
	if (contains_ci(text, "didn't find section in config file")) {
		char up[64];
		size_t k = 0;
		for (; r->name[k] && k < sizeof up - 1; k++)
			up[k] = (char)toupper((unsigned char)r->name[k]);
		up[k] = '\0';
		snprintf(err, errlen, "unknown rclone remote '%s' (%s); define it with `rclone config` or "
		         "RCLONE_CONFIG_%s_TYPE and the other RCLONE_CONFIG_%s_* variables", r->name, r->source,
		         up, up);
		rc = DG_USAGE;
	} else if (contains_ci(text, "401 Unauthorized") || contains_ci(text, "403 Forbidden") ||
	           contains_ci(text, "unable to authenticate") || contains_ci(text, "authentication failed") ||
	           contains_ci(text, "AccessDenied") || contains_ci(text, "InvalidAccessKeyId") ||
	           contains_ci(text, "SignatureDoesNotMatch")) {
		snprintf(err, errlen, "the remote '%s' (%s) refused the credentials rclone gave it: %s; check the "
		         "remote's user and password (`rclone config`, RCLONE_CONFIG_* variables)", r->spec, r->source,
		         line);
		rc = DG_USAGE;
	} else if (contains_ci(text, "timeout") || contains_ci(text, "deadline exceeded") ||
	           contains_ci(text, "connection refused") || contains_ci(text, "connection reset") ||
	           contains_ci(text, "no such host") || contains_ci(text, "unreachable") ||
	           contains_ci(text, "no route to host") || contains_ci(text, "broken pipe") ||
	           contains_ci(text, "unexpected EOF") || contains_ci(text, "couldn't connect") ||
	           contains_ci(text, "closed network connection") || code == 5) {
		snprintf(err, errlen, "cannot reach the remote '%s': %s", r->spec, line);
		rc = DG_UNREACHABLE;
	} else if (code == 3 || code == 4 || contains_ci(text, "directory not found") ||
	           contains_ci(text, "object not found")) {
		snprintf(err, errlen, "not found on the remote '%s': %s", r->spec, line);
		rc = DG_NOTHING;
	} else if (code == 1) {
		snprintf(err, errlen, "rclone refused the remote '%s' (%s): %s", r->spec, r->source, line);
		rc = DG_USAGE;
	} else {
		snprintf(err, errlen, "the remote '%s' did not answer as it should: %s (rclone exit %d); "
		         "check that it is reachable (`rclone lsd %s`)", r->spec, line, code, r->spec);
		rc = DG_UNREACHABLE;
	}
	free(text);
done:
	if (j->out)
		fclose(j->out);
	if (j->err)
		fclose(j->err);
	j->out = j->err = NULL;
	return rc;
}

int rclone_run(const struct remote *r, const char *const *args, char **out, char *err, size_t errlen)
{
	struct rclone_job j;
	rclone_start(r, args, &j);
	return rclone_finish(r, &j, out, err, errlen);
}

int rclone_hashes_start(struct remote *r, struct rclone_job *j)
{
	char *root = xasprintf("%s:", r->name);
	const char *args[] = { "backend", "features", root, NULL };
	int rc = rclone_start(r, args, j);
	free(root);
	return rc;
}

int rclone_hashes_finish(struct remote *r, struct rclone_job *j, char *err, size_t errlen)
{
	char *out = NULL;
	int rc = rclone_finish(r, j, &out, err, errlen);
	if (rc != DG_OK)
		return rc;
	/* "Hashes": [ "md5", "sha1" ], in rclone's JSON. */
	const char *h = strstr(out, "\"Hashes\"");
	const char *end = h ? strchr(h, ']') : NULL;
	if (h && end) {
		char *list = xstrndup(h, (size_t)(end - h));
		r->has_sha256 = strstr(list, "\"sha256\"") != NULL;
		r->has_md5 = strstr(list, "\"md5\"") != NULL;
		r->has_sha1 = strstr(list, "\"sha1\"") != NULL;
		free(list);
	}
	free(out);
	r->hashes_known = 1;
	return DG_OK;
}

int rclone_hashes(struct remote *r, char *err, size_t errlen)
{
	if (r->hashes_known)
		return DG_OK;
	struct rclone_job j;
	rclone_hashes_start(r, &j);
	return rclone_hashes_finish(r, &j, err, errlen);
}
