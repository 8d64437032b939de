/* SPDX-License-Identifier: MIT */
/*
 * msg.h - the messaging layer: contexts (a process attached to a system),
 * sends and receives, call and reply, names, addresses of other nodes
 * (handed to the gateway), the reserved kinds and MessagePack. Every
 * file under lib/core/msg/ includes this header first. It needs no
 * roostd: asking roostd is the layer above (sup/).
 */
#ifndef ROOST_CORE_MSG_H
#define ROOST_CORE_MSG_H

#include "core/mbox/mbox.h"
#include "core/msg/kinds.h"
#include "core/msg/ctx.h"
#include "core/msg/remote.h"

#endif /* ROOST_CORE_MSG_H */
