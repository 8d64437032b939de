/* SPDX-License-Identifier: MIT */
/*
 * sys.c - the system segment: naming, creation, validation on open,
 * destruction, the heartbeat, and the actor-table lock and seqlock.
 */
#include "core/shm/shm.h"

#include <stdio.h>
#include <time.h>

/* Lock-free tries at a slot read before falling back to the lock. */
#define SLOT_READ_RETRIES 200
/* How long a reader then waits for the table lock. */
#define SLOT_READ_LOCK_MS 200

/* "UID:NAME": the base name after the colon, '*uid' from the digits;
 * NULL if 'system' has no well-formed owner prefix. */
static const char *
parse_owner(const char *system, uint32_t *uid)
{
	const char *colon = strchr(system, ':');
	unsigned long long v = 0;
	const char *p;

	if (colon == NULL || colon == system || colon - system > 10)
		return NULL;
	for (p = system; p < colon; p++) {
		if (*p < '0' || *p > '9')
			return NULL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > UINT32_MAX)
		return NULL;
	*uid = (uint32_t)v;
	return colon + 1;
}

const char *
roost__system_resolve(const char *name)
{
	const char *p;

	if (name == NULL)
		name = getenv("ROOST_SYSTEM");
	if (name == NULL || *name == '\0')
		name = "default";
	if (strlen(name) > ROOST_SYSTEM_NAME_MAX)
		return NULL;
	/* "UID:NAME": the system NAME of user UID (a group it grants). */
	p = strchr(name, ':');
	if (p != NULL) {
		uint32_t uid;

		if (parse_owner(name, &uid) == NULL)
			return NULL;
		p++;
	} else {
		p = name;
	}
	if (*p == '\0')
		return NULL;
	for (; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return NULL;
	}
	return name;
}

const char *
roost__system_owner(const char *system, uint32_t *uid)
{
	const char *base = parse_owner(system, uid);

	if (base == NULL) {
		*uid = roost__plat_uid();
		base = system;
	}
	return base;
}

