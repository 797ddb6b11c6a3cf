/* The command-line parsers: backend specs, option values of every backend
 * and of the synthetic workload, workload specs (with a few events
 * pulled), --inject specs, sizes, counts, code models. The first byte
 * picks the parser, the rest is the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../allocators/backend.h"
#include "../../allocators/os.h"
#include "../../linker/arch.h"
#include "../../workloads/workload.h"
#include "fuzz.h"

static void check_msg(const char *err)
{
	if (!err[0] || strchr(err, '\n'))
		abort(); /* errors are one non-empty line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	char err[512] = "";
	switch (data[0] % 8) {
	case 0: {
		struct jm_backend_spec specs[16];
		int n = jm_backend_spec_parse(text, specs, 16, err, sizeof(err));
		if (n < 0)
			check_msg(err);
		for (int i = 0; i < n; i++) {
			struct jm_optvals v;
			if (jm_opts_parse(specs[i].ops->options, specs[i].optspec, &v,
					  err, sizeof(err)) < 0)
				check_msg(err);
		}
		break;
	}
	case 1: {
		/* option text against every option table */
		for (size_t b = 0; jm_backends[b]; b++) {
			struct jm_optvals v;
			if (jm_opts_parse(jm_backends[b]->options, text, &v, err, sizeof(err)) < 0)
				check_msg(err);
		}
		struct jm_optvals v;
		if (jm_opts_parse(jm_synthetic_options, text, &v, err, sizeof(err)) < 0)
			check_msg(err);
		break;
	}
	case 2: {
		struct jm_workload w;
		if (jm_workload_open(text, 0, &w, err, sizeof(err)) < 0) {
			check_msg(err);
			break;
		}
		struct jm_event ev;
		for (int i = 0; i < 64 && jm_workload_next(&w, &ev) > 0; i++)
			if (ev.type == JM_EV_ALLOC && ev.req.nseg > JM_MAX_SEGS)
				abort();
		jm_workload_close(&w);
		break;
	}
	case 3: {
		enum jm_sys s;
		int e;
		uint64_t nth;
		if (jm_os_inject_parse(text, &s, &e, &nth) == 0 &&
		    (nth == 0 || (unsigned)s >= JM_NSYS))
			abort();
		break;
	}
	case 4: {
		uint64_t v;
		if (jm_parse_size(text, &v) == 0) {
			char back[64];
			jm_format_size(v, back, sizeof(back));
			uint64_t again;
			if (jm_parse_size(back, &again) < 0 || again != v)
				abort(); /* formatting round-trips */
		}
		break;
	}
	case 5: {
		uint64_t v;
		jm_parse_u64(text, &v);
		break;
	}
	case 6: {
		enum jm_code_model cm;
		jm_code_model_parse(text, &cm);
		break;
	}
	case 7: {
		int e = jm_errno_parse(text);
		(void)jm_errno_name(e);
		enum jm_sys s;
		jm_sys_parse(text, &s);
		break;
	}
	}
	free(text);
	return 0;
}
