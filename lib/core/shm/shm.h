/* SPDX-License-Identifier: MIT */
/*
 * shm.h - the bottom layer of libroost: the shared-memory format, the
 * lock word, the system segment and roostd's published tables, with the
 * helpers every layer uses (corruption reports, allocation, addresses).
 * Every file under lib/core/shm/ includes it first; the layers above
 * include it through their own header (mbox/mbox.h, msg/msg.h, ...).
 */
#ifndef ROOST_CORE_SHM_H
#define ROOST_CORE_SHM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "roost.h"
#include "roost/view.h"
#include "core/shm/atomic.h"
#include "core/shm/shm_format.h"
#include "linux/plat.h"

/*
 * Every detected corruption of shared memory returns through
 * ROOST_CORRUPT(): one place to break on, and a log line naming where the
 * check failed (only when $ROOST_DEBUG is set; the library never prints
 * on its own otherwise).
 */
int roost__corrupt_at(const char *file, int line);
#define ROOST_CORRUPT() roost__corrupt_at(__FILE__, __LINE__)

/* Heap allocation goes through these so tests can inject failures
 * (roost__alloc_fail_after). */
void *roost__malloc(size_t n);
void *roost__calloc(size_t n, size_t size);
void roost__free(void *p);
extern long roost__alloc_fail_after; /* <0: never fail (the default) */

/* Shared-memory object names: "/roost.UID.SYSTEM" and ".SLOT" after it. */
#define ROOST_SHM_NAME_MAX 96
int roost__sys_shm_name(char *buf, size_t len, const char *system);
int roost__mbox_shm_name(char *buf, size_t len, const char *system,
                         uint32_t slot);
/* roostd's object "/roost.UID.SYSTEM" + 'suffix' (".timers", ".keep")
 * of a valid, non-empty system name: 0, -EINVAL or -ENAMETOOLONG. */
int roost__sys_obj_name(char *buf, size_t len, const char *system,
                        const char *suffix);
/* Resolve NULL to $ROOST_SYSTEM or "default" and check the name's
 * characters and length. Returns the name to use or NULL (invalid). */
const char *roost__system_resolve(const char *name);
/* The owner's uid and the base name of a resolved system: "UID:NAME"
 * names user UID's system NAME; a plain NAME is our own. */
const char *roost__system_owner(const char *system, uint32_t *uid);

/* Addresses: generation in the high 32 bits, slot in the low. */
static inline roost_aid_t
roost__aid_make(uint32_t slot, uint32_t gen)
{
	return (roost_aid_t){((uint64_t)gen << 32) | slot};
}

/* A ring's capacity for 'want' bytes: the power of two from
 * ROOST_RING_MIN up that holds it, or 0 above ROOST_RING_MAX. Both lanes
 * of a mailbox and the system's mailbox size follow it. */
static inline uint32_t
roost__mbox_ring_size(uint64_t want)
{
	uint32_t cap = ROOST_RING_MIN;

	if (want > ROOST_RING_MAX)
		return 0;
	while (cap < want)
		cap <<= 1;
	return cap;
}

#include "core/shm/shm_lock.h"
#include "core/shm/sys.h"
#include "core/shm/timer_table.h"
#include "core/shm/timer_stats.h"
#include "core/shm/keep_table.h"

#endif /* ROOST_CORE_SHM_H */
