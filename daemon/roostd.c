/* SPDX-License-Identifier: MIT */
/*
 * roostd.c - the supervisor daemon (first slice): creates a system from
 * its config, spawns the actors in order as SUPERVISED, restarts them by
 * policy keeping their address and mailbox (reattach), gives up on an
 * actor that restarts too often, and on SIGTERM/SIGINT stops them in
 * reverse order (a graceful stop on the system lane, then SIGTERM, then
 * SIGKILL, each after the actor's timeout) and removes every
 * shared-memory object of the system before exiting 0.
 *
 * Not yet (issue 3): alarms, groups and strategies, spawn requests from actors, adoption of a running
 * system after roostd's own death, sd_notify.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS 100
#define ATTACH_WAIT_MS 5000
#define INTENSITY_MAX 5       /* restarts of one actor ... */
#define INTENSITY_SECONDS 10  /* ... within this many seconds */
#define HEARTBEAT_STALE_NS (2ull * 1000000000u)

enum { LOG_ERR, LOG_INFO, LOG_DEBUG };

struct rd_child {
	const struct rd_actor *ch_actor;
	pid_t ch_pid;          /* 0: not running */
	roost_aid_t ch_aid;    /* its address once attached */
	uint64_t ch_restarts[INTENSITY_MAX];
	unsigned ch_nrestarts;
	bool ch_done;          /* exited for good */
};

static int log_level = LOG_INFO;

static void
rd_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	fprintf(stderr, "roostd[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: roostd [--system NAME] [--config FILE] [--foreground]\n"
	        "              [--log-level error|info|debug]\n"
	        "exit status: 0 clean shutdown, 1 runtime failure, 2 bad "
	        "arguments or config\n");
}

/* Find the address the child 'pid' attached under, waiting a while. */
static roost_aid_t
wait_attached(struct roost__sys *sy, pid_t pid)
{
	struct roost__slot_view sv;
	siginfo_t info;
	uint32_t i;
	int t;

	for (t = 0; t < ATTACH_WAIT_MS * 5; t++) {
		for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
			if (roost__sys_slot_read(sy, i, &sv) == 0 &&
			    sv.sv_state == ROOST_SLOT_ACTIVE && sv.sv_pid == pid)
				return roost__aid_make(i, sv.sv_gen);
		}
		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, (id_t)pid, &info,
		           WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid == pid)
			break; /* exited before attaching; the loop reaps it */
		usleep(200);
	}
	return ROOST_AID_NONE;
}

static int
spawn(struct roost__sys *sy, struct rd_child *ch)
{
	const struct rd_actor *a = ch->ch_actor;
	char aid_hex[17];
	uint64_t t0 = roost__plat_now_ns();
	sigset_t none;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setenv("ROOST_SYSTEM", sy->sy_name, 1);
		setenv("ROOST_ACTOR", a->ra_name, 1);
		setenv("ROOST_SUPERVISED", "1", 1);
		if (ch->ch_aid.id != 0) {
			snprintf(aid_hex, sizeof(aid_hex), "%016llx",
			         (unsigned long long)ch->ch_aid.id);
			setenv("ROOST_REATTACH", aid_hex, 1);
		} else {
			unsetenv("ROOST_REATTACH");
		}
		execv(a->ra_program, a->ra_argv);
		fprintf(stderr, "roostd: exec %s: %s\n", a->ra_program,
		        strerror(errno));
		_exit(127);
	}
	ch->ch_pid = pid;
	if (ch->ch_aid.id == 0) {
		ch->ch_aid = wait_attached(sy, pid);
		/* Spawn-to-ready: fork until its mailbox is published. */
		rd_log(LOG_INFO, "started %s (pid %d, address %u.%u, ready in "
		       "%.2f ms)", a->ra_name, (int)pid, roost_aid_slot(ch->ch_aid),
		       roost_aid_gen(ch->ch_aid),
		       (double)(roost__plat_now_ns() - t0) / 1e6);
	} else {
		rd_log(LOG_INFO, "restarted %s (pid %d, address %u.%u)",
		       a->ra_name, (int)pid, roost_aid_slot(ch->ch_aid),
		       roost_aid_gen(ch->ch_aid));
	}
	return 0;
}

/* True if this restart stays within the intensity limit. */
static bool
within_intensity(struct rd_child *ch)
{
	uint64_t now = roost__plat_now_ns();
	uint64_t oldest = ch->ch_restarts[ch->ch_nrestarts % INTENSITY_MAX];

	if (ch->ch_nrestarts >= INTENSITY_MAX &&
	    now - oldest < (uint64_t)INTENSITY_SECONDS * 1000000000u)
		return false;
	ch->ch_restarts[ch->ch_nrestarts % INTENSITY_MAX] = now;
	ch->ch_nrestarts++;
	return true;
}

static void
describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (status 0x%x)", status);
}

