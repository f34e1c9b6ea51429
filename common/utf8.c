/* utf8.c - well-formed UTF-8 (RFC 3629, Table 3-7 of Unicode); see utf8.h. */
#include "common/utf8.h"

/* The length of the well-formed sequence at p, or 0 if there is none. */
static int
seq_len(const unsigned char *p)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, overlong lead, or past U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int
utf8_seq_len(const char *s)
{
	return seq_len((const unsigned char *)s);
}

bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	for (; *p; p += n)
		if ((n = seq_len(p)) == 0)
			return false;
	return true;
}

char *
utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	int n;

	while (*p) {
		n = seq_len(p);
		if (n == 0) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
	return s;
}
