/* SPDX-License-Identifier: MIT */
/*
 * roost/view.h - looking inside a live system, for tools: counters of a
 * mailbox, views of the actor table and of queues, the systems of this
 * user, roostd's alarms and dead letters. roostctl is built on this and
 * <roost.h> alone. An actor needs none of it.
 */
#ifndef ROOST_VIEW_H
#define ROOST_VIEW_H

#include <roost.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Introspection (for tools): counters of one mailbox.
 */
typedef struct {
	uint64_t enqueued;      /* messages ever accepted */
	uint64_t dequeued;      /* messages ever consumed */
	uint64_t bytes_in;      /* payload bytes ever accepted */
	uint64_t used;          /* ring bytes in use now, both lanes */
	uint64_t capacity;      /* ring bytes, both lanes */
	uint64_t high_water;    /* most ring bytes ever seen in use */
	uint64_t blocked_sends; /* sends that found the mailbox full */
	uint64_t repaired;      /* half-written records dropped after a crash */
	uint64_t corrupt;       /* records skipped as corrupt */
	uint32_t queued;        /* messages queued now (both lanes) */
	uint64_t replaced;      /* times the owner moved it to a new segment
	                           (damage, or a sender stopped mid-send) */
	uint64_t lost;          /* damaged runs not carried over then */
} roost_mbox_stats_t;

ROOST_EXTERN int roost_mbox_stats(roost_ctx_t *ctx, roost_aid_t aid,
                                  roost_mbox_stats_t *out);

/* ---------------------------------------------------------------------
 * Looking inside a system, for tools (roostctl is built on this alone).
 *
 * A view maps a system's shared memory without attaching to it: it takes
 * no slot and has no mailbox, so the system does not see it. Looking
 * never changes what it looks at: the actor table is read with its
 * seqlock, counters with plain loads, and a mailbox's queue is copied out
 * under that mailbox's lock in short chunks (a few microseconds each;
 * senders wait at most that long, the receiver never takes the lock).
 * Everything read from shared memory is validated: damage gives
 * ROOST_ECORRUPT, never a crash or a read out of bounds. A view is not
 * thread-safe. Only the uid that owns a system can open it.
 */
typedef struct roost_view roost_view_t;

/* roost_sysinfo_t.state */
#define ROOST_SYS_LIVE     0u /* roostd runs; its heartbeat is fresh */
#define ROOST_SYS_HUNG     1u /* roostd's process exists, no heartbeat
                                 for 2 s (stopped or stuck) */
#define ROOST_SYS_ORPHANED 2u /* no roostd, but actors still run: a new
                                 roostd adopts them */
#define ROOST_SYS_STALE    3u /* no roostd and no live process: leftovers
                                 (roost_system_clean removes them) */

typedef struct {
	char name[ROOST_SYSTEM_NAME_MAX + 1];
	uint32_t state;            /* ROOST_SYS_* */
	int32_t roostd_pid;        /* last roostd, 0 if none ever ran */
	uint64_t heartbeat_age_ns; /* since roostd's last heartbeat */
	uint64_t created_unix_ns;  /* CLOCK_REALTIME at creation */
	uint32_t slots;            /* actor table size */
	uint32_t actors;           /* slots taken now */
	uint32_t live_actors;      /* ... whose process runs */
	uint32_t mbox_bytes;       /* default user-lane ring bytes */
	uint32_t max_msg;          /* largest payload */
	uint32_t mode;             /* permission bits of its objects */
	uint32_t uid;              /* owner */
	bool supervised;           /* roostd's supervisor table was read */
	uint64_t deadletters;      /* messages retired to the dead letters */
} roost_sysinfo_t;

/*
 * Map system 'name' (NULL: $ROOST_SYSTEM, else "default") for reading.
 * On success '*out' is a view the caller closes with roost_view_close().
 * Errors: -ENOENT no such system, -EACCES / -EPERM not this user's,
 * ROOST_ECORRUPT / ROOST_EVERSION a bad system segment, -EINVAL a bad
 * name, -EAGAIN still being created.
 */
