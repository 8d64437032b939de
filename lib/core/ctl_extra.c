/* SPDX-License-Identifier: MIT */
/*
 * ctl_extra.c - operators' requests to roostd whose answer is more than
 * a number: the list of live alarms (TIMERS, a page per request) and
 * draining the dead letters (DRAIN). roostd answers them in
 * daemon/status.c; the protocol is in proto.h and docs/protocol.md.
 *
 * roost__roostd_call() decodes only [rc] or [rc, number]; the TIMERS
 * reply carries a map, so the call is made here under the same rules:
 * the reply is taken aside from the system lane (a message in hand stays
 * in hand), late replies to this context's earlier requests are dropped,
 * and roostd's liveness is checked while we wait.
 */
#include "roost_impl.h"
#include "core/proto.h"

#include <msgpack.h>

/* Timers asked for per request; roostd may answer fewer (it keeps a
 * reply within a byte budget). */
#define TIMERS_PAGE 64u
/* How long one wait lasts before roostd's liveness is checked again. */
#define LIVENESS_CHECK_MS 200
/* Largest reply taken (roostd keeps TIMERS replies under 16 KiB). */
#define REPLY_MAX (64u << 10)

struct raw_reply {
	uint64_t rr_roostd;
	uint64_t rr_corr;
	uint64_t rr_seed; /* first correlation id of this context */
	bool rr_mine;
	size_t rr_len;
	uint8_t *rr_buf; /* REPLY_MAX bytes */
};

static bool
match_raw(const roost_msg_t *m, void *arg)
{
	struct raw_reply *rr = arg;
	uint64_t corr = roost_msg_corr(m);

	if (roost_msg_kind(m) != ROOST__KIND_REPLY ||
	    roost_msg_from(m).id != rr->rr_roostd)
		return false;
	if (corr == rr->rr_corr) {
		rr->rr_mine = true;
		rr->rr_len = roost_msg_size(m);
		if (rr->rr_len > REPLY_MAX)
			rr->rr_len =
			    REPLY_MAX + 1; /* malformed; never copied */
		else
			memcpy(rr->rr_buf, roost_msg_data(m), rr->rr_len);
		return true;
	}
	/* A reply to an earlier request of ours that timed out: taken and
	 * dropped. Anything else is not ours to take. */
	return corr > rr->rr_seed && corr < rr->rr_corr;
}

/* True unless roostd's process is gone for sure (a zombie counts as
 * gone; /proc unreadable counts as alive). */
static bool
roostd_alive(roost_ctx_t *ctx)
{
	int32_t pid = roost__load_rlx(&ctx->cx_sys.sy_hdr->sh_owner_pid);
	uint64_t start;

	return pid > 0 && roost__plat_proc_start(pid, &start) != -ESRCH;
}

/*
 * Send request 'kind' with payload 'req' to roostd and wait up to
 * ROOST_ROOSTD_TIMEOUT_MS for its reply, copied into 'rr->rr_buf'.
 * Returns 0, -ENOTCONN (no roostd), -ETIMEDOUT or a send error.
 */
static int
call_raw(roost_ctx_t *ctx, uint32_t kind, const void *req, size_t len,
         struct raw_reply *rr)
{
	roost_aid_t roostd;
	uint64_t deadline;
	uint64_t now;
	int wait;
	int rc;

	rc = roost_whereis(ctx, ROOST__ROOSTD_NAME, &roostd);
	if (rc == -ENOENT)
		return -ENOTCONN;
	if (rc < 0)
		return rc;
	rr->rr_roostd = roostd.id;
	rr->rr_corr = ++ctx->cx_corr;
	rr->rr_seed = ctx->cx_corr_seed;
	rc = roost_send_ex(ctx, roostd, kind,
	                   ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK, rr->rr_corr,
	                   req, len, ROOST_ROOSTD_TIMEOUT_MS);
	if (rc < 0)
		return rc == -ESRCH || rc == -ESHUTDOWN ? -ENOTCONN : rc;
	deadline = roost__plat_now_ns() +
	           (uint64_t)ROOST_ROOSTD_TIMEOUT_MS * 1000000u;
	for (;;) {
		now = roost__plat_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		wait = LIVENESS_CHECK_MS;
		if (deadline - now < (uint64_t)wait * 1000000u)
			wait = (int)((deadline - now + 999999u) / 1000000u);
		rr->rr_mine = false;
		rc = roost__mbox_take_aside(&ctx->cx_mbox, &ctx->cx_rx,
		                            ROOST_LANE_SYSTEM, match_raw, rr,
		                            wait);
		if (rc == 0 && rr->rr_mine)
			return rr->rr_len > REPLY_MAX ? ROOST_EPROTO : 0;
		if (rc == 0)
			continue; /* a late reply: dropped */
		if (rc != -ETIMEDOUT)
			return rc;
		if (!roostd_alive(ctx))
			return -ENOTCONN;
	}
}

/* The reply's [rc, value]: '*rc' and, if present, '*value' (a view into
 * 'up'). ROOST_EPROTO if malformed. */
