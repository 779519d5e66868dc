/* spawn_posix.h — the C library's <spawn.h>.  common/spawn.h shadows it on
 * the -Icommon include path, so spawn.c reaches the system header through
 * #include_next from here (include this one as <spawn_posix.h>). */
#ifndef DBGUARD_SPAWN_POSIX_H
#define DBGUARD_SPAWN_POSIX_H
#include_next <spawn.h>
#endif
