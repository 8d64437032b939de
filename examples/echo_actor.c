/* SPDX-License-Identifier: MIT */
/*
 * echo_actor.c - an actor meant to be started by roostd.
 *
 * It takes its system, name and (on a restart) its old address from the
 * environment roostd sets, and answers every ECHO with the same payload
 * on the system lane, carrying the request's correlation id. CRASH makes
 * it abort (to watch roostd restart it with its address and mailbox
 * intact); QUIT makes it close and exit 0. A redelivered message (the
 * one it was handling when it crashed) is answered as REDELIVERED.
 * A graceful stop (ROOST_KIND_STOP) makes it answer everything queued
 * before the stop, then close and exit 0. With --stubborn it ignores both
 * the stop and SIGTERM (to exercise roostd's escalation to SIGKILL).
 * With --linger MS a stop (STOP or SIGTERM) takes MS milliseconds: it
 * renames its process "lingering" (/proc/PID/comm, so a test can see
 * it) and sleeps that long before it exits 0.
 * POISON aborts every time, even redelivered (it ends in the dead
 * letters). PID answers with the actor's pid. STOP_SELF makes it stop
 * itself (roost_stop on its own address), as roost_run's COMPLETE does.
 * LINK_ME links it to the sender (roost_link) and answers the result,
 * an int32_t.
 * With --forward NAME, every message of kind 1000 or more (alarms, say)
 * is passed on to NAME, once NAME is registered (it waits up to a second
 * for that).
 */
#include <roost.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

enum {
	KIND_ECHO = 1,
	KIND_QUIT = 2,
	KIND_CRASH = 3,
	KIND_SLEEP = 4, /* pause 100 ms: lets a backlog build up */
	KIND_POISON = 5,
	KIND_PID = 6,
	KIND_STOP_SELF = 7,
	KIND_LINK_ME = 8,
	KIND_FORWARDED = 1000, /* and above */
	KIND_REPLY = 100,
	KIND_REPLY_REDELIVERED = 101,
};

static long linger_ms = -1; /* --linger: how long a stop takes; -1 none */

/* A slow stop: seen in /proc/PID/comm, then a sleep (no spin), then the
 * end. Async-signal-safe: it runs in the SIGTERM handler too. */
static void
linger_and_exit(void)
{
	struct timespec ts = {linger_ms / 1000, (linger_ms % 1000) * 1000000};

	prctl(PR_SET_NAME, "lingering", 0, 0, 0);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* True if 's' is a whole number of milliseconds, 0..86400000. */
static bool
parse_ms(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    v > 86400000)
		return false;
	*out = v;
	return true;
}

static void
on_sigterm(int sig)
{
	(void)sig;
	linger_and_exit();
}

/* Pass 'm' on to 'name', waiting up to a second for the name to be
 * registered (after a restart, its holder may not be up yet). */
static void
forward_to(roost_ctx_t *ctx, const char *name, const roost_msg_t *m)
{
	int rc = -ENOENT;

	for (int i = 0; i < 1000 && rc == -ENOENT; i++) {
		rc = roost_send_name(ctx, name, roost_msg_kind(m),
		                     roost_msg_data(m), roost_msg_size(m), 1000);
		if (rc == -ENOENT)
			usleep(1000);
	}
}

int
main(int argc, char **argv)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	const char *forward = NULL;
	uint32_t kind;
	bool stubborn = false;
	bool stopping = false;
	int32_t pid;
	int rc;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--stubborn") == 0) {
			stubborn = true;
		} else if (strcmp(argv[i], "--forward") == 0 && i + 1 < argc) {
			forward = argv[++i];
		} else if (strcmp(argv[i], "--linger") == 0 && i + 1 < argc &&
		           parse_ms(argv[++i], &linger_ms)) {
			continue;
		} else {
			fprintf(stderr, "usage: echo_actor [--stubborn] "
			        "[--forward NAME] [--linger MS]\n");
			return 2;
		}
	}
	if (stubborn && linger_ms >= 0) {
		fprintf(stderr, "echo_actor: --stubborn and --linger exclude "
		        "each other\n");
		return 2;
	}
	if (stubborn)
		signal(SIGTERM, SIG_IGN);
	if (linger_ms >= 0)
		signal(SIGTERM, on_sigterm);
	roost_ctx_opts_init(&o);
	rc = roost_ctx_opts_from_env(&o);
	if (rc == 0)
		rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "echo_actor: %s\n", roost_strerror(rc));
		return 1;
	}
	for (;;) {
		/* Once stopping, take what is left without waiting: the user
		 * lane is shut, so -EAGAIN means the backlog is done. */
		rc = roost_recv(ctx, &m, stopping ? 0 : -1);
		if (rc == -EAGAIN && stopping)
			return roost_ctx_close(ctx) == 0 ? 0 : 1;
		if (rc < 0)
			continue; /* ROOST_ECORRUPT: reported once, go on */
		switch (roost_msg_kind(m)) {
		case ROOST_KIND_STOP:
			if (linger_ms >= 0)
				linger_and_exit();
			stopping = !stubborn;
			break;
		case KIND_ECHO:
			kind = (roost_msg_flags(m) & ROOST_MSG_REDELIVERED)
			               ? KIND_REPLY_REDELIVERED : KIND_REPLY;
			/* A request with a correlation id (roost_call) gets a
			 * reply, MessagePack kept; else a plain answer. */
			if (roost_reply(ctx, m, kind,
			                (roost_msg_flags(m) & ROOST_MSG_MSGPACK)
			                        ? ROOST_SEND_MSGPACK : 0,
			                roost_msg_data(m), roost_msg_size(m)) < 0)
				roost_send_ex(ctx, roost_msg_from(m), kind,
				              ROOST_SEND_SYSTEM, roost_msg_corr(m),
				              roost_msg_data(m), roost_msg_size(m),
				              1000);
			break;
		case KIND_CRASH:
			if (!(roost_msg_flags(m) & ROOST_MSG_REDELIVERED))
				abort();
			break; /* crashed on it once already: let it go */
		case KIND_SLEEP:
			usleep(100000);
			break;
		case KIND_POISON:
			abort();
		case KIND_PID:
			pid = (int32_t)getpid();
			roost_send_ex(ctx, roost_msg_from(m), KIND_REPLY,
			              ROOST_SEND_SYSTEM, roost_msg_corr(m), &pid,
			              sizeof(pid), 1000);
			break;
		case KIND_STOP_SELF:
			roost_stop(ctx, roost_self(ctx));
			break;
		case KIND_LINK_ME:
			pid = roost_link(ctx, roost_msg_from(m));
			roost_reply(ctx, m, KIND_REPLY, 0, &pid, sizeof(pid));
			break;
		case KIND_QUIT:
			return roost_ctx_close(ctx) == 0 ? 0 : 1;
		default:
			if (forward != NULL && roost_msg_kind(m) >= KIND_FORWARDED)
				forward_to(ctx, forward, m);
			break;
		}
	}
}
