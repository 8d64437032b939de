/* SPDX-License-Identifier: MIT */
/*
 * roost.h - the whole supported API of libroost.
 *
 * roost gives C programs Erlang-style actors on one Linux machine. Every
 * actor is a process; its mailbox is a bounded ring in POSIX shared memory
 * guarded by a process-shared robust mutex. A message is copied into the
 * receiver's mailbox before roost_send() returns, so the sender may reuse
 * its buffer at once and no two processes ever share a mutable object.
 *
 * Conventions:
 *  - Every function that can fail returns 0 (or a count) on success and a
 *    negative errno, or one of the ROOST_E* codes below, on failure.
 *    roost_strerror() gives the text. No function exits or prints on the
 *    caller's behalf.
 *  - Handles are opaque. A roost_ctx_t is not thread-safe: use one per
 *    thread, or serialise calls on it.
 *  - Every time carries its unit in its name, one unit per family:
 *    timeouts (how long a call may wait) in milliseconds, '_ms' (-1: no
 *    limit, 0: never wait); alarm delays and intervals in microseconds,
 *    '_us'; times and ages read back from the system in nanoseconds,
 *    '_ns'.
 *  - Names go family first, verb second (roost_timer_start,
 *    roost_timer_cancel, roost_view_open), except the core verbs
 *    roost_send, roost_recv, roost_call and roost_reply.
 *  - Anything not declared here or in <roost/view.h> is private and may
 *    change.
 */
#ifndef ROOST_H
#define ROOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ROOST_STATIC) || !defined(__GNUC__)
#define ROOST_EXTERN
#else
#define ROOST_EXTERN __attribute__((visibility("default")))
#endif

#define ROOST_VERSION_MAJOR 0
#define ROOST_VERSION_MINOR 3
#define ROOST_VERSION_PATCH 0

/* Largest length of a system name, an actor name and a kind name (bytes,
 * without the terminating NUL). */
#define ROOST_SYSTEM_NAME_MAX 31
#define ROOST_NAME_MAX        47
#define ROOST_KIND_NAME_MAX   23

/* Errors of roost's own; they sit where no errno reaches. */
#define ROOST_ERRNO_MAP(XX)                                                  \
	XX(ECORRUPT, -4000, "shared memory failed validation (corrupted)")   \
	XX(EPROTO, -4001, "peer broke the shared-memory protocol")           \
	XX(EVERSION, -4002, "shared memory has an unknown layout version")   \
	XX(ESTALE, -4003, "system is stale (its owner is gone)")

enum {
#define ROOST__ERR_ENUM(name, val, text) ROOST_##name = (val),
	ROOST_ERRNO_MAP(ROOST__ERR_ENUM)
#undef ROOST__ERR_ENUM
};

/* Text for any code a roost function returns (negative errno or ROOST_E*).
 * The string is static; never free it. */
ROOST_EXTERN const char *roost_strerror(int err);
/* Symbolic name of a code, such as "EAGAIN" or "ROOST_ECORRUPT". Static. */
ROOST_EXTERN const char *roost_err_name(int err);

/*
 * An actor address: a mailbox slot plus a generation. It is a value and may
 * be copied into messages. A slot reused by a later actor gets a new
 * generation, so a send to the old address fails with -ESRCH.
 * The id 0 is never a valid address.
 *
 * Layout: generation in bits 32-63, node in bits 16-31 (0: this machine's
 * system; another value is the node id of another node, configured in
 * its roostd's [gateway] section), slot in bits 0-15. A send to another
 * node's address goes through this node's gateway (docs/distribution.md):
 * -EHOSTUNREACH when no gateway runs.
 */
typedef struct {
	uint64_t id;
} roost_aid_t;

#define ROOST_AID_NONE ((roost_aid_t){0})

/* Slot number and generation of an address (for display). The slot of a
 * remote address (node not 0) is above any local slot. */
ROOST_EXTERN uint32_t roost_aid_slot(roost_aid_t aid);
ROOST_EXTERN uint32_t roost_aid_gen(roost_aid_t aid);
/* The node of an address: 0 for this machine's system. */
ROOST_EXTERN uint32_t roost_aid_node(roost_aid_t aid);
static inline bool
roost_aid_eq(roost_aid_t a, roost_aid_t b)
{
	return a.id == b.id;
}

/* ---------------------------------------------------------------------
 * Systems. roostd creates and destroys a system; tests and single-binary
 * programs may do so directly.
 */
