/* SPDX-License-Identifier: MIT */
/*
 * fuzz_json.c - libFuzzer target: arbitrary bytes as the JSON argument of
 * `roostctl send` / `roostctl call`, through the very functions roostctl
 * uses (tools/ctl_json.c is compiled in): ctl_json_parse, then
 * ctl_json_to_msgpack. Nothing may crash, leak or read out of bounds.
 * When the conversion succeeds, the MessagePack must pass
 * roost_msgpack_valid() (what every receiver checks), and roostctl's own
 * decoder (ctl_payload_decode, used by inspect, deadletters and call)
 * must give the same JSON value back: structurally equal under
 * json_equal, with {"$bin": "HEX"} coming back as lowercase hex. Reals
 * are compared too: a JSON real becomes a MessagePack float64 and comes
 * back as the same double.
 */
#include "roostctl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* roostctl.c's, which this target does not link. ctl_err formats its
 * message (so a bad format argument still shows) but prints nothing. */
int
ctl_err(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *
ctl_names_get(const struct ctl_names *nm, roost_aid_t aid)
{
	(void)nm;
	(void)aid;
	return NULL;
}

/* True if 'j' has the shape ctl_json.c packs as bin. */
static bool
is_bin(const json_t *j)
{
	const json_t *h;

	return json_is_object(j) && json_object_size(j) == 1 &&
	       (h = json_object_get(j, "$bin")) != NULL && json_is_string(h);
}

/* What decoding should give back for 'j' (new reference): 'j' itself,
 * with the hex of every {"$bin": ...} in lowercase. */
static json_t *
expected(const json_t *j)
{
	const char *key;
	json_t *val;
	json_t *out;
	char *hex;
	size_t n;
	size_t i;

	if (is_bin(j)) {
		val = json_object_get(j, "$bin");
		n = json_string_length(val);
		hex = malloc(n + 1);
		if (hex == NULL)
			return NULL;
		for (i = 0; i < n; i++)
			hex[i] = (char)tolower(
			    (unsigned char)json_string_value(val)[i]);
		hex[n] = '\0';
		out = json_pack("{s:s%}", "$bin", hex, n);
		free(hex);
		return out;
	}
	if (json_is_array(j)) {
		out = json_array();
		for (i = 0; i < json_array_size(j); i++)
			json_array_append_new(out,
			                      expected(json_array_get(j, i)));
		return out;
	}
	if (json_is_object(j)) {
		out = json_object();
		json_object_foreach((json_t *)j, key, val)
		{
			json_object_set_new(out, key, expected(val));
		}
		return out;
	}
	return json_deep_copy(j);
}

static void
dump(const char *what, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	fprintf(stderr, "fuzz_json: %s: %s\n", what, s != NULL ? s : "?");
	free(s);
}

/* Decode 'mp' back the ways roostctl shows a payload; trap unless the
 * value is 'j' again. */
static void
check_round_trip(const json_t *j, const void *mp, size_t len)
{
	const char *why = NULL;
	json_t *back;
	json_t *want;
	json_t *obj;

	if (!roost_msgpack_valid(mp, len)) {
		fprintf(stderr, "fuzz_json: packed bytes fail "
		                "roost_msgpack_valid\n");
		__builtin_trap();
	}
	back = ctl_payload_decode(mp, len, &why);
	if (back == NULL) {
		dump("input", j);
		fprintf(stderr, "fuzz_json: does not decode: %s\n",
		        why != NULL ? why : "?");
		__builtin_trap();
	}
	want = expected(j);
	if (want == NULL || !json_equal(want, back)) {
		dump("input", j);
		dump("expected", want);
		dump("decoded", back);
		__builtin_trap();
	}
	json_decref(want);
	json_decref(back);
	/* The other two displays of a payload (inspect, ls). */
	obj = json_object();
	ctl_payload_json(obj, mp, len, true);
	if (json_object_get(obj, "payload") == NULL)
		__builtin_trap();
	json_decref(obj);
	ctl_payload_text(mp, len, true, 0);
	ctl_payload_text(mp, len, true, 20);
	ctl_payload_text(NULL, 0, true, 0); /* frees its static buffer */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_sbuffer sb;
	json_t *j = NULL;
	char *text;
	void *mp;

	/* A command-line argument: NUL-terminated, so it ends at the first
	 * NUL byte, as it would in argv. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (ctl_json_parse(text, &j) != 0) {
		free(text);
		return 0;
	}
	msgpack_sbuffer_init(&sb);
	if (ctl_json_to_msgpack(j, &sb) == 0) {
		/* An exact-size copy, so ASan sees a read past the end. */
		mp = malloc(sb.size);
		if (mp != NULL) {
			memcpy(mp, sb.data, sb.size);
			check_round_trip(j, mp, sb.size);
			free(mp);
		}
	}
	msgpack_sbuffer_destroy(&sb);
	json_decref(j);
	free(text);
	return 0;
}
