/* SPDX-License-Identifier: MIT */
/*
 * introspect.c - the public read API for tools (roost_view_*): a system
 * seen from outside, without attaching to it. roostctl is built on this
 * file alone; anyone may write another tool on it.
 *
 * Looking never disturbs:
 *  - The system segment, the mailbox headers and roostd's supervisor
 *    table are mapped, never written. The actor table is read with its
 *    seqlock (roost__sys_slot_read), roostd's table with its own
 *    (tag-sup-seq), counters with relaxed loads.
 *  - A mailbox's queue is copied out under the mailbox's lock (mh_lock),
 *    in chunks of at most QUEUE_CHUNK_BYTES / QUEUE_CHUNK_RECS, the lock
 *    released between chunks, and decoded afterwards from the copy. The
 *    lock keeps senders out, so the bytes between the head and the tail
 *    cannot be reused while we copy them: senders write only past the
 *    tail, and only under that lock. The receiver never takes the lock on
 *    its normal path and never rewrites a record: it moves its head
 *    forward and ORs DONE (or REDELIVERED) into a record's flags. So a
 *    record read under the lock is whole; the receiver may consume it
 *    meanwhile (the listing is a snapshot, and a DONE flag that we miss
 *    shows a message just taken). Between chunks the head may pass our
 *    position: we then go on from the new head, so nothing is listed
 *    twice or out of order. A chunk holds the lock for a few
 *    microseconds, well inside the spin a try-send (and roostd's
 *    timeout-0 replies) allows before giving up.
 *  - Everything read is validated before use, as the receiver does
 *    (roost__mbox_read_rec); damage is ROOST_ECORRUPT, and the view does
 *    not repair anything (that is the receiver's job), except what any
 *    locker does after a dead lock holder (roost__mbox_lock).
 */
#include "roost_impl.h"
#include "core/proto.h"

#include <stdio.h>

/* A heartbeat older than this means roostd is not running its loop (it
 * beats every 100 ms). Same figure as roostd's own staleness check. */
/* Opening a system that is being created: tries, 2 ms apart. */
#define OPEN_EAGAIN_TRIES 50
/* Seqlock reads of a supervisor entry before giving up on it. */
#define SUP_READ_RETRIES 200
/* A process found alive is looked up again (/proc) after this: one
 * listing reads /proc once per actor, not once per pass. */
#define ALIVE_TTL_NS (1000ull * 1000000u)
/* The kind-name table is copied again when older than this. */
#define KINDS_TTL_NS (1000ull * 1000000u)
/* How long the kind-name copy waits for the table lock. */
#define KINDS_LOCK_MS 50
/* One hold of a mailbox lock copies at most this much. */
#define QUEUE_CHUNK_BYTES (16u << 10)
#define QUEUE_CHUNK_RECS  256u
/* Times a copy of a private lane starts again because its receiver and
 * sender moved under it, before the lane counts as damaged. */
#define PRIVATE_LOOKS 64u
/* Total wait for a mailbox lock held by someone else, per chunk. */
#define QUEUE_LOCK_MS 1000

/* A cached mapping of one mailbox header (for counters only), and the
 * last look at its slot holder's process. */
struct vw_peer {
	struct roost__mbox pr_mb; /* only mb_hdr, mb_cap, mb_seg valid */
	uint32_t pr_gen;          /* 0: not mapped */
	int32_t pr_pid;           /* the process last looked up ... */
	uint64_t pr_pid_start;
	uint64_t pr_looked_ns;    /* ... when (0: never) ... */
	bool pr_alive;            /* ... and what was found */
};

struct roost_view {
	struct roost__sys vw_sys;
	struct vw_peer *vw_peers; /* [sf_nslots] */
	struct roost__kind vw_kinds[ROOST_NKINDS];
	uint64_t vw_kinds_at; /* when copied; 0: never */
};

/* A validated copy of roostd's table: header and the mapping. */
struct sup_map {
	struct roost__seg sm_seg;
	struct roost__sup_fixed sm_fixed;
	bool sm_ok;
};

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

/* Unmap the header; the last look at the process stays. */
static void
peer_unmap(struct vw_peer *p)
{
	roost__plat_seg_unmap(&p->pr_mb.mb_seg);
	memset(&p->pr_mb, 0, sizeof(p->pr_mb));
	p->pr_gen = 0;
}

/* Is the holder of 'slot' (pid, start) alive? A pid and start time name
 * one process: one found dead stays dead, one found alive is looked up
 * again after ALIVE_TTL_NS. */
static bool
view_alive(roost_view_t *v, uint32_t slot, int32_t pid, uint64_t start)
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
		peer_unmap(&v->vw_peers[i]);
	roost__free(v->vw_peers);
	roost__sys_close(&v->vw_sys);
	roost__free(v);
}

/* --- roostd's supervisor table ---------------------------------------- */

