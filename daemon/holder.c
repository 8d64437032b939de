/* SPDX-License-Identifier: MIT */
/*
 * holder.c - a supervised slot held by a live process other than the
 * one roostd records for it. Only a restart reattaches to a supervised
 * slot (ROOST_REATTACH), and only while the slot's holder is dead, so
 * such a process is a restart a roostd started and did not record: the
 * dead roostd's, spawned just before it was killed, which reattached
 * after the adopting roostd read the slot (and judged the actor dead).
 * It is the actor: roostd follows it (a pidfd watch) and kills the
 * restart it started itself, which could only fail to reattach or,
 * once the holder dies, reattach and run beside the next restart.
 */
#include "rd.h"

#include <signal.h>

bool
rd_child_follow_holder(struct rd *rd, struct rd_child *ch)
{
	struct roost__slot_view sv;
	pid_t ours = ch->ch_pid;

	if (ch->ch_aid.id == 0 ||
	    roost__sys_slot_read(&rd->rd_sy, roost_aid_slot(ch->ch_aid), &sv) <
	        0 ||
	    sv.sv_state != ROOST_SLOT_ACTIVE ||
	    sv.sv_gen != roost_aid_gen(ch->ch_aid) ||
	    !(sv.sv_flags & ROOST_SLOT_F_SUPERVISED) || sv.sv_pid <= 0 ||
	    sv.sv_pid == ours ||
	    !roost__plat_proc_alive(sv.sv_pid, sv.sv_pid_start))
		return false;
	/* -ESRCH: it ended just now; its slot names a dead process. */
	if (rd_watch_add(sv.sv_pid, sv.sv_pid_start) < 0)
		return false;
	rd_child_signal(ch, SIGKILL); /* ours, if it still runs */
	rd_log(RD_INFO,
	       "%s (%u.%u) is held by pid %d, a restart no roostd "
	       "recorded: following it%s",
	       ch->ch_name[0] ? ch->ch_name : "an unnamed actor",
	       roost_aid_slot(ch->ch_aid), roost_aid_gen(ch->ch_aid),
	       (int)sv.sv_pid, ours > 0 ? ", our own restart killed" : "");
	ch->ch_pid = sv.sv_pid;
	ch->ch_pid_start = sv.sv_pid_start;
	ch->ch_is_child = false;
	ch->ch_in_slot = true;
	ch->ch_state = CH_RUNNING;
	rd_keep_child(rd, ch);
	/* Killed by request meanwhile: the holder is the actor. */
	if (ch->ch_kill)
		rd_child_signal(ch, SIGKILL);
	return true;
}
