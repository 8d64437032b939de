/* SPDX-License-Identifier: MIT */
/*
 * roost_alarm_bench.c - roostd's alarms and spawns, measured end to end.
 *
 * The bench starts its own roostd on a system of its own ("abench-PID",
 * a temporary config with a 32768-entry alarm table), opens a client
 * context once roostd is up and measures, through the public API only:
 *
 *  - Alarm lateness: one-shot alarms to the bench itself with delays
 *    spread over 1..20 ms, armed 50 at a time (longest delay first, so
 *    every one is due after the arming ends) and then received. The
 *    payload is the intended due time, CLOCK_MONOTONIC at the call plus
 *    the delay; lateness is the receive time minus that, so it includes
 *    the request to roostd (whose call latency is reported as well, and
 *    lateness measured from the call's return). Each repetition measures
 *    with 10,000 "background" alarms pending (one hour away), cancels
 *    them, and measures again with the same delays and none pending.
 *  - Interval accuracy: a 1 ms interval for 1 s; ticks received against
 *    ticks expected, mean period and the p99 of |period - 1 ms|.
 *  - Spawn-to-ready: roost_spawn() of echo_actor (TEMPORARY), timed from
 *    the call to its return (the child has attached), then roost_kill().
 *    Interleaved with fork+exec+waitpid of /bin/true (the floor of process
 *    creation here) and of echo_actor with a bad argument (exec plus the
 *    dynamic loader, without attaching).
 *  - Alarms while actors stop: STOPPERS echo actors spawned with
 *    --linger 2000 (a stop sleeps 2 s, then exits), then
 *    roost_shutdown(): roostd stops all of them at once (one start
 *    order) and its loop must keep serving. Alarm lateness is measured
 *    as above (the "stopping" case) while they stop; the run checks, in
 *    /proc, that every one of them was still in its stop ("lingering")
 *    when the last alarm came, or the case is marked invalid.
 *  - Shutdown: the time from roost_shutdown() to roostd's exit (about
 *    one actor's 2 s stop when the stops run together), roostd's exit
 *    status, and that no /dev/shm object of the system is left.
 *
 * A MISS against a target is a result, not an error: the exit status is
 * non-zero only when something failed (roostd did not come up, a call
 * failed, an alarm never came, roostd did not exit 0 or left objects).
 * On any failure roostd is asked to shut down, then killed, and the
 * system's objects are removed.
 *
 * --json prints one object; its keys are stable:
 *   system, cpus, quick, reps, alarms, batch, background, spin_ns
 *   lateness.{bg0,bg10000,stopping}: n, min_us, median_us, p90_us,
 *     p99_us, max_us, from_reply_median_us, from_reply_p99_us (lateness
 *     counted from the call's return), call_median_us, call_p99_us
 *     (roost_send_after),
 *     armed_late (alarms due before their batch was armed: 0 expected),
 *     median_pass, p99_pass
 *   background_calls: arm_ms, cancel_ms (arrays, one per repetition:
 *     the time to arm, then to cancel, the 'background' alarms)
 *   interval: period_us, window_ms, expected, received, mean_period_us,
 *     jitter_p99_us, jitter_max_us, gaps (periods over 1.5 ms)
 *   spawn: n, median_ms, p90_ms, max_ms, target_ms, pass,
 *     true_median_ms, true_p90_ms, true_max_ms (fork+exec /bin/true),
 *     exec_median_ms, exec_p90_ms, exec_max_ms (fork+exec echo_actor)
 *   stops: actors, linger_ms, stopping_at_end (actors still in their
 *     stop when the last alarm came), valid (all of them),
 *     shutdown_ratio (shutdown ms / linger ms)
 *   shutdown: ms, exit_status, shm_left
 *   targets: lateness_median_us, lateness_p99_us (judged with 10,000
 *     pending), stopping_median_us, stopping_p99_us (judged while the
 *     actors stop), spawn_median_ms: each {limit, value, pass}
 *   stray: messages of an unexpected kind (0 expected)
 */
#include <roost.h>
#include <roost/view.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef ROOSTD_BIN
#error "ROOSTD_BIN must name the roostd executable"
#endif
#ifndef ECHO_BIN
#error "ECHO_BIN must name the echo_actor executable"
#endif

#define MBOX_BYTES (16u << 20)   /* the bench's own mailbox */
#define NTIMERS 32768            /* roostd's alarm table */
#define NSLOTS 256               /* roostd's actor table */
#define BACKGROUND 10000         /* alarms pending in the loaded case */
#define BG_DELAY_US 3600000000ull /* one hour: never fire while we run */
#define BATCH 50                 /* alarms armed, then received, at once */
#define DELAY_MIN_US 1000u
#define DELAY_MAX_US 20000u
#define ALARMS_DEF 2000          /* per case over all reps; --quick 300 */
#define ALARMS_QUICK 300
#define SPAWNS_DEF 20            /* --quick 5 */
#define SPAWNS_QUICK 5
#define REPS_DEF 10              /* --quick 1 */
#define REPS_MAX 40
#define TICK_US 1000u            /* the interval measured */
#define TICK_WINDOW_NS 1000500000ull /* 1 s, plus half a tick of slack */
#define RECV_TIMEOUT_MS 2000     /* an alarm this late counts as lost */
#define UP_TIMEOUT_MS 10000      /* roostd must be up within this */
#define EXIT_TIMEOUT_MS 15000    /* and gone within this after shutdown */
#define LATE_MEDIAN_US 200.0     /* targets */
#define LATE_P99_US 2000.0
#define SPAWN_MEDIAN_MS 5.0
#define STOPPERS 100             /* actors stopping during the case */
#define LINGER_MS 2000           /* each one's stop (echo_actor --linger) */
#define STOP_SHUTDOWN_MS 10000   /* roostd's timeout: never reached */
#define STOP_ALARMS_DEF 1000     /* alarms of that case; --quick 300 */
#define STOP_ALARMS_QUICK 300
#define STOPPING_WAIT_MS 10000   /* all of them in their stop within */

