/* inventory.h — `portcheck volumes`: the volumes of a Compose project's
 * database services as the Docker Engine has them — the service, the key in
 * the compose file, the engine's volume name, whether it exists and how much
 * it holds, named/external/anonymous (or none: the data lives in the
 * container), and the empty-volume trap or missing external volume found on
 * it.  safe-run reads its tsv (as a child) to learn which volumes a
 * `compose down -v` deletes and whether `compose up` would start a database
 * on an empty volume; that keeps the compose reader out of safe-run. */
#ifndef DBGUARD_DOCKER_INVENTORY_H
#define DBGUARD_DOCKER_INVENTORY_H

#include "base/xalloc.h"

/* The tsv columns, in order (the header line names them). */
#define DK_INVENTORY_COLUMNS "project\tservice\tkey\tvolume\tkind\texists\tbytes\tdata_in\tfinding"
enum { DKI_PROJECT, DKI_SERVICE, DKI_KEY, DKI_VOLUME, DKI_KIND, DKI_EXISTS, DKI_BYTES, DKI_DATA_IN,
       DKI_FINDING, DKI_COLS };

/* Print the inventory of the project (project_name: -p, or NULL; files: -f
 * FILE..., may be empty) in format (FMT_HUMAN, FMT_TSV, FMT_JSON).
 * Returns the exit status: 0 listed (nothing when the project has no
 * database service), 1 the engine failed midway, 2 files unreadable or
 * invalid, 3 no compose file, 4 no Docker Engine answers (all reported). */
int dk_inventory_print(const char *project_name, const struct strvec *files, int format);

#endif
