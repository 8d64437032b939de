/* SPDX-License-Identifier: MIT */
/*
 * timer_stats.h - roostd's counters in the alarm table's header
 * (struct roost__tmr_stats, tag-tmr-stats in timer_table.h): alarm
 * lateness by bucket, spawn-to-ready time, restarts. roostd writes them
 * (daemon/stats.c); tools read them through roost_view_roostd_stats.
 */
#ifndef ROOST_CORE_TIMER_STATS_H
#define ROOST_CORE_TIMER_STATS_H

#include "core/shm/timer_table.h"

/* The counters as plain numbers (the words of tag-tmr-stats, in order). */
struct roost__tmr_stats_vals {
	uint64_t sv_late[ROOST_TMR_LATE_BUCKETS]; /* per bucket */
	uint64_t sv_late_sum_ns;
	uint64_t sv_spawns;
	uint64_t sv_spawn_sum_ns;
	uint64_t sv_restarts;
};

static_assert(sizeof(struct roost__tmr_stats_vals) ==
                  ROOST_TMR_STAT_WORDS * sizeof(uint64_t),
              "stats words");

/* Upper bound (inclusive, ns) of lateness bucket 'i' < BUCKETS - 1. */
uint64_t roost__tmr_late_bound_ns(unsigned i);
/* The bucket a lateness of 'ns' counts in. */
unsigned roost__tmr_late_bucket(uint64_t ns);

/* Publish 'v' (the single writer: roostd). */
void roost__tmr_stats_publish(struct roost__tmr_stats *s,
                              const struct roost__tmr_stats_vals *v);
/* A consistent, checked copy: 0, -EAGAIN (a write did not settle), or
 * ROOST_ECORRUPT (the hash does not match: damaged). */
int roost__tmr_stats_copy(const struct roost__tmr_stats *s,
                          struct roost__tmr_stats_vals *v);
/* Open the alarm table of 'system' (owner 'uid', group 'gid') and copy
 * its counters: 0, or an error of roost__tmr_open or of the copy. */
int roost__tmr_stats_get(const char *system, uint32_t uid, int64_t gid,
                         struct roost__tmr_stats_vals *v);

#endif /* ROOST_CORE_TIMER_STATS_H */
