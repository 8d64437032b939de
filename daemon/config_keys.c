/* SPDX-License-Identifier: MIT */
/*
 * config_keys.c - a key of a section with a file of its own
 * (config_keys.h).
 */
#include "config_keys.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
rd_key_bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return 0;
}

int
rd_key_find(const char *const *names, int n, unsigned *seen, const char *key,
            char *err, size_t len)
{
	int k;

	for (k = 0; k < n; k++)
		if (strcmp(names[k], key) == 0)
			break;
	if (k == n)
		return -1;
	if ((*seen & (1u << k)) != 0) {
		rd_key_bad(err, len, "key '%s' set twice", key);
		return -2;
	}
	*seen |= 1u << k;
	return k;
}
