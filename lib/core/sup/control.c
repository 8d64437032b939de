/* SPDX-License-Identifier: MIT */
/*
 * control.c - the calls that ask roostd: spawn, kill, shutdown, alarms,
 * monitors, links and the dead-letter drain (proto.h has the wire format), and the decoder of
 * the notices roostd sends back.
 */
#include "core/sup/sup.h"
#include "core/msg/mp.h"

#include <msgpack.h>

/* Build a request with 'pk', send it, return the reply's code (or the
 * call's error) and its value. */
static int
ask(roost_ctx_t *ctx, uint32_t kind, msgpack_sbuffer *sb, int timeout_ms,
    uint64_t *value)
{
	uint64_t v = 0;
	int64_t rc = 0;
	int ret;

	if (sb->size > ROOST__REQ_MAX)
		ret = -EMSGSIZE;
	else
		ret = roost__roostd_call(ctx, kind, sb->data, sb->size,
		                         timeout_ms, &rc, &v);
	msgpack_sbuffer_destroy(sb);
	if (ret < 0)
		return ret;
	if (rc == 0 && value != NULL)
		*value = v;
	return (int)rc;
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

/* A request of 'n' (0 or 1) unsigned arguments: an address, a ref, a
 * timer id, or nothing. */
static int
ask_u64(roost_ctx_t *ctx, uint32_t kind, const uint64_t *arg, uint32_t n,
        uint64_t *value)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (ctx == NULL)
		return -EINVAL;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, n);
	if (n == 1)
		msgpack_pack_uint64(&pk, *arg);
	return ask(ctx, kind, &sb, ROOST_ROOSTD_TIMEOUT_MS, value);
}

void
roost_spawn_opts_init(roost_spawn_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->restart = ROOST_RESTART_PERMANENT;
	o->shutdown_ms = ROOST_SHUTDOWN_MS_DEF;
	o->timeout_ms = 5000;
}

int
roost_spawn(roost_ctx_t *ctx, const roost_spawn_opts_t *o,
            roost_aid_t *out)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t aid = 0;
	size_t argc = 0;
	size_t i;
	int rc;

	if (ctx == NULL || o == NULL || out == NULL || o->program == NULL ||
	    o->program[0] != '/' || o->restart > ROOST_RESTART_TEMPORARY ||
	    (o->flags & ~ROOST_SPAWN_DAEMON) != 0 || o->timeout_ms <= 0 ||
	    (o->name != NULL && !roost__name_valid(o->name)))
		return -EINVAL;
	if (o->argv != NULL)
		while (o->argv[argc] != NULL)
			argc++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 7);
	pack_str(&pk, o->program);
	msgpack_pack_array(&pk, argc > 0 ? argc : 1);
	if (argc == 0)
		pack_str(&pk, o->program);
	for (i = 0; i < argc; i++)
		pack_str(&pk, o->argv[i]);
	if (o->name != NULL)
		pack_str(&pk, o->name);
	else
		msgpack_pack_nil(&pk);
	msgpack_pack_uint32(&pk, o->restart);
	msgpack_pack_uint32(&pk, o->flags);
	msgpack_pack_uint32(&pk, o->mbox_bytes);
	msgpack_pack_uint32(&pk, o->shutdown_ms);
	/* roostd gives up on the child after its own attach limit; wait a
	 * little longer than the caller asked so its answer arrives. */
	rc = ask(ctx, ROOST__KIND_SPAWN, &sb, o->timeout_ms + 1000, &aid);
	if (rc == 0)
		out->id = aid;
	return rc;
}

int
roost_kill(roost_ctx_t *ctx, roost_aid_t aid)
{
	return ask_u64(ctx, ROOST__KIND_KILL, &aid.id, 1, NULL);
}

int
roost_shutdown(roost_ctx_t *ctx)
{
	return ask_u64(ctx, ROOST__KIND_SHUTDOWN, NULL, 0, NULL);
}

int
roost_deadletters_drain(roost_ctx_t *ctx, uint64_t *count)
{
	uint64_t n = 0;
	int rc = ask_u64(ctx, ROOST__KIND_DRAIN, NULL, 0, &n);

	if (rc == 0 && count != NULL)
		*count = n;
	return rc;
}

int
roost_timer_start(roost_ctx_t *ctx, roost_aid_t to, uint64_t delay_us,
                  uint64_t interval_us, uint32_t kind, uint32_t flags,
                  const void *data, size_t size, uint64_t *timer_id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (ctx == NULL || to.id == 0 || (size > 0 && data == NULL) ||
	    (flags & ~ROOST_SEND_MSGPACK) != 0)
		return -EINVAL;
	if (size > ROOST_TIMER_DATA_MAX)
		return -EMSGSIZE;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 6);
	msgpack_pack_uint64(&pk, to.id);
	msgpack_pack_uint64(&pk, delay_us);
	msgpack_pack_uint64(&pk, interval_us);
	msgpack_pack_uint32(&pk, kind);
	msgpack_pack_uint32(&pk, flags);
	msgpack_pack_bin(&pk, size);
	msgpack_pack_bin_body(&pk, data, size);
	return ask(ctx, ROOST__KIND_TIMER, &sb, ROOST_ROOSTD_TIMEOUT_MS,
	           timer_id);
}

