#include "exit_codes.h"

#include <stdarg.h>
#include <stdio.h>

int jm_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("jitmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return JM_EXIT_USAGE;
}
