/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - heap allocation wrappers with failure injection for tests.
 */
#include "core/shm/shm.h"

long roost__alloc_fail_after = -1;

static bool
should_fail(void)
{
	if (roost__alloc_fail_after < 0)
		return false;
	if (roost__alloc_fail_after == 0)
		return true;
	roost__alloc_fail_after--;
	return false;
}

void *
roost__malloc(size_t n)
{
	return should_fail() ? NULL : malloc(n);
}

void *
roost__calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : calloc(n, size);
}

void
roost__free(void *p)
{
	free(p);
}
