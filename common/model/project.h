/* project.h — the project directory a run belongs to. */
#ifndef DBGUARD_PROJECT_H
#define DBGUARD_PROJECT_H

/* The project directory: nearest dir upward holding .env or .dbguard.conf
 * (or a framework's root: artisan, manage.py, config/database.yml,
 * prisma/schema.prisma), stopping at the repository root (.git); else the
 * current directory. */
char *project_dir_find(void);
/* The same, but NULL when no directory upward holds any of those marks. */
char *project_dir_marked(void);

#endif
