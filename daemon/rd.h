/* SPDX-License-Identifier: MIT */
/*
 * rd.h - roostd's state and the interfaces between its modules:
 *
 *   roostd.c    main: arguments and config, then run the system
 *   system.c    the one-roostd lock; create, adopt or clean the system
 *   start.c     from a system to the loop: tables, mailboxes, the
 *               config's actors in start order, or adoption
 *   loop.c      the main loop, until the shutdown has ended
 *   children.c  the child table: spawn, attach, exits, restart by policy,
 *               strategies and intensity
 *   stops.c     one stop per child as a state machine driven by the loop
 *               (graceful stop, SIGTERM, SIGKILL at each deadline)
 *   shutdown.c  the ordered shutdown, tier by tier, on those stops
 *   requests.c  requests from actors (core/sup/proto.h) and their replies
 *   notices.c   monitors and links, and the notices they produce
 *   watch.c     a thread watching processes that are not roostd's
 *               children (adopted actors, one-shots) through pidfds
 *   adopt.c     taking over a system whose roostd died
 *   audit.c     putting back what roostd owns in the system segment
 *   status.c    the supervisor table in shm for tools
 *   timers.c    alarms (timers.h)
 *   keep.c      the keep table: what adoption needs, written through
 *   limits.c    open files, processes and /dev/shm checked up front
 *   log.c       logging (stderr, or syslog-style lines to a file)
 *
 * roostd is single-threaded except for watch.c's thread, which only
 * hands pids over (under a mutex) and interrupts the main loop.
 */
#ifndef ROOSTD_RD_H
#define ROOSTD_RD_H

#include "config.h"
#include "core/sup/proto.h"

#include <stdarg.h>
#include <signal.h>
#include <sys/types.h>

enum { RD_ERR, RD_INFO, RD_DEBUG };

void rd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rd_log_set_level(int level);
void rd_log_to_syslog(const char *system);

/* How an actor's process is (re)started. */
struct rd_spec {
	char *sp_program;
	char **sp_argv;              /* NULL-terminated, owned */
	enum rd_restart sp_restart;
	bool sp_daemon;
	uint32_t sp_mbox_bytes;      /* 0: the system default */
	uint32_t sp_shutdown_ms;
};

enum rd_child_state {
	CH_STARTING,   /* forked, its mailbox not published yet */
	CH_RUNNING,
	CH_DOWN,       /* exited; waits for a restart by its strategy */
	CH_GONE        /* stopped for good, slot released */
};

/*
 * A stop in progress. The loop escalates it at each deadline; it ends
 * when the process is reaped (or its pidfd fires), never by waiting.
 */
enum rd_stop_phase {
	RD_STOP_NONE,
	RD_STOP_ASKING,   /* the user lane's lock was busy: ask again soon */
	RD_STOP_ASKED,    /* graceful stop sent; SIGTERM at the deadline */
	RD_STOP_TERM,     /* SIGTERM sent; SIGKILL at the deadline */
	RD_STOP_KILLED    /* SIGKILL sent; given up on at the deadline */
};

/* What a stop is for, which decides what its end means. */
enum rd_stop_for {
	RD_STOP_FOR_RESTART,  /* a sibling's strategy restart: SIGTERM first,
	                       * mail kept; it comes back if ch_stop_back */
	RD_STOP_FOR_SHUTDOWN, /* the ordered shutdown: graceful first */
	RD_STOP_FOR_END       /* a graceful stop someone else asked for: its
	                       * exit is judged like any exit (stopped) */
};

/* Start order key of actors started on request (roost_spawn, one-shots,
 * adopted without a spec): after every config actor. */
#define RD_ORDER_REQUESTED INT64_MAX

struct rd_child {
	char ch_name[ROOST_NAME_MAX + 1]; /* "" for an unnamed actor */
	struct rd_spec ch_spec;      /* unusable when ch_nospec */
	bool ch_nospec;              /* adopted with no known spec; one-shot */
	bool ch_oneshot;             /* roost_spawn_fn: never restarted */
	int ch_group;                /* index in rd.rd_groups */
	uint64_t ch_seq;             /* start order (ascending) */
	int64_t ch_order;            /* the config's order key: shutdown
	                              * stops equal keys together */
	enum rd_child_state ch_state;
	pid_t ch_pid;                /* 0: none */
	uint64_t ch_pid_start;       /* /proc start time, for non-children */
	bool ch_is_child;            /* reaped by waitpid; else watched */
	bool ch_in_slot;             /* ch_pid seen in its slot (a restart
	                              * is not until it reattached) */
	roost_aid_t ch_aid;          /* its address once attached */
	bool ch_kill;                /* roost_kill: do not restart */
	bool ch_stopping;            /* roost_stop() was called on it */
	uint64_t ch_t0;              /* fork time (spawn-to-ready) */
	int ch_exec_fd;              /* the exec's outcome pipe, or -1 */
	bool ch_listed;              /* in rd->rd_starting */
	uint64_t ch_attach_deadline;
	roost_aid_t ch_req_from;     /* a spawn request to answer, or 0 */
	uint64_t ch_req_corr;
	uint32_t ch_restarts;
	int ch_done_status;          /* a one-shot's last word (DONE) */
	bool ch_done_known;
	enum rd_stop_phase ch_stop;  /* RD_STOP_NONE unless stopping */
	enum rd_stop_for ch_stop_for;
	uint64_t ch_stop_due;        /* next step of the stop (ns) */
	uint64_t ch_stop_end;        /* while ASKING: when to give up */
	bool ch_stop_back;           /* a restart stop: it comes back */
	int ch_restart_level;        /* a strategy restart of this level
	                              * awaits its stop; -1: none */
};