typedef struct {
	uint32_t slots;        /* actor table size; default 256, 1..16384 */
	uint32_t mbox_bytes;   /* default user-lane ring bytes per mailbox;
	                          default 64 KiB */
	uint32_t max_msg;      /* largest payload accepted anywhere; default
	                          8 KiB (every system lane holds two) */
	uint32_t mode;         /* permission bits of every object; default 0600;
	                          0660 to grant a group */
	int64_t gid;           /* the group granted access (objects are
	                          handed to it), or -1 (default): none */
	uint32_t unblock_ms;   /* a sender that holds a mailbox's lock this
	                          long (stopped mid-send) no longer blocks the
	                          others: the owner moves the mailbox to a new
	                          segment; default 1000, 10..600000 */
	uint32_t private_lanes; /* per mailbox, 0..4 (default 1): each
	                          lets one sender write without the lock
	                          (much faster fan-in) for a quarter of
	                          mbox_bytes more shared memory; the
	                          defaults keep a mailbox at 116 KiB */
} roost_sys_opts_t;

/* Fill 'o' with the defaults. */
ROOST_EXTERN void roost_sys_opts_init(roost_sys_opts_t *o);

/*
 * A system name is 1-31 characters of [A-Za-z0-9_-]. "UID:NAME" names the
 * system NAME of user UID: a member of the group that system grants
 * access to opens it that way.
 *
 * Create system 'name' (NULL: $ROOST_SYSTEM, else "default") in our own
 * namespace (-EPERM for another user's).
 * Returns -EEXIST if a system of that name exists for this user,
 * -EINVAL for a bad name or options.
 */
ROOST_EXTERN int roost_system_create(const char *name,
                                     const roost_sys_opts_t *opts);

/*
 * Remove every shared-memory object of system 'name': the system segment
 * and all mailboxes, including ones left by crashed processes. Processes
 * still attached keep their mappings but can no longer be reached by new
 * openers. Returns -ENOENT if nothing of that name existed.
 */
ROOST_EXTERN int roost_system_destroy(const char *name);

/* ---------------------------------------------------------------------
 * Contexts: a process's connection to a system, with its own mailbox.
 */
typedef struct roost_ctx roost_ctx_t;

/* roost_ctx_opts_t.flags */
#define ROOST_CTX_SUPERVISED 0x1u /* address and mailbox outlive the
                                     process (see 'reattach') */

typedef struct {
	const char *system;   /* NULL: $ROOST_SYSTEM, else "default" */
	const char *name;     /* register this name at open; NULL: none */
	uint32_t mbox_bytes;  /* 0: the system default */
	uint32_t spin_ns;     /* receive spin before sleeping; 0: default */
	uint32_t flags;       /* ROOST_CTX_* */
	/*
	 * Restart: take over the address 'reattach' (slot and generation)
	 * of a SUPERVISED actor whose process has exited, instead of getting
	 * a new one. Its mailbox is kept with everything queued; the message
	 * it was handling when it died comes first again, flagged
	 * ROOST_MSG_REDELIVERED. Its name is kept unless 'name' is set.
	 * Senders holding the address never notice. ROOST_AID_NONE: a new
	 * address (the default).
	 */
	roost_aid_t reattach;
} roost_ctx_opts_t;

ROOST_EXTERN void roost_ctx_opts_init(roost_ctx_opts_t *o);

/*
 * Fill 'o' from the environment roostd gives the actors it spawns:
 * ROOST_SYSTEM (system), ROOST_ACTOR (name), ROOST_SUPERVISED=1 (flag),
 * ROOST_REATTACH (the address to take over on a restart, as 16 hex
 * digits) and ROOST_MBOX_BYTES (mailbox size, decimal). Variables that are absent leave 'o' as it was; a malformed one
 * is -EINVAL and leaves 'o' unchanged. The strings stay owned by the
 * environment.
 */
ROOST_EXTERN int roost_ctx_opts_from_env(roost_ctx_opts_t *o);

/*
 * Attach to a system and create this process's mailbox. On success '*out'
 * is a new context the caller closes with roost_ctx_close(). Errors:
 * -ENOENT no such system, -ENOSPC actor table full, -EADDRINUSE name taken,
 * ROOST_ECORRUPT / ROOST_EVERSION for a bad system segment; with
 * 'reattach': -ESRCH no such address, -EBUSY its process still runs,
 * -EPERM it is not SUPERVISED.
 *
 * A SUPERVISED actor's slot is never reclaimed when its process dies; it
 * waits for a reattach (a restart) or for roost_ctx_close() by the
 * process that holds it.
 */
