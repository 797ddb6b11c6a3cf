/* Numbers as users type them and as jitmm prints them: sizes with K/M/G/T
 * suffixes (powers of 1024), unsigned integers, and the check that a text
 * quoted in a one-line message holds no control characters. */
#ifndef JITMM_NUMPARSE_H
#define JITMM_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* "16M" -> 16777216. Returns -1 on a malformed size. */
int jm_parse_size(const char *s, uint64_t *out);
/* 16777216 -> "16M"; exact only, else bytes. */
void jm_format_size(uint64_t v, char *buf, size_t len);
int jm_parse_u64(const char *s, uint64_t *out);
/* 0 if text has no control characters (so that messages quoting it stay
 * one line), else -1 with "WHAT: byte N is a control character". */
int jm_text_check(const char *text, const char *what, char *err, size_t errlen);

#endif
