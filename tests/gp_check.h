/* A check of a gnuplot script jitmm wrote, shared by the report tests and
 * the results fuzz target: data reaches a script only as single-quoted
 * strings (reports/plots.c, jm_gp_string), so outside them there is no
 * backquote (command substitution), no '@' (macro), no "system" and no
 * line starting with '!' (a shell command); double-quoted strings (only
 * fixed text, such as "\n") hold none of these either; every single-quoted
 * string ends on its line; a comment does not continue onto the next line.
 * Returns NULL, or what is wrong. */
#ifndef JITMM_GP_CHECK_H
#define JITMM_GP_CHECK_H

#include <string.h>

static inline const char *gp_check_script(const char *gp)
{
	int line_start = 1;
	for (const char *p = gp; *p; p++) {
		if (line_start) {
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '!')
				return "a line starts with '!' (a shell command)";
		}
		line_start = *p == '\n';
		if (*p == '\'') {
			for (p++; *p && !(*p == '\'' && p[1] != '\''); p++) {
				if (*p == '\'')
					p++; /* '' */
				if (*p == '\n')
					return "a single-quoted string spans lines";
			}
			if (!*p)
				return "an unterminated single-quoted string";
			continue;
		}
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == '`' || *p == '@' || *p == '\n')
					return "a double-quoted string with '`', '@' or a newline";
			}
			if (!*p)
				return "an unterminated double-quoted string";
			continue;
		}
		if (*p == '#') {
			while (p[1] && p[1] != '\n')
				p++;
			if (*p == '\\')
				return "a comment continued onto the next line";
			continue;
		}
		if (*p == '`')
			return "a backquote outside a string";
		if (*p == '@')
			return "an '@' (macro) outside a string";
		if (!strncmp(p, "system", 6))
			return "\"system\" outside a string";
	}
	return NULL;
}

#endif
