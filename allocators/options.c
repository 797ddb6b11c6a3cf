#include "options.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find(const struct jm_optvals *v, const char *name)
{
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->defs[i].name, name))
			return i;
	return -1;
}

static int set_index(struct jm_optvals *v, int i, const char *val, char *err,
		     size_t errlen)
{
	const struct jm_option_def *d = &v->defs[i];
	uint64_t u = 0;
	switch (d->type) {
	case JM_OPT_SIZE:
		if (jm_parse_size(val, &u) < 0) {
			snprintf(err, errlen,
				 "option %s: '%s' is not a size (e.g. 4096, 64K, 16M, 1G)",
				 d->name, val);
			return -1;
		}
		break;
	case JM_OPT_UINT:
		if (jm_parse_u64(val, &u) < 0) {
			snprintf(err, errlen,
				 "option %s: '%s' is not a non-negative integer",
				 d->name, val);
			return -1;
		}
		break;
	case JM_OPT_BOOL:
		if (!strcmp(val, "on") || !strcmp(val, "1") || !strcmp(val, "true") || !strcmp(val, "yes"))
			u = 1;
		else if (!strcmp(val, "off") || !strcmp(val, "0") || !strcmp(val, "false") || !strcmp(val, "no"))
			u = 0;
		else {
			snprintf(err, errlen, "option %s: '%s' is not on|off",
				 d->name, val);
			return -1;
		}
		break;
	case JM_OPT_FLOAT: {
		char *end;
		errno = 0;
		double f = strtod(val, &end);
		/* nan, inf and what overflows (1e999: ERANGE) are refused here,
		 * before any arithmetic (scale=nan crashed the child: issue 11) */
		if (!*val || *end || errno || !isfinite(f) || f < 0) {
			snprintf(err, errlen,
				 "option %s: '%s' is not a finite non-negative number",
				 d->name, val);
			return -1;
		}
		v->f[i] = f;
		break;
	}
	case JM_OPT_TEXT:
		if (strlen(val) >= sizeof(v->text[i])) {
			snprintf(err, errlen, "option %s: longer than %zu characters",
				 d->name, sizeof(v->text[i]) - 1);
			return -1;
		}
		break;
	case JM_OPT_NAME:
		if (strlen(val) > 31 ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789._+-") != strlen(val)) {
			snprintf(err, errlen, "option %s: '%s' is not up to 31 of "
				 "A-Z a-z 0-9 . _ + -", d->name, val);
			return -1;
		}
		break;
	case JM_OPT_ENUM: {
		const char *c = d->choices;
		uint64_t idx = 0;
		size_t vl = strlen(val);
		int found = 0;
		while (c && *c) {
			const char *bar = strchr(c, '|');
			size_t cl = bar ? (size_t)(bar - c) : strlen(c);
			if (cl == vl && !strncmp(c, val, vl)) {
				found = 1;
				break;
			}
			idx++;
			c = bar ? bar + 1 : NULL;
		}
		if (!found) {
			snprintf(err, errlen, "option %s: '%s' is not one of %s",
				 d->name, val, d->choices);
			return -1;
		}
		u = idx;
		break;
	}
	}
	if ((d->type == JM_OPT_SIZE || d->type == JM_OPT_UINT) &&
	    (d->min || d->max) && (u < d->min || (d->max && u > d->max))) {
		char lo[32], hi[32];
		if (d->type == JM_OPT_SIZE) {
			jm_format_size(d->min, lo, sizeof(lo));
			jm_format_size(d->max, hi, sizeof(hi));
		} else {
			snprintf(lo, sizeof(lo), "%" PRIu64, d->min);
			snprintf(hi, sizeof(hi), "%" PRIu64, d->max);
		}
		snprintf(err, errlen, "option %s: %s is out of range [%s, %s]",
			 d->name, val, lo, hi);
		return -1;
	}
	v->u[i] = u;
	if (d->type == JM_OPT_SIZE)
		jm_format_size(u, v->text[i], sizeof(v->text[i]));
	else
		snprintf(v->text[i], sizeof(v->text[i]), "%s", val);
	return 0;
}

int jm_opts_set(struct jm_optvals *v, const char *key, const char *val,
		char *err, size_t errlen)
{
	if (jm_text_check(key, "option name", err, errlen) < 0 ||
	    jm_text_check(val, "option value", err, errlen) < 0)
		return -1;
	int i = find(v, key);
	if (i < 0) {
		char known[256] = "";
		for (int k = 0; k < v->n; k++) {
			if (k)
				strncat(known, ", ", sizeof(known) - strlen(known) - 1);
			strncat(known, v->defs[k].name, sizeof(known) - strlen(known) - 1);
		}
		snprintf(err, errlen, "unknown option '%s' (known: %s)", key,
			 v->n ? known : "none");
		return -1;
	}
	if (set_index(v, i, val, err, errlen) < 0)
		return -1;
	v->set_mask |= 1u << i;
	return 0;
}

int jm_opts_parse(const struct jm_option_def *defs, const char *spec,
		  struct jm_optvals *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (jm_text_check(spec, "options", err, errlen) < 0)
		return -1;
	out->defs = defs;
	while (defs && defs[out->n].name) {
		if (out->n >= JM_MAX_OPTS) {
			snprintf(err, errlen, "too many options in table");
			return -1;
		}
		if (set_index(out, out->n, defs[out->n].def, err, errlen) < 0)
			return -1;
		out->n++;
	}
	if (!spec || !*spec)
		return 0;
	char *copy = strdup(spec), *save = NULL;
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			snprintf(err, errlen, "'%s' is not key=value", tok);
			rc = -1;
			break;
		}
		*eq = 0;
		if (jm_opts_set(out, tok, eq + 1, err, errlen) < 0) {
			rc = -1;
			break;
		}
	}
	free(copy);
	return rc;
}

uint64_t jm_opt_u64(const struct jm_optvals *v, const char *name)
{
	int i = find(v, name);
	return i < 0 ? 0 : v->u[i];
}

double jm_opt_f(const struct jm_optvals *v, const char *name)
{
	int i = find(v, name);
	return i < 0 ? 0 : v->f[i];
}

const char *jm_opt_str(const struct jm_optvals *v, const char *name)
{
	int i = find(v, name);
	return i < 0 ? "" : v->text[i];
}
