/* Where a command's output goes: see cli.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/atomic_write.h"
#include "../reports/results.h"
#include "cli.h"

int jm_out_is_stdout(const char *path)
{
	return !path || !strcmp(path, "-");
}

int jm_out_check(const char *path, char *err, size_t errlen)
{
	return jm_out_is_stdout(path) ? 0 : jm_atomic_check(path, err, errlen);
}

int jm_out_write(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	if (!jm_out_is_stdout(path))
		return jm_write_atomic(path, text, len, err, errlen);
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		snprintf(err, errlen, "standard output: write failed");
		return -1;
	}
	return 0;
}

int jm_out_results(json_object *root, const char *json_path, const char *out_dir, int pretty,
		   char *err, size_t errlen)
{
	size_t len = 0;
	char *text = jm_results_text(root, pretty, &len);
	int rc = 0;
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (json_path && jm_out_write(json_path, text, len, err, errlen) < 0)
		rc = -1;
	if (out_dir && rc == 0) {
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/results.json", out_dir) >= (int)sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", out_dir);
			rc = -1;
		} else {
			rc = jm_write_atomic(path, text, len, err, errlen);
		}
	}
	free(text);
	return rc;
}