enum {
	KIND_ALARM = 1001,       /* measured one-shots; payload: due ns */
	KIND_BG = 1002,          /* background one-shots */
	KIND_TICK = 1003,        /* the interval */
};

enum { CASE_BG0, CASE_BGN, CASE_STOPPING, NCASES };

static const char *const case_json[NCASES] = {"bg0", "bg10000", "stopping"};

struct opts {
	bool op_quick;
	bool op_json;
	bool op_verbose;
	int op_reps;
	int op_alarms;           /* per case, over all reps */
	int op_stop_alarms;      /* of the stopping case */
	int op_spawns;
};

/* Sorted samples summarised, in ns. */
struct stats {
	size_t st_n;
	int64_t st_min;
	int64_t st_med;
	int64_t st_p90;
	int64_t st_p99;
	int64_t st_max;
};

/* Samples of one lateness case, appended over the reps. */
struct lcase {
	int64_t *lc_late;        /* receive - (call + delay) */
	int64_t *lc_reply;       /* receive - (return + delay) */
	int64_t *lc_call;        /* roost_send_after() call time */
	size_t lc_n;
	size_t lc_cap;
	int lc_armed_late;
};

struct interval_res {
	int ir_received;
	int ir_expected;
	int ir_gaps;
	double ir_mean_ns;
	struct stats ir_jitter;
};

struct spawn_res {
	struct stats sr_spawn;
	struct stats sr_true;
	struct stats sr_exec;
};

struct stops_res {
	pid_t so_pids[STOPPERS];
	int so_at_end;           /* still in their stop after the last alarm */
};

struct bench {
	struct opts bn_o;
	char bn_sys[ROOST_SYSTEM_NAME_MAX + 1];
	char bn_cfg[64];         /* the temporary config file */
	pid_t bn_roostd;         /* 0: none running */
	roost_ctx_t *bn_ctx;
	roost_aid_t bn_self;
	int64_t bn_spin_ns;
	struct lcase bn_case[NCASES];
	uint64_t *bn_bg_ids;     /* BACKGROUND timer ids */
	double bn_arm_ms[REPS_MAX];
	double bn_cancel_ms[REPS_MAX];
	struct interval_res bn_iv;
	struct spawn_res bn_sp;
	struct stops_res bn_so;
	double bn_exit_ms;
	int bn_exit_status;      /* roostd's wait status decoded; -1 signal */
	int bn_shm_left;
	int bn_stray;
};

/* ------------------------------------------------------------------ */
/* Small helpers. */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile 'p' (0..100] of 'n' sorted samples. */
static int64_t
percentile(const int64_t *s, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return s[rank == 0 ? 0 : rank - 1];
}

/* Sort 's' in place and summarise it; all zero when 'n' is 0. */
static void
stats_of(int64_t *s, size_t n, struct stats *st)
{
	memset(st, 0, sizeof(*st));
	if (n == 0)
		return;
	qsort(s, n, sizeof(*s), cmp_i64);
	st->st_n = n;
	st->st_min = s[0];
	st->st_med = percentile(s, n, 50);
	st->st_p90 = percentile(s, n, 90);
	st->st_p99 = percentile(s, n, 99);
	st->st_max = s[n - 1];
}

static double
us(int64_t ns)
{
	return (double)ns / 1e3;
}

static double
ms(int64_t ns)
{
	return (double)ns / 1e6;
}

/* xorshift64: the same delays for both cases of a repetition. */
static uint64_t
rnd_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static int
cmp_u32_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return x > y ? -1 : x < y;
}

/* Reap 'pid' within 'timeout_ms'. Returns its wait status, -ETIMEDOUT
 * (still running) or a negative errno. */
static int
wait_pid(pid_t pid, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status & 0x7fffffff;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
}

/* ------------------------------------------------------------------ */
/* roostd: start, wait until up, stop, and clean up after a failure. */

/* The temporary config: the alarm table and actor table sizes. */
static int
config_write(struct bench *b)
{
	int fd;
	int rc = 0;

	snprintf(b->bn_cfg, sizeof(b->bn_cfg), "/tmp/roost_alarm_bench-XXXXXX");
	fd = mkstemp(b->bn_cfg);
	if (fd < 0) {
		b->bn_cfg[0] = '\0';
		return -errno;
	}
	if (dprintf(fd, "[system]\ntimers = %u\nslots = %u\n", NTIMERS,
	            NSLOTS) < 0)
		rc = -EIO;
	close(fd);
	return rc;
}

/* In the forked child: become roostd. Never returns. */
static void
exec_roostd(const struct bench *b, pid_t parent)
{
	char *argv[] = {
		(char *)ROOSTD_BIN, (char *)"--system", (char *)b->bn_sys,
		(char *)"--config", (char *)b->bn_cfg, (char *)"--foreground",
		NULL,
	};

	/* Shut down cleanly (SIGTERM) if the bench dies first. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (!b->bn_o.op_verbose) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	execv(argv[0], argv);
	_exit(127);
}

/* Objects of our system left in /dev/shm: "roost.UID.SYS" followed by
 * nothing, '.' (mailboxes, the alarm table) or '~' (roostd's lock). */
static int
shm_left(const char *sys)
{
	char prefix[96];
	struct dirent *de;
	size_t n;
	DIR *d;
	int left = 0;
	char c;

	n = (size_t)snprintf(prefix, sizeof(prefix), "roost.%u.%s",
	                     (unsigned)geteuid(), sys);
	d = opendir("/dev/shm");
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, n) != 0)
			continue;
		c = de->d_name[n];
		if (c == '\0' || c == '.' || c == '~')
			left++;
	}
	closedir(d);
	return left;
}

