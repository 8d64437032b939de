/* SPDX-License-Identifier: MIT */
/*
 * inbound.c - frames from NATS to local actors. Each subscription's
 * callback runs on its own libnats thread and uses only its own context
 * (gw.h). A frame that fails validation is counted, logged and dropped;
 * nothing from the network is used before gw_wire_decode() checked it.
 */
#include "gw.h"

#include <stdio.h>

/* How long a delivery waits for room: the system lane (replies, errors)
 * briefly, as roost_reply does; the user lane longer, as back-pressure
 * on the sending node (docs/distribution.md, "Back-pressure"). */
#define GW_DELIVER_SYS_MS 100
#define GW_DELIVER_USR_MS 2000

/* Log the first few of a kind of drop, then every 1000th. */
static bool
worth_logging(uint64_t n)
{
	return n <= 10 || n % 1000 == 0;
}

/* Count a frame dropped on 'subject' in 'count'; log it as 'what'. */
static void
drop_frame(struct gw *gw, atomic_uint_fast64_t *count, const char *what,
           const char *subject, const char *why)
{
	uint64_t n = atomic_fetch_add(count, 1) + 1;

	if (worth_logging(n))
		gw_log(gw, "%s on %s: %s (%llu so far)", what, subject, why,
		       (unsigned long long)n);
}

static void
garbage(struct gw *gw, const char *subject, const char *why)
{
	drop_frame(gw, &gw->gw_garbage, "dropped a bad frame", subject, why);
}

static roost_aid_t
local_aid(uint64_t id)
{
	return (roost_aid_t){id & ~GW_NODE_MASK};
}

static uint32_t
node_of(uint64_t id)
{
	return roost_aid_node((roost_aid_t){id});
}

/* Publish 'f' to the control subject of node 'node_id' (the sender of a
 * frame being answered). */
static void
answer(struct gw *gw, uint32_t node_id, const struct gw_frame *f)
{
	uint8_t buf[GW_WIRE_HEAD + 8];
	char name[32];
	char subject[GW_SUBJECT_MAX];
	bool up;
	int rc;

	rc = gw_nodes_by_id(&gw->gw_nodes, node_id, gw_now_ns(), name, &up);
	if (rc == 0) {
		gw_subject(gw, name, true, subject, sizeof(subject));
		rc = gw_publish(gw, subject, f, buf, sizeof(buf));
	}
	if (rc < 0)
		gw_log(gw, "cannot answer node %u: %s", node_id,
		       roost_strerror(rc));
}

/* A message for a local actor. One that cannot be delivered (and is
 * not a reply) is answered with GW_ERROR: a call's caller gets the
 * error as its result, a plain send's sender an UNDELIVERED notice
 * (gw_tell_sender). User-lane bytes are credited back to the sender
 * either way (credit.c). */
static void
deliver_msg(struct gw *gw, roost_ctx_t *ctx, const struct gw_frame *f)
{
	struct roost__out o;
	int32_t err;
	int rc;
	uint64_t n;
	bool sys = (f->fr_flags & GW_F_SYSTEM) != 0;

	o.o_from = f->fr_from;
	o.o_corr = f->fr_corr;
	o.o_kind = f->fr_kind;
	o.o_flags = ((f->fr_flags & GW_F_MSGPACK) ? ROOST_REC_MSGPACK : 0) |
	            ((f->fr_flags & GW_F_REPLY) ? ROOST_REC_REPLY : 0);
	o.o_lane = sys ? ROOST_LANE_SYS : ROOST_LANE_USR;
	o.o_data = f->fr_data;
	o.o_size = f->fr_size;
	rc = roost__send_as(ctx, local_aid(f->fr_to), &o,
	                    sys ? GW_DELIVER_SYS_MS : GW_DELIVER_USR_MS);
	if (ctx == gw->gw_in_usr && f->fr_seq != 0) {
		gw_seq_taken(gw, node_of(f->fr_from), f->fr_seq);
		gw_credit_delivered(gw, node_of(f->fr_from),
		                    GW_WIRE_HEAD + f->fr_size);
	}
	if (rc == 0) {
		atomic_fetch_add(&gw->gw_received, 1);
		return;
	}
	n = atomic_fetch_add(&gw->gw_dropped, 1) + 1;
	if (worth_logging(n))
		gw_log(gw, "message from %016llx to %016llx not delivered: %s "
		       "(%llu so far)", (unsigned long long)f->fr_from,
		       (unsigned long long)f->fr_to, roost_strerror(rc),
		       (unsigned long long)n);
	if (!(f->fr_flags & GW_F_REPLY)) {
		struct gw_frame e = {
			.fr_type = GW_ERROR, .fr_to = f->fr_from,
			.fr_from = f->fr_to, .fr_corr = f->fr_corr,
			.fr_kind = f->fr_kind,
			.fr_data = (const uint8_t *)&err, .fr_size = sizeof(err)};

		err = rc;
		answer(gw, node_of(f->fr_from), &e);
	}
}

