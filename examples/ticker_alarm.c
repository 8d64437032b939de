/* SPDX-License-Identifier: MIT */
/*
 * ticker_alarm.c - alarms instead of an alarm thread: an interval timer,
 * a one-shot alarm that cancels it, and an alarm cancelled before it
 * fires. roostd keeps the timers and fires them into the target's
 * mailbox, so the actor itself never sleeps or polls a clock.
 *
 * The program starts a roostd of its own (a private system) and a
 * "ticker" actor (a one-shot running a handler table). Then main asks
 * roostd for:
 *  - TICK into the ticker every 50 ms (roost_timer_start, MessagePack
 *    payload); the ticker counts them;
 *  - ALARM into the ticker after 275 ms (roost_send_after); the ticker
 *    handles it by cancelling the interval (roost_timer_cancel, with the
 *    id main gave it) and telling main how many ticks it saw;
 *  - NEVER after 100 ms, cancelled at once: it must never arrive.
 * main then waits another 200 ms and asks the ticker for its counts: no
 * tick after the cancel (at most one that was already queued when the
 * cancel ran), no NEVER.
 *
 * Usage: ticker_alarm [--roostd PATH]   (default: the roostd built with it)
 * Exit status 0 when the timers behaved as described, 1 otherwise.
 */
#include <roost.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef ROOSTD_BIN
#define ROOSTD_BIN "roostd" /* found on $PATH */
#endif

enum {
	K_START = 1,     /* main -> ticker: {timer}, the interval's id */
	K_TICK = 2,      /* roostd -> ticker, every TICK_US */
	K_ALARM = 3,     /* roostd -> ticker, once, after ALARM_US */
	K_NEVER = 4,     /* cancelled before it fires */
	K_REPORT = 5,    /* call: answered with K_COUNTS */
	K_CANCELLED = 10, /* ticker -> main: {ticks, rc} */
	K_COUNTS = 11    /* {ticks, never} */
};

#define TICK_US 50000
#define ALARM_US 275000
#define NEVER_US 100000
#define AFTER_US 200000 /* how long main watches after the cancel */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------------
 * Running a roostd of our own (as in oneshot.c).
 */

