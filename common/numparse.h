/* Numbers as users type them and as jitmm prints them: sizes with K/M/G/T
 * suffixes (powers of 1024), unsigned integers, and the check that a text
 * that names something (a workload spec, an option, a label) is UTF-8
 * without control characters, so that a message quoting it stays one line
 * and results.json holding it passes its own loader (results_shape.c). */
#ifndef JITMM_NUMPARSE_H
#define JITMM_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* "16M" -> 16777216. Returns -1 on a malformed size. */
int jm_parse_size(const char *s, uint64_t *out);
/* 16777216 -> "16M"; exact only, else bytes. */
void jm_format_size(uint64_t v, char *buf, size_t len);
int jm_parse_u64(const char *s, uint64_t *out);
/* 0 if text is valid UTF-8 without control characters, else -1 with
 * "WHAT: byte N is a control character (0xNN)" or "WHAT: byte N is not
 * valid UTF-8". */
int jm_text_check(const char *text, const char *what, char *err, size_t errlen);
/* Length of the valid UTF-8 prefix of s[0..len) (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF): len if all of it is. */
size_t jm_utf8_valid_prefix(const unsigned char *s, size_t len);

#endif
