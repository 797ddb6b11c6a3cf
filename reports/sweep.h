/* Sweeps for capacity tuning: one backend over the values of one option.
 * Value lists, the recommendation rule and the sweep's report section and
 * plot. The rule (docs/report-format.md): among values whose runs all
 * succeeded with zero reach failures and whose VMAs added are within
 * `factor` of the best such value, the smallest VA reservation, then the
 * smallest waste, then the fewest VMAs added, then the first value. */
#ifndef JITMM_SWEEP_H
#define JITMM_SWEEP_H

#include <json-c/json.h>
#include <stddef.h>

#include "plots.h"

#define JM_SWEEP_MAX_VALUES 64

/* "a,b,c", "START..END" (step 1) or "START..END*FACTOR" (geometric); sizes
 * (is_size) accept K/M/G/T. Writes value texts; count or -1 with a message. */
int jm_sweep_values(const char *spec, int is_size, char out[][32], int max,
		    char *err, size_t errlen);

struct jm_sweep_pick {
	int index;        /* into the workload's aggregates, -1: none */
	char value[64];
	char why[512];    /* the rule applied, with the numbers */
};

/* For the aggregates of one workload (in value order), apply the rule. */
void jm_sweep_recommend(json_object *const *aggs, int n, const char *param,
			double factor, struct jm_sweep_pick *pick);

/* Markdown and HTML sections (malloc'd) and a plot per workload, from a
 * sweep results model (config.sweep present). */
struct jm_sweep_report {
	char *markdown, *html;
};
void jm_sweep_sections(json_object *root, struct jm_sweep_report *out);
void jm_sweep_report_free(struct jm_sweep_report *r);
int jm_sweep_plots(json_object *root, const struct jm_plot_dir *dir,
		   struct jm_plot_list *plots, char *err, size_t errlen);

#endif