/* Intensity bookkeeping of a supervision level (top or group). */
struct rd_level {
	uint64_t *lv_times;          /* ring of the last restart times */
	uint32_t lv_n;               /* restarts recorded */
	bool lv_failed;              /* the group gave up */
};

struct rd_monitor {
	uint64_t mo_ref;
	roost_aid_t mo_watcher;
	roost_aid_t mo_target;
	int mo_rec;                  /* its keep table record, -1: none */
};

struct rd_link {
	roost_aid_t li_a;
	roost_aid_t li_b;
	int li_rec;                  /* its keep table record, -1: none */
};

struct rd_timers;

struct rd {
	const char *rd_system;
	struct rd_config *rd_cfg;
	struct roost__sys rd_sy;
	roost_ctx_t *rd_ctx;         /* roostd's own mailbox ("roostd") */
	roost_ctx_t *rd_dead;        /* the dead-letter mailbox */
	struct rd_child *rd_kids;
	int rd_nkids;
	int rd_kids_cap;
	/* The children that may be CH_STARTING (rd_children_poll_attach
	 * keeps it to those that are), each once (ch_listed). */
	struct rd_child **rd_starting; /* rd_kids_cap entries */
	int rd_nstarting;
	uint64_t rd_attach_poll_ns;  /* between two walks of the table */
	uint64_t rd_attach_walk_ns;  /* the next walk, not before */
	struct rd_level rd_levels[RD_MAX_GROUPS + 1];
	uint64_t rd_next_seq;
	struct rd_timers *rd_timers;
	struct rd_monitor *rd_mons;
	int rd_nmons;
	int rd_mons_cap;
	struct rd_link *rd_links;
	int rd_nlinks;
	int rd_links_cap;
	uint64_t rd_next_ref;
	uint64_t rd_deadletters;     /* messages retired as poison */
	bool rd_stopping;            /* shutdown under way */
	int rd_nstopping;            /* children with ch_stop != NONE */
	uint64_t rd_stop_due;        /* at most their earliest ch_stop_due */
	int rd_exit;                 /* exit status when the loop ends */
};

/* The heartbeat's period: tools call a roostd whose beat is older than
 * ROOST_HEARTBEAT_STALE_NS hung. */
#define RD_HEARTBEAT_NS (100ull * 1000000u)
static_assert(RD_HEARTBEAT_NS * 4 <= ROOST_HEARTBEAT_STALE_NS,
              "tools must never take a live roostd for stale");

/* Signals, set by handlers (roostd.c) and read by the loop. */
extern volatile sig_atomic_t rd_sig_chld;
extern volatile sig_atomic_t rd_sig_stop;

/* system.c: take the one-roostd lock of 'system' (its shm name into
 * 'name'); the descriptor, held for life, or -1 (logged). */
int rd_lock_take(const char *system, char *name, size_t len);
/* Create the system, or find one to adopt, or clean a stale one.
 * Returns 0 (created), 1 (adopt it), -1 (logged). */
int rd_system_create_or_adopt(const char *name, const struct rd_config *cfg);

/* start.c: everything between a created (or adopted) system and the
 * loop. 0, or -1 (logged; what did start is stopped by the shutdown). */
int rd_start(struct rd *rd, bool adopt);
void rd_free(struct rd *rd);

/* loop.c: the main loop, until the shutdown has stopped every actor. */
void rd_loop(struct rd *rd);
/* Say roostd is alive (pid and time in the system header). */
void rd_heartbeat(struct roost__sys *sy);

/* limits.c: before the config's actors start, a clear error ("why")
 * instead of a partial start. rd_limits_check: open files (the soft
 * limit is raised to the hard one) and processes; rd_limits_check_shm:
 * room in /dev/shm for every mailbox, for a system being created.
 * rd_limits_restore: in a forked child, the soft open-files limit roostd
 * was given. */
