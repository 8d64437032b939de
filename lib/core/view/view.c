/* SPDX-License-Identifier: MIT */
/*
 * view.c - opening and closing a view of a system, and the system as a
 * whole (roost_view_open, roost_view_info, state names).
 */
#include "core/view/view_impl.h"

#include <stdio.h>

/* Opening a system that is being created: tries, 2 ms apart. */
#define OPEN_EAGAIN_TRIES 50
/* A process found alive is looked up again (/proc) after this: one
 * listing reads /proc once per actor, not once per pass. */
#define ALIVE_TTL_NS (1000ull * 1000000u)

const char *
roost_version(void)
{
#define ROOST__STR2(x) #x
#define ROOST__STR(x)  ROOST__STR2(x)
	return ROOST__STR(ROOST_VERSION_MAJOR) "." ROOST__STR(
	    ROOST_VERSION_MINOR) "." ROOST__STR(ROOST_VERSION_PATCH);
#undef ROOST__STR
#undef ROOST__STR2
}

const char *
roost_sys_state_name(uint32_t state)
{
	switch (state) {
	case ROOST_SYS_LIVE:
		return "live";
	case ROOST_SYS_HUNG:
		return "hung";
	case ROOST_SYS_ORPHANED:
		return "orphaned";
	case ROOST_SYS_STALE:
		return "stale";
	default:
		return "unknown";
	}
}

const char *
roost_actor_state_name(uint32_t state)
{
	switch (state) {
	case ROOST_ACTOR_STARTING:
		return "starting";
	case ROOST_ACTOR_RUNNING:
		return "running";
	case ROOST_ACTOR_STOPPING:
		return "stopping";
	case ROOST_ACTOR_DOWN:
		return "restarting";
	case ROOST_ACTOR_DEAD:
		return "dead";
	default:
		return "unknown";
	}
}

int
roost_view_open(roost_view_t **out, const char *name)
{
	roost_view_t *v;
	int tries;
	int rc;

	if (out == NULL)
		return -EINVAL;
	name = roost__system_resolve(name);
	if (name == NULL)
		return -EINVAL;
	v = roost__calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (tries = 0;; tries++) {
		rc = roost__sys_open(&v->vw_sys, name);
		if (rc != -EAGAIN || tries == OPEN_EAGAIN_TRIES)
			break;
		roost__plat_sleep_ms(2); /* its creator has not published it yet */
	}
	if (rc < 0)
		goto out_free;
	v->vw_peers =
	    roost__calloc(v->vw_sys.sy_fixed.sf_nslots, sizeof(*v->vw_peers));
	if (v->vw_peers == NULL) {
		rc = -ENOMEM;
		goto out_close;
	}
	*out = v;
	return 0;

out_close:
	roost__sys_close(&v->vw_sys);
out_free:
	roost__free(v);
	return rc;
}

void
roost__view_peer_unmap(struct vw_peer *p)
{
	roost__plat_seg_unmap(&p->pr_mb.mb_seg);
	memset(&p->pr_mb, 0, sizeof(p->pr_mb));
	p->pr_gen = 0;
}

/* A pid and start time name one process: one found dead stays dead, one
 * found alive is looked up again after ALIVE_TTL_NS. */
bool
roost__view_alive(roost_view_t *v, uint32_t slot, int32_t pid,
                  uint64_t start)
{
	struct vw_peer *p = &v->vw_peers[slot];
	uint64_t now = roost__plat_now_ns();

	if (p->pr_looked_ns != 0 && p->pr_pid == pid &&
	    p->pr_pid_start == start &&
	    (!p->pr_alive || now - p->pr_looked_ns < ALIVE_TTL_NS))
		return p->pr_alive;
	p->pr_pid = pid;
	p->pr_pid_start = start;
	p->pr_looked_ns = now;
	p->pr_alive = roost__plat_proc_alive(pid, start);
	return p->pr_alive;
}

void
roost_view_close(roost_view_t *v)
{
	uint32_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->vw_sys.sy_fixed.sf_nslots; i++)
		roost__view_peer_unmap(&v->vw_peers[i]);
	roost__free(v->vw_peers);
	roost__sys_close(&v->vw_sys);
	roost__free(v);
}

/* --- roostd's supervisor table ---------------------------------------- */

/* True if 'pid' names a process (of any start time). */
static bool
pid_exists(int32_t pid)
{
	uint64_t start;

	return pid > 0 && roost__plat_proc_start(pid, &start) == 0;
}

int
roost_view_info(roost_view_t *v, roost_sysinfo_t *out)
{
	const struct roost__sys_fixed *sf;
	struct roost__slot_view sv;
	struct vw_sup sm;
	bool roostd_alive = false;
	bool fresh;
	uint64_t beat;
	uint64_t now;
	uint32_t i;

	if (v == NULL || out == NULL)
		return -EINVAL;
	sf = &v->vw_sys.sy_fixed;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", v->vw_sys.sy_name);
	out->slots = sf->sf_nslots;
	out->mbox_bytes = sf->sf_mbox_bytes;
	out->max_msg = sf->sf_max_msg;
	out->mode = sf->sf_mode;
	out->uid = sf->sf_uid;
	out->created_unix_ns = sf->sf_created_rt_ns;
	/* Relaxed: liveness hints (shm_format.h). */
	out->roostd_pid = roost__load_rlx(&v->vw_sys.sy_hdr->sh_owner_pid);
	beat = roost__load_rlx(&v->vw_sys.sy_hdr->sh_heartbeat_ns);
	now = roost__plat_now_ns();
	out->heartbeat_age_ns = now > beat ? now - beat : 0;
	for (i = 0; i < sf->sf_nslots; i++) {
		if (roost__sys_slot_read(&v->vw_sys, i, &sv) < 0 ||
		    sv.sv_state == ROOST_SLOT_FREE)
			continue;
		out->actors++;
		if (!roost__view_alive(v, i, sv.sv_pid, sv.sv_pid_start))
			continue;
		out->live_actors++;
		if (strcmp(sv.sv_name, "roostd") == 0)
			roostd_alive = true;
	}
	fresh = out->roostd_pid > 0 &&
	        out->heartbeat_age_ns < ROOST_HEARTBEAT_STALE_NS &&
	        pid_exists(out->roostd_pid);
	if (fresh)
		out->state = ROOST_SYS_LIVE;
	else if (roostd_alive)
		out->state = ROOST_SYS_HUNG;
	else if (out->live_actors > 0)
		out->state = ROOST_SYS_ORPHANED;
	else
		out->state = ROOST_SYS_STALE;
	roost__view_sup_map(v, &sm);
	out->supervised = sm.sm_ok;
	out->deadletters = roost__view_sup_deadletters(&sm);
	roost__view_sup_unmap(&sm);
	return 0;
}

/* --- mailbox headers --------------------------------------------------- */