/* A request another node's caller made of its gateway ('f') failed
 * here with 'err' (0: it did not): an ANSWER with the errno, which the
 * caller's gateway hands it as the error of its call. */
static void
refuse_call(struct gw *gw, const struct gw_frame *f, int err)
{
	int32_t e = err;
	struct gw_frame r = {
		.fr_type = GW_ANSWER, .fr_flags = GW_F_REPLY,
		.fr_to = f->fr_from, .fr_corr = f->fr_corr,
		.fr_from = gw->gw_self.id |
		           ((uint64_t)gw->gw_conf->gw_node_id << 16),
		.fr_data = (const uint8_t *)&e, .fr_size = sizeof(e)};

	if (err < 0)
		answer(gw, node_of(f->fr_from), &r);
}

/* A lookup from another node: answer with the address or the error. */
static void
answer_whereis(struct gw *gw, roost_ctx_t *ctx, const struct gw_frame *f)
{
	char name[ROOST_NAME_MAX + 1];
	roost_aid_t a;
	uint64_t id;
	int32_t err;
	struct gw_frame r = {.fr_type = GW_ANSWER, .fr_to = f->fr_from,
	                     .fr_corr = f->fr_corr, .fr_flags = GW_F_REPLY,
	                     .fr_from = gw->gw_self.id |
	                                ((uint64_t)gw->gw_conf->gw_node_id
	                                 << 16)};
	int rc;

	memcpy(name, f->fr_data, f->fr_size);
	name[f->fr_size] = '\0';
	rc = roost_whereis(ctx, name, &a);
	if (rc == 0) {
		id = a.id | ((uint64_t)gw->gw_conf->gw_node_id << 16);
		r.fr_data = (const uint8_t *)&id;
		r.fr_size = sizeof(id);
	} else {
		err = rc;
		r.fr_data = (const uint8_t *)&err;
		r.fr_size = sizeof(err);
	}
	answer(gw, node_of(f->fr_from), &r);
}

/* An answer, a list or an error for a local caller: a reply to its
 * roost_call. An answer to a lookup (or a list) comes from the gateway
 * (the caller called it);
 * an error comes from the address the caller called. An error for a
 * plain send (no call id) becomes the sender's UNDELIVERED notice. */
static void
deliver_answer(struct gw *gw, roost_ctx_t *ctx, const struct gw_frame *f)
{
	struct roost__out o;
	int32_t err;
	int rc;

	if (f->fr_type == GW_ERROR) {
		memcpy(&err, f->fr_data, sizeof(err));
		gw_tell_sender(ctx, f->fr_to, f->fr_from, f->fr_corr,
		               f->fr_kind, false, err);
		atomic_fetch_add(&gw->gw_received, 1);
		return;
	}
	o.o_from = gw->gw_self.id;
	o.o_corr = f->fr_corr;
	o.o_kind = f->fr_type == GW_ANSWER && f->fr_size != 8
	           ? ROOST__KIND_REMOTE_ERROR : ROOST__KIND_REPLY;
	o.o_flags = ROOST_REC_REPLY |
	            (f->fr_type == GW_LIST ? ROOST_REC_MSGPACK : 0);
	o.o_lane = ROOST_LANE_SYS;
	o.o_data = f->fr_data;
	o.o_size = f->fr_size;
	rc = roost__send_as(ctx, local_aid(f->fr_to), &o, GW_DELIVER_SYS_MS);
	if (rc < 0)
		atomic_fetch_add(&gw->gw_dropped, 1);
	else
		atomic_fetch_add(&gw->gw_received, 1);
}

/* A PING from another node: its time back (for its round trip). */
static void
pong(struct gw *gw, const struct gw_frame *f)
{
	struct gw_frame r = {
		.fr_type = GW_PONG, .fr_to = f->fr_from & GW_NODE_MASK,
		.fr_from = (uint64_t)gw->gw_conf->gw_node_id << 16,
		.fr_corr = f->fr_corr};

	answer(gw, node_of(f->fr_from), &r);
}