static int
sup_shm_name(char *buf, size_t len, const char *system)
{
	char base[ROOST_SHM_NAME_MAX];
	int rc = roost__sys_shm_name(base, sizeof(base), system);
	int n;

	if (rc < 0)
		return rc;
	n = snprintf(buf, len, "%s%s", base, ROOST_SUP_SUFFIX);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* Map and validate roostd's table; sm_ok false if there is none or it
 * fails validation (the view then simply knows less). */
static void
sup_map(roost_view_t *v, struct sup_map *sm)
{
	const struct roost__sys_fixed *sf = &v->vw_sys.sy_fixed;
	char name[ROOST_SHM_NAME_MAX + 8];
	struct roost__sup_hdr *h;
	struct roost__sup_fixed f;
	uint32_t owner;
	uint64_t want;

	memset(sm, 0, sizeof(*sm));
	want = ROOST_SUP_HDR_SIZE +
	       (uint64_t)sf->sf_nslots * sizeof(struct roost__sup_entry);
	if (sup_shm_name(name, sizeof(name), v->vw_sys.sy_name) < 0 ||
	    roost__plat_seg_open_trust(name, ROOST_SUP_HDR_SIZE, want,
	                               sf->sf_uid, roost__sys_gid(&v->vw_sys),
	                               &sm->sm_seg) < 0)
		return;
	h = sm->sm_seg.sg_base;
	/* Pairs with the release in daemon/status.c. tag-sup-publish */
	if (roost__load_acq(&h->su_state) != ROOST_SEG_READY)
		goto out_unmap;
	memcpy(&f, &h->su_fixed, sizeof(f)); /* trust only f from here */
	if (f.uf_magic != ROOST_SUP_MAGIC ||
	    f.uf_version != ROOST_SUP_VERSION ||
	    f.uf_hdr_size != ROOST_SUP_HDR_SIZE ||
	    f.uf_entry_size != sizeof(struct roost__sup_entry) ||
	    f.uf_nentries != sf->sf_nslots || f.uf_map_size != want ||
	    sm->sm_seg.sg_len != want || f.uf_uid != sf->sf_uid ||
	    memchr(f.uf_name, '\0', sizeof(f.uf_name)) == NULL ||
	    strcmp(f.uf_name, roost__system_owner(v->vw_sys.sy_name,
	                                          &owner)) != 0) {
		ROOST_CORRUPT(); /* logged; the view goes on without it */
		goto out_unmap;
	}
	sm->sm_fixed = f;
	sm->sm_ok = true;
	return;

out_unmap:
	roost__plat_seg_unmap(&sm->sm_seg);
	sm->sm_ok = false;
}

static void
sup_unmap(struct sup_map *sm)
{
	roost__plat_seg_unmap(&sm->sm_seg);
	sm->sm_ok = false;
}

static uint64_t
sup_deadletters(const struct sup_map *sm)
{
	const struct roost__sup_hdr *h = sm->sm_seg.sg_base;

	/* Relaxed: a display value (shm_format.h). */
	return sm->sm_ok ? roost__load_rlx(&h->su_deadletters) : 0;
}

/* A consistent, validated copy of entry 'slot', or false. */
static bool
sup_entry(const struct sup_map *sm, uint32_t slot, struct roost__sup_entry *e)
{
	const struct roost__sup_entry *s;
	uint32_t seq0;
	uint32_t seq1;
	int tries;

	if (!sm->sm_ok || slot >= sm->sm_fixed.uf_nentries)
		return false;
	s = (const struct roost__sup_entry *)((const uint8_t *)
	                                          sm->sm_seg.sg_base +
	                                      ROOST_SUP_HDR_SIZE) +
	    slot;
	for (tries = 0; tries < SUP_READ_RETRIES; tries++) {
		/* Pairs with the release that ends a write in status.c.
		 * tag-sup-seq */
		seq0 = roost__load_acq(&s->se_seq);
		if (seq0 & 1u) {
			roost__cpu_relax();
			continue;
		}
		/* The seqlock makes this racy copy safe to use: it is kept
		 * only if se_seq did not move. */
		memcpy((uint8_t *)e + sizeof(e->se_seq),
		       (const uint8_t *)s + sizeof(s->se_seq),
		       sizeof(*e) - sizeof(e->se_seq));
		atomic_thread_fence(memory_order_acquire);
		seq1 = roost__load_rlx(&s->se_seq);
		if (seq0 == seq1)
			goto check;
	}
	return false; /* roostd died mid-write, or keeps writing */
check:
	e->se_group_name[sizeof(e->se_group_name) - 1] = '\0';
	e->se_last_reason[sizeof(e->se_last_reason) - 1] = '\0';
	if (e->se_state > ROOST_SUP_GONE ||
	    e->se_restart > ROOST_RESTART_TEMPORARY ||
	    (e->se_flags & ~ROOST_SUP_F_KNOWN) != 0) {
		ROOST_CORRUPT();
		return false;
	}
	return e->se_state != ROOST_SUP_NONE;
}

/* --- the system as a whole -------------------------------------------- */

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
	struct sup_map sm;
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
		if (!view_alive(v, i, sv.sv_pid, sv.sv_pid_start))
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
	sup_map(v, &sm);
	out->supervised = sm.sm_ok;
	out->deadletters = sup_deadletters(&sm);
	sup_unmap(&sm);
	return 0;
}

