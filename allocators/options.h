/* Option tables: each backend (and each synthetic workload) declares its
 * knobs with defaults; "key=value,key=value" strings are parsed against
 * the table, sizes accept K/M/G/T suffixes (powers of 1024). */
#ifndef JITMM_OPTIONS_H
#define JITMM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/numparse.h" /* sizes in option values */

/* TEXT: any text without control characters or commas (a file path);
 * NAME: up to 31 of [A-Za-z0-9._+-] (a label that names a run). */
enum jm_opt_type { JM_OPT_SIZE, JM_OPT_UINT, JM_OPT_ENUM, JM_OPT_BOOL, JM_OPT_FLOAT,
		   JM_OPT_TEXT, JM_OPT_NAME };

struct jm_option_def {
	const char *name;
	enum jm_opt_type type;
	const char *def;     /* default, in the same syntax a user types */
	const char *choices; /* JM_OPT_ENUM: "a|b|c" */
	const char *help;
	uint64_t min, max;   /* inclusive bounds for SIZE/UINT; 0,0 = none */
	int test_only;       /* a knob for jitmm's own tests (crash, hang, leak):
			      * not part of a configuration's name in reports */
};

#define JM_MAX_OPTS 24
#define JM_OPT_TEXT_MAX 240 /* with its NUL: a backend's option text is < 256 */

struct jm_optvals {
	const struct jm_option_def *defs;
	int n;
	uint64_t u[JM_MAX_OPTS]; /* SIZE, UINT, BOOL, ENUM (index) */
	double f[JM_MAX_OPTS];
	char text[JM_MAX_OPTS][JM_OPT_TEXT_MAX]; /* canonical text of each value */
	unsigned set_mask;          /* which were given explicitly */
};

/* Fill with defaults, then apply "k=v,k=v" (may be NULL or empty).
 * On error writes a one-line message to err and returns -1. */
int jm_opts_parse(const struct jm_option_def *defs, const char *spec,
		  struct jm_optvals *out, char *err, size_t errlen);
/* Apply one k=v on top of parsed values. */
int jm_opts_set(struct jm_optvals *v, const char *key, const char *val,
		char *err, size_t errlen);
uint64_t jm_opt_u64(const struct jm_optvals *v, const char *name);
double jm_opt_f(const struct jm_optvals *v, const char *name);
const char *jm_opt_str(const struct jm_optvals *v, const char *name);

#endif