/* Remove what a killed roostd leaves: the system's objects and its lock
 * (roost_system_destroy() spares the lock; see take_lock() in roostd). */
static void
shm_remove(const char *sys)
{
	char lock[96];

	roost_system_destroy(sys);
	snprintf(lock, sizeof(lock), "/roost.%u.%s~lock", (unsigned)geteuid(),
	         sys);
	shm_unlink(lock);
}

/* True once the system segment of 'sys' exists with its full size, so
 * that an open sees either a published system or -EAGAIN, never a
 * half-created object (which fails validation). */
static bool
system_exists(const char *sys)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/roost.%u.%s",
	         (unsigned)geteuid(), sys);
	return stat(path, &st) == 0 && st.st_size > 0;
}

/* -ECHILD if roostd has exited already (it is reaped). */
static int
roostd_check(struct bench *b)
{
	if (waitpid(b->bn_roostd, NULL, WNOHANG) != b->bn_roostd)
		return 0;
	b->bn_roostd = 0;
	return -ECHILD;
}

/*
 * Fork and exec roostd; once its system exists, open the bench's context
 * and wait until the name "roostd" is registered. On success b->bn_ctx
 * is open and b->bn_roostd runs; on failure the caller cleans up with
 * roostd_abort().
 */
static int
roostd_start(struct bench *b)
{
	uint64_t deadline;
	roost_ctx_opts_t o;
	roost_aid_t aid;
	pid_t parent = getpid();
	pid_t pid;
	int rc;

	rc = config_write(b);
	if (rc < 0)
		return rc;
	/* A system of this name can only be left by an earlier bench that
	 * had our pid; roostd would adopt it if we were attached. */
	if (shm_left(b->bn_sys) > 0)
		shm_remove(b->bn_sys);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_roostd(b, parent);
	b->bn_roostd = pid;
	deadline = now_ns() + (uint64_t)UP_TIMEOUT_MS * 1000000u;
	while (!system_exists(b->bn_sys)) {
		if ((rc = roostd_check(b)) < 0)
			return rc;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(2);
	}
	roost_ctx_opts_init(&o);
	o.system = b->bn_sys;
	o.mbox_bytes = MBOX_BYTES;
	/* -EAGAIN until roostd has published the system. */
	while ((rc = roost_ctx_open(&b->bn_ctx, &o)) == -EAGAIN) {
		if ((rc = roostd_check(b)) < 0)
			return rc;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(2);
	}
	if (rc < 0)
		return rc;
	while ((rc = roost_whereis(b->bn_ctx, "roostd", &aid)) == -ENOENT) {
		if ((rc = roostd_check(b)) < 0)
			return rc;
		if (now_ns() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(2);
	}
	if (rc < 0)
		return rc;
	b->bn_self = roost_self(b->bn_ctx);
	return roost_ctx_get_int(b->bn_ctx, "spin-ns", &b->bn_spin_ns);
}

/*
 * The normal end, once roost_shutdown() was answered at 't0': wait for
 * roostd's exit and look for leftovers. Returns 0, or -ECHILD when
 * roostd did not exit 0 or left objects (the figures are kept either
 * way).
 */
static int
roostd_finish(struct bench *b, uint64_t t0)
{
	int status;

	status = wait_pid(b->bn_roostd, EXIT_TIMEOUT_MS);
	if (status < 0)
		return status;
	b->bn_roostd = 0;
	b->bn_exit_ms = ms((int64_t)(now_ns() - t0));
	b->bn_exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	b->bn_shm_left = shm_left(b->bn_sys);
	if (b->bn_shm_left != 0)
		shm_remove(b->bn_sys);
	if (b->bn_exit_status != 0 || b->bn_shm_left != 0)
		return -ECHILD;
	return 0;
}

/* After a failure: a graceful shutdown if roostd still answers, else
 * SIGKILL; then remove whatever is left. */
static void
roostd_abort(struct bench *b)
{
	if (b->bn_ctx != NULL) {
		/* Its actors go with it only on a real shutdown. A dead
		 * roostd is not asked: until reaped it looks alive, and the
		 * call would wait out its whole timeout. */
		if (b->bn_roostd > 0 && roostd_check(b) == 0)
			roost_shutdown(b->bn_ctx);
		roost_ctx_close(b->bn_ctx);
		b->bn_ctx = NULL;
	}
	if (b->bn_roostd > 0) {
		if (wait_pid(b->bn_roostd, 2000) < 0) {
			kill(b->bn_roostd, SIGKILL);
			wait_pid(b->bn_roostd, 5000);
		}
		b->bn_roostd = 0;
	}
	shm_remove(b->bn_sys);
}

/* ------------------------------------------------------------------ */
/* Alarm lateness. */

static int
lcase_alloc(struct lcase *lc, size_t cap)
{
	lc->lc_cap = cap;
	lc->lc_late = calloc(cap, sizeof(*lc->lc_late));
	lc->lc_reply = calloc(cap, sizeof(*lc->lc_reply));
	lc->lc_call = calloc(cap, sizeof(*lc->lc_call));
	if (lc->lc_late == NULL || lc->lc_reply == NULL || lc->lc_call == NULL)
		return -ENOMEM;
	return 0;
}

static void
lcase_free(struct lcase *lc)
{
	free(lc->lc_late);
	free(lc->lc_reply);
	free(lc->lc_call);
}

/* Take the next message of 'kind', counting (and skipping) strays.
 * Sets '*t' to the time it was received. */
static int
recv_kind(struct bench *b, uint32_t kind, roost_msg_t **m, uint64_t *t,
          int timeout_ms)
{
	int rc;

	for (;;) {
		rc = roost_recv(b->bn_ctx, m, timeout_ms);
		*t = now_ns();
		if (rc < 0)
			return rc;
		if (roost_msg_kind(*m) == kind)
			return 0;
		b->bn_stray++;
	}
}

/* Arm 'n' alarms with the delays in 'delay' (longest first), then
 * receive them; samples go to 'lc'. */
static int
lateness_batch(struct bench *b, struct lcase *lc, const uint32_t *delay,
               int n)
{
	uint64_t due[BATCH];
	uint64_t due_reply[BATCH];
	bool got[BATCH];
	roost_msg_t *m;
	uint64_t armed;
	uint64_t t0;
	uint64_t t1;
	uint64_t d;
	int i;
	int j;
	int rc;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		due[i] = t0 + (uint64_t)delay[i] * 1000u;
		rc = roost_send_after(b->bn_ctx, b->bn_self, delay[i], KIND_ALARM,
		                      &due[i], sizeof(due[i]), NULL);
		t1 = now_ns();
		if (rc < 0)
			return rc;
		due_reply[i] = t1 + (uint64_t)delay[i] * 1000u;
		lc->lc_call[lc->lc_n + (size_t)i] = (int64_t)(t1 - t0);
		got[i] = false;
	}
	armed = now_ns();
	for (i = 0; i < n; i++) {
		rc = recv_kind(b, KIND_ALARM, &m, &t1, RECV_TIMEOUT_MS);
		if (rc < 0)
			return rc;
		if (roost_msg_size(m) != sizeof(d))
			return -EPROTO;
		memcpy(&d, roost_msg_data(m), sizeof(d));
		for (j = 0; j < n && (got[j] || due[j] != d); j++)
			;
		if (j == n)
			return -EPROTO; /* not one of ours, or twice */
		got[j] = true;
		if (due[j] < armed)
			lc->lc_armed_late++;
		lc->lc_late[lc->lc_n] = (int64_t)(t1 - due[j]);
		lc->lc_reply[lc->lc_n] = (int64_t)(t1 - due_reply[j]);
		lc->lc_n++;
	}
	return 0;
}