/* --- mailbox headers --------------------------------------------------- */

/*
 * Validate a mapping of (at least) a mailbox header for slot 'slot',
 * generation 'gen', and fill the parts of 'mb' that counters need. The
 * rings are not mapped, so only the fixed header's own claims about
 * them are checked (roost__mbox_attach checks them against the file).
 */
static int
hdr_attach(struct roost__mbox *mb, struct roost__seg seg, uint32_t slot,
           uint32_t gen)
{
	struct roost__mbox_fixed f;
	unsigned lane;
	int rc = roost__mbox_check_fixed(seg, slot, gen, false, &f);

	if (rc < 0)
		return rc;
	memset(mb, 0, sizeof(*mb));
	mb->mb_seg = seg;
	mb->mb_hdr = seg.sg_base;
	mb->mb_nlanes = ROOST_NSHARED + f.mf_nprivate;
	for (lane = 0; lane < mb->mb_nlanes; lane++)
		mb->mb_cap[lane] = f.mf_cap[lane];
	mb->mb_slot = slot;
	mb->mb_gen = gen;
	return 0;
}

/* The header of the mailbox of (slot, gen), mapped once and cached. */
static int
peer_hdr(roost_view_t *v, uint32_t slot, uint32_t gen,
         struct roost__mbox **out)
{
	struct vw_peer *p = &v->vw_peers[slot];
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;
	int rc;

	if (p->pr_gen == gen && gen != 0) {
		*out = &p->pr_mb;
		return 0;
	}
	peer_unmap(p);
	rc = roost__mbox_shm_name(shm, sizeof(shm), v->vw_sys.sy_name, slot);
	if (rc < 0)
		return rc;
	rc = roost__plat_seg_open_trust(shm, ROOST_MBOX_HDR_SIZE,
	                                ROOST_MBOX_HDR_SIZE,
	                                v->vw_sys.sy_fixed.sf_uid,
	                                roost__sys_gid(&v->vw_sys), &seg);
	if (rc < 0)
		return rc;
	rc = hdr_attach(&p->pr_mb, seg, slot, gen);
	if (rc == -EAGAIN)
		rc = roost__mbox_unpublished(&v->vw_sys, slot, gen);
	if (rc < 0) {
		roost__plat_seg_unmap(&seg);
		memset(p, 0, sizeof(*p));
		return rc;
	}
	p->pr_gen = gen;
	*out = &p->pr_mb;
	return 0;
}

static uint32_t
mbox_state(const struct roost__mbox *mb)
{
	uint32_t s = roost__load_acq(&mb->mb_hdr->mh_lock.lk_state);

	/* Anything unknown is shown as closed: it refuses every send. */
	return s <= ROOST_MBOX_CLOSED ? s : ROOST_MBOX_STATE_CLOSED;
}

/* --- actors ------------------------------------------------------------ */

static void
fill_actor(roost_view_t *v, const struct sup_map *sm, uint32_t slot,
           const struct roost__slot_view *sv, roost_actor_info_t *a)
{
	struct roost__sup_entry e;
	struct roost__mbox *mb = NULL;
	bool have_sup;
	bool alive;
	uint64_t now;

	memset(&e, 0, sizeof(e));
	memset(a, 0, sizeof(*a));
	a->aid = roost__aid_make(slot, sv->sv_gen);
	snprintf(a->name, sizeof(a->name), "%s", sv->sv_name);
	a->pid = sv->sv_pid;
	a->last_status = -1;
	if (sv->sv_flags & ROOST_SLOT_F_SUPERVISED)
		a->flags |= ROOST_ACTOR_F_SUPERVISED;
	have_sup = sup_entry(sm, slot, &e) && e.se_gen == sv->sv_gen;
	if (have_sup) {
		a->flags |= ROOST_ACTOR_F_ROOSTD;
		if (e.se_flags & ROOST_SUP_F_DAEMON)
			a->flags |= ROOST_ACTOR_F_DAEMON;
		if (e.se_flags & ROOST_SUP_F_ONESHOT)
			a->flags |= ROOST_ACTOR_F_ONESHOT;
		a->restart = e.se_restart;
		a->restarts = e.se_restarts;
		a->deadletters = e.se_deadletters;
		snprintf(a->group, sizeof(a->group), "%s", e.se_group_name);
		if (e.se_flags & ROOST_SUP_F_EXITED) {
			snprintf(a->last_exit, sizeof(a->last_exit), "%s",
			         e.se_last_reason);
			a->last_status = e.se_last_status;
			a->last_signal = e.se_last_signal;
		}
		now = roost__plat_now_ns();
		if (e.se_started_ns != 0 && now > e.se_started_ns)
			a->uptime_ns = now - e.se_started_ns;
	}
	a->mbox_err = sv->sv_state == ROOST_SLOT_ACTIVE
	                  ? peer_hdr(v, slot, sv->sv_gen, &mb)
	                  : -ENOENT;
	if (a->mbox_err == 0) {
		roost__mbox_stats(mb, &a->mbox);
		a->mbox_state = mbox_state(mb);
	}
	alive = view_alive(v, slot, sv->sv_pid, sv->sv_pid_start);
	if (sv->sv_state == ROOST_SLOT_RESERVED)
		a->state = ROOST_ACTOR_STARTING;
	else if (alive && a->mbox_err == 0 &&
	         a->mbox_state == ROOST_MBOX_STATE_STOPPING)
		a->state = ROOST_ACTOR_STOPPING;
	else if (alive)
		a->state = ROOST_ACTOR_RUNNING;
	else if (have_sup && e.se_state != ROOST_SUP_GONE &&
	         !(e.se_flags & (ROOST_SUP_F_KILLED | ROOST_SUP_F_ONESHOT)))
		a->state = ROOST_ACTOR_DOWN;
	else
		a->state = ROOST_ACTOR_DEAD;
	if (!alive)
		a->uptime_ns = 0;
}

