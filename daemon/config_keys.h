/* SPDX-License-Identifier: MIT */
/*
 * config_keys.h - what the sections with a file of their own
 * (config_gateway.c, config_metrics.c) share: finding a key in their
 * list, once, and saying what is wrong in a sentence config.c prefixes
 * with "PATH:LINE: ".
 */
#ifndef ROOSTD_CONFIG_KEYS_H
#define ROOSTD_CONFIG_KEYS_H

#include <stddef.h>

/*
 * The index of 'key' in names[0..n) (n at most 32), marked given in
 * '*seen'. -1 for a key not in the list; -2, with what is wrong in
 * 'err', for one given before.
 */
int rd_key_find(const char *const *names, int n, unsigned *seen,
                const char *key, char *err, size_t len);

/* Print what is wrong into 'err'; returns 0 (a failed key). */
__attribute__((format(printf, 3, 4))) int rd_key_bad(char *err, size_t len,
                                                     const char *fmt, ...);

#endif
