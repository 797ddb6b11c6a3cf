/* Escaping of the free text in a trace (header values, graph and phase
 * names, comments): docs/trace-format.md, "Escapes". Text from a command
 * line or a file name can hold a newline, which written raw would end the
 * line and let the rest be read as events (issue 11). */
#include <stdio.h>
#include <string.h>

#include "trace.h"

size_t jm_trace_escape(const char *raw, int escape_spaces, char *out, size_t outlen)
{
	size_t n = 0, len = strlen(raw);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];
		char e[5] = {c, 0};
		if (c == '\\')
			memcpy(e, "\\\\", 3);
		else if (c == '\n')
			memcpy(e, "\\n", 3);
		else if (c == '\r')
			memcpy(e, "\\r", 3);
		else if (c == '\t')
			memcpy(e, "\\t", 3);
		else if (c < 0x20 || c == 0x7f ||
			 /* a space ends a token, and the reader trims the ends */
			 (c == ' ' && (escape_spaces || i == 0 || i + 1 == len)))
			snprintf(e, sizeof(e), "\\x%02x", c);
		size_t k = strlen(e);
		if (n + k < outlen)
			memcpy(out + n, e, k);
		n += k;
	}
	if (outlen)
		out[n < outlen ? n : outlen - 1] = 0;
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int jm_trace_unescape(const char *text, char *out, size_t outlen, char *why, size_t whylen)
{
	size_t n = 0;
	for (size_t i = 0; text[i]; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			snprintf(why, whylen, "byte %zu is a control character (0x%02x); "
				 "write it as \\x%02x", i, c, c);
			return -1;
		}
		if (c == '\\') {
			char d = text[++i];
			int hi, lo;
			switch (d) {
			case '\\': c = '\\'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'x':
				if ((hi = hexval(text[i + 1])) < 0 || (lo = hexval(text[i + 2])) < 0) {
					snprintf(why, whylen, "byte %zu: \\x needs two hex digits", i - 1);
					return -1;
				}
				c = (unsigned char)(hi << 4 | lo);
				i += 2;
				if (!c) {
					snprintf(why, whylen, "byte %zu: \\x00 (NUL) is not allowed",
						 i - 3);
					return -1;
				}
				break;
			case 0:
				snprintf(why, whylen, "byte %zu: a backslash ends the text (write "
					 "\\\\ for one)", i - 1);
				return -1;
			default:
				snprintf(why, whylen, "byte %zu: unknown escape '\\%c' (known: \\\\, "
					 "\\n, \\r, \\t, \\xHH)", i - 1,
					 (unsigned char)d > 0x20 && (unsigned char)d < 0x7f ? d : '?');
				return -1;
			}
		}
		if (n + 1 >= outlen) {
			snprintf(why, whylen, "longer than %zu bytes", outlen - 1);
			return -1;
		}
		out[n++] = (char)c;
	}
	out[n] = 0;
	return 0;
}
