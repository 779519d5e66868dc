/* project.c — finding the project directory (DESIGN.md "The snapshot store"). */
#include "model/project.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/io.h"
#include "base/xalloc.h"

/* The nearest project directory upward, or NULL (cwd holds the current one). */
static char *find(char cwd[4096])
{
	if (!getcwd(cwd, 4096))
		return NULL;
	char *dir = xstrdup(cwd);
	for (;;) {
		/* A framework's own root counts too, so that a command run in a
		 * subdirectory of a Rails, Laravel, Django or Prisma project finds it. */
		const char *marks[] = { ".env", ".dbguard.conf", "artisan", "manage.py", "config/database.yml",
		                        "prisma/schema.prisma", NULL };
		for (const char **m = marks; *m; m++) {
			char *p = path_join(dir, *m);
			int found = access(p, F_OK) == 0;
			free(p);
			if (found)
				return dir;
		}
		char *git = path_join(dir, ".git");
		int top = access(git, F_OK) == 0 || strcmp(dir, "/") == 0;
		free(git);
		if (top)
			break;
		char *up = path_dir(dir);
		free(dir);
		dir = up;
	}
	free(dir);
	return NULL;
}

char *project_dir_find(void)
{
	char cwd[4096];
	char *dir = find(cwd);
	if (dir)
		return dir;
	return xstrdup(getcwd(cwd, sizeof cwd) ? cwd : ".");
}

char *project_dir_marked(void)
{
	char cwd[4096];
	return find(cwd);
}
