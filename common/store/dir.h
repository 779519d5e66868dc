/* dir.h — the store directory: where it is, creating it (mode 0700, with a
 * ".gitignore" of "*"), a free path for a new snapshot, the per-database
 * lock, and removing what a killed run left (store.h tells the layout). */
#ifndef DBGUARD_STORE_DIR_H
#define DBGUARD_STORE_DIR_H

#include <time.h>

/* The store directory for a project: config backup_dir / DBGUARD_BACKUP_DIR. */
char *store_dir(const char *project_dir);
/* Create the store (mode 0700) with a ".gitignore" of "*"; 0 or -1 with errno. */
int store_ensure(const char *dir);
/* A free name for a new snapshot in dir, its path and metadata path: names
 * have whole seconds, so when this second's is taken, wait for the next one
 * (three times at most).  Returns the time in the name. */
time_t store_new_path(const char *dir, const char *dbkey, const char *label, const char *ext,
                      char **path, char **meta_path);

/* An exclusive lock per database in the store (flock on <dir>/.lock.<dbkey>),
 * so two snapshots or restores of one database never interleave.  Waits up to
 * wait_seconds; returns an fd to pass to store_unlock, or -1 (errno EWOULDBLOCK
 * on timeout). */
int store_lock(const char *dir, const char *dbkey, int wait_seconds);
void store_unlock(int fd);
/* Remove what a killed run of dbkey left (call under the lock): temporary
 * files, metadata without its data file, a data file without metadata. */
void store_clean_stale(const char *dir, const char *dbkey);

#endif