/*
 * A child exited: restart it by policy, or release its slot for good.
 * Returns -1 when an actor restarted too often (the system must stop).
 */
static int
on_exit_status(struct roost__sys *sy, struct rd_child *ch, int status)
{
	const struct rd_actor *a = ch->ch_actor;
	bool abnormal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	bool restart;
	char why[96];

	describe_exit(status, why, sizeof(why));
	ch->ch_pid = 0;
	restart = a->ra_restart == RD_PERMANENT ||
	          (a->ra_restart == RD_TRANSIENT && abnormal);
	rd_log(abnormal ? LOG_ERR : LOG_INFO, "%s %s%s", a->ra_name, why,
	       restart ? "; restarting" : "");
	if (restart && !within_intensity(ch)) {
		rd_log(LOG_ERR,
		       "%s restarted %d times within %d s: giving up and "
		       "stopping the system", a->ra_name, INTENSITY_MAX,
		       INTENSITY_SECONDS);
		restart = false;
		ch->ch_done = true;
		if (ch->ch_aid.id != 0)
			roost__sys_release_dead(sy, ch->ch_aid);
		return -1;
	}
	if (restart && spawn(sy, ch) == 0)
		return 0;
	ch->ch_done = true;
	if (ch->ch_aid.id != 0)
		roost__sys_release_dead(sy, ch->ch_aid);
	return 0;
}

static int
reap(struct roost__sys *sy, struct rd_child *kids, int n)
{
	int status;
	int rc = 0;
	pid_t pid;
	int i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n; i++) {
			if (kids[i].ch_pid == pid && on_exit_status(sy, &kids[i],
			                                            status) < 0)
				rc = -1;
		}
	}
	return rc;
}

/* Wait up to 'ms' for 'pid' to exit. True if it did. */
static bool
wait_exit(pid_t pid, uint32_t ms)
{
	uint32_t waited;
	int status;

	for (waited = 0;; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) != 0)
			return true;
		if (waited >= ms)
			return false;
		usleep(10000);
	}
}

/*
 * Stop one child: a graceful stop through its system lane (it handles
 * what was queued before, then exits), then after its shutdown timeout
 * SIGTERM, then after another timeout SIGKILL.
 */
static void
stop_child(roost_ctx_t *ctx, struct rd_child *ch)
{
	const struct rd_actor *a = ch->ch_actor;
	uint32_t ms = a->ra_shutdown_ms;
	int status;

	if (ch->ch_pid <= 0)
		return;
	if (ctx != NULL && ch->ch_aid.id != 0 &&
	    roost_stop(ctx, ch->ch_aid) == 0 && wait_exit(ch->ch_pid, ms))
		goto out;
	rd_log(LOG_INFO, "%s did not stop in %u ms: SIGTERM", a->ra_name, ms);
	kill(ch->ch_pid, SIGTERM);
	if (wait_exit(ch->ch_pid, ms))
		goto out;
	rd_log(LOG_INFO, "%s did not stop in %u ms: SIGKILL", a->ra_name, ms);
	kill(ch->ch_pid, SIGKILL);
	waitpid(ch->ch_pid, &status, 0);
out:
	ch->ch_pid = 0;
}

/* Create the system, removing a stale one (no live roostd, no live
 * actors) first. Returns 0, or 1 with the reason logged. */
static int
create_system(const char *name, const roost_sys_opts_t *opts)
{
	struct roost__sys sy;
	struct roost__slot_view sv;
	int32_t owner;
	uint64_t beat;
	uint32_t i;
	int rc;

	rc = roost_system_create(name, opts);
	if (rc != -EEXIST)
		goto out;
	rc = roost__sys_open(&sy, name);
	if (rc == 0) {
		owner = roost__load_rlx(&sy.sy_hdr->sh_owner_pid);
		beat = roost__load_rlx(&sy.sy_hdr->sh_heartbeat_ns);
		if (owner > 0 && kill(owner, 0) == 0 &&
		    roost__plat_now_ns() - beat < HEARTBEAT_STALE_NS) {
			rd_log(LOG_ERR, "system '%s' is already run by roostd pid %d",
			       name, (int)owner);
			roost__sys_close(&sy);
			return 1;
		}
		for (i = 0; i < sy.sy_fixed.sf_nslots; i++) {
			if (roost__sys_slot_read(&sy, i, &sv) == 0 &&
			    sv.sv_state != ROOST_SLOT_FREE &&
			    roost__plat_proc_alive(sv.sv_pid, sv.sv_pid_start)) {
				rd_log(LOG_ERR,
				       "system '%s' has no roostd but live actors "
				       "(pid %d); adopting it is not implemented "
				       "yet", name, (int)sv.sv_pid);
				roost__sys_close(&sy);
				return 1;
			}
		}
		roost__sys_close(&sy);
	}
	rd_log(LOG_INFO, "removing stale system '%s' (its roostd and actors "
	       "are gone)", name);
	roost_system_destroy(name);
	rc = roost_system_create(name, opts);
out:
	if (rc < 0) {
		rd_log(LOG_ERR, "cannot create system '%s': %s", name,
		       roost_strerror(rc));
		return 1;
	}
	return 0;
}

