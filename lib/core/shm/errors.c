/* SPDX-License-Identifier: MIT */
/*
 * errors.c - text for every code a roost function returns, generated from
 * the one list in roost.h (ROOST_ERRNO_MAP), and the corruption hook.
 */
#include "core/shm/shm.h"

#include <stdio.h>

const char *
roost_strerror(int err)
{
	switch (err) {
#define ROOST__ERR_TEXT(name, val, text) \
	case (val):                       \
		return (text);
		ROOST_ERRNO_MAP(ROOST__ERR_TEXT)
#undef ROOST__ERR_TEXT
	case 0:
		return "success";
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err); /* glibc's table is static */
	return "unknown error";
}

const char *
roost_err_name(int err)
{
	switch (err) {
#define ROOST__ERR_NAME(name, val, text) \
	case (val):                       \
		return "ROOST_" #name;
		ROOST_ERRNO_MAP(ROOST__ERR_NAME)
#undef ROOST__ERR_NAME
	case 0:
		return "OK";
	default:
		break;
	}
	if (err < 0 && err > -4096) {
		const char *n = strerrorname_np(-err);
		if (n != NULL)
			return n;
	}
	return "UNKNOWN";
}

int
roost__corrupt_at(const char *file, int line)
{
	if (getenv("ROOST_DEBUG") != NULL)
		fprintf(stderr, "roost: shared memory corrupt at %s:%d\n", file,
		        line);
	return ROOST_ECORRUPT;
}
