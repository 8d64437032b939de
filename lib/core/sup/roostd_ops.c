/* SPDX-License-Identifier: MIT */
/*
 * roostd_ops.c - operators' requests to roostd whose answer is more than
 * a number: draining the dead letters (DRAIN). roostd answers it in
 * daemon/status.c; the protocol is in proto.h and docs/protocol.md. It
 * goes through the one request path (roost__roostd_request) and reads
 * the raw reply.
 */
#include "core/sup/sup.h"
#include "core/msg/mp.h"

#include <msgpack.h>

/* Largest reply taken. */
#define REPLY_MAX (64u << 10)

int
roost_deadletters_drain(roost_ctx_t *ctx, uint64_t *count)
{
	static const uint8_t empty_array = 0x90; /* MessagePack [] */
	struct roost__reply rp = {NULL, REPLY_MAX, 0};
	msgpack_unpacked up;
	const msgpack_object *val;
	int64_t code;
	int rc;

	if (ctx == NULL)
		return -EINVAL;
	rp.rp_buf = roost__malloc(rp.rp_cap);
	if (rp.rp_buf == NULL)
		return -ENOMEM;
	rc = roost__roostd_request(ctx, ROOST__KIND_DRAIN, &empty_array, 1,
	                           ROOST_ROOSTD_TIMEOUT_MS, &rp);
	if (rc < 0)
		goto out;
	msgpack_unpacked_init(&up);
	rc = roost__reply_split(&rp, &up, &code, &val);
	if (rc == 0 && code < 0)
		rc = (int)code;
	else if (rc == 0 &&
	         (val == NULL || val->type != MSGPACK_OBJECT_POSITIVE_INTEGER))
		rc = ROOST_EPROTO;
	else if (rc == 0 && count != NULL)
		*count = val->via.u64;
	msgpack_unpacked_destroy(&up);
out:
	roost__free(rp.rp_buf);
	return rc;
}
