/* SPDX-License-Identifier: MIT */
/*
 * keep_table.c - reading roostd's keep table (the FORMAT comment in
 * keep_table.h): its name and size, the record checksum, the copies of
 * records and the judgement of each. roostd's writer (daemon/keep.c) and
 * its adopter share them, so they agree on what the table holds.
 */
#include "core/shm/shm.h"

int
roost__keep_shm_name(char *buf, size_t len, const char *system)
{
	return roost__sys_obj_name(buf, len, system, ROOST_KEEP_SUFFIX);
}

uint32_t
roost__keep_nwatches(uint32_t nslots)
{
	uint64_t n = (uint64_t)nslots * ROOST_KEEP_WATCHES_PER_SLOT;

	return n < ROOST_KEEP_WATCHES_MIN ? ROOST_KEEP_WATCHES_MIN : (uint32_t)n;
}

size_t
roost__keep_map_size(uint32_t nslots)
{
	return ROOST_KEEP_HDR_SIZE +
	       (size_t)nslots * sizeof(struct roost__keep_actor) +
	       (size_t)ROOST_KEEP_LEVELS * sizeof(struct roost__keep_level) +
	       (size_t)roost__keep_nwatches(nslots) *
	       sizeof(struct roost__keep_watch);
}

/*
 * A byte-wise FNV-1a folded to 32 bits, seeded with the length: it only
 * has to catch torn writes and scribbles, not adversaries.
 */
uint32_t
roost__keep_sum(const void *rec, size_t n)
{
	const uint8_t *p = rec;
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ n;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return (uint32_t)(h ^ (h >> 32));
}

size_t
roost__keep_actor_len(const struct roost__keep_actor_rec *r)
{
	size_t n = r->ka_spec_len;

	if (n > ROOST_KEEP_SPEC_MAX)
		n = ROOST_KEEP_SPEC_MAX;
	return offsetof(struct roost__keep_actor_rec, ka_spec) + n;
}

size_t
roost__keep_level_len(const struct roost__keep_level_rec *r)
{
	size_t n = r->kl_cap;

	if (n > ROOST_KEEP_TIMES)
		n = ROOST_KEEP_TIMES;
	return offsetof(struct roost__keep_level_rec, kl_times) +
	       n * sizeof(uint64_t);
}

struct roost__keep_actor *
roost__keep_actors(void *base)
{
	return (struct roost__keep_actor *)((uint8_t *)base +
	                                    ROOST_KEEP_HDR_SIZE);
}

struct roost__keep_level *
roost__keep_levels(void *base, const struct roost__keep_fixed *f)
{
	return (struct roost__keep_level *)(roost__keep_actors(base) +
	                                    f->kf_nslots);
}

struct roost__keep_watch *
roost__keep_watches(void *base, const struct roost__keep_fixed *f)
{
	return (struct roost__keep_watch *)(roost__keep_levels(base, f) +
	                                    f->kf_nlevels);
}

/* The adopter reads a dead writer's records: plain copies, then the
 * sequence word says whether the writer died inside that record. Only
 * the union's member of the record's kind is written. */
static_assert(offsetof(struct roost__keep_copy, kc_level) ==
              offsetof(struct roost__keep_copy, kc_actor) &&
              sizeof(struct roost__keep_copy) -
              offsetof(struct roost__keep_copy, kc_actor) >=
              sizeof(struct roost__keep_level_rec), "the copy's union");

static void
copy_rec(const roost__atomic_u32 *seq, uint32_t sum, const void *rec,
         size_t size, struct roost__keep_copy *c)
{
	c->kc_torn = roost__load_acq(seq) & 1u;
	c->kc_sum = sum;
	/* Into the union (any member starts there); the largest fits. */
	memcpy((uint8_t *)c + offsetof(struct roost__keep_copy, kc_actor), rec,
	       size);
}

void
roost__keep_actor_copy(const struct roost__keep_actor *e,
                       struct roost__keep_copy *c)
{
	copy_rec(&e->ka_seq, e->ka_sum, &e->ka_rec, sizeof(e->ka_rec), c);
}

void
roost__keep_level_copy(const struct roost__keep_level *e,
                       struct roost__keep_copy *c)
{
	copy_rec(&e->kl_seq, e->kl_sum, &e->kl_rec, sizeof(e->kl_rec), c);
}

