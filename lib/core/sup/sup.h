/* SPDX-License-Identifier: MIT */
/*
 * sup.h - the supervision layer: requests to roostd (the protocol in
 * proto.h, one request path in roostd_call.c), the public calls built on
 * it (spawn, kill, stop, alarms, monitors, links), one-shot actors, and
 * the run loop, which stops through roostd. Every file under
 * lib/core/sup/ includes this header first.
 */
#ifndef ROOST_CORE_SUP_H
#define ROOST_CORE_SUP_H

#include "core/msg/msg.h"
#include "core/sup/proto.h"

#endif /* ROOST_CORE_SUP_H */
