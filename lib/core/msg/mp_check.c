/* SPDX-License-Identifier: MIT */
/*
 * mp_check.c - a bounds check of MessagePack bytes before msgpack-c
 * decodes them. msgpack-c allocates what a container *declares* (a map32
 * may claim four billion entries in five bytes), so a hostile peer could
 * make a decoder allocate gigabytes. Every element takes at least one
 * byte, so a value is accepted only if no container ever claims more
 * elements than bytes remain.
 */
#include "core/msg/msg.h"
#include "core/msg/mp.h"

static uint64_t
be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Bytes of the length field and the payload size of a str/bin/ext
 * header byte; returns false if 'b' is not one. */
static bool
sized(uint8_t b, unsigned *lenbytes, unsigned *extra)
{
	*extra = 0;
	switch (b) {
	case 0xc4: case 0xd9: *lenbytes = 1; return true;
	case 0xc5: case 0xda: *lenbytes = 2; return true;
	case 0xc6: case 0xdb: *lenbytes = 4; return true;
	case 0xc7: *lenbytes = 1; *extra = 1; return true; /* ext: + type */
	case 0xc8: *lenbytes = 2; *extra = 1; return true;
	case 0xc9: *lenbytes = 4; *extra = 1; return true;
	default: return false;
	}
}

/* Fixed-size values after their header byte; -1 if not fixed. */
static int
fixed_size(uint8_t b)
{
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 0;
	switch (b) {
	case 0xcc: case 0xd0: return 1;
	case 0xcd: case 0xd1: return 2;
	case 0xca: case 0xce: case 0xd2: return 4;
	case 0xcb: case 0xcf: case 0xd3: return 8;
	case 0xd4: return 2;
	case 0xd5: return 3;
	case 0xd6: return 5;
	case 0xd7: return 9;
	case 0xd8: return 17;
	default: return -1;
	}
}

bool
roost__mp_check(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t pending = 1; /* values still to read */
	uint64_t count;
	uint64_t len;
	unsigned lb, extra;
	size_t pos = 0;
	uint8_t b;
	int fs;

	while (pending > 0) {
		if (pos >= n || pending > n - pos)
			return false;
		b = p[pos++];
		pending--;
		fs = fixed_size(b);
		if (fs >= 0) {
			if ((size_t)fs > n - pos)
				return false;
			pos += (size_t)fs;
			continue;
		}
		if (b >= 0xa0 && b <= 0xbf) {
			len = b & 0x1f;
		} else if (sized(b, &lb, &extra)) {
			if (lb > n - pos)
				return false;
			len = be(p + pos, lb) + extra;
			pos += lb;
		} else {
			if (b >= 0x80 && b <= 0x8f)
				count = (uint64_t)(b & 0x0f) * 2;
			else if (b >= 0x90 && b <= 0x9f)
				count = b & 0x0f;
			else if (b == 0xdc || b == 0xde || b == 0xdd || b == 0xdf) {
				lb = (b == 0xdc || b == 0xde) ? 2 : 4;
				if (lb > n - pos)
					return false;
				count = be(p + pos, lb) * (b >= 0xde ? 2 : 1);
				pos += lb;
			} else {
				return false; /* 0xc1: never used */
			}
			pending += count;
			continue;
		}
		if (len > n - pos)
			return false;
		pos += (size_t)len;
	}
	return pos == n;
}

bool
roost_msgpack_valid(const void *data, size_t size)
{
	return (data != NULL || size == 0) && roost__mp_check(data, size);
}
