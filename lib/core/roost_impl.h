/* SPDX-License-Identifier: MIT */
/*
 * roost_impl.h - libroost's internals as one header, for the code built on
 * them from outside lib/ (roostd, the gateway, tests, fuzzers). Inside
 * lib/core/ each file includes its own layer's header instead, bottom up:
 *
 *   shm/   the shared-memory format, lock word, system segment, roostd's
 *          published tables, addresses           (shm/shm.h)
 *   mbox/  one mailbox: lanes, locks, send, receive, replacement
 *                                                  (mbox/mbox.h)
 *   msg/   contexts, send/recv, call/reply, names, remote addresses,
 *          reserved kinds, MessagePack              (msg/msg.h)
 *   sup/   requests to roostd, spawn/kill/stop, alarms, monitors, links,
 *          one-shot actors, the run loop            (sup/sup.h)
 *   view/  the read-only view for tools             (view/view_impl.h)
 *
 * A layer includes only the header of the layer below it
 * (scripts/check-layers.sh checks the include graph and, after a build,
 * which layer's symbols each object file uses).
 */
#ifndef ROOST_IMPL_H
#define ROOST_IMPL_H

#include "core/sup/sup.h"
#include "core/view/view_impl.h"

#endif /* ROOST_IMPL_H */