void
roost__keep_watch_copy(const struct roost__keep_watch *e,
                       struct roost__keep_copy *c)
{
	copy_rec(&e->kw_seq, e->kw_sum, &e->kw_rec, sizeof(e->kw_rec), c);
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* Shared by the three judges: free, or the checksum. */
static int
judge_sum(const struct roost__keep_copy *c, const void *rec, size_t whole,
          size_t covered, const char **why)
{
	if (all_zero(rec, whole) && c->kc_sum == 0)
		return 0;
	if (roost__keep_sum(rec, covered) != c->kc_sum) {
		*why = c->kc_torn ? "interrupted write" : "bad checksum";
		return -1;
	}
	return 1;
}

int
roost__keep_actor_judge(const struct roost__keep_copy *c, const char **why)
{
	const struct roost__keep_actor_rec *r = &c->kc_actor;
	int rc = judge_sum(c, r, sizeof(*r), roost__keep_actor_len(r), why);
	uint32_t i, nul = 0;

	if (rc <= 0)
		return rc;
	*why = "bad field";
	if (!(r->ka_flags & ROOST_KEEP_A_USED) ||
	    (r->ka_flags & ~ROOST_KEEP_A_KNOWN) != 0 || r->ka_gen == 0 ||
	    r->ka_restart > 2 || r->ka_stop > ROOST_KEEP_STOP_END ||
	    r->ka_group >= ROOST_KEEP_LEVELS || r->ka_shutdown_ms > 3600000 ||
	    r->ka_spec_len > ROOST_KEEP_SPEC_MAX ||
	    (r->ka_mbox_bytes != 0 && (r->ka_mbox_bytes < ROOST_RING_MIN ||
	                               r->ka_mbox_bytes > ROOST_RING_MAX)))
		return -1;
	if (r->ka_level < -1 || r->ka_level >= (int)ROOST_KEEP_LEVELS ||
	    (r->ka_stop == ROOST_KEEP_STOP_RESTART && r->ka_level < 0))
		return -1;
	if (!(r->ka_flags & ROOST_KEEP_A_SPEC))
		return r->ka_spec_len == 0 && r->ka_argc == 0 ? 1 : -1;
	/* program, NUL, then ka_argc arguments, each ending in NUL */
	for (i = 0; i < r->ka_spec_len; i++)
		nul += r->ka_spec[i] == '\0';
	if (r->ka_argc == 0 || nul != (uint32_t)r->ka_argc + 1 ||
	    r->ka_spec[r->ka_spec_len - 1] != '\0' || r->ka_spec[0] != '/') {
		*why = "bad spec";
		return -1;
	}
	return 1;
}

int
roost__keep_level_judge(const struct roost__keep_copy *c, uint64_t now,
                        const char **why)
{
	const struct roost__keep_level_rec *r = &c->kc_level;
	int rc = judge_sum(c, r, sizeof(*r), roost__keep_level_len(r), why);
	uint32_t k, used;
	uint64_t prev = 0, t;

	if (rc <= 0)
		return rc;
	*why = "bad window";
	if (r->kl_cap < 1 || r->kl_cap > ROOST_KEEP_TIMES)
		return -1;
	/* The last min(n, cap) times, oldest first: set, ascending, and not
	 * in the future. */
	used = r->kl_n < r->kl_cap ? r->kl_n : r->kl_cap;
	for (k = r->kl_n - used; k < r->kl_n; k++) {
		t = r->kl_times[k % r->kl_cap];
		if (t == 0 || t < prev || t > now) {
			*why = "restart times out of order or in the future";
			return -1;
		}
		prev = t;
	}
	return 1;
}

int
roost__keep_watch_judge(const struct roost__keep_copy *c, uint32_t nslots,
                        const char **why)
{
	const struct roost__keep_watch_rec *r = &c->kc_watch;
	int rc = judge_sum(c, r, sizeof(*r), sizeof(*r), why);
	roost_aid_t a = {r->kw_a}, b = {r->kw_b};

	if (rc <= 0)
		return rc;
	if (roost_aid_gen(a) == 0 || roost_aid_gen(b) == 0 ||
	    roost_aid_slot(a) >= nslots || roost_aid_slot(b) >= nslots ||
	    a.id == b.id) {
		*why = "bad address";
		return -1;
	}
	if (r->kw_ref >= ROOST_KEEP_REF_LIMIT) {
		*why = "bad reference";
		return -1;
	}
	return 1;
}

const char *
roost__keep_spec(struct roost__keep_copy *c, char **argv)
{
	char *p = (char *)c->kc_actor.ka_spec;
	const char *program = p;
	uint32_t i;

	for (i = 0; i <= c->kc_actor.ka_argc; i++) {
		if (i > 0)
			argv[i - 1] = p;
		p += strlen(p) + 1;
	}
	argv[c->kc_actor.ka_argc] = NULL;
	return program;
}

int
roost__keep_hdr_check(const struct roost__seg *seg, const char *system,
                      uint32_t uid, uint32_t nslots,
                      struct roost__keep_fixed *f)
{
	struct roost__keep_hdr *h = seg->sg_base;
	uint32_t owner;
	uint32_t state;

	if (seg->sg_len < ROOST_KEEP_HDR_SIZE)
		return ROOST_CORRUPT();
	/* Pairs with the release store of kh_state by its creator
	 * (tag-keep-publish). */
	state = roost__load_acq(&h->kh_state);
	if (state == ROOST_SEG_INIT)
		return -EAGAIN;
	if (state != ROOST_SEG_READY)
		return ROOST_CORRUPT();
	memcpy(f, (const void *)&h->kh_fixed, sizeof(*f)); /* trust only f */
	if (f->kf_magic != ROOST_KEEP_MAGIC ||
	    f->kf_version != ROOST_KEEP_VERSION ||
	    f->kf_hdr_size != ROOST_KEEP_HDR_SIZE ||
	    f->kf_actor_size != sizeof(struct roost__keep_actor) ||
	    f->kf_level_size != sizeof(struct roost__keep_level) ||
	    f->kf_watch_size != sizeof(struct roost__keep_watch) ||
	    f->kf_nslots != nslots || f->kf_nlevels != ROOST_KEEP_LEVELS ||
	    f->kf_nwatches != roost__keep_nwatches(nslots) ||
	    f->kf_map_size != roost__keep_map_size(nslots) ||
	    f->kf_map_size > seg->sg_len || f->kf_uid != uid ||
	    (f->kf_mode & ~0660u) != 0 || (f->kf_mode & 0600u) != 0600u)
		return ROOST_CORRUPT();
	if (memchr(f->kf_name, '\0', sizeof(f->kf_name)) == NULL ||
	    strcmp(f->kf_name, roost__system_owner(system, &owner)) != 0)
		return ROOST_CORRUPT();
	return 0;
}
