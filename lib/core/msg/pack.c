/* SPDX-License-Identifier: MIT */
/*
 * pack.c - typed payloads without boilerplate: MessagePack built from a
 * format string (msgpack-c underneath), sent flagged MSGPACK, and map
 * fields read back by key.
 */
#include "core/msg/msg.h"
#include "core/msg/mp.h"

#include <msgpack.h>
#include <stdarg.h>

/* Skip the separators a format may use for readability. */
static const char *
skip_sep(const char *p)
{
	while (*p == ' ' || *p == ',' || *p == ':')
		p++;
	return p;
}

/* Values at this level from 'p' up to the closing 'close': -1 if the
 * format is malformed. Maps count keys and values alike. */
static int
count_items(const char *p, char close)
{
	int depth = 0;
	int n = 0;

	for (p = skip_sep(p); *p != '\0'; p = skip_sep(p + 1)) {
		if (depth == 0 && *p == close)
			return n;
		if (*p == '[' || *p == '{') {
			if (depth == 0)
				n++;
			depth++;
		} else if (*p == ']' || *p == '}') {
			if (--depth < 0)
				return -1;
		} else if (depth == 0) {
			n++;
		}
	}
	return -1;
}

static int pack_value(msgpack_packer *pk, const char **fmt, va_list *ap);

/* Pack a container whose opening bracket '*fmt' points at. */
static int
pack_container(msgpack_packer *pk, const char **fmt, va_list *ap)
{
	char close = **fmt == '[' ? ']' : '}';
	int n = count_items(*fmt + 1, close);
	int i;
	int rc;

	if (n < 0 || (close == '}' && n % 2 != 0))
		return -EINVAL;
	if (close == ']')
		msgpack_pack_array(pk, (size_t)n);
	else
		msgpack_pack_map(pk, (size_t)n / 2);
	(*fmt)++;
	for (i = 0; i < n; i++) {
		*fmt = skip_sep(*fmt);
		if (close == '}' && i % 2 == 0 && **fmt != 's')
			return -EINVAL; /* keys are strings */
		rc = pack_value(pk, fmt, ap);
		if (rc < 0)
			return rc;
	}
	*fmt = skip_sep(*fmt);
	(*fmt)++; /* the closing bracket, checked by count_items */
	return 0;
}

static int
pack_value(msgpack_packer *pk, const char **fmt, va_list *ap)
{
	const char *s;
	const void *y;
	size_t n;

	*fmt = skip_sep(*fmt);
	switch (**fmt) {
	case '[':
	case '{':
		return pack_container(pk, fmt, ap);
	case 'i': msgpack_pack_int(pk, va_arg(*ap, int)); break;
	case 'I': msgpack_pack_int64(pk, va_arg(*ap, int64_t)); break;
	case 'u': msgpack_pack_unsigned_int(pk, va_arg(*ap, unsigned)); break;
	case 'U': msgpack_pack_uint64(pk, va_arg(*ap, uint64_t)); break;
	case 'd': msgpack_pack_double(pk, va_arg(*ap, double)); break;
	case 'b':
		if (va_arg(*ap, int))
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case 'n': msgpack_pack_nil(pk); break;
	case 's':
		s = va_arg(*ap, const char *);
		if (s == NULL)
			return -EINVAL;
		n = strlen(s);
		msgpack_pack_str_with_body(pk, s, n);
		break;
	case 'y':
		y = va_arg(*ap, const void *);
		n = va_arg(*ap, size_t);
		if (y == NULL && n != 0)
			return -EINVAL;
		msgpack_pack_bin_with_body(pk, y, n);
		break;
	default:
		return -EINVAL;
	}
	(*fmt)++;
	return 0;
}

/* Pack one top-level value described by 'fmt' into 'sb'. */
static int
vpack(msgpack_sbuffer *sb, const char *fmt, va_list ap)
{
	msgpack_packer pk;
	va_list aq;
	int rc;

	if (fmt == NULL)
		return -EINVAL;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	va_copy(aq, ap);
	rc = pack_value(&pk, &fmt, &aq);
	va_end(aq);
	if (rc == 0 && *skip_sep(fmt) != '\0')
		rc = -EINVAL; /* one value per message */
	if (rc < 0)
		msgpack_sbuffer_destroy(sb);
	return rc;
}