int
roost_view_actors(roost_view_t *v, roost_view_actor_fn fn, void *arg)
{
	struct roost__slot_view sv;
	roost_actor_info_t a;
	struct sup_map sm;
	uint32_t i;
	int n = 0;
	int rc;

	if (v == NULL || fn == NULL)
		return -EINVAL;
	sup_map(v, &sm);
	for (i = 0; i < v->vw_sys.sy_fixed.sf_nslots; i++) {
		rc = roost__sys_slot_read(&v->vw_sys, i, &sv);
		if (rc < 0)
			continue; /* never settled: skip it this time */
		if (sv.sv_state != ROOST_SLOT_ACTIVE &&
		    sv.sv_state != ROOST_SLOT_RESERVED) {
			if (v->vw_peers[i].pr_gen != 0)
				peer_unmap(&v->vw_peers[i]);
			continue;
		}
		fill_actor(v, &sm, i, &sv, &a);
		n++;
		rc = fn(arg, &a);
		if (rc != 0) {
			n = rc;
			break;
		}
	}
	sup_unmap(&sm);
	return n;
}

/* The slot view of a live address, or -ESRCH. */
static int
slot_of(roost_view_t *v, roost_aid_t aid, struct roost__slot_view *sv)
{
	uint32_t slot = roost_aid_slot(aid);

	if (aid.id == 0 || slot >= v->vw_sys.sy_fixed.sf_nslots ||
	    roost__sys_slot_read(&v->vw_sys, slot, sv) < 0 ||
	    (sv->sv_state != ROOST_SLOT_ACTIVE &&
	     sv->sv_state != ROOST_SLOT_RESERVED) ||
	    sv->sv_gen != roost_aid_gen(aid))
		return -ESRCH;
	return 0;
}

int
roost_view_actor(roost_view_t *v, roost_aid_t aid, roost_actor_info_t *out)
{
	struct roost__slot_view sv;
	struct sup_map sm;
	int rc;

	if (v == NULL || out == NULL)
		return -EINVAL;
	rc = slot_of(v, aid, &sv);
	if (rc < 0)
		return rc;
	sup_map(v, &sm);
	fill_actor(v, &sm, roost_aid_slot(aid), &sv, out);
	sup_unmap(&sm);
	return 0;
}

/* "SLOT.GEN" with both in range, or false. */
static bool
parse_address(const char *s, roost_aid_t *out)
{
	unsigned long long slot;
	unsigned long long gen;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	slot = strtoull(s, &end, 10);
	if (errno != 0 || *end != '.' || slot > UINT32_MAX)
		return false;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return false;
	gen = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || gen == 0 || gen > UINT32_MAX)
		return false;
	*out = roost__aid_make((uint32_t)slot, (uint32_t)gen);
	return true;
}

int
roost_view_find(roost_view_t *v, const char *spec, roost_aid_t *out)
{
	struct roost__slot_view sv;
	roost_aid_t aid;
	bool force = false;
	uint32_t i;

	if (v == NULL || spec == NULL || out == NULL || *spec == '\0')
		return -EINVAL;
	if (spec[0] == '@') {
		force = true;
		spec++;
	}
	if (!force && roost__name_valid(spec)) {
		for (i = 0; i < v->vw_sys.sy_fixed.sf_nslots; i++) {
			if (roost__sys_slot_read(&v->vw_sys, i, &sv) == 0 &&
			    sv.sv_state == ROOST_SLOT_ACTIVE &&
			    strcmp(sv.sv_name, spec) == 0) {
				*out = roost__aid_make(i, sv.sv_gen);
				return 0;
			}
		}
	}
	if (!parse_address(spec, &aid))
		return force || !roost__name_valid(spec) ? -EINVAL : -ENOENT;
	if (slot_of(v, aid, &sv) < 0)
		return -ESRCH;
	*out = aid;
	return 0;
}

