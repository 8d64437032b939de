/* SPDX-License-Identifier: MIT */
/*
 * chaos_actor.h - what the chaos run's actors (chaos_actor.c) and its
 * checker (check_chaos.c) share: a file mapped by all of them, holding
 * each producer's progress and what each consumer has handled.
 */
#ifndef ROOST_TEST_CHAOS_ACTOR_H
#define ROOST_TEST_CHAOS_ACTOR_H

#include <stdint.h>

#define CHAOS_PRODUCERS 4
#define CHAOS_CONSUMERS 2
#define CHAOS_KIND 1000

/* One numbered message. 'cm_retry': a producer that died between a send
 * and recording it sends the same number again, marked. */
struct chaos_msg {
	uint32_t cm_producer;
	uint32_t cm_retry;
	uint64_t cm_seq;
	int32_t cm_pid;   /* the sending process, for the reports */
	uint32_t cm_pad;
};

/* Every field has one writer at a time (the actor that owns it, or its
 * restarted successor) and is written with single aligned stores, so a
 * kill never tears one. */
struct chaos_shared {
	uint64_t cs_count;                       /* messages per producer */
	uint64_t cs_attempt[CHAOS_PRODUCERS];    /* seq + 1 being sent */
	uint64_t cs_sent[CHAOS_PRODUCERS];       /* sends that succeeded */
	uint64_t cs_next[CHAOS_PRODUCERS];       /* seq + 1 handled last */
	uint64_t cs_handled;                     /* first deliveries */
	uint64_t cs_redelivered;                 /* repeats flagged so */
	uint64_t cs_retried;                     /* repeats of a retry */
	uint64_t cs_gaps;                        /* numbers never seen */
	uint64_t cs_violations;                  /* anything else */
	int32_t cs_last_pid[CHAOS_PRODUCERS];    /* sender of the last one */
	char cs_why[256];                        /* the first violation */
	char cs_gap_why[256];                    /* the first gap */
};

#endif
