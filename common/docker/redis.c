/* redis.c — see redis.h */
#include "docker/redis.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/io.h"

int dk_redis_persistence_off(const struct strvec *words)
{
	int save_off = 0, aof = 0;
	for (size_t i = 0; i < words->n; i++) {
		const char *w = words->v[i], *next = i + 1 < words->n ? words->v[i + 1] : NULL;
		size_t n = strlen(w);
		if (n > 5 && strcmp(w + n - 5, ".conf") == 0)
			return 0;   /* a configuration file we cannot see decides */
		if (strcmp(w, "--save") == 0 && next && (!*next || !strcmp(next, "\"\"") || !strcmp(next, "''")))
			save_off = 1;
		if (strcmp(w, "--appendonly") == 0 && next && strcmp(next, "yes") == 0)
			aof = 1;
	}
	return save_off && !aof;
}

/* Split a command string as Compose does (shell-like words, quotes). */
static void split_words(const char *s, struct strvec *out)
{
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		struct strbuf w = STRBUF_INIT;
		sb_adds(&w, "");
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			if (*s == '"' || *s == '\'') {
				char q = *s++;
				while (*s && *s != q)
					sb_addc(&w, *s++);
				if (*s)
					s++;
			} else {
				sb_addc(&w, *s++);
			}
		}
		sv_push_owned(out, sb_detach(&w));
	}
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* The command of service in file, as words; 1 when the file sets it. */
static int command_in(const char *file, const char *service, struct strvec *words)
{
	size_t len;
	char *text = read_file(file, &len);
	if (!text)
		return 0;
	yaml_parser_t parser;
	yaml_document_t doc;
	int found = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (yaml_parser_load(&parser, &doc)) {
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		yaml_node_t *cmd = map_get(&doc, map_get(&doc, map_get(&doc, root, "services"), service), "command");
		if (cmd && cmd->type == YAML_SCALAR_NODE) {
			sv_free(words);
			split_words((char *)cmd->data.scalar.value, words);
			found = 1;
		} else if (cmd && cmd->type == YAML_SEQUENCE_NODE) {
			sv_free(words);
			for (yaml_node_item_t *it = cmd->data.sequence.items.start; it < cmd->data.sequence.items.top; it++) {
				yaml_node_t *n = yaml_document_get_node(&doc, *it);
				if (n && n->type == YAML_SCALAR_NODE)
					sv_push(words, (char *)n->data.scalar.value);
			}
			found = 1;
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(text);
	return found;
}

void dk_redis_check(const struct dk_project *p, struct dk_findings *out)
{
	struct dk_dbvols dv;
	dk_project_dbvols(p, &dv);
	for (size_t i = 0; i < p->cp.nservices; i++) {
		const struct cservice *s = &p->cp.services[i];
		if (s->family != DBF_REDIS)
			continue;
		const char *vol = NULL;
		for (size_t k = 0; k < dv.n && !vol; k++)
			if (dv.v[k].svc == s && dv.v[k].volume)
				vol = dv.v[k].volume;
		if (!vol)
			continue;
		struct strvec words = STRVEC_INIT;
		for (size_t f = 0; f < p->cp.files.n; f++)
			command_in(p->cp.files.v[f], s->name, &words);
		if (dk_redis_persistence_off(&words)) {
			out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
			out->v[out->n++] = (struct dk_finding){
				"redis-no-persistence", s, xstrdup(vol), NULL,
				xasprintf("Redis keeps its data in volume '%s' but runs with persistence off (--save \"\" "
				          "and no --appendonly yes): a restart loses everything; drop --save \"\" or add "
				          "--appendonly yes", vol)
			};
		}
		sv_free(&words);
	}
	dk_dbvols_free(&dv);
}
