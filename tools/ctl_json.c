/* SPDX-License-Identifier: MIT */
/*
 * ctl_json.c - JSON and MessagePack for roostctl: JSON arguments packed
 * as MessagePack (send, call), payloads decoded from MessagePack into
 * JSON (inspect, deadletters, timers, call), raw payloads as hex and
 * ASCII, and the JSON form of the system and of an actor, which
 * docs/roostctl-json.md documents field by field.
 */
#include "roostctl.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting decoded from MessagePack; deeper shows "$too-deep". */
#define DEPTH_MAX 64
/* Most containers nested in what roostctl packs: msgpack-c's unpacker
 * (every receiver's, roostctl's own too) refuses a value with more than
 * MSGPACK_EMBED_STACK_SIZE (32, msgpack/unpack_define.h) nested arrays
 * and maps, so a message packed deeper could be sent but never read.
 * Deeper is an error (tests/fuzz/fuzz_json.c checks the round trip). */
#define PACK_DEPTH_MAX 32

void
ctl_json_print(json_t *j)
{
	if (j == NULL) {
		fputs("null\n", stdout);
		return;
	}
	json_dumpf(j, stdout,
	           JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	fputc('\n', stdout);
	json_decref(j);
}

int
ctl_json_parse(const char *text, json_t **out)
{
	json_error_t e;

	*out = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
	if (*out == NULL)
		return ctl_err(CTL_BADJSON,
		               "bad JSON at line %d, column %d: %s", e.line,
		               e.column, e.text);
	return 0;
}

static int
unhex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* True if 'j' is {"$bin": STRING}, which packs as bin, not as a map. */
static bool
pack_bin_shape(const json_t *j)
{
	const json_t *h;

	return json_is_object(j) && json_object_size(j) == 1 &&
	       (h = json_object_get(j, "$bin")) != NULL && json_is_string(h);
}

/* {"$bin": "hex"}: true and the bytes packed, or false. '*bad' when it
 * has that shape but the hex is malformed. */
static bool
pack_bin(const json_t *j, msgpack_packer *pk, bool *bad)
{
	const json_t *h;
	const char *s;
	size_t n;
	size_t i;
	char *buf;

	if (!pack_bin_shape(j))
		return false;
	h = json_object_get(j, "$bin");
	s = json_string_value(h);
	n = json_string_length(h);
	if (n % 2 != 0) {
		*bad = true;
		return true;
	}
	buf = malloc(n / 2 + 1);
	if (buf == NULL) {
		*bad = true;
		return true;
	}
	for (i = 0; i < n / 2; i++) {
		int hi = unhex((unsigned char)s[2 * i]);
		int lo = unhex((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			*bad = true;
			free(buf);
			return true;
		}
		buf[i] = (char)(hi << 4 | lo);
	}
	msgpack_pack_bin_with_body(pk, buf, n / 2);
	free(buf);
	return true;
}

static int
pack_json(const json_t *j, msgpack_packer *pk, int depth)
{
	const char *key;
	json_t *val;
	size_t i;
	bool bad = false;

	if ((json_is_array(j) || (json_is_object(j) && !pack_bin_shape(j))) &&
	    depth >= PACK_DEPTH_MAX)
		return ctl_err(CTL_BADJSON,
		               "bad JSON: more than %d nested arrays and "
		               "objects",
		               PACK_DEPTH_MAX);
	switch (json_typeof(j)) {
	case JSON_NULL:
		return msgpack_pack_nil(pk);
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(j));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j));
	case JSON_STRING:
		return msgpack_pack_str_with_body(pk, json_string_value(j),
		                                  json_string_length(j));
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		for (i = 0; i < json_array_size(j); i++)
			if (pack_json(json_array_get(j, i), pk, depth + 1) !=
			    0)
				return CTL_BADJSON;
		return 0;
	case JSON_OBJECT:
		if (pack_bin(j, pk, &bad))
			return bad ? ctl_err(CTL_BADJSON,
			                     "bad JSON: \"$bin\" wants "
			                     "an even number of hex digits")
			           : 0;
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach((json_t *)j, key, val)
		{
			msgpack_pack_str_with_body(pk, key, strlen(key));
			if (pack_json(val, pk, depth + 1) != 0)
				return CTL_BADJSON;
		}
		return 0;
	}
	return CTL_BADJSON;
}

