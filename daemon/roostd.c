/* SPDX-License-Identifier: MIT */
/*
 * roostd.c - the supervisor daemon's main: arguments, the one-roostd
 * lock, creating (or adopting, or cleaning a stale) system, and the main
 * loop, which runs until the ordered shutdown (shutdown.c) has stopped
 * every actor. See rd.h for the other modules.
 *
 * The loop receives on roostd's own mailbox with a timeout that ends at
 * the next alarm, the next deadline of a stop (or the 100 ms
 * heartbeat); signal handlers and the pidfd watcher only set flags and
 * interrupt that receive.
 */
#include "rd.h"
#include "timers.h"

#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef ROOSTD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#define HEARTBEAT_NS (100ull * 1000000u)
/* How long a starting roostd waits for the system's lock (lock_within). */
#define LOCK_WAIT_MS 1000
static_assert(HEARTBEAT_NS * 4 <= ROOST_HEARTBEAT_STALE_NS,
              "tools must never take a live roostd for stale");
/* Heartbeats between two audits of what roostd owns in shm (rd_audit). */
#define AUDIT_BEATS 10
/* Requests handled per loop turn before signals and alarms are looked
 * at again. */
#define REQUESTS_PER_TURN 256
#define ROOSTD_SPIN_NS 5000

volatile sig_atomic_t rd_sig_chld;
volatile sig_atomic_t rd_sig_stop;
static roost_ctx_t *wake_ctx;

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGCHLD)
		rd_sig_chld = 1;
	else
		rd_sig_stop = sig;
	roost_ctx_interrupt(wake_ctx);
	errno = saved;
}

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: roostd [--system NAME] [--config FILE] [--foreground]\n"
	        "              [--log-level error|info|debug]\n"
	        "exit status: 0 clean shutdown, 1 runtime failure (another\n"
	        "roostd, permissions, an actor group that gave up), 2 bad\n"
	        "arguments or config\n");
}

/* One roostd per system: an flock on "/roost.UID.SYSTEM~lock" ('~' is in
 * no system name, so no system's objects match it). Held for life. */
/*
 * flock 'fd' within 'ms'. A roostd killed while it forked a child leaves
 * the lock with that child until the child's exec closes the descriptor
 * (close-on-exec): a short wait tells that from a live roostd.
 */
static bool
lock_within(int fd, int ms)
{
	for (int waited = 0;; waited += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK || waited >= ms)
			return false;
		usleep(10000);
	}
}

static int
take_lock(const char *system, char *name, size_t len)
{
	int fd;

	char path[ROOST_SHM_NAME_MAX + 16];
	struct stat held, named;
	int tries;

	snprintf(name, len, "/roost.%u.%s~lock", (unsigned)geteuid(), system);
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	for (tries = 0; tries < 5; tries++) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			rd_log(RD_ERR, "cannot open the lock of system '%s': %s",
			       system, strerror(errno));
			return -1;
		}
		if (!lock_within(fd, LOCK_WAIT_MS)) {
			rd_log(RD_ERR, "system '%s' is already run by another "
			       "roostd", system);
			close(fd);
			return -1;
		}
		/* A roostd that exits unlinks the file after its shutdown:
		 * a lock on the unlinked inode guards nothing, so try the
		 * new file. */
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
		    held.st_ino == named.st_ino && held.st_dev == named.st_dev)
			return fd;
		close(fd);
	}
	rd_log(RD_ERR, "the lock of system '%s' keeps changing", system);
	return -1;
}

/*
 * Is there something to adopt? A live process in a slot ('who'), or a
 * supervised mailbox of an actor the config names, whose mail a restart
 * at its address keeps ('who' 0). Anything else is stale.
 */
