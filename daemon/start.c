/* SPDX-License-Identifier: MIT */
/*
 * start.c - everything between a created (or adopted) system and the
 * loop: the child table, roostd's two mailboxes, the alarm table, the
 * pidfd watcher, then the config's actors in start order (or adoption
 * of the running ones); and freeing it all at the end.
 */
#include "rd.h"
#include "timers.h"

#include <stdio.h>
#include <unistd.h>

/* roostd's receive spin (see rd_start). */
#define ROOSTD_SPIN_NS 5000

/* The config's actors as children, pools expanded, in start order. */
static int
children_from_config(struct rd *rd)
{
	const struct rd_actor *a;
	struct rd_child *ch;
	char name[ROOST_NAME_MAX + 16]; /* the config checked it fits */
	uint32_t k;
	int i;

	for (i = 0; i < rd->rd_cfg->rc_nactors; i++) {
		a = &rd->rd_cfg->rc_actors[i];
		for (k = 1; k <= a->ra_count; k++) {
			if (a->ra_count > 1)
				snprintf(name, sizeof(name), "%s.%u", a->ra_name, k);
			else
				snprintf(name, sizeof(name), "%s", a->ra_name);
			ch = rd_child_add(rd, name, a->ra_group);
			if (ch == NULL ||
			    rd_spec_copy(&ch->ch_spec, a->ra_program, a->ra_argv,
			                 a->ra_argc) < 0)
				return -1;
			ch->ch_spec.sp_restart = a->ra_restart;
			ch->ch_spec.sp_daemon = a->ra_daemon;
			ch->ch_spec.sp_mbox_bytes = a->ra_mbox_bytes;
			ch->ch_spec.sp_shutdown_ms = a->ra_shutdown_ms;
			ch->ch_order = a->ra_order;
		}
	}
	return 0;
}

static void
timer_lost(void *arg, uint64_t id, const char *why)
{
	(void)arg;
	rd_log(RD_ERR, "alarm %llu lost at adoption: %s",
	       (unsigned long long)id, why);
}

static int
levels_init(struct rd *rd)
{
	int g;

	for (g = 0; g < rd->rd_cfg->rc_ngroups; g++) {
		rd->rd_levels[g].lv_times =
			calloc(rd->rd_cfg->rc_groups[g].rg_intensity + 1u,
			       sizeof(uint64_t));
		if (rd->rd_levels[g].lv_times == NULL)
			return -1;
	}
	return 0;
}

static int
open_ctx(struct rd *rd, roost_ctx_t **out, const char *name)
{
	roost_ctx_opts_t o;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = rd->rd_system;
	o.name = name;
	rc = roost_ctx_open(out, &o);
	if (rc < 0)
		rd_log(RD_ERR, "cannot open roostd's mailbox '%s': %s", name,
		       roost_strerror(rc));
	return rc;
}

static int
open_timers(struct rd *rd, bool adopt)
{
	int rc = -ENOENT;

	if (adopt)
		rc = rd_timers_adopt(&rd->rd_timers, rd->rd_system, timer_lost,
		                     rd);
	if (rc == ROOST_ECORRUPT) {
		rd_log(RD_ERR, "the alarm table failed validation: every alarm "
		       "of the previous roostd is lost");
		rd_timers_unlink(rd->rd_system);
		rc = -ENOENT;
	}
	if (rc == -ENOENT)
		rc = rd_timers_create(&rd->rd_timers, rd->rd_system,
		                      rd->rd_cfg->rc_timers,
		                      rd->rd_cfg->rc_sys.mode,
		                      rd->rd_cfg->rc_sys.gid);
	if (rc < 0)
		rd_log(RD_ERR, "cannot %s the alarm table: %s",
		       adopt ? "adopt" : "create", roost_strerror(rc));
	else if (adopt)
		rd_log(RD_INFO, "%u alarm(s) resumed",
		       rd_timers_count(rd->rd_timers));
	return rc;
}

static bool
is_attached(const roost_msg_t *m, void *arg)
{
	(void)arg;
	return roost_msg_kind(m) == ROOST__KIND_ATTACHED;
}

/* During start-up: wait (a poll period at most) for a child to say it
 * attached, and take every such word; other requests wait for the
 * loop. */
static void
wait_attached(struct rd *rd)
{
	int ms = (int)((rd->rd_attach_poll_ns + 999999u) / 1000000u);
	roost_msg_t *m;

	while (roost_recv_match(rd->rd_ctx, &m, ROOST_LANE_SYSTEM, is_attached,
	                        NULL, ms) == 0) {
		rd_request(rd, m);
		ms = 0;
	}
}

/* Children of one pool started at once, at most: each holds an exec
 * pipe until its exec, and more would only queue for the CPUs. */
