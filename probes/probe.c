#include "probe.h"

#include <stdio.h>
#include <string.h>

const struct jm_probe_ops *jm_probe_find(const char *name)
{
	for (size_t i = 0; jm_probes[i]; i++)
		if (!strcmp(jm_probes[i]->name, name))
			return jm_probes[i];
	return NULL;
}

static int try_open(const struct jm_probe_ops *ops, struct jm_probe *p,
		    char *why, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	if (ops->available && ops->available(why, len) < 0)
		return -1;
	if (ops->open && ops->open(p) < 0) {
		snprintf(why, len, "%s", p->err[0] ? p->err : "open failed");
		return -1;
	}
	return 0;
}

int jm_probe_select(const char *name, struct jm_probe *p, char *why_not,
		    size_t len, char *err, size_t errlen)
{
	why_not[0] = 0;
	if (strcmp(name, "auto") != 0) {
		const struct jm_probe_ops *ops = jm_probe_find(name);
		if (!ops) {
			snprintf(err, errlen, "unknown probe '%s' (known: auto%s%s%s%s)",
				 name, jm_probes[0] ? ", " : "",
				 jm_probes[0] ? jm_probes[0]->name : "",
				 jm_probes[0] && jm_probes[1] ? ", " : "",
				 jm_probes[0] && jm_probes[1] ? jm_probes[1]->name : "");
			return -1;
		}
		char why[256];
		if (try_open(ops, p, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "probe %s unavailable: %s", name, why);
			return -1;
		}
		return 0;
	}
	/* auto: registry order is preference order; procfs is last and
	 * always available */
	for (size_t i = 0; jm_probes[i]; i++) {
		char why[256] = "";
		if (try_open(jm_probes[i], p, why, sizeof(why)) == 0)
			return 0;
		if (!why_not[0])
			snprintf(why_not, len, "%s: %s", jm_probes[i]->name, why);
	}
	snprintf(err, errlen, "no probe available");
	return -1;
}