int rd_limits_check(const struct rd_config *cfg, char *why, size_t len);
int rd_limits_check_shm(const struct rd_config *cfg, char *why, size_t len);
void rd_limits_restore(void);

/* audit.c: put back what roostd owns in the system segment if a stray
 * write changed it (the fixed header, its actors' and its own slots). */
void rd_audit(struct rd *rd);
/* The fixed header alone: before each spawn, so a child can open. */
void rd_audit_header(struct rd *rd);

/* children.c */
struct rd_child *rd_child_add(struct rd *rd, const char *name, int group);
struct rd_child *rd_child_by_aid(struct rd *rd, roost_aid_t aid);
struct rd_child *rd_child_by_pid(struct rd *rd, pid_t pid);
int rd_spec_copy(struct rd_spec *dst, const char *program,
                 char *const *argv, int argc);
void rd_spec_free(struct rd_spec *sp);
int rd_child_spawn(struct rd *rd, struct rd_child *ch);
/* Find the starting children that attached (one walk of the table), at
 * most every rd->rd_attach_poll_ns: children of this libroost say so
 * themselves (ATTACHED, rd_children_told_attached); the walk is for the
 * others. */
#define RD_ATTACH_POLL_NS (1000ull * 1000u)
void rd_children_poll_attach(struct rd *rd);
/* 'aid' says it attached (core/sup/proto.h, ATTACHED). */
void rd_children_told_attached(struct rd *rd, roost_aid_t aid);
bool rd_children_starting(const struct rd *rd);
void rd_children_reap(struct rd *rd);
/* A watched (non-child) process ended; status unknown. */
void rd_child_ended(struct rd *rd, struct rd_child *ch, int status,
                    bool known);
void rd_child_kill(struct rd *rd, struct rd_child *ch);
/* Resume every strategy restart whose stops are over (adoption). */
void rd_restarts_resume(struct rd *rd);
/* holder.c: the slot of 'ch' is held by a live process that is not
 * ch_pid (a restart started by a roostd that died before recording it):
 * follow that process as the actor, killing ch_pid. True if so. */
bool rd_child_follow_holder(struct rd *rd, struct rd_child *ch);
/* Send 'sig' to the process of 'ch' if it is still that process (pid
 * above 0, start time checked right before the kill); true if sent. */
bool rd_child_signal(const struct rd_child *ch, int sig);
/* False while the actor's user lane is open (roost_stop not called). */
bool rd_child_lane_shut(struct rd *rd, const struct rd_child *ch);

/* stops.c: a stop per child, driven by the loop (see enum
 * rd_stop_phase). Nothing here waits. */
/* Begin stopping 'ch' (no-op without a process). A stop already under
 * way keeps its phase and purpose, unless the new one is the shutdown. */
void rd_stop_begin(struct rd *rd, struct rd_child *ch, enum rd_stop_for why);
/* Someone else began a graceful stop of 'ch' (roost_stop, or the roostd
 * before an adoption): it is not restarted, and from here it runs the
 * actor's timeouts (SIGTERM, then SIGKILL) unless a stop of ours is
 * under way already; its exit is judged like any exit. */
void rd_stop_follow(struct rd *rd, struct rd_child *ch);
/* A strategy restart's stop that the roostd before an adoption began
 * (SIGTERM sent): it goes on with SIGKILL at the actor's timeout. */
void rd_stop_resume_restart(struct rd *rd, struct rd_child *ch);
/* Escalate every stop whose deadline passed. */
void rd_stops_tick(struct rd *rd, uint64_t now);
/* When the next stop's deadline comes (possibly a little early), if any
 * stop is under way. */
bool rd_stops_next_due(const struct rd *rd, uint64_t *due);
/* The process of 'ch', which is stopping, ended: the stop is over.
 * Returns what it was for. */
enum rd_stop_for rd_stop_end(struct rd *rd, struct rd_child *ch);

/* shutdown.c: advance the ordered shutdown (daemon-flagged actors at
 * once, then tier by tier in reverse start order, each tier's members
 * together). True once no actor process is left. */
bool rd_shutdown_step(struct rd *rd);

/* requests.c: requests from actors, and the operators' DRAIN. */
void rd_request(struct rd *rd, const roost_msg_t *m);
/* Handle requests from a receive's 'rc'/'m' on, without waiting, up to a
 * bound, or until one begins the shutdown. */
void rd_requests_handle(struct rd *rd, int rc, roost_msg_t *m);
/* Handle what is queued now (no waiting), a bounded number. */
void rd_requests_drain(struct rd *rd);
/* When a group may use the system, only programs of the config run: a
 * spawn request's, and a kept spec an adopter would run (adopt.c). */
