/* SPDX-License-Identifier: MIT */
/*
 * wire.c - encoding and validating gateway frames (format in wire.h).
 * Every field of a received frame is checked before anything uses it:
 * the bytes come from the network.
 */
#include "wire.h"
#include "roost_impl.h"

#define GW_MAGIC 0x47545352u /* "RSTG" read little-endian */

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int
gw_wire_encode(const struct gw_frame *f, uint8_t *buf, size_t cap)
{
	if (cap < GW_WIRE_HEAD || f->fr_size > cap - GW_WIRE_HEAD)
		return -EMSGSIZE;
	put32(buf, GW_MAGIC);
	buf[4] = GW_WIRE_VERSION;
	buf[5] = (uint8_t)f->fr_type;
	buf[6] = (uint8_t)f->fr_flags;
	buf[7] = (uint8_t)(f->fr_flags >> 8);
	put64(buf + 8, f->fr_to);
	put64(buf + 16, f->fr_from);
	put64(buf + 24, f->fr_corr);
	put32(buf + 32, f->fr_kind);
	put32(buf + 36, f->fr_size);
	put64(buf + 40, f->fr_seq);
	if (f->fr_size > 0)
		memcpy(buf + GW_WIRE_HEAD, f->fr_data, f->fr_size);
	return (int)(GW_WIRE_HEAD + f->fr_size);
}

/* An actor's full address: a node and a generation. */
static bool
actor_aid(uint64_t id)
{
	roost_aid_t a = {id};

	return roost_aid_node(a) != 0 && roost_aid_gen(a) != 0;
}

/* A 4-byte negative errno. */
static bool
errno_payload(const struct gw_frame *f)
{
	int32_t e;

	if (f->fr_size != sizeof(e))
		return false;
	memcpy(&e, f->fr_data, sizeof(e));
	return e < 0 && e > -4096;
}

/* The type-specific rules; NULL when they hold. */
static const char *
check_type(const struct gw_frame *f)
{
	char name[ROOST_NAME_MAX + 1];

	switch (f->fr_type) {
	case GW_MSG:
		if (!actor_aid(f->fr_to) || !actor_aid(f->fr_from))
			return "message without a full to or from address";
		return NULL;
	case GW_WHEREIS:
		if (roost_aid_node((roost_aid_t){f->fr_to}) == 0 ||
		    !actor_aid(f->fr_from) || f->fr_corr == 0)
			return "whereis without a node, a caller or a call id";
		if (f->fr_size == 0 || f->fr_size > ROOST_NAME_MAX)
			return "whereis with a bad name length";
		memcpy(name, f->fr_data, f->fr_size);
		name[f->fr_size] = '\0';
		return roost__name_valid(name) ? NULL : "whereis of a bad name";
	case GW_ANSWER:
		if (!actor_aid(f->fr_to) || !actor_aid(f->fr_from) ||
		    f->fr_corr == 0)
			return "answer without addresses or a call id";
		if (f->fr_size == 8) {
			uint64_t id;

			memcpy(&id, f->fr_data, sizeof(id));
			return actor_aid(id) ? NULL : "answer with a bad address";
		}
		return errno_payload(f) ? NULL : "answer with a bad payload";
	case GW_ERROR:
		if (!actor_aid(f->fr_to) || !actor_aid(f->fr_from))
			return "error without addresses";
		return errno_payload(f) ? NULL : "error with a bad errno";
	case GW_MONITOR:
	case GW_UNLINK:
		if (!actor_aid(f->fr_to) || !actor_aid(f->fr_from) ||
		    !ROOST__REF_IS_REMOTE(f->fr_corr) || f->fr_size != 0)
			return "monitor without addresses or a remote ref";
		return NULL;
	case GW_DOWN:
		if (!actor_aid(f->fr_to) || !actor_aid(f->fr_from) ||
		    !ROOST__REF_IS_REMOTE(f->fr_corr))
			return "down without addresses or a remote ref";
		if (f->fr_kind != ROOST_KIND_DOWN && f->fr_kind != ROOST_KIND_EXIT)
			return "down that is neither DOWN nor EXIT";
		return roost_msgpack_valid(f->fr_data, f->fr_size)
		       ? NULL : "down whose notice is not MessagePack";
	case GW_CREDIT:
		if (roost_aid_node((roost_aid_t){f->fr_to}) == 0 ||
		    roost_aid_node((roost_aid_t){f->fr_from}) == 0 ||
		    f->fr_corr == 0 || f->fr_corr > UINT32_MAX || f->fr_size != 0)
			return "credit without nodes or bytes";
		return NULL;
	case GW_ACTORS:
		if (roost_aid_node((roost_aid_t){f->fr_to}) == 0 ||
		    !actor_aid(f->fr_from) || f->fr_corr == 0 || f->fr_size != 0)
			return "actors without a node, a caller or a call id";
		return NULL;
	case GW_LIST:
		if (!actor_aid(f->fr_to) || !actor_aid(f->fr_from) ||
		    f->fr_corr == 0)
			return "list without addresses or a call id";
		return roost_msgpack_valid(f->fr_data, f->fr_size)
		       ? NULL : "list that is not MessagePack";
	case GW_PING:
	case GW_PONG:
		if (roost_aid_node((roost_aid_t){f->fr_to}) == 0 ||
		    roost_aid_node((roost_aid_t){f->fr_from}) == 0 ||
		    f->fr_corr == 0 || f->fr_size != 0)
			return "ping without nodes or a time";
		return NULL;
	case GW_HELLO:
		if (roost_aid_node((roost_aid_t){f->fr_from}) == 0 ||
		    !roost__node_name_valid((const char *)f->fr_data,
		                            f->fr_size))
			return "hello without a node id or a valid node name";
		return NULL;
	}
	return "unknown frame type";
}

int
gw_wire_decode(const void *buf, size_t len, struct gw_frame *f,
               const char **why)
{
	const uint8_t *p = buf;

	*why = NULL;
	if (len < GW_WIRE_HEAD)
		*why = "shorter than a frame head";
	else if (get32(p) != GW_MAGIC)
		*why = "bad magic";
	else if (p[4] != GW_WIRE_VERSION)
		*why = "unknown version";
	else if (get32(p + 36) != len - GW_WIRE_HEAD)
		*why = "payload size is not the rest of the frame";
	if (*why != NULL)
		return -EPROTO;
	f->fr_type = (enum gw_type)p[5];
	f->fr_flags = (uint32_t)p[6] | ((uint32_t)p[7] << 8);
	f->fr_to = get64(p + 8);
	f->fr_from = get64(p + 16);
	f->fr_corr = get64(p + 24);
	f->fr_kind = get32(p + 32);
	f->fr_size = get32(p + 36);
	f->fr_seq = get64(p + 40);
	f->fr_data = p + GW_WIRE_HEAD;
	if ((f->fr_flags & ~GW_F_KNOWN) != 0)
		*why = "unknown flags";
	else if ((f->fr_seq != 0) != (f->fr_type == GW_MSG &&
	                              !(f->fr_flags & GW_F_SYSTEM)))
		*why = "a sequence number on the wrong frame, or none";
	else
		*why = check_type(f);
	return *why == NULL ? 0 : -EPROTO;
}