ROOST_EXTERN int roost_ctx_open(roost_ctx_t **out,
                                const roost_ctx_opts_t *opts);

/* Detach: the mailbox is closed (later sends get -ESRCH), its queued
 * messages are discarded, its name is released. NULL is a no-op. */
ROOST_EXTERN int roost_ctx_close(roost_ctx_t *ctx);

/* This context's own address. */
ROOST_EXTERN roost_aid_t roost_self(const roost_ctx_t *ctx);

/*
 * Make this context's blocking receive (the one in progress, or the next
 * one that would wait) return -EINTR. Async-signal-safe: a signal
 * handler may call it to wake a loop sleeping in roost_recv().
 */
ROOST_EXTERN void roost_ctx_interrupt(roost_ctx_t *ctx);

/* Typed run-time options by name: "spin-ns" (receive spin). */
ROOST_EXTERN int roost_ctx_set_int(roost_ctx_t *ctx, const char *opt,
                                   int64_t val);
ROOST_EXTERN int roost_ctx_get_int(roost_ctx_t *ctx, const char *opt,
                                   int64_t *val);

/* ---------------------------------------------------------------------
 * Names and kinds.
 */

/* Register 'name' for 'aid' (usually roost_self()). -EADDRINUSE if taken,
 * -EINVAL if empty, longer than ROOST_NAME_MAX or holding '@' (reserved
 * for name@node), -ESRCH if 'aid' is stale. One actor has at most one
 * name; registering again replaces it. */
ROOST_EXTERN int roost_register(roost_ctx_t *ctx, const char *name,
                                roost_aid_t aid);
/* Remove 'name'. -ENOENT if nobody holds it. */
ROOST_EXTERN int roost_unregister(roost_ctx_t *ctx, const char *name);
/* Look 'name' up. -ENOENT if nobody holds it.
 * "name@node" asks node 'node' through this node's gateway, waiting at
 * most 2 s (it is a call: a previous roost_call's reply view ends), and
 * gives an address of that node: -EHOSTUNREACH unknown node or no
 * gateway, -ENOTCONN the node is down or the gateway not connected,
 * -ENOENT no such name there, -ETIMEDOUT no answer, -EINVAL a bad name
 * or node name. "name@" this very node gives the local address. */
ROOST_EXTERN int roost_whereis(roost_ctx_t *ctx, const char *name,
                               roost_aid_t *out);

/* Give message kind 'kind' a display name for tools. Registering the same
 * pair again is fine; a different name for a named kind is -EEXIST. */
ROOST_EXTERN int roost_kind_register(roost_ctx_t *ctx, uint32_t kind,
                                     const char *name);
/* Copy the display name of 'kind' into 'buf'. -ENOENT if unnamed. */
ROOST_EXTERN int roost_kind_name(roost_ctx_t *ctx, uint32_t kind, char *buf,
                                 size_t len);

/* ---------------------------------------------------------------------
 * Sending. The payload is copied into the receiver's mailbox before the
 * call returns; the caller keeps ownership of 'data' in every case.
 *
 * 'timeout_ms': -1 waits as long as the mailbox stays full, 0 never waits.
 * Errors: -ESRCH stale or unknown address, -EHOSTUNREACH an address of
 * another node and no gateway runs, -EMSGSIZE never fits (to another
 * node: with 16 bytes more),
 * -EAGAIN full (timeout 0), -ETIMEDOUT still full at the deadline,
 * -ESHUTDOWN the receiver is stopping and takes no more user messages,
 * ROOST_ECORRUPT the receiver's mailbox failed validation. Sending to
 * one's own full mailbox never waits (nobody else can make room): it is
 * -EAGAIN for timeout 0 and -EDEADLK otherwise.
 */
#define ROOST_SEND_SYSTEM  0x1u  /* use the system lane (served first) */
#define ROOST_SEND_MSGPACK 0x2u  /* payload is MessagePack (tools decode) */

ROOST_EXTERN int roost_send(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind,
                            const void *data, size_t size, int timeout_ms);
ROOST_EXTERN int roost_try_send(roost_ctx_t *ctx, roost_aid_t to,
                                uint32_t kind, const void *data,
                                size_t size);
ROOST_EXTERN int roost_send_name(roost_ctx_t *ctx, const char *name,
                                 uint32_t kind, const void *data, size_t size,
                                 int timeout_ms);
