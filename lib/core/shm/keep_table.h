/* SPDX-License-Identifier: MIT */
/*
 * keep_table.h - the format of roostd's keep table: what only roostd's
 * memory held and an adopting roostd needs to supervise as the dead one
 * would have. roostd (daemon/keep.c) writes it through on every change;
 * the next roostd validates it record by record (here) and takes it over.
 *
 * FORMAT (version ROOST_KEEP_VERSION; docs/shm-format.md, "keep table",
 * is the long form)
 *
 * One object per system, /dev/shm/roost.UID.SYSTEM.keep, created O_EXCL
 * with the system's mode and granted group, removed with the system
 * (roost_system_destroy removes every "roost.UID.SYSTEM." object).
 * Native-endian, no pointers.
 *
 *   [struct roost__keep_hdr    ROOST_KEEP_HDR_SIZE (256) bytes]
 *   [struct roost__keep_actor  384 bytes x kf_nslots]   entry i: slot i
 *   [struct roost__keep_level  x kf_nlevels]            0 top, g [group]
 *   [struct roost__keep_watch  32 bytes x kf_nwatches]  monitors, links
 *
 * - Header: the creator writes kh_fixed once, then release-stores
 *   kh_state = ROOST_SEG_READY (tag-keep-publish). An adopter
 *   acquire-loads kh_state, copies kh_fixed, checks it against the
 *   constants, the mapped size, its uid, the system's name and slot
 *   count, and uses only its copy; a table that fails is replaced by a
 *   fresh one (everything in it lost, logged).
 * - kh_shutdown: 0, or ROOST_KEEP_SHUT_OK / ROOST_KEEP_SHUT_FAIL once the
 *   ordered shutdown has begun (exit 0 / exit 1 at its end). One aligned
 *   word, stored (release) before the first stop of the shutdown; any
 *   other value is refused (logged) and means no shutdown.
 * - kh_next_ref: monitor references are never reused: stored (relaxed;
 *   the writer's own stores all survive a kill) before a record holds the
 *   reference; an adopter raises it past every reference it finds,
 *   refusing one at or past ROOST_KEEP_REF_LIMIT.
 * - Records (actor, level, watch): a sequence word (odd while roostd
 *   writes the record: relaxed store, release fence, write, checksum,
 *   release store of the next even value; tag-keep-seq), a checksum over
 *   the record's fields (roost__keep_sum), then the fields. A free record
 *   is all zero. roostd is the only writer and single-threaded, so a kill
 *   interrupts at most one record: an odd sequence word with a checksum
 *   that fails is a torn record, dropped and logged; one whose checksum
 *   holds was whole (the kill came before the even store) and is kept.
 * - Every field of a kept record is range-checked (roost__keep_*_judge);
 *   restart times must not lie in the future and must ascend, so a
 *   scribbled window can never make an adopter escalate early.
 */
#ifndef ROOST_CORE_KEEP_TABLE_H
#define ROOST_CORE_KEEP_TABLE_H

#include "core/shm/shm_format.h"

#define ROOST_KEEP_SUFFIX   ".keep" /* after "/roost.UID.SYSTEM" */
#define ROOST_KEEP_MAGIC    0x5045454bu /* "KEEP" */
#define ROOST_KEEP_VERSION  1u
#define ROOST_KEEP_HDR_SIZE 256u
/* Levels: the top and up to 32 [group]s (roostd's RD_MAX_GROUPS). */
#define ROOST_KEEP_LEVELS   33u
/* A level's window holds intensity + 1 times; intensity is at most 1000
 * (roostd's config). */
#define ROOST_KEEP_TIMES    1001u
/* Bytes of an actor's spec: program, NUL, then each argument and NUL. */
#define ROOST_KEEP_SPEC_MAX 348u
/* Watch records: per slot, and at least. */
#define ROOST_KEEP_WATCHES_PER_SLOT 4u
#define ROOST_KEEP_WATCHES_MIN      4096u

/* Monitor references count up from 1 and never come near this: a
 * reference (or kh_next_ref) at or past it is a scribble, and trusting
 * it would wrap the next reference to 0, which names no monitor. */
#define ROOST_KEEP_REF_LIMIT (UINT64_C(1) << 62)