ROOST_EXTERN int roost_view_open(roost_view_t **out, const char *name);
/* Unmap everything and free 'v'. NULL is a no-op. */
ROOST_EXTERN void roost_view_close(roost_view_t *v);

/* The system as it is now (state, roostd, sizes, dead letters). */
ROOST_EXTERN int roost_view_info(roost_view_t *v, roost_sysinfo_t *out);
ROOST_EXTERN const char *roost_sys_state_name(uint32_t state);

/* roost_actor_info_t.state */
#define ROOST_ACTOR_STARTING 1u /* its mailbox is being created */
#define ROOST_ACTOR_RUNNING  2u
#define ROOST_ACTOR_STOPPING 3u /* a graceful stop shut its user lane */
#define ROOST_ACTOR_DOWN     4u /* its process ended; roostd restarts it
                                   at the same address */
#define ROOST_ACTOR_DEAD     5u /* its process ended and nobody restarts
                                   it (yet) */

/* roost_actor_info_t.flags */
#define ROOST_ACTOR_F_SUPERVISED 0x1u /* address and mailbox outlive the
                                         process (ROOST_CTX_SUPERVISED) */
#define ROOST_ACTOR_F_ROOSTD     0x2u /* roostd supervises it: restart,
                                         restarts, group, last_* valid */
#define ROOST_ACTOR_F_DAEMON     0x4u /* shutdown kills it at once */
#define ROOST_ACTOR_F_ONESHOT    0x8u /* roost_spawn_fn: never restarted */

/* roost_actor_info_t.mbox_state and roost_mbox_info_t.state */
#define ROOST_MBOX_STATE_OPEN     0u
#define ROOST_MBOX_STATE_STOPPING 1u /* user lane shut: -ESHUTDOWN */
#define ROOST_MBOX_STATE_CLOSED   2u /* owner gone for good: -ESRCH */

typedef struct {
	roost_aid_t aid;
	char name[ROOST_NAME_MAX + 1];  /* "" if unnamed */
	int32_t pid;                    /* its process (the last one if it
	                                   ended) */
	uint32_t state;                 /* ROOST_ACTOR_* */
	uint32_t flags;                 /* ROOST_ACTOR_F_* */
	/* Valid with ROOST_ACTOR_F_ROOSTD, else zero / "". */
	uint32_t restart;               /* ROOST_RESTART_* */
	uint32_t restarts;              /* under supervision (carried over
	                                   an adoption by a new roostd) */
	uint32_t deadletters;           /* its messages retired as poison */
	uint64_t uptime_ns;             /* since its last (re)start */
	char group[ROOST_NAME_MAX + 1]; /* "" for the top level */
	char last_exit[16];             /* "normal", "exit", "signal",
	                                   "killed", "stopped", "lost",
	                                   "shutdown" (stopped by roostd for
	                                   a restart or the shutdown); "" if
	                                   it never ended */
	int32_t last_status;            /* exit status, or -1 */
	int32_t last_signal;            /* signal that ended it, or 0 */
	/* Its mailbox: mbox_err is 0, or why it could not be read
	 * (ROOST_ECORRUPT, -ENOENT, ...), and then the rest is zero. */
	int mbox_err;
	uint32_t mbox_state;            /* ROOST_MBOX_STATE_* */
	roost_mbox_stats_t mbox;
} roost_actor_info_t;

ROOST_EXTERN const char *roost_actor_state_name(uint32_t state);

/* Called once per actor; a non-zero return stops the walk and is
 * returned. 'a' is valid during the call. */
typedef int (*roost_view_actor_fn)(void *arg, const roost_actor_info_t *a);

/* Every taken slot, in slot order. Returns the number visited or an
 * error of the system segment. */
