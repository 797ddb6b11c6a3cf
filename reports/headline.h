/* The headline table as data (rows of formatted cells), so the Markdown
 * and the HTML report print the same numbers from one place. */
#ifndef JITMM_HEADLINE_H
#define JITMM_HEADLINE_H

#include <json-c/json.h>

#include "names.h"

#define JM_HL_COLS 14
#define JM_HL_CELL 64

struct jm_hl_table {
	char workload[JM_NAME_MAX]; /* names.h: preset and what differs */
	char workload_spec[320];    /* exact spec */
	double graphs;
	int nrows;
	char (*cell)[JM_HL_COLS][JM_HL_CELL]; /* cell[r][0] unused: name[r] */
	char (*name)[JM_NAME_MAX];  /* each row's backend, names.h */
	json_object **agg;          /* the aggregate of each row */
};

struct jm_headline {
	char head[JM_HL_COLS][64];
	int ntables;
	struct jm_hl_table *t;
	char context[1024]; /* the sentence under the tables */
};

/* One table per workload, in first-seen order of "aggregates". */
void jm_headline_build(json_object *root, const char *baseline,
		       struct jm_headline *h);
void jm_headline_free(struct jm_headline *h);

/* "57x fewer", "2.0x more", "same" for candidate vs baseline counts. */
void jm_ratio_text(double baseline, double candidate, char *buf, size_t len);
/* Wall time of an aggregate in ms: "6.97 [6.46-7.19] ±2%" (median, range
 * when the repetitions differ, coefficient of variation). */
void jm_wall_text(json_object *agg, char *buf, size_t len);
/* Human units: 1536 -> "1.5 KiB". */
void jm_bytes_text(double bytes, char *buf, size_t len);

#endif