#define ROOST_KEEP_SHUT_NONE 0u
#define ROOST_KEEP_SHUT_OK   0x53485530u /* "0UHS": shutdown, exit 0 */
#define ROOST_KEEP_SHUT_FAIL 0x53485531u /* "1UHS": shutdown, exit 1 */

/* ka_flags */
#define ROOST_KEEP_A_USED     0x1u  /* the record describes an actor */
#define ROOST_KEEP_A_SPEC     0x2u  /* started by request: the spec is kept */
#define ROOST_KEEP_A_DAEMON   0x4u
#define ROOST_KEEP_A_KILL     0x8u  /* roost_kill: never restarted */
#define ROOST_KEEP_A_STOPPING 0x10u /* roost_stop: never restarted */
#define ROOST_KEEP_A_BACK     0x20u /* a restart stop: it comes back */
#define ROOST_KEEP_A_KNOWN    0x3fu

/* ka_stop: the stop under way when the record was written. */
#define ROOST_KEEP_STOP_NONE     0u
#define ROOST_KEEP_STOP_RESTART  1u /* a strategy restart of ka_level */
#define ROOST_KEEP_STOP_SHUTDOWN 2u
#define ROOST_KEEP_STOP_END      3u /* a graceful stop asked by another */

struct roost__keep_fixed {
	uint32_t kf_magic;
	uint32_t kf_version;
	uint32_t kf_hdr_size;    /* ROOST_KEEP_HDR_SIZE */
	uint32_t kf_actor_size;  /* sizeof(struct roost__keep_actor) */
	uint32_t kf_level_size;  /* sizeof(struct roost__keep_level) */
	uint32_t kf_watch_size;  /* sizeof(struct roost__keep_watch) */
	uint32_t kf_nslots;      /* = the system's sf_nslots */
	uint32_t kf_nlevels;     /* ROOST_KEEP_LEVELS */
	uint32_t kf_nwatches;    /* roost__keep_nwatches(kf_nslots) */
	uint32_t kf_uid;
	uint32_t kf_mode;
	uint32_t kf_pad;
	uint64_t kf_map_size;
	char kf_name[32];        /* the system, NUL-terminated */
};

struct roost__keep_hdr {
	struct roost__keep_fixed kh_fixed;
	roost__atomic_u32 kh_state;    /* ROOST_SEG_*; tag-keep-publish */
	roost__atomic_u32 kh_shutdown; /* ROOST_KEEP_SHUT_* */
	roost__atomic_u64 kh_next_ref; /* last monitor reference handed out */
	roost__atomic_i32 kh_owner_pid;
	uint32_t kh_pad0;
	uint8_t kh_pad[ROOST_KEEP_HDR_SIZE - sizeof(struct roost__keep_fixed) -
	               24];
};

/* The fields of an actor record, covered by ka_sum (the spec only as
 * far as ka_spec_len). No padding holes. */
struct roost__keep_actor_rec {
	uint32_t ka_gen;         /* slot generation it describes, != 0 */
	uint16_t ka_flags;       /* ROOST_KEEP_A_* */
	uint8_t ka_restart;      /* 0 permanent, 1 transient, 2 temporary */
	uint8_t ka_stop;         /* ROOST_KEEP_STOP_* */
	int16_t ka_level;        /* the level of a strategy restart it
	                          * awaits (stopping, or down), else -1 */
	uint16_t ka_group;       /* 0: top level */
	uint32_t ka_restarts;
	uint32_t ka_mbox_bytes;  /* 0: the system default, else
	                          * ROOST_RING_MIN..ROOST_RING_MAX */
	uint32_t ka_shutdown_ms;
	uint16_t ka_argc;        /* arguments in the spec (>= 1 with SPEC) */
	uint16_t ka_spec_len;    /* bytes of ka_spec used */
	uint8_t ka_spec[ROOST_KEEP_SPEC_MAX];
};

struct roost__keep_actor {
	roost__atomic_u32 ka_seq; /* odd while roostd writes; tag-keep-seq */
	uint32_t ka_sum;
	struct roost__keep_actor_rec ka_rec;
};

struct roost__keep_level_rec {
	uint32_t kl_cap;         /* ring size (intensity + 1); 0: unused */
	uint32_t kl_n;           /* restarts recorded since the reset */
	uint64_t kl_times[ROOST_KEEP_TIMES]; /* CLOCK_MONOTONIC, ring */
};

