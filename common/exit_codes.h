/* The exit codes of every jitmm command (as perf and git: 0 ok, 1 a run or
 * check failed or a regression, 2 usage or input error, 130 interrupted),
 * and the one-line usage error that ends with code 2. */
#ifndef JITMM_EXIT_CODES_H
#define JITMM_EXIT_CODES_H

enum { JM_EXIT_OK = 0, JM_EXIT_FAIL = 1, JM_EXIT_USAGE = 2, JM_EXIT_INTERRUPTED = 130 };

/* "jitmm: " + message on stderr; returns JM_EXIT_USAGE */
int jm_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
