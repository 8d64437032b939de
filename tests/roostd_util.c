/* SPDX-License-Identifier: MIT */
/*
 * roostd_util.c - driving the real roostd binary from tests.
 */
#include "roostd_util.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

char rsys[64];
char cfgpath[128];

void
ru_setup_names(void)
{
	snprintf(rsys, sizeof(rsys), "%s-d", tu_sys);
	snprintf(cfgpath, sizeof(cfgpath), "/tmp/roostd-test-%d.ini",
	         (int)getpid());
}

void
ru_write_config(const char *body)
{
	FILE *f;

	f = fopen(cfgpath, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, body, ECHO_BIN, ECHO_BIN, ECHO_BIN, ECHO_BIN);
	fclose(f);
}

static const char *
logpath(void)
{
	static char path[160];

	snprintf(path, sizeof(path), "%s.log", cfgpath);
	return path;
}

/* $ROOSTD_WRAPPER (say "valgrind -q --error-exitcode=99") runs roostd
 * under a tool: its words come first on the command line. */
static void
exec_roostd(void)
{
	char *argv[32];
	char *words = getenv("ROOSTD_WRAPPER");
	char *save = NULL;
	int n = 0;

	if (words != NULL)
		words = strdup(words);
	for (char *w = words ? strtok_r(words, " ", &save) : NULL;
	     w != NULL && n < 24; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n++] = (char *)ROOSTD_BIN;
	argv[n++] = (char *)"--system";
	argv[n++] = rsys;
	argv[n++] = (char *)"--config";
	argv[n++] = cfgpath;
	argv[n++] = (char *)"--foreground";
	argv[n] = NULL;
	execvp(argv[0], argv);
	_exit(126);
}

/*
 * roostd is forked with SIGTERM and SIGINT blocked, and waits so until
 * its main installs its handlers (roostd unblocks them). A SIGTERM sent
 * at once therefore kills neither roostd before its main nor the copy
 * of this test before the exec, whose inherited Check handler would pass
 * it on to the whole process group, the test included.
 */
pid_t
ru_start_roostd(int errfd)
{
	sigset_t term, old;
	pid_t pid;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		/* Without a pipe, the log goes next to the config: a failed
		 * test leaves it there to read. */
		if (errfd >= 0)
			dup2(errfd, 2);
		else
			(void)!freopen(logpath(), "a", stderr);
		exec_roostd();
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	ck_assert_int_ge(pid, 0);
	return pid;
}

void
ru_slurp(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len && (n = read(fd, buf + got, len - got - 1)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
}

int
ru_run_roostd(char *err, size_t len)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = ru_start_roostd(p[1]);
	close(p[1]);
	ru_slurp(p[0], err, len);
	return tu_wait(pid, TU_PATIENCE_MS);
}

/* True once a live process holds the name "roostd" in rsys. Looks
 * without attaching: an attached client would make a stale system look
 * alive to a starting roostd. */
static bool
roostd_up(void)
{
	struct roost__slot_view sv;
	struct roost__sys sy;
	bool up = false;
	uint32_t i;

	if (roost__sys_open(&sy, rsys) < 0)
		return false;
	for (i = 0; i < sy.sy_fixed.sf_nslots && !up; i++)
		up = roost__sys_slot_read(&sy, i, &sv) == 0 &&
		     sv.sv_state == ROOST_SLOT_ACTIVE &&
		     strcmp(sv.sv_name, "roostd") == 0 &&
		     roost__plat_proc_alive(sv.sv_pid, sv.sv_pid_start);
	roost__sys_close(&sy);
	return up;
}

void
ru_wait_up(void)
{
	int i;

	for (i = 0; i < 1000 && !roostd_up(); i++)
		usleep(5000);
	ck_assert_msg(roostd_up(), "roostd did not come up");
}

roost_ctx_t *
ru_open_when_up(void)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;

	ru_wait_up();
	roost_ctx_opts_init(&o);
	o.system = rsys;
	ck_assert_int_eq(roost_ctx_open(&ctx, &o), 0);
	return ctx;
}

void
ru_stop_roostd(pid_t rd)
{
	kill(rd, SIGTERM);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}

void
ru_finishes_shutdown(pid_t rd, int status)
{
	ck_assert_int_eq(tu_wait(rd, 30000), status);
	ck_assert_msg(ru_log_has("finishing its shutdown"),
	              "no 'finishing its shutdown' in roostd's log");
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}

bool
ru_log_has(const char *needle)
{
	return tu_file_has(logpath(), needle);
}

void
ru_cleanup(void)
{
	unlink(cfgpath);
	unlink(logpath());
}

static bool
is_kind(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == *(uint32_t *)arg;
}

roost_msg_t *
ru_take_kind(roost_ctx_t *ctx, uint32_t kind, int ms)
{
	roost_msg_t *m = NULL;

	ck_assert_int_eq(roost_recv_match(ctx, &m, ROOST_LANE_ANY, is_kind,
	                                  &kind, ms), 0);
	return m;
}

static bool
is_reply(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == KIND_REPLY &&
	       roost_msg_corr(m) == *(uint64_t *)arg;
}

int32_t
ru_echo_pid(roost_ctx_t *ctx, roost_aid_t aid)
{
	static uint64_t corr = 1u << 30;
	roost_msg_t *m;
	int32_t pid;

	corr++;
	ck_assert_int_eq(roost_send_ex(ctx, aid, KIND_PID, 0, corr, NULL, 0,
	                               5000), 0);
	ck_assert_int_eq(roost_recv_match(ctx, &m, ROOST_LANE_SYSTEM, is_reply,
	                                  &corr, TU_PATIENCE_MS), 0);
	ck_assert_uint_eq(roost_msg_size(m), sizeof(pid));
	memcpy(&pid, roost_msg_data(m), sizeof(pid));
	return pid;
}
