/* SPDX-License-Identifier: MIT */
/*
 * loop.c - roostd's main loop, which runs until the ordered shutdown
 * (shutdown.c) has stopped every actor. It receives on roostd's own
 * mailbox with a timeout that ends at the next alarm, the next deadline
 * of a stop (or the heartbeat); signal handlers and the pidfd watcher
 * only set flags and interrupt that receive. Nothing in a turn waits.
 */
#include "rd.h"
#include "timers.h"

#include <unistd.h>
#ifdef ROOSTD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* Heartbeats between two audits of what roostd owns in shm (rd_audit). */
#define AUDIT_BEATS 10

void
rd_heartbeat(struct roost__sys *sy)
{
	/* Relaxed: liveness hints only (shm_format.h). */
	roost__store_rlx(&sy->sy_hdr->sh_owner_pid, (int32_t)getpid());
	roost__store_rlx(&sy->sy_hdr->sh_heartbeat_ns, roost__plat_now_ns());
}

static int
fire_one(void *arg, const struct roost__timer_view *v, const void *data)
{
	struct rd *rd = arg;
	uint64_t now;
	int rc;

	rc = roost_send_ex(rd->rd_ctx, v->tv_to, v->tv_kind, v->tv_flags, 0,
	                   data, v->tv_size, 0);
	if (rc == 0) {
		now = roost__plat_now_ns();
		rd_stats_alarm(now > v->tv_due_ns ? now - v->tv_due_ns : 0);
	}
	return rc;
}

/* How long the loop may sleep now, in ns. */
static int64_t
sleep_ns(struct rd *rd, uint64_t now, uint64_t next_beat)
{
	uint64_t until = next_beat;
	uint64_t due;

	if (rd->rd_timers != NULL && rd_timers_next_due(rd->rd_timers, &due) &&
	    due < until)
		until = due;
	if (rd_stops_next_due(rd, &due) && due < until)
		until = due;
	if (rd_status_due(&due) && due < until)
		until = due;
	if (rd_children_starting(rd) && now + rd->rd_attach_poll_ns < until)
		until = now + rd->rd_attach_poll_ns;
	return until > now ? (int64_t)(until - now) : 0;
}

/* Processes watched through pidfds that ended. Requests first: a
 * one-shot's DONE, sent before it exited, is queued by now. */
static void
watched_exits(struct rd *rd)
{
	struct rd_child *ch;
	pid_t pid;

	pid = rd_watch_next_exit();
	if (pid <= 0)
		return;
	rd_requests_drain(rd);
	for (; pid > 0; pid = rd_watch_next_exit()) {
		ch = rd_child_by_pid(rd, pid);
		if (ch != NULL && !ch->ch_is_child)
			rd_child_ended(rd, ch, ch->ch_done_status,
			               ch->ch_done_known);
	}
}

/*
 * The loop, until the shutdown has stopped every actor. Nothing in a
 * turn waits: stops and the shutdown advance at their deadlines
 * (stops.c, shutdown.c), so alarms, requests and exits are served
 * throughout.
 */
void
rd_loop(struct rd *rd)
{
	uint64_t next_beat = 0;
	uint64_t beats = 0;
	roost_msg_t *m = NULL;
	bool announced = false;      /* the shutdown told to systemd */
	uint64_t now;
	int rc;

	for (;;) {
		now = roost__plat_now_ns();
		if (now >= next_beat) {
			rd_heartbeat(&rd->rd_sy);
			if (++beats % AUDIT_BEATS == 0)
				rd_audit(rd);
			next_beat = now + RD_HEARTBEAT_NS;
		}
		if (rd_sig_stop && !rd->rd_stopping) {
			rd_log(RD_INFO, "signal %d: shutting down",
			       (int)rd_sig_stop);
			rd->rd_stopping = true;
		}
		if (rd_sig_chld) {
			/* Requests first: a STOPPING for the one that exited
			 * was sent before its exit. */
			rd_sig_chld = 0;
			rd_requests_drain(rd);
			rd_children_reap(rd);
		}
		watched_exits(rd);
		rd_children_poll_attach(rd);
		rd_stops_tick(rd, roost__plat_now_ns());
		if (rd->rd_stopping && !announced) {
			announced = true;
#ifdef ROOSTD_HAVE_SYSTEMD
			sd_notify(0, "STOPPING=1");
#endif
		}
		if (rd->rd_stopping && rd_shutdown_step(rd))
			break;
		if (rd->rd_timers != NULL)
			rd_timers_fire(rd->rd_timers, roost__plat_now_ns(),
			               fire_one, rd);
		rd_status_sync(rd);
		rc = roost__recv_ns(rd->rd_ctx, &m,
		                    sleep_ns(rd, roost__plat_now_ns(), next_beat));
		rd_requests_handle(rd, rc, m);
	}
}
