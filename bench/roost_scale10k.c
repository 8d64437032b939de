/* SPDX-License-Identifier: MIT */
/*
 * roost_scale10k.c - a system of N idle actors (default 10,000) on one
 * machine, measured in one run against the floor of process creation.
 *
 *  - floor: fork+exec+wait of idle_actor --exit (the same executable as
 *    a plain program), N times one after another.
 *  - spawn-to-ready: one roost_spawn() until the actor attached, against
 *    fork+exec+wait of the same program, interleaved, --samples times
 *    each (medians; issue 13 item 2: ratio <= 1.5).
 *  - two systems, one after the other: a pool of N in the config, then
 *    N actors through roost_spawn (from --spawners processes at once,
 *    default 16: each roost_spawn waits for its actor to attach).
 *    For each: all attached (from roostd's fork to its "up" line, or the
 *    last spawn's answer) <= 1.5 x the floor; roostd's RSS <= 64 MiB;
 *    /dev/shm bytes per actor <= 128 KiB (every object of the system,
 *    as allocated, over the actors); `roostctl ls` and `roostctl --json
 *    ls` <= 1 s each (and ls lists every actor); SIGTERM to roostd's
 *    exit (the ordered shutdown) <= 10 s, exit 0, nothing left in
 *    /dev/shm.
 *
 * Each figure prints with its target and PASS or MISS. A program, not a
 * test: exit 0 when it ran (MISS included), 1 when something failed.
 *
 * Usage: roost_scale10k [--actors N] [--samples M] [--spawners P]
 *                       [--only pool|spawn] [--verbose]
 */
#include <roost.h>

#include "bench_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef ROOSTD_BIN
#error "ROOSTD_BIN must name the roostd executable"
#endif
#ifndef ROOSTCTL_BIN
#error "ROOSTCTL_BIN must name the roostctl executable"
#endif
#ifndef IDLE_BIN
#error "IDLE_BIN must name the idle_actor executable"
#endif

#define RATIO_MAX 1.5
#define RSS_MAX_KIB (64u << 10)
#define SHM_PER_ACTOR_MAX (128u << 10)
#define LS_MAX_S 1.0
#define SHUTDOWN_MAX_S 10.0
#define UP_TIMEOUT_S 600

struct opts {
	int actors;
	int samples;
	int spawners;
	bool pool;
	bool spawn;
	bool verbose;
};

/* roostd under test, and a thread reading its log for the "up" line. */
struct roostd {
	pid_t rd_pid;
	int rd_log;                  /* read end of its stderr */
	pthread_t rd_reader;
	pthread_mutex_t rd_lock;
	uint64_t rd_up_ns;           /* when "system ... up" was read; 0 */
	bool rd_verbose;
	char rd_sys[32];
	char rd_cfg[96];
};

static int failures;

static void
verdict(const char *what, double value, const char *unit, double target,
        const char *how)
{
	bool pass = value <= target;

	printf("  %-26s %10.3f %-4s target <= %.3f %s%s  %s\n", what, value,
	       unit, target, unit, how, pass ? "PASS" : "MISS");
}

static void
fail(const char *what, int rc)
{
	fprintf(stderr, "roost_scale10k: %s: %s\n", what,
	        rc < 0 ? roost_strerror(rc) : "failed");
	failures++;
}

/* --- processes -------------------------------------------------------- */

/* fork + exec 'argv' + waitpid; stdout to 'out' (-1: inherited). The
 * child's status in '*status'. Returns ns, or 0 on failure. */