/* Full form: 'flags' from ROOST_SEND_*, 'corr' a correlation id carried
 * in the envelope (replies use it to name their request). */
ROOST_EXTERN int roost_send_ex(roost_ctx_t *ctx, roost_aid_t to,
                               uint32_t kind, uint32_t flags, uint64_t corr,
                               const void *data, size_t size, int timeout_ms);

/* One message of a batch. */
typedef struct {
	uint32_t kind;
	uint32_t flags;   /* ROOST_SEND_SYSTEM, ROOST_SEND_MSGPACK */
	const void *data;
	size_t size;
} roost_batch_msg_t;

/*
 * Send 'n' messages to 'to', in order, copying as many as fit under one
 * lock of its mailbox at a time (one lock and one wake-up for the lot,
 * where roost_send takes one per message). '*sent' (may be NULL) is how
 * many were sent, each delivered once, whatever the return: 0 when all
 * were, else the error that stopped the rest, as for roost_send (a full
 * mailbox: -EAGAIN or -ETIMEDOUT with the first '*sent' queued). A
 * message that can never fit is -EMSGSIZE before any is sent. To
 * another node's actor the messages go to the gateway one by one, in
 * order (docs/distribution.md).
 */
ROOST_EXTERN int roost_send_batch(roost_ctx_t *ctx, roost_aid_t to,
                                  const roost_batch_msg_t *msgs, size_t n,
                                  int timeout_ms, size_t *sent);

/*
 * Message kinds from ROOST_KIND_RESERVED_MIN up are roost's own (stop,
 * notices, replies, requests to roostd; their names are shown by tools
 * as roost.* and roostd.*). An application's kinds are below it.
 */
#define ROOST_KIND_RESERVED_MIN 0xffffff00u

/*
 * Graceful stop. Marks the end of the target's user lane now (later user
 * sends get -ESHUTDOWN) and sends it ROOST_KIND_STOP on the system lane,
 * so it is seen at once. The target should handle everything queued
 * before the mark (roost_recv until -EAGAIN) and then close. For an
 * actor of roostd's stopped by another, roostd holds the stop to the
 * actor's shutdown timeout: SIGTERM after it, then SIGKILL after it
 * again. -ESRCH for a
 * stale address, -EALREADY if it is already stopping.
 */
#define ROOST_KIND_STOP 0xffffff01u

ROOST_EXTERN int roost_stop(roost_ctx_t *ctx, roost_aid_t aid);

/* ---------------------------------------------------------------------
 * Receiving. A received message is a view into the mailbox: it stays
 * valid, and stays counted as queued, until the next receive call on the
 * same context (or roost_ctx_close). Nothing is copied on receive.
 */
typedef struct roost_msg roost_msg_t;

#define ROOST_MSG_SYSTEM      0x1u  /* arrived on the system lane */
#define ROOST_MSG_MSGPACK     0x2u  /* payload is MessagePack */
#define ROOST_MSG_REDELIVERED 0x4u  /* handed out before; the handler died */
#define ROOST_MSG_REPLY       0x8u  /* an answer sent with roost_reply() */

ROOST_EXTERN roost_aid_t roost_msg_from(const roost_msg_t *m);
ROOST_EXTERN uint32_t roost_msg_kind(const roost_msg_t *m);
ROOST_EXTERN uint32_t roost_msg_flags(const roost_msg_t *m);
ROOST_EXTERN uint64_t roost_msg_corr(const roost_msg_t *m);
ROOST_EXTERN const void *roost_msg_data(const roost_msg_t *m);
ROOST_EXTERN size_t roost_msg_size(const roost_msg_t *m);

/*
 * Take the next message: system lane first, then user lane, FIFO within
 * each. 'timeout_ms' as for send. On success '*out' points at a view owned
 * by 'ctx'. Errors: -ETIMEDOUT (-EAGAIN for timeout 0), ROOST_ECORRUPT
 * (the damaged records were skipped and counted; the next call goes on).
 */
ROOST_EXTERN int roost_recv(roost_ctx_t *ctx, roost_msg_t **out,
                            int timeout_ms);

/* A predicate for selective receive: return true to take 'm'. */
typedef bool (*roost_match_fn)(const roost_msg_t *m, void *arg);

#define ROOST_LANE_SYSTEM 0x1u
#define ROOST_LANE_USER   0x2u
#define ROOST_LANE_ANY    0x3u

/*
 * Selective receive: the oldest message on 'lanes' for which 'match'
 * returns true. Messages it passes over stay queued, in order, for later
 * receives. Scanning only ROOST_LANE_SYSTEM never touches the user
 * backlog, however long it is.
 */
