#include "backend.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"

const struct jm_backend_ops *jm_backend_find(const char *name)
{
	for (size_t i = 0; jm_backends[i]; i++)
		if (!strcmp(jm_backends[i]->name, name))
			return jm_backends[i];
	return NULL;
}

int jm_backend_effective_prot(const struct jm_backend *b, enum jm_prot_class cls)
{
	if (b->ops->effective_prot)
		return b->ops->effective_prot(b, cls);
	if (b->ops->caps & JM_CAP_NO_PROTECT)
		return -1;
	return jm_class_prot(cls);
}

int jm_backend_available(const struct jm_backend_ops *ops, const char *optspec,
			 char *note, size_t len)
{
	note[0] = 0;
	if (!ops->available)
		return 0;
	struct jm_optvals v;
	if (jm_opts_parse(ops->options, optspec, &v, note, len) < 0)
		return -1;
	return ops->available(&v, note, len);
}

size_t jm_backend_count(void)
{
	size_t n = 0;
	while (jm_backends[n])
		n++;
	return n;
}

int jm_backend_trim_none(struct jm_backend *b, struct jm_trim_result *out)
{
	(void)b;
	memset(out, 0, sizeof(*out));
	return 0;
}

int jm_backend_error(struct jm_backend *b, const char *sys, int errnum,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	if (errnum) {
		size_t l = strlen(b->err);
		snprintf(b->err + l, sizeof(b->err) - l, ": %s%s%s (%s)",
			 sys ? sys : "", sys ? " " : "", jm_errno_name(errnum),
			 strerror(errnum));
	}
	b->err_errno = errnum;
	b->err_sys = sys;
	b->err_pid = 0;
	b->err_vmas = -1;
	return -1;
}

int jm_backend_open(const struct jm_backend_ops *ops, const char *optspec,
		    struct jm_backend *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->ops = ops;
	char e[200];
	if (jm_opts_parse(ops->options, optspec, &b->opts, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "backend %s: %s", ops->name, e);
		return -1;
	}
	if (ops->create(b) < 0) {
		snprintf(err, errlen, "backend %s: create: %s", ops->name,
			 b->err[0] ? b->err : "failed");
		return -1;
	}
	return 0;
}

int jm_backend_close(struct jm_backend *b)
{
	b->err[0] = 0;
	b->err_errno = 0;
	b->err_sys = NULL;
	if (b->ops && b->ops->destroy)
		b->ops->destroy(b);
	b->priv = NULL;
	return b->err[0] ? -1 : 0;
}

const char *jm_backend_spec_name(const struct jm_backend_spec *s, char *buf, size_t len)
{
	struct jm_optvals v;
	char err[200];
	const char *label = "";
	if (jm_opts_parse(s->ops->options, s->optspec, &v, err, sizeof(err)) == 0)
		label = jm_opt_str(&v, "label");
	if (*label)
		snprintf(buf, len, "%s[%s]", s->ops->name, label);
	else
		snprintf(buf, len, "%s", s->ops->name);
	return buf;
}

static int add_spec(struct jm_backend_spec *out, int *n, int max,
		    const struct jm_backend_ops *ops, char *err, size_t errlen)
{
	if (*n >= max) {
		snprintf(err, errlen, "too many backends (max %d)", max);
		return -1;
	}
	out[*n].ops = ops;
	out[*n].optspec[0] = 0;
	(*n)++;
	return 0;
}

int jm_backend_spec_parse(const char *text, struct jm_backend_spec *out,
			  int max, char *err, size_t errlen)
{
	int n = 0;
	if (jm_text_check(text, "backend list", err, errlen) < 0)
		return -1;
	char *copy = strdup(text ? text : ""), *save = NULL;
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int cur = -1; /* index of the backend options attach to */
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		char *eq = strchr(tok, '=');
		if (eq && (!colon || eq < colon)) {
			/* an option of the preceding backend */
			if (cur < 0) {
				snprintf(err, errlen,
					 "option '%s' given before any backend", tok);
				rc = -1;
				break;
			}
			struct jm_backend_spec *s = &out[cur];
			size_t l = strlen(s->optspec);
			if (l + strlen(tok) + 2 > sizeof(s->optspec)) {
				snprintf(err, errlen, "backend options too long");
				rc = -1;
				break;
			}
			if (l)
				strcat(s->optspec, ",");
			strcat(s->optspec, tok);
			continue;
		}
		if (colon)
			*colon = 0;
		if (!strcmp(tok, "all")) {
			if (colon && colon[1]) {
				snprintf(err, errlen, "'all' takes no options");
				rc = -1;
				break;
			}
			for (size_t i = 0; jm_backends[i]; i++) {
				char why[300];
				if (jm_backend_available(jm_backends[i], "", why, sizeof(why)) < 0)
					continue; /* `jitmm list backends` says why */
				if (add_spec(out, &n, max, jm_backends[i], err, errlen) < 0) {
					rc = -1;
					break;
				}
			}
			if (rc)
				break;
			cur = -1;
			continue;
		}
		const struct jm_backend_ops *ops = jm_backend_find(tok);
		if (!ops) {
			char known[512] = "";
			for (size_t i = 0; jm_backends[i]; i++) {
				strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
				strncat(known, jm_backends[i]->name, sizeof(known) - strlen(known) - 1);
			}
			snprintf(err, errlen, "unknown backend '%s' (known: %s, all)",
				 tok, known);
			rc = -1;
			break;
		}
		if (add_spec(out, &n, max, ops, err, errlen) < 0) {
			rc = -1;
			break;
		}
		cur = n - 1;
		if (colon && colon[1]) {
			if (strlen(colon + 1) >= sizeof(out[cur].optspec)) {
				snprintf(err, errlen, "backend options too long");
				rc = -1;
				break;
			}
			strcpy(out[cur].optspec, colon + 1);
		}
	}
	free(copy);
	if (rc == 0 && n == 0) {
		snprintf(err, errlen, "no backend given");
		rc = -1;
	}
	if (rc == 0) {
		/* validate option text now so usage errors surface before any run */
		for (int i = 0; i < n; i++) {
			struct jm_optvals v;
			char e[200];
			if (jm_opts_parse(out[i].ops->options, out[i].optspec, &v,
					  e, sizeof(e)) < 0) {
				snprintf(err, errlen, "backend %s: %s",
					 out[i].ops->name, e);
				return -1;
			}
		}
	}
	return rc < 0 ? -1 : n;
}
