/* SPDX-License-Identifier: MIT */
/*
 * spawn_fn.c - one-shot actors: a function run in a forked child that is
 * an actor of its own until the function returns.
 */
#include "roost_impl.h"
#include "core/proto.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the one-shot tells its caller through the pipe. */
struct oneshot_hello {
	int32_t oh_rc;
	uint64_t oh_aid;
};

/* In the grandchild: attach, get watched, report, run, exit. Never
 * returns; never touches the caller's context (its copy is stale). */
static void
oneshot_main(const char *system, roost_actor_fn fn, void *arg,
             const char *name, uint32_t flags, int fd)
{
	struct oneshot_hello hello;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	int status;

	memset(&hello, 0, sizeof(hello)); /* padding too: it is written out */
	roost_ctx_opts_init(&o);
	o.system = system;
	o.name = name;
	hello.oh_rc = roost_ctx_open(&ctx, &o);
	if (hello.oh_rc == 0)
		hello.oh_rc = roost__watch_self(ctx, flags);
	if (hello.oh_rc == 0)
		hello.oh_aid = roost_self(ctx).id;
	if (write(fd, &hello, sizeof(hello)) != (ssize_t)sizeof(hello) ||
	    hello.oh_rc < 0) {
		roost_ctx_close(ctx);
		_exit(127);
	}
	close(fd);
	status = fn(ctx, arg) & 0xff;
	roost__oneshot_done(ctx, status);
	roost_ctx_close(ctx);
	_exit(status);
}

/* Read the child's hello, waiting at most 'ms'. */
static int
read_hello(int fd, int ms, struct oneshot_hello *hello)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(*hello)) {
		n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)hello + got, sizeof(*hello) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ECHILD; /* died before it could say anything */
		got += (size_t)n;
	}
	return 0;
}

int
roost_spawn_fn(roost_ctx_t *ctx, roost_actor_fn fn, void *arg,
               const char *name, uint32_t flags, roost_aid_t *out)
{
	struct oneshot_hello hello;
	pid_t mid;
	pid_t pid;
	int fds[2];
	int status;
	int rc;

	if (ctx == NULL || fn == NULL || out == NULL ||
	    (flags & ~ROOST_SPAWN_DAEMON) != 0 ||
	    (name != NULL && !roost__name_valid(name)))
		return -EINVAL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	/* Fork twice: the one-shot is nobody's child but init's (or a
	 * subreaper's), so the caller never has to reap it; roostd watches
	 * it through a pidfd. */
	mid = fork();
	if (mid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	if (mid == 0) {
		close(fds[0]);
		pid = fork();
		if (pid == 0)
			oneshot_main(ctx->cx_sys.sy_name, fn, arg, name, flags,
			             fds[1]);
		_exit(pid < 0 ? 1 : 0);
	}
	close(fds[1]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	rc = read_hello(fds[0], ROOST_ROOSTD_TIMEOUT_MS + 1000, &hello);
	close(fds[0]);
	if (rc < 0)
		return rc;
	if (hello.oh_rc < 0)
		return hello.oh_rc;
	out->id = hello.oh_aid;
	return 0;
}