static int
reply_split(msgpack_unpacked *up, const struct raw_reply *rr, int64_t *rc,
            const msgpack_object **value)
{
	const msgpack_object *o;

	/* Checked before msgpack-c allocates what containers declare. */
	if (!roost_msgpack_valid(rr->rr_buf, rr->rr_len) ||
	    msgpack_unpack_next(up, (const char *)rr->rr_buf, rr->rr_len,
	                        NULL) != MSGPACK_UNPACK_SUCCESS)
		return ROOST_EPROTO;
	o = &up->data;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1 ||
	    o->via.array.size > 2)
		return ROOST_EPROTO;
	if (o->via.array.ptr[0].type == MSGPACK_OBJECT_NEGATIVE_INTEGER &&
	    o->via.array.ptr[0].via.i64 >= -4095)
		*rc = o->via.array.ptr[0].via.i64;
	else if (o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	         o->via.array.ptr[0].via.u64 == 0)
		*rc = 0;
	else
		return ROOST_EPROTO;
	*value = o->via.array.size == 2 ? &o->via.array.ptr[1] : NULL;
	return 0;
}

/* Map lookup by string key; NULL if absent. */
static const msgpack_object *
map_get(const msgpack_object *map, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	if (map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
		    memcmp(k->via.str.ptr, key, n) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

static bool
get_u64(const msgpack_object *map, const char *key, uint64_t *out)
{
	const msgpack_object *o = map_get(map, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = o->via.u64;
	return true;
}

static bool
get_i64(const msgpack_object *map, const char *key, int64_t *out)
{
	const msgpack_object *o = map_get(map, key);

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

/* One timer map of a TIMERS reply into 't'. */
static int
decode_timer(const msgpack_object *o, roost_timer_info_t *t)
{
	const msgpack_object *d;
	uint64_t kind, flags;

	memset(t, 0, sizeof(*t));
	d = map_get(o, "data");
	if (!get_u64(o, "id", &t->id) || !get_u64(o, "to", &t->to.id) ||
	    !get_u64(o, "owner", &t->owner.id) || !get_u64(o, "kind", &kind) ||
	    !get_u64(o, "flags", &flags) ||
	    !get_i64(o, "due_in_ns", &t->due_in_ns) ||
	    !get_u64(o, "interval_ns", &t->interval_ns) ||
	    !get_u64(o, "fired", &t->fired) || d == NULL ||
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
timers_page(roost_ctx_t *ctx, struct raw_reply *rr, uint64_t offset,
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
	rc = call_raw(ctx, ROOST__KIND_TIMERS, req, sb.size, rr);
	msgpack_sbuffer_destroy(&sb);
	if (rc < 0)
		return rc;
	msgpack_unpacked_init(&up);
	rc = reply_split(&up, rr, &code, &val);
	if (rc < 0)
		goto out;
	if (code < 0) {
		rc = (int)code;
		goto out;
	}
	rc = ROOST_EPROTO;
	if (val == NULL || !get_u64(val, "total", total) ||
	    !get_u64(val, "next", next) ||
	    (list = map_get(val, "timers")) == NULL ||
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
	struct raw_reply rr;
	uint64_t offset = 0;
	uint64_t next = 0;
	uint64_t total = 0;
	int count = 0;
	int rc;

	if (ctx == NULL)
		return -EINVAL;
	memset(&rr, 0, sizeof(rr));
	rr.rr_buf = roost__malloc(REPLY_MAX);
	if (rr.rr_buf == NULL)
		return -ENOMEM;
	do {
		rc = timers_page(ctx, &rr, offset, fn, arg, &count, &next,
		                 &total);
		if (rc != 0)
			break;
		if (next == offset)
			break; /* an empty page: the list shrank meanwhile */
		offset = next;
	} while (offset < total);
	roost__free(rr.rr_buf);
	return rc != 0 ? rc : count;
}

int
roost_deadletters_drain(roost_ctx_t *ctx, uint64_t *count)
{
	static const uint8_t empty_array = 0x90; /* MessagePack [] */
	struct raw_reply rr;
	msgpack_unpacked up;
	const msgpack_object *val;
	int64_t code;
	int rc;

	if (ctx == NULL)
		return -EINVAL;
	memset(&rr, 0, sizeof(rr));
	rr.rr_buf = roost__malloc(REPLY_MAX);
	if (rr.rr_buf == NULL)
		return -ENOMEM;
	rc = call_raw(ctx, ROOST__KIND_DRAIN, &empty_array, 1, &rr);
	if (rc < 0)
		goto out;
	msgpack_unpacked_init(&up);
	rc = reply_split(&up, &rr, &code, &val);
	if (rc == 0 && code < 0)
		rc = (int)code;
	else if (rc == 0 &&
	         (val == NULL || val->type != MSGPACK_OBJECT_POSITIVE_INTEGER))
		rc = ROOST_EPROTO;
	else if (rc == 0 && count != NULL)
		*count = val->via.u64;
	msgpack_unpacked_destroy(&up);
out:
	roost__free(rr.rr_buf);
	return rc;
}
