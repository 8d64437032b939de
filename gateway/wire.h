/* SPDX-License-Identifier: MIT */
/*
 * wire.h - the frames gateways exchange over NATS (docs/distribution.md,
 * "Wire format"). A frame is a 40-byte head, little-endian, then the
 * payload, unchanged (MessagePack passes as it was sent):
 *
 *   off size  field
 *     0    4  magic "RSTG"
 *     4    1  version (2)
 *     5    1  type (enum gw_type)
 *     6    2  flags (GW_F_*)
 *     8    8  to: the target address, its node bits the target's node
 *    16    8  from: the sender's address, its node bits the sender's node
 *    24    8  correlation id (0: not a call)
 *    32    4  kind
 *    36    4  payload size: exactly the bytes that follow
 *    40    8  sequence: a user-lane MSG's number from its sender's
 *             gateway to this node, from 1 (0 in every other frame)
 *
 * Everything here is pure (no NATS, no roost calls), so the decoder is
 * fuzzed on its own (tests/fuzz/fuzz_wire.c).
 */
#ifndef ROOST_GATEWAY_WIRE_H
#define ROOST_GATEWAY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define GW_WIRE_HEAD 48u
#define GW_WIRE_VERSION 2u

enum gw_type {
	GW_MSG = 1,     /* a message for an actor */
	GW_WHEREIS = 2, /* look a name up; payload: the actor name */
	GW_ANSWER = 3,  /* to a WHEREIS: 8-byte address or 4-byte errno;
	                   'from': the answering gateway */
	GW_ERROR = 4,   /* a message could not be delivered: 4-byte errno;
	                   'corr' the call's id, 0 for a plain send (then
	                   'kind' is the message's) */
	GW_HELLO = 5,   /* a node is alive; payload: its name; 'from' holds
	                   its node id in the node bits; 'corr' this
	                   gateway process's random instance id; 'to' when
	                   it started (ns since the epoch) */
	GW_MONITOR = 6, /* 'from' monitors 'to' (links to it: GW_F_LINK);
	                   'corr': the watcher's node's monitor ref */
	GW_DOWN = 7,    /* 'from' ended: a notice (MessagePack map,
	                   include/roost.h) for watcher 'to', ref 'corr';
	                   'kind' ROOST_KIND_DOWN, or ROOST_KIND_EXIT for a
	                   link */
	GW_CREDIT = 8,  /* flow control: 'corr' user bytes of 'to''s node
	                   taken by 'from''s node (node bits only) */
	GW_PING = 9,    /* round trip: 'corr' the sender's clock (node
	                   bits only in 'to' and 'from') */
	GW_PONG = 10,   /* the answer: the PING's 'corr' back */
	GW_ACTORS = 11, /* list the actors of node 'to' for caller 'from',
	                   call id 'corr' */
	GW_LIST = 12,   /* the answer: a MessagePack map (gateway/actors.c)
	                   for caller 'to', from the answering gateway */
	GW_UNLINK = 13, /* 'from' unlinks from 'to': the link of ref
	                   'corr' ends on both sides */
};

#define GW_F_MSGPACK 0x1u /* the payload is MessagePack */
#define GW_F_REPLY 0x2u   /* an answer to a call */
#define GW_F_SYSTEM 0x4u  /* for the target's system lane */
#define GW_F_LINK 0x8u    /* a MONITOR that links both ways */
#define GW_F_KNOWN 0xfu

struct gw_frame {
	enum gw_type fr_type;
	uint32_t fr_flags;
	uint64_t fr_to;
	uint64_t fr_from;
	uint64_t fr_corr;
	uint32_t fr_kind;
	const uint8_t *fr_data; /* decode: points into the decoded buffer */
	uint32_t fr_size;
	uint64_t fr_seq;        /* user-lane MSG only, else 0 */
};

/* Encode 'f' into 'buf': the frame's length, or -EMSGSIZE when it does
 * not fit 'cap'. */
int gw_wire_encode(const struct gw_frame *f, uint8_t *buf, size_t cap);

/*
 * Decode and validate 'len' bytes at 'buf' into 'f' (fr_data points into
 * 'buf'). Returns 0, or -EPROTO with a static reason in '*why': bad
 * magic or version, unknown type or flags, a size that is not the rest,
 * addresses without a node or generation where the type needs them, a
 * payload that is not what the type carries.
 */
int gw_wire_decode(const void *buf, size_t len, struct gw_frame *f,
                   const char **why);

#endif
