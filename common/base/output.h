/* output.h — machine-readable output: TSV fields (tab, newline, backslash
 * escaped as \t \n \\) and JSON strings/objects, written to a FILE. */
#ifndef DBGUARD_OUTPUT_H
#define DBGUARD_OUTPUT_H

#include <stdio.h>

enum out_format { FMT_HUMAN, FMT_TSV, FMT_JSON, FMT_ENV };
/* "tsv" "json" "env" "human"/"table" -> format; -1 when unknown. */
int out_format_parse(const char *s);

void tsv_field(FILE *f, const char *s);       /* NULL prints as empty */
/* Split one TSV line in place into at most max unescaped fields; returns the
 * count, or -1 when there are more than max. */
int tsv_split(char *line, char **fields, int max);
void json_string(FILE *f, const char *s);     /* NULL prints as null */
/* Shell-safe value for KEY=value lines meant for eval: plain words as they
 * are, anything else single-quoted. */
void shell_quote(FILE *f, const char *s);
/* Human byte count: "1.2 GiB", "512 B". buf of at least 16 bytes. */
const char *human_bytes(unsigned long long n, char *buf, size_t len);

#endif