static void
heartbeat(struct roost__sys *sy)
{
	/* Relaxed: liveness hints only (shm_format.h). */
	roost__store_rlx(&sy->sy_hdr->sh_owner_pid, (int32_t)getpid());
	roost__store_rlx(&sy->sy_hdr->sh_heartbeat_ns, roost__plat_now_ns());
}

static int
detach(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	if (freopen("/dev/null", "r", stdin) == NULL ||
	    freopen("/dev/null", "w", stdout) == NULL ||
	    freopen("/dev/null", "w", stderr) == NULL)
		return -1;
	return 0;
}

/* Supervise until a stop signal or a give-up; then stop everything.
 * 'ctx' is roostd's own context (for graceful stops), or NULL. */
static int
run(struct roost__sys *sy, roost_ctx_t *ctx, struct rd_child *kids, int n)
{
	struct timespec tick = {0, HEARTBEAT_MS * 1000000L};
	sigset_t set;
	int failed = 0;
	int sig;
	int i;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (i = 0; i < n && !failed; i++)
		if (spawn(sy, &kids[i]) < 0)
			failed = 1;
	while (!failed) {
		heartbeat(sy);
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			rd_log(LOG_INFO, "signal %d: shutting down", sig);
			break;
		}
		if (reap(sy, kids, n) < 0)
			failed = 1;
	}
	for (i = n - 1; i >= 0; i--)
		stop_child(ctx, &kids[i]);
	return failed;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"system", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct rd_config cfg;
	static struct rd_child kids[RD_MAX_ACTORS];
	const char *system = NULL;
	const char *config = NULL;
	struct roost__sys sy;
	roost_ctx_opts_t copts;
	roost_ctx_t *ctx = NULL;
	bool foreground = false;
	sigset_t set;
	int failed;
	int opt;
	int rc;
	int i;

	while ((opt = getopt_long(argc, argv, "s:c:fl:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': system = optarg; break;
		case 'c': config = optarg; break;
		case 'f': foreground = true; break;
		case 'l':
			if (strcmp(optarg, "error") == 0)
				log_level = LOG_ERR;
			else if (strcmp(optarg, "info") == 0)
				log_level = LOG_INFO;
			else if (strcmp(optarg, "debug") == 0)
				log_level = LOG_DEBUG;
			else {
				fprintf(stderr, "roostd: bad --log-level '%s'\n",
				        optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	system = roost__system_resolve(system);
	if (system == NULL) {
		fprintf(stderr, "roostd: bad system name (1-31 of A-Z a-z 0-9 "
		        "_ -)\n");
		return 2;
	}
	if (config != NULL && rd_config_load(&cfg, config) < 0) {
		fprintf(stderr, "roostd: %s\n", cfg.rc_error);
		rd_config_free(&cfg);
		return 2;
	}
	if (config == NULL)
		roost_sys_opts_init(&cfg.rc_sys);
	/* Signals are taken synchronously in run(); block them first. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (create_system(system, &cfg.rc_sys) != 0) {
		rd_config_free(&cfg);
		return 1;
	}
	rc = roost__sys_open(&sy, system);
	if (rc < 0) {
		rd_log(LOG_ERR, "cannot open system '%s': %s", system,
		       roost_strerror(rc));
		roost_system_destroy(system);
		rd_config_free(&cfg);
		return 1;
	}
	if (!foreground && detach() < 0) {
		roost_system_destroy(system);
		return 1;
	}
	heartbeat(&sy);
	/* roostd is an actor too: a well-known name, and the sender of
	 * graceful stops. */
	roost_ctx_opts_init(&copts);
	copts.system = system;
	copts.name = "roostd";
	rc = roost_ctx_open(&ctx, &copts);
	if (rc < 0) {
		rd_log(LOG_ERR, "cannot open roostd's own mailbox: %s "
		       "(stops will use signals only)", roost_strerror(rc));
		ctx = NULL;
	}
	rd_log(LOG_INFO, "system '%s' up, %d actor(s)", system, cfg.rc_nactors);
	for (i = 0; i < cfg.rc_nactors; i++)
		kids[i].ch_actor = &cfg.rc_actors[i];
	failed = run(&sy, ctx, kids, cfg.rc_nactors);
	roost_ctx_close(ctx);
	roost__sys_close(&sy);
	roost_system_destroy(system);
	rd_log(LOG_INFO, "system '%s' removed%s", system,
	       failed ? " after a failure" : "");
	rd_config_free(&cfg);
	return failed ? 1 : 0;
}
