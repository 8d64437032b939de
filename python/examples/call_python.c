/* SPDX-License-Identifier: MIT */
/*
 * call_python.c - a C client of a Python actor (counter.py under roostd),
 * on the public API only. The wire is docs/python.md: a method's kind is
 * FNV-1a of its name folded into 0x10000000..0x6fffffff, arguments and
 * results are one MessagePack value, a result comes back as kind
 * 0x7fff0001 and an exception as kind 0x7fff0002 with a map
 * {"type", "message"}.
 *
 *   call_python SYSTEM     (the counter is registered as "counter")
 */
#include <roost.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PY_KIND_MIN    0x10000000u
#define PY_KIND_MAX    0x6fffffffu
#define PY_KIND_RESULT 0x7fff0001u
#define PY_KIND_ERROR  0x7fff0002u

/* The kind of the Python method 'name' (roost.kind_of). */
static uint32_t
py_kind(const char *name)
{
	uint32_t h = 0x811c9dc5u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x01000193u;
	return PY_KIND_MIN + h % (PY_KIND_MAX - PY_KIND_MIN + 1);
}

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "call_python: %s: %s\n", what, roost_strerror(rc));
	return 1;
}

int
main(int argc, char **argv)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *r;
	roost_aid_t counter;
	int64_t total;
	char type[64];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: call_python SYSTEM\n");
		return 2;
	}
	roost_ctx_opts_init(&o);
	o.system = argv[1];
	if ((rc = roost_ctx_open(&ctx, &o)) < 0)
		return fail("open", rc);
	if ((rc = roost_whereis(ctx, "counter", &counter)) < 0)
		return fail("whereis counter", rc);
	/* counter.add(7), three times: one-way sends of one int. */
	for (int i = 0; i < 3; i++)
		if ((rc = roost_send_packed(ctx, counter, py_kind("add"), 1000,
		                            "i", 7)) < 0)
			return fail("send add", rc);
	/* counter.call.report(): no argument (nil), a map back. */
	rc = roost_call_packed(ctx, counter, py_kind("report"), 5000, &r, "n");
	if (rc < 0)
		return fail("call report", rc);
	if (roost_msg_kind(r) != PY_KIND_RESULT ||
	    (rc = roost_msg_get_int(r, "total", &total)) < 0)
		return fail("report's answer", rc < 0 ? rc : ROOST_EPROTO);
	printf("call_python: counter's total is %lld\n", (long long)total);
	/* counter.call.add("x"): the handler raises; the answer says so. */
	rc = roost_call_packed(ctx, counter, py_kind("add"), 5000, &r, "s",
	                       "x");
	if (rc < 0)
		return fail("call add", rc);
	if (roost_msg_kind(r) != PY_KIND_ERROR ||
	    (rc = roost_msg_get_str(r, "type", type, sizeof(type))) < 0)
		return fail("the error answer", rc < 0 ? rc : ROOST_EPROTO);
	printf("call_python: add(\"x\") raised %s in Python\n", type);
	rc = roost_ctx_close(ctx);
	return rc == 0 && total == 21 && strcmp(type, "TypeError") == 0 ? 0
	                                                                : 1;
}