int
ctl_json_to_msgpack(const json_t *j, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	return pack_json(j, &pk, 0) == 0 ? 0 : CTL_BADJSON;
}

static char *
hex_of(const void *data, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	char *s = malloc(size * 2 + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < size; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * size] = '\0';
	return s;
}

static char *
ascii_of(const void *data, size_t size)
{
	const uint8_t *p = data;
	char *s = malloc(size + 1);
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < size; i++)
		s[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	s[size] = '\0';
	return s;
}

/* A hex string value (new reference). */
static json_t *
json_hex(const void *data, size_t size)
{
	char *h = hex_of(data, size);
	json_t *j = h ? json_string(h) : json_null();

	free(h);
	return j;
}

static json_t *
json_tagged(const char *tag, const void *data, size_t size)
{
	json_t *o = json_object();

	json_object_set_new(o, tag, json_hex(data, size));
	return o;
}

/* A MessagePack string as JSON: a string when it is valid UTF-8. An
 * empty one comes from msgpack-c with a NULL 'p', which jansson refuses. */
static json_t *
mp_str(const char *p, size_t n)
{
	json_t *j = json_stringn(n != 0 ? p : "", n);

	return j != NULL ? j : json_tagged("$strhex", p, n);
}

static json_t *
mp_to_json(const msgpack_object *o, int depth)
{
	json_t *j;
	json_t *v;
	char num[32];
	char *key;
	uint32_t i;

	if (depth > DEPTH_MAX)
		return json_string("$too-deep");
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 <= INT64_MAX)
			return json_integer((json_int_t)o->via.u64);
		/* JSON numbers past 2^63 - 1 lose digits in most readers. */
		snprintf(num, sizeof(num), "%" PRIu64, o->via.u64);
		return json_string(num);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (isfinite(o->via.f64))
			return json_real(o->via.f64);
		return json_string(isnan(o->via.f64) ? "NaN"
		                   : o->via.f64 > 0  ? "Infinity"
		                                     : "-Infinity");
	case MSGPACK_OBJECT_STR:
		return mp_str(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return json_tagged("$bin", o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_EXT:
		j = json_tagged("hex", o->via.ext.ptr, o->via.ext.size);
		json_object_set_new(j, "$ext", json_integer(o->via.ext.type));
		return j;
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (i = 0; i < o->via.array.size; i++)
			json_array_append_new(
			    j, mp_to_json(&o->via.array.ptr[i], depth + 1));
		return j;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			json_t *kj;

			v = mp_to_json(&o->via.map.ptr[i].val, depth + 1);
			/* A UTF-8 string key is the key; anything else (a
			 * number, bytes, bad UTF-8) is keyed by its own JSON
			 * text. */
			if (k->type == MSGPACK_OBJECT_STR &&
			    json_object_setn(
			        j, k->via.str.size != 0 ? k->via.str.ptr : "",
			        k->via.str.size, v) == 0) {
				json_decref(v);
				continue;
			}
			kj = mp_to_json(k, depth + 1);
			key = json_dumps(kj, JSON_COMPACT | JSON_ENCODE_ANY |
			                         JSON_SORT_KEYS);
			json_decref(kj);
			if (key != NULL)
				json_object_set(j, key, v);
			free(key);
			json_decref(v);
		}
		return j;
	}
	return json_null();
}

json_t *
ctl_msgpack_to_json(const msgpack_object *o)
{
	return mp_to_json(o, 0);
}

