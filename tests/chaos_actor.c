/* SPDX-License-Identifier: MIT */
/*
 * chaos_actor.c - the actors of the chaos run (check_chaos.c), started
 * by roostd: "producer.N" sends numbered messages to consumer (N % 2)+1,
 * "consumer.N" checks what arrives. Both keep their state in the file
 * named by $CHAOS_FILE, so a SIGKILL at any instruction loses nothing
 * the checker cannot account for.
 *
 * Producer: records the number it is about to send (cs_attempt), sends,
 * then records it sent (cs_sent). Restarted with attempt == sent + 1, it
 * cannot know whether that send happened: it sends the number again,
 * marked as a retry.
 * Consumer: a number is handled by one store (cs_next = seq + 1). Killed
 * before the store, the message comes back redelivered and is handled
 * then; killed after it, it comes back flagged REDELIVERED and is a
 * repeat. Anything else out of order is a violation.
 */
#include "chaos_actor.h"

#include <roost.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct chaos_shared *sh;

static void
violation(const char *fmt, uint32_t p, uint64_t seq, uint64_t next)
{
	if (__atomic_fetch_add(&sh->cs_violations, 1, __ATOMIC_RELAXED) == 0)
		snprintf(sh->cs_why, sizeof(sh->cs_why), fmt, p,
		         (unsigned long long)seq, (unsigned long long)next);
}

/* Which processes sent around the first violation or gap: the message's
 * sender and the sender of the one handled before it. */
static void
note_senders(char *why, size_t len, const struct chaos_msg *cm)
{
	size_t n = strlen(why);

	snprintf(why + n, len - n, " (sent by pid %d, the one before by pid "
	         "%d)", (int)cm->cm_pid,
	         (int)sh->cs_last_pid[cm->cm_producer]);
}

static void
consume(const roost_msg_t *m)
{
	struct chaos_msg cm;
	uint64_t next;

	if (roost_msg_size(m) != sizeof(cm)) {
		violation("bad size from producer %u (%llu %llu)", 0, 0, 0);
		return;
	}
	memcpy(&cm, roost_msg_data(m), sizeof(cm));
	if (cm.cm_producer >= CHAOS_PRODUCERS) {
		violation("bad producer %u (%llu %llu)", cm.cm_producer, 0, 0);
		return;
	}
	next = __atomic_load_n(&sh->cs_next[cm.cm_producer], __ATOMIC_RELAXED);
	if (cm.cm_seq == next) {
		/* Counters first: a kill between them and the store brings
		 * the message back, counted twice, which is allowed slack
		 * the checker does not rely on. */
		__atomic_fetch_add(&sh->cs_handled, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&sh->cs_next[cm.cm_producer], next + 1,
		                 __ATOMIC_RELEASE);
	} else if (cm.cm_seq + 1 == next &&
	           (roost_msg_flags(m) & ROOST_MSG_REDELIVERED)) {
		__atomic_fetch_add(&sh->cs_redelivered, 1, __ATOMIC_RELAXED);
	} else if (cm.cm_seq + 1 == next && cm.cm_retry) {
		__atomic_fetch_add(&sh->cs_retried, 1, __ATOMIC_RELAXED);
	} else if (cm.cm_seq > next) {
		/* Numbers skipped: only a message that killed its consumer
		 * twice (dead-lettered) may be missing. */
		if (__atomic_fetch_add(&sh->cs_gaps, cm.cm_seq - next,
		                       __ATOMIC_RELAXED) == 0) {
			snprintf(sh->cs_gap_why, sizeof(sh->cs_gap_why),
			         "producer %u: got %llu, expected %llu",
			         cm.cm_producer, (unsigned long long)cm.cm_seq,
			         (unsigned long long)next);
			note_senders(sh->cs_gap_why, sizeof(sh->cs_gap_why),
			             &cm);
		}
		__atomic_store_n(&sh->cs_next[cm.cm_producer], cm.cm_seq + 1,
		                 __ATOMIC_RELEASE);
		__atomic_fetch_add(&sh->cs_handled, 1, __ATOMIC_RELAXED);
	} else {
		violation("producer %u: got %llu, expected %llu", cm.cm_producer,
		          cm.cm_seq, next);
		if (__atomic_load_n(&sh->cs_violations, __ATOMIC_RELAXED) == 1)
			note_senders(sh->cs_why, sizeof(sh->cs_why), &cm);
	}
	__atomic_store_n(&sh->cs_last_pid[cm.cm_producer], cm.cm_pid,
	                 __ATOMIC_RELAXED);
}

static int
run_consumer(roost_ctx_t *ctx)
{
	bool stopping = false;
	roost_msg_t *m;
	int rc;

	for (;;) {
		rc = roost_recv(ctx, &m, stopping ? 0 : -1);
		if (rc == -EAGAIN && stopping)
			return 0;
		if (rc < 0)
			continue;
		if (roost_msg_kind(m) == ROOST_KIND_STOP)
			stopping = true;
		else if (roost_msg_kind(m) == CHAOS_KIND)
			consume(m);
	}
}

/* Wait for a stop (nothing left to send). */
static int
idle(roost_ctx_t *ctx)
{
	roost_msg_t *m;

	for (;;)
		if (roost_recv(ctx, &m, -1) == 0 &&
		    roost_msg_kind(m) == ROOST_KIND_STOP)
			return 0;
}

static int
run_producer(roost_ctx_t *ctx, uint32_t p)
{
	char name[32];
	struct chaos_msg cm = {p, 0, 0, (int32_t)getpid(), 0};
	roost_aid_t to;
	uint64_t seq;
	int rc;

	snprintf(name, sizeof(name), "consumer.%u", p % CHAOS_CONSUMERS + 1);
	while (roost_whereis(ctx, name, &to) != 0)
		usleep(1000);
	for (;;) {
		seq = __atomic_load_n(&sh->cs_sent[p], __ATOMIC_ACQUIRE);
		if (seq >= sh->cs_count)
			return idle(ctx);
		/* attempt == sent + 1: the last run died around this send. */
		cm.cm_retry = __atomic_load_n(&sh->cs_attempt[p],
		                              __ATOMIC_RELAXED) == seq + 1;
		cm.cm_seq = seq;
		__atomic_store_n(&sh->cs_attempt[p], seq + 1, __ATOMIC_RELEASE);
		do
			rc = roost_send(ctx, to, CHAOS_KIND, &cm, sizeof(cm), 1000);
		while (rc == -ETIMEDOUT || rc == -EAGAIN);
		if (rc < 0) {
			fprintf(stderr, "producer %u: send: %s\n", p,
			        roost_strerror(rc));
			return 1;
		}
		__atomic_store_n(&sh->cs_sent[p], seq + 1, __ATOMIC_RELEASE);
	}
}

int
main(void)
{
	const char *path = getenv("CHAOS_FILE");
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	unsigned n;
	int fd;
	int rc;

	if (path == NULL || (fd = open(path, O_RDWR)) < 0)
		return 2;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (sh == MAP_FAILED)
		return 2;
	roost_ctx_opts_init(&o);
	rc = roost_ctx_opts_from_env(&o);
	if (rc == 0)
		rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "chaos_actor: %s\n", roost_strerror(rc));
		return 1;
	}
	if (sscanf(o.name, "producer.%u", &n) == 1 && n >= 1 &&
	    n <= CHAOS_PRODUCERS)
		rc = run_producer(ctx, n - 1);
	else if (sscanf(o.name, "consumer.%u", &n) == 1)
		rc = run_consumer(ctx);
	else
		rc = 2;
	roost_ctx_close(ctx);
	return rc;
}
