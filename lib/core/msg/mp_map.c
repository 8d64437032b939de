/* SPDX-License-Identifier: MIT */
/*
 * mp_map.c - lookups in a decoded MessagePack map (mp.h). The map came
 * from a peer and passed roost__mp_check; its keys are compared by
 * length and bytes, never as C strings (they need not end in NUL).
 */
#include "core/msg/msg.h"
#include "core/msg/mp.h"

const msgpack_object *
roost__mp_map_get(const msgpack_object *map, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		/* An empty key's pointer may be NULL: no memcmp then. */
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    (n == 0 || memcmp(k->via.str.ptr, key, n) == 0))
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

bool
roost__mp_get_u64(const msgpack_object *map, const char *key, uint64_t *out)
{
	const msgpack_object *o = roost__mp_map_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = o->via.u64;
	return true;
}

bool
roost__mp_get_i64(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *o = roost__mp_map_get(map, key);

	if (o == NULL)
		return false;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*out = o->via.i64;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX) {
		*out = (int64_t)o->via.u64;
		return true;
	}
	return false;
}
