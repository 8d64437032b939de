/* SPDX-License-Identifier: MIT */
/*
 * proto.h - the request protocol between libroost and roostd.
 *
 * roostd is the actor registered as "roostd". A request is a message on
 * roostd's system lane with one of the kinds below, a correlation id
 * chosen by the caller, and a MessagePack array as payload (flagged
 * ROOST_SEND_MSGPACK). roostd answers every request it can parse with
 * ROOST__KIND_REPLY on the caller's system lane, the same correlation id,
 * and the array [rc] or [rc, value] (rc 0 or a negative errno).
 * Requests roostd cannot parse get [-EPROTO]; unknown kinds [-ENOSYS].
 *
 *   kind                 request                          reply value
 *   SPAWN               [program, [argv...], name|nil,    address
 *                         restart, flags, mbox_bytes,
 *                         shutdown_ms]
 *   KILL                [address]                         -
 *   SHUTDOWN            []                                -
 *   TIMER               [to, delay_us, interval_us,       timer id
 *                         kind, flags, payload(bin)]
 *   CANCEL              [timer id]                        -
 *   MONITOR             [address]                         monitor ref
 *   DEMONITOR           [monitor ref]                     -
 *   LINK / UNLINK       [address]                         -
 *   WATCH               [pid, pid_start, flags]           -
 *   DONE                [exit status]                     (no reply)
 *   STOPPING            [address]                         (no reply)
 *   DRAIN               []                                count dropped
 *   ATTACHED            [address]                         (no reply)
 *
 * Addresses travel as their 64-bit id. WATCH asks roostd to watch the
 * calling process (a one-shot actor made by roost_spawn_fn): it is sent
 * from the one-shot's own context, so its address is the sender. DONE
 * is the one-shot's last word: its exit status, which roostd (not its
 * parent) could not learn otherwise. STOPPING tells roostd that
 * roost_stop() was called on an address, before the target hears of it:
 * its exit is then a stop, not a failure (the mailbox that would show
 * it is gone once the target closes). ATTACHED is a supervised actor's
 * first word once its mailbox is published (its own address, which
 * must be the sender): roostd stops waiting for it at once instead of
 * at its next look at the table. roostd passes its own address to its
 * children in ROOST_ROOSTD (hex, as ROOST_REATTACH), a hint that spares
 * them a lookup by name; a stale one fails the send (-ESRCH) and the
 * name is looked up.
 *
 * Notices (ROOST_KIND_DOWN / ROOST_KIND_EXIT, roost.h) are MessagePack
 * maps: {"aid", "name", "pid", "reason", "status", "signal",
 * "restarting", "ref"}; roost_notice_decode() reads them.
 */
#ifndef ROOST_CORE_PROTO_H
#define ROOST_CORE_PROTO_H

#define ROOST__ROOSTD_NAME "roostd"

/*
 * Every kind roost reserves (ROOST_KIND_RESERVED_MIN and above, roost.h),
 * once: X(NAME, number, display name). ROOST__KIND_NAME below and the
 * names tools show (roost_view_kind_name) come from this list; the three
 * public ones (ROOST_KIND_STOP, _DOWN, _EXIT in roost.h) are checked
 * against it. Operators' requests (daemon/status.c,
 * lib/core/roostd_ops.c): DRAIN receives and drops every queued dead
 * letter and answers how many. 0xffffff1c (TIMERS, a request older
 * roostds answered) stays unused: tools read the alarm table through the
 * view API (roost_view_timers) instead.
 */
#define ROOST__KINDS(X)                                  \
	X(STOP, 0xffffff01u, "roost.stop")               \
	X(DOWN, 0xffffff02u, "roost.down")               \
	X(EXIT, 0xffffff03u, "roost.exit")               \
	X(REPLY, 0xffffff04u, "roost.reply")             \
	X(SPAWN, 0xffffff10u, "roostd.spawn")            \
	X(KILL, 0xffffff11u, "roostd.kill")              \
	X(SHUTDOWN, 0xffffff12u, "roostd.shutdown")      \
	X(TIMER, 0xffffff13u, "roostd.timer")            \
	X(CANCEL, 0xffffff14u, "roostd.cancel")          \
	X(MONITOR, 0xffffff15u, "roostd.monitor")        \
	X(DEMONITOR, 0xffffff16u, "roostd.demonitor")    \
	X(LINK, 0xffffff17u, "roostd.link")              \
	X(UNLINK, 0xffffff18u, "roostd.unlink")          \
	X(WATCH, 0xffffff19u, "roostd.watch")            \
	X(DONE, 0xffffff1au, "roostd.done")              \
	X(STOPPING, 0xffffff1bu, "roostd.stopping")      \
	X(DRAIN, 0xffffff1du, "roostd.drain")            \
	X(ATTACHED, 0xffffff1eu, "roostd.attached")      \
	X(FORWARD, 0xffffff30u, "gateway.forward")       \
	X(WHEREIS, 0xffffff31u, "gateway.whereis")       \
	X(REMOTE_ERROR, 0xffffff32u, "roost.remote_error") \
	X(NODES, 0xffffff33u, "gateway.nodes")

