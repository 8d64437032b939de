/* SPDX-License-Identifier: MIT */
/*
 * status.c - what roostd publishes for tools: the supervisor table,
 * /dev/shm/roost.UID.SYSTEM.sup (layout and protocol in
 * lib/core/shm/shm_format.h, "Supervisor table"): one entry per slot
 * with what only roostd knows (state, restarts, policy, group, last exit,
 * dead letters). rd_status_sync() runs once per loop turn and rewrites
 * only the entries whose content changed (compared with a private shadow
 * copy), so it costs O(children) and touches shared memory only on a
 * change. With thousands of children a pass costs milliseconds: a pass
 * then waits until nine times its own length has gone by (at most 10% of
 * roostd's time; the loop wakes for it, rd_status_due). Exit reasons and
 * per-actor dead letters are not kept in the child table; children.c
 * hands them over (rd_status_exit, rd_status_deadletter).
 *
 * Only roostd's main thread calls these.
 */
#include "rd.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Per child (index in rd_kids): what the child table does not keep. */
struct st_extra {
	uint64_t sx_seq;    /* ch_seq of the child it is about */
	char sx_reason[16]; /* last exit, "" if none */
	int32_t sx_status;
	int32_t sx_signal;
	uint64_t sx_exit_ns;
	uint32_t sx_deadletters;
};

static struct {
	struct roost__seg ss_seg;
	struct roost__sup_hdr *ss_hdr;
	struct roost__sup_entry *ss_ent;
	uint32_t ss_n;                      /* entries (= slots) */
	struct roost__sup_entry *ss_shadow; /* what the entries hold now */
	uint32_t *ss_mark;                  /* pass that last filled a slot */
	uint32_t *ss_used;                  /* slots filled by the last pass */
	uint32_t *ss_next;                  /* ... and by this one */
	uint32_t ss_nused;
	uint32_t ss_pass;
	struct st_extra *ss_extra; /* [rd_kids_cap] */
	int ss_nextra;
	bool ss_failed; /* logged once; never retried */
	uint64_t ss_next_ns; /* no pass before this (rd_status_sync) */
	bool ss_skipped;     /* a turn came before it: one is owed */
} st;

