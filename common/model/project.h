/* project.h — the project directory a run belongs to. */
#ifndef DBGUARD_PROJECT_H
#define DBGUARD_PROJECT_H

/* The project directory: nearest dir upward holding .env or .dbguard.conf
 * (or a framework's root: artisan, manage.py, config/database.yml,
 * prisma/schema.prisma), stopping at the repository root (.git); else the
 * current directory. */
char *project_dir_find(void);

#endif