/* ROOST__KIND_STOP ... ROOST__KIND_NODES (unsigned: a GNU C enum).
 * FORWARD, WHEREIS, REMOTE_ERROR and NODES are the gateway's
 * (lib/core/remote.h, docs/distribution.md). */
enum {
#define ROOST__KIND_ENUM(name, num, text) ROOST__KIND_##name = num,
	ROOST__KINDS(ROOST__KIND_ENUM)
#undef ROOST__KIND_ENUM
};

static_assert(ROOST__KIND_STOP == ROOST_KIND_STOP, "roost.h and proto.h");
static_assert(ROOST__KIND_DOWN == ROOST_KIND_DOWN, "roost.h and proto.h");
static_assert(ROOST__KIND_EXIT == ROOST_KIND_EXIT, "roost.h and proto.h");

/* Largest request or reply payload. */
#define ROOST__REQ_MAX 8192u

/*
 * Send 'req' (MessagePack, 'len' bytes) to roostd's system lane with a
 * fresh correlation id and wait up to 'timeout_ms' for the matching
 * reply, which is taken aside: the message this context was handling
 * stays in hand (and stays the one redelivered after a crash). Replies
 * to earlier calls that timed out are discarded on the way. On success
 * '*rc' is the reply's code and '*value' its value (0 if none).
 * Returns 0, -ENOTCONN when no roostd runs, or a send / receive error.
 */
int roost__roostd_call(roost_ctx_t *ctx, uint32_t kind, const void *req,
                       size_t len, int timeout_ms, int64_t *rc,
                       uint64_t *value);

/* A reply's bytes: 'rp_cap' bytes at 'rp_buf' (the caller's), 'rp_len'
 * of them used. */
struct roost__reply {
	uint8_t *rp_buf;
	size_t rp_cap;
	size_t rp_len;
};

/* The same request, its reply copied raw into 'rp' (ROOST_EPROTO if
 * larger than rp_cap). */
int roost__roostd_request(roost_ctx_t *ctx, uint32_t kind, const void *req,
                          size_t len, int timeout_ms,
                          struct roost__reply *rp);

/* Decode a raw reply's [rc] or [rc, value] into 'up': '*rc' and, if
 * present, '*value' (a view into 'up'). ROOST_EPROTO if malformed. */
struct msgpack_unpacked;
struct msgpack_object;
int roost__reply_split(const struct roost__reply *rp,
                       struct msgpack_unpacked *up, int64_t *rc,
                       const struct msgpack_object **value);

/* Ask roostd to watch this process, a one-shot actor (spawn_fn.c), and
 * tell it the status the one-shot is about to exit with. */
int roost__watch_self(roost_ctx_t *ctx, uint32_t flags);
void roost__oneshot_done(roost_ctx_t *ctx, int status);
/* Tell roostd (if one runs) 'kind' [arg]; no reply. Waits at most
 * 'timeout_ms' for room on roostd's system lane. */
void roost__roostd_tell(roost_ctx_t *ctx, uint32_t kind, uint64_t arg,
                        int timeout_ms);
/* Send roostd a request: its cached address, looked up by name when
 * there is none or it went stale (roostd_call.c). */
int roost__roostd_send(roost_ctx_t *ctx, uint32_t kind, const void *req,
                       size_t len, int timeout_ms, uint64_t corr);
/* Seed the cached address of roostd from ROOST_ROOSTD, if set and well
 * formed (a hint: see ATTACHED above). */
void roost__roostd_hint(roost_ctx_t *ctx);


#endif /* ROOST_CORE_PROTO_H */