int
roost__sys_shm_name(char *buf, size_t len, const char *system)
{
	uint32_t uid;
	const char *base = roost__system_owner(system, &uid);
	int n = snprintf(buf, len, "/roost.%u.%s", (unsigned)uid, base);

	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int
roost__sys_obj_name(char *buf, size_t len, const char *system,
                    const char *suffix)
{
	uint32_t uid;
	const char *base;
	int n;

	/* roost__system_resolve() would map "" to the default system. */
	if (system == NULL || *system == '\0' ||
	    roost__system_resolve(system) == NULL)
		return -EINVAL;
	base = roost__system_owner(system, &uid);
	n = snprintf(buf, len, "/roost.%u.%s%s", (unsigned)uid, base, suffix);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int
roost__mbox_shm_name(char *buf, size_t len, const char *system,
                     uint32_t slot)
{
	uint32_t uid;
	const char *base = roost__system_owner(system, &uid);
	int n = snprintf(buf, len, "/roost.%u.%s.%u", (unsigned)uid, base,
	                 slot);

	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

bool
roost__name_valid(const char *name)
{
	size_t n;
	const char *p;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n > ROOST_NAME_MAX)
		return false;
	for (p = name; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '@') /* '@' is reserved: name@node */
			return false;
	}
	return true;
}

void
roost_sys_opts_init(roost_sys_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->slots = ROOST_SLOTS_DEF;
	o->mbox_bytes = ROOST_RING_DEF;
	o->max_msg = ROOST_MAX_MSG_DEF;
	o->mode = 0600;
	o->gid = -1;
	o->unblock_ms = ROOST_UNBLOCK_MS_DEF;
	o->private_lanes = ROOST_NPRIV_DEF;
}

static size_t
sys_seg_size(uint32_t nslots)
{
	return (size_t)ROOST_SYS_HDR_SIZE +
	       ROOST_NKINDS * sizeof(struct roost__kind) +
	       (size_t)nslots * sizeof(struct roost__slot);
}

int
roost_system_create(const char *name, const roost_sys_opts_t *opts)
{
	roost_sys_opts_t o;
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;
	struct roost__sys_hdr *h;
	struct roost__sys_fixed *f;
	uint32_t owner;
	uint32_t ring;
	int rc;

	name = roost__system_resolve(name);
	if (name == NULL)
		return -EINVAL;
	if (opts == NULL)
		roost_sys_opts_init(&o);
	else
		o = *opts;
	ring = roost__mbox_ring_size(o.mbox_bytes);
	if (o.slots == 0 || o.slots > ROOST_SLOTS_MAX || ring == 0 ||
	    o.max_msg == 0 || o.max_msg > ROOST_MAX_MSG_MAX ||
	    o.unblock_ms < ROOST_UNBLOCK_MS_MIN ||
	    o.unblock_ms > ROOST_UNBLOCK_MS_MAX ||
	    o.private_lanes > ROOST_NPRIV_MAX ||
	    (o.mode & ~0660u) != 0 || (o.mode & 0600u) != 0600u)
		return -EINVAL;
	if (roost__system_owner(name, &owner) != name &&
	    owner != roost__plat_uid())
		return -EPERM; /* only in our own namespace */
	if (o.gid >= 0 && (o.mode & 0060u) != 0060u)
		return -EINVAL; /* a group without access makes no sense */
	rc = roost__sys_shm_name(shm, sizeof(shm), name);
	if (rc < 0)
		return rc;
	rc = roost__plat_seg_create_gid(shm, sys_seg_size(o.slots), o.mode,
	                                o.gid, &seg);
	if (rc < 0)
		return rc;
	h = seg.sg_base;
	f = &h->sh_fixed;
	f->sf_magic = ROOST_SYS_MAGIC;
	f->sf_version = ROOST_SHM_VERSION;
	f->sf_hdr_size = ROOST_SYS_HDR_SIZE;
	f->sf_nslots = o.slots;
	f->sf_slot_size = sizeof(struct roost__slot);
	f->sf_kind_size = sizeof(struct roost__kind);
	f->sf_nkinds = ROOST_NKINDS;
	f->sf_kinds_off = ROOST_SYS_HDR_SIZE;
	f->sf_slots_off = ROOST_SYS_HDR_SIZE +
	                  ROOST_NKINDS * sizeof(struct roost__kind);
	f->sf_mbox_bytes = ring;
	f->sf_max_msg = o.max_msg;
	f->sf_mode = o.mode;
	f->sf_uid = roost__plat_uid();
	f->sf_gid1 = o.gid >= 0 ? (uint32_t)o.gid + 1 : 0;
	f->sf_unblock_ms = o.unblock_ms;
	f->sf_nprivate = o.private_lanes;
	f->sf_map_size = seg.sg_len;
	f->sf_created_rt_ns = roost__plat_realtime_ns();
	snprintf(f->sf_name, sizeof(f->sf_name), "%s",
	         roost__system_owner(name, &owner));
	roost__lock_init(&h->sh_lock.lk_lock);
	roost__store_rlx(&h->sh_heartbeat_ns, roost__plat_now_ns());
	/* Publish: pairs with the acquire in roost__sys_open().
	 * tag-seg-publish */
	roost__store_rel(&h->sh_state, ROOST_SEG_READY);
	roost__plat_seg_unmap(&seg);
	return 0;
}

int
roost__sys_open(struct roost__sys *sy, const char *name)
{
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__sys_hdr *h;
	struct roost__sys_fixed f;
	const char *base;
	uint32_t owner;
	uint64_t need;
	int rc;

	memset(sy, 0, sizeof(*sy));
	base = roost__system_owner(name, &owner);
	rc = roost__sys_shm_name(shm, sizeof(shm), name);
	if (rc < 0)
		goto out;
	/* The system segment only from its owner (or ourselves). */
	rc = roost__plat_seg_open_trust(shm, ROOST_SYS_HDR_SIZE,
	                                sys_seg_size(ROOST_SLOTS_MAX), owner, -1,
	                                &sy->sy_seg);
	if (rc < 0)
		goto out;
	h = sy->sy_seg.sg_base;
	/* Pairs with the release in roost_system_create(). */
	if (roost__load_acq(&h->sh_state) != ROOST_SEG_READY) {
		rc = -EAGAIN;
		goto out_unmap;
	}
	memcpy(&f, &h->sh_fixed, sizeof(f)); /* trust only f from here */
	if (f.sf_magic != ROOST_SYS_MAGIC) {
		rc = ROOST_CORRUPT();
		goto out_unmap;
	}
	if (f.sf_version != ROOST_SHM_VERSION) {
		rc = ROOST_EVERSION;
		goto out_unmap;
	}
	need = (uint64_t)f.sf_slots_off +
	       (uint64_t)f.sf_nslots * sizeof(struct roost__slot);
	if (f.sf_hdr_size != ROOST_SYS_HDR_SIZE ||
	    f.sf_slot_size != sizeof(struct roost__slot) ||
	    f.sf_kind_size != sizeof(struct roost__kind) ||
	    f.sf_nkinds != ROOST_NKINDS || f.sf_nslots == 0 ||
	    f.sf_nslots > ROOST_SLOTS_MAX ||
	    f.sf_kinds_off != ROOST_SYS_HDR_SIZE ||
	    f.sf_slots_off != ROOST_SYS_HDR_SIZE +
	                              ROOST_NKINDS * sizeof(struct roost__kind) ||
	    need > sy->sy_seg.sg_len || f.sf_map_size != sy->sy_seg.sg_len ||
	    roost__mbox_ring_size(f.sf_mbox_bytes) != f.sf_mbox_bytes ||
	    f.sf_max_msg == 0 || f.sf_max_msg > ROOST_MAX_MSG_MAX ||
	    f.sf_unblock_ms < ROOST_UNBLOCK_MS_MIN ||
	    f.sf_unblock_ms > ROOST_UNBLOCK_MS_MAX ||
	    f.sf_nprivate > ROOST_NPRIV_MAX || f.sf_uid != owner ||
	    memchr(f.sf_name, '\0', sizeof(f.sf_name)) == NULL ||
	    strcmp(f.sf_name, base) != 0) {
		rc = ROOST_CORRUPT();
		goto out_unmap;
	}
	sy->sy_hdr = h;
	sy->sy_fixed = f;
	sy->sy_kinds = (struct roost__kind *)((uint8_t *)h + f.sf_kinds_off);
	sy->sy_slots = (struct roost__slot *)((uint8_t *)h + f.sf_slots_off);
	snprintf(sy->sy_name, sizeof(sy->sy_name), "%s", name);
	return 0;

out_unmap:
	roost__plat_seg_unmap(&sy->sy_seg);
out:
	return rc;
}

void
roost__sys_close(struct roost__sys *sy)
{
	if (sy == NULL)
		return;
	roost__plat_seg_unmap(&sy->sy_seg);
	sy->sy_hdr = NULL;
}

void
roost__slot_write_begin(struct roost__slot *s)
{
	/* Odd: readers retry. The release orders the odd value before the
	 * slot writes that follow it on weakly ordered machines too, with
	 * the fence. Pairs with the acquire loads in roost__sys_slot_read. */
	roost__store_rlx(&s->sl_seq, roost__load_rlx(&s->sl_seq) | 1u);
	atomic_thread_fence(memory_order_release);
}

void
roost__slot_write_end(struct roost__slot *s)
{
	/* Even again, after every slot write. */
	roost__store_rel(&s->sl_seq, (roost__load_rlx(&s->sl_seq) | 1u) + 1u);
}

/*
 * Called with sh_lock taken from a dead holder (or a garbage word): a slot it was writing is
 * left odd. Its fields are whatever the dead writer stored; we make the
 * sequence even again so readers can proceed, and the caller's normal
 * checks (pid liveness, generation) handle the content.
 */
static void
repair_table_locked(struct roost__sys *sy)
{
	uint32_t i;

	for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
		if (roost__load_rlx(&sy->sy_slots[i].sl_seq) & 1u)
			roost__slot_write_end(&sy->sy_slots[i]);
	}
}

