/* SPDX-License-Identifier: MIT */
/*
 * kinds.h - the message kinds roost reserves, from one list. Replies and
 * the gateway's kinds are messaging; the requests to roostd among them
 * are described in sup/proto.h.
 */
#ifndef ROOST_CORE_KINDS_H
#define ROOST_CORE_KINDS_H

/*
 * Every kind roost reserves (ROOST_KIND_RESERVED_MIN and above, roost.h),
 * once: X(NAME, number, display name). ROOST__KIND_NAME below and the
 * names tools show (roost_view_kind_name) come from this list; the three
 * public ones (ROOST_KIND_STOP, _DOWN, _EXIT in roost.h) are checked
 * against it. DRAIN, an operator's request (roost_deadletters_drain),
 * receives and drops every queued dead letter and answers how many. 0xffffff1c (TIMERS, a request older
 * roostds answered) stays unused: tools read the alarm table through the
 * view API (roost_view_timers) instead.
 */
#define ROOST__KINDS(X)                                  \
	X(STOP, 0xffffff01u, "roost.stop")               \
	X(DOWN, 0xffffff02u, "roost.down")               \
	X(EXIT, 0xffffff03u, "roost.exit")               \
	X(REPLY, 0xffffff04u, "roost.reply")             \
	X(UNDELIVERED, 0xffffff05u, "roost.undelivered") \
	X(SPAWN, 0xffffff10u, "roostd.spawn")            \
	X(KILL, 0xffffff11u, "roostd.kill")              \
	X(SHUTDOWN, 0xffffff12u, "roostd.shutdown")      \
	X(TIMER, 0xffffff13u, "roostd.timer")            \
	X(CANCEL, 0xffffff14u, "roostd.cancel")          \
	X(MONITOR, 0xffffff15u, "roostd.monitor")        \
	X(DEMONITOR, 0xffffff16u, "roostd.demonitor")    \
	X(LINK, 0xffffff17u, "roostd.link")              \
	X(UNLINK, 0xffffff18u, "roostd.unlink")          \
	X(WATCH, 0xffffff19u, "roostd.watch")            \
	X(DONE, 0xffffff1au, "roostd.done")              \
	X(STOPPING, 0xffffff1bu, "roostd.stopping")      \
	X(DRAIN, 0xffffff1du, "roostd.drain")            \
	X(ATTACHED, 0xffffff1eu, "roostd.attached")      \
	X(FORWARD, 0xffffff30u, "gateway.forward")       \
	X(WHEREIS, 0xffffff31u, "gateway.whereis")       \
	X(REMOTE_ERROR, 0xffffff32u, "roost.remote_error") \
	X(NODES, 0xffffff33u, "gateway.nodes")           \
	X(CREDIT, 0xffffff34u, "gateway.credit")         \
	X(ACTORS, 0xffffff35u, "gateway.actors")

/* ROOST__KIND_STOP ... ROOST__KIND_ACTORS (unsigned: a GNU C enum).
 * UNDELIVERED, FORWARD, WHEREIS, REMOTE_ERROR, NODES, CREDIT and ACTORS
 * are the gateway's (msg/remote.h, docs/distribution.md). */
enum {
#define ROOST__KIND_ENUM(name, num, text) ROOST__KIND_##name = num,
	ROOST__KINDS(ROOST__KIND_ENUM)
#undef ROOST__KIND_ENUM
};

static_assert(ROOST__KIND_STOP == ROOST_KIND_STOP, "roost.h and kinds.h");
static_assert(ROOST__KIND_DOWN == ROOST_KIND_DOWN, "roost.h and kinds.h");
static_assert(ROOST__KIND_EXIT == ROOST_KIND_EXIT, "roost.h and kinds.h");
static_assert(ROOST__KIND_UNDELIVERED == ROOST_KIND_UNDELIVERED,
              "roost.h and kinds.h");

#endif /* ROOST_CORE_KINDS_H */
