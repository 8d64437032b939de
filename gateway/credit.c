/* SPDX-License-Identifier: MIT */
/*
 * credit.c - flow control between gateways (docs/distribution.md,
 * "Flow control"). A gateway may have at most GW_WINDOW_BYTES of user
 * frames (head and payload) in flight to each node. The receiving
 * gateway hands each user frame to its target (waiting for room) and
 * gives the bytes back to the sender in CREDIT frames, a quarter window
 * at a time. A sender whose window to a node is full parks the frame in
 * hand and takes only its system lane until credit comes: its own
 * mailbox then fills and local senders wait (-EAGAIN/-ETIMEDOUT at
 * their timeouts), so NATS never holds more than a window per pair of
 * nodes and never has to drop for a slow consumer.
 *
 * User frames are numbered per pair of nodes (wire.h): the receiving
 * gateway counts a gap as frames lost in flight (a connection lost
 * with them), the one drop flow control cannot prevent.
 *
 * Threads: gw_inflight, gw_seq_out and the parked frame are the
 * forwarding loop's; gw_uncredited and gw_seq_in the user-lane
 * delivering thread's.
 */
#include "gw.h"

/* Give credit back once this much is owed (a quarter window). */
#define GW_CREDIT_CHUNK (GW_WINDOW_BYTES / 4)

void
gw_credit_delivered(struct gw *gw, uint32_t node, uint32_t bytes)
{
	uint8_t buf[GW_WIRE_HEAD];
	char name[32];
	char subject[GW_SUBJECT_MAX];
	bool up;
	struct gw_frame f = {
		.fr_type = GW_CREDIT, .fr_to = (uint64_t)node << 16,
		.fr_from = (uint64_t)gw->gw_conf->gw_node_id << 16};

	gw->gw_uncredited[node] += bytes;
	if (gw->gw_uncredited[node] < GW_CREDIT_CHUNK)
		return;
	f.fr_corr = gw->gw_uncredited[node];
	gw->gw_uncredited[node] = 0;
	if (gw_nodes_by_id(&gw->gw_nodes, node, gw_now_ns(), name, &up) == 0) {
		gw_subject(gw, name, true, subject, sizeof(subject));
		(void)gw_publish(gw, subject, &f, buf, sizeof(buf));
	}
}

void
gw_seq_taken(struct gw *gw, uint32_t node, uint64_t seq)
{
	uint64_t *last = &gw->gw_seq_in[node];
	uint64_t lost;

	/* 0: the first frame this process takes from that node; a number
	 * that goes back: that node's gateway restarted (it counts from 1
	 * again). Either is a new start, never counted as a loss. */
	if (*last != 0 && seq > *last + 1) {
		lost = seq - *last - 1;
		atomic_fetch_add(&gw->gw_lost, lost);
		gw_log(gw, "%llu frames from node %u lost in flight (numbers "
		       "%llu to %llu never came)", (unsigned long long)lost,
		       node, (unsigned long long)(*last + 1),
		       (unsigned long long)(seq - 1));
	}
	*last = seq;
}

void
gw_credit_received(struct gw *gw, const roost_msg_t *m)
{
	uint32_t node = roost_aid_node(roost_msg_from(m));
	uint64_t bytes = roost_msg_corr(m);

	gw->gw_inflight[node] = bytes >= gw->gw_inflight[node]
	                        ? 0 : gw->gw_inflight[node] - (uint32_t)bytes;
	if (gw->gw_park.pk_on && gw->gw_park.pk_node == node)
		gw->gw_park.pk_since = gw_now_ns(); /* progress: wait on */
}

void
gw_credit_node_lost(struct gw *gw, uint32_t node)
{
	gw->gw_inflight[node] = 0;
}

int
gw_window_send(struct gw *gw, uint32_t node, const char *subject,
               const struct gw_frame *f)
{
	struct gw_parked *pk = &gw->gw_park;
	uint32_t bytes = GW_WIRE_HEAD + f->fr_size;
	int rc;

	if (gw->gw_inflight[node] == 0 ||
	    gw->gw_inflight[node] + (uint64_t)bytes <= GW_WINDOW_BYTES) {
		rc = gw_publish(gw, subject, f, gw->gw_out_buf, gw->gw_out_cap);
		if (rc == 0)
			gw->gw_inflight[node] += bytes;
		return rc;
	}
	if ((int64_t)bytes > gw->gw_max_payload)
		return -EMSGSIZE;
	rc = gw_wire_encode(f, pk->pk_buf, gw->gw_out_cap);
	if (rc < 0)
		return rc;
	pk->pk_len = (size_t)rc;
	pk->pk_node = node;
	pk->pk_since = gw_now_ns();
	pk->pk_on = true;
	atomic_fetch_add(&gw->gw_window_waits, 1);
	return 0;
}

uint64_t
gw_parked_until(const struct gw *gw)
{
	return gw->gw_park.pk_since +
	       (uint64_t)GW_CREDIT_STALL_MS * 1000000u;
}

void
gw_unpark(struct gw *gw, uint64_t now)
{
	struct gw_parked *pk = &gw->gw_park;
	char subject[GW_SUBJECT_MAX];
	uint32_t *inflight = &gw->gw_inflight[pk->pk_node];
	int rc;

	rc = gw_route(gw, pk->pk_node, false, subject, sizeof(subject));
	if (rc == 0 && *inflight > 0 &&
	    *inflight + (uint64_t)pk->pk_len > GW_WINDOW_BYTES) {
		if (now < gw_parked_until(gw))
			return;
		/* No credit for that long: lost on the way (a blink of the
		 * connection, say): start the window again rather than
		 * stall for good. */
		gw_log(gw, "no credit from node %u for %d ms: window reset",
		       pk->pk_node, GW_CREDIT_STALL_MS);
		*inflight = 0;
	}
	pk->pk_on = false;
	if (rc == 0)
		rc = gw_publish_bytes(gw, subject, pk->pk_buf, pk->pk_len, true);
	if (rc == 0)
		*inflight += (uint32_t)pk->pk_len;
	else
		gw_undelivered(gw, pk->pk_buf, pk->pk_len, rc);
}
