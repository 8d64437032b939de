/* SPDX-License-Identifier: MIT */
/*
 * stats.c - roostd's counters for scraping: alarm lateness by bucket,
 * spawn-to-ready time, restarts. Kept in the alarm table's header
 * (tag-tmr-stats in lib/core/shm/timer_table.h), so tools read them without
 * asking roostd and a roostd that adopts the system counts on.
 *
 * The loop is the only writer: it keeps its own copy and publishes the
 * whole of it after each change (a few stores under a seqlock).
 */
#include "rd.h"
#include "timers.h"

static struct roost__tmr_stats *shared; /* NULL: no alarm table */
static struct roost__tmr_stats_vals vals;

void
rd_stats_open(struct rd *rd)
{
	int rc;

	shared = rd->rd_timers != NULL ? rd_timers_stats(rd->rd_timers) : NULL;
	if (shared == NULL)
		return;
	/* The previous roostd's counts are ours to go on with, if whole.
	 * It may have died mid-write (ts_seq odd): -EAGAIN then. */
	rc = roost__tmr_stats_copy(shared, &vals);
	if (rc < 0) {
		rd_log(RD_ERR,
		       "roostd's counters in the alarm table %s: "
		       "starting them from zero",
		       rc == -EAGAIN ? "were left mid-write"
		                     : "failed validation");
		memset(&vals, 0, sizeof(vals));
	}
	roost__tmr_stats_publish(shared, &vals);
}

static void
publish(void)
{
	if (shared != NULL)
		roost__tmr_stats_publish(shared, &vals);
}

void
rd_stats_alarm(uint64_t late_ns)
{
	vals.sv_late[roost__tmr_late_bucket(late_ns)]++;
	vals.sv_late_sum_ns += late_ns;
	publish();
}

void
rd_stats_spawn(uint64_t ready_ns)
{
	vals.sv_spawns++;
	vals.sv_spawn_sum_ns += ready_ns;
	publish();
}

void
rd_stats_restart(void)
{
	vals.sv_restarts++;
	publish();
}

void
rd_stats_close(void)
{
	shared = NULL;
}