static uint64_t
run(char *const argv[], int out, int *status)
{
	uint64_t t0 = bench_now_ns();
	pid_t pid = fork();

	if (pid < 0)
		return 0;
	if (pid == 0) {
		if (out >= 0)
			dup2(out, STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (out >= 0)
		close(out);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return bench_now_ns() - t0;
}

static uint64_t
floor_once(void)
{
	char *argv[] = {(char *)IDLE_BIN, (char *)"--exit", NULL};
	int status;
	uint64_t ns = run(argv, -1, &status);

	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ns : 0;
}

/* N of them one after another: total seconds, or -1. */
static double
floor_total(int n)
{
	uint64_t t0 = bench_now_ns();
	int i;

	for (i = 0; i < n; i++)
		if (floor_once() == 0)
			return -1;
	return (double)(bench_now_ns() - t0) / BENCH_NS;
}

static void *
log_reader(void *arg)
{
	struct roostd *r = arg;
	char up[64];
	char buf[8192];
	char line[512];
	size_t len = 0;
	ssize_t n;
	ssize_t i;

	snprintf(up, sizeof(up), "system '%s' up", r->rd_sys);
	while ((n = read(r->rd_log, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (strstr(line, up) != NULL) {
				pthread_mutex_lock(&r->rd_lock);
				r->rd_up_ns = bench_now_ns();
				pthread_mutex_unlock(&r->rd_lock);
			}
			/* All but one line per actor ("started ...", and
			 * the stops of spawn-to-ready's); with --verbose
			 * roostd logs at debug level. */
			if (strstr(line, "started") == NULL &&
			    strstr(line, "exited with status 0") == NULL)
				fprintf(stderr, "%s\n", line);
		}
	}
	return NULL;
}

static uint64_t
up_ns(struct roostd *r)
{
	uint64_t v;

	pthread_mutex_lock(&r->rd_lock);
	v = r->rd_up_ns;
	pthread_mutex_unlock(&r->rd_lock);
	return v;
}

/* Write the config: a pool of 'pool' idle actors (0: none) in a table
 * of 'slots'. */
static int
config_write(struct roostd *r, int pool, int slots)
{
	FILE *f = fopen(r->rd_cfg, "w");

	if (f == NULL)
		return -errno;
	fprintf(f, "[system]\nslots = %d\n", slots);
	if (pool > 0)
		fprintf(f, "[actor idle]\nprogram = %s\ncount = %d\n", IDLE_BIN,
		        pool);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* Fork roostd; its log goes to the reader thread. Returns the fork time
 * (ns) or 0. */
static uint64_t
roostd_start(struct roostd *r)
{
	pid_t parent = getpid();
	uint64_t t0;
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return 0;
	fflush(NULL);
	t0 = bench_now_ns();
	r->rd_pid = fork();
	if (r->rd_pid == 0) {
		char *argv[] = {(char *)ROOSTD_BIN, (char *)"--system", r->rd_sys,
		                (char *)"--config", r->rd_cfg,
		                (char *)"--foreground", (char *)"--log-level",
		                r->rd_verbose ? (char *)"debug" : (char *)"info",
		                NULL};

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	if (r->rd_pid < 0) {
		close(p[0]);
		return 0;
	}
	r->rd_log = p[0];
	r->rd_up_ns = 0;
	pthread_mutex_init(&r->rd_lock, NULL);
	if (pthread_create(&r->rd_reader, NULL, log_reader, r) != 0) {
		kill(r->rd_pid, SIGKILL);
		return 0;
	}
	return t0;
}

/* Wait for the "up" line; false if roostd exited or took too long. */
static bool
roostd_wait_up(struct roostd *r)
{
	uint64_t deadline = bench_now_ns() + UP_TIMEOUT_S * 1000000000ull;

	while (up_ns(r) == 0) {
		if (waitpid(r->rd_pid, NULL, WNOHANG) == r->rd_pid) {
			r->rd_pid = 0;
			return false;
		}
		if (bench_now_ns() > deadline)
			return false;
		bench_sleep_ns(1000000);
	}
	return true;
}

/* SIGTERM, then wait for the exit: seconds, or -1 (status not 0). */
static double
roostd_stop(struct roostd *r)
{
	uint64_t t0 = bench_now_ns();
	int status = -1;

	if (r->rd_pid > 0) {
		kill(r->rd_pid, SIGTERM);
		while (waitpid(r->rd_pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	t0 = bench_now_ns() - t0;
	r->rd_pid = 0;
	pthread_join(r->rd_reader, NULL);
	close(r->rd_log);
	unlink(r->rd_cfg);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0
	       ? (double)t0 / BENCH_NS : -1;
}

/* --- figures ------------------------------------------------------------ */

/* A field of /proc/PID/status in KiB ("VmRSS:", "VmHWM:"), or 0. */
static uint64_t
proc_kib(pid_t pid, const char *field)
{
	char path[64];
	char line[256];
	unsigned long long v = 0;
	size_t n = strlen(field);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0) {
			sscanf(line + n, "%llu", &v);
			break;
		}
	fclose(f);
	return v;
}

/* Bytes of /dev/shm the system's objects take, as allocated; of them
 * the mailboxes' (names ending in ".SLOT") in '*mboxes', their number in
 * '*nmbox'. */
static uint64_t
shm_bytes(const char *sys, int *objects, uint64_t *mboxes, int *nmbox)
{
	char prefix[96];
	char path[512];
	struct dirent *de;
	struct stat st;
	uint64_t sum = 0;
	size_t n;
	DIR *d;

	*objects = 0;
	*mboxes = 0;
	*nmbox = 0;
	n = (size_t)snprintf(prefix, sizeof(prefix), "roost.%u.%s",
	                     (unsigned)geteuid(), sys);
	d = opendir("/dev/shm");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, n) != 0 ||
		    (de->d_name[n] != '\0' && de->d_name[n] != '.' &&
		     de->d_name[n] != '~'))
			continue;
		snprintf(path, sizeof(path), "/dev/shm/%s", de->d_name);
		if (stat(path, &st) == 0) {
			sum += (uint64_t)st.st_blocks * 512u;
			(*objects)++;
			if (de->d_name[n] == '.' && de->d_name[n + 1] >= '0' &&
			    de->d_name[n + 1] <= '9' &&
			    strspn(de->d_name + n + 1, "0123456789") ==
			    strlen(de->d_name + n + 1)) {
				*mboxes += (uint64_t)st.st_blocks * 512u;
				(*nmbox)++;
			}
		}
	}
	closedir(d);
	return sum;
}

/* roostctl [--json] ls: seconds; '*lines' of output, '*ok' exit 0. */
static double
time_ls(const char *sys, bool json, long *lines, bool *ok)
{
	char *argv[] = {(char *)ROOSTCTL_BIN, (char *)"--system", (char *)sys,
	                json ? (char *)"--json" : (char *)"ls",
	                json ? (char *)"ls" : NULL, NULL};
	char tmp[] = "/tmp/roost_scale10k.ls.XXXXXX";
	int fd = mkstemp(tmp);
	uint64_t ns;
	int status = -1;
	int c;
	FILE *f;

	*lines = 0;
	*ok = false;
	if (fd < 0)
		return -1;
	unlink(tmp);
	ns = run(argv, dup(fd), &status);
	*ok = ns != 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	lseek(fd, 0, SEEK_SET);
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	/* ls: a header, then a line per actor; --json: one line per actor
	 * in the "actors" array at least (counted as "\"name\""). */
	if (!json) {
		while ((c = fgetc(f)) != EOF)
			if (c == '\n')
				(*lines)++;
	} else {
		const char *key = "\"address\"";
		size_t matched = 0;

		/* Counted as the bytes go by: a key may straddle reads. */
		while ((c = fgetc(f)) != EOF) {
			matched = c == key[matched] ? matched + 1
			                            : (c == key[0] ? 1 : 0);
			if (key[matched] == '\0') {
				(*lines)++;
				matched = 0;
			}
		}
	}
	fclose(f);
	return (double)ns / BENCH_NS;
}

/* The figures of a system of 'n' actors, all attached 'up_s' after the
 * start; then its shutdown. */
static void
report_system(struct roostd *r, int n, double up_s, double floor_s)
{
	uint64_t rss = proc_kib(r->rd_pid, "VmRSS:");
	uint64_t shm_rss = proc_kib(r->rd_pid, "RssShmem:");
	int objects;
	uint64_t mboxes;
	int nmbox;
	uint64_t shm = shm_bytes(r->rd_sys, &objects, &mboxes, &nmbox);
	double per = (double)shm / n;
	long lines;
	bool ok;
	double t;

	verdict("all attached", up_s, "s", RATIO_MAX * floor_s,
	        " (1.5 x floor)");
	printf("  %-26s %10.2f x floor\n", "  ratio", up_s / floor_s);
	verdict("roostd RSS", (double)rss / 1024, "MiB",
	        (double)RSS_MAX_KIB / 1024, "");
	printf("  %-26s %10.2f MiB of it shared memory\n", "", (double)shm_rss
	       / 1024);
	verdict("/dev/shm per actor", per / 1024, "KiB",
	        (double)SHM_PER_ACTOR_MAX / 1024, "");
	printf("  %-26s %10.1f MiB in %d objects (all of them over the "
	       "actors above)\n", "/dev/shm in all", (double)shm / 1048576,
	       objects);
	printf("  %-26s %10.1f KiB (%d mailboxes, roostd's 2 among them)\n",
	       "  a mailbox", nmbox ? (double)mboxes / nmbox / 1024 : 0, nmbox);
	t = time_ls(r->rd_sys, false, &lines, &ok);
	verdict("roostctl ls", t, "s", LS_MAX_S, "");
	/* A header line, roostd, deadletters and the actors, then the
	 * summary line. */
	if (!ok || lines < n + 3) {
		fprintf(stderr, "roostctl ls: %s, %ld lines for %d actors\n",
		        ok ? "exit 0" : "failed", lines, n);
		failures++;
	}
	t = time_ls(r->rd_sys, true, &lines, &ok);
	verdict("roostctl --json ls", t, "s", LS_MAX_S, "");
	if (!ok || lines < n) {
		fprintf(stderr, "roostctl --json ls: %s, %ld actors for %d\n",
		        ok ? "exit 0" : "failed", lines, n);
		failures++;
	}
	t = roostd_stop(r);
	if (t < 0) {
		fail("roostd's shutdown (exit status not 0)", 0);
		return;
	}
	verdict("shutdown to exit", t, "s", SHUTDOWN_MAX_S, "");
	if (shm_bytes(r->rd_sys, &objects, &mboxes, &nmbox) != 0 ||
	    objects != 0) {
		fprintf(stderr, "%d objects of system %s left in /dev/shm\n",
		        objects, r->rd_sys);
		failures++;
	}
}

/* --- the runs ----------------------------------------------------------- */

static void
roostd_init(struct roostd *r, const struct opts *o, const char *what)
{
	memset(r, 0, sizeof(*r));
	r->rd_verbose = o->verbose;
	snprintf(r->rd_sys, sizeof(r->rd_sys), "sc10k-%s-%d", what,
	         (int)getpid());
	snprintf(r->rd_cfg, sizeof(r->rd_cfg), "/tmp/roost_scale10k.%d.ini",
	         (int)getpid());
}

static int
slots_for(int n)
{
	return n + 64 < 256 ? 256 : n + 64;
}

static void
pool_run(const struct opts *o, double floor_s)
{
	struct roostd r;
	uint64_t t0;
	int rc;

	printf("pool of %d in the config:\n", o->actors);
	roostd_init(&r, o, "pool");
	rc = config_write(&r, o->actors, slots_for(o->actors));
	if (rc < 0) {
		fail("config", rc);
		return;
	}
	t0 = roostd_start(&r);
	if (t0 == 0 || !roostd_wait_up(&r)) {
		fail("roostd did not come up", 0);
		if (r.rd_pid > 0)
			roostd_stop(&r);
		return;
	}
	report_system(&r, o->actors, (double)(up_ns(&r) - t0) / BENCH_NS,
	              floor_s);
}

static int
spawn_opts_ctx(roost_ctx_t **ctx, const char *sys)
{
	roost_ctx_opts_t co;

	roost_ctx_opts_init(&co);
	co.system = sys;
	return roost_ctx_open(ctx, &co);
}

/* In a spawner process: 'n' roost_spawn()s of idle_actor. */
static int
spawner(const char *sys, int n)
{
	roost_spawn_opts_t so;
	roost_ctx_t *ctx;
	roost_aid_t aid;
	int rc;
	int i;

	rc = spawn_opts_ctx(&ctx, sys);
	if (rc < 0)
		return 1;
	roost_spawn_opts_init(&so);
	so.program = IDLE_BIN;
	so.restart = ROOST_RESTART_TEMPORARY;
	for (i = 0; i < n; i++) {
		rc = roost_spawn(ctx, &so, &aid);
		if (rc < 0) {
			fprintf(stderr, "roost_spawn %d: %s\n", i,
			        roost_strerror(rc));
			return 1;
		}
	}
	roost_ctx_close(ctx);
	return 0;
}

/* Spawn-to-ready against fork+exec+wait, interleaved: medians (ms). */
static int
spawn_to_ready(roost_ctx_t *ctx, int m, double *spawn_ms, double *fork_ms)
{
	uint64_t *s = calloc(2 * (size_t)m, sizeof(*s));
	roost_spawn_opts_t so;
	roost_aid_t aid;
	uint64_t t0;
	int rc = 0;
	int i;

	if (s == NULL)
		return -ENOMEM;
	roost_spawn_opts_init(&so);
	so.program = IDLE_BIN;
	so.restart = ROOST_RESTART_TEMPORARY;
	for (i = 0; i < m && rc == 0; i++) {
		t0 = bench_now_ns();
		rc = roost_spawn(ctx, &so, &aid);
		s[i] = bench_now_ns() - t0;
		if (rc == 0)
			rc = roost_stop(ctx, aid);
		s[m + i] = floor_once();
		if (s[m + i] == 0 && rc == 0)
			rc = -ECHILD;
	}
	if (rc == 0) {
		qsort(s, (size_t)m, sizeof(*s), bench_cmp_u64);
		qsort(s + m, (size_t)m, sizeof(*s), bench_cmp_u64);
		*spawn_ms = (double)bench_percentile(s, (size_t)m, 50) / 1e6;
		*fork_ms = (double)bench_percentile(s + m, (size_t)m, 50) / 1e6;
	}
	free(s);
	return rc;
}

static void
spawn_run(const struct opts *o, double floor_s)
{
	double spawn_ms = 0;
	double fork_ms = 0;
	roost_ctx_t *ctx = NULL;
	struct roostd r;
	pid_t *pids;
	uint64_t t0;
	int status;
	int rc;
	int i;

	printf("%d through roost_spawn (%d spawners at once):\n", o->actors,
	       o->spawners);
	roostd_init(&r, o, "spawn");
	rc = config_write(&r, 0, slots_for(o->actors + o->spawners));
	if (rc < 0) {
		fail("config", rc);
		return;
	}
	if (roostd_start(&r) == 0 || !roostd_wait_up(&r)) {
		fail("roostd did not come up", 0);
		if (r.rd_pid > 0)
			roostd_stop(&r);
		return;
	}
	rc = spawn_opts_ctx(&ctx, r.rd_sys);
	if (rc == 0 && o->samples > 0)
		rc = spawn_to_ready(ctx, o->samples, &spawn_ms, &fork_ms);
	if (rc < 0) {
		fail("spawn-to-ready", rc);
		roost_ctx_close(ctx);
		roostd_stop(&r);
		return;
	}
	if (o->samples > 0) {
		printf("  spawn-to-ready median %.3f ms, fork+exec+wait median "
		       "%.3f ms (%d each, interleaved)\n", spawn_ms, fork_ms,
		       o->samples);
		verdict("spawn-to-ready ratio", spawn_ms / fork_ms, "x",
		        RATIO_MAX, "");
	}
	pids = calloc((size_t)o->spawners, sizeof(*pids));
	if (pids == NULL) {
		fail("spawners", -ENOMEM);
		roostd_stop(&r);
		return;
	}
	fflush(NULL);
	t0 = bench_now_ns();
	for (i = 0; i < o->spawners; i++) {
		int share = o->actors / o->spawners +
		            (i < o->actors % o->spawners);

		pids[i] = fork();
		if (pids[i] == 0)
			_exit(spawner(r.rd_sys, share));
	}
	for (i = 0; i < o->spawners; i++) {
		if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			rc = -ECHILD;
	}
	free(pids);
	if (rc < 0)
		fail("a spawner", rc);
	roost_ctx_close(ctx);
	report_system(&r, o->actors, (double)(bench_now_ns() - t0) / BENCH_NS,
	              floor_s);
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"actors", required_argument, NULL, 'n'},
		{"samples", required_argument, NULL, 'm'},
		{"spawners", required_argument, NULL, 'p'},
		{"only", required_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->actors = 10000;
	o->samples = 200;
	o->spawners = 16;
	o->pool = o->spawn = true;
	o->verbose = false;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->actors = atoi(optarg); break;
		case 'm': o->samples = atoi(optarg); break;
		case 'p': o->spawners = atoi(optarg); break;
		case 'o':
			o->pool = strcmp(optarg, "pool") == 0;
			o->spawn = strcmp(optarg, "spawn") == 0;
			if (!o->pool && !o->spawn)
				return -1;
			break;
		case 'v': o->verbose = true; break;
		default: return -1;
		}
	}
	if (optind != argc || o->actors < 1 || o->actors > 16000 ||
	    o->samples < 0 || o->spawners < 1 || o->spawners > o->actors)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	double floor_s;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: roost_scale10k [--actors N (1..16000)] "
		        "[--samples M] [--spawners P] [--only pool|spawn] "
		        "[--verbose]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	floor_s = floor_total(o.actors);
	if (floor_s < 0) {
		fail("fork+exec+wait of idle_actor --exit", 0);
		return 1;
	}
	printf("floor: fork+exec+wait of %d x idle_actor --exit, one after "
	       "another: %.3f s (%.3f ms each)\n", o.actors, floor_s,
	       floor_s * 1e3 / o.actors);
	if (o.pool)
		pool_run(&o, floor_s);
	if (o.spawn)
		spawn_run(&o, floor_s);
	return failures ? 1 : 0;
}