int
roost_send_after(roost_ctx_t *ctx, roost_aid_t to, uint64_t delay_us,
                 uint32_t kind, const void *data, size_t size,
                 uint64_t *timer_id)
{
	return roost_timer_start(ctx, to, delay_us, 0, kind, 0, data, size,
	                         timer_id);
}

int
roost_send_interval(roost_ctx_t *ctx, roost_aid_t to, uint64_t delay_us,
                    uint64_t interval_us, uint32_t kind, const void *data,
                    size_t size, uint64_t *timer_id)
{
	if (interval_us == 0)
		return -EINVAL;
	return roost_timer_start(ctx, to, delay_us, interval_us, kind, 0, data,
	                         size, timer_id);
}

int
roost_timer_cancel(roost_ctx_t *ctx, uint64_t timer_id)
{
	return ask_u64(ctx, ROOST__KIND_CANCEL, &timer_id, 1, NULL);
}

int
roost_monitor(roost_ctx_t *ctx, roost_aid_t target, uint64_t *ref)
{
	if (ctx != NULL && roost_aid_node(target) != 0)
		return roost__remote_monitor(ctx, target, ref);
	return ask_u64(ctx, ROOST__KIND_MONITOR, &target.id, 1, ref);
}

int
roost_demonitor(roost_ctx_t *ctx, uint64_t ref)
{
	if (ctx != NULL && ROOST__REF_IS_REMOTE(ref))
		return roost__remote_demonitor(ctx, ref);
	return ask_u64(ctx, ROOST__KIND_DEMONITOR, &ref, 1, NULL);
}

int
roost_link(roost_ctx_t *ctx, roost_aid_t peer)
{
	if (ctx != NULL && roost_aid_node(peer) != 0)
		return roost__remote_link(ctx, ROOST__KIND_LINK, peer);
	return ask_u64(ctx, ROOST__KIND_LINK, &peer.id, 1, NULL);
}

int
roost_unlink(roost_ctx_t *ctx, roost_aid_t peer)
{
	if (ctx != NULL && roost_aid_node(peer) != 0)
		return roost__remote_link(ctx, ROOST__KIND_UNLINK, peer);
	return ask_u64(ctx, ROOST__KIND_UNLINK, &peer.id, 1, NULL);
}

/* The WATCH request of a one-shot child, sent from its own context. */
int
roost__watch_self(roost_ctx_t *ctx, uint32_t flags)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t start;
	int rc;

	rc = roost__plat_proc_start(roost__plat_pid(), &start);
	if (rc < 0)
		return rc;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int32(&pk, (int32_t)roost__plat_pid());
	msgpack_pack_uint64(&pk, start);
	msgpack_pack_uint32(&pk, flags);
	return ask(ctx, ROOST__KIND_WATCH, &sb, ROOST_ROOSTD_TIMEOUT_MS, NULL);
}

void
roost__roostd_tell(roost_ctx_t *ctx, uint32_t kind, uint64_t arg,
                   int timeout_ms)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_uint64(&pk, arg);
	(void)roost__roostd_send(ctx, kind, sb.data, sb.size, timeout_ms, 0);
	msgpack_sbuffer_destroy(&sb);
}

int
roost_stop(roost_ctx_t *ctx, roost_aid_t aid)
{
	struct roost__mbox *mb;
	int rc;

	if (ctx == NULL)
		return -EINVAL;
	for (int tries = 0;; tries++) {
		rc = roost__ctx_peer(ctx, aid, &mb);
		if (rc < 0)
			return rc;
		rc = roost__mbox_shut_user(mb, 1000);
		if (rc != -ESTALE)
			break;
		roost__ctx_peer_drop(ctx, roost_aid_slot(aid));
		if (tries == ROOST__STALE_RETRIES)
			return -EAGAIN;
	}
	if (rc < 0)
		return rc;
	/* The mark first, then the notices: when the target sees STOP, the
	 * user lane it must drain is already final; roostd hears first, so
	 * it takes the exit that follows for a stop. */
	roost__roostd_tell(ctx, ROOST__KIND_STOPPING, aid.id, 1000);
	return roost_send_ex(ctx, aid, ROOST_KIND_STOP, ROOST_SEND_SYSTEM, 0,
	                     NULL, 0, 1000);
}