bool rd_program_allowed(const struct rd *rd, const char *program);
void rd_reply(struct rd *rd, roost_aid_t to, uint64_t corr, int64_t rc,
              bool has_value, uint64_t value);

/* notices.c */
int rd_monitor_add(struct rd *rd, roost_aid_t watcher, roost_aid_t target,
                   uint64_t *ref);
int rd_monitor_remove(struct rd *rd, roost_aid_t watcher, uint64_t ref);
int rd_link_add(struct rd *rd, roost_aid_t a, roost_aid_t b);
int rd_link_remove(struct rd *rd, roost_aid_t a, roost_aid_t b);
/* 'ch' ended: notify its monitors and links; if it will not come back,
 * drop every watch that names it (as target or watcher). */
void rd_notify_down(struct rd *rd, const struct rd_child *ch, int status,
                    bool known, bool restarting, roost_exit_reason_t reason);
void rd_watches_forget(struct rd *rd, roost_aid_t aid);

/* Take back a monitor (ref != 0) or link kept in record 'rec'. */
void rd_watch_restore(struct rd *rd, int rec, uint64_t ref, roost_aid_t a,
                      roost_aid_t b);

/* keep.c: the keep table (core/shm/keep_table.h), written through on every
 * change of what it holds. */
struct roost__keep_copy;
/* Create it, or (adopt) take over and validate the old one. */
int rd_keep_open(struct rd *rd, bool adopt);
void rd_keep_close(void);
/* The record of the slot of 'ch' (cleared once it is gone). */
void rd_keep_child(struct rd *rd, const struct rd_child *ch);
void rd_keep_forget(struct rd *rd, roost_aid_t aid);
void rd_keep_level(struct rd *rd, int level);
/* A record for a watch: its index, -ENOSPC (full), -1 (no table). */
int rd_keep_watch_add(uint64_t ref, roost_aid_t a, roost_aid_t b);
void rd_keep_watch_free(int rec);
/* The ordered shutdown has begun (with rd_exit): before its first stop. */
void rd_keep_shutdown(struct rd *rd);
/* What the previous roostd left: its shutdown (and exit status), the
 * validated record of a slot's generation 'gen', its levels' windows,
 * its watches (each handed to 'fn'). */
bool rd_keep_shutting_down(int *exit_status);
bool rd_keep_actor_of(uint32_t slot, uint32_t gen, struct roost__keep_copy *c);
void rd_keep_restore_levels(struct rd *rd);
void rd_keep_restore_watches(struct rd *rd,
                             void (*fn)(struct rd *rd, int rec, uint64_t ref,
                                        roost_aid_t a, roost_aid_t b));
/* Before adopting: did the roostd that left 'system' begin its shutdown? */
bool rd_keep_shutdown_recorded(struct roost__sys *sy, const char *system);

/* watch.c */
int rd_watch_start(roost_ctx_t *wake);
/* Watch process 'pid' started at 'start' (/proc ticks). */
int rd_watch_add(pid_t pid, uint64_t start);
/* Next pid whose process ended, or 0. */
pid_t rd_watch_next_exit(void);
void rd_watch_stop(void);

/* adopt.c: take over 'rd->rd_system' whose roostd died. 0 or a negative
 * errno. */
int rd_adopt(struct rd *rd);

/* status.c: the supervisor table in shm for tools (shm_format.h),
 * brought up to date once per loop turn (created on the first call);
 * exits and dead letters that the child table does not keep. */
void rd_status_sync(struct rd *rd);
/* When the next rd_status_sync() pass may run. */
bool rd_status_due(uint64_t *due);
void rd_status_close(void);

void rd_status_exit(struct rd *rd, const struct rd_child *ch, int status,
                    bool known, roost_exit_reason_t reason);
void rd_status_deadletter(struct rd *rd, const struct rd_child *ch);

/* stats.c: roostd's counters in the alarm table's header, for scraping
 * (alarm lateness, spawn-to-ready time, restarts). Open after the alarm
 * table; a roostd without one counts nothing. */
void rd_stats_open(struct rd *rd);
void rd_stats_alarm(uint64_t late_ns);
void rd_stats_spawn(uint64_t ready_ns);
void rd_stats_restart(void);
void rd_stats_close(void);

/* metrics_http.c: the [metrics] HTTP endpoint, served from a thread of
 * its own through the view API (nothing here is shared with the loop).
 * Start: 0 (also when not configured) or -1 (logged). */
int rd_metrics_start(const char *system, const struct rd_metrics_cfg *mc);
void rd_metrics_stop(void);

#endif /* ROOSTD_RD_H */