ROOST_EXTERN int roost_recv_match(roost_ctx_t *ctx, roost_msg_t **out,
                                  unsigned lanes, roost_match_fn match,
                                  void *arg, int timeout_ms);

/* ---------------------------------------------------------------------
 * Request and reply.
 *
 * roost_call sends a request (user lane unless 'flags' has
 * ROOST_SEND_SYSTEM) with a fresh correlation id and waits up to
 * 'timeout_ms' for the answer, which the callee sends with roost_reply
 * and which arrives on the caller's system lane: matching it never scans
 * the caller's user backlog, and the message the caller is handling
 * stays in hand (a handler may call). On success '*reply' is a copy that
 * stays valid until the next roost_call on this context. -ETIMEDOUT when
 * no answer came in time; an answer that comes later is dropped and
 * counted ("late-replies" in roost_ctx_get_int), never handed to a later
 * call. -EDEADLK for a call to oneself. A call to another node's actor
 * also returns what stopped it on the way (docs/distribution.md):
 * -ENOTCONN node down, -EHOSTUNREACH unknown node, -ESRCH stale remote
 * address, -EAGAIN/-ETIMEDOUT the remote mailbox stayed full, -EMSGSIZE
 * over the NATS server's max_payload.
 */
ROOST_EXTERN int roost_call(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind,
                            uint32_t flags, const void *data, size_t size,
                            int timeout_ms, roost_msg_t **reply);

/*
 * Selective receive that keeps the message in hand: like
 * roost_recv_match, but the message taken is copied out and consumed at
 * once, and the message this context was handling stays in hand (still
 * valid, still answerable with roost_reply, still the one redelivered
 * after a crash). A handler waits this way for a message it needs to
 * finish (say, a third actor's answer mid-transaction). '*out' stays
 * valid until the next roost_recv_aside or roost_call. 'match' NULL takes
 * the oldest message of 'lanes'.
 */
ROOST_EXTERN int roost_recv_aside(roost_ctx_t *ctx, roost_msg_t **out,
                                  unsigned lanes, roost_match_fn match,
                                  void *arg, int timeout_ms);

/*
 * Answer 'req' (its sender, its correlation id) on the sender's system
 * lane, flagged ROOST_MSG_REPLY. 'flags': 0 or ROOST_SEND_MSGPACK. Waits
 * at most 100 ms for room. -EINVAL if 'req' was not sent by roost_call
 * (its correlation id is 0).
 */
ROOST_EXTERN int roost_reply(roost_ctx_t *ctx, const roost_msg_t *req,
                             uint32_t kind, uint32_t flags, const void *data,
                             size_t size);

/* ---------------------------------------------------------------------
 * Typed payloads: MessagePack, built from a format string and sent
 * flagged ROOST_SEND_MSGPACK (tools then show it as JSON). One value per
 * message; spaces, ',' and ':' in the format are only for the eye.
 *
 *   i int        I int64_t     u unsigned   U uint64_t    d double
 *   b bool (an int)            n nil        s const char * (a string)
 *   y const void *, size_t (bytes)          [ ... ] array
 *   { s value ... } map with string keys
 *
 *   roost_send_packed(ctx, bank, DEPOSIT, -1, "{s:s, s:I}",
 *                     "account", "alice", "amount", (int64_t)50);
 *
 * Errors besides the send's: -EINVAL for a malformed format.
 */
ROOST_EXTERN int roost_send_packed(roost_ctx_t *ctx, roost_aid_t to,
                                   uint32_t kind, int timeout_ms,
                                   const char *fmt, ...);
ROOST_EXTERN int roost_reply_packed(roost_ctx_t *ctx, const roost_msg_t *req,
                                    uint32_t kind, const char *fmt, ...);
ROOST_EXTERN int roost_call_packed(roost_ctx_t *ctx, roost_aid_t to,
                                   uint32_t kind, int timeout_ms,
                                   roost_msg_t **reply, const char *fmt, ...);
/* Pack into 'buf' (say, for roost_timer_start): the byte count, or
 * -ENOBUFS when it does not fit in 'len'. */
ROOST_EXTERN int roost_pack(void *buf, size_t len, const char *fmt, ...);

/*
 * True if 'data' holds exactly one MessagePack value whose containers
 * never declare more elements than bytes remain. Decoders allocate what
 * containers declare, so check a peer's bytes with this before handing
 * them to msgpack-c (the readers below do).
 */