void
roost__oneshot_done(roost_ctx_t *ctx, int status)
{
	roost__roostd_tell(ctx, ROOST__KIND_DONE, (uint64_t)status, 1000);
}

/* --- notices ------------------------------------------------------- */

static bool
key_is(const msgpack_object *k, const char *name)
{
	size_t n = strlen(name);

	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
	       memcmp(k->via.str.ptr, name, n) == 0;
}

static bool
get_int(const msgpack_object *v, int64_t lo, int64_t hi, int64_t *out)
{
	if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
		*out = (int64_t)v->via.u64;
	else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*out = v->via.i64;
	else
		return false;
	return *out >= lo && *out <= hi;
}

static bool
get_str(const msgpack_object *v, char *buf, size_t len)
{
	if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= len)
		return false;
	if (v->via.str.size > 0) /* an empty string's ptr may be NULL */
		memcpy(buf, v->via.str.ptr, v->via.str.size);
	buf[v->via.str.size] = '\0';
	return true;
}

/* The reason a notice's text names; false for a text no roostd sends. */
static bool
exit_reason_parse(const msgpack_object *v, roost_exit_reason_t *out)
{
	static const struct {
		roost_exit_reason_t er_code;
		const char *er_text;
	} reasons[] = {
#define EXIT_REASON(name, num, text) {ROOST_EXIT_##name, text},
		ROOST_EXIT_REASONS(EXIT_REASON)
#undef EXIT_REASON
	};
	char text[32];
	size_t i;

	if (!get_str(v, text, sizeof(text)))
		return false;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (strcmp(reasons[i].er_text, text) == 0) {
			*out = reasons[i].er_code;
			return true;
		}
	}
	return false;
}

/* One key of a notice map; false if its value is malformed. Unknown keys
 * are skipped (later versions may add some). '*seen_reason' is set when
 * the reason is read. */
static bool
notice_field(roost_notice_t *n, const msgpack_object *k,
             const msgpack_object *v, bool *seen_reason)
{
	int64_t i;

	if (key_is(k, "aid") || key_is(k, "ref")) {
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return false;
		if (key_is(k, "aid"))
			n->aid.id = v->via.u64;
		else
			n->ref = v->via.u64;
	} else if (key_is(k, "pid") || key_is(k, "status") ||
	           key_is(k, "signal")) {
		if (!get_int(v, -1, INT32_MAX, &i))
			return false;
		if (key_is(k, "pid"))
			n->pid = (int32_t)i;
		else if (key_is(k, "status"))
			n->status = (int32_t)i;
		else
			n->signal = (int32_t)i;
	} else if (key_is(k, "restarting")) {
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			return false;
		n->restarting = v->via.boolean;
	} else if (key_is(k, "name")) {
		return get_str(v, n->name, sizeof(n->name));
	} else if (key_is(k, "reason")) {
		*seen_reason = exit_reason_parse(v, &n->reason);
		return *seen_reason;
	}
	return true;
}

const char *
roost_exit_reason_name(roost_exit_reason_t r)
{
	switch (r) {
#define EXIT_REASON_NAME(name, num, text) \
	case ROOST_EXIT_##name:           \
		return text;
		ROOST_EXIT_REASONS(EXIT_REASON_NAME)
#undef EXIT_REASON_NAME
	}
	return "?";
}

int
roost_notice_decode(const roost_msg_t *m, roost_notice_t *out)
{
	msgpack_unpacked up;
	msgpack_object *o;
	roost_notice_t n;
	bool seen_reason = false;
	uint32_t i;
	int rc = ROOST_EPROTO;

	if (m == NULL || out == NULL)
		return -EINVAL;
	if ((roost_msg_kind(m) != ROOST_KIND_DOWN &&
	     roost_msg_kind(m) != ROOST_KIND_EXIT) ||
	    !(roost_msg_flags(m) & ROOST_MSG_MSGPACK))
		return ROOST_EPROTO;
	memset(&n, 0, sizeof(n));
	msgpack_unpacked_init(&up);
	if (!roost__mp_check(roost_msg_data(m), roost_msg_size(m)) ||
	    msgpack_unpack_next(&up, roost_msg_data(m), roost_msg_size(m),
	                        NULL) != MSGPACK_UNPACK_SUCCESS)
		goto out;
	o = &up.data;
	if (o->type != MSGPACK_OBJECT_MAP)
		goto out;
	for (i = 0; i < o->via.map.size; i++)
		if (!notice_field(&n, &o->via.map.ptr[i].key,
		                  &o->via.map.ptr[i].val, &seen_reason))
			goto out;
	if (n.aid.id == 0 || !seen_reason)
		goto out;
	*out = n;
	rc = 0;
out:
	msgpack_unpacked_destroy(&up);
	return rc;
}
