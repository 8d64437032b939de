/* SPDX-License-Identifier: MIT */
/*
 * gw.h - the state of one gateway process (docs/distribution.md).
 *
 * Threads: the forwarding loop (gateway.c) owns 'gw_ctx' and takes what
 * local actors send to other nodes; NATS delivers each subscription on a
 * thread of its own, and each delivering thread owns one context
 * (gw_in_usr, gw_in_ctl): a roost context is never shared by threads.
 * The node table has its own lock; counters are atomics.
 */
#ifndef ROOST_GATEWAY_GW_H
#define ROOST_GATEWAY_GW_H

#include "config.h"
#include "monitors.h"
#include "nodes.h"
#include "wire.h"
#include "core/sup/proto.h"

#include <nats/nats.h>
#include <stdatomic.h>

/* Subjects (docs/distribution.md, "Subjects and permissions"): a frame
 * for node T from node S goes on PREFIX.node.T.usr.S (user lane) or
 * PREFIX.node.T.ctl.S (system lane: replies, stops, lookups, errors);
 * S's HELLO on PREFIX.nodes.S.ID (its node id). The last tokens name
 * the sender: NATS permissions let S publish only there, and the
 * receiving gateway refuses a frame whose sender address or HELLO is
 * not S's (inbound.c). */
#define GW_SUBJECT_MAX 96

/* How long a flush waits for the server's answer. */
#define GW_FLUSH_MS 1000

/* A local caller waits at most this long for room for an answer. */
#define GW_ANSWER_MS 100

/* Flow control (credit.c): user bytes in flight to one node at most;
 * a parked frame waits at most this long for credit. */
#define GW_WINDOW_BYTES (1u << 20)
#define GW_CREDIT_STALL_MS 5000

/* The node bits of an address (include/roost.h). */
#define GW_NODE_MASK (0xffffull << 16)

/* A user frame waiting for credit (credit.c): encoded, whole. */
struct gw_parked {
	bool pk_on;
	uint32_t pk_node;
	uint8_t *pk_buf;          /* gw_out_cap bytes */
	size_t pk_len;
	uint64_t pk_since;        /* monotonic ns */
};

struct gw {
	struct rd_config gw_cfg;
	const struct rd_gateway *gw_conf; /* &gw_cfg.rc_gateway */
	roost_ctx_t *gw_ctx;      /* the "gateway" actor: outbound */
	roost_ctx_t *gw_in_usr;   /* delivers PREFIX.node.ME.usr */
	roost_ctx_t *gw_in_ctl;   /* delivers PREFIX.node.ME.ctl */
	roost_aid_t gw_self;      /* gw_ctx's address */
	/* Two connections, so control traffic never queues behind user
	 * traffic, even in a socket: user frames on a buffered one
	 * (libnats batches writes), control frames (system lane, lookups,
	 * errors, HELLO) on one that writes each at once. Both NULL until
	 * the first connect, then both set. */
	natsConnection *gw_nc_usr;
	natsConnection *gw_nc_ctl;
	bool gw_usr_unflushed;    /* user frames published since the last
	                             flush (forwarding loop only) */
	natsSubscription *gw_sub[3];
	int64_t gw_max_payload;   /* the server's max_payload */
	struct gw_nodes gw_nodes;
	uint64_t gw_instance;     /* random: tells this process's HELLOs
	                             from a previous one's */
	uint64_t gw_started_ns;   /* wall clock: the older of two gateways
	                             claiming one node keeps it */
	atomic_bool gw_refused;   /* another gateway serves this node */
	atomic_bool gw_claim_logged;
	struct gw_monitors gw_mons; /* forwarding loop only */
	char gw_subj_hello[GW_SUBJECT_MAX]; /* PREFIX.nodes.ME.ID: publish */
	char gw_subj_nodes[GW_SUBJECT_MAX]; /* PREFIX.nodes.*.*: subscribe */
	char gw_subj_usr[GW_SUBJECT_MAX];   /* PREFIX.node.ME.usr.* */
	char gw_subj_ctl[GW_SUBJECT_MAX];   /* PREFIX.node.ME.ctl.* */
	char gw_link_state[320];  /* "connected to URL" or why not (only
	                             the forwarding loop writes it) */
	uint8_t *gw_out_buf;      /* the forwarding loop's frame buffer */
	size_t gw_out_cap;
	atomic_bool gw_closing;           /* disconnects are ours now */
	atomic_bool gw_resync;            /* reconnected: no HELLO until the
	                                     server has our subscriptions */
	atomic_uint_fast64_t gw_garbage;  /* frames dropped as malformed */
	atomic_uint_fast64_t gw_forged;   /* frames whose sender is not the
	                                     node their subject names */
	atomic_uint_fast64_t gw_dropped;  /* messages not delivered */
	atomic_uint_fast64_t gw_sent;     /* frames published */
	atomic_uint_fast64_t gw_received; /* frames delivered */
	atomic_uint_fast64_t gw_window_waits; /* frames parked for credit */
	struct gw_parked gw_park;         /* forwarding loop only */
	uint32_t gw_inflight[1u << 16];   /* per node id: user bytes sent
	                                     and not credited (loop only) */
	uint32_t gw_uncredited[1u << 16]; /* per node id: user bytes taken
	                                     and not credited back (the
	                                     user-lane delivering thread) */
	uint64_t gw_seq_out[1u << 16];    /* per node id: the last user
	                                     frame's number (loop only) */
	uint64_t gw_seq_in[1u << 16];     /* per node id: the last number
	                                     taken (user-lane thread) */
	atomic_uint_fast64_t gw_lost;     /* user frames missing in the
	                                     numbers: lost in flight */
};

