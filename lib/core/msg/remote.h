/* SPDX-License-Identifier: MIT */
/*
 * remote.h - how libroost hands a message for another node to the
 * node's gateway (gateway/, docs/distribution.md).
 *
 * An address whose node bits (16-31) are not 0 names an actor of another
 * node. roost_send_ex() to such an address sends the gateway (the actor
 * registered as ROOST__GATEWAY_NAME) one ROOST__KIND_FORWARD message: on
 * the lane the message asked for, with the sender's own envelope (from,
 * correlation id), and as payload a struct roost__fwd followed by the
 * message's bytes. roost_whereis("name@node") is a roost_call of the
 * gateway, ROOST__KIND_WHEREIS with "name@node" as payload; the answer
 * is the 8-byte address, or ROOST__KIND_REMOTE_ERROR. Monitors: below.
 *
 * ROOST__KIND_REMOTE_ERROR answers a call with an error instead of a
 * reply: its payload is an int32_t negative errno. The gateway sends it
 * from the called address, so roost_call() matches it and returns that
 * error (unknown node, node down, remote mailbox full, ...).
 */
#ifndef ROOST_CORE_REMOTE_H
#define ROOST_CORE_REMOTE_H

#define ROOST__GATEWAY_NAME "gateway"

/* Node names: 1..31 characters of [A-Za-z0-9_-] (a NATS subject token). */
#define ROOST__NODE_NAME_MAX 31

/* How long roost_whereis() waits for a remote answer. */
#define ROOST__REMOTE_WHEREIS_MS 2000

/* The head of a ROOST__KIND_FORWARD payload (same machine: host order). */
struct roost__fwd {
	uint64_t fw_to;    /* the target, node bits not 0 */
	uint32_t fw_kind;  /* its kind */
	uint32_t fw_flags; /* ROOST_REC_MSGPACK | ROOST_REC_REPLY */
};
static_assert(sizeof(struct roost__fwd) == 16, "no padding");

/* 'name' is a valid node name. */
bool roost__node_name_valid(const char *name, size_t len);

/* roost_send_ex() for an address of another node: 'o' wrapped for the
 * gateway. -EHOSTUNREACH when no gateway runs. */
int roost__remote_send(roost_ctx_t *ctx, roost_aid_t to,
                       const struct roost__out *o, int timeout_ms);

/* roost_send_batch() to another node's actor: each message handed to
 * the gateway in order, one by one (-EMSGSIZE before any is sent if one
 * can never fit the wrapper); '*sent' counts those handed over. */
int roost__remote_send_batch(roost_ctx_t *ctx, roost_aid_t to,
                             const roost_batch_msg_t *msgs, size_t n,
                             int timeout_ms, size_t *sent);

/* roost_whereis() of "name@node". */
int roost__remote_whereis(roost_ctx_t *ctx, const char *name,
                          roost_aid_t *out);

/*
 * Monitors of another node's actor are the gateway's: roost_monitor()
 * of a remote address calls the gateway (ROOST__KIND_MONITOR, the 8-byte
 * address; the answer is the 8-byte ref), roost_demonitor() of a ref
 * with bit 63 set calls it too (ROOST__KIND_DEMONITOR, the 8-byte ref;
 * an empty answer). roostd's refs never have bit 63 set.
 */
#define ROOST__REF_REMOTE (1ull << 63)
#define ROOST__REF_IS_REMOTE(ref) (((ref) & ROOST__REF_REMOTE) != 0)

int roost__remote_monitor(roost_ctx_t *ctx, roost_aid_t target,
                          uint64_t *ref);
int roost__remote_demonitor(roost_ctx_t *ctx, uint64_t ref);

/* roost_link() / roost_unlink() of another node's actor ('kind'
 * ROOST__KIND_LINK or ROOST__KIND_UNLINK): a call of the gateway with
 * the 8-byte address; an empty answer. Its EXIT notices come from the
 * gateway (docs/distribution.md, "Monitors and links across nodes"). */
int roost__remote_link(roost_ctx_t *ctx, uint32_t kind, roost_aid_t peer);

#endif /* ROOST_CORE_REMOTE_H */
