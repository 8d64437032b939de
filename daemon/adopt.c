/* SPDX-License-Identifier: MIT */
/*
 * adopt.c - taking over a running system whose roostd died. The actor
 * table in shared memory says who runs (pid and start time per slot);
 * the keep table (keep.c) what the dead roostd knew about each: restart
 * count, flags, the stop under way, and the spec of an actor started
 * by request. Each supervised slot is matched by name with the config's
 * actors, else by its kept spec:
 *
 *   known (config or spec), alive   watched again (pidfd), restarted by
 *                                   policy when it ends
 *   known, dead                     judged like any exit (status
 *                                   unknown): restarted by policy under
 *                                   its level's intensity and strategy
 *   in the config, no slot          started
 *   unknown, alive                  watched; not restarted when it ends
 *   unknown, dead                   its slot is released
 *
 * A stop that was under way goes on (a strategy restart's, a graceful
 * stop's, the shutdown's), so nothing stays half-stopped: one that shut
 * its user lane ends stopped; a restart's ends in the restart, with the
 * lane open. A shutdown the dead roostd had begun is finished: nothing
 * is started or restarted, everything is stopped in order, and roostd
 * exits as that one would have. Intensity windows, monitors and links
 * are taken back before any exit is judged, so an exit seen now
 * escalates, and notifies, as it would have then. Alarms are adopted by
 * the caller (timers.c).
 */
#include "rd.h"

#include <stdio.h>

static struct rd_child *
config_child(struct rd *rd, const char *name)
{
	int i;

	for (i = 0; i < rd->rd_nkids; i++)
		if (!rd->rd_kids[i].ch_nospec && rd->rd_kids[i].ch_aid.id == 0 &&
		    rd->rd_kids[i].ch_order != RD_ORDER_REQUESTED &&
		    strcmp(rd->rd_kids[i].ch_name, name) == 0)
			return &rd->rd_kids[i];
	return NULL;
}

static const char *
name_of(const struct rd_child *ch)
{
	return ch->ch_name[0] ? ch->ch_name : "an unnamed actor";
}

/* An actor started by request, back from its kept spec. */
static struct rd_child *
requested_child(struct rd *rd, const char *name, struct roost__keep_copy *c)
{
	const struct roost__keep_actor_rec *r = &c->kc_actor;
	char *argv[ROOST_KEEP_SPEC_MAX + 1];
	const char *program = roost__keep_spec(c, argv);
	struct rd_child *ch = rd_child_add(rd, name, 0);

	if (ch == NULL)
		return NULL;
	if (rd_spec_copy(&ch->ch_spec, program, argv, r->ka_argc) < 0) {
		ch->ch_state = CH_GONE;
		return NULL;
	}
	ch->ch_spec.sp_restart = (enum rd_restart)r->ka_restart;
	ch->ch_spec.sp_daemon = (r->ka_flags & ROOST_KEEP_A_DAEMON) != 0;
	ch->ch_spec.sp_mbox_bytes = r->ka_mbox_bytes;
	ch->ch_spec.sp_shutdown_ms = r->ka_shutdown_ms;
	return ch;
}

/* What the dead roostd knew about 'ch' and we take back. */
static void
apply_kept(struct rd *rd, struct rd_child *ch,
           const struct roost__keep_actor_rec *r)
{
	ch->ch_restarts = r->ka_restarts;
	ch->ch_kill = (r->ka_flags & ROOST_KEEP_A_KILL) != 0;
	ch->ch_stopping = (r->ka_flags & ROOST_KEEP_A_STOPPING) != 0;
	ch->ch_stop_back = (r->ka_flags & ROOST_KEEP_A_BACK) != 0;
	/* A level the config no longer has restarts at the actor's own. */
	if (r->ka_level >= 0)
		ch->ch_restart_level = r->ka_level < rd->rd_cfg->rc_ngroups
		                       ? r->ka_level : ch->ch_group;
}

/* A live actor caught mid-stop: the stop goes on, with the actor's own
 * timeouts from now. */
static void
resume_stop(struct rd *rd, struct rd_child *ch, unsigned kept_stop)
{
	if (kept_stop == ROOST_KEEP_STOP_RESTART) {
		rd_log(RD_INFO, "%s was stopping for a restart: its stop goes "
		       "on", name_of(ch));
		rd_stop_resume_restart(rd, ch);
	} else if (rd_child_lane_shut(rd, ch)) {
		rd_log(RD_INFO, "%s was stopping: its stop goes on",
		       name_of(ch));
		rd_stop_follow(rd, ch);
	} else if (kept_stop != ROOST_KEEP_STOP_NONE) {
		/* Its lane was never shut (the lock was busy): ask again. */
		rd_log(RD_INFO, "%s was being asked to stop: asked again",
		       name_of(ch));
		rd_stop_begin(rd, ch, RD_STOP_FOR_END);
	}
}

