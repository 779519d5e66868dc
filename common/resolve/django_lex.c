/* django_lex.c — the tokenizer of the Django settings reader: Python
 * source to names, numbers, strings (with their prefixes and escapes),
 * operators and logical-line ends (see django_impl.h). */
#include "resolve/django_impl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

static void push(struct toks *ts, struct tok t)
{
	ts->v = xrealloc(ts->v, (ts->n + 1) * sizeof *ts->v);
	ts->v[ts->n++] = t;
}

void django_toks_free(struct toks *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		free(ts->v[i].str);
	free(ts->v);
}

/* A string literal at p (after its prefix); returns the end or NULL. */
static const char *lex_string(const char *p, int raw, struct strbuf *sb, int *line)
{
	char q = *p;
	int triple = p[1] == q && p[2] == q;
	p += triple ? 3 : 1;
	for (;;) {
		if (!*p)
			return NULL;
		if (*p == q && (!triple || (p[1] == q && p[2] == q)))
			return p + (triple ? 3 : 1);
		if (*p == '\n') {
			if (!triple)
				return NULL;
			(*line)++;
		}
		if (*p == '\\' && p[1]) {
			char c = p[1];
			if (c == '\n')
				(*line)++;
			if (raw) {
				sb_addc(sb, '\\');
				sb_addc(sb, c);
			} else if (c == 'n')
				sb_addc(sb, '\n');
			else if (c == 't')
				sb_addc(sb, '\t');
			else if (c == '\\' || c == '\'' || c == '"')
				sb_addc(sb, c);
			else if (c != '\n') {
				sb_addc(sb, '\\');
				sb_addc(sb, c);
			}
			p += 2;
			continue;
		}
		sb_addc(sb, *p++);
	}
}

void django_lex(const char *text, struct toks *ts)
{
	const char *p = text, *line_start = text;
	int line = 1, depth = 0;
	while (*p) {
		char c = *p;
		if (c == '\n') {
			if (depth == 0 && ts->n && ts->v[ts->n - 1].type != T_NL)
				push(ts, (struct tok){ T_NL, p, 1, NULL, 0, line, 0 });
			line++;
			p++;
			line_start = p;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
			p++;
			continue;
		}
		if (c == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (c == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
			p += p[1] == '\n' ? 2 : 3;
			line++;
			line_start = p;
			continue;
		}
		struct tok t = { T_OP, p, 1, NULL, 0, line, (int)(p - line_start) };
		/* String prefixes: r, b, u, f and pairs of them. */
		const char *q = p;
		int raw = 0, f = 0;
		while (q - p < 2 && strchr("rRbBuUfF", *q) && *q) {
			raw |= *q == 'r' || *q == 'R';
			f |= *q == 'f' || *q == 'F';
			q++;
		}
		if (*q == '\'' || *q == '"') {
			struct strbuf sb = STRBUF_INIT;
			int l = line;
			const char *end = lex_string(q, raw, &sb, &l);
			if (!end) {
				/* Unterminated: the file is not Python; stop reading it. */
				sb_free(&sb);
				return;
			}
			sb_addc(&sb, '\0');
			t.type = T_STR;
			t.str = sb_detach(&sb);
			t.fstring = f;
			t.n = (size_t)(end - p);
			for (const char *x = p; x < end; x++)
				if (*x == '\n')
					line_start = x + 1;
			line = l;
			p = end;
			push(ts, t);
			continue;
		}
		if (isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80) {
			while (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80)
				p++;
			t.type = T_NAME;
			t.n = (size_t)(p - t.s);
			push(ts, t);
			continue;
		}
		if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)p[1]))) {
			while (isalnum((unsigned char)*p) || *p == '.' || *p == '_' ||
			       ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
				p++;
			t.type = T_NUM;
			t.n = (size_t)(p - t.s);
			push(ts, t);
			continue;
		}
		static const char *const two[] = { "**", "==", "!=", "<=", ">=", "//", "+=", "-=", "*=", "|=", ":=", "->", NULL };
		for (const char *const *o = two; *o; o++)
			if (p[0] == (*o)[0] && p[1] == (*o)[1])
				t.n = 2;
		if (t.n == 1) {
			if (c == '(' || c == '[' || c == '{')
				depth++;
			else if ((c == ')' || c == ']' || c == '}') && depth > 0)
				depth--;
			else if (c == ';' && depth == 0) {
				push(ts, (struct tok){ T_NL, p, 1, NULL, 0, line, 0 });
				p++;
				continue;
			}
		}
		p += t.n;
		push(ts, t);
	}
	if (ts->n && ts->v[ts->n - 1].type != T_NL)
		push(ts, (struct tok){ T_NL, p, 0, NULL, 0, line, 0 });
}