#define START_WINDOW 32

/*
 * Start rd_kids[from, to) (one config section: an actor, or a pool's
 * members) and wait until each attached or ended. Start order means
 * order of readiness: the next section starts once this one is up, so
 * it may look its elder siblings up. A pool's members start together,
 * START_WINDOW at a time.
 */
static int
start_section(struct rd *rd, int from, int to)
{
	uint64_t next_beat = 0;
	struct rd_child *ch;
	uint64_t now;
	int next = from;

	while (!rd->rd_stopping && !rd_sig_stop) {
		for (; next < to && rd->rd_nstarting < START_WINDOW; next++) {
			ch = &rd->rd_kids[next];
			/* A failure during start-up may have started it
			 * already (a one_for_all restart of its group). */
			if (ch->ch_state != CH_DOWN || ch->ch_pid != 0)
				continue;
			if (rd_child_spawn(rd, ch) < 0)
				return -1;
		}
		if (next == to && !rd_children_starting(rd))
			break;
		/* Alive while an actor is slow to attach: tools must not
		 * call a starting system hung. */
		now = roost__plat_now_ns();
		if (now >= next_beat) {
			rd_heartbeat(&rd->rd_sy);
			next_beat = now + RD_HEARTBEAT_NS;
		}
		if (rd_sig_chld) {
			rd_sig_chld = 0;
			rd_children_reap(rd);
		}
		rd_children_poll_attach(rd);
		if (rd_children_starting(rd))
			wait_attached(rd);
	}
	return 0;
}

/* Everything between a created (or adopted) system and the loop. */
int
rd_start(struct rd *rd, bool adopt)
{
	int from = 0;
	int i;

	rd->rd_kids_cap = (int)rd->rd_sy.sy_fixed.sf_nslots;
	rd->rd_attach_poll_ns = RD_ATTACH_POLL_NS;
	rd->rd_kids = calloc((size_t)rd->rd_kids_cap, sizeof(*rd->rd_kids));
	rd->rd_starting = calloc((size_t)rd->rd_kids_cap,
	                         sizeof(*rd->rd_starting));
	if (rd->rd_kids == NULL || rd->rd_starting == NULL || levels_init(rd) < 0)
		return -1;
	/* The alarm table before our name: whoever finds "roostd" finds
	 * the table too (tools read it without asking us). */
	if (open_timers(rd, adopt) < 0)
		return -1;
	rd_stats_open(rd);
	if (rd_keep_open(rd, adopt) < 0)
		rd_log(RD_ERR, "cannot create the keep table: a roostd that "
		       "adopts this system will lose restart counts, specs, "
		       "monitors and links");
	if (open_ctx(rd, &rd->rd_ctx, ROOST__ROOSTD_NAME) < 0 ||
	    open_ctx(rd, &rd->rd_dead, "deadletters") < 0)
		return -1;
	/* A short receive spin: roostd serves a control plane, and a long
	 * spin costs its callers a scheduling slice when they share a CPU. */
	roost_ctx_set_int(rd->rd_ctx, "spin-ns", ROOSTD_SPIN_NS);
	if (rd_watch_start(rd->rd_ctx) < 0)
		return -1;
	/* A new system does not start without its endpoint (exit 1); a
	 * running one being adopted is not shut down for it: a failed
	 * start would stop only the config's actors and remove the system
	 * under the adopted ones. */
	if (rd_metrics_start(rd->rd_system, &rd->rd_cfg->rc_metrics) < 0) {
		if (!adopt)
			return -1;
		rd_log(RD_ERR, "adopting system '%s' without its metrics "
		       "endpoint", rd->rd_system);
	}
	if (children_from_config(rd) < 0) {
		rd_log(RD_ERR, "too many actors for the table");
		return -1;
	}
	if (adopt)
		return rd_adopt(rd);
	/* children_from_config() added each section's members in a row. */
	for (i = 0; i < rd->rd_cfg->rc_nactors && !rd->rd_stopping &&
	     !rd_sig_stop; i++) {
		if (start_section(rd, from,
		                  from + (int)rd->rd_cfg->rc_actors[i].ra_count) < 0)
			return -1;
		from += (int)rd->rd_cfg->rc_actors[i].ra_count;
	}
	return 0;
}

void
rd_free(struct rd *rd)
{
	int i;

	for (i = 0; i < rd->rd_nkids; i++)
		rd_spec_free(&rd->rd_kids[i].ch_spec);
	free(rd->rd_kids);
	free(rd->rd_starting);
	for (i = 0; i <= RD_MAX_GROUPS; i++)
		free(rd->rd_levels[i].lv_times);
	free(rd->rd_mons);
	free(rd->rd_links);
}