/* An actor found dead, its last pid, and the stop it was in
 * (ROOST_KEEP_STOP_*). */
struct dead {
	struct rd_child *de_ch;
	pid_t de_pid;
	unsigned de_stop;
};

/* Adopt one supervised slot; returns what it counts as (0 watched,
 * 1 dead: judged by the caller, 2 released) or a negative errno. */
static int
adopt_slot(struct rd *rd, uint32_t slot, const struct roost__slot_view *sv,
           struct dead *out)
{
	static struct roost__keep_copy c;
	bool alive = roost__plat_proc_alive(sv->sv_pid, sv->sv_pid_start);
	bool kept = rd_keep_actor_of(slot, sv->sv_gen, &c);
	roost_aid_t aid = roost__aid_make(slot, sv->sv_gen);
	struct rd_child *ch = config_child(rd, sv->sv_name);
	int rc;

	/* A kept spec is a spawn request like any other (a granted group
	 * may write the keep table): it runs only a program allowed now. */
	if (ch == NULL && kept && (c.kc_actor.ka_flags & ROOST_KEEP_A_SPEC) &&
	    !rd_program_allowed(rd, (const char *)c.kc_actor.ka_spec)) {
		rd_log(RD_ERR, "%s (slot %u) was started by request to run %s, "
		       "which the config does not allow: it is not restarted",
		       sv->sv_name[0] ? sv->sv_name : "an unnamed actor", slot,
		       (const char *)c.kc_actor.ka_spec);
		kept = false;
	}
	if (ch == NULL && kept && (c.kc_actor.ka_flags & ROOST_KEEP_A_SPEC)) {
		ch = requested_child(rd, sv->sv_name, &c);
		if (ch == NULL)
			return -ENOMEM;
	}
	if (ch == NULL && !alive) {
		rd_log(RD_INFO, "releasing %s (slot %u): dead, neither in the "
		       "config nor started by request",
		       sv->sv_name[0] ? sv->sv_name : "an unnamed actor", slot);
		roost__sys_release_dead(&rd->rd_sy, aid);
		rd_keep_forget(rd, aid);
		return 2;
	}
	if (ch == NULL) {
		ch = rd_child_add(rd, sv->sv_name, 0);
		if (ch == NULL)
			return -ENOMEM;
		ch->ch_nospec = true;
		ch->ch_spec.sp_restart = RD_TEMPORARY;
		ch->ch_spec.sp_shutdown_ms = ROOST_SHUTDOWN_MS_DEF;
		rd_log(RD_INFO, "adopting %s (pid %d): its spec is not known, so "
		       "it will not be restarted", sv->sv_name[0] ? sv->sv_name
		       : "an unnamed actor", (int)sv->sv_pid);
	}
	ch->ch_aid = aid;
	if (kept)
		apply_kept(rd, ch, &c.kc_actor);
	ch->ch_state = CH_RUNNING;
	ch->ch_pid = sv->sv_pid;
	ch->ch_pid_start = sv->sv_pid_start;
	ch->ch_is_child = false;
	ch->ch_in_slot = true;
	if (alive && kept && ch->ch_restart_level >= 0 &&
	    c.kc_actor.ka_stop == ROOST_KEEP_STOP_NONE) {
		/* Recorded down, awaiting its level's restart, yet alive and
		 * not being stopped: this is that restart, spawned by a
		 * roostd killed before it recorded so. Awaiting it would
		 * hold back every restart of the level for good. */
		rd_log(RD_INFO, "%s (pid %d) is the restart the previous "
		       "roostd started", name_of(ch), (int)sv->sv_pid);
		ch->ch_restart_level = -1;
		ch->ch_stop_back = false;
	}
	if (alive) {
		rc = rd_watch_add(sv->sv_pid, sv->sv_pid_start);
		if (rc == 0) {
			resume_stop(rd, ch, kept ? c.kc_actor.ka_stop
			                         : ROOST_KEEP_STOP_NONE);
			rd_keep_child(rd, ch);
			return 0;
		}
		if (rc != -ESRCH)
			rd_log(RD_ERR, "cannot watch %s (pid %d): %s",
			       name_of(ch), (int)sv->sv_pid, roost_strerror(rc));
	}
	/* Dead (or it ended just now): the caller judges its exit once the
	 * watches and windows are back. Down meanwhile, with no process:
	 * a sibling's strategy restart judged first may take it along. */
	ch->ch_pid = 0;
	ch->ch_state = CH_DOWN;
	if (ch->ch_nospec) {
		ch->ch_state = CH_GONE;
		roost__sys_release_dead(&rd->rd_sy, aid);
		rd_keep_forget(rd, aid);
		return 2;
	}
	out->de_ch = ch;
	out->de_pid = sv->sv_pid;
	out->de_stop = kept ? c.kc_actor.ka_stop : ROOST_KEEP_STOP_NONE;
	return 1;
}

