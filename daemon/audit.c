/* SPDX-License-Identifier: MIT */
/*
 * audit.c - roostd puts back what it owns in the system segment when a
 * stray write changed it: the fixed header (it created the system and
 * keeps the validated copy) and the slots of its actors and of its own
 * two contexts (it knows each one's address, process and name). Called
 * with each heartbeat; a slot is rewritten only when it differs, under
 * the table lock, as a slot writer does. What roostd does not own (the
 * slots of clients, the kind names) it leaves to the readers' checks.
 */
#include "rd.h"

#include <unistd.h>

/* What one slot should hold. */
struct slot_want {
	uint32_t sw_slot;
	uint32_t sw_gen;
	pid_t sw_pid;
	uint32_t sw_flags;
	const char *sw_name;
};

static bool
slot_matches(struct roost__sys *sy, const struct slot_want *w)
{
	struct roost__slot_view sv;

	if (roost__sys_slot_read(sy, w->sw_slot, &sv) < 0)
		return false; /* a sequence word stuck odd, or worse */
	/* The name and the flags are the actor's to change (it may register
	 * another name): only values no writer stores are damage. */
	return sv.sv_state == ROOST_SLOT_ACTIVE && sv.sv_gen == w->sw_gen &&
	       sv.sv_pid == w->sw_pid &&
	       (sv.sv_flags & ~ROOST_SLOT_F_SUPERVISED) == 0 &&
	       roost__mbox_ring_size(sv.sv_mbox_bytes) == sv.sv_mbox_bytes &&
	       (sv.sv_name[0] == '\0' || roost__name_valid(sv.sv_name));
}

/* Under the table lock, as roost's slot writers do (sl_seq odd, write,
 * even). The mailbox size is kept if it is one a mailbox can have; the
 * name and flags are roostd's records of them. A slot that names a live
 * process other than ours is left alone (false): that process took it
 * (a reattach) after we read it, and a pid a stray write made up does
 * not come with that process's start time. */
static bool
restore_slot(struct roost__sys *sy, const struct slot_want *w)
{
	struct roost__slot *s = &sy->sy_slots[w->sw_slot];
	uint64_t start = 0;
	pid_t holder;

	if (roost__sys_lock(sy) < 0)
		return false;
	holder = roost__load_rlx(&s->sl_pid);
	if (holder != w->sw_pid &&
	    roost__plat_proc_alive(holder, s->sl_pid_start)) {
		roost__sys_unlock(sy);
		return false;
	}
	roost__plat_proc_start(w->sw_pid, &start);
	roost__slot_write_begin(s);
	roost__store_rlx(&s->sl_gen, w->sw_gen);
	roost__store_rlx(&s->sl_pid, (int32_t)w->sw_pid);
	s->sl_pid_start = start;
	if (roost__mbox_ring_size(s->sl_mbox_bytes) != s->sl_mbox_bytes)
		s->sl_mbox_bytes = sy->sy_fixed.sf_mbox_bytes;
	s->sl_flags = w->sw_flags;
	memset(s->sl_name, 0, sizeof(s->sl_name));
	memcpy(s->sl_name, w->sw_name, strlen(w->sw_name));
	roost__store_rlx(&s->sl_state, ROOST_SLOT_ACTIVE);
	roost__slot_write_end(s);
	roost__sys_unlock(sy);
	return true;
}

static void
audit_slot(struct roost__sys *sy, const struct slot_want *w)
{
	if (w->sw_slot >= sy->sy_fixed.sf_nslots || slot_matches(sy, w) ||
	    !restore_slot(sy, w))
		return;
	rd_log(RD_ERR, "the slot of %s (%u.%u) was damaged: restored from "
	       "roostd's records", w->sw_name[0] != '\0' ? w->sw_name
	                                                 : "an actor",
	       w->sw_slot, w->sw_gen);
}

static void
audit_own_ctx(struct roost__sys *sy, roost_ctx_t *ctx, const char *name)
{
	roost_aid_t a = roost_self(ctx);
	struct slot_want w = {roost_aid_slot(a), roost_aid_gen(a), getpid(), 0,
	                      name};

	audit_slot(sy, &w);
}

/* Has the process of 'ch' been seen in its slot? A restart has not
 * until it reattached: until then the slot names the process before
 * it, which is no damage. */
static bool
in_slot(struct roost__sys *sy, struct rd_child *ch)
{
	struct roost__slot_view sv;

	if (!ch->ch_in_slot &&
	    roost__sys_slot_read(sy, roost_aid_slot(ch->ch_aid), &sv) == 0 &&
	    sv.sv_state == ROOST_SLOT_ACTIVE &&
	    sv.sv_gen == roost_aid_gen(ch->ch_aid) && sv.sv_pid == ch->ch_pid)
		ch->ch_in_slot = true;
	return ch->ch_in_slot;
}

void
rd_audit_header(struct rd *rd)
{
	struct roost__sys *sy = &rd->rd_sy;
	struct roost__sys_hdr *h = sy->sy_hdr;

	if (roost__load_acq(&h->sh_state) == ROOST_SEG_READY &&
	    memcmp((const void *)&h->sh_fixed, &sy->sy_fixed,
	           sizeof(sy->sy_fixed)) == 0)
		return;
	memcpy((void *)&h->sh_fixed, &sy->sy_fixed, sizeof(sy->sy_fixed));
	/* Release: openers acquire sh_state, then copy the fixed part. */
	roost__store_rel(&h->sh_state, ROOST_SEG_READY);
	rd_log(RD_ERR, "the system header was damaged: restored from roostd's "
	       "copy");
}

void
rd_audit(struct rd *rd)
{
	struct roost__sys *sy = &rd->rd_sy;
	struct rd_child *ch;
	struct slot_want w;
	int i;

	rd_audit_header(rd);
	audit_own_ctx(sy, rd->rd_ctx, "roostd");
	if (rd->rd_dead != NULL)
		audit_own_ctx(sy, rd->rd_dead, "deadletters");
	for (i = 0; i < rd->rd_nkids; i++) {
		ch = &rd->rd_kids[i];
		/* One being stopped closes its slot itself before it ends
		 * (a 10,000-actor shutdown takes seconds): not damage. */
		if (ch->ch_state != CH_RUNNING || ch->ch_pid <= 0 ||
		    ch->ch_aid.id == 0 || ch->ch_stop != RD_STOP_NONE ||
		    ch->ch_stopping || rd_child_follow_holder(rd, ch) ||
		    !in_slot(sy, ch))
			continue;
		w.sw_slot = roost_aid_slot(ch->ch_aid);
		w.sw_gen = roost_aid_gen(ch->ch_aid);
		w.sw_pid = ch->ch_pid;
		w.sw_flags = ROOST_SLOT_F_SUPERVISED;
		w.sw_name = ch->ch_name;
		audit_slot(sy, &w);
	}
}
