/* SPDX-License-Identifier: MIT */
/*
 * roost_impl.h - the private umbrella header. Every file under lib/core/
 * includes it first. It pulls in the public API, the shared-memory format,
 * the platform interface and the helpers every module uses: error
 * reporting, allocation, and the internal module interfaces.
 */
#ifndef ROOST_IMPL_H
#define ROOST_IMPL_H

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
#include "core/atomic.h"
#include "core/shm_format.h"
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

/* Tests widen the private-lane races with this (NULL by default): called
 * by a private sender after its state check and before it writes
 * (ROOST__HOOK_BEFORE_WRITE), and after its commits and before it
 * publishes and fences (ROOST__HOOK_BEFORE_PUBLISH). tag-private */
#define ROOST__HOOK_BEFORE_WRITE   0u
#define ROOST__HOOK_BEFORE_PUBLISH 1u
extern void (*roost__private_hook)(unsigned phase);

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

#include "core/shm_lock.h"
#include "core/mbox.h"
#include "core/sys.h"
#include "core/ctx.h"
#include "core/timer_table.h"
#include "core/remote.h"

#endif /* ROOST_IMPL_H */