/* 'count' alarms in batches; 'seed' fixes the delays. */
static int
lateness_run(struct bench *b, struct lcase *lc, int count, uint64_t seed)
{
	uint32_t delay[BATCH];
	uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
	int n;
	int i;
	int rc;

	while (count > 0) {
		n = count < BATCH ? count : BATCH;
		if (lc->lc_n + (size_t)n > lc->lc_cap)
			return -EOVERFLOW;
		for (i = 0; i < n; i++)
			delay[i] = DELAY_MIN_US +
			           (uint32_t)(rnd_next(&s) %
			                      (DELAY_MAX_US - DELAY_MIN_US + 1));
		qsort(delay, (size_t)n, sizeof(delay[0]), cmp_u32_desc);
		rc = lateness_batch(b, lc, delay, n);
		if (rc < 0)
			return rc;
		count -= n;
	}
	return 0;
}

static int
background_arm(struct bench *b, double *ms_out)
{
	uint64_t t0 = now_ns();
	int i;
	int rc;

	for (i = 0; i < BACKGROUND; i++) {
		rc = roost_send_after(b->bn_ctx, b->bn_self, BG_DELAY_US, KIND_BG,
		                      NULL, 0, &b->bn_bg_ids[i]);
		if (rc < 0)
			return rc;
	}
	*ms_out = ms((int64_t)(now_ns() - t0));
	return 0;
}

static int
background_cancel(struct bench *b, double *ms_out)
{
	uint64_t t0 = now_ns();
	int i;
	int rc;

	for (i = 0; i < BACKGROUND; i++) {
		rc = roost_timer_cancel(b->bn_ctx, b->bn_bg_ids[i]);
		if (rc < 0)
			return rc;
	}
	*ms_out = ms((int64_t)(now_ns() - t0));
	return 0;
}

/*
 * Each rep: BACKGROUND alarms armed, the loaded case, the background
 * cancelled, then the unloaded case with the same delays. Both cases
 * follow a burst of BACKGROUND requests, which leaves the scheduler's
 * placement of roostd and the bench alike for both (whether the two
 * share a CPU changes the figures far more than the pending alarms do).
 */
