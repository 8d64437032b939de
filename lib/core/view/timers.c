/* SPDX-License-Identifier: MIT */
/*
 * timers.c - roostd's alarms, read from its table (roost_view_timers),
 * and the counters roostd keeps in its header (roost_view_roostd_stats).
 */
#include "core/view/view_impl.h"

struct timers_walk {
	roost_timer_fn tw_fn;
	void *tw_arg;
	uint64_t tw_now;
};

static int
timer_one(void *arg, const struct roost__timer_view *v)
{
	struct timers_walk *tw = arg;
	roost_timer_info_t t;

	memset(&t, 0, sizeof(t));
	t.id = v->tv_id;
	t.to = v->tv_to;
	t.owner = v->tv_owner;
	t.kind = v->tv_kind;
	t.flags = v->tv_flags;
	if (v->tv_due_ns == UINT64_MAX)
		t.due_in_ns = INT64_MAX; /* never: waits to be cancelled */
	else if (v->tv_due_ns >= tw->tw_now)
		t.due_in_ns = (int64_t)(v->tv_due_ns - tw->tw_now);
	else
		t.due_in_ns = -(int64_t)(tw->tw_now - v->tv_due_ns);
	t.interval_ns = v->tv_interval_ns;
	t.fired = v->tv_fired;
	t.size = v->tv_size; /* <= ROOST_TIMER_DATA_MAX: validated */
	memcpy(t.data, v->tv_data, t.size);
	return tw->tw_fn(tw->tw_arg, &t);
}

int
roost_view_timers(roost_view_t *v, roost_timer_fn fn, void *arg)
{
	struct timers_walk tw;
	int rc;

	if (v == NULL || fn == NULL)
		return -EINVAL;
	tw.tw_fn = fn;
	tw.tw_arg = arg;
	tw.tw_now = roost__plat_now_ns();
	rc = roost__timers_snapshot(v->vw_sys.sy_name,
	                            v->vw_sys.sy_fixed.sf_uid,
	                            roost__sys_gid(&v->vw_sys), timer_one, &tw);
	return rc == -EAGAIN ? -ENOENT : rc;
}

int
roost_view_roostd_stats(roost_view_t *v, roost_roostd_stats_t *out)
{
	struct roost__tmr_stats_vals sv;
	uint64_t le = 0;
	unsigned i;
	int rc;

	if (v == NULL || out == NULL)
		return -EINVAL;
	rc = roost__tmr_stats_get(v->vw_sys.sy_name, v->vw_sys.sy_fixed.sf_uid,
	                          roost__sys_gid(&v->vw_sys), &sv);
	if (rc < 0)
		return rc;
	static_assert(ROOST_LATENESS_BUCKETS == ROOST_TMR_LATE_BUCKETS - 1,
	              "one bucket past the bounds");
	memset(out, 0, sizeof(*out));
	for (i = 0; i < ROOST_LATENESS_BUCKETS; i++) {
		le += sv.sv_late[i];
		out->lateness_bound_ns[i] = roost__tmr_late_bound_ns(i);
		out->lateness_le[i] = le;
	}
	out->alarms = le + sv.sv_late[ROOST_LATENESS_BUCKETS];
	out->lateness_sum_ns = sv.sv_late_sum_ns;
	out->spawns = sv.sv_spawns;
	out->spawn_sum_ns = sv.sv_spawn_sum_ns;
	out->restarts = sv.sv_restarts;
	return 0;
}
