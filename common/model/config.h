/* config.h — layered configuration: built-in defaults (etc/dbguard.conf,
 * compiled in) < $(SYSCONFDIR)/dbguard/dbguard.conf < ~/.config/dbguard/dbguard.conf
 * < .dbguard.conf in the project < DBGUARD_<KEY> environment < flags.
 * Format: [section] headers, key = value, # comments. */
#ifndef DBGUARD_CONFIG_H
#define DBGUARD_CONFIG_H

/* Load every layer; project_dir may be NULL (no project layer).  Errors are
 * reported as "prog: FILE:LINE: what" and counted; returns that count.
 * Safe to call more than once (later calls reload). */
int config_load(const char *project_dir);
/* Last layer wins.  section NULL means "dbguard".  A key missing in its own
 * section falls back to [dbguard].  DBGUARD_<KEY> in the environment beats files. */
const char *config_get(const char *section, const char *key);
const char *config_source(const char *section, const char *key);  /* "file:line", "environment DBGUARD_X", "built-in" */
int config_get_bool(const char *section, const char *key, int def);
long config_get_long(const char *section, const char *key, long def);
/* The union over all layers of a comma-separated list key: a later layer can
 * add items but never remove built-in ones (used for patterns and classes).
 * Returns a NULL-terminated array owned by the config; never NULL. */
char **config_get_list(const char *section, const char *key);
/* Override a key for this process (from a command-line flag). */
void config_set(const char *section, const char *key, const char *value);
/* The directory of the snapshot store (backup_dir / DBGUARD_BACKUP_DIR, relative
 * to project_dir), without creating it.  Caller frees. */
char *config_backup_dir(const char *project_dir);

#endif
