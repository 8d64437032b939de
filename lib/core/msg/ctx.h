/* SPDX-License-Identifier: MIT */
/*
 * ctx.h - struct roost_ctx, a process's attachment to a system, and the
 * per-context cache of peer mailbox mappings.
 */
#ifndef ROOST_CORE_CTX_H
#define ROOST_CORE_CTX_H

/* A mapping of another actor's mailbox, kept while its generation is the
 * one we send to. */
struct roost__peer {
	struct roost__mbox pe_mb;
	uint32_t pe_gen; /* 0: not mapped */
};

/* roost_send_ex flag, internal: the record is a reply (roost_reply). */
#define ROOST__SEND_REPLY 0x80000000u
/* Re-opens of a replaced mailbox (tag-replace) within one send: each
 * needs an owner that replaced its mailbox again meanwhile, so a few is
 * plenty. */
#define ROOST__STALE_RETRIES 8

/*
 * Copy 'm' to the dead-letter mailbox 'dead' as a MessagePack map {to,
 * name, from, kind, corr, flags, data}, keeping its kind and correlation
 * id; 'to' and 'name' say whose message it was. Never waits.
 * (deadletter.c)
 */
int roost__send_dead_letter(roost_ctx_t *ctx, roost_aid_t dead,
                            roost_aid_t to, const char *name,
                            const roost_msg_t *m);

struct roost_ctx {
	struct roost__sys cx_sys;
	struct roost__mbox cx_mbox; /* our own mailbox */
	struct roost__rx cx_rx;     /* our receive state */
	uint32_t cx_slot;
	uint32_t cx_gen;
	roost_aid_t cx_self;
	struct roost__peer *cx_peers; /* [sf_nslots], lazily mapped */
	uint32_t cx_peers_end;        /* none mapped at or above this slot:
	                                 a close looks below it only */
	uint64_t cx_corr;             /* last correlation id of a call */
	uint64_t cx_corr_seed;        /* the first one of this context */
	uint64_t cx_late_replies;     /* replies that came after their call */
	uint64_t cx_unhandled;        /* roost_run: messages nobody handled */
	uint8_t *cx_reply_buf;        /* roost_call's copy of its reply */
	struct roost_msg cx_reply;    /* ... and its view */
	roost_aid_t cx_roostd;        /* roostd's address, cached */
	roost_aid_t cx_gateway;       /* the gateway's address, cached */
	uint8_t *cx_fwd_buf;          /* a message for another node, wrapped
	                                 for the gateway (remote.c) */
};

/* Find (mapping if needed) the mailbox 'to' names. -ESRCH if the address
 * is unknown or stale. The pointer stays valid until the next call. */
int roost__ctx_peer(roost_ctx_t *ctx, roost_aid_t to,
                    struct roost__mbox **out);

/*
 * Copy 'o' into the mailbox of local address 'to' (its node bits 0),
 * with the envelope exactly as 'o' says (o_from included: the gateway
 * delivers for senders of other nodes this way). Errors as roost_send.
 */
int roost__send_as(roost_ctx_t *ctx, roost_aid_t to,
                   const struct roost__out *o, int timeout_ms);

/* roost_recv with a timeout in ns (< 0: none), for roostd's alarms. */
int roost__recv_ns(roost_ctx_t *ctx, roost_msg_t **out, int64_t timeout_ns);

/* Forget a cached mapping (after -ESRCH from it). */
void roost__ctx_peer_drop(roost_ctx_t *ctx, uint32_t slot);

/* roost_ctx_open without telling roostd anything: the messaging layer's
 * part. roost_ctx_open (sup/attach.c) adds a supervised actor's ATTACHED
 * word to roostd. */
int roost__ctx_open(roost_ctx_t **out, const roost_ctx_opts_t *opts);

#endif /* ROOST_CORE_CTX_H */
