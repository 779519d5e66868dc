/* crypt.c — age encryption of remote copies (see crypt.h). */
#include "remote/crypt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/io.h"
#include "base/process.h"
#include "base/xalloc.h"
#include "model/config.h"

/* encrypt_to items: separated by commas or white space. */
static void recipients(struct strvec *out)
{
	char **items = config_get_list("store", "encrypt_to");
	for (char **i = items; *i; i++) {
		char *copy = xstrdup(*i);
		for (char *save = NULL, *tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
			sv_push(out, tok);
		free(copy);
	}
}

int crypt_wanted(void)
{
	struct strvec r = STRVEC_INIT;
	recipients(&r);
	int n = (int)r.n;
	sv_free(&r);
	return n > 0;
}

/* Run age with argv; its stderr's first line into err on failure.  The
 * wait status, or -1 with errno. */
static int run_age(struct strvec *av, char *msg, size_t msglen)
{
	FILE *ef = tmpfile();
	char *out = NULL;
	int ws = run_capture(sv_argv(av), NULL, ef ? fileno(ef) : -1, &out, NULL);
	int e = errno;
	free(out);
	msg[0] = '\0';
	if (ef) {
		rewind(ef);
		char line[512];
		/* The first line that says something, without "age: error: ". */
		while (fgets(line, sizeof line, ef)) {
			line[strcspn(line, "\n")] = '\0';
			char *p = line;
			if (strncmp(p, "age: ", 5) == 0)
				p += 5;
			if (strncmp(p, "error: ", 7) == 0)
				p += 7;
			if (*p && strncmp(p, "[ Did ", 6) != 0) {
				size_t l = strlen(p) < msglen ? strlen(p) : msglen - 1;
				memcpy(msg, p, l);
				msg[l] = '\0';
				break;
			}
		}
		fclose(ef);
	}
	errno = e;
	return ws;
}

static int age_missing(int ws, char *err, size_t errlen)
{
	if (ws >= 0)
		return 0;
	if (errno == ENOENT)
		snprintf(err, errlen, "age is not installed (or not on PATH), and [store] encrypt_to / identity "
		         "need it; install it (Debian: apt install age)");
	else
		snprintf(err, errlen, "cannot run age: %s", strerror(errno));
	return 1;
}

int crypt_encrypt(const char *in, const char *out, char *err, size_t errlen)
{
	struct strvec r = STRVEC_INIT, av = STRVEC_INIT;
	recipients(&r);
	sv_push(&av, "age");
	sv_push(&av, "--encrypt");
	for (size_t i = 0; i < r.n; i++) {
		/* A public key, or a file of them (age -R). */
		struct stat st;
		int file = strncmp(r.v[i], "age1", 4) != 0 && strncmp(r.v[i], "ssh-", 4) != 0 &&
		           stat(r.v[i], &st) == 0;
		sv_push(&av, file ? "-R" : "-r");
		sv_push(&av, r.v[i]);
	}
	sv_push(&av, "-o");
	sv_push(&av, out);
	sv_push(&av, in);
	char msg[400];
	int ws = run_age(&av, msg, sizeof msg);
	int rc = DG_OK;
	if (age_missing(ws, err, errlen)) {
		rc = DG_USAGE;
	} else if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		int bad_recipient = strstr(msg, "recipient") != NULL;
		snprintf(err, errlen, "cannot encrypt '%s' with age: %s%s", in, msg,
		         bad_recipient ? "; check [store] encrypt_to (age1... public keys or files of them)" : "");
		rc = bad_recipient ? DG_USAGE : DG_NO;
	} else {
		chmod(out, 0600);
	}
	sv_free(&r);
	sv_free(&av);
	return rc;
}

int crypt_decrypt(const char *in, const char *out, const char *what, const char *project_dir, char *err,
                  size_t errlen)
{
	const char *id = config_get("store", "identity");
	if (!id || !*id) {
		snprintf(err, errlen, "'%s' is encrypted with age, and no [store] identity names the key to "
		         "decrypt it; set identity = FILE (or DBGUARD_IDENTITY)", what);
		return DG_USAGE;
	}
	char *path = NULL;
	if (id[0] == '~' && id[1] == '/' && getenv("HOME"))
		path = xasprintf("%s%s", getenv("HOME"), id + 1);
	else
		path = id[0] == '/' || !project_dir ? xstrdup(id) : path_join(project_dir, id);
	int rc = DG_OK;
	if (access(path, R_OK) < 0) {
		snprintf(err, errlen, "cannot read the age identity '%s' (%s): %s", path,
		         config_source("store", "identity"), strerror(errno));
		free(path);
		return DG_USAGE;
	}
	struct strvec av = STRVEC_INIT;
	sv_push(&av, "age");
	sv_push(&av, "--decrypt");
	sv_push(&av, "-i");
	sv_push(&av, path);
	sv_push(&av, "-o");
	sv_push(&av, out);
	sv_push(&av, in);
	char msg[400];
	int ws = run_age(&av, msg, sizeof msg);
	if (age_missing(ws, err, errlen)) {
		rc = DG_USAGE;
	} else if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		if (strstr(msg, "no identity matched")) {
			snprintf(err, errlen, "cannot decrypt '%s': the identity '%s' is not one it was encrypted to "
			         "(%s); [store] identity must be the key of a recipient in encrypt_to", what, path, msg);
			rc = DG_USAGE;
		} else {
			snprintf(err, errlen, "cannot decrypt '%s' with age: %s", what, msg);
			rc = DG_INTEGRITY;
		}
		unlink(out);
	} else {
		chmod(out, 0600);
	}
	sv_free(&av);
	free(path);
	return rc;
}