/* --- kind names -------------------------------------------------------- */

/* The names of the kinds roost reserves (core/proto.h). */
static const struct {
	uint32_t bk_kind;
	const char *bk_name;
} builtin_kinds[] = {
#define BUILTIN_KIND(name, num, text) {num, text},
	ROOST__KINDS(BUILTIN_KIND)
#undef BUILTIN_KIND
};

static const char *
builtin_kind(uint32_t kind)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_kinds) / sizeof(builtin_kinds[0]); i++) {
		if (builtin_kinds[i].bk_kind == kind)
			return builtin_kinds[i].bk_name;
	}
	return NULL;
}

/* Copy the kind table; under its lock when that comes quickly, else
 * without (a name being registered right now may then read torn once;
 * each entry is still checked). */
static void
kinds_refresh(roost_view_t *v)
{
	uint64_t now = roost__plat_now_ns();
	bool locked;

	if (v->vw_kinds_at != 0 && now - v->vw_kinds_at < KINDS_TTL_NS)
		return;
	locked = roost__sys_lock_timed(&v->vw_sys, KINDS_LOCK_MS) == 0;
	memcpy(v->vw_kinds, (const void *)v->vw_sys.sy_kinds,
	       sizeof(v->vw_kinds));
	if (locked)
		roost__sys_unlock(&v->vw_sys);
	v->vw_kinds_at = now;
}

int
roost_view_kind_name(roost_view_t *v, uint32_t kind, char *buf, size_t len)
{
	const struct roost__kind *k;
	const char *name = NULL;
	size_t n;
	uint32_t i;

	if (v == NULL || buf == NULL || len == 0)
		return -EINVAL;
	name = builtin_kind(kind);
	if (name == NULL) {
		kinds_refresh(v);
		for (i = 0; i < ROOST_NKINDS && name == NULL; i++) {
			k = &v->vw_kinds[i];
			if (k->kd_used == 1 && k->kd_kind == kind &&
			    memchr(k->kd_name, '\0', sizeof(k->kd_name)) !=
			        NULL &&
			    k->kd_name[0] != '\0')
				name = k->kd_name;
		}
	}
	if (name == NULL)
		return -ENOENT;
	n = strlen(name);
	if (n >= len)
		return -ENOBUFS;
	memcpy(buf, name, n + 1);
	/* A name is printable ASCII (roost_kind_register checks it); show
	 * anything else from a damaged table as '?'. */
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] <= ' ' ||
		    (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?';
	return 0;
}

int
roost_view_kind_lookup(roost_view_t *v, const char *name, uint32_t *kind)
{
	char buf[ROOST_KIND_NAME_MAX + 1];
	const struct roost__kind *k;
	uint32_t i;

	if (v == NULL || name == NULL || kind == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(builtin_kinds) / sizeof(builtin_kinds[0]); i++) {
		if (strcmp(builtin_kinds[i].bk_name, name) == 0) {
			*kind = builtin_kinds[i].bk_kind;
			return 0;
		}
	}
	kinds_refresh(v);
	for (i = 0; i < ROOST_NKINDS; i++) {
		k = &v->vw_kinds[i];
		/* Through roost_view_kind_name, so a damaged entry is checked
		 * the same way. */
		if (k->kd_used == 1 &&
		    roost_view_kind_name(v, k->kd_kind, buf, sizeof(buf)) ==
		        0 &&
		    strcmp(buf, name) == 0) {
			*kind = k->kd_kind;
			return 0;
		}
	}
	return -ENOENT;
}

/* --- queued messages --------------------------------------------------- */

struct qrec {
	unsigned q_lane;
	uint64_t q_pos;
	struct roost__rec q_rec; /* validated copy */
	size_t q_off;            /* payload offset in the arena */
	bool q_in_hand;
};

struct qbuf {
	struct qrec *qb_recs;
	size_t qb_n;
	size_t qb_cap;
	uint8_t *qb_arena;
	size_t qb_used;
	size_t qb_size;
};

/* Grow 'p' (holding 'used' bytes of 'cap') to hold 'need' more. */
static int
grow(void **p, size_t *cap, size_t used, size_t need, size_t unit)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap - used)
		return 0;
	while (ncap - used < need) {
		if (ncap > SIZE_MAX / 2 / unit)
			return -ENOMEM;
		ncap *= 2;
	}
	np = roost__malloc(ncap * unit);
	if (np == NULL)
		return -ENOMEM;
	if (*p != NULL)
		memcpy(np, *p, used * unit);
	roost__free(*p);
	*p = np;
	*cap = ncap;
	return 0;
}