/* MONITOR, DOWN, UNLINK and CREDIT go to the forwarding loop, which
 * owns the monitor tables and the windows: a message to the gateway itself from the remote address, the
 * ref as correlation id; MONITOR (LINK with GW_F_LINK) carries the
 * target's address, DOWN the notice (kind DOWN or EXIT). */
static void
hand_over(struct gw *gw, roost_ctx_t *ctx, const struct gw_frame *f)
{
	bool down = f->fr_type == GW_DOWN;
	struct roost__out o = {
		.o_from = f->fr_from, .o_corr = f->fr_corr,
		.o_kind = down ? f->fr_kind
		        : (f->fr_flags & GW_F_LINK) ? ROOST__KIND_LINK
		                                    : ROOST__KIND_MONITOR,
		.o_flags = down ? ROOST_REC_MSGPACK : 0,
		.o_lane = ROOST_LANE_SYS,
		.o_data = down ? (const void *)f->fr_data : (const void *)&f->fr_to,
		.o_size = down ? f->fr_size : sizeof(f->fr_to)};

	if (f->fr_type == GW_CREDIT || f->fr_type == GW_UNLINK) {
		/* The bytes, or the link's ref, in the call id. */
		o.o_kind = f->fr_type == GW_CREDIT ? ROOST__KIND_CREDIT
		                                   : ROOST__KIND_UNLINK;
		o.o_data = NULL;
		o.o_size = 0;
	}
	if (roost__send_as(ctx, gw->gw_self, &o, GW_DELIVER_SYS_MS) < 0)
		atomic_fetch_add(&gw->gw_dropped, 1);
}

/* The sender a subject names: its last token (gw.h). */
static const char *
subject_sender(const char *subject)
{
	const char *dot = strrchr(subject, '.');

	return dot != NULL ? dot + 1 : subject;
}

/* A HELLO's subject is PREFIX.nodes.NAME.ID of the node it names (its
 * permissions let a node say HELLO there alone: gw.h). */
static bool
hello_bound(const char *subject, const char *name, uint32_t id)
{
	const char *dot = strrchr(subject, '.');
	size_t len = strlen(name);
	char digits[8];

	snprintf(digits, sizeof(digits), "%u", id);
	return dot != NULL && strcmp(dot + 1, digits) == 0 &&
	       (size_t)(dot - subject) > len + 1 &&
	       *(dot - len - 1) == '.' &&
	       memcmp(dot - len, name, len) == 0;
}

static void
forged(struct gw *gw, const char *subject, const char *why)
{
	drop_frame(gw, &gw->gw_forged, "refused a forged frame", subject, why);
}

/* The frame's sender is the node the subject names: NATS lets only
 * that node publish there (its permissions), so this binds the sender
 * address to a node's credentials. The node must have said HELLO (the
 * table binds its name to its id; a newcomer hears from us only after
 * we took its HELLO, so nothing legitimate comes earlier). */
static bool
sender_bound(struct gw *gw, const char *subject, const struct gw_frame *f)
{
	uint32_t id;
	uint64_t addr;
	bool up;

	if (gw_nodes_by_name(&gw->gw_nodes, subject_sender(subject),
	                     gw_now_ns(), &id, &up) < 0) {
		forged(gw, subject, "from a node not heard of");
		return false;
	}
	if (node_of(f->fr_from) != id) {
		forged(gw, subject, "sender address of another node");
		return false;
	}
	if (f->fr_type == GW_ANSWER && f->fr_size == sizeof(addr)) {
		memcpy(&addr, f->fr_data, sizeof(addr));
		if (node_of(addr) != id) {
			forged(gw, subject, "answer with another node's address");
			return false;
		}
	}
	return true;
}

/* Decode and check what every frame on a node subject must satisfy:
 * addressed to this node, from the node its subject names. */
static bool
decode_for_me(struct gw *gw, natsMsg *msg, struct gw_frame *f)
{
	const char *why;

	if (gw_wire_decode(natsMsg_GetData(msg),
	                   (size_t)natsMsg_GetDataLength(msg), f, &why) < 0) {
		garbage(gw, natsMsg_GetSubject(msg), why);
		return false;
	}
	if (f->fr_type == GW_HELLO) {
		garbage(gw, natsMsg_GetSubject(msg), "hello on a node subject");
		return false;
	}
	if (node_of(f->fr_to) != gw->gw_conf->gw_node_id) {
		garbage(gw, natsMsg_GetSubject(msg), "addressed to another node");
		return false;
	}
	return sender_bound(gw, natsMsg_GetSubject(msg), f);
}