int
roost_pack(void *buf, size_t len, const char *fmt, ...)
{
	msgpack_sbuffer sb;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vpack(&sb, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	if (sb.size > len || sb.size > INT32_MAX)
		rc = -ENOBUFS;
	else if (buf != NULL || len == 0)
		memcpy(buf, sb.data, sb.size), rc = (int)sb.size;
	else
		rc = -EINVAL;
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
roost_send_packed(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind,
                  int timeout_ms, const char *fmt, ...)
{
	msgpack_sbuffer sb;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vpack(&sb, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	rc = roost_send_ex(ctx, to, kind, ROOST_SEND_MSGPACK, 0, sb.data,
	                   sb.size, timeout_ms);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
roost_reply_packed(roost_ctx_t *ctx, const roost_msg_t *req, uint32_t kind,
                   const char *fmt, ...)
{
	msgpack_sbuffer sb;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vpack(&sb, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	rc = roost_reply(ctx, req, kind, ROOST_SEND_MSGPACK, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
roost_call_packed(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind,
                  int timeout_ms, roost_msg_t **reply, const char *fmt, ...)
{
	msgpack_sbuffer sb;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vpack(&sb, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	rc = roost_call(ctx, to, kind, ROOST_SEND_MSGPACK, sb.data, sb.size,
	                timeout_ms, reply);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* --- reading ----------------------------------------------------------- */

/*
 * Find 'key' in the map payload of 'm' and hand its value to 'take'.
 * The decoded objects live until this returns, so 'take' copies.
 */
static int
with_field(const roost_msg_t *m, const char *key,
           int (*take)(const msgpack_object *v, void *arg), void *arg)
{
	msgpack_unpacked up;
	const msgpack_object *v;
	int rc = -ENOENT;

	if (m == NULL || key == NULL)
		return -EINVAL;
	if (!(roost_msg_flags(m) & ROOST_MSG_MSGPACK))
		return ROOST_EPROTO;
	msgpack_unpacked_init(&up);
	if (!roost__mp_check(roost_msg_data(m), roost_msg_size(m)) ||
	    msgpack_unpack_next(&up, roost_msg_data(m), roost_msg_size(m),
	                        NULL) != MSGPACK_UNPACK_SUCCESS ||
	    up.data.type != MSGPACK_OBJECT_MAP) {
		rc = ROOST_EPROTO;
		goto out;
	}
	v = roost__mp_map_get(&up.data, key);
	if (v != NULL)
		rc = take(v, arg);
out:
	msgpack_unpacked_destroy(&up);
	return rc;
}

static int
take_int(const msgpack_object *v, void *arg)
{
	if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*(int64_t *)arg = v->via.i64;
		return 0;
	}
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return ROOST_EPROTO;
	if (v->via.u64 > INT64_MAX)
		return -ERANGE;
	*(int64_t *)arg = (int64_t)v->via.u64;
	return 0;
}

static int
take_uint(const msgpack_object *v, void *arg)
{
	if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return -ERANGE;
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return ROOST_EPROTO;
	*(uint64_t *)arg = v->via.u64;
	return 0;
}

static int
take_double(const msgpack_object *v, void *arg)
{
	if (v->type == MSGPACK_OBJECT_FLOAT64 ||
	    v->type == MSGPACK_OBJECT_FLOAT32)
		*(double *)arg = v->via.f64;
	else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		*(double *)arg = (double)v->via.u64;
	else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*(double *)arg = (double)v->via.i64;
	else
		return ROOST_EPROTO;
	return 0;
}

static int
take_bool(const msgpack_object *v, void *arg)
{
	if (v->type != MSGPACK_OBJECT_BOOLEAN)
		return ROOST_EPROTO;
	*(bool *)arg = v->via.boolean;
	return 0;
}

struct str_out {
	char *so_buf;
	size_t so_len;
	const void **so_data;
	size_t *so_size;
	const roost_msg_t *so_msg;
};

static int
take_str(const msgpack_object *v, void *arg)
{
	struct str_out *so = arg;

	if (v->type != MSGPACK_OBJECT_STR)
		return ROOST_EPROTO;
	if (v->via.str.size >= so->so_len)
		return -ENOBUFS;
	if (v->via.str.size > 0) /* an empty string's ptr may be NULL */
		memcpy(so->so_buf, v->via.str.ptr, v->via.str.size);
	so->so_buf[v->via.str.size] = '\0';
	return 0;
}

/* Bytes are handed out as a view into the message itself: msgpack-c's
 * unpacker points bin bodies into the buffer it decodes (no copy). */
static int
take_bin(const msgpack_object *v, void *arg)
{
	struct str_out *so = arg;
	const char *base = roost_msg_data(so->so_msg);

	if (v->type != MSGPACK_OBJECT_BIN)
		return ROOST_EPROTO;
	if (v->via.bin.size > 0 &&
	    (v->via.bin.ptr < base ||
	     v->via.bin.ptr + v->via.bin.size > base + roost_msg_size(so->so_msg)))
		return ROOST_EPROTO;
	*so->so_data = v->via.bin.ptr;
	*so->so_size = v->via.bin.size;
	return 0;
}

int
roost_msg_get_int(const roost_msg_t *m, const char *key, int64_t *out)
{
	return out == NULL ? -EINVAL : with_field(m, key, take_int, out);
}

int
roost_msg_get_uint(const roost_msg_t *m, const char *key, uint64_t *out)
{
	return out == NULL ? -EINVAL : with_field(m, key, take_uint, out);
}

int
roost_msg_get_double(const roost_msg_t *m, const char *key, double *out)
{
	return out == NULL ? -EINVAL : with_field(m, key, take_double, out);
}

int
roost_msg_get_bool(const roost_msg_t *m, const char *key, bool *out)
{
	return out == NULL ? -EINVAL : with_field(m, key, take_bool, out);
}

int
roost_msg_get_str(const roost_msg_t *m, const char *key, char *buf,
                  size_t len)
{
	struct str_out so = {buf, len, NULL, NULL, m};

	return buf == NULL || len == 0 ? -EINVAL
	                               : with_field(m, key, take_str, &so);
}

int
roost_msg_get_bin(const roost_msg_t *m, const char *key, const void **data,
                  size_t *size)
{
	struct str_out so = {NULL, 0, data, size, m};

	return data == NULL || size == NULL ? -EINVAL
	                                    : with_field(m, key, take_bin, &so);
}
