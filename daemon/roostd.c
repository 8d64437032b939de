/* SPDX-License-Identifier: MIT */
/*
 * roostd.c - the supervisor daemon's main: arguments, the config, then
 * the system (system.c), its start (start.c) and the loop (loop.c) until
 * the ordered shutdown has stopped every actor; then the system is
 * removed. See rd.h for the other modules.
 */
#include "rd.h"
#include "timers.h"

#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#ifdef ROOSTD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* What the command line asked for. */
struct roostd_args {
	const char *ar_system;  /* resolved by load_config */
	const char *ar_config;  /* NULL: the defaults */
	bool ar_foreground;
};

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

/*
 * The handlers, installed with SIGTERM, SIGINT and SIGCHLD blocked and
 * then unblocked: one that arrived before (a launcher may hand us these
 * signals blocked, the only way to cover the time between its exec and
 * our main) is delivered to the handler then, and a mask inherited
 * blocked never keeps a SIGTERM from us.
 */
static void
install_handlers(void)
{
	struct sigaction sa;
	sigset_t ours;

	sigemptyset(&ours);
	sigaddset(&ours, SIGTERM);
	sigaddset(&ours, SIGINT);
	sigaddset(&ours, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ours, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_UNBLOCK, &ours, NULL);
}

/* Returns -1 to go on, or the exit status (after --help, or an error). */
static int
parse_args(int argc, char **argv, struct roostd_args *args)
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
		case 's': args->ar_system = optarg; break;
		case 'c': args->ar_config = optarg; break;
		case 'f': args->ar_foreground = true; break;
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

/* The system's name and the config (or the defaults), with the group
 * resolved. 0, or the exit status 2 (said on stderr). */
static int
load_config(struct roostd_args *args, struct rd_config *cfg)
{
	const struct group *gr;

	args->ar_system = roost__system_resolve(args->ar_system);
	if (args->ar_system == NULL) {
		fprintf(stderr, "roostd: bad system name (1-31 of A-Z a-z 0-9 "
		        "_ -)\n");
		return 2;
	}
	if (args->ar_config == NULL) {
		rd_config_defaults(cfg);
		return 0;
	}
	if (rd_config_load(cfg, args->ar_config) < 0) {
		fprintf(stderr, "roostd: %s\n", cfg->rc_error);
		return 2;
	}
	if (cfg->rc_unix_group[0] == '\0')
		return 0;
	/* The config checked that the group exists. */
	gr = getgrnam(cfg->rc_unix_group);
	if (gr == NULL) {
		fprintf(stderr, "roostd: group '%s' vanished\n",
		        cfg->rc_unix_group);
		return 2;
	}
	cfg->rc_sys.gid = gr->gr_gid;
	return 0;
}

/* Take the lock, create or adopt the system, start it, run the loop to
 * the end of the shutdown, and remove the system. The exit status. */
static int
run(const struct roostd_args *args, struct rd_config *cfg)
{
	static struct rd rd;
	const char *system = args->ar_system;
	char lockname[ROOST_SHM_NAME_MAX + 8];
	char why[256];
	int lockfd;
	int adopt;

	rd.rd_system = system;
	rd.rd_cfg = cfg;
	if (rd_limits_check(cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "roostd: %s\n", why);
		return 1;
	}
	lockfd = rd_lock_take(system, lockname, sizeof(lockname));
	if (lockfd < 0)
		return 1;
	adopt = rd_system_create_or_adopt(system, cfg);
	if (adopt == 0 && rd_limits_check_shm(cfg, why, sizeof(why)) < 0) {
		rd_log(RD_ERR, "%s", why);
		roost_system_destroy(system);
		adopt = -1;
	}
	if (adopt < 0 || roost__sys_open(&rd.rd_sy, system) < 0) {
		if (adopt >= 0)
			rd_log(RD_ERR, "cannot open system '%s'", system);
		return 1;
	}
	if (!args->ar_foreground) {
		if (detach() < 0)
			return 1;
		rd_log_to_syslog(system);
	}
	/* Our own children and orphaned one-shots come back to us; alarms
	 * fire with microsecond slack, not the default 50 us. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_TIMERSLACK, 1);
	rd_heartbeat(&rd.rd_sy);
	if (rd_start(&rd, adopt == 1) < 0) {
		/* What did start is stopped by the loop's shutdown. */
		rd.rd_exit = 1;
		rd.rd_stopping = true;
	} else if (rd.rd_stopping) {
		rd_log(RD_INFO, "system '%s' adopted to finish its shutdown",
		       system);
	} else {
		rd_log(RD_INFO, "system '%s' up, %d actor(s)", system,
		       rd.rd_nkids);
#ifdef ROOSTD_HAVE_SYSTEMD
		sd_notifyf(0, "READY=1\nSTATUS=system %s up\nMAINPID=%d",
		           system, (int)getpid());
#endif
	}
	/* Signals interrupt the loop's receive from here. */
	wake_ctx = rd.rd_ctx;
	/* Without roostd's mailbox, rd_start() spawned nothing to stop. */
	if (rd.rd_ctx != NULL)
		rd_loop(&rd);
	rd_children_reap(&rd);
	rd_metrics_stop();
	rd_watch_stop();
	rd_stats_close();
	rd_timers_close(rd.rd_timers);
	roost_ctx_close(rd.rd_dead);
	wake_ctx = NULL;
	roost_ctx_close(rd.rd_ctx);
	roost__sys_close(&rd.rd_sy);
	rd_status_close();
	rd_keep_close();
	roost_system_destroy(system);
	shm_unlink(lockname);
	close(lockfd);
	rd_log(RD_INFO, "system '%s' removed%s", system,
	       rd.rd_exit ? " after a failure" : "");
	rd_free(&rd);
	return rd.rd_exit;
}

int
main(int argc, char **argv)
{
	static struct rd_config cfg;
	struct roostd_args args = {0};
	int rc;

	/* First thing: from here a SIGTERM means an orderly shutdown, even
	 * one that arrives while we are still reading the config, starting
	 * or adopting: roostd never dies of it. */
	install_handlers();
	rc = parse_args(argc, argv, &args);
	if (rc >= 0)
		return rc;
	rc = load_config(&args, &cfg);
	if (rc == 0)
		rc = run(&args, &cfg);
	rd_config_free(&cfg);
	return rc;
}