static void
on_node_subject(struct gw *gw, roost_ctx_t *ctx, natsMsg *msg)
{
	struct gw_frame f;

	if (!decode_for_me(gw, msg, &f))
		goto out;
	switch (f.fr_type) {
	case GW_MSG:
		deliver_msg(gw, ctx, &f);
		break;
	case GW_WHEREIS:
		answer_whereis(gw, ctx, &f);
		break;
	case GW_ANSWER:
	case GW_ERROR:
		deliver_answer(gw, ctx, &f);
		break;
	case GW_MONITOR:
	case GW_DOWN:
	case GW_CREDIT:
	case GW_UNLINK:
		hand_over(gw, ctx, &f);
		break;
	case GW_PING:
		pong(gw, &f);
		break;
	case GW_ACTORS:
		refuse_call(gw, &f, gw_actors_answer(gw, &f));
		break;
	case GW_LIST:
		deliver_answer(gw, ctx, &f);
		break;
	case GW_PONG:
		if (f.fr_corr <= gw_now_ns())
			gw_nodes_rtt(&gw->gw_nodes, node_of(f.fr_from),
			             gw_now_ns() - f.fr_corr);
		break;
	case GW_HELLO:
		break; /* refused by decode_for_me */
	}
out:
	natsMsg_Destroy(msg);
}

void
gw_on_usr(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
          void *closure)
{
	struct gw *gw = closure;

	(void)nc;
	(void)sub;
	on_node_subject(gw, gw->gw_in_usr, msg);
}

void
gw_on_ctl(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
          void *closure)
{
	struct gw *gw = closure;

	(void)nc;
	(void)sub;
	on_node_subject(gw, gw->gw_in_ctl, msg);
}

/* Another gateway claims this node's name or id. The one that started
 * first keeps it (ties: the lower instance id); the other refuses to
 * serve (gateway.c closes its link) and says why. */
static void
claimant(struct gw *gw, const char *name, uint32_t id,
         const struct gw_frame *f)
{
	bool older = f->fr_to < gw->gw_started_ns ||
	             (f->fr_to == gw->gw_started_ns &&
	              f->fr_corr < gw->gw_instance);

	if (older) {
		atomic_store(&gw->gw_refused, true);
		return;
	}
	if (!atomic_exchange(&gw->gw_claim_logged, true))
		gw_log(gw, "another gateway claims this node (it says node "
		       "'%s', id %u; this is node '%s', id %u): it was refused, "
		       "its frames are ignored", name, id, gw->gw_conf->gw_node,
		       gw->gw_conf->gw_node_id);
}

void
gw_on_nodes(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
            void *closure)
{
	struct gw *gw = closure;
	struct gw_frame f;
	const char *why;
	char name[32];
	uint32_t id;
	int rc;

	(void)nc;
	(void)sub;
	if (gw_wire_decode(natsMsg_GetData(msg),
	                   (size_t)natsMsg_GetDataLength(msg), &f, &why) < 0) {
		garbage(gw, natsMsg_GetSubject(msg), why);
		goto out;
	}
	if (f.fr_type != GW_HELLO) {
		garbage(gw, natsMsg_GetSubject(msg), "not a hello");
		goto out;
	}
	memcpy(name, f.fr_data, f.fr_size);
	name[f.fr_size] = '\0';
	if (!hello_bound(natsMsg_GetSubject(msg), name, node_of(f.fr_from))) {
		forged(gw, natsMsg_GetSubject(msg), "hello of another node");
		goto out;
	}
	id = node_of(f.fr_from);
	if (f.fr_corr == gw->gw_instance)
		goto out; /* our own */
	if (id == gw->gw_conf->gw_node_id ||
	    strcmp(name, gw->gw_conf->gw_node) == 0) {
		claimant(gw, name, id, &f);
		goto out;
	}
	rc = gw_nodes_hello(&gw->gw_nodes, name, id, f.fr_corr, gw_now_ns());
	if (rc == 1) {
		gw_log(gw, "node '%s' (id %u) is up", name, id);
		gw_say_hello(gw); /* the newcomer learns us now, not a beat later */
	}
	else if (rc == -EEXIST)
		gw_log(gw, "node '%s' (id %u) conflicts with a node already "
		       "known by that name or id: ignored", name, id);
	else if (rc == -ENOSPC)
		gw_log(gw, "node table full (%d): node '%s' ignored",
		       GW_NODES_MAX, name);
out:
	natsMsg_Destroy(msg);
}
