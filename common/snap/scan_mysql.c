/* scan_mysql.c — the MySQL / MariaDB dump scanner: counts the tuples of
 * mariadb-dump's INSERT statements per table, fed in pieces of any size. */
#include "snap/scan.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

enum { MY_BOL, MY_PREFIX, MY_SKIP, MY_DELIM, MY_NAME, MY_PRE, MY_TUPLE, MY_STR, MY_STR_ESC,
       MY_STR_QEND, MY_BETWEEN };

void myscan_init(struct myscan *s)
{
	memset(s, 0, sizeof *s);
	s->state = MY_BOL;
	s->delim_normal = 1;
	s->cur = -1;
}

void myscan_free(struct myscan *s)
{
	sb_free(&s->line);
	sb_free(&s->name);
	sv_free(&s->tables);
	free(s->rows);
	memset(s, 0, sizeof *s);
}

/* The bytes that change the state inside a tuple. */
static const unsigned char my_special[256] = { ['\''] = 1, ['"'] = 1, ['('] = 1, [')'] = 1 };

static const char my_insert[] = "INSERT INTO `";
static const char my_create[] = "CREATE TABLE `";
static const char my_delim[] = "DELIMITER ";

static void my_name_done(struct myscan *s)
{
	const char *n = sb_str(&s->name);
	if (!s->for_insert) {
		if (s->tables.n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 32;
			s->rows = xrealloc(s->rows, s->cap * sizeof *s->rows);
		}
		s->rows[s->tables.n] = 0;
		sv_push(&s->tables, n);
		s->state = MY_SKIP;
	} else {
		s->cur = -1;
		/* A table's data follows its CREATE TABLE: look there first. */
		for (size_t i = s->tables.n; i-- > 0;)
			if (strcmp(s->tables.v[i], n) == 0) {
				s->cur = (long)i;
				break;
			}
		s->state = MY_PRE;
	}
	sb_reset(&s->name);
}

/* The first bytes of a line: is it an INSERT, a CREATE TABLE or a
 * DELIMITER, or a line to skip? */
static void my_line_start(struct myscan *s, char c)
{
	if (c == '\n') {
		sb_reset(&s->line);
		s->state = MY_BOL;
		return;
	}
	sb_addc(&s->line, c);
	const char *l = s->line.buf;
	size_t n = s->line.len;
	/* Statements inside DELIMITER ;; blocks are routine and
	 * trigger bodies, not data. */
	int ins = s->delim_normal && n <= 13 && memcmp(l, my_insert, n) == 0;
	int cre = s->delim_normal && n <= 14 && memcmp(l, my_create, n) == 0;
	int del = n <= 10 && memcmp(l, my_delim, n) == 0;
	if ((ins && n == 13) || (cre && n == 14)) {
		s->for_insert = ins;
		s->tick = 0;
		sb_reset(&s->name);
		sb_reset(&s->line);
		s->state = MY_NAME;
	} else if (del && n == 10) {
		sb_reset(&s->line);
		s->state = MY_DELIM;
	} else if (ins || cre || del) {
		s->state = MY_PREFIX;
	} else {
		sb_reset(&s->line);
		s->state = MY_SKIP;
	}
}

void my_scan(void *arg, const char *buf, size_t len)
{
	struct myscan *s = arg;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		char c = *p;
		switch (s->state) {
		case MY_BOL:
		case MY_PREFIX:
			p++;
			my_line_start(s, c);
			break;
		case MY_SKIP: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl) {
				p = end;
				break;
			}
			p = nl + 1;
			s->state = MY_BOL;
			break;
		}
		case MY_DELIM:
			p++;
			if (c == '\n') {
				const char *d = sb_str(&s->line);
				size_t n = strlen(d);
				while (n && (d[n - 1] == ' ' || d[n - 1] == '\r'))
					n--;
				s->delim_normal = n == 1 && d[0] == ';';
				sb_reset(&s->line);
				s->state = MY_BOL;
			} else if (s->line.len < 64) {
				sb_addc(&s->line, c);
			}
			break;
		case MY_NAME:
			if (c == '`') {
				p++;
				if (s->tick)
					sb_addc(&s->name, '`');
				s->tick = !s->tick;
			} else if (s->tick) {
				my_name_done(s);   /* c is read again in the new state */
			} else {
				p++;
				if (s->name.len < 1024)
					sb_addc(&s->name, c);
			}
			break;
		case MY_PRE:
		case MY_BETWEEN:
			/* A tuple opens; between tuples anything but a comma or
			 * white space ends the statement. */
			p++;
			if (c == '(') {
				if (s->cur >= 0)
					s->rows[s->cur]++;
				s->depth = 1;
				s->state = MY_TUPLE;
			} else if (c == ';' || (s->state == MY_BETWEEN && c != ',' && c != '\n' && c != ' ' &&
			                        c != '\r' && c != '\t')) {
				s->state = MY_SKIP;
			}
			break;
		case MY_TUPLE:
			/* Numbers, NULLs and hex make up most of a tuple: skip to
			 * the next byte that matters. */
			while (p < end && !my_special[(unsigned char)*p])
				p++;
			if (p == end)
				break;
			c = *p++;
			if (c == '\'' || c == '"') {
				s->quote = c;
				s->state = MY_STR;
			} else if (c == '(') {
				s->depth++;
			} else if (c == ')' && --s->depth == 0) {
				s->state = MY_BETWEEN;
			}
			break;
		case MY_STR: {
			/* memchr is vectorised: find the closing quote, then make
			 * sure no backslash before it escapes something. */
			const char *q = memchr(p, s->quote, (size_t)(end - p));
			const char *bs = memchr(p, '\\', (size_t)((q ? q : end) - p));
			if (bs) {
				p = bs + 1;
				s->state = MY_STR_ESC;
			} else if (q) {
				p = q + 1;
				s->state = MY_STR_QEND;
			} else {
				p = end;
			}
			break;
		}
		case MY_STR_ESC:
			p++;
			s->state = MY_STR;
			break;
		case MY_STR_QEND:
			/* A doubled quote stays inside the string. */
			if (c == s->quote) {
				p++;
				s->state = MY_STR;
			} else {
				s->state = MY_TUPLE;
			}
			break;
		}
	}
}