/* A dead actor: the exit the dead roostd never saw, or (down already,
 * awaiting a strategy restart) no exit at all. */
static void
judge_dead(struct rd *rd, const struct dead *d)
{
	struct rd_child *ch = d->de_ch;

	/* Restarted already, with a sibling judged before it. */
	if (ch->ch_state != CH_DOWN || ch->ch_pid != 0)
		return;
	/* Its notices and log name the process that died. */
	ch->ch_pid = d->de_pid;
	if (ch->ch_restart_level >= 0 && ch->ch_stop_back && !ch->ch_kill &&
	    !ch->ch_stopping && !rd->rd_stopping) {
		/* It waits down for the rest of its level
		 * (rd_restarts_resume); a sibling whose restart stop ended
		 * while no roostd ran is an exit its watchers hear of. */
		if (d->de_stop == ROOST_KEEP_STOP_RESTART) {
			rd_log(RD_INFO, "%s ended its restart stop while no "
			       "roostd ran", name_of(ch));
			rd_notify_down(rd, ch, 0, false, true,
			               ROOST_EXIT_SHUTDOWN);
			rd_status_exit(rd, ch, 0, false, ROOST_EXIT_SHUTDOWN);
		}
		ch->ch_pid = 0;
		ch->ch_state = CH_DOWN;
		rd_keep_child(rd, ch);
		return;
	}
	rd_log(RD_INFO, "%s died while no roostd ran", name_of(ch));
	ch->ch_restart_level = -1;
	rd_child_ended(rd, ch, 0, false);
}

int
rd_adopt(struct rd *rd)
{
	struct roost__slot_view sv;
	struct dead *dead;
	int counts[3] = {0, 0, 0};
	int started = 0;
	int ndead = 0;
	uint32_t self = roost_aid_slot(roost_self(rd->rd_ctx));
	uint32_t dl = roost_aid_slot(roost_self(rd->rd_dead));
	uint32_t i;
	int k;
	int rc;

	if (rd_keep_shutting_down(&rd->rd_exit)) {
		rd_log(RD_INFO, "the previous roostd was shutting the system "
		       "down: finishing its shutdown");
		rd->rd_stopping = true;
	}
	rd_keep_restore_levels(rd);
	dead = calloc((size_t)rd->rd_kids_cap + 1, sizeof(*dead));
	if (dead == NULL)
		return -ENOMEM;
	for (i = 0; i < rd->rd_sy.sy_fixed.sf_nslots; i++) {
		if (i == self || i == dl ||
		    roost__sys_slot_read(&rd->rd_sy, i, &sv) < 0 ||
		    sv.sv_state != ROOST_SLOT_ACTIVE ||
		    !(sv.sv_flags & ROOST_SLOT_F_SUPERVISED))
			continue;
		rc = adopt_slot(rd, i, &sv, &dead[ndead]);
		if (rc < 0) {
			free(dead);
			return rc;
		}
		ndead += rc == 1;
		counts[rc]++;
	}
	rd_keep_restore_watches(rd, rd_watch_restore);
	for (k = 0; k < ndead; k++)
		judge_dead(rd, &dead[k]);
	free(dead);
	rd_restarts_resume(rd);
	for (k = 0; k < rd->rd_nkids && !rd->rd_stopping; k++) {
		if (rd->rd_kids[k].ch_nospec || rd->rd_kids[k].ch_aid.id != 0 ||
		    rd->rd_kids[k].ch_state != CH_DOWN ||
		    rd->rd_kids[k].ch_pid != 0)
			continue;
		rc = rd_child_spawn(rd, &rd->rd_kids[k]);
		if (rc < 0)
			return rc;
		started++;
	}
	rd_log(RD_INFO, "adopted system '%s': %d actor(s) watched again, %d "
	       "dead judged by policy, %d released, %d started; %d monitor(s) "
	       "and %d link(s) kept", rd->rd_system, counts[0], counts[1],
	       counts[2], started, rd->rd_nmons, rd->rd_nlinks);
	return 0;
}
