/* SPDX-License-Identifier: MIT */
/*
 * fuzz_decode.c - libFuzzer target: arbitrary bytes as the payload of a
 * message flagged MessagePack, fed to every decoder a peer's bytes reach:
 * roost_notice_decode (DOWN / EXIT notices) and the map readers
 * (roost_msg_get_*). Nothing may crash, leak or read outside the payload.
 */
#include "roost_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {"aid", "ref", "pid", "status",
	                                   "signal", "name", "reason",
	                                   "restarting", "data", "", "x"};
	struct roost_msg m;
	roost_notice_t n;
	const void *bin;
	size_t binlen;
	char buf[16];
	uint64_t u;
	int64_t i;
	double d;
	bool b;
	size_t k;

	/* A private copy, so ASan sees any read past the payload. */
	uint8_t *copy = malloc(size ? size : 1);

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(&m, 0, sizeof(m));
	m.m_data = copy;
	m.m_size = size;
	m.m_flags = ROOST_MSG_MSGPACK | ROOST_MSG_SYSTEM;
	m.m_kind = ROOST_KIND_DOWN;
	if (roost_notice_decode(&m, &n) == 0 &&
	    (n.aid.id == 0 ||
	     strcmp(roost_exit_reason_name(n.reason), "?") == 0 ||
	     strlen(n.name) > ROOST_NAME_MAX))
		__builtin_trap();
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		roost_msg_get_int(&m, keys[k], &i);
		roost_msg_get_uint(&m, keys[k], &u);
		roost_msg_get_double(&m, keys[k], &d);
		roost_msg_get_bool(&m, keys[k], &b);
		if (roost_msg_get_str(&m, keys[k], buf, sizeof(buf)) == 0 &&
		    strlen(buf) >= sizeof(buf))
			__builtin_trap();
		if (roost_msg_get_bin(&m, keys[k], &bin, &binlen) == 0 &&
		    binlen > 0 &&
		    ((const uint8_t *)bin < copy ||
		     (const uint8_t *)bin + binlen > copy + size))
			__builtin_trap();
	}
	free(copy);
	return 0;
}
