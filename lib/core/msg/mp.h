/* SPDX-License-Identifier: MIT */
/*
 * mp.h - reading MessagePack from a peer, the library's one way: a bounds
 * check before msgpack-c decodes anything (mp_check.c), then lookups in a
 * decoded map (mp_map.c). Every decoder of a payload or a reply (pack.c,
 * control.c, roostd_call.c, roostd) goes through these.
 */
#ifndef ROOST_CORE_MP_H
#define ROOST_CORE_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * True if 'data' is exactly one MessagePack value whose containers never
 * declare more elements than bytes remain. Call it before msgpack-c
 * decodes a peer's bytes: msgpack-c allocates what containers declare.
 */
bool roost__mp_check(const void *data, size_t n);

/* The value of string key 'key' in 'map', or NULL (absent, or 'map' is
 * not a map). The first of duplicate keys wins. */
const msgpack_object *roost__mp_map_get(const msgpack_object *map,
                                        const char *key);
/* An unsigned / signed integer under 'key': false if absent, of another
 * type, or out of the type's range. */
bool roost__mp_get_u64(const msgpack_object *map, const char *key,
                       uint64_t *out);
bool roost__mp_get_i64(const msgpack_object *map, const char *key,
                       int64_t *out);

#endif /* ROOST_CORE_MP_H */