ROOST_EXTERN int roost_view_actors(roost_view_t *v, roost_view_actor_fn fn,
                                   void *arg);
/* One actor. -ESRCH if 'aid' names no live slot of that generation. */
ROOST_EXTERN int roost_view_actor(roost_view_t *v, roost_aid_t aid,
                                  roost_actor_info_t *out);
/*
 * Find an actor by 'spec': its registered name, or its address written
 * "SLOT.GEN" (as tools print it; a name wins if an actor is registered
 * under that very string; "@SLOT.GEN" is always an address). -ENOENT no
 * such name, -ESRCH no such address, -EINVAL neither.
 */
ROOST_EXTERN int roost_view_find(roost_view_t *v, const char *spec,
                                 roost_aid_t *out);
/* The name registered for 'kind' (roost_kind_register), or a built-in
 * one for roost's own kinds. -ENOENT if unnamed, -ENOBUFS too small. */
ROOST_EXTERN int roost_view_kind_name(roost_view_t *v, uint32_t kind,
                                      char *buf, size_t len);
/* The kind registered (or built in) under 'name'. -ENOENT if none. */
ROOST_EXTERN int roost_view_kind_lookup(roost_view_t *v, const char *name,
                                        uint32_t *kind);

/* roost_queued_t.flags: ROOST_MSG_* plus this one, for views only. */
#define ROOST_MSG_IN_HAND 0x100u /* the message its owner handles now */

/* One queued message, as copied out of the mailbox. */
typedef struct {
	unsigned lane;        /* ROOST_LANE_SYSTEM or ROOST_LANE_USER */
	uint64_t seq;         /* its position in the lane (bytes, grows) */
	roost_aid_t from;
	uint32_t kind;
	uint32_t flags;       /* ROOST_MSG_* and ROOST_MSG_IN_HAND */
	uint64_t corr;        /* correlation id, 0 if none */
	uint64_t age_ns;      /* since it was sent (coarse clock) */
	uint32_t size;        /* payload bytes */
	const void *data;     /* a private copy, valid during the call */
} roost_queued_t;

/* A mailbox's header. Arrays are indexed 0 system lane, 1 user lane. */
typedef struct {
	roost_aid_t aid;
	uint32_t state;             /* ROOST_MBOX_STATE_* */
	bool receiver_sleeping;     /* its owner waits in the kernel */
	uint32_t max_msg;           /* largest payload */
	uint32_t capacity[2];       /* ring bytes */
	uint64_t head[2];           /* positions (bytes, free-running) */
	uint64_t tail[2];
	uint32_t listed[2];         /* messages passed to the callback */
	bool truncated[2];          /* 'limit' ended the listing early */
	roost_mbox_stats_t stats;
} roost_mbox_info_t;

typedef int (*roost_view_msg_fn)(void *arg, const roost_queued_t *q);

/*
 * The messages queued in the mailbox of 'aid' on 'lanes'
 * (ROOST_LANE_*), oldest first, system lane first: at most 'limit' per
 * lane (0: all), each passed to 'fn' (may be NULL) once the copy is
 * done and every lock released, so 'fn' may take its time. Messages
 * already taken out of order and ring padding are skipped. '*info' (may
 * be NULL) gets the header. Returns the number passed to 'fn', or
 * -ESRCH (no such actor), -ENOENT (no mailbox), ROOST_ECORRUPT (the
 * mailbox failed validation; nothing is passed), -ETIMEDOUT (its lock
 * stayed busy for a second), -ENOMEM, or the first non-zero return of
 * 'fn'. Messages its owner consumes while the copy runs may or may not
 * be listed; none is ever listed twice or out of order.
 */
ROOST_EXTERN int roost_view_queue(roost_view_t *v, roost_aid_t aid,
                                  unsigned lanes, uint32_t limit,
                                  roost_mbox_info_t *info,
                                  roost_view_msg_fn fn, void *arg);