ROOST_EXTERN bool roost_msgpack_valid(const void *data, size_t size);

/*
 * Read the field 'key' of a MessagePack map payload. -ENOENT no such key,
 * ROOST_EPROTO not MessagePack, not a map, or another type, -ERANGE the
 * number does not fit, -ENOBUFS the string does not fit 'len' (with its
 * NUL). Bytes are a view into the message (valid while it is).
 */
ROOST_EXTERN int roost_msg_get_int(const roost_msg_t *m, const char *key,
                                   int64_t *out);
ROOST_EXTERN int roost_msg_get_uint(const roost_msg_t *m, const char *key,
                                    uint64_t *out);
ROOST_EXTERN int roost_msg_get_double(const roost_msg_t *m, const char *key,
                                      double *out);
ROOST_EXTERN int roost_msg_get_bool(const roost_msg_t *m, const char *key,
                                    bool *out);
ROOST_EXTERN int roost_msg_get_str(const roost_msg_t *m, const char *key,
                                   char *buf, size_t len);
ROOST_EXTERN int roost_msg_get_bin(const roost_msg_t *m, const char *key,
                                   const void **data, size_t *size);

/* ---------------------------------------------------------------------
 * Methods as messages: a run loop that dispatches each message by kind
 * to a handler over the actor's private state. Only this loop touches
 * the state, so no handler needs a lock.
 */

/* What a handler returns. */
#define ROOST_CONTINUE 0 /* go on */
#define ROOST_COMPLETE 1 /* end gracefully: the user lane is shut now
                            (later sends get -ESHUTDOWN), what was queued
                            before is still handled, then the run ends */

/* A handler: 'm' is valid until it returns. A negative return ends the
 * run at once with that error. */
typedef int (*roost_handler_fn)(roost_ctx_t *ctx, void *state,
                                const roost_msg_t *m);

typedef struct {
	uint32_t kind;
	roost_handler_fn fn;
} roost_handler_t;

typedef struct {
	/* Called once before the first message; a negative return ends
	 * the run with that error (stop is not called). Optional. */
	int (*init)(roost_ctx_t *ctx, void *state);
	/* Called once when the run ends, with 0 or the error it ends with.
	 * Optional. */
	void (*stop)(roost_ctx_t *ctx, void *state, int reason);
	/* Handlers, ended by one whose fn is NULL. */
	const roost_handler_t *handlers;
	/* For user-lane kinds without a handler. NULL: the message goes to
	 * the system's dead letters (the actor named "deadletters", when
	 * one runs) and is counted ("unhandled" in roost_ctx_get_int). */
	roost_handler_fn unknown;
} roost_behaviour_t;

/*
 * Run 'b' over 'state' until the actor is stopped (ROOST_KIND_STOP: the
 * backlog queued before the stop is handled first), a handler returns
 * ROOST_COMPLETE (likewise) or an error, or roost_ctx_interrupt() is
 * called (-EINTR). System-lane messages go to their kind's handler when
 * there is one (DOWN and EXIT notices, say), else they are counted as
 * unhandled. Returns 0 after a graceful end. The caller still closes the
 * context.
 */
ROOST_EXTERN int roost_run(roost_ctx_t *ctx, const roost_behaviour_t *b,
                           void *state);

/* ---------------------------------------------------------------------
 * roostd: spawning, supervision notices, alarms and shutdown.
 *
 * These calls ask the system's roostd (the actor named "roostd") and wait
 * for its answer, which arrives on this context's system lane and is taken
 * aside: a message the caller is handling stays in hand. They wait at
 * most ROOST_ROOSTD_TIMEOUT_MS (roost_spawn: its own timeout). Errors
 * besides their own: -ENOTCONN no roostd runs, -ETIMEDOUT no answer.
 */
#define ROOST_ROOSTD_TIMEOUT_MS 5000

/* Restart policies (as in the config). */
#define ROOST_RESTART_PERMANENT 0u /* always restarted */
#define ROOST_RESTART_TRANSIENT 1u /* restarted after an abnormal exit */
#define ROOST_RESTART_TEMPORARY 2u /* never restarted */

/* roost_spawn_opts_t.flags */
#define ROOST_SPAWN_DAEMON 0x1u /* shutdown kills it at once, never waits */

/* The shutdown timeout of an actor that names none (roostd's config
 * default too). */
#define ROOST_SHUTDOWN_MS_DEF 5000u