static int
qbuf_add(struct qbuf *qb, unsigned lane, uint64_t pos,
         const struct roost__rec *r, const void *payload, bool in_hand)
{
	struct qrec *q;
	int rc;

	rc = grow((void **)&qb->qb_recs, &qb->qb_cap, qb->qb_n, 1,
	          sizeof(*qb->qb_recs));
	if (rc == 0)
		rc = grow((void **)&qb->qb_arena, &qb->qb_size, qb->qb_used,
		          r->rc_size + 1, 1);
	if (rc < 0)
		return rc;
	q = &qb->qb_recs[qb->qb_n++];
	q->q_lane = lane;
	q->q_pos = pos;
	q->q_rec = *r;
	q->q_off = qb->qb_used;
	q->q_in_hand = in_hand;
	memcpy(qb->qb_arena + qb->qb_used, payload, r->rc_size);
	qb->qb_used += r->rc_size;
	return 0;
}

static void
qbuf_drop_last(struct qbuf *qb)
{
	qb->qb_n--;
	qb->qb_used = qb->qb_recs[qb->qb_n].q_off;
}

/*
 * A private lane's sender does not wait for our lock: once the receiver
 * consumed past 'pos', it may overwrite the record we just copied. Our
 * copy stands if the head, read after it, has not passed 'pos' (the
 * sender writes there only after a head beyond it). The shared lanes'
 * senders wait for our lock.
 */
static bool
consumed_meanwhile(const struct roost__mbox *mb, unsigned lane, uint64_t pos)
{
	if (!roost__lane_private(lane))
		return false;
	/* The copy's loads before the head's. */
	atomic_thread_fence(memory_order_acquire);
	return roost__load_acq(&mb->mb_hdr->mh_head[lane]) > pos;
}

static void
qbuf_free(struct qbuf *qb)
{
	roost__free(qb->qb_recs);
	roost__free(qb->qb_arena);
	memset(qb, 0, sizeof(*qb));
}

/*
 * Copy what is queued on 'lane' between its head and its tail, at most
 * 'limit' messages (0: all), chunk by chunk under mh_lock (see the top of
 * this file for why that is a consistent snapshot and never disturbs).
 * '*truncated' says whether the limit ended the copy before the tail.
 */
static int
copy_lane(struct roost__mbox *mb, unsigned lane, uint32_t limit,
          struct qbuf *qb, roost_mbox_info_t *info)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint32_t cap = mb->mb_cap[lane];
	struct roost__rec r;
	uint64_t deadline;
	uint64_t head = 0;
	uint64_t tail = 0;
	uint64_t pos = 0;
	uint64_t inflight;
	uint32_t n = 0;
	uint32_t chunk_bytes;
	uint32_t chunk_recs;
	bool started = false;
	bool in_hand;
	unsigned moved = 0;
	unsigned i;
	int rc;

	for (;;) {
		deadline = 0;
		rc = roost__mbox_lock(mb, QUEUE_LOCK_MS, &deadline);
		if (rc < 0)
			return rc;
		/* Under the lock no shared sender is between its commit and
		 * its tail store, so [head, tail) is a chain of committed
		 * records; a private sender stores its tail after its
		 * commits, so the same holds for its lane (tag-private).
		 * Pairs with the receiver's release of mh_head
		 * (tag-rec-release) and the senders' of mh_tail. */
		head = roost__load_acq(&h->mh_head[lane]);
		tail = roost__load_acq(roost__mbox_tail_word(mb, lane));
		/* A private lane moves under our lock: its receiver may have
		 * taken records its sender has not published the tail of
		 * yet (nothing to list), or consumed and let it refill
		 * between our two loads (look again). */
		if (roost__lane_private(lane) && (int64_t)(tail - head) < 0)
			tail = head;
		if (head % ROOST_REC_ALIGN != 0 ||
		    tail % ROOST_REC_ALIGN != 0 || tail - head > cap) {
			roost__mbox_unlock(mb);
			if (roost__lane_private(lane) &&
			    ++moved < PRIVATE_LOOKS)
				continue;
			return ROOST_CORRUPT();
		}
		/* First chunk, or the receiver consumed past us meanwhile:
		 * go on from its head. */
		if (!started || pos - head > tail - head)
			pos = head;
		started = true;
		/* Relaxed: a display hint; a stale value only misplaces the
		 * "in hand" mark. */
		inflight = roost__load_rlx(&h->mh_inflight_pos);
		if (roost__load_rlx(&h->mh_inflight_lane) != lane)
			inflight = 0;
		chunk_bytes = 0;
		chunk_recs = 0;
		while (pos != tail && chunk_bytes < QUEUE_CHUNK_BYTES &&
		       chunk_recs < QUEUE_CHUNK_RECS &&
		       (limit == 0 || n < limit)) {
			if (!roost__mbox_committed(mb, lane, pos) ||
			    roost__mbox_read_rec(mb, lane, pos, &r) < 0 ||
			    r.rc_len > tail - pos) {
				/* Consumed and rewritten under us: go on
				 * from the receiver's head. */
				if (consumed_meanwhile(mb, lane, pos) &&
				    ++moved < PRIVATE_LOOKS)
					break;
				rc = ROOST_CORRUPT();
				goto out_unlock;
			}
			chunk_recs++;
			if (!(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE))) {
				in_hand = inflight == pos + 1;
				rc = qbuf_add(
				    qb, lane, pos, &r,
				    (const uint8_t *)roost__mbox_rec_at(
				        mb, lane, pos) +
				        ROOST_REC_HDR,
				    in_hand);
				if (rc < 0)
					goto out_unlock;
				if (consumed_meanwhile(mb, lane, pos)) {
					qbuf_drop_last(qb);
					break;
				}
				chunk_bytes += r.rc_len;
				n++;
			}
			pos += r.rc_len;
		}
		roost__mbox_unlock(mb);
		if (pos == tail || (limit != 0 && n >= limit))
			break;
	}
	/* The public info has one user entry: the private lanes add to
	 * it; head and tail stay the shared lane's. */
	i = lane < ROOST_NSHARED ? lane : ROOST_LANE_USR;
	if (lane < ROOST_NSHARED) {
		info->head[i] = head;
		info->tail[i] = tail;
	}
	info->listed[i] += n;
	info->truncated[i] = info->truncated[i] || pos != tail;
	return 0;