int
roost__sys_lock_timed(struct roost__sys *sy, int timeout_ms)
{
	uint64_t deadline = 0;
	int r = roost__lock_take(&sy->sy_hdr->sh_lock.lk_lock, timeout_ms,
	                         &deadline);

	if (r < 0)
		return r == -EAGAIN ? -ETIMEDOUT : r;
	if (r != ROOST_LOCK_TAKEN)
		repair_table_locked(sy);
	return 0;
}

int
roost__sys_lock(struct roost__sys *sy)
{
	return roost__sys_lock_timed(sy, -1);
}

void
roost__sys_unlock(struct roost__sys *sy)
{
	roost__lock_drop(&sy->sy_hdr->sh_lock.lk_lock);
}

static void
copy_slot(const struct roost__slot *s, struct roost__slot_view *out)
{
	out->sv_state = roost__load_rlx(&s->sl_state);
	out->sv_gen = roost__load_rlx(&s->sl_gen);
	out->sv_pid = roost__load_rlx(&s->sl_pid);
	memcpy(&out->sv_pid_start, (const void *)&s->sl_pid_start,
	       sizeof(out->sv_pid_start));
	memcpy(&out->sv_mbox_bytes, (const void *)&s->sl_mbox_bytes,
	       sizeof(out->sv_mbox_bytes));
	memcpy(&out->sv_flags, (const void *)&s->sl_flags,
	       sizeof(out->sv_flags));
	memcpy(out->sv_name, (const void *)s->sl_name, sizeof(out->sv_name));
	out->sv_name[ROOST_NAME_MAX] = '\0';
}

