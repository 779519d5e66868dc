/* session.c — loading a project: read the compose files, the sockets in use,
 * and analyze; the --range option. */
#include <string.h>

#include "base/exitcodes.h"
#include "base/msg.h"
#include "base/xalloc.h"
#include "portcheck/impl.h"

int parse_range_option(const char *range, int *lo, int *hi)
{
	if (!range || parse_port_range(range, lo, hi) < 0) {
		error("invalid port range '%s'; expected LO-HI, e.g. 7000-7999", range ? range : "");
		return -1;
	}
	return 0;
}

int session_load(struct session *ss, const struct strvec *files, int lo, int hi)
{
	memset(ss, 0, sizeof *ss);
	for (size_t i = 0; i < files->n; i++)
		sv_push(&ss->files, files->v[i]);
	for (size_t i = 0; i < ss->files.n; i++)
		verbose("reading '%s'", ss->files.v[i]);
	int rc = compose_load(&ss->p, &ss->files);
	ss->loaded = 1;
	if (rc)
		return rc;
	for (size_t i = 0; i < ss->p.extends_files.n; i++)
		verbose("read '%s' through extends", ss->p.extends_files.v[i]);
	size_t ndb = 0;
	for (size_t i = 0; i < ss->p.nservices; i++)
		ndb += ss->p.services[i].family != DBF_NONE;
	if (!ndb) {
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; i < ss->files.n; i++)
			sb_addf(&sb, "%s'%s'", i ? ", " : "", ss->files.v[i]);
		error("no database service in %s (recognised by image, by the label dbguard.role, or by the "
		      "images_* lists of [portcheck] in the configuration)", sb_str(&sb));
		sb_free(&sb);
		return DG_NOTHING;
	}
	if (sockets_load(&ss->ls) < 0)
		warn("ports in use on this machine are not checked");
	report_analyze(&ss->r, &ss->p, lo, hi, &ss->ls);
	ss->analyzed = 1;
	return DG_OK;
}

void session_free(struct session *ss)
{
	if (ss->analyzed)
		report_free(&ss->r);
	sockets_free(&ss->ls);
	if (ss->loaded)
		compose_free(&ss->p);
	sv_free(&ss->files);
}

/* ---- apply and rollback ---- */