/*
 * This user's systems in /dev/shm, then other users' systems shared with
 * us through a granted group (named "UID:NAME", as roost_view_open takes
 * them): fn(arg, info, err) once per system segment, where 'err' is 0
 * and 'info' filled, or why it could not be read (-EACCES,
 * ROOST_ECORRUPT, ...) and only info->name is set. Another user's system
 * we may not read is left out. Returns the number of systems listed or a
 * negative errno.
 */
typedef int (*roost_systems_fn)(void *arg, const roost_sysinfo_t *info,
                                int err);
ROOST_EXTERN int roost_systems_list(roost_systems_fn fn, void *arg);

/*
 * Remove every shared-memory object of system 'name' (as
 * roost_system_destroy), but only if it is stale: -EBUSY when roostd or
 * any actor process still runs, or another roostd holds its lock.
 */
ROOST_EXTERN int roost_system_clean(const char *name);

/* One of roostd's alarms, as its table holds it. */
typedef struct {
	uint64_t id;
	roost_aid_t to;
	roost_aid_t owner;         /* who started it; may be ROOST_AID_NONE */
	uint32_t kind;
	uint32_t flags;            /* ROOST_SEND_* it is sent with */
	int64_t due_in_ns;         /* until it fires next; < 0: overdue */
	uint64_t interval_ns;      /* 0: one-shot */
	uint64_t fired;            /* deliveries so far */
	uint32_t size;
	uint8_t data[ROOST_TIMER_DATA_MAX];
} roost_timer_info_t;

typedef int (*roost_timer_fn)(void *arg, const roost_timer_info_t *t);

/*
 * Pass every live alarm of the system to 'fn' (a non-zero return stops
 * and is returned), read from roostd's alarm table without asking
 * roostd (it need not run: alarms outlive it). Each is a consistent copy
 * of one entry; an alarm started or ended meanwhile may be missed.
 * Returns the number passed, -ENOENT (no table: roostd never ran, or the
 * table is being created), -EPERM, ROOST_ECORRUPT (a table that fails
 * validation), or -EINVAL.
 */
ROOST_EXTERN int roost_view_timers(roost_view_t *v, roost_timer_fn fn,
                                   void *arg);

/* roost_roostd_stats_t: alarm lateness buckets with a finite bound (the
 * last, unbounded one is 'alarms'). */
#define ROOST_LATENESS_BUCKETS 8

/* roostd's counters, kept in its alarm table for the system's life: a
 * roostd that adopts the system counts on. */
typedef struct {
	uint64_t alarms;          /* alarms delivered */
	uint64_t lateness_sum_ns; /* their lateness (delivery - due), summed */
	uint64_t lateness_bound_ns[ROOST_LATENESS_BUCKETS]; /* ascending */
	uint64_t lateness_le[ROOST_LATENESS_BUCKETS]; /* alarms at most that
	                                                 late (cumulative) */
	uint64_t spawns;          /* actors started that attached */
	uint64_t spawn_sum_ns;    /* their fork-to-ready times, summed */
	uint64_t restarts;        /* restarts of supervised actors */
} roost_roostd_stats_t;

/*
 * roostd's counters, read from its alarm table without asking it.
 * -ENOENT (no table: no roostd ever ran it), -EAGAIN (roostd kept
 * writing), ROOST_ECORRUPT (damaged: their checksum or the table's
 * header failed validation), or -EINVAL.
 */
ROOST_EXTERN int roost_view_roostd_stats(roost_view_t *v,
                                         roost_roostd_stats_t *out);

/* Ask roostd to receive and drop every queued dead letter; '*count'
 * (may be NULL) gets how many. */
ROOST_EXTERN int roost_deadletters_drain(roost_ctx_t *ctx,
                                         uint64_t *count);

#ifdef __cplusplus
}
#endif
#endif /* ROOST_VIEW_H */