/* "gateway NODE: " then the text, on stderr (roostd's log). */
void gw_log(const struct gw *gw, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The subject this node publishes on for node 'node''s lane: system
 * (ctl) or user (usr), this node's name last. */
void gw_subject(const struct gw *gw, const char *node, bool system,
                char *out, size_t len);

/* Encode 'f' into 'buf' and publish it on 'subject', on the control
 * connection unless it is a user-lane message. 0, -EMSGSIZE over the
 * server's max_payload, -ENOTCONN when NATS refuses it. */
int gw_publish(struct gw *gw, const char *subject, const struct gw_frame *f,
               uint8_t *buf, size_t cap);

/* Publish 'n' encoded bytes on 'subject' (a user frame: the buffered
 * connection). 0 or -ENOTCONN. */
int gw_publish_bytes(struct gw *gw, const char *subject, const uint8_t *buf,
                     size_t n, bool user);

/* Flow control (credit.c). The delivering thread of the user lane took
 * 'bytes' from node 'node': credit them back when a chunk is owed. The
 * loop: credit from another node (handed over by inbound.c); a node
 * lost (its window starts again); a user frame to send within the
 * window or park (0, or the error of publishing it); when the parked
 * frame gives up; retry it (published, or given up as undelivered). */
void gw_credit_delivered(struct gw *gw, uint32_t node, uint32_t bytes);
/* The user-lane delivering thread took frame number 'seq' from node
 * 'node': a gap in the numbers is counted (and logged) as lost. */
void gw_seq_taken(struct gw *gw, uint32_t node, uint64_t seq);
void gw_credit_received(struct gw *gw, const roost_msg_t *m);
void gw_credit_node_lost(struct gw *gw, uint32_t node);
int gw_window_send(struct gw *gw, uint32_t node, const char *subject,
                   const struct gw_frame *f);
uint64_t gw_parked_until(const struct gw *gw);
void gw_unpark(struct gw *gw, uint64_t now);

/* A message from local 'sender' to 'to' that could not be delivered
 * (error 'err'): a call (corr not 0) gets the error as its answer, a
 * plain send a ROOST_KIND_UNDELIVERED notice, a reply nothing. From
 * 'to', on the system lane, through 'ctx' (the calling thread's). */
void gw_tell_sender(roost_ctx_t *ctx, uint64_t sender, uint64_t to,
                    uint64_t corr, uint32_t kind, bool reply, int err);
/* The parked frame ('buf', 'n' bytes, encoded here) gave up: counted,
 * and its sender told. */
void gw_undelivered(struct gw *gw, const uint8_t *buf, size_t n, int err);

/* Connect to NATS and subscribe (link.c). 0, or -ENOTCONN with what
 * NATS said in 'why'. Only the forwarding loop calls it. */
int gw_link_connect(struct gw *gw, char *why, size_t len);
/* Both connections are up and, after a reconnect, the server has taken
 * our subscriptions again (any thread). A node says HELLO only then:
 * until then frames sent to it could find no subscriber and be lost. */
bool gw_link_ready(struct gw *gw);
/* After a reconnect: once both connections are up, a round trip on each
 * (the server has processed our subscriptions before it answers), then
 * HELLO. Forwarding loop only. */
void gw_link_resync(struct gw *gw);
/* Close and free the connection and subscriptions (NULL-safe). */
void gw_link_close(struct gw *gw);

/* The NATS callbacks that deliver frames to local actors (inbound.c). */
void gw_on_nodes(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                 void *closure);
void gw_on_usr(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
               void *closure);
void gw_on_ctl(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
               void *closure);

/* Answer a ROOST__KIND_NODES call (status.c): this node, its link to
 * NATS, its counters and the nodes it knows. */
void gw_answer_nodes(struct gw *gw, const roost_msg_t *m);

/* Where node 'id' is reached (gateway.c): its control or user
 * subject, or -EHOSTUNREACH never heard of, -ENOTCONN down or no NATS. */
int gw_route(struct gw *gw, uint32_t id, bool system, char *subject,
             size_t len);
/* Local caller 'm''s request to node 'node' (by name): 'f' (type and
 * payload set) gets the node's address, the caller's and its call id,
 * and goes on the node's control subject. 0, or the error to answer
 * with (-ENOTCONN, -EHOSTUNREACH, ...). */
int gw_ask_node(struct gw *gw, const roost_msg_t *m, const char *node,
                struct gw_frame *f);
/* Answer local caller 'm' with error 'err', as if from 'from'. */
void gw_answer_error(struct gw *gw, const roost_msg_t *m, uint64_t from,
                     int err);

/* Monitors and links across nodes (monitors.c), forwarding loop only:
 * a local actor's MONITOR / DEMONITOR / LINK / UNLINK request; MONITOR,
 * LINK and DOWN or EXIT from another node (handed over by inbound.c);
 * roostd's DOWN for a watched actor; a node lost (silent, or its
 * gateway restarted). */
void gw_monitor_request(struct gw *gw, const roost_msg_t *m);
void gw_demonitor_request(struct gw *gw, const roost_msg_t *m);
void gw_link_request(struct gw *gw, const roost_msg_t *m);
void gw_unlink_request(struct gw *gw, const roost_msg_t *m);
void gw_monitor_remote(struct gw *gw, const roost_msg_t *m);
void gw_link_remote(struct gw *gw, const roost_msg_t *m);
void gw_unlink_remote(struct gw *gw, const roost_msg_t *m);
void gw_down_local(struct gw *gw, const roost_msg_t *m);
void gw_down_remote(struct gw *gw, const roost_msg_t *m);
void gw_monitors_node_lost(struct gw *gw, uint32_t node);

/* `roostctl ls --node` (actors.c): a local caller's request (the
 * loop), and another node's ACTORS frame (its delivering thread: 0
 * answered, or the error to answer with). */
void gw_actors_request(struct gw *gw, const roost_msg_t *m);
int gw_actors_answer(struct gw *gw, const struct gw_frame *req);

/* Publish this node's HELLO (any thread). */
void gw_say_hello(struct gw *gw);

/* A monotonic clock in ns. */
uint64_t gw_now_ns(void);

#endif
