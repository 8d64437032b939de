/* SPDX-License-Identifier: MIT */
/*
 * kinds.c - kind display names: the reserved ones (msg/kinds.h) and those
 * actors registered (roost_view_kind_name, roost_view_kind_lookup).
 */
#include "core/view/view_impl.h"

/* The kind-name table is copied again when older than this. */
#define KINDS_TTL_NS (1000ull * 1000000u)
/* How long the kind-name copy waits for the table lock. */
#define KINDS_LOCK_MS 50

/* The names of the kinds roost reserves (core/msg/kinds.h). */
static const struct {
	uint32_t bk_kind;
	const char *bk_name;
} builtin_kinds[] = {
#define BUILTIN_KIND(name, num, text) {num, text},
	ROOST__KINDS(BUILTIN_KIND)
#undef BUILTIN_KIND
};

static const char *
builtin_kind(uint32_t kind)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_kinds) / sizeof(builtin_kinds[0]); i++) {
		if (builtin_kinds[i].bk_kind == kind)
			return builtin_kinds[i].bk_name;
	}
	return NULL;
}

/* Copy the kind table; under its lock when that comes quickly, else
 * without (a name being registered right now may then read torn once;
 * each entry is still checked). */
static void
kinds_refresh(roost_view_t *v)
{
	uint64_t now = roost__plat_now_ns();
	bool locked;

	if (v->vw_kinds_at != 0 && now - v->vw_kinds_at < KINDS_TTL_NS)
		return;
	locked = roost__sys_lock_timed(&v->vw_sys, KINDS_LOCK_MS) == 0;
	memcpy(v->vw_kinds, (const void *)v->vw_sys.sy_kinds,
	       sizeof(v->vw_kinds));
	if (locked)
		roost__sys_unlock(&v->vw_sys);
	v->vw_kinds_at = now;
}

int
roost_view_kind_name(roost_view_t *v, uint32_t kind, char *buf, size_t len)
{
	const struct roost__kind *k;
	const char *name = NULL;
	size_t n;
	uint32_t i;

	if (v == NULL || buf == NULL || len == 0)
		return -EINVAL;
	name = builtin_kind(kind);
	if (name == NULL) {
		kinds_refresh(v);
		for (i = 0; i < ROOST_NKINDS && name == NULL; i++) {
			k = &v->vw_kinds[i];
			if (k->kd_used == 1 && k->kd_kind == kind &&
			    memchr(k->kd_name, '\0', sizeof(k->kd_name)) !=
			        NULL &&
			    k->kd_name[0] != '\0')
				name = k->kd_name;
		}
	}
	if (name == NULL)
		return -ENOENT;
	n = strlen(name);
	if (n >= len)
		return -ENOBUFS;
	memcpy(buf, name, n + 1);
	/* A name is printable ASCII (roost_kind_register checks it); show
	 * anything else from a damaged table as '?'. */
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] <= ' ' ||
		    (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?';
	return 0;
}

int
roost_view_kind_lookup(roost_view_t *v, const char *name, uint32_t *kind)
{
	char buf[ROOST_KIND_NAME_MAX + 1];
	const struct roost__kind *k;
	uint32_t i;

	if (v == NULL || name == NULL || kind == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(builtin_kinds) / sizeof(builtin_kinds[0]); i++) {
		if (strcmp(builtin_kinds[i].bk_name, name) == 0) {
			*kind = builtin_kinds[i].bk_kind;
			return 0;
		}
	}
	kinds_refresh(v);
	for (i = 0; i < ROOST_NKINDS; i++) {
		k = &v->vw_kinds[i];
		/* Through roost_view_kind_name, so a damaged entry is checked
		 * the same way. */
		if (k->kd_used == 1 &&
		    roost_view_kind_name(v, k->kd_kind, buf, sizeof(buf)) ==
		        0 &&
		    strcmp(buf, name) == 0) {
			*kind = k->kd_kind;
			return 0;
		}
	}
	return -ENOENT;
}

/* --- queued messages --------------------------------------------------- */
