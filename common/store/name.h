/* name.h — snapshot names, "<database>_<YYYYMMDDTHHMMSSZ>[_<label>].<ext>"
 * (store.h tells the rules): the <database> key of a target, building and
 * splitting names, and the UTC times of names and metadata. */
#ifndef DBGUARD_STORE_NAME_H
#define DBGUARD_STORE_NAME_H

#include <time.h>

#include "model/target.h"

/* "<database>" part of snapshot names for target t (sanitised). */
char *store_dbkey(const struct target *t);
/* Build a new snapshot's base name: dbkey_YYYYMMDDTHHMMSSZ[_label].ext */
char *store_snapshot_name(const char *dbkey, time_t when, const char *label, const char *ext);
/* The label as a snapshot name holds it (and its metadata records), or
 * NULL when label is NULL or empty. */
char *store_label(const char *label);
/* Split a snapshot file name into its parts (any may be NULL): the <database>
 * part, the time, the label (NULL when none) and the extension ("sql.zst").
 * 0, or -1 when name is not a snapshot name. */
int store_parse_name(const char *name, char **dbkey, time_t *when, char **label, char **ext);
/* "2026-11-21T16:30:00Z" <-> time_t (UTC).  store_parse_time: 0 or -1. */
void store_format_time(time_t t, char buf[32]);
int store_parse_time(const char *s, time_t *out);

#endif
