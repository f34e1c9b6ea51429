/* report.c - a verdict for people and for machines; see verify.h. */
#include <jansson.h>
#include <stdio.h>

#include "verifier/verify.h"

void
verdict_print(FILE *out, const struct verdict *v)
{
	long long n = verdict_findings(v);
	int k, i;

	fprintf(out, "%d nodes, %d reachable", v->nodes, v->reachable);
	if (v->keys_expected)
		fprintf(out, "; %lld dataset keys, %lld keys scanned", v->keys_expected,
			v->keys_scanned);
	fprintf(out, "; %llu ms\n", (unsigned long long)v->ms);
	for (k = 0; k < F_COUNT_; k++) {
		const struct finding *f = &v->f[k];

		if (!f->checked)
			continue;
		if (f->count == 0) {
			fprintf(out, "  ok    %s\n", finding_title(k));
			continue;
		}
		fprintf(out, "  FAIL  %s: %lld %s\n", finding_title(k), f->count,
			finding_json_name(k));
		for (i = 0; i < f->nexamples; i++)
			fprintf(out, "          %s\n", f->examples[i]);
		if (f->count > f->nexamples && k != F_UNCOVERED && k != F_UNSERVED &&
		    k != F_DISAGREEMENT)
			fprintf(out, "          ... and %lld more\n", f->count - f->nexamples);
	}
	if (n == 0)
		fprintf(out, "healthy\n");
	else
		fprintf(out, "%lld finding%s\n", n, n == 1 ? "" : "s");
}

void *
verdict_to_json(const struct verdict *v)
{
	json_t *root = json_object(), *f, *ex;
	int k, i;

	json_object_set_new(root, "healthy", json_boolean(verdict_is_healthy(v)));
	json_object_set_new(root, "findings", json_integer(verdict_findings(v)));
	json_object_set_new(root, "nodes", json_integer(v->nodes));
	json_object_set_new(root, "reachable", json_integer(v->reachable));
	json_object_set_new(root, "keys_expected", json_integer(v->keys_expected));
	json_object_set_new(root, "keys_scanned", json_integer(v->keys_scanned));
	json_object_set_new(root, "ms", json_integer((json_int_t)v->ms));
	for (k = 0; k < F_COUNT_; k++) {
		f = json_object();
		ex = json_array();
		for (i = 0; i < v->f[k].nexamples; i++)
			json_array_append_new(ex, json_string(v->f[k].examples[i]));
		json_object_set_new(f, "checked", json_boolean(v->f[k].checked));
		json_object_set_new(f, "count", json_integer(v->f[k].count));
		json_object_set_new(f, "examples", ex);
		json_object_set_new(root, finding_json_name(k), f);
	}
	return root;
}
