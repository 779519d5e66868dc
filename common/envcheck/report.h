/* report.h — db-envcheck's report: for people (with --explain), as
 * DBGUARD_* variables for eval, as TSV or as one JSON object.  With
 * --format=json every error goes into the object too, and an exit before
 * the object is printed prints {"verdict":"error",...}. */
#ifndef DBGUARD_ENVCHECK_REPORT_H
#define DBGUARD_ENVCHECK_REPORT_H

#include "envcheck/probe.h"
#include "model/target.h"

extern int envcheck_json_wanted, envcheck_json_done;

void envcheck_collect_error(const char *text);   /* msg_error_hook */
void envcheck_print_errors_json(void);
void envcheck_json_at_exit(void);                /* atexit */

void envcheck_print_human(const struct target_list *l, const struct probe *pr);
void envcheck_print_explain(const struct target_list *l, int test_run);
void envcheck_print_tsv(const struct target_list *l, const struct probe *pr, int pinged);
void envcheck_print_json(const struct target_list *l, const struct probe *pr, const char *verdict);
void envcheck_print_env(const struct target *t, const char *verdict);

#endif