int
roost__sys_slot_read(struct roost__sys *sy, uint32_t slot,
                     struct roost__slot_view *out)
{
	const struct roost__slot *s;
	uint32_t seq0;
	uint32_t seq1;
	int tries;
	int rc;

	if (slot >= sy->sy_fixed.sf_nslots)
		return -ESRCH;
	s = &sy->sy_slots[slot];
	for (tries = 0; tries < SLOT_READ_RETRIES; tries++) {
		/* Pairs with the release in roost__slot_write_end(). */
		seq0 = roost__load_acq(&s->sl_seq);
		if (seq0 & 1u) {
			roost__cpu_relax();
			continue;
		}
		copy_slot(s, out);
		atomic_thread_fence(memory_order_acquire);
		seq1 = roost__load_rlx(&s->sl_seq);
		if (seq0 == seq1)
			return 0;
	}
	/* The writer was preempted mid-write (two cores, many processes),
	 * or died, or the word was scribbled: read under the lock, which
	 * waits for a live writer and repairs after a dead one. Bounded, so
	 * a stopped lock holder cannot stop a reader. */
	rc = roost__sys_lock_timed(sy, SLOT_READ_LOCK_MS);
	if (rc < 0)
		return ROOST_EPROTO;
	copy_slot(s, out);
	roost__sys_unlock(sy);
	return 0;
}

int
roost__sys_find_name_locked(struct roost__sys *sy, const char *name)
{
	uint32_t i;
	struct roost__slot *s;

	for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
		s = &sy->sy_slots[i];
		if (roost__load_rlx(&s->sl_state) != ROOST_SLOT_FREE &&
		    strncmp(s->sl_name, name, sizeof(s->sl_name)) == 0)
			return (int)i;
	}
	return -ENOENT;
}

static void
unlink_one(const char *name, void *arg)
{
	int *n = arg;

	if (roost__plat_seg_unlink(name) == 0)
		(*n)++;
}

int
roost_system_destroy(const char *name)
{
	char shm[ROOST_SHM_NAME_MAX];
	char prefix[ROOST_SHM_NAME_MAX + 1];
	int removed = 0;
	int rc;

	name = roost__system_resolve(name);
	if (name == NULL)
		return -EINVAL;
	rc = roost__sys_shm_name(shm, sizeof(shm), name);
	if (rc < 0)
		return rc;
	/* Mailboxes first, then the system segment, so an opener that races
	 * with us fails on the system segment rather than finding orphans.
	 * The '.' after the name keeps "a" from matching "ab". */
	snprintf(prefix, sizeof(prefix), "%s.", shm);
	rc = roost__plat_seg_list(prefix, unlink_one, &removed);
	if (rc < 0)
		return rc;
	if (roost__plat_seg_unlink(shm) == 0)
		removed++;
	return removed > 0 ? 0 : -ENOENT;
}

bool
roost__sys_aid_live(struct roost__sys *sy, roost_aid_t aid)
{
	struct roost__slot_view sv;

	return aid.id != 0 &&
	       roost__sys_slot_read(sy, roost_aid_slot(aid), &sv) == 0 &&
	       sv.sv_state == ROOST_SLOT_ACTIVE &&
	       sv.sv_gen == roost_aid_gen(aid);
}
