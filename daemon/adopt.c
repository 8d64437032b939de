/* SPDX-License-Identifier: MIT */
/*
 * adopt.c - taking over a running system whose roostd died. The actor
 * table in shared memory says who runs (pid and start time per slot):
 * each supervised slot is matched by name with the config's actors.
 *
 *   in the config, process alive    watched again (pidfd), restarted
 *                                   by policy when it ends
 *   in the config, process dead     restarted now at its address
 *   in the config, no slot          started
 *   not in the config, alive        watched; not restarted when it ends
 *                                   (its spec died with the old roostd)
 *   not in the config, dead         its slot is released
 *
 * A live one whose user lane is shut was being stopped when the old
 * roostd died: its stop goes on with its timeouts (stops.c), so it ends
 * stopped instead of staying half-stopped.
 *
 * Alarms are adopted by the caller (timers.c). Monitors and links lived
 * in the old roostd's memory only: they are lost, and we say so.
 */
#include "rd.h"

#include <stdio.h>

static struct rd_child *
config_child(struct rd *rd, const char *name)
{
	int i;

	for (i = 0; i < rd->rd_nkids; i++)
		if (!rd->rd_kids[i].ch_nospec && rd->rd_kids[i].ch_aid.id == 0 &&
		    strcmp(rd->rd_kids[i].ch_name, name) == 0)
			return &rd->rd_kids[i];
	return NULL;
}

/* Adopt one supervised slot; returns what it counts as (0 watched,
 * 1 restarted, 2 released) or a negative errno. */
static int
adopt_slot(struct rd *rd, uint32_t slot, const struct roost__slot_view *sv)
{
	bool alive = roost__plat_proc_alive(sv->sv_pid, sv->sv_pid_start);
	roost_aid_t aid = roost__aid_make(slot, sv->sv_gen);
	struct rd_child *ch = config_child(rd, sv->sv_name);
	int rc;

	if (ch == NULL && !alive) {
		rd_log(RD_INFO, "releasing %s (slot %u): dead, not in the config",
		       sv->sv_name[0] ? sv->sv_name : "an unnamed actor", slot);
		roost__sys_release_dead(&rd->rd_sy, aid);
		return 2;
	}
	if (ch == NULL) {
		ch = rd_child_add(rd, sv->sv_name, 0);
		if (ch == NULL)
			return -ENOMEM;
		ch->ch_nospec = true;
		ch->ch_spec.sp_restart = RD_TEMPORARY;
		ch->ch_spec.sp_shutdown_ms = ROOST_SHUTDOWN_MS_DEF;
		rd_log(RD_INFO, "adopting %s (pid %d): not in the config, so it "
		       "will not be restarted", sv->sv_name[0] ? sv->sv_name
		       : "an unnamed actor", (int)sv->sv_pid);
	}
	ch->ch_aid = aid;
	if (alive) {
		ch->ch_pid = sv->sv_pid;
		ch->ch_pid_start = sv->sv_pid_start;
		ch->ch_is_child = false;
		ch->ch_state = CH_RUNNING;
		rc = rd_watch_add(sv->sv_pid, sv->sv_pid_start);
		if (rc == 0) {
			/* Caught mid-stop by the old roostd's death: the
			 * stop goes on, so it cannot stay half-stopped. */
			if (rd_child_lane_shut(rd, ch)) {
				rd_log(RD_INFO, "%s was stopping: its stop goes "
				       "on", ch->ch_name[0] ? ch->ch_name
				       : "an unnamed actor");
				rd_stop_follow(rd, ch);
			}
			return 0;
		}
		if (rc != -ESRCH)
			rd_log(RD_ERR, "cannot watch %s (pid %d): %s",
			       ch->ch_name, (int)sv->sv_pid, roost_strerror(rc));
		ch->ch_pid = 0; /* it ended just now */
	}
	if (ch->ch_nospec) {
		ch->ch_state = CH_GONE;
		roost__sys_release_dead(&rd->rd_sy, aid);
		return 2;
	}
	rd_log(RD_INFO, "%s died while no roostd ran: restarting it",
	       ch->ch_name);
	ch->ch_state = CH_DOWN;
	ch->ch_restarts++;
	rd_stats_restart();
	rc = rd_child_spawn(rd, ch);
	return rc < 0 ? rc : 1;
}

int
rd_adopt(struct rd *rd)
{
	struct roost__slot_view sv;
	int counts[3] = {0, 0, 0};
	int started = 0;
	uint32_t self = roost_aid_slot(roost_self(rd->rd_ctx));
	uint32_t dead = roost_aid_slot(roost_self(rd->rd_dead));
	uint32_t i;
	int k;
	int rc;

	for (i = 0; i < rd->rd_sy.sy_fixed.sf_nslots; i++) {
		if (i == self || i == dead ||
		    roost__sys_slot_read(&rd->rd_sy, i, &sv) < 0 ||
		    sv.sv_state != ROOST_SLOT_ACTIVE ||
		    !(sv.sv_flags & ROOST_SLOT_F_SUPERVISED))
			continue;
		rc = adopt_slot(rd, i, &sv);
		if (rc < 0)
			return rc;
		counts[rc]++;
	}
	for (k = 0; k < rd->rd_nkids; k++) {
		if (rd->rd_kids[k].ch_nospec || rd->rd_kids[k].ch_aid.id != 0 ||
		    rd->rd_kids[k].ch_state != CH_DOWN)
			continue;
		rc = rd_child_spawn(rd, &rd->rd_kids[k]);
		if (rc < 0)
			return rc;
		started++;
	}
	rd_log(RD_INFO, "adopted system '%s': %d actor(s) watched again, %d "
	       "restarted, %d released, %d started; monitors and links held "
	       "by the previous roostd are lost", rd->rd_system, counts[0],
	       counts[1], counts[2], started);
	return 0;
}