json_t *
ctl_payload_decode(const void *data, size_t size, const char **why)
{
	msgpack_unpacked up;
	msgpack_unpack_return r;
	size_t off = 0;
	json_t *j = NULL;

	/* msgpack-c allocates what a container declares: check the bytes
	 * first (any process may have sent them). */
	if (!roost_msgpack_valid(data, size)) {
		*why = "not one well-formed MessagePack value";
		return NULL;
	}
	msgpack_unpacked_init(&up);
	r = msgpack_unpack_next(&up, data, size, &off);
	if (r == MSGPACK_UNPACK_SUCCESS && off == size)
		j = ctl_msgpack_to_json(&up.data);
	else if (r == MSGPACK_UNPACK_SUCCESS)
		*why = "trailing bytes after the MessagePack value";
	else if (r == MSGPACK_UNPACK_CONTINUE)
		*why = "truncated MessagePack";
	else
		*why = "not MessagePack";
	msgpack_unpacked_destroy(&up);
	return j;
}

void
ctl_payload_json(json_t *obj, const void *data, size_t size, bool msgpack)
{
	const char *why = NULL;
	json_t *p = NULL;
	char *a;

	if (msgpack)
		p = ctl_payload_decode(data, size, &why);
	json_object_set_new(obj, "encoding",
	                    json_string(msgpack ? "msgpack" : "raw"));
	if (p != NULL) {
		json_object_set_new(obj, "payload", p);
		return;
	}
	if (why != NULL)
		json_object_set_new(obj, "payload_error", json_string(why));
	json_object_set_new(obj, "hex", json_hex(data, size));
	a = ascii_of(data, size);
	json_object_set_new(obj, "ascii", a ? json_string(a) : json_null());
	free(a);
}

/* Cut 's' to 'width' characters, marking the cut with "...". */
static void
cut(char *s, size_t width)
{
	if (width >= 4 && strlen(s) > width)
		strcpy(s + width - 3, "...");
}

const char *
ctl_payload_text(const void *data, size_t size, bool msgpack, size_t width)
{
	static char *buf;
	const uint8_t *p = data;
	const char *why = NULL;
	json_t *j = NULL;
	size_t shown;
	size_t i;
	char *s;

	free(buf);
	buf = NULL;
	if (size == 0)
		return "-";
	if (msgpack)
		j = ctl_payload_decode(data, size, &why);
	if (j != NULL) {
		buf = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
		                        JSON_PRESERVE_ORDER);
		json_decref(j);
		if (buf == NULL)
			return "?";
		if (width != 0)
			cut(buf, width);
		return buf;
	}
	/* Hex of what fits, then the ASCII of the same bytes. */
	shown = width == 0 ? size : (width > 8 ? (width - 4) / 4 : 1);
	if (shown > size)
		shown = size;
	buf = malloc(shown * 4 + 64);
	if (buf == NULL)
		return "?";
	s = buf;
	if (why != NULL)
		s += sprintf(s, "(bad msgpack) ");
	for (i = 0; i < shown; i++)
		s += sprintf(s, "%02x%s", p[i], i + 1 < shown ? " " : "");
	s += sprintf(s, "%s |", shown < size ? "..." : "");
	for (i = 0; i < shown; i++)
		*s++ = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	strcpy(s, "|");
	return buf;
}

void
ctl_hexdump(FILE *f, const char *indent, const void *data, size_t size)
{
	const uint8_t *p = data;
	size_t off;
	size_t i;

	for (off = 0; off < size; off += 16) {
		fprintf(f, "%s%08zx  ", indent, off);
		for (i = 0; i < 16; i++) {
			if (off + i < size)
				fprintf(f, "%02x ", p[off + i]);
			else
				fputs("   ", f);
			if (i == 7)
				fputc(' ', f);
		}
		fputs(" |", f);
		for (i = 0; i < 16 && off + i < size; i++)
			fputc(isprint(p[off + i]) ? p[off + i] : '.', f);
		fputs("|\n", f);
	}
}

/* --- text helpers ------------------------------------------------------ */

char *
ctl_fmt_aid(roost_aid_t aid, char *buf, size_t len)
{
	/* Another node's address: its slot and generation there, then
	 * "@" and the node id. */
	if (roost_aid_node(aid) != 0)
		snprintf(buf, len, "%u.%u@%u", roost_aid_slot(aid) & 0xffffu,
		         roost_aid_gen(aid), roost_aid_node(aid));
	else
		snprintf(buf, len, "%u.%u", roost_aid_slot(aid),
		         roost_aid_gen(aid));
	return buf;
}

