/* SPDX-License-Identifier: MIT */
/*
 * roost_bench.h - what roost_bench's measuring side (roost_bench.c) and
 * its reporting side (roost_bench_report.c) share: the mechanisms, the
 * figures kept per repetition, the run's configuration.
 */
#ifndef ROOST_BENCH_H
#define ROOST_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#define REPS_MAX 100

/* Messages per roost_send_batch() call of a roost-batch sender. */
#define BATCH_MSGS 32

enum mech {
	MECH_ROOST,       /* one roost_send per message: the headline */
	MECH_ROOST_BATCH, /* roost, senders using roost_send_batch (BATCH_MSGS
	                     a call), receiver as roost's; throughput
	                     scenarios only, never judged by a verdict */
	MECH_SPSC,        /* the hand-rolled SPSC futex ring (spsc_ring.c) */
	MECH_PIPE,
	MECH_SEQPACKET,
	MECH_MQ,
	MECH_COUNT
};

extern const char *const mech_name[MECH_COUNT];

/* Figures kept per mechanism and repetition; NaN where a mechanism is
 * not measured (roost_call, the token ring and the pinned ping-pong are
 * measured for some only, roost-batch only in MET_ONEWAY64..MET_FANIN4). */
enum metric {
	MET_RTT_MED,    /* ping-pong 64 B, us */
	MET_RTT_P99,    /* us */
	MET_ONEWAY64,   /* msg/s */
	MET_ONEWAY1K,   /* msg/s */
	MET_FANIN2,     /* 2 senders -> 1, 64 B, msg/s */
	MET_FANIN4,     /* 4 senders -> 1, 64 B, msg/s */
	MET_PINNED_MED, /* ping-pong 64 B, both on one CPU, us */
	MET_CALL_MED,   /* roost_call round trip 64 B, us */
	MET_RING0,      /* token ring, us per hop, N = ring_sizes[0] */
	MET_RING1,
	MET_RING2,
	MET_RING3,
	MET_COUNT
};

#define RING_SIZES 4
extern const int ring_sizes[RING_SIZES];

struct config {
	int cf_reps;
	bool cf_quick;
	bool cf_json;
	bool cf_best;          /* summary: best of reps, not the median */
	int cf_rtt_rounds;     /* timed round trips per run, at most */
	double cf_rtt_max_s;   /* ... and for at most this long */
	int cf_rtt_warmup;     /* at least this many untimed round trips, */
	double cf_rtt_warm_s;  /* and for at least this long */
	double cf_warm_s;      /* a throughput sender's MSG_WARM phase */
	double cf_budget_s;    /* its timed MSG_DATA phase */
	double cf_ring_warm_s; /* token ring: untimed laps */
	double cf_ring_budget_s; /* timed laps */
	int cf_idle_ms;        /* how long the idle receiver waits */
	int cf_roost_timeout;  /* timeout_ms of roost send and recv */
	int cf_probe_batches;  /* timed batches of the placement probe */
	int cf_pin_cpu;        /* the CPU of the pinned ping-pong */
	long cf_mq_depth;      /* mq_maxmsg */
};

/* Every figure of a whole run. */
struct results {
	int rs_reps;
	double *rs_val;      /* [rep][mech][metric] */
	double *rs_idle;     /* [rep][roost, pipe] CPU ms of idle receivers */
	double *rs_probe;    /* [rep] spin round trip, ns */
	double rs_probe_start;
	double rs_probe_end;
};

double *val_at(struct results *rs, int rep, int m, int met);

/* roost_bench_report.c: the tables, verdicts and JSON. */
void report_banner(const struct config *cf, const struct results *rs);
void report_rep(const struct config *cf, struct results *rs, int rep);
void report_human(const struct config *cf, struct results *rs);
void report_json(const struct config *cf, struct results *rs);

#endif /* ROOST_BENCH_H */
