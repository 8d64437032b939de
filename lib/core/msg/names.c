/* SPDX-License-Identifier: MIT */
/*
 * names.c - registered actor names and kind display names, in the
 * system segment's tables.
 */
#include "core/msg/msg.h"

int
roost_register(roost_ctx_t *ctx, const char *name, roost_aid_t aid)
{
	struct roost__sys *sy;
	struct roost__slot *s;
	uint32_t slot = roost_aid_slot(aid);
	int holder;
	int rc;

	if (ctx == NULL || !roost__name_valid(name))
		return -EINVAL;
	sy = &ctx->cx_sys;
	if (slot >= sy->sy_fixed.sf_nslots || roost_aid_gen(aid) == 0)
		return -ESRCH;
	rc = roost__sys_lock(sy);
	if (rc < 0)
		return rc;
	s = &sy->sy_slots[slot];
	holder = roost__name_holder_locked(sy, name);
	if (roost__load_rlx(&s->sl_state) != ROOST_SLOT_ACTIVE ||
	    roost__load_rlx(&s->sl_gen) != roost_aid_gen(aid)) {
		rc = -ESRCH;
	} else if (holder >= 0 && (uint32_t)holder != slot) {
		rc = -EADDRINUSE;
	} else {
		roost__slot_write_begin(s);
		memset(s->sl_name, 0, sizeof(s->sl_name));
		memcpy(s->sl_name, name, strlen(name));
		roost__slot_write_end(s);
		rc = 0;
	}
	roost__sys_unlock(sy);
	return rc;
}

int
roost_unregister(roost_ctx_t *ctx, const char *name)
{
	struct roost__sys *sy;
	struct roost__slot *s;
	int slot;
	int rc;

	if (ctx == NULL || !roost__name_valid(name))
		return -EINVAL;
	sy = &ctx->cx_sys;
	rc = roost__sys_lock(sy);
	if (rc < 0)
		return rc;
	slot = roost__sys_find_name_locked(sy, name);
	if (slot < 0) {
		rc = slot;
	} else {
		s = &sy->sy_slots[slot];
		roost__slot_write_begin(s);
		memset(s->sl_name, 0, sizeof(s->sl_name));
		roost__slot_write_end(s);
	}
	roost__sys_unlock(sy);
	return rc;
}

int
roost_whereis(roost_ctx_t *ctx, const char *name, roost_aid_t *out)
{
	struct roost__sys *sy;
	struct roost__slot_view sv;
	uint32_t i;
	int rc;

	if (ctx == NULL || out == NULL || name == NULL)
		return -EINVAL;
	if (strchr(name, '@') != NULL)
		return roost__remote_whereis(ctx, name, out);
	if (!roost__name_valid(name))
		return -EINVAL;
	sy = &ctx->cx_sys;
	/* Lock-free: a consistent copy of each slot (seqlock). */
	for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
		rc = roost__sys_slot_read(sy, i, &sv);
		if (rc < 0)
			return rc;
		if (sv.sv_state == ROOST_SLOT_ACTIVE &&
		    strcmp(sv.sv_name, name) == 0) {
			*out = roost__aid_make(i, sv.sv_gen);
			return 0;
		}
	}
	return -ENOENT;
}

static bool
kind_name_valid(const char *name)
{
	size_t n = name == NULL ? 0 : strlen(name);
	size_t i;

	if (n == 0 || n > ROOST_KIND_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f)
			return false;
	}
	return true;
}

int
roost_kind_register(roost_ctx_t *ctx, uint32_t kind, const char *name)
{
	struct roost__sys *sy;
	struct roost__kind *k;
	struct roost__kind *free_k = NULL;
	uint32_t i;
	int rc;

	if (ctx == NULL || !kind_name_valid(name))
		return -EINVAL;
	sy = &ctx->cx_sys;
	rc = roost__sys_lock(sy);
	if (rc < 0)
		return rc;
	for (i = 0; i < ROOST_NKINDS; i++) {
		k = &sy->sy_kinds[i];
		if (!k->kd_used) {
			if (free_k == NULL)
				free_k = k;
			continue;
		}
		if (k->kd_kind == kind) {
			rc = strncmp(k->kd_name, name, sizeof(k->kd_name)) == 0
			             ? 0 : -EEXIST;
			goto out;
		}
	}
	if (free_k == NULL) {
		rc = -ENOSPC;
		goto out;
	}
	memset(free_k->kd_name, 0, sizeof(free_k->kd_name));
	memcpy(free_k->kd_name, name, strlen(name));
	free_k->kd_kind = kind;
	free_k->kd_used = 1;
out:
	roost__sys_unlock(sy);
	return rc;
}

int
roost_kind_name(roost_ctx_t *ctx, uint32_t kind, char *buf, size_t len)
{
	struct roost__sys *sy;
	struct roost__kind k;
	uint32_t i;
	int rc;

	if (ctx == NULL || buf == NULL || len == 0)
		return -EINVAL;
	sy = &ctx->cx_sys;
	rc = roost__sys_lock(sy);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (i = 0; i < ROOST_NKINDS; i++) {
		memcpy(&k, &sy->sy_kinds[i], sizeof(k));
		if (k.kd_used && k.kd_kind == kind) {
			k.kd_name[sizeof(k.kd_name) - 1] = '\0';
			if (strlen(k.kd_name) >= len) {
				rc = -ENOBUFS;
			} else {
				memcpy(buf, k.kd_name, strlen(k.kd_name) + 1);
				rc = 0;
			}
			break;
		}
	}
	roost__sys_unlock(sy);
	return rc;
}
