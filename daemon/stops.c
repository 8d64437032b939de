/* SPDX-License-Identifier: MIT */
/*
 * stops.c - stopping one actor as a state machine that roostd's loop
 * drives, so that alarms, requests and exits go on while any number of
 * actors take their time to stop.
 *
 *   ASKING   the user lane's lock was busy: asked again every turn
 *            (ASK_RETRY_NS) until the shutdown timeout, then SIGTERM
 *   ASKED    the lane is shut and STOP sent: SIGTERM at the deadline
 *   TERM     SIGTERM sent: SIGKILL at the deadline
 *   KILLED   SIGKILL sent: given up on after KILL_WAIT_NS (a process
 *            stuck in the kernel must not hold the shutdown forever)
 *
 * A stop ends in rd_stop_end(), called where every exit is seen
 * (children.c, on waitpid or the pidfd watcher): nothing here waits.
 * Invariants: rd->rd_nstopping counts the children whose ch_stop is not
 * NONE, and while it is not 0, rd->rd_stop_due is at most the earliest
 * ch_stop_due (early is harmless: one scan too many), so a loop turn
 * scans the table only when some stop's deadline has come.
 */
#include "rd.h"

#include <signal.h>

/* A busy lane lock is held for a send: nanoseconds. */
#define ASK_RETRY_NS (1000ull * 1000u)
/* After SIGKILL, the longest we wait for the end (as before: 60 s). */
#define KILL_WAIT_NS (60000ull * 1000000u)

static const char *
name_of(const struct rd_child *ch)
{
	return ch->ch_name[0] ? ch->ch_name : "actor";
}

static uint64_t
after_ms(uint64_t now, uint32_t ms)
{
	return now + (uint64_t)ms * 1000000u;
}

/*
 * Shut the user lane of 'ch' and send it STOP, without waiting: 0 when
 * asked (or asked already), -EAGAIN when the lane's lock is busy or the
 * mailbox is being replaced (ask again), another negative errno when it
 * cannot be asked at all (no address, mailbox gone).
 */
static int
ask_stop(struct rd *rd, struct rd_child *ch)
{
	struct roost__mbox *mb;
	int rc;

	if (ch->ch_aid.id == 0)
		return -ESRCH;
	rc = roost__ctx_peer(rd->rd_ctx, ch->ch_aid, &mb);
	if (rc < 0)
		return rc;
	rc = roost__mbox_shut_user(mb, 0);
	if (rc == -ESTALE) {
		/* Replaced: map the new segment on the next try. */
		roost__ctx_peer_drop(rd->rd_ctx, roost_aid_slot(ch->ch_aid));
		return -EAGAIN;
	}
	if (rc == -ETIMEDOUT)
		rc = -EAGAIN;
	if (rc < 0 && rc != -EALREADY)
		return rc;
	ch->ch_stopping = true;
	/* Timeout 0: a full system lane loses the STOP, never our loop;
	 * the deadline's SIGTERM still comes. */
	rc = roost_send_ex(rd->rd_ctx, ch->ch_aid, ROOST_KIND_STOP,
	                   ROOST_SEND_SYSTEM, 0, NULL, 0, 0);
	if (rc < 0)
		rd_log(RD_DEBUG, "STOP to %s lost: %s", name_of(ch),
		       roost_strerror(rc));
	return 0;
}

/* A stop of a child has a deadline 'due': keep rd_stop_due at most it. */
static void
note_due(struct rd *rd, uint64_t due)
{
	if (rd->rd_nstopping == 1 || due < rd->rd_stop_due)
		rd->rd_stop_due = due;
}

static void
enter_kill(struct rd_child *ch, uint64_t now)
{
	rd_child_signal(ch, SIGKILL);
	ch->ch_stop = RD_STOP_KILLED;
	ch->ch_stop_due = now + KILL_WAIT_NS;
}

/* SIGTERM with the shutdown timeout, or SIGKILL at once without one. */
static void
enter_term(struct rd_child *ch, uint64_t now)
{
	uint32_t ms = ch->ch_spec.sp_shutdown_ms;

	if (ms == 0) {
		enter_kill(ch, now);
		return;
	}
	rd_child_signal(ch, SIGTERM);
	ch->ch_stop = RD_STOP_TERM;
	ch->ch_stop_due = after_ms(now, ms);
}

/* Try to ask 'ch' to stop gracefully; SIGTERM when it cannot be asked
 * or the asking phase is over. */
static void
try_ask(struct rd *rd, struct rd_child *ch, uint64_t now)
{
	int rc = ask_stop(rd, ch);

	if (rc == 0) {
		ch->ch_stop = RD_STOP_ASKED;
		ch->ch_stop_due = ch->ch_stop_end;
	} else if (rc == -EAGAIN && now < ch->ch_stop_end) {
		ch->ch_stop = RD_STOP_ASKING;
		ch->ch_stop_due = now + ASK_RETRY_NS < ch->ch_stop_end
		                  ? now + ASK_RETRY_NS : ch->ch_stop_end;
	} else {
		enter_term(ch, now);
	}
	rd_keep_child(rd, ch);
}

