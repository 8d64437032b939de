/* SPDX-License-Identifier: MIT */
/*
 * monitors.h - monitors across nodes (docs/distribution.md, "Monitors").
 * A watcher here monitoring an actor there: the watcher's gateway keeps
 * a "watch" (ref given to the watcher, bit 63 set) and sends MONITOR;
 * the target's gateway asks its roostd to monitor the target for it and
 * keeps a "watched" entry, turning roostd's DOWN into a DOWN frame back.
 * When the target's node is lost (silent, or its gateway restarted),
 * the watcher's gateway sends the watcher DOWN with reason
 * noconnection.
 *
 * A link is a watch and a watched entry on each side, under one ref
 * (the linking side's): each side watches its own actor for the other
 * node and keeps a watch of the remote one, and the notices are EXIT
 * (ref 0) instead of DOWN. Only the forwarding loop touches these
 * tables.
 */
#ifndef ROOST_GATEWAY_MONITORS_H
#define ROOST_GATEWAY_MONITORS_H

#include <stdbool.h>
#include <stdint.h>

#define GW_MONITORS_MAX 1024

struct gw_watch {
	uint64_t wa_ref;      /* given to the watcher */
	uint64_t wa_watcher;  /* a local address */
	uint64_t wa_target;   /* another node's address */
	bool wa_link;         /* its notices are EXIT */
};

struct gw_watched {
	uint64_t wd_ref;        /* roostd's ref (this gateway watches) */
	uint64_t wd_their_ref;  /* the watcher's gateway's ref */
	uint64_t wd_watcher;    /* another node's address */
	uint64_t wd_target;     /* ours, with this node's bits */
	bool wd_link;           /* its notices are EXIT */
};

struct gw_monitors {
	struct gw_watch mo_watch[GW_MONITORS_MAX];
	int mo_nwatch;
	struct gw_watched mo_watched[GW_MONITORS_MAX];
	int mo_nwatched;
	uint64_t mo_next_ref;
};

#endif
