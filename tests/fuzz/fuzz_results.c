/* The JSON results reader used by compare/merge/report, and what reads the
 * model afterwards: aggregation and the Markdown report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../reports/markdown.h"
#include "../../reports/results.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	if (!sink)
		sink = fopen("/dev/null", "w");
	char err[512];
	json_object *o = jm_results_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (!o) {
		/* the message is one line */
		if (!err[0] || strchr(err, '\n'))
			abort();
		return 0;
	}
	jm_results_aggregate(o);
	jm_report_markdown(o, "single-pool", sink);
	json_object_put(o);
	return 0;
}
