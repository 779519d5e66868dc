/* report.c — one database's part of a rehearsal report, for people (a few
 * lines per finding and the schema diff in short) or as a JSON object of
 * the schema safe-run(1) documents under REHEARSAL. */
#include "rehearse/impl.h"

#include <stdlib.h>
#include <string.h>

#include "base/output.h"

static const char *plural(long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void human_finding(FILE *o, const struct rh_finding *f)
{
	switch (f->kind) {
	case RK_TABLE_DROPPED:
		fprintf(o, "  LOST  table %s dropped, with %lld %s\n", f->table, f->n, plural(f->n, "row", "rows"));
		break;
	case RK_ROWS_FELL:
		if (f->ref)
			fprintf(o, "  LOST  %lld %s of %s deleted by ON DELETE CASCADE from %s (%lld -> %lld)\n", f->n - f->m,
			        plural(f->n - f->m, "row", "rows"), f->table, f->ref, f->n, f->m);
		else
			fprintf(o, "  LOST  %lld %s of %s deleted (%lld -> %lld)\n", f->n - f->m,
			        plural(f->n - f->m, "row", "rows"), f->table, f->n, f->m);
		break;
	case RK_COLUMN_DROPPED:
		if (f->n < 0)
			fprintf(o, "  LOST  column %s.%s dropped; its values could not be counted\n", f->table, f->column);
		else if (f->loss)
			fprintf(o, "  LOST  column %s.%s dropped, with %lld %s not NULL\n", f->table, f->column, f->n,
			        plural(f->n, "value", "values"));
		else
			fprintf(o, "  ok    column %s.%s dropped; it held only NULL\n", f->table, f->column);
		break;
	case RK_TYPE_CHANGED:
		fprintf(o, "  %s  column %s.%s changed type %s -> %s", f->loss ? "LOST" : "ok  ", f->table, f->column,
		        f->from, f->to);
		if (!f->compared)
			fprintf(o, ": values not compared (no primary key to match rows by)\n");
		else
			fprintf(o, ": %lld %s changed, %lld truncated (compared by primary key)\n", f->n,
			        plural(f->n, "value", "values"), f->m);
		break;
	case RK_CONSTRAINT_ADDED:
		fprintf(o, "  new   %s constraint on %s: %s\n", f->from, f->table, f->to);
		break;
	case RK_TABLE_RENAMED:
		fprintf(o, "  ok    table %s renamed to %s\n", f->from, f->to);
		break;
	case RK_COLUMN_RENAMED:
		fprintf(o, "  ok    column %s.%s renamed to %s\n", f->table, f->from, f->to);
		break;
	case RK_TABLE_ADDED:
		fprintf(o, "  new   table %s (%lld %s)\n", f->table, f->n, plural(f->n, "row", "rows"));
		break;
	case RK_COLUMN_ADDED:
		fprintf(o, "  new   column %s.%s %s\n", f->table, f->column, f->to);
		break;
	default:
		break;
	}
}

/* The schema diff in short: - gone, + new, ~ changed. */
static void short_diff(FILE *o, const struct rh_finding *f, int json)
{
	char *line = NULL;
	switch (f->kind) {
	case RK_TABLE_DROPPED: line = xasprintf("- table %s", f->table); break;
	case RK_COLUMN_DROPPED: line = xasprintf("- column %s.%s", f->table, f->column); break;
	case RK_TYPE_CHANGED: line = xasprintf("~ column %s.%s %s -> %s", f->table, f->column, f->from, f->to); break;
	case RK_CONSTRAINT_ADDED: line = xasprintf("+ %s on %s: %s", f->from, f->table, f->to); break;
	case RK_TABLE_RENAMED: line = xasprintf("~ table %s -> %s", f->from, f->to); break;
	case RK_COLUMN_RENAMED: line = xasprintf("~ column %s.%s -> %s", f->table, f->from, f->to); break;
	case RK_TABLE_ADDED: line = xasprintf("+ table %s", f->table); break;
	case RK_COLUMN_ADDED: line = xasprintf("+ column %s.%s %s", f->table, f->column, f->to); break;
	default: return;
	}
	if (json) {
		json_string(o, line);
	} else {
		fprintf(o, "        %s\n", line);
	}
	free(line);
}

static int is_schema(const struct rh_finding *f)
{
	return f->kind != RK_ROWS_FELL;
}

static void json_key(FILE *o, const char *k)
{
	json_string(o, k);
	putc(':', o);
}

static void json_finding(FILE *o, const struct rh_finding *f)
{
	putc('{', o);
	json_key(o, "table");
	json_string(o, f->table);
	switch (f->kind) {
	case RK_TABLE_DROPPED:
	case RK_TABLE_ADDED:
		fprintf(o, ",\"rows\":%lld", f->n);
		break;
	case RK_ROWS_FELL:
		fprintf(o, ",\"before\":%lld,\"after\":%lld,\"lost\":%lld,\"cascade_from\":", f->n, f->m, f->n - f->m);
		json_string(o, f->ref);
		break;
	case RK_COLUMN_DROPPED:
		fprintf(o, ",\"column\":");
		json_string(o, f->column);
		if (f->n < 0)
			fprintf(o, ",\"non_null\":null");
		else
			fprintf(o, ",\"non_null\":%lld", f->n);
		break;
	case RK_TYPE_CHANGED:
		fprintf(o, ",\"column\":");
		json_string(o, f->column);
		fprintf(o, ",\"from\":");
		json_string(o, f->from);
		fprintf(o, ",\"to\":");
		json_string(o, f->to);
		fprintf(o, ",\"compared\":%s,\"changed\":%lld,\"truncated\":%lld", f->compared ? "true" : "false", f->n,
		        f->m);
		break;
	case RK_CONSTRAINT_ADDED:
		fprintf(o, ",\"column\":");
		json_string(o, f->column);
		fprintf(o, ",\"kind\":");
		json_string(o, f->from);
		fprintf(o, ",\"definition\":");
		json_string(o, f->to);
		break;
	case RK_TABLE_RENAMED:
	case RK_COLUMN_RENAMED:
		fprintf(o, ",\"from\":");
		json_string(o, f->from);
		fprintf(o, ",\"to\":");
		json_string(o, f->to);
		break;
	case RK_COLUMN_ADDED:
		fprintf(o, ",\"column\":");
		json_string(o, f->column);
		fprintf(o, ",\"type\":");
		json_string(o, f->to);
		break;
	default:
		break;
	}
	fprintf(o, ",\"loss\":%s}", f->loss ? "true" : "false");
}

static const char *const json_lists[RK_COUNT] = {
	[RK_TABLE_DROPPED] = "tables_dropped",
	[RK_ROWS_FELL] = "rows_deleted",
	[RK_COLUMN_DROPPED] = "columns_dropped",
	[RK_TYPE_CHANGED] = "type_changes",
	[RK_CONSTRAINT_ADDED] = "constraints_added",
	[RK_TABLE_RENAMED] = "tables_renamed",
	[RK_COLUMN_RENAMED] = "columns_renamed",
	[RK_TABLE_ADDED] = "tables_added",
	[RK_COLUMN_ADDED] = "columns_added",
};

void rh_report_print(FILE *o, const struct rh_report *r, int json, const char *target_desc,
                     const char *engine, const char *database, const char *copy, int unchanged)
{
	int loss = rh_report_loss(r);
	if (!json) {
		fprintf(o, "%s: %s\n", target_desc,
		        !unchanged ? "THE ORIGINAL CHANGED" : loss ? "DATA WOULD BE LOST" : "nothing lost");
		fprintf(o, "  copy  %s\n", copy);
		for (int k = 0; k < RK_COUNT; k++)
			for (size_t i = 0; i < r->n; i++)
				if (r->f[i].kind == (enum rh_kind)k)
					human_finding(o, &r->f[i]);
		size_t nschema = 0;
		for (size_t i = 0; i < r->n; i++)
			nschema += is_schema(&r->f[i]);
		if (nschema) {
			fprintf(o, "  schema diff:\n");
			for (size_t i = 0; i < r->n; i++)
				short_diff(o, &r->f[i], 0);
		} else if (!r->n) {
			fprintf(o, "  no change to the schema or the row counts\n");
		}
		return;
	}
	fputs("{\"target\":", o);
	json_string(o, target_desc);
	fputs(",\"engine\":", o);
	json_string(o, engine);
	fputs(",\"database\":", o);
	json_string(o, database);
	fputs(",\"copy\":", o);
	json_string(o, copy);
	fprintf(o, ",\"original_unchanged\":%s,\"loss\":%s", unchanged ? "true" : "false", loss ? "true" : "false");
	for (int k = 0; k < RK_COUNT; k++) {
		fprintf(o, ",");
		json_key(o, json_lists[k]);
		putc('[', o);
		int first = 1;
		for (size_t i = 0; i < r->n; i++)
			if (r->f[i].kind == (enum rh_kind)k) {
				if (!first)
					putc(',', o);
				first = 0;
				json_finding(o, &r->f[i]);
			}
		putc(']', o);
	}
	fputs(",\"schema_diff\":[", o);
	int first = 1;
	for (size_t i = 0; i < r->n; i++)
		if (is_schema(&r->f[i])) {
			if (!first)
				putc(',', o);
			first = 0;
			short_diff(o, &r->f[i], 1);
		}
	fputs("]}", o);
}