static bool
adoptable(struct roost__sys *sy, const struct rd_config *cfg, pid_t *who)
{
	struct roost__slot_view sv;
	bool kept = false;
	uint32_t i;

	for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
		if (roost__sys_slot_read(sy, i, &sv) != 0 ||
		    sv.sv_state == ROOST_SLOT_FREE)
			continue;
		if (roost__plat_proc_alive(sv.sv_pid, sv.sv_pid_start)) {
			*who = sv.sv_pid;
			return true;
		}
		if ((sv.sv_flags & ROOST_SLOT_F_SUPERVISED) &&
		    sv.sv_state == ROOST_SLOT_ACTIVE && rd_config_names(cfg, sv.sv_name))
			kept = true;
	}
	return kept;
}

/* Create the system, or find one to adopt, or clean a stale one.
 * Returns 0 (created), 1 (adopt it), -1 (logged). */
static int
create_or_adopt(const char *name, const struct rd_config *cfg)
{
	const roost_sys_opts_t *opts = &cfg->rc_sys;
	struct roost__sys sy;
	pid_t who = 0;
	bool adopt;
	int rc;

	rc = roost_system_create(name, opts);
	if (rc != -EEXIST)
		goto out;
	rc = roost__sys_open(&sy, name);
	if (rc == 0) {
		adopt = adoptable(&sy, cfg, &who);
		roost__sys_close(&sy);
		if (adopt && who > 0) {
			rd_log(RD_INFO, "system '%s' runs without a roostd (actor "
			       "pid %d is alive): adopting it", name, (int)who);
			return 1;
		}
		if (adopt) {
			rd_log(RD_INFO, "system '%s' has no live process, but "
			       "mailboxes of the config's actors: adopting it "
			       "(they restart at their addresses, mail kept)",
			       name);
			return 1;
		}
	} else if (rc == -EACCES) {
		goto out;
	}
	rd_log(RD_INFO, "removing stale system '%s' (no roostd, no live "
	       "actors, no mailbox of the config's actors%s%s)", name,
	       rc < 0 ? "; " : "", rc < 0 ? roost_strerror(rc) : "");
	roost_system_destroy(name);
	rc = roost_system_create(name, opts);
out:
	if (rc < 0) {
		rd_log(RD_ERR, "cannot create system '%s': %s", name,
		       roost_strerror(rc));
		return -1;
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

/* The config's actors as children, pools expanded, in start order. */
static int
children_from_config(struct rd *rd)
{
	const struct rd_actor *a;
	struct rd_child *ch;
	char name[ROOST_NAME_MAX + 16]; /* the config checked it fits */
	uint32_t k;
	int i;

	for (i = 0; i < rd->rd_cfg->rc_nactors; i++) {
		a = &rd->rd_cfg->rc_actors[i];
		for (k = 1; k <= a->ra_count; k++) {
			if (a->ra_count > 1)
				snprintf(name, sizeof(name), "%s.%u", a->ra_name, k);
			else
				snprintf(name, sizeof(name), "%s", a->ra_name);
			ch = rd_child_add(rd, name, a->ra_group);
			if (ch == NULL ||
			    rd_spec_copy(&ch->ch_spec, a->ra_program, a->ra_argv,
			                 a->ra_argc) < 0)
				return -1;
			ch->ch_spec.sp_restart = a->ra_restart;
			ch->ch_spec.sp_daemon = a->ra_daemon;
			ch->ch_spec.sp_mbox_bytes = a->ra_mbox_bytes;
			ch->ch_spec.sp_shutdown_ms = a->ra_shutdown_ms;
			ch->ch_order = a->ra_order;
		}
	}
	return 0;
}

static int
fire_one(void *arg, const struct roost__timer_view *v, const void *data)
{
	struct rd *rd = arg;

	return roost_send_ex(rd->rd_ctx, v->tv_to, v->tv_kind, v->tv_flags, 0,
	                     data, v->tv_size, 0);
}

static void
timer_lost(void *arg, uint64_t id, const char *why)
{
	(void)arg;
	rd_log(RD_ERR, "alarm %llu lost at adoption: %s",
	       (unsigned long long)id, why);
}

/* How long the loop may sleep now, in ns. */
static int64_t
sleep_ns(struct rd *rd, uint64_t now, uint64_t next_beat)
{
	uint64_t until = next_beat;
	uint64_t due;

	if (rd->rd_timers != NULL && rd_timers_next_due(rd->rd_timers, &due) &&
	    due < until)
		until = due;
	if (rd_stops_next_due(rd, &due) && due < until)
		until = due;
	if (rd_status_due(&due) && due < until)
		until = due;
	if (rd_children_starting(rd) && now + rd->rd_attach_poll_ns < until)
		until = now + rd->rd_attach_poll_ns;
	return until > now ? (int64_t)(until - now) : 0;
}

/* Handle requests from 'rc'/'m' on, without waiting, up to a bound, or
 * until one begins the shutdown (the loop's next turn starts it). */
static void
handle_requests(struct rd *rd, int rc, roost_msg_t *m)
{
	if (rc == -EAGAIN || rc == -ETIMEDOUT || rc == -EINTR)
		return;
	bool stopping = rd->rd_stopping;
	int n;

	for (n = 1; rc == 0; n++) {
		if (roost_msg_flags(m) & ROOST_MSG_SYSTEM)
			rd_request(rd, m);
		/* Stop before the next receive: a message received is
		 * released by the receive after it, handled or not. */
		if (rd->rd_stopping != stopping || n == REQUESTS_PER_TURN)
			return;
		rc = roost_recv(rd->rd_ctx, &m, 0);
	}
	if (rc == ROOST_ECORRUPT)
		rd_log(RD_ERR, "roostd's mailbox: damaged records skipped");
}

void
rd_requests_drain(struct rd *rd)
{
	roost_msg_t *m = NULL;
	int rc = roost_recv(rd->rd_ctx, &m, 0);

	handle_requests(rd, rc, m);
}

/* Processes watched through pidfds that ended. Requests first: a
 * one-shot's DONE, sent before it exited, is queued by now. */
static void
watched_exits(struct rd *rd)
{
	struct rd_child *ch;
	pid_t pid;

	pid = rd_watch_next_exit();
	if (pid <= 0)
		return;
	rd_requests_drain(rd);
	for (; pid > 0; pid = rd_watch_next_exit()) {
		ch = rd_child_by_pid(rd, pid);
		if (ch != NULL && !ch->ch_is_child)
			rd_child_ended(rd, ch, ch->ch_done_status,
			               ch->ch_done_known);
	}
}

/*
 * The loop, until the shutdown has stopped every actor. Nothing in a
 * turn waits: stops and the shutdown advance at their deadlines
 * (stops.c, shutdown.c), so alarms, requests and exits are served
 * throughout.
 */
static void
loop(struct rd *rd)
{
	uint64_t next_beat = 0;
	uint64_t beats = 0;
	roost_msg_t *m = NULL;
	bool announced = false;      /* the shutdown told to systemd */
	uint64_t now;
	int rc;

	for (;;) {
		now = roost__plat_now_ns();
		if (now >= next_beat) {
			heartbeat(&rd->rd_sy);
			if (++beats % AUDIT_BEATS == 0)
				rd_audit(rd);
			next_beat = now + HEARTBEAT_NS;
		}
		if (rd_sig_stop && !rd->rd_stopping) {
			rd_log(RD_INFO, "signal %d: shutting down",
			       (int)rd_sig_stop);
			rd->rd_stopping = true;
		}
		if (rd_sig_chld) {
			/* Requests first: a STOPPING for the one that exited
			 * was sent before its exit. */
			rd_sig_chld = 0;
			rd_requests_drain(rd);
			rd_children_reap(rd);
		}
		watched_exits(rd);
		rd_children_poll_attach(rd);
		rd_stops_tick(rd, roost__plat_now_ns());
		if (rd->rd_stopping && !announced) {
			announced = true;
#ifdef ROOSTD_HAVE_SYSTEMD
			sd_notify(0, "STOPPING=1");
#endif
		}
		if (rd->rd_stopping && rd_shutdown_step(rd))
			break;
		if (rd->rd_timers != NULL)
			rd_timers_fire(rd->rd_timers, roost__plat_now_ns(),
			               fire_one, rd);
		rd_status_sync(rd);
		rc = roost__recv_ns(rd->rd_ctx, &m,
		                    sleep_ns(rd, roost__plat_now_ns(), next_beat));
		handle_requests(rd, rc, m);
	}
}

static int
levels_init(struct rd *rd)
{
	int g;

	for (g = 0; g < rd->rd_cfg->rc_ngroups; g++) {
		rd->rd_levels[g].lv_times =
			calloc(rd->rd_cfg->rc_groups[g].rg_intensity + 1u,
			       sizeof(uint64_t));
		if (rd->rd_levels[g].lv_times == NULL)
			return -1;
	}
	return 0;
}

static void
rd_free(struct rd *rd)
{
	int i;

	for (i = 0; i < rd->rd_nkids; i++)
		rd_spec_free(&rd->rd_kids[i].ch_spec);
	free(rd->rd_kids);
	free(rd->rd_starting);
	for (i = 0; i <= RD_MAX_GROUPS; i++)
		free(rd->rd_levels[i].lv_times);
	free(rd->rd_mons);
	free(rd->rd_links);
}

static int
open_ctx(struct rd *rd, roost_ctx_t **out, const char *name)
{
	roost_ctx_opts_t o;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = rd->rd_system;
	o.name = name;
	rc = roost_ctx_open(out, &o);
	if (rc < 0)
		rd_log(RD_ERR, "cannot open roostd's mailbox '%s': %s", name,
		       roost_strerror(rc));
	return rc;
}

static int
open_timers(struct rd *rd, bool adopt)
{
	int rc = -ENOENT;

	if (adopt)
		rc = rd_timers_adopt(&rd->rd_timers, rd->rd_system, timer_lost,
		                     rd);
	if (rc == ROOST_ECORRUPT) {
		rd_log(RD_ERR, "the alarm table failed validation: every alarm "
		       "of the previous roostd is lost");
		rd_timers_unlink(rd->rd_system);
		rc = -ENOENT;
	}
	if (rc == -ENOENT)
		rc = rd_timers_create(&rd->rd_timers, rd->rd_system,
		                      rd->rd_cfg->rc_timers,
		                      rd->rd_cfg->rc_sys.mode,
		                      rd->rd_cfg->rc_sys.gid);
	if (rc < 0)
		rd_log(RD_ERR, "cannot %s the alarm table: %s",
		       adopt ? "adopt" : "create", roost_strerror(rc));
	else if (adopt)
		rd_log(RD_INFO, "%u alarm(s) resumed",
		       rd_timers_count(rd->rd_timers));
	return rc;
}

static bool
is_attached(const roost_msg_t *m, void *arg)
{
	(void)arg;
	return roost_msg_kind(m) == ROOST__KIND_ATTACHED;
}

/* During start-up: wait (a poll period at most) for a child to say it
 * attached, and take every such word; other requests wait for the
 * loop. */
static void
wait_attached(struct rd *rd)
{
	int ms = (int)((rd->rd_attach_poll_ns + 999999u) / 1000000u);
	roost_msg_t *m;

	while (roost_recv_match(rd->rd_ctx, &m, ROOST_LANE_SYSTEM, is_attached,
	                        NULL, ms) == 0) {
		rd_request(rd, m);
		ms = 0;
	}
}

/* Children of one pool started at once, at most: each holds an exec
 * pipe until its exec, and more would only queue for the CPUs. */
#define START_WINDOW 32

/*
 * Start rd_kids[from, to) (one config section: an actor, or a pool's
 * members) and wait until each attached or ended. Start order means
 * order of readiness: the next section starts once this one is up, so
 * it may look its elder siblings up. A pool's members start together,
 * START_WINDOW at a time.
 */
static int
start_section(struct rd *rd, int from, int to)
{
	uint64_t next_beat = 0;
	struct rd_child *ch;
	uint64_t now;
	int next = from;

	while (!rd->rd_stopping && !rd_sig_stop) {
		for (; next < to && rd->rd_nstarting < START_WINDOW; next++) {
			ch = &rd->rd_kids[next];
			/* A failure during start-up may have started it
			 * already (a one_for_all restart of its group). */
			if (ch->ch_state != CH_DOWN || ch->ch_pid != 0)
				continue;
			if (rd_child_spawn(rd, ch) < 0)
				return -1;
		}
		if (next == to && !rd_children_starting(rd))
			break;
		/* Alive while an actor is slow to attach: tools must not
		 * call a starting system hung. */
		now = roost__plat_now_ns();
		if (now >= next_beat) {
			heartbeat(&rd->rd_sy);
			next_beat = now + HEARTBEAT_NS;
		}
		if (rd_sig_chld) {
			rd_sig_chld = 0;
			rd_children_reap(rd);
		}
		rd_children_poll_attach(rd);
		if (rd_children_starting(rd))
			wait_attached(rd);
	}
	return 0;
}

/* Everything between a created (or adopted) system and the loop. */
static int
start(struct rd *rd, bool adopt)
{
	int from = 0;
	int i;

	rd->rd_kids_cap = (int)rd->rd_sy.sy_fixed.sf_nslots;
	rd->rd_attach_poll_ns = RD_ATTACH_POLL_NS;
	rd->rd_kids = calloc((size_t)rd->rd_kids_cap, sizeof(*rd->rd_kids));
	rd->rd_starting = calloc((size_t)rd->rd_kids_cap,
	                         sizeof(*rd->rd_starting));
	if (rd->rd_kids == NULL || rd->rd_starting == NULL || levels_init(rd) < 0)
		return -1;
	/* The alarm table before our name: whoever finds "roostd" finds
	 * the table too (tools read it without asking us). */
	if (open_timers(rd, adopt) < 0)
		return -1;
	if (open_ctx(rd, &rd->rd_ctx, ROOST__ROOSTD_NAME) < 0 ||
	    open_ctx(rd, &rd->rd_dead, "deadletters") < 0)
		return -1;
	wake_ctx = rd->rd_ctx;
	/* A short receive spin: roostd serves a control plane, and a long
	 * spin costs its callers a scheduling slice when they share a CPU. */
	roost_ctx_set_int(rd->rd_ctx, "spin-ns", ROOSTD_SPIN_NS);
	if (rd_watch_start(rd->rd_ctx) < 0)
		return -1;
	if (children_from_config(rd) < 0) {
		rd_log(RD_ERR, "too many actors for the table");
		return -1;
	}
	if (adopt)
		return rd_adopt(rd);
	/* children_from_config() added each section's members in a row. */
	for (i = 0; i < rd->rd_cfg->rc_nactors && !rd->rd_stopping &&
	     !rd_sig_stop; i++) {
		if (start_section(rd, from,
		                  from + (int)rd->rd_cfg->rc_actors[i].ra_count) < 0)
			return -1;
		from += (int)rd->rd_cfg->rc_actors[i].ra_count;
	}
	return 0;
}

static void
install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int
parse_args(int argc, char **argv, const char **system, const char **config,
           bool *foreground)
{
	static const struct option longopts[] = {
		{"system", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "s:c:fl:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': *system = optarg; break;
		case 'c': *config = optarg; break;
		case 'f': *foreground = true; break;
		case 'l':
			if (strcmp(optarg, "error") == 0)
				rd_log_set_level(RD_ERR);
			else if (strcmp(optarg, "info") == 0)
				rd_log_set_level(RD_INFO);
			else if (strcmp(optarg, "debug") == 0)
				rd_log_set_level(RD_DEBUG);
			else {
				fprintf(stderr, "roostd: bad --log-level '%s' (error, "
				        "info or debug)\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "roostd: unexpected argument '%s'\n",
		        argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	static struct rd_config cfg;
	static struct rd rd;
	const char *system = NULL;
	const char *config = NULL;
	char lockname[ROOST_SHM_NAME_MAX + 8];
	char why[256];
	bool foreground = false;
	int lockfd;
	int adopt;
	int rc;

	/* From here a SIGTERM means an orderly shutdown, even one that
	 * arrives while we are still reading the config, starting or
	 * adopting: roostd never dies of it. */
	install_handlers();
	rc = parse_args(argc, argv, &system, &config, &foreground);
	if (rc >= 0)
		return rc;
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
		rd_config_defaults(&cfg);
	if (cfg.rc_unix_group[0] != '\0') {
		/* The config checked that the group exists. */
		const struct group *gr = getgrnam(cfg.rc_unix_group);

		if (gr == NULL) {
			fprintf(stderr, "roostd: group '%s' vanished\n",
			        cfg.rc_unix_group);
			rd_config_free(&cfg);
			return 2;
		}
		cfg.rc_sys.gid = gr->gr_gid;
	}
	rd.rd_system = system;
	rd.rd_cfg = &cfg;
	if (rd_limits_check(&cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "roostd: %s\n", why);
		rd_config_free(&cfg);
		return 1;
	}
	lockfd = take_lock(system, lockname, sizeof(lockname));
	if (lockfd < 0) {
		rd_config_free(&cfg);
		return 1;
	}
	adopt = create_or_adopt(system, &cfg);
	if (adopt == 0 && rd_limits_check_shm(&cfg, why, sizeof(why)) < 0) {
		rd_log(RD_ERR, "%s", why);
		roost_system_destroy(system);
		adopt = -1;
	}
	if (adopt < 0 || roost__sys_open(&rd.rd_sy, system) < 0) {
		if (adopt >= 0)
			rd_log(RD_ERR, "cannot open system '%s'", system);
		rd_config_free(&cfg);
		return 1;
	}
	if (!foreground) {
		if (detach() < 0)
			return 1;
		rd_log_to_syslog(system);
	}
	/* Our own children and orphaned one-shots come back to us; alarms
	 * fire with microsecond slack, not the default 50 us. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_TIMERSLACK, 1);
	heartbeat(&rd.rd_sy);
	if (start(&rd, adopt == 1) < 0) {
		/* What did start is stopped by the loop's shutdown. */
		rd.rd_exit = 1;
		rd.rd_stopping = true;
	} else {
		rd_log(RD_INFO, "system '%s' up, %d actor(s)", system,
		       rd.rd_nkids);
#ifdef ROOSTD_HAVE_SYSTEMD
		sd_notifyf(0, "READY=1\nSTATUS=system %s up\nMAINPID=%d",
		           system, (int)getpid());
#endif
	}
	/* Without roostd's mailbox, start() spawned nothing to stop. */
	if (rd.rd_ctx != NULL)
		loop(&rd);
	rd_children_reap(&rd);
	rd_watch_stop();
	rd_timers_close(rd.rd_timers);
	roost_ctx_close(rd.rd_dead);
	wake_ctx = NULL;
	roost_ctx_close(rd.rd_ctx);
	roost__sys_close(&rd.rd_sy);
	rd_status_close();
	roost_system_destroy(system);
	shm_unlink(lockname);
	close(lockfd);
	rd_log(RD_INFO, "system '%s' removed%s", system,
	       rd.rd_exit ? " after a failure" : "");
	rd_free(&rd);
	rd_config_free(&cfg);
	return rd.rd_exit;
}