static int
lateness_all(struct bench *b)
{
	const struct opts *o = &b->bn_o;
	int per;
	int rep;
	int rc;

	for (rep = 0; rep < o->op_reps; rep++) {
		/* The alarms of a case, spread over the reps. */
		per = o->op_alarms / o->op_reps +
		      (rep < o->op_alarms % o->op_reps);
		rc = background_arm(b, &b->bn_arm_ms[rep]);
		if (rc == 0)
			rc = lateness_run(b, &b->bn_case[CASE_BGN], per,
			                  (uint64_t)rep);
		if (rc == 0)
			rc = background_cancel(b, &b->bn_cancel_ms[rep]);
		if (rc == 0)
			rc = lateness_run(b, &b->bn_case[CASE_BG0], per,
			                  (uint64_t)rep);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Interval accuracy. */

static int
interval_run(struct bench *b)
{
	struct interval_res *ir = &b->bn_iv;
	const size_t cap = 2 * (TICK_WINDOW_NS / (TICK_US * 1000u)) + 16;
	int64_t *at;
	int64_t *dev;
	roost_msg_t *m;
	uint64_t id;
	uint64_t t0;
	uint64_t end;
	uint64_t t;
	int64_t left;
	size_t n = 0;
	size_t i;
	int rc;

	at = calloc(cap, sizeof(*at));
	dev = calloc(cap, sizeof(*dev));
	if (at == NULL || dev == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	t0 = now_ns();
	end = t0 + TICK_WINDOW_NS;
	rc = roost_send_interval(b->bn_ctx, b->bn_self, TICK_US, TICK_US,
	                         KIND_TICK, NULL, 0, &id);
	if (rc < 0)
		goto out;
	for (;;) {
		t = now_ns();
		if (t >= end)
			break;
		left = (int64_t)(end - t);
		rc = recv_kind(b, KIND_TICK, &m, &t,
		               (int)((left + 999999) / 1000000));
		if (rc == -ETIMEDOUT)
			continue;
		if (rc < 0)
			goto out_cancel;
		if (t <= end && n < cap)
			at[n++] = (int64_t)t;
	}
	rc = roost_timer_cancel(b->bn_ctx, id);
	if (rc < 0)
		goto out;
	/* Ticks fired before the cancel are queued: drop them. */
	while (roost_recv(b->bn_ctx, &m, 0) == 0) {
		if (roost_msg_kind(m) != KIND_TICK)
			b->bn_stray++;
	}
	ir->ir_received = (int)n;
	ir->ir_expected = (int)(TICK_WINDOW_NS / (TICK_US * 1000u));
	ir->ir_gaps = 0;
	for (i = 1; i < n; i++) {
		int64_t p = at[i] - at[i - 1];

		if (p > (int64_t)TICK_US * 1500)
			ir->ir_gaps++;
		dev[i - 1] = llabs(p - (int64_t)TICK_US * 1000);
	}
	ir->ir_mean_ns = n > 1 ? (double)(at[n - 1] - at[0]) / (double)(n - 1)
	                       : 0;
	stats_of(dev, n > 1 ? n - 1 : 0, &ir->ir_jitter);
	rc = 0;
	goto out;

out_cancel:
	roost_timer_cancel(b->bn_ctx, id);
out:
	free(at);
	free(dev);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Spawn-to-ready, and the floor of process creation. */

/* fork + exec 'argv' + waitpid, stdout and stderr to /dev/null. Returns
 * the time in ns, or a negative errno. */
static int64_t
time_exec(char *const argv[])
{
	uint64_t t0;
	int status;
	pid_t pid;
	int fd;

	t0 = now_ns();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		return -ENOEXEC;
	return (int64_t)(now_ns() - t0);
}

static int
spawn_run(struct bench *b)
{
	static char *const true_argv[] = {(char *)"/bin/true", NULL};
	static char *const echo_argv[] = {(char *)ECHO_BIN,
	                                  (char *)"--no-such-option", NULL};
	int n = b->bn_o.op_spawns;
	roost_spawn_opts_t so;
	int64_t *s;
	roost_aid_t aid;
	uint64_t t0;
	int64_t t;
	int i;
	int rc = 0;

	s = calloc(3 * (size_t)n, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	roost_spawn_opts_init(&so);
	so.program = ECHO_BIN;
	so.restart = ROOST_RESTART_TEMPORARY;
	for (i = 0; i < n && rc == 0; i++) {
		t0 = now_ns();
		rc = roost_spawn(b->bn_ctx, &so, &aid);
		s[i] = (int64_t)(now_ns() - t0);
		if (rc < 0)
			break;
		rc = roost_kill(b->bn_ctx, aid);
		if (rc < 0)
			break;
		t = time_exec(true_argv);
		if (t < 0) {
			rc = (int)t;
			break;
		}
		s[n + i] = t;
		t = time_exec(echo_argv);
		if (t < 0) {
			rc = (int)t;
			break;
		}
		s[2 * n + i] = t;
	}
	if (rc == 0) {
		stats_of(s, (size_t)n, &b->bn_sp.sr_spawn);
		stats_of(s + n, (size_t)n, &b->bn_sp.sr_true);
		stats_of(s + 2 * n, (size_t)n, &b->bn_sp.sr_exec);
	}
	free(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Alarms while actors stop, then the shutdown. */

#define STR_(x) #x
#define STR(x) STR_(x)

/* How many of 'pids' are in their stop: echo_actor --linger renames
 * itself "lingering" for it (/proc/PID/comm). */
static int
count_stopping(const pid_t *pids, int n)
{
	char path[64];
	char comm[32];
	int count = 0;
	FILE *f;

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pids[i]);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL &&
		    strcmp(comm, "lingering\n") == 0)
			count++;
		fclose(f);
	}
	return count;
}

/* STOPPERS echo actors whose stop takes LINGER_MS; their pids. */
static int
stoppers_spawn(struct bench *b)
{
	static const char *const argv[] = {ECHO_BIN, "--linger", STR(LINGER_MS),
	                                   NULL};
	roost_spawn_opts_t so;
	roost_actor_info_t a;
	roost_view_t *v;
	roost_aid_t aid;
	int rc;

	rc = roost_view_open(&v, b->bn_sys);
	if (rc < 0)
		return rc;
	roost_spawn_opts_init(&so);
	so.program = ECHO_BIN;
	so.argv = argv;
	so.restart = ROOST_RESTART_TEMPORARY;
	so.shutdown_ms = STOP_SHUTDOWN_MS;
	for (int i = 0; i < STOPPERS && rc >= 0; i++) {
		rc = roost_spawn(b->bn_ctx, &so, &aid);
		if (rc == 0)
			rc = roost_view_actor(v, aid, &a);
		if (rc == 0)
			b->bn_so.so_pids[i] = a.pid;
	}
	roost_view_close(v);
	return rc < 0 ? rc : 0;
}

/*
 * Shut the system down with STOPPERS actors that each take LINGER_MS to
 * stop, and measure alarm lateness meanwhile: from the moment all of
 * them are in their stop (or STOPPING_WAIT_MS, whichever comes first)
 * until the last alarm; then wait for roostd's exit.
 */
static int
stops_run(struct bench *b)
{
	struct stops_res *so = &b->bn_so;
	uint64_t deadline;
	uint64_t t0;
	int rc;

	rc = stoppers_spawn(b);
	if (rc < 0)
		return rc;
	t0 = now_ns();
	rc = roost_shutdown(b->bn_ctx);
	if (rc < 0)
		return rc;
	deadline = t0 + (uint64_t)STOPPING_WAIT_MS * 1000000u;
	while (count_stopping(so->so_pids, STOPPERS) < STOPPERS &&
	       now_ns() < deadline)
		sleep_ms(1);
	rc = lateness_run(b, &b->bn_case[CASE_STOPPING],
	                  b->bn_o.op_stop_alarms, REPS_MAX);
	so->so_at_end = count_stopping(so->so_pids, STOPPERS);
	if (rc < 0)
		return rc;
	roost_ctx_close(b->bn_ctx);
	b->bn_ctx = NULL;
	return roostd_finish(b, t0);
}

/* ------------------------------------------------------------------ */
/* Output. */

static const char *
verdict(bool pass)
{
	return pass ? "PASS" : "MISS";
}

/* The stopping case counts only if every actor was still stopping when
 * its last alarm came. */
static bool
stops_valid(const struct bench *b)
{
	return b->bn_so.so_at_end == STOPPERS;
}

static const char *
case_verdict(const struct bench *b, int c, bool pass)
{
	return c == CASE_STOPPING && !stops_valid(b) ? "INVALID" : verdict(pass);
}

static double
ratio(int64_t x, int64_t y)
{
	return y > 0 ? (double)x / (double)y : 0;
}

static void
print_human(struct bench *b, const struct stats *st)
{
	const struct opts *o = &b->bn_o;
	static const char *const label[NCASES] = {"0 pending", "10000 pending",
	                                          "100 stopping"};
	struct stats rp[NCASES];
	struct stats cl[NCASES];
	const struct spawn_res *sp = &b->bn_sp;
	const struct interval_res *ir = &b->bn_iv;
	double arm = 0;
	double cancel = 0;
	int c;
	int r;

	for (c = 0; c < NCASES; c++) {
		stats_of(b->bn_case[c].lc_reply, b->bn_case[c].lc_n, &rp[c]);
		stats_of(b->bn_case[c].lc_call, b->bn_case[c].lc_n, &cl[c]);
	}
	for (r = 0; r < o->op_reps; r++) {
		arm += b->bn_arm_ms[r] / o->op_reps;
		cancel += b->bn_cancel_ms[r] / o->op_reps;
	}
	printf("roost_alarm_bench: system %s, %ld CPUs, %d rep(s)%s, %d alarms "
	       "per case\n(delays %u..%u ms, batches of %d), bench receive "
	       "spin %" PRId64 " ns\n\n", b->bn_sys,
	       sysconf(_SC_NPROCESSORS_ONLN), o->op_reps,
	       o->op_quick ? " (quick)" : "", o->op_alarms,
	       DELAY_MIN_US / 1000, DELAY_MAX_US / 1000, BATCH, b->bn_spin_ns);
	printf("alarm lateness, us      n   median      p90      p99      max"
	       "   | from reply    | send_after call\n"
	       "                                                            "
	       "   | median   p99  | median   p99\n");
	for (c = 0; c < NCASES; c++)
		printf("  %-14s %6zu %8.1f %8.1f %8.1f %8.1f   | %6.1f %6.1f | "
		       "%6.1f %6.1f\n", label[c], st[c].st_n, us(st[c].st_med),
		       us(st[c].st_p90), us(st[c].st_p99), us(st[c].st_max),
		       us(rp[c].st_med), us(rp[c].st_p99), us(cl[c].st_med),
		       us(cl[c].st_p99));
	printf("  background: arming %d alarms %.0f ms, cancelling %.0f ms "
	       "(mean of reps)\n", BACKGROUND, arm, cancel);
	if (b->bn_case[CASE_BG0].lc_armed_late + b->bn_case[CASE_BGN].lc_armed_late)
		printf("  note: %d alarm(s) were due before their batch was "
		       "armed\n", b->bn_case[CASE_BG0].lc_armed_late +
		       b->bn_case[CASE_BGN].lc_armed_late);
	printf("\ninterval %u us for 1 s: %d of %d ticks, mean period %.1f us, "
	       "|period - %u us| p99 %.1f us, max %.1f us, gaps > 1.5 ms: %d\n",
	       TICK_US, ir->ir_received, ir->ir_expected, ir->ir_mean_ns / 1e3,
	       TICK_US, us(ir->ir_jitter.st_p99), us(ir->ir_jitter.st_max),
	       ir->ir_gaps);
	printf("\nprocess start, ms              n   median    p90    max\n");
	printf("  roost_spawn echo_actor    %4zu %8.2f %6.2f %6.2f\n",
	       sp->sr_spawn.st_n, ms(sp->sr_spawn.st_med),
	       ms(sp->sr_spawn.st_p90), ms(sp->sr_spawn.st_max));
	printf("  fork+exec+wait /bin/true  %4zu %8.2f %6.2f %6.2f\n",
	       sp->sr_true.st_n, ms(sp->sr_true.st_med), ms(sp->sr_true.st_p90),
	       ms(sp->sr_true.st_max));
	printf("  fork+exec+wait echo_actor %4zu %8.2f %6.2f %6.2f  (bad "
	       "argument: loader, no attach)\n", sp->sr_exec.st_n,
	       ms(sp->sr_exec.st_med), ms(sp->sr_exec.st_p90),
	       ms(sp->sr_exec.st_max));
	printf("\nstops: %d actors, each stop %d ms (echo_actor --linger), "
	       "stopped together by the shutdown;\n  still in their stop when "
	       "the last alarm came: %d of %d%s\n", STOPPERS, LINGER_MS,
	       b->bn_so.so_at_end, STOPPERS, stops_valid(b) ? "" :
	       " (INVALID: the case outlasted the stops)");
	printf("shutdown: roostd exited %d after %.1f ms (%.2fx one actor's "
	       "stop; %dx one after another), %d shm object(s) left\n",
	       b->bn_exit_status, b->bn_exit_ms, b->bn_exit_ms / LINGER_MS,
	       STOPPERS, b->bn_shm_left);
	if (b->bn_stray)
		printf("stray messages: %d\n", b->bn_stray);
	printf("\ntargets:\n");
	for (c = 0; c < NCASES; c++) {
		printf("  lateness median, %-13s <= %6.0f us  got %8.1f  %s\n",
		       label[c], LATE_MEDIAN_US, us(st[c].st_med),
		       case_verdict(b, c, us(st[c].st_med) <= LATE_MEDIAN_US));
		printf("  lateness p99,    %-13s <= %6.0f us  got %8.1f  %s\n",
		       label[c], LATE_P99_US, us(st[c].st_p99),
		       case_verdict(b, c, us(st[c].st_p99) <= LATE_P99_US));
	}
	printf("  while %d actors stop: median %.2fx, p99 %.2fx the quiet "
	       "case's (0 pending); %.2fx, %.2fx the targets\n", STOPPERS,
	       ratio(st[CASE_STOPPING].st_med, st[CASE_BG0].st_med),
	       ratio(st[CASE_STOPPING].st_p99, st[CASE_BG0].st_p99),
	       us(st[CASE_STOPPING].st_med) / LATE_MEDIAN_US,
	       us(st[CASE_STOPPING].st_p99) / LATE_P99_US);
	printf("  spawn-to-ready median          <= %6.0f ms  got %8.2f  %s\n",
	       SPAWN_MEDIAN_MS, ms(sp->sr_spawn.st_med),
	       verdict(ms(sp->sr_spawn.st_med) <= SPAWN_MEDIAN_MS));
}

static void
json_target(const char *key, double limit, double v, bool comma)
{
	printf("\"%s\":{\"limit\":%g,\"value\":%.3f,\"pass\":%s}%s", key, limit,
	       v, v <= limit ? "true" : "false", comma ? "," : "");
}

static void
print_json(struct bench *b, const struct stats *st)
{
	const struct opts *o = &b->bn_o;
	const struct spawn_res *sp = &b->bn_sp;
	const struct interval_res *ir = &b->bn_iv;
	struct stats rp;
	struct stats cl;
	int c;
	int r;

	printf("{\"system\":\"%s\",\"cpus\":%ld,\"quick\":%s,\"reps\":%d,"
	       "\"alarms\":%d,\"batch\":%d,\"background\":%d,\"spin_ns\":%"
	       PRId64 ",\"lateness\":{", b->bn_sys,
	       sysconf(_SC_NPROCESSORS_ONLN), o->op_quick ? "true" : "false",
	       o->op_reps, o->op_alarms, BATCH, BACKGROUND, b->bn_spin_ns);
	for (c = 0; c < NCASES; c++) {
		stats_of(b->bn_case[c].lc_reply, b->bn_case[c].lc_n, &rp);
		stats_of(b->bn_case[c].lc_call, b->bn_case[c].lc_n, &cl);
		printf("%s\"%s\":{\"n\":%zu,\"min_us\":%.1f,\"median_us\":%.1f,"
		       "\"p90_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f,"
		       "\"from_reply_median_us\":%.1f,\"from_reply_p99_us\":%.1f,"
		       "\"call_median_us\":%.1f,\"call_p99_us\":%.1f,"
		       "\"armed_late\":%d,\"median_pass\":%s,\"p99_pass\":%s}",
		       c ? "," : "", case_json[c], st[c].st_n, us(st[c].st_min),
		       us(st[c].st_med), us(st[c].st_p90), us(st[c].st_p99),
		       us(st[c].st_max), us(rp.st_med), us(rp.st_p99),
		       us(cl.st_med), us(cl.st_p99), b->bn_case[c].lc_armed_late,
		       us(st[c].st_med) <= LATE_MEDIAN_US ? "true" : "false",
		       us(st[c].st_p99) <= LATE_P99_US ? "true" : "false");
	}
	printf("},\"background_calls\":{\"arm_ms\":[");
	for (r = 0; r < o->op_reps; r++)
		printf("%s%.1f", r ? "," : "", b->bn_arm_ms[r]);
	printf("],\"cancel_ms\":[");
	for (r = 0; r < o->op_reps; r++)
		printf("%s%.1f", r ? "," : "", b->bn_cancel_ms[r]);
	printf("]},\"interval\":{\"period_us\":%u,\"window_ms\":1000,"
	       "\"expected\":%d,\"received\":%d,\"mean_period_us\":%.2f,"
	       "\"jitter_p99_us\":%.1f,\"jitter_max_us\":%.1f,\"gaps\":%d},",
	       TICK_US, ir->ir_expected, ir->ir_received, ir->ir_mean_ns / 1e3,
	       us(ir->ir_jitter.st_p99), us(ir->ir_jitter.st_max), ir->ir_gaps);
	printf("\"spawn\":{\"n\":%zu,\"median_ms\":%.3f,\"p90_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"target_ms\":%g,\"pass\":%s,"
	       "\"true_median_ms\":%.3f,\"true_p90_ms\":%.3f,"
	       "\"true_max_ms\":%.3f,\"exec_median_ms\":%.3f,"
	       "\"exec_p90_ms\":%.3f,\"exec_max_ms\":%.3f},",
	       sp->sr_spawn.st_n, ms(sp->sr_spawn.st_med),
	       ms(sp->sr_spawn.st_p90), ms(sp->sr_spawn.st_max),
	       SPAWN_MEDIAN_MS,
	       ms(sp->sr_spawn.st_med) <= SPAWN_MEDIAN_MS ? "true" : "false",
	       ms(sp->sr_true.st_med), ms(sp->sr_true.st_p90),
	       ms(sp->sr_true.st_max), ms(sp->sr_exec.st_med),
	       ms(sp->sr_exec.st_p90), ms(sp->sr_exec.st_max));
	printf("\"stops\":{\"actors\":%d,\"linger_ms\":%d,\"stopping_at_end\":%d,"
	       "\"valid\":%s,\"shutdown_ratio\":%.3f},", STOPPERS, LINGER_MS,
	       b->bn_so.so_at_end, stops_valid(b) ? "true" : "false",
	       b->bn_exit_ms / LINGER_MS);
	printf("\"shutdown\":{\"ms\":%.1f,\"exit_status\":%d,\"shm_left\":%d},",
	       b->bn_exit_ms, b->bn_exit_status, b->bn_shm_left);
	printf("\"targets\":{");
	json_target("lateness_median_us", LATE_MEDIAN_US,
	            us(st[CASE_BGN].st_med), true);
	json_target("lateness_p99_us", LATE_P99_US, us(st[CASE_BGN].st_p99),
	            true);
	json_target("stopping_median_us", LATE_MEDIAN_US,
	            us(st[CASE_STOPPING].st_med), true);
	json_target("stopping_p99_us", LATE_P99_US,
	            us(st[CASE_STOPPING].st_p99), true);
	json_target("spawn_median_ms", SPAWN_MEDIAN_MS,
	            ms(sp->sr_spawn.st_med), false);
	printf("},\"stray\":%d}\n", b->bn_stray);
}

/* ------------------------------------------------------------------ */
/* Options and main. */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: roost_alarm_bench [--quick] [--json] [--verbose] "
	        "[--reps N]\n"
	        "  --quick    %d alarms per case, %d spawns, 1 rep (default "
	        "%d, %d, %d)\n"
	        "  --json     one JSON object on stdout (keys: see the source)\n"
	        "  --verbose  let roostd's log through to stderr\n"
	        "  --reps N   repetitions, each measuring both cases (1..%d)\n",
	        ALARMS_QUICK, SPAWNS_QUICK, ALARMS_DEF, SPAWNS_DEF, REPS_DEF,
	        REPS_MAX);
}

/* Returns 0, 1 for --help, or -1 for a bad command line. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	int reps = 0;
	char *end;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o->op_quick = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			o->op_json = true;
		} else if (strcmp(argv[i], "--verbose") == 0) {
			o->op_verbose = true;
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			reps = (int)strtol(argv[++i], &end, 10);
			if (*end != '\0' || reps < 1 || reps > REPS_MAX)
				return -1;
		} else if (strcmp(argv[i], "--help") == 0) {
			return 1;
		} else {
			return -1;
		}
	}
	o->op_alarms = o->op_quick ? ALARMS_QUICK : ALARMS_DEF;
	o->op_stop_alarms = o->op_quick ? STOP_ALARMS_QUICK : STOP_ALARMS_DEF;
	o->op_spawns = o->op_quick ? SPAWNS_QUICK : SPAWNS_DEF;
	o->op_reps = reps != 0 ? reps : o->op_quick ? 1 : REPS_DEF;
	return 0;
}

static int
bench_init(struct bench *b)
{
	int c;
	int rc;

	snprintf(b->bn_sys, sizeof(b->bn_sys), "abench-%d", (int)getpid());
	b->bn_exit_status = -1;
	for (c = 0; c < NCASES; c++) {
		rc = lcase_alloc(&b->bn_case[c], (size_t)b->bn_o.op_alarms);
		if (rc < 0)
			return rc;
	}
	b->bn_bg_ids = calloc(BACKGROUND, sizeof(*b->bn_bg_ids));
	return b->bn_bg_ids == NULL ? -ENOMEM : 0;
}

static void
bench_fini(struct bench *b)
{
	int c;

	for (c = 0; c < NCASES; c++)
		lcase_free(&b->bn_case[c]);
	free(b->bn_bg_ids);
	if (b->bn_cfg[0] != '\0')
		unlink(b->bn_cfg);
}

static int
bench_run(struct bench *b, const char **stage)
{
	int rc;

	*stage = "starting roostd";
	rc = roostd_start(b);
	if (rc < 0)
		return rc;
	*stage = "alarm lateness";
	rc = lateness_all(b);
	if (rc < 0)
		return rc;
	*stage = "interval";
	rc = interval_run(b);
	if (rc < 0)
		return rc;
	*stage = "spawn";
	rc = spawn_run(b);
	if (rc < 0)
		return rc;
	*stage = "shutdown";
	return stops_run(b);
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct stats st[NCASES];
	const char *stage = "setup";
	int c;
	int rc;

	rc = parse_args(argc, argv, &b.bn_o);
	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	rc = bench_init(&b);
	if (rc == 0)
		rc = bench_run(&b, &stage);
	/* A failed shutdown still has figures worth printing. */
	if (rc == 0 || (rc == -ECHILD && strcmp(stage, "shutdown") == 0)) {
		for (c = 0; c < NCASES; c++)
			stats_of(b.bn_case[c].lc_late, b.bn_case[c].lc_n, &st[c]);
		if (b.bn_o.op_json)
			print_json(&b, st);
		else
			print_human(&b, st);
	}
	if (rc < 0) {
		fprintf(stderr, "roost_alarm_bench: %s: %s\n", stage,
		        rc != -ECHILD ? roost_strerror(rc)
		        : strcmp(stage, "shutdown") == 0
		                ? "roostd did not exit 0 or left objects"
		                : "roostd exited (see --verbose)");
		roostd_abort(&b);
	}
	bench_fini(&b);
	return rc < 0 ? 1 : 0;
}
