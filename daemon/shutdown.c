/* SPDX-License-Identifier: MIT */
/*
 * shutdown.c - the ordered shutdown as steps of roostd's loop, so alarms
 * and requests are served until the last actor is gone.
 *
 * Order: daemon-flagged actors first, all killed at once; then the
 * others tier by tier, from the latest start order to the earliest (the
 * config's `order` key; actors started on request come after every
 * config actor). The members of a tier (a pool, actors sharing an order)
 * stop together, each with its own timeouts (stops.c); a tier begins
 * only once every process of the tiers before it has ended.
 *
 * Each step looks at the table afresh, so an actor that turns up during
 * the shutdown (a one-shot asking to be watched) is stopped too.
 */
#include "rd.h"

bool
rd_shutdown_step(struct rd *rd)
{
	struct rd_child *ch;
	bool daemons = false;
	bool any = false;
	int64_t tier = INT64_MIN;
	int i;

	/* Recorded before its first stop: a roostd that adopts the system
	 * finishes it (adopt.c). */
	rd_keep_shutdown(rd);
	for (i = 0; i < rd->rd_nkids; i++) {
		ch = &rd->rd_kids[i];
		if (ch->ch_pid <= 0)
			continue;
		any = true;
		if (ch->ch_spec.sp_daemon) {
			daemons = true;
			rd_stop_begin(rd, ch, RD_STOP_FOR_SHUTDOWN);
		} else if (ch->ch_order > tier) {
			tier = ch->ch_order;
		}
	}
	if (!any)
		return true;
	if (daemons)
		return false;
	for (i = 0; i < rd->rd_nkids; i++) {
		ch = &rd->rd_kids[i];
		if (ch->ch_pid > 0 && ch->ch_order == tier)
			rd_stop_begin(rd, ch, RD_STOP_FOR_SHUTDOWN);
	}
	return false;
}