struct roost__keep_level {
	roost__atomic_u32 kl_seq;
	uint32_t kl_sum;
	struct roost__keep_level_rec kl_rec;
};

struct roost__keep_watch_rec {
	uint64_t kw_ref;         /* a monitor's reference; 0: a link */
	uint64_t kw_a;           /* watcher (monitor), one end (link) */
	uint64_t kw_b;           /* target (monitor), other end (link) */
};

struct roost__keep_watch {
	roost__atomic_u32 kw_seq;
	uint32_t kw_sum;
	struct roost__keep_watch_rec kw_rec;
};

static_assert(sizeof(struct roost__keep_hdr) == ROOST_KEEP_HDR_SIZE,
              "keep header");
static_assert(sizeof(struct roost__keep_actor) == 384, "keep actor");
static_assert(sizeof(struct roost__keep_actor_rec) % 8 == 0, "keep actor");
static_assert(sizeof(struct roost__keep_level) == 8024, "keep level");
static_assert(sizeof(struct roost__keep_watch) == 32, "keep watch");

/* Records a reader copied; whether it was torn (odd sequence word). */
struct roost__keep_copy {
	bool kc_torn;
	uint32_t kc_sum;
	union {
		struct roost__keep_actor_rec kc_actor;
		struct roost__keep_level_rec kc_level;
		struct roost__keep_watch_rec kc_watch;
	};
};

/* "/roost.UID.SYSTEM.keep". 0, -EINVAL or -ENAMETOOLONG. */
int roost__keep_shm_name(char *buf, size_t len, const char *system);

uint32_t roost__keep_nwatches(uint32_t nslots);
size_t roost__keep_map_size(uint32_t nslots);

/* The checksum of 'n' bytes of a record (never 0 for a used record is
 * not promised: a free record is all zero, sum included). */
uint32_t roost__keep_sum(const void *rec, size_t n);

/* Bytes of an actor record the checksum covers (its spec as far as
 * ka_spec_len, clamped). */
size_t roost__keep_actor_len(const struct roost__keep_actor_rec *r);
size_t roost__keep_level_len(const struct roost__keep_level_rec *r);

/* Pointers to the record arrays of a mapped table with 'f'. */
struct roost__keep_actor *roost__keep_actors(void *base);
struct roost__keep_level *roost__keep_levels(void *base,
                                             const struct roost__keep_fixed *f);
struct roost__keep_watch *roost__keep_watches(void *base,
                                              const struct roost__keep_fixed *f);

/* Copy a record (no concurrent writer: the adopter reads a dead
 * roostd's table). */
void roost__keep_actor_copy(const struct roost__keep_actor *e,
                            struct roost__keep_copy *c);
void roost__keep_level_copy(const struct roost__keep_level *e,
                            struct roost__keep_copy *c);
void roost__keep_watch_copy(const struct roost__keep_watch *e,
                            struct roost__keep_copy *c);

/*
 * Judge a copy: 1 kept, 0 free (all zero), -1 dropped with '*why'.
 * 'now' (CLOCK_MONOTONIC) bounds restart times; 'nslots' the levels'
 * and watches' addresses.
 */
int roost__keep_actor_judge(const struct roost__keep_copy *c,
                            const char **why);
int roost__keep_level_judge(const struct roost__keep_copy *c, uint64_t now,
                            const char **why);
int roost__keep_watch_judge(const struct roost__keep_copy *c,
                            uint32_t nslots, const char **why);

/* Split a kept actor's spec into 'argv' (ka_argc + 1 pointers into
 * 'c', NULL-terminated) and return its program. */
const char *roost__keep_spec(struct roost__keep_copy *c, char **argv);

/*
 * Validate the mapped header of 'seg' into 'f': the constants, the
 * mapped size, 'uid', 'system' and 'nslots'. 0, -EAGAIN (never
 * published) or ROOST_ECORRUPT.
 */
int roost__keep_hdr_check(const struct roost__seg *seg, const char *system,
                          uint32_t uid, uint32_t nslots,
                          struct roost__keep_fixed *f);

#endif /* ROOST_CORE_KEEP_TABLE_H */