char *
ctl_fmt_age(uint64_t ns, char *buf, size_t len)
{
	uint64_t ms = ns / 1000000u;
	uint64_t s = ms / 1000u;

	if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 "ms", ms);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60,
		         s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600,
		         s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400,
		         s / 3600 % 24);
	return buf;
}

char *
ctl_fmt_bytes(uint64_t n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%" PRIu64, n);
	else if (n < (1u << 20))
		snprintf(buf, len, "%.1fK", (double)n / 1024.0);
	else if (n < (1u << 30))
		snprintf(buf, len, "%.1fM", (double)n / 1048576.0);
	else
		snprintf(buf, len, "%.1fG", (double)n / 1073741824.0);
	/* "64.0K" reads better as "64K". */
	{
		char *dot = strstr(buf, ".0");

		if (dot != NULL && dot[2] != '\0' &&
		    !isdigit((unsigned char)dot[2]))
			memmove(dot, dot + 2, strlen(dot + 2) + 1);
	}
	return buf;
}

char *
ctl_fmt_who(const struct ctl_names *nm, roost_aid_t aid, char *buf, size_t len)
{
	char a[32];
	const char *name = ctl_names_get(nm, aid);

	ctl_fmt_aid(aid, a, sizeof(a));
	if (aid.id == 0)
		snprintf(buf, len, "-");
	else if (name != NULL)
		snprintf(buf, len, "%s(%s)", name, a);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}

static const struct {
	uint32_t f_bit;
	const char *f_name;
} msg_flags[] = {
    {ROOST_MSG_MSGPACK, "msgpack"},
    {ROOST_MSG_REDELIVERED, "redelivered"},
    {ROOST_MSG_REPLY, "reply"},
    {ROOST_MSG_IN_HAND, "in-hand"},
};

char *
ctl_fmt_flags(uint32_t flags, char *buf, size_t len)
{
	size_t i;
	size_t n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(msg_flags) / sizeof(msg_flags[0]); i++)
		if (flags & msg_flags[i].f_bit)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
			                      "%s%s", n ? "," : "",
			                      msg_flags[i].f_name);
	if (n == 0)
		snprintf(buf, len, "-");
	return buf;
}

json_t *
ctl_flags_json(uint32_t flags)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sizeof(msg_flags) / sizeof(msg_flags[0]); i++)
		if (flags & msg_flags[i].f_bit)
			json_array_append_new(
			    a, json_string(msg_flags[i].f_name));
	return a;
}

char *
ctl_fmt_kind(struct ctl *c, uint32_t kind, char *buf, size_t len)
{
	char name[ROOST_KIND_NAME_MAX + 1];

	if (c->c_view != NULL &&
	    roost_view_kind_name(c->c_view, kind, name, sizeof(name)) == 0)
		snprintf(buf, len, "%s", name);
	else if (kind >= 0xffffff00u)
		snprintf(buf, len, "0x%x", kind);
	else
		snprintf(buf, len, "%u", kind);
	return buf;
}

json_t *
ctl_kind_name_json(struct ctl *c, uint32_t kind)
{
	char name[ROOST_KIND_NAME_MAX + 1];

	if (c->c_view != NULL &&
	    roost_view_kind_name(c->c_view, kind, name, sizeof(name)) == 0)
		return json_string(name);
	return json_null();
}

json_t *
ctl_json_str_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

const char *
ctl_restart_name(uint32_t restart)
{
	switch (restart) {
	case ROOST_RESTART_PERMANENT:
		return "permanent";
	case ROOST_RESTART_TRANSIENT:
		return "transient";
	case ROOST_RESTART_TEMPORARY:
		return "temporary";
	default:
		return "?";
	}
}

const char *
ctl_mbox_state_name(uint32_t state)
{
	switch (state) {
	case ROOST_MBOX_STATE_OPEN:
		return "open";
	case ROOST_MBOX_STATE_STOPPING:
		return "stopping";
	default:
		return "closed";
	}
}

/* --- the system and actors as JSON ------------------------------------ */

