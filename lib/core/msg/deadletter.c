/* SPDX-License-Identifier: MIT */
/*
 * deadletter.c - retiring a message to the dead-letter mailbox, as a
 * MessagePack map that says whose it was. roost_run does it for a kind
 * nobody handles, roostd for a message that killed its actor twice.
 */
#include "core/msg/msg.h"

#include <msgpack.h>

int
roost__send_dead_letter(roost_ctx_t *ctx, roost_aid_t dead, roost_aid_t to,
                        const char *name, const roost_msg_t *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 7);
	msgpack_pack_str_with_body(&pk, "to", 2);
	msgpack_pack_uint64(&pk, to.id);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, name, strlen(name));
	msgpack_pack_str_with_body(&pk, "from", 4);
	msgpack_pack_uint64(&pk, roost_msg_from(m).id);
	msgpack_pack_str_with_body(&pk, "kind", 4);
	msgpack_pack_uint32(&pk, roost_msg_kind(m));
	msgpack_pack_str_with_body(&pk, "corr", 4);
	msgpack_pack_uint64(&pk, roost_msg_corr(m));
	msgpack_pack_str_with_body(&pk, "flags", 5);
	msgpack_pack_uint32(&pk, roost_msg_flags(m));
	msgpack_pack_str_with_body(&pk, "data", 4);
	msgpack_pack_bin_with_body(&pk, roost_msg_data(m), roost_msg_size(m));
	rc = roost_send_ex(ctx, dead, roost_msg_kind(m), ROOST_SEND_MSGPACK,
	                   roost_msg_corr(m), sb.data, sb.size, 0);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}
