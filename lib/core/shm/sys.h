/* SPDX-License-Identifier: MIT */
/*
 * sys.h - the system segment: its creation and validation, the actor
 * table (slots, generations, names) and the kind names.
 */
#ifndef ROOST_CORE_SYS_H
#define ROOST_CORE_SYS_H

/* A process's mapping of a system segment, with a validated copy of its
 * fixed header. */
struct roost__sys {
	struct roost__seg sy_seg;
	struct roost__sys_hdr *sy_hdr;
	struct roost__sys_fixed sy_fixed; /* trusted copy */
	struct roost__slot *sy_slots;
	struct roost__kind *sy_kinds;
	char sy_name[ROOST_SYSTEM_NAME_MAX + 1];
};

/* A consistent copy of one slot, read without the lock. */
struct roost__slot_view {
	uint32_t sv_state;
	uint32_t sv_gen;
	int32_t sv_pid;
	uint64_t sv_pid_start;
	uint32_t sv_mbox_bytes;
	uint32_t sv_flags;       /* ROOST_SLOT_F_* */
	char sv_name[ROOST_NAME_MAX + 1];
};

/* Map and validate system 'name' (already resolved). -ENOENT if absent. */
int roost__sys_open(struct roost__sys *sy, const char *name);
void roost__sys_close(struct roost__sys *sy);

/* Lock / unlock the actor table (robust; repairs torn slots). The timed
 * form gives up after 'timeout_ms' (< 0: never) with -ETIMEDOUT. */
int roost__sys_lock(struct roost__sys *sy);
int roost__sys_lock_timed(struct roost__sys *sy, int timeout_ms);
void roost__sys_unlock(struct roost__sys *sy);

/* Read slot 'slot' consistently: lock-free (seqlock) for a bounded
 * number of tries, then under the table lock (waiting at most 200 ms).
 * Returns 0, -ESRCH for an out-of-range slot, ROOST_EPROTO if the slot
 * never settles and the lock cannot be had. */
int roost__sys_slot_read(struct roost__sys *sy, uint32_t slot,
                         struct roost__slot_view *out);

/* Under the lock: begin and end a slot write (seqlock odd / even). */
void roost__slot_write_begin(struct roost__slot *s);
void roost__slot_write_end(struct roost__slot *s);

/* Under the lock: index of the slot named 'name', or -ENOENT. */
int roost__sys_find_name_locked(struct roost__sys *sy, const char *name);

/* Under the lock: index of the live holder of 'name', or -ENOENT. A
 * holder that died without closing is reclaimed on the way (its mailbox
 * closed and removed, its slot freed). Lives in ctx.c. */
int roost__name_holder_locked(struct roost__sys *sy, const char *name);

/* Free the slot of 'aid' for good if its holder is dead (supervised or
 * not): its mailbox is closed and removed. -EBUSY if it still runs,
 * -ESRCH if the address is stale. roostd calls this for an actor it does
 * not restart. Lives in ctx.c. */
int roost__sys_release_dead(struct roost__sys *sy, roost_aid_t aid);

/* True while 'aid' names a slot in use (ACTIVE) of that generation. */
bool roost__sys_aid_live(struct roost__sys *sy, roost_aid_t aid);

/* The group a system grants access to, or -1. */
static inline int64_t
roost__sys_gid(const struct roost__sys *sy)
{
	return sy->sy_fixed.sf_gid1 != 0 ? (int64_t)sy->sy_fixed.sf_gid1 - 1
	                                 : -1;
}

/* How long a mailbox lock holder may stall its senders (tag-replace). */
static inline uint32_t
roost__sys_unblock_ms(const struct roost__sys *sy)
{
	return sy->sy_fixed.sf_unblock_ms;
}

/* Check an actor name: 1..ROOST_NAME_MAX printable characters. */
bool roost__name_valid(const char *name);

#endif /* ROOST_CORE_SYS_H */
