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

#include "core/msg/msg.h"

#define ROOST__ROOSTD_NAME "roostd"


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
