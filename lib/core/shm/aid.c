/* SPDX-License-Identifier: MIT */
/*
 * aid.c - the parts of an address: slot (bits 0-15), node (bits 16-31,
 * 0 on this node) and generation (bits 32-63). roost__aid_make (shm.h)
 * puts a local one together.
 */
#include "core/shm/shm.h"

uint32_t
roost_aid_slot(roost_aid_t aid)
{
	/* With the node bits: a remote address's slot is never below
	 * ROOST_SLOTS_MAX, so every local lookup refuses it. */
	return (uint32_t)aid.id;
}

uint32_t
roost_aid_gen(roost_aid_t aid)
{
	return (uint32_t)(aid.id >> 32);
}

uint32_t
roost_aid_node(roost_aid_t aid)
{
	return (uint32_t)(aid.id >> 16) & 0xffffu;
}
