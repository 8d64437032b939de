/* SPDX-License-Identifier: MIT */
/*
 * roostd_ops.c - operators' requests to roostd whose answer is more than
 * a number: the list of live alarms (TIMERS, a page per request) and
 * draining the dead letters (DRAIN). roostd answers them in
 * daemon/status.c; the protocol is in proto.h and docs/protocol.md. They
 * go through the one request path (roost__roostd_request) and read the
 * raw reply.
 */
#include "roost_impl.h"
#include "core/mp.h"
#include "core/proto.h"

#include <msgpack.h>

/* Timers asked for per request; roostd may answer fewer (it keeps a
 * reply within a byte budget). */
#define TIMERS_PAGE 64u
/* Largest reply taken (roostd keeps TIMERS replies under 16 KiB). */
#define REPLY_MAX (64u << 10)

/* One timer map of a TIMERS reply into 't'. */
static int
decode_timer(const msgpack_object *o, roost_timer_info_t *t)
{
	const msgpack_object *d;
	uint64_t kind, flags;

	memset(t, 0, sizeof(*t));
	d = roost__mp_map_get(o, "data");
	if (!roost__mp_get_u64(o, "id", &t->id) || !roost__mp_get_u64(o, "to", &t->to.id) ||
	    !roost__mp_get_u64(o, "owner", &t->owner.id) || !roost__mp_get_u64(o, "kind", &kind) ||
	    !roost__mp_get_u64(o, "flags", &flags) ||
	    !roost__mp_get_i64(o, "due_in_ns", &t->due_in_ns) ||
	    !roost__mp_get_u64(o, "interval_ns", &t->interval_ns) ||
	    !roost__mp_get_u64(o, "fired", &t->fired) || d == NULL ||
	    d->type != MSGPACK_OBJECT_BIN ||
	    d->via.bin.size > ROOST_TIMER_DATA_MAX || kind > UINT32_MAX ||
	    flags > UINT32_MAX)
		return ROOST_EPROTO;
	t->kind = (uint32_t)kind;
	t->flags = (uint32_t)flags;
	t->size = d->via.bin.size;
	if (d->via.bin.size > 0)
		memcpy(t->data, d->via.bin.ptr, d->via.bin.size);
	return 0;
}

/*
 * One TIMERS page from 'offset': each timer to 'fn'. Sets '*next' to the
 * offset of the next page and '*total' to the number of live timers.
 */
static int
timers_page(roost_ctx_t *ctx, struct roost__reply *rp, uint64_t offset,
            roost_timer_fn fn, void *arg, int *count, uint64_t *next,
            uint64_t *total)
{
	char req[32];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked up;
	const msgpack_object *val;
	const msgpack_object *list;
	roost_timer_info_t t;
	int64_t code;
	uint32_t i;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, offset);
	msgpack_pack_uint32(&pk, TIMERS_PAGE);
	if (sb.size > sizeof(req)) {
		msgpack_sbuffer_destroy(&sb);
		return -EINVAL;
	}
	memcpy(req, sb.data, sb.size);
	rc = roost__roostd_request(ctx, ROOST__KIND_TIMERS, req, sb.size,
	                           ROOST_ROOSTD_TIMEOUT_MS, rp);
	msgpack_sbuffer_destroy(&sb);
	if (rc < 0)
		return rc;
	msgpack_unpacked_init(&up);
	rc = roost__reply_split(rp, &up, &code, &val);
	if (rc < 0)
		goto out;
	if (code < 0) {
		rc = (int)code;
		goto out;
	}
	rc = ROOST_EPROTO;
	if (val == NULL || !roost__mp_get_u64(val, "total", total) ||
	    !roost__mp_get_u64(val, "next", next) ||
	    (list = roost__mp_map_get(val, "timers")) == NULL ||
	    list->type != MSGPACK_OBJECT_ARRAY || *next < offset ||
	    *next - offset != list->via.array.size)
		goto out;
	for (i = 0; i < list->via.array.size; i++) {
		rc = decode_timer(&list->via.array.ptr[i], &t);
		if (rc < 0)
			goto out;
		if (fn != NULL) {
			rc = fn(arg, &t);
			if (rc != 0)
				goto out;
		}
		(*count)++;
	}
	rc = 0;
out:
	msgpack_unpacked_destroy(&up);
	return rc;
}

int
roost_timers_list(roost_ctx_t *ctx, roost_timer_fn fn, void *arg)
{
	struct roost__reply rp = {NULL, REPLY_MAX, 0};
	uint64_t offset = 0;
	uint64_t next = 0;
	uint64_t total = 0;
	int count = 0;
	int rc;

	if (ctx == NULL)
		return -EINVAL;
	rp.rp_buf = roost__malloc(rp.rp_cap);
	if (rp.rp_buf == NULL)
		return -ENOMEM;
	do {
		rc = timers_page(ctx, &rp, offset, fn, arg, &count, &next,
		                 &total);
		if (rc != 0)
			break;
		if (next == offset)
			break; /* an empty page: the list shrank meanwhile */
		offset = next;
	} while (offset < total);
	roost__free(rp.rp_buf);
	return rc != 0 ? rc : count;
}

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
