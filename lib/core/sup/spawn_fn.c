/* SPDX-License-Identifier: MIT */
/*
 * spawn_fn.c - one-shot actors: a function run in a forked child that is
 * an actor of its own until the function returns.
 */
#include "core/sup/sup.h"

/* What the one-shot tells its caller through the pipe. */
struct oneshot_hello {
	int32_t oh_rc;
	uint64_t oh_aid;
};

/* What the grandchild needs: it starts as a copy of the caller. */
struct oneshot_args {
	const char *oa_system;
	roost_actor_fn oa_fn;
	void *oa_arg;
	const char *oa_name;
	uint32_t oa_flags;
};

/* In the grandchild: attach, get watched, report, run, exit. Never
 * returns; never touches the caller's context (its copy is stale). */
static void
oneshot_main(void *argp, int fd)
{
	const struct oneshot_args *a = argp;
	struct oneshot_hello hello;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	int status;

	memset(&hello, 0, sizeof(hello)); /* padding too: it is written out */
	roost_ctx_opts_init(&o);
	o.system = a->oa_system;
	o.name = a->oa_name;
	hello.oh_rc = roost_ctx_open(&ctx, &o);
	if (hello.oh_rc == 0)
		hello.oh_rc = roost__watch_self(ctx, a->oa_flags);
	if (hello.oh_rc == 0)
		hello.oh_aid = roost_self(ctx).id;
	if (roost__plat_write_full(fd, &hello, sizeof(hello)) < 0 ||
	    hello.oh_rc < 0) {
		roost_ctx_close(ctx);
		roost__plat_exit(127);
	}
	roost__plat_close(fd);
	status = a->oa_fn(ctx, a->oa_arg) & 0xff;
	roost__oneshot_done(ctx, status);
	roost_ctx_close(ctx);
	roost__plat_exit(status);
}

int
roost_spawn_fn(roost_ctx_t *ctx, roost_actor_fn fn, void *arg,
               const char *name, uint32_t flags, roost_aid_t *out)
{
	struct oneshot_args a = {NULL, fn, arg, name, flags};
	struct oneshot_hello hello;
	int fd;
	int rc;

	if (ctx == NULL || fn == NULL || out == NULL ||
	    (flags & ~ROOST_SPAWN_DAEMON) != 0 ||
	    (name != NULL && !roost__name_valid(name)))
		return -EINVAL;
	a.oa_system = ctx->cx_sys.sy_name;
	/* Forked twice: the one-shot is nobody's child but init's (or a
	 * subreaper's), so the caller never has to reap it; roostd watches
	 * it through a pidfd. */
	rc = roost__plat_spawn_detached(oneshot_main, &a, &fd);
	if (rc < 0)
		return rc;
	rc = roost__plat_read_full(fd, &hello, sizeof(hello),
	                           ROOST_ROOSTD_TIMEOUT_MS + 1000);
	roost__plat_close(fd);
	if (rc < 0)
		return rc;
	if (hello.oh_rc < 0)
		return hello.oh_rc;
	out->id = hello.oh_aid;
	return 0;
}
