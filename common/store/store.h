/* store.h — the snapshot store (DESIGN.md "The snapshot store"): where
 * snapshots live, how they are named, their metadata, listing, verification,
 * locking and pruning.  Shared by db-snap, db-restore and safe-run.
 *
 * A snapshot is two files in the store directory:
 *   <database>_<YYYYMMDDTHHMMSSZ>[_<label>].<ext>       the data
 *   <database>_<YYYYMMDDTHHMMSSZ>[_<label>].<ext>.meta  its metadata
 * <ext> is sql.zst, sql.gz or sql (PostgreSQL, MySQL: plain SQL dumps),
 * sqlite.zst, sqlite.gz or sqlite (a SQLite database file) and pgclone (a
 * clone inside the PostgreSQL server: the file holds "clone=<name>").  <database> is
 * the database name (a SQLite file's base name without its extension) with
 * every byte outside [A-Za-z0-9_.-] replaced by '-', and a leading '.' too
 * (names starting with '.' are temporary files); likewise the label.
 *
 * One header per concern, all included here: dir.h (the directory, locking,
 * stale files), name.h (snapshot names and times), meta.h (the ".meta"
 * metadata and its row counts), list.h (listing and printing), verify.h,
 * prune.h (retention); compress.h is the compression the snapshots use.
 */
#ifndef DBGUARD_STORE_H
#define DBGUARD_STORE_H

#include "store/dir.h"
#include "store/list.h"
#include "store/meta.h"
#include "store/name.h"
#include "store/prune.h"
#include "store/verify.h"

#endif