typedef struct {
	const char *program;        /* absolute path of the executable */
	const char *const *argv;    /* NULL-terminated, argv[0] first;
	                               NULL: { program, NULL } */
	const char *name;           /* register it under this name; NULL: none */
	unsigned restart;           /* ROOST_RESTART_*; default PERMANENT */
	uint32_t flags;             /* ROOST_SPAWN_* */
	uint32_t mbox_bytes;        /* 0: the system default */
	uint32_t shutdown_ms;       /* graceful stop, then SIGTERM, then
	                               SIGKILL, each after this; default
	                               ROOST_SHUTDOWN_MS_DEF */
	int timeout_ms;             /* wait for the child to attach; 5000 */
} roost_spawn_opts_t;

ROOST_EXTERN void roost_spawn_opts_init(roost_spawn_opts_t *o);

/*
 * Ask roostd to start 'program' as a supervised actor (one-for-one under
 * the top level). Returns once the child has attached, with its address
 * in '*out'. Errors: the exec's own (-ENOENT, -EACCES, -ENOEXEC, ...),
 * -EPERM when the system grants group access and 'program' is not in its
 * config, -EADDRINUSE name taken, -ETIMEDOUT the child never attached
 * (it is killed), -ECHILD it exited before attaching, -ENOSPC table full,
 * -ESHUTDOWN the system is shutting down.
 */
ROOST_EXTERN int roost_spawn(roost_ctx_t *ctx, const roost_spawn_opts_t *o,
                             roost_aid_t *out);

/*
 * A one-shot actor: fork the caller; the child opens its own context on
 * the same system (registered as 'name' if not NULL), asks roostd to
 * watch it, runs fn(child_ctx, arg) and exits with fn's return value
 * (0..255) when it returns. It is never restarted; monitors and links
 * see it end. ROOST_SPAWN_DAEMON in 'flags': shutdown kills it at once
 * instead of waiting for it. As after any fork(), the child has one
 * thread. Returns the child's address in '*out' once it is watched.
 */
typedef int (*roost_actor_fn)(roost_ctx_t *ctx, void *arg);

ROOST_EXTERN int roost_spawn_fn(roost_ctx_t *ctx, roost_actor_fn fn,
                                void *arg, const char *name, uint32_t flags,
                                roost_aid_t *out);

/* Kill the actor at 'aid' now (SIGKILL) and for good: it is not
 * restarted. -ESRCH stale address, -EPERM not one of roostd's actors. */
ROOST_EXTERN int roost_kill(roost_ctx_t *ctx, roost_aid_t aid);

/* Ask roostd to shut the whole system down (as on SIGTERM). */
ROOST_EXTERN int roost_shutdown(roost_ctx_t *ctx);

/*
 * Alarms, fired by roostd into the mailbox of 'to' (user lane) after
 * 'delay_us' microseconds, then, if 'interval_us' is not 0, every
 * 'interval_us' (missed ticks are skipped, never sent in a burst). They
 * survive restarts of the target and are dropped when it stops for good.
 * The payload is copied; at most ROOST_TIMER_DATA_MAX bytes (-EMSGSIZE).
 * '*timer_id' (may be NULL) names it for roost_timer_cancel(). -ENOSPC
 * when roostd's alarm table is full.
 */
#define ROOST_TIMER_DATA_MAX 192

ROOST_EXTERN int roost_send_after(roost_ctx_t *ctx, roost_aid_t to,
                                  uint64_t delay_us, uint32_t kind,
                                  const void *data, size_t size,
                                  uint64_t *timer_id);
ROOST_EXTERN int roost_send_interval(roost_ctx_t *ctx, roost_aid_t to,
                                     uint64_t delay_us, uint64_t interval_us,
                                     uint32_t kind, const void *data,
                                     size_t size, uint64_t *timer_id);
/* Full form: 'flags' from ROOST_SEND_* (ROOST_SEND_MSGPACK, ...). */
ROOST_EXTERN int roost_timer_start(roost_ctx_t *ctx, roost_aid_t to,
                                   uint64_t delay_us, uint64_t interval_us,
                                   uint32_t kind, uint32_t flags,
                                   const void *data, size_t size,
                                   uint64_t *timer_id);
/* -ENOENT if it already fired (one-shot), was cancelled or never was. */
ROOST_EXTERN int roost_timer_cancel(roost_ctx_t *ctx, uint64_t timer_id);