static pid_t
roostd_start(const char *roostd, const char *sys)
{
	pid_t pid = fork();

	if (pid == 0) {
		execlp(roostd, roostd, "--system", sys, "--foreground",
		       "--log-level", "error", (char *)NULL);
		fprintf(stderr, "ticker_alarm: cannot run %s: %s\n", roostd,
		        strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Wait up to 'ms' for 'pid' to exit; its status, or -1 (then it is
 * killed). */
static int
wait_exit(pid_t pid, int ms)
{
	int status;
	int i;

	for (i = 0; i < ms; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Attach to 'sys' once roostd has made it and registered itself. */
static int
roostd_wait_up(pid_t rd, const char *sys, roost_ctx_t **out)
{
	roost_ctx_opts_t o;
	roost_aid_t aid;
	int rc = -ENOENT;
	int i;

	roost_ctx_opts_init(&o);
	o.system = sys;
	*out = NULL;
	for (i = 0; i < 5000 && rc < 0; i++) {
		if (waitpid(rd, NULL, WNOHANG) == rd)
			return -ECHILD; /* roostd gave up (it said why) */
		if (*out == NULL && roost_ctx_open(out, &o) < 0)
			*out = NULL;
		if (*out != NULL)
			rc = roost_whereis(*out, "roostd", &aid);
		if (rc < 0)
			usleep(1000);
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * The ticker: a handler table over its counts.
 */
struct ticker {
	roost_aid_t tk_main;
	uint64_t tk_timer; /* the interval to cancel */
	int64_t tk_ticks;
	int64_t tk_never;
};

static int
on_start(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct ticker *t = state;

	(void)ctx;
	t->tk_main = roost_msg_from(m);
	return roost_msg_get_uint(m, "timer", &t->tk_timer) < 0
	               ? -EPROTO : ROOST_CONTINUE;
}

static int
on_tick(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct ticker *t = state;

	(void)ctx, (void)m;
	t->tk_ticks++;
	return ROOST_CONTINUE;
}

static int
on_alarm(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct ticker *t = state;
	int rc;

	(void)m;
	rc = roost_timer_cancel(ctx, t->tk_timer);
	return roost_send_packed(ctx, t->tk_main, K_CANCELLED, 1000,
	                         "{s:I, s:i}", "ticks", t->tk_ticks, "rc",
	                         rc) < 0 ? -EIO : ROOST_CONTINUE;
}

static int
on_never(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct ticker *t = state;

	(void)ctx, (void)m;
	t->tk_never++;
	return ROOST_CONTINUE;
}

static int
on_report(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct ticker *t = state;

	return roost_reply_packed(ctx, m, K_COUNTS, "{s:I, s:I}", "ticks",
	                          t->tk_ticks, "never", t->tk_never) < 0
	               ? -EIO : ROOST_CONTINUE;
}

static const roost_handler_t ticker_handlers[] = {
	{K_START, on_start},
	{K_TICK, on_tick},
	{K_ALARM, on_alarm},
	{K_NEVER, on_never},
	{K_REPORT, on_report},
	{0, NULL},
};

static const roost_behaviour_t ticker_behaviour = {
	.handlers = ticker_handlers,
};

/* The ticker's one-shot: run until stopped (by the shutdown). */
static int
ticker_main(roost_ctx_t *ctx, void *arg)
{
	struct ticker t = {ROOST_AID_NONE, 0, 0, 0};

	(void)arg;
	return roost_run(ctx, &ticker_behaviour, &t) == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------
 * main: sets the timers and watches.
 */

static bool
is_cancelled(const roost_msg_t *m, void *arg)
{
	(void)arg;
	return roost_msg_kind(m) == K_CANCELLED;
}

static int
run(roost_ctx_t *ctx, bool *ok)
{
	roost_aid_t ticker;
	roost_msg_t *m;
	uint64_t tick_id;
	uint64_t alarm_id;
	uint64_t never_id;
	uint8_t buf[64];
	int64_t at_cancel;
	int64_t cancel_rc;
	int64_t ticks;
	int64_t never;
	double t0;
	int rc;
	int n;

	rc = roost_spawn_fn(ctx, ticker_main, NULL, "ticker", 0, &ticker);
	if (rc < 0)
		return rc;
	t0 = now_ms();
	/* An interval with a typed payload: roost_pack, then the full form. */
	n = roost_pack(buf, sizeof(buf), "{s:s}", "what", "tick");
	rc = roost_timer_start(ctx, ticker, TICK_US, TICK_US, K_TICK,
	                       ROOST_SEND_MSGPACK, buf, (size_t)n, &tick_id);
	if (rc == 0)
		rc = roost_send_packed(ctx, ticker, K_START, 1000, "{s:U}",
		                       "timer", tick_id);
	if (rc == 0)
		rc = roost_send_after(ctx, ticker, ALARM_US, K_ALARM, NULL, 0,
		                      &alarm_id);
	if (rc == 0)
		rc = roost_send_after(ctx, ticker, NEVER_US, K_NEVER, NULL, 0,
		                      &never_id);
	if (rc == 0)
		rc = roost_timer_cancel(ctx, never_id);
	if (rc < 0)
		return rc;
	printf("ticker_alarm: TICK to 'ticker' every %d ms (timer %" PRIu64
	       "), ALARM after %d ms (timer %" PRIu64 "); NEVER (timer %"
	       PRIu64 ") cancelled at once\n", TICK_US / 1000, tick_id,
	       ALARM_US / 1000, alarm_id, never_id);
	rc = roost_recv_match(ctx, &m, ROOST_LANE_ANY, is_cancelled, NULL,
	                      5000);
	if (rc == 0 && (roost_msg_get_int(m, "ticks", &at_cancel) < 0 ||
	                roost_msg_get_int(m, "rc", &cancel_rc) < 0))
		rc = -EPROTO;
	if (rc < 0)
		return rc;
	printf("ticker_alarm: ALARM handled after %.0f ms: the ticker had "
	       "counted %" PRId64 " ticks and cancelled the interval (%s)\n",
	       now_ms() - t0, at_cancel,
	       cancel_rc == 0 ? "ok" : roost_err_name((int)cancel_rc));
	usleep(AFTER_US);
	rc = roost_call_packed(ctx, ticker, K_REPORT, 5000, &m, "n");
	if (rc == 0 && (roost_msg_get_int(m, "ticks", &ticks) < 0 ||
	                roost_msg_get_int(m, "never", &never) < 0))
		rc = -EPROTO;
	if (rc < 0)
		return rc;
	printf("ticker_alarm: %d ms later: %" PRId64 " more ticks, %" PRId64
	       " NEVER; cancelling the interval again: %s\n", AFTER_US / 1000,
	       ticks - at_cancel, never,
	       roost_err_name(roost_timer_cancel(ctx, tick_id)));
	/* Missed ticks are skipped, never bunched, so a slow machine may see
	 * fewer; a tick queued just before the cancel is still handled. */
	*ok = cancel_rc == 0 && at_cancel >= 1 && ticks - at_cancel <= 1 &&
	      never == 0;
	printf("ticker: %" PRId64 " ticks, then the alarm cancelled the "
	       "interval; %" PRId64 " ticks after the cancel%s\n", at_cancel,
	       ticks - at_cancel, *ok ? "" : " (UNEXPECTED)");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *roostd = ROOSTD_BIN;
	char sys[ROOST_SYSTEM_NAME_MAX + 1];
	roost_ctx_t *ctx = NULL;
	bool ok = false;
	int status;
	pid_t rd;
	int rc;

	if (argc == 3 && strcmp(argv[1], "--roostd") == 0) {
		roostd = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: ticker_alarm [--roostd PATH]\n");
		return 2;
	}
	snprintf(sys, sizeof(sys), "ticker_alarm-%d", (int)getpid());
	rd = roostd_start(roostd, sys);
	if (rd < 0)
		return 1;
	rc = roostd_wait_up(rd, sys, &ctx);
	if (rc == 0)
		rc = run(ctx, &ok);
	/* Shutdown stops the ticker gracefully; its alarms go with it. */
	if (rc == 0)
		rc = roost_shutdown(ctx);
	if (rc < 0)
		fprintf(stderr, "ticker_alarm: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
	if (rc < 0)
		kill(rd, SIGTERM);
	status = wait_exit(rd, 20000);
	roost_system_destroy(sys); /* nothing left unless roostd failed */
	return rc == 0 && status == 0 && ok ? 0 : 1;
}