static int
sup_name(char *buf, size_t len, const char *system)
{
	char base[ROOST_SHM_NAME_MAX];
	int n;

	if (roost__sys_shm_name(base, sizeof(base), system) < 0)
		return -ENAMETOOLONG;
	n = snprintf(buf, len, "%s%s", base, ROOST_SUP_SUFFIX);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* Map the table a dead roostd left, if its header holds: 'seg', 0. */
static int
old_open(const char *name, size_t size, uint32_t n, struct roost__seg *seg)
{
	struct roost__sup_hdr *h;
	struct roost__sup_fixed f;

	if (roost__plat_seg_open(name, ROOST_SUP_HDR_SIZE, size, seg) < 0)
		return -ENOENT;
	h = seg->sg_base;
	/* Pairs with the release in status_open() of that roostd. */
	if (roost__load_acq(&h->su_state) == ROOST_SEG_READY) {
		memcpy(&f, &h->su_fixed, sizeof(f));
		if (f.uf_magic == ROOST_SUP_MAGIC &&
		    f.uf_version == ROOST_SUP_VERSION && f.uf_nentries == n &&
		    f.uf_map_size == size && seg->sg_len == size)
			return 0;
	}
	roost__plat_seg_unmap(seg);
	return ROOST_ECORRUPT;
}

static bool
reason_known(const char *text)
{
#define REASON_IS(name, num, t) if (strcmp(text, t) == 0) return true;
	ROOST_EXIT_REASONS(REASON_IS)
#undef REASON_IS
	return false;
}

static struct st_extra *extra_of(struct rd *rd, const struct rd_child *ch);

/*
 * What the dead roostd's table said (adoption): its dead-letter count,
 * and per actor we took over at the same generation the last exit and
 * dead letters, so tools show what they showed. An entry it died
 * writing (odd se_seq) or that fails a check is passed over.
 */
static void
old_take(struct rd *rd, const struct roost__seg *seg, uint32_t n)
{
	const struct roost__sup_hdr *h = seg->sg_base;
	const struct roost__sup_entry *old =
		(const struct roost__sup_entry *)((const uint8_t *)h +
		                                  ROOST_SUP_HDR_SIZE);
	struct roost__sup_entry e;
	struct st_extra *x;
	uint32_t slot;
	int k;

	rd->rd_deadletters += roost__load_rlx(&h->su_deadletters);
	for (k = 0; k < rd->rd_nkids; k++) {
		slot = roost_aid_slot(rd->rd_kids[k].ch_aid);
		if (rd->rd_kids[k].ch_aid.id == 0 || slot >= n ||
		    (roost__load_acq(&old[slot].se_seq) & 1u) != 0 ||
		    (x = extra_of(rd, &rd->rd_kids[k])) == NULL)
			continue;
		memcpy(&e, &old[slot], sizeof(e)); /* no writer is left */
		if (e.se_gen != roost_aid_gen(rd->rd_kids[k].ch_aid))
			continue;
		x->sx_deadletters += e.se_deadletters;
		e.se_last_reason[sizeof(e.se_last_reason) - 1] = '\0';
		/* An exit seen by this roostd already is newer. */
		if (!(e.se_flags & ROOST_SUP_F_EXITED) || x->sx_reason[0] ||
		    !reason_known(e.se_last_reason) || e.se_last_signal < 0 ||
		    e.se_last_signal >= NSIG || e.se_last_status < -1 ||
		    e.se_last_status > 255)
			continue;
		memcpy(x->sx_reason, e.se_last_reason, sizeof(x->sx_reason));
		x->sx_status = e.se_last_status;
		x->sx_signal = e.se_last_signal;
		x->sx_exit_ns = e.se_exit_ns;
	}
}

/* Create the table (replacing one a dead roostd left, whose dead-letter
 * count is carried over). */
static int
status_open(struct rd *rd)
{
	const struct roost__sys_fixed *sf = &rd->rd_sy.sy_fixed;
	char name[ROOST_SHM_NAME_MAX + 8];
	struct roost__sup_fixed *f;
	struct roost__seg old = {NULL, 0};
	size_t size;
	int rc;

	st.ss_n = sf->sf_nslots;
	size = ROOST_SUP_HDR_SIZE +
	       (size_t)st.ss_n * sizeof(struct roost__sup_entry);
	rc = sup_name(name, sizeof(name), rd->rd_system);
	if (rc < 0)
		return rc;
	/* With the system's mode and granted group, as its other objects:
	 * the group's members' tools read it. */
	rc = roost__plat_seg_create_gid(name, size, sf->sf_mode,
	                                roost__sys_gid(&rd->rd_sy), &st.ss_seg);
	if (rc == -EEXIST) {
		/* Kept mapped until its entries are taken over, below. */
		(void)old_open(name, size, st.ss_n, &old);
		roost__plat_seg_unlink(name);
		rc = roost__plat_seg_create_gid(name, size, sf->sf_mode,
		                                roost__sys_gid(&rd->rd_sy),
		                                &st.ss_seg);
	}
	if (rc < 0) {
		roost__plat_seg_unmap(&old);
		return rc;
	}
	st.ss_shadow = calloc(st.ss_n, sizeof(*st.ss_shadow));
	st.ss_mark = calloc(st.ss_n, sizeof(*st.ss_mark));
	st.ss_used = calloc(st.ss_n, sizeof(*st.ss_used));
	st.ss_next = calloc(st.ss_n, sizeof(*st.ss_next));
	st.ss_nextra = rd->rd_kids_cap;
	st.ss_extra = calloc((size_t)st.ss_nextra + 1, sizeof(*st.ss_extra));
	if (st.ss_shadow == NULL || st.ss_mark == NULL || st.ss_used == NULL ||
	    st.ss_next == NULL || st.ss_extra == NULL) {
		roost__plat_seg_unmap(&old);
		roost__plat_seg_unmap(&st.ss_seg);
		roost__plat_seg_unlink(name);
		return -ENOMEM;
	}
	if (old.sg_base != NULL) {
		old_take(rd, &old, st.ss_n);
		roost__plat_seg_unmap(&old);
	}
	st.ss_hdr = st.ss_seg.sg_base;
	st.ss_ent = (struct roost__sup_entry *)((uint8_t *)st.ss_seg.sg_base +
	                                        ROOST_SUP_HDR_SIZE);
	f = &st.ss_hdr->su_fixed;
	f->uf_magic = ROOST_SUP_MAGIC;
	f->uf_version = ROOST_SUP_VERSION;
	f->uf_hdr_size = ROOST_SUP_HDR_SIZE;
	f->uf_entry_size = sizeof(struct roost__sup_entry);
	f->uf_nentries = st.ss_n;
	f->uf_uid = (uint32_t)geteuid();
	f->uf_mode = sf->sf_mode;
	f->uf_map_size = size;
	snprintf(f->uf_name, sizeof(f->uf_name), "%s", rd->rd_system);
	roost__store_rlx(&st.ss_hdr->su_owner_pid, (int32_t)getpid());
	roost__store_rlx(&st.ss_hdr->su_deadletters, rd->rd_deadletters);
	/* Publish: pairs with the acquire in roost__view_sup_map()
	 * (lib/core/view/sup_table.c). tag-sup-publish */
	roost__store_rel(&st.ss_hdr->su_state, ROOST_SEG_READY);
	return 0;
}

void
rd_status_close(void)
{
	roost__plat_seg_unmap(&st.ss_seg);
	free(st.ss_shadow);
	free(st.ss_mark);
	free(st.ss_used);
	free(st.ss_next);
	free(st.ss_extra);
	memset(&st, 0, sizeof(st));
}

/* Write entry 'slot' under its seqlock (tag-sup-seq). */
static void
publish(uint32_t slot, const struct roost__sup_entry *e)
{
	struct roost__sup_entry *s = &st.ss_ent[slot];
	uint32_t seq = roost__load_rlx(&s->se_seq) | 1u;

	/* Odd first; the fence orders it before the entry's bytes. Pairs
	 * with the acquire fence of the reader (roost__view_sup_entry,
	 * lib/core/view/sup_table.c). */
	roost__store_rlx(&s->se_seq, seq);
	atomic_thread_fence(memory_order_release);
	/* Readers copy concurrently and keep their copy only if se_seq did
	 * not move: a deliberate, seqlock-protected race. */
	memcpy((uint8_t *)s + sizeof(s->se_seq),
	       (const uint8_t *)e + sizeof(e->se_seq),
	       sizeof(*e) - sizeof(e->se_seq));
	/* Even again; pairs with the reader's acquire load of se_seq. */
	roost__store_rel(&s->se_seq, seq + 1u);
	st.ss_shadow[slot] = *e;
}

static struct st_extra *
extra_of(struct rd *rd, const struct rd_child *ch)
{
	long i = ch - rd->rd_kids;
	struct st_extra *x;

	if (st.ss_extra == NULL || i < 0 || i >= st.ss_nextra)
		return NULL;
	x = &st.ss_extra[i];
	if (x->sx_seq != ch->ch_seq) {
		memset(x, 0, sizeof(*x));
		x->sx_seq = ch->ch_seq;
	}
	return x;
}

static void
entry_of(struct rd *rd, struct rd_child *ch, struct roost__sup_entry *e)
{
	const struct rd_config *cfg = rd->rd_cfg;
	struct st_extra *x = extra_of(rd, ch);

	memset(e, 0, sizeof(*e));
	switch (ch->ch_state) {
	case CH_STARTING:
		e->se_state = ROOST_SUP_STARTING;
		break;
	case CH_RUNNING:
		e->se_state = ROOST_SUP_RUNNING;
		break;
	case CH_DOWN:
		e->se_state = ROOST_SUP_DOWN;
		break;
	default:
		e->se_state = ROOST_SUP_GONE;
		break;
	}
	e->se_gen = roost_aid_gen(ch->ch_aid);
	e->se_restarts = ch->ch_restarts;
	e->se_pid = ch->ch_pid;
	e->se_restart = (uint8_t)ch->ch_spec.sp_restart;
	e->se_flags = (ch->ch_spec.sp_daemon ? ROOST_SUP_F_DAEMON : 0) |
	              (ch->ch_oneshot ? ROOST_SUP_F_ONESHOT : 0) |
	              (ch->ch_nospec ? ROOST_SUP_F_NOSPEC : 0) |
	              (ch->ch_stopping ? ROOST_SUP_F_STOPPING : 0) |
	              (ch->ch_kill ? ROOST_SUP_F_KILLED : 0);
	e->se_group = (uint16_t)ch->ch_group;
	if (ch->ch_group > 0 && ch->ch_group < cfg->rc_ngroups)
		snprintf(e->se_group_name, sizeof(e->se_group_name), "%s",
		         cfg->rc_groups[ch->ch_group].rg_name);
	e->se_started_ns = ch->ch_t0;
	e->se_last_status = -1;
	if (x != NULL && x->sx_reason[0] != '\0') {
		e->se_flags |= ROOST_SUP_F_EXITED;
		memcpy(e->se_last_reason, x->sx_reason,
		       sizeof(e->se_last_reason));
		e->se_last_status = x->sx_status;
		e->se_last_signal = x->sx_signal;
		e->se_exit_ns = x->sx_exit_ns;
	}
	if (x != NULL)
		e->se_deadletters = x->sx_deadletters;
}

/* Fill the entry of 'ch' if its slot was not filled by this pass. */
static void
sync_child(struct rd *rd, struct rd_child *ch, uint32_t *nnext)
{
	struct roost__sup_entry e;
	uint32_t slot = roost_aid_slot(ch->ch_aid);

	if (ch->ch_aid.id == 0 || slot >= st.ss_n ||
	    st.ss_mark[slot] == st.ss_pass)
		return;
	st.ss_mark[slot] = st.ss_pass;
	st.ss_next[(*nnext)++] = slot;
	entry_of(rd, ch, &e);
	if (memcmp(&e, &st.ss_shadow[slot], sizeof(e)) != 0)
		publish(slot, &e);
}

void
rd_status_sync(struct rd *rd)
{
	static const struct roost__sup_entry none;
	uint32_t nnext = 0;
	uint32_t *tmp;
	uint64_t t0;
	uint32_t i;
	int k;

	if (st.ss_hdr == NULL) {
		if (st.ss_failed)
			return;
		if (status_open(rd) < 0) {
			rd_log(RD_ERR, "cannot publish the supervisor table: "
			               "roostctl will not show restarts");
			rd_status_close();
			st.ss_failed = true;
			return;
		}
	}
	t0 = roost__plat_now_ns();
	st.ss_skipped = t0 < st.ss_next_ns;
	if (st.ss_skipped)
		return;
	if (++st.ss_pass == 0)
		st.ss_pass = 1; /* 0 marks "never" */
	/* Live children first: a slot released by a child that is gone may
	 * be held by a newer one already. */
	for (k = 0; k < rd->rd_nkids; k++)
		if (rd->rd_kids[k].ch_state != CH_GONE)
			sync_child(rd, &rd->rd_kids[k], &nnext);
	for (k = 0; k < rd->rd_nkids; k++)
		if (rd->rd_kids[k].ch_state == CH_GONE)
			sync_child(rd, &rd->rd_kids[k], &nnext);
	/* Slots no child names any more: cleared. */
	for (i = 0; i < st.ss_nused; i++)
		if (st.ss_mark[st.ss_used[i]] != st.ss_pass &&
		    memcmp(&st.ss_shadow[st.ss_used[i]], &none,
		           sizeof(none)) != 0)
			publish(st.ss_used[i], &none);
	tmp = st.ss_used;
	st.ss_used = st.ss_next;
	st.ss_next = tmp;
	st.ss_nused = nnext;
	/* Relaxed: a display value (shm_format.h). */
	if (roost__load_rlx(&st.ss_hdr->su_deadletters) != rd->rd_deadletters)
		roost__store_rlx(&st.ss_hdr->su_deadletters,
		                 rd->rd_deadletters);
	st.ss_next_ns = roost__plat_now_ns();
	st.ss_next_ns += 9 * (st.ss_next_ns - t0);
}

bool
rd_status_due(uint64_t *due)
{
	if (!st.ss_skipped)
		return false;
	*due = st.ss_next_ns;
	return true;
}

void
rd_status_exit(struct rd *rd, const struct rd_child *ch, int status,
               bool known, roost_exit_reason_t reason)
{
	struct st_extra *x = extra_of(rd, ch);

	if (x == NULL)
		return;
	/* The supervisor table keeps the text (shm_format.h); it fits. */
	snprintf(x->sx_reason, sizeof(x->sx_reason), "%s",
	         roost_exit_reason_name(reason));
	x->sx_status = known && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	x->sx_signal = known && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	x->sx_exit_ns = roost__plat_now_ns();
}

void
rd_status_deadletter(struct rd *rd, const struct rd_child *ch)
{
	struct st_extra *x = extra_of(rd, ch);

	if (x != NULL)
		x->sx_deadletters++;
}