/*
 * Monitors and links. Each time the process behind a watched address
 * ends, roostd sends a notice on the watcher's system lane:
 * ROOST_KIND_DOWN to monitors (with the monitor's ref), ROOST_KIND_EXIT
 * to linked actors (ref 0). A restarted actor keeps its address, so the
 * watch stays; the notice of its last end says restarting = false, and
 * the watch ends with it. A link is both ways. -ESRCH for a stale
 * address, -EPERM for one that is not one of roostd's actors (nothing
 * would report its end), -ENOSPC past 1024 monitors per watcher.
 * A monitor of another node's actor is kept by the gateways
 * (docs/distribution.md): its ref has bit 63 set; its DOWN says why the
 * actor ended, or reason "noconnection" when its node was lost (silent,
 * or its gateway restarted), or "lost" when it did not exist. A link to
 * another node's actor is kept by the gateways the same way: EXIT with
 * the remote reason, "noconnection" or "lost".
 */
#define ROOST_KIND_DOWN 0xffffff02u
#define ROOST_KIND_EXIT 0xffffff03u

/*
 * A plain send (not a call, not a reply) to another node's actor that
 * could not be delivered (node unknown or down, no such actor there,
 * its mailbox full for 2 s, too large for NATS): the gateways send the
 * sender a ROOST_KIND_UNDELIVERED notice on its system lane, from the
 * target's address, its payload a roost_undelivered_t (host order). A
 * call gets the error as its result instead (roost_call).
 */
#define ROOST_KIND_UNDELIVERED 0xffffff05u

typedef struct {
	int32_t err;   /* negative errno: why */
	uint32_t kind; /* the undelivered message's kind */
} roost_undelivered_t;

ROOST_EXTERN int roost_monitor(roost_ctx_t *ctx, roost_aid_t target,
                               uint64_t *ref);
ROOST_EXTERN int roost_demonitor(roost_ctx_t *ctx, uint64_t ref);
ROOST_EXTERN int roost_link(roost_ctx_t *ctx, roost_aid_t peer);
ROOST_EXTERN int roost_unlink(roost_ctx_t *ctx, roost_aid_t peer);

/*
 * Why an actor ended, as notices and tools say it: a code, and its text
 * from roost_exit_reason_name() (the text travels in notices).
 */
#define ROOST_EXIT_REASONS(X)                                             \
	X(NORMAL, 0, "normal")     /* exited 0 */                         \
	X(EXIT, 1, "exit")         /* exited with another status */       \
	X(SIGNAL, 2, "signal")     /* killed by a signal */               \
	X(KILLED, 3, "killed")     /* roost_kill() */                     \
	X(STOPPED, 4, "stopped")   /* roost_stop(), a graceful stop */    \
	X(LOST, 5, "lost")         /* ended, status unknown (not roostd's  \
	                              child) */                           \
	X(SHUTDOWN, 6, "shutdown") /* the system shut down */             \
	X(NOCONNECTION, 7, "noconnection") /* its node vanished */        \
	X(NOATTACH, 8, "never attached")   /* ended before it attached */

typedef enum {
#define ROOST_EXIT_ENUM(name, num, text) ROOST_EXIT_##name = num,
	ROOST_EXIT_REASONS(ROOST_EXIT_ENUM)
#undef ROOST_EXIT_ENUM
} roost_exit_reason_t;

/* The text of 'r' ("normal", "signal", ...); "?" for no reason known. */
ROOST_EXTERN const char *roost_exit_reason_name(roost_exit_reason_t r);

typedef struct {
	roost_aid_t aid;       /* who ended */
	uint64_t ref;          /* the monitor's ref (DOWN); 0 for EXIT */
	int32_t pid;           /* its process */
	int32_t status;        /* exit status, or -1 if killed by a signal
	                          or unknown */
	int32_t signal;        /* the signal that killed it, or 0 */
	bool restarting;       /* roostd restarts it at the same address */
	char name[ROOST_NAME_MAX + 1];  /* its name, or "" */
	roost_exit_reason_t reason;
} roost_notice_t;

/* Decode a ROOST_KIND_DOWN / ROOST_KIND_EXIT message. ROOST_EPROTO if it
 * is not a well-formed notice. */
ROOST_EXTERN int roost_notice_decode(const roost_msg_t *m,
                                     roost_notice_t *out);

/* The read-only view API for tools (actor table, queues, counters,
 * systems, alarms, dead letters) is in <roost/view.h>. */

/* The library's version, "MAJOR.MINOR.PATCH" (static). */
ROOST_EXTERN const char *roost_version(void);

#ifdef __cplusplus
}
#endif
#endif /* ROOST_H */
