/* tables.c — freeing a table list (tables.h). */
#include "model/tables.h"

#include <stdlib.h>

void table_counts_free(struct table_counts *tc)
{
	if (!tc)
		return;
	for (size_t i = 0; i < tc->n; i++)
		free(tc->v[i].name);
	free(tc->v);
	tc->v = NULL;
	tc->n = 0;
}