json_t *
ctl_sysinfo_json(const roost_sysinfo_t *s)
{
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", s->mode);
	return json_pack(
	    "{s:s, s:s, s:i, s:I, s:I, s:i, s:i, s:i, s:I, s:I, "
	    "s:s, s:i, s:b, s:I}",
	    "name", s->name, "state", roost_sys_state_name(s->state),
	    "roostd_pid", (int)s->roostd_pid, "heartbeat_age_ms",
	    (json_int_t)(s->heartbeat_age_ns / 1000000u), "created_unix_ms",
	    (json_int_t)(s->created_unix_ns / 1000000u), "slots",
	    (int)s->slots, "actors", (int)s->actors, "live_actors",
	    (int)s->live_actors, "mailbox_bytes", (json_int_t)s->mbox_bytes,
	    "max_message", (json_int_t)s->max_msg, "mode", mode, "uid",
	    (int)s->uid, "supervised", s->supervised, "deadletters",
	    (json_int_t)s->deadletters);
}

static json_t *
mbox_json(const roost_actor_info_t *a)
{
	const roost_mbox_stats_t *m = &a->mbox;

	if (a->mbox_err != 0)
		return json_null();
	return json_pack(
	    "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I}",
	    "state", ctl_mbox_state_name(a->mbox_state), "queued",
	    (json_int_t)m->queued, "used", (json_int_t)m->used, "capacity",
	    (json_int_t)m->capacity, "high_water", (json_int_t)m->high_water,
	    "in", (json_int_t)m->enqueued, "out", (json_int_t)m->dequeued,
	    "bytes_in", (json_int_t)m->bytes_in, "blocked",
	    (json_int_t)m->blocked_sends, "repaired", (json_int_t)m->repaired,
	    "corrupt", (json_int_t)m->corrupt, "replaced",
	    (json_int_t)m->replaced, "lost", (json_int_t)m->lost);
}

json_t *
ctl_actor_json(const roost_actor_info_t *a, double rate, bool has_rate)
{
	bool sup = (a->flags & ROOST_ACTOR_F_ROOSTD) != 0;
	char addr[32];
	json_t *o;
	json_t *last = json_null();

	if (sup && a->last_exit[0] != '\0')
		last = json_pack("{s:s, s:i, s:i}", "reason", a->last_exit,
		                 "status", (int)a->last_status, "signal",
		                 (int)a->last_signal);
	o = json_pack("{s:o, s:s, s:I, s:i, s:i, s:i, s:s, s:b, s:b, s:b, "
	              "s:b}",
	              "name", ctl_json_str_or_null(a->name), "address",
	              ctl_fmt_aid(a->aid, addr, sizeof(addr)), "aid",
	              (json_int_t)a->aid.id, "slot",
	              (int)roost_aid_slot(a->aid), "generation",
	              (int)roost_aid_gen(a->aid), "pid", (int)a->pid, "state",
	              roost_actor_state_name(a->state), "supervised",
	              (a->flags & ROOST_ACTOR_F_SUPERVISED) != 0, "roostd",
	              sup, "daemon", (a->flags & ROOST_ACTOR_F_DAEMON) != 0,
	              "oneshot", (a->flags & ROOST_ACTOR_F_ONESHOT) != 0);
	json_object_set_new(o, "restart",
	                    sup ? json_string(ctl_restart_name(a->restart))
	                        : json_null());
	json_object_set_new(o, "restarts",
	                    sup ? json_integer(a->restarts) : json_null());
	json_object_set_new(o, "group",
	                    sup ? json_string(a->group) : json_null());
	json_object_set_new(o, "last_exit", last);
	json_object_set_new(
	    o, "uptime_ms",
	    a->uptime_ns != 0
	        ? json_integer((json_int_t)(a->uptime_ns / 1000000u))
	        : json_null());
	json_object_set_new(o, "deadletters",
	                    sup ? json_integer(a->deadletters) : json_null());
	json_object_set_new(o, "mailbox", mbox_json(a));
	json_object_set_new(o, "mailbox_error",
	                    a->mbox_err != 0
	                        ? json_string(roost_strerror(a->mbox_err))
	                        : json_null());
	json_object_set_new(o, "rate",
	                    has_rate ? json_real(rate) : json_null());
	return o;
}