void
rd_stop_begin(struct rd *rd, struct rd_child *ch, enum rd_stop_for why)
{
	uint64_t now = roost__plat_now_ns();

	if (ch->ch_pid <= 0)
		return;
	if (ch->ch_stop != RD_STOP_NONE) {
		if (why != RD_STOP_FOR_SHUTDOWN)
			return;
		/* The shutdown's purpose overrides: nothing comes back, and a
		 * daemon-flagged actor goes at once, whatever its stop. */
		ch->ch_stop_for = why;
		if (ch->ch_spec.sp_daemon && ch->ch_stop != RD_STOP_KILLED) {
			enter_kill(ch, now);
			note_due(rd, ch->ch_stop_due);
		}
		rd_keep_child(rd, ch);
		return;
	}
	rd->rd_nstopping++;
	ch->ch_stop_for = why;
	ch->ch_stop_end = after_ms(now, ch->ch_spec.sp_shutdown_ms);
	if (why == RD_STOP_FOR_RESTART) {
		/* Mail stays queued for the restarted process: no stop. */
		enter_term(ch, now);
	} else if (ch->ch_spec.sp_daemon) {
		enter_kill(ch, now);
	} else {
		try_ask(rd, ch, now);
	}
	note_due(rd, ch->ch_stop_due);
	rd_keep_child(rd, ch);
}

/* A stop someone else began is followed from 'phase' on, its next step
 * at the actor's shutdown timeout from now; nothing is sent now. */
static void
take_over(struct rd *rd, struct rd_child *ch, enum rd_stop_for why,
          enum rd_stop_phase phase)
{
	uint64_t now = roost__plat_now_ns();

	if (ch->ch_pid > 0 && ch->ch_stop == RD_STOP_NONE) {
		rd->rd_nstopping++;
		ch->ch_stop_for = why;
		ch->ch_stop = phase;
		ch->ch_stop_end = after_ms(now, ch->ch_spec.sp_shutdown_ms);
		ch->ch_stop_due = ch->ch_stop_end;
		note_due(rd, ch->ch_stop_due);
	}
	rd_keep_child(rd, ch);
}

void
rd_stop_follow(struct rd *rd, struct rd_child *ch)
{
	ch->ch_stopping = true;
	take_over(rd, ch, RD_STOP_FOR_END, RD_STOP_ASKED);
}

void
rd_stop_resume_restart(struct rd *rd, struct rd_child *ch)
{
	take_over(rd, ch, RD_STOP_FOR_RESTART, RD_STOP_TERM);
}

/* The deadline of 'ch' passed: its next step. */
static void
escalate(struct rd *rd, struct rd_child *ch, uint64_t now)
{
	uint32_t ms = ch->ch_spec.sp_shutdown_ms;

	switch (ch->ch_stop) {
	case RD_STOP_ASKING:
		try_ask(rd, ch, now);
		if (ch->ch_stop == RD_STOP_TERM)
			rd_log(RD_INFO, "%s could not be asked to stop in %u ms: "
			       "SIGTERM", name_of(ch), ms);
		break;
	case RD_STOP_ASKED:
		if (ms > 0)
			rd_log(RD_INFO, "%s did not stop in %u ms: SIGTERM",
			       name_of(ch), ms);
		enter_term(ch, now);
		break;
	case RD_STOP_TERM:
		rd_log(RD_INFO, "%s did not stop in %u ms: SIGKILL", name_of(ch),
		       ms);
		enter_kill(ch, now);
		break;
	case RD_STOP_KILLED:
		rd_log(RD_ERR, "%s (pid %d) did not end within %llu s of "
		       "SIGKILL: giving up on it", name_of(ch), (int)ch->ch_pid,
		       (unsigned long long)(KILL_WAIT_NS / 1000000000u));
		rd_child_ended(rd, ch, 0, false);
		break;
	case RD_STOP_NONE:
		break;
	}
}

void
rd_stops_tick(struct rd *rd, uint64_t now)
{
	struct rd_child *ch;
	uint64_t due = UINT64_MAX;
	int i;

	if (rd->rd_nstopping == 0 || now < rd->rd_stop_due)
		return;
	for (i = 0; i < rd->rd_nkids; i++) {
		ch = &rd->rd_kids[i];
		if (ch->ch_stop != RD_STOP_NONE && now >= ch->ch_stop_due)
			escalate(rd, ch, now);
	}
	/* A second pass: an escalation may end a stop or begin others. */
	for (i = 0; i < rd->rd_nkids; i++) {
		ch = &rd->rd_kids[i];
		if (ch->ch_stop != RD_STOP_NONE && ch->ch_stop_due < due)
			due = ch->ch_stop_due;
	}
	rd->rd_stop_due = due;
}

bool
rd_stops_next_due(const struct rd *rd, uint64_t *due)
{
	if (rd->rd_nstopping == 0)
		return false;
	*due = rd->rd_stop_due;
	return true;
}

enum rd_stop_for
rd_stop_end(struct rd *rd, struct rd_child *ch)
{
	if (ch->ch_stop != RD_STOP_NONE) {
		ch->ch_stop = RD_STOP_NONE;
		rd->rd_nstopping--;
		rd_keep_child(rd, ch);
	}
	return ch->ch_stop_for;
}