out_unlock:
	roost__mbox_unlock(mb);
	return rc;
}

int
roost_view_queue(roost_view_t *v, roost_aid_t aid, unsigned lanes,
                 uint32_t limit, roost_mbox_info_t *info, roost_view_msg_fn fn,
                 void *arg)
{
	struct roost__slot_view sv;
	struct roost__mbox mb;
	roost_mbox_info_t local;
	roost_queued_t q;
	struct qbuf qb;
	struct qrec *r;
	uint64_t now;
	unsigned lane;
	size_t i;
	int rc;

	if (v == NULL || (lanes & ~ROOST_LANE_ANY) != 0)
		return -EINVAL;
	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	memset(&qb, 0, sizeof(qb));
	rc = slot_of(v, aid, &sv);
	if (rc < 0)
		return rc;
	if (sv.sv_state != ROOST_SLOT_ACTIVE)
		return -ENOENT;
	rc = roost__mbox_open(&mb, &v->vw_sys, roost_aid_slot(aid),
	                      roost_aid_gen(aid));
	if (rc < 0)
		return rc;
	info->aid = aid;
	info->state = mbox_state(&mb);
	info->receiver_sleeping =
	    roost__load_rlx(&mb.mb_hdr->mh_lock.lk_sleeping) != 0;
	info->max_msg = v->vw_sys.sy_fixed.sf_max_msg;
	for (lane = 0; lane < mb.mb_nlanes; lane++) {
		unsigned pub = lane < ROOST_NSHARED ? lane : ROOST_LANE_USR;

		info->capacity[pub] += mb.mb_cap[lane];
		if (!(lanes & (1u << pub)))
			continue;
		rc = copy_lane(&mb, lane, limit, &qb, info);
		if (rc < 0)
			goto out;
	}
	roost__mbox_stats(&mb, &info->stats);
	roost__mbox_detach(&mb);
	/* Every lock is released: the callback may take its time. */
	now = roost__plat_coarse_ns();
	rc = 0;
	for (i = 0; i < qb.qb_n && fn != NULL; i++) {
		r = &qb.qb_recs[i];
		memset(&q, 0, sizeof(q));
		q.lane = r->q_lane == ROOST_LANE_SYS ? ROOST_LANE_SYSTEM
		                                     : ROOST_LANE_USER;
		q.seq = r->q_pos;
		q.from.id = r->q_rec.rc_from;
		q.kind = r->q_rec.rc_kind;
		q.corr = r->q_rec.rc_corr;
		q.age_ns =
		    now > r->q_rec.rc_time_ns ? now - r->q_rec.rc_time_ns : 0;
		q.size = r->q_rec.rc_size;
		q.data = qb.qb_arena + r->q_off;
		if (r->q_lane == ROOST_LANE_SYS)
			q.flags |= ROOST_MSG_SYSTEM;
		if (r->q_rec.rc_flags & ROOST_REC_MSGPACK)
			q.flags |= ROOST_MSG_MSGPACK;
		if (r->q_rec.rc_flags & ROOST_REC_REDELIVERED)
			q.flags |= ROOST_MSG_REDELIVERED;
		if (r->q_rec.rc_flags & ROOST_REC_REPLY)
			q.flags |= ROOST_MSG_REPLY;
		if (r->q_in_hand)
			q.flags |= ROOST_MSG_IN_HAND;
		rc = fn(arg, &q);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = (int)(qb.qb_n > INT32_MAX ? INT32_MAX : qb.qb_n);
	qbuf_free(&qb);
	return rc;

out:
	roost__mbox_detach(&mb);
	qbuf_free(&qb);
	return rc;
}

/* --- systems on this machine ------------------------------------------ */

struct name_list {
	char (*nl_names)[ROOST_SYSTEM_NAME_MAX + 1];
	size_t nl_n;
	size_t nl_cap;
	uint32_t nl_uid; /* ours */
	int nl_err;
};

/* Keep "/roost.UID.NAME" where NAME is a system name, as NAME when UID is
 * ours and as "UID:NAME" (how a granted group's member names it) when
 * not: mailboxes (".N"), the alarm and supervisor tables (".timers",
 * ".sup") and roostd's lock ("~lock") carry a character no system name
 * has. */
static void
collect_name(const char *shm, void *arg)
{
	static const char prefix[] = "/roost.";
	struct name_list *nl = arg;
	char name[64]; /* room for "UID:" and more than a name; checked */
	const char *dot;
	unsigned long uid;
	char *end;

	if (nl->nl_err != 0 || strncmp(shm, prefix, sizeof(prefix) - 1) != 0)
		return;
	shm += sizeof(prefix) - 1;
	dot = strchr(shm, '.');
	if (dot == NULL || dot == shm || *shm < '0' || *shm > '9')
		return;
	uid = strtoul(shm, &end, 10);
	if (end != dot || uid > UINT32_MAX)
		return;
	if (strlen(dot + 1) > ROOST_SYSTEM_NAME_MAX)
		return;
	if (uid == nl->nl_uid)
		snprintf(name, sizeof(name), "%s", dot + 1);
	else
		snprintf(name, sizeof(name), "%lu:%s", uid, dot + 1);
	if (roost__system_resolve(name) != name)
		return; /* not a system, or a name too long to open */
	nl->nl_err = grow((void **)&nl->nl_names, &nl->nl_cap, nl->nl_n, 1,
	                  sizeof(*nl->nl_names));
	if (nl->nl_err == 0) /* at most ROOST_SYSTEM_NAME_MAX: resolved */
		memcpy(nl->nl_names[nl->nl_n++], name, strlen(name) + 1);
}

/* Our own systems first, then those shared with us, each by name. */
static int
by_name(const void *a, const void *b)
{
	bool shared_a = strchr((const char *)a, ':') != NULL;
	bool shared_b = strchr((const char *)b, ':') != NULL;

	if (shared_a != shared_b)
		return shared_a ? 1 : -1;
	return strcmp((const char *)a, (const char *)b);
}

int
roost_systems_list(roost_systems_fn fn, void *arg)
{
	struct name_list nl;
	roost_sysinfo_t info;
	roost_view_t *v;
	int listed = 0;
	size_t i;
	int rc;

	if (fn == NULL)
		return -EINVAL;
	memset(&nl, 0, sizeof(nl));
	nl.nl_uid = roost__plat_uid();
	rc = roost__plat_seg_list("/roost.", collect_name, &nl);
	if (rc >= 0 && nl.nl_err < 0)
		rc = nl.nl_err;
	if (rc < 0)
		goto out;
	if (nl.nl_n > 1)
		qsort(nl.nl_names, nl.nl_n, sizeof(*nl.nl_names), by_name);
	for (i = 0; i < nl.nl_n; i++) {
		memset(&info, 0, sizeof(info));
		snprintf(info.name, sizeof(info.name), "%s", nl.nl_names[i]);
		rc = roost_view_open(&v, nl.nl_names[i]);
		if (rc == 0) {
			rc = roost_view_info(v, &info);
			roost_view_close(v);
		}
		if (rc == -ENOENT)
			continue; /* removed while we looked */
		if ((rc == -EACCES || rc == -EPERM) &&
		    strchr(nl.nl_names[i], ':') != NULL)
			continue; /* another user's, not shared with us */
		rc = fn(arg, &info, rc);
		if (rc != 0)
			goto out;
		listed++;
	}
	rc = listed;
out:
	roost__free(nl.nl_names);
	return rc;
}

int
roost_system_clean(const char *name)
{
	char lock[ROOST_SHM_NAME_MAX + 8];
	roost_sysinfo_t info;
	roost_view_t *v;
	int rc;

	name = roost__system_resolve(name);
	if (name == NULL)
		return -EINVAL;
	/* A segment that cannot be read (ROOST_ECORRUPT, still being
	 * created) cannot be judged stale: the caller decides what next. */
	rc = roost_view_open(&v, name);
	if (rc < 0)
		return rc == -EAGAIN ? -EBUSY : rc;
	rc = roost_view_info(v, &info);
	roost_view_close(v);
	if (rc < 0)
		return rc;
	if (info.state != ROOST_SYS_STALE)
		return -EBUSY;
	rc = roost_system_destroy(name);
	if (rc < 0)
		return rc;
	/* roostd's lock file, left behind only when roostd was killed (a
	 * roostd that starts creates it again). */
	if (roost__sys_shm_name(lock, sizeof(lock) - 6, name) == 0) {
		strcat(lock, "~lock");
		roost__plat_seg_unlink(lock);
	}
	return 0;
}

/* --- roostd's alarms ---------------------------------------------------- */

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
