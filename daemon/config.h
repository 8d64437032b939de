/* SPDX-License-Identifier: MIT */
/*
 * config.h - roostd's configuration: the INI file (parsed with inih) as
 * validated values. Every unknown section or key and every bad value is
 * an error naming the file and line; nothing is silently ignored.
 *
 *   [system]
 *   slots = 256               ; actor table size, 1..16384
 *   mailbox_bytes = 1048576   ; default user-lane ring, 4 KiB..1 GiB
 *   max_message = 65536       ; largest payload
 *   group = NAME              ; unix group granted access (mode 0660)
 *   timers = 16384            ; alarm table capacity, 16..1048576
 *   strategy = one_for_one    ; of the top level (actors and groups)
 *   intensity = 5             ; at most this many restarts ...
 *   period = 10               ; ... in this many seconds, 1..3600
 *
 *   [group NAME]              ; a supervision group, child of the top
 *   strategy = one_for_all    ; one_for_one | one_for_all | rest_for_one
 *   intensity = 3
 *   period = 5
 *
 *   [actor NAME]              ; one per actor
 *   program = /abs/path       ; required
 *   args = --flag value       ; split on blanks, no quoting
 *   count = 1                 ; a pool: NAME.1 .. NAME.N, 1..16382
 *                             ; (all actors, members counted, must
 *                             ; fit the table with roostd's 2 slots)
 *   restart = permanent       ; permanent | transient | temporary
 *   daemon = false            ; true: shutdown kills it at once
 *   mailbox_bytes = 65536
 *   shutdown_timeout_ms = 5000
 *   order = 0                 ; start order (ascending; ties: file order)
 *   group = NAME              ; a [group NAME] section (any place in the
 *                             ; file); default: the top level
 *
 *   [gateway]                 ; this node's NATS gateway: keys in
 *                             ; config_gateway.h. roostd runs it as the
 *                             ; actor "gateway", started first, stopped
 *                             ; last; "gateway" is no [actor] name then.
 *
 *   [metrics]                 ; an HTTP endpoint for scrapers: keys in
 *   listen = 127.0.0.1:9464   ; config_metrics.h (listen required,
 *   per_actor = all           ; per_actor all | off | top N)
 */
#ifndef ROOSTD_CONFIG_H
#define ROOSTD_CONFIG_H

#include "roost_impl.h"
#include "config_gateway.h"
#include "config_metrics.h"

#include <limits.h>

/* [actor] sections (a pool is one); their members together are bounded
 * by the table (slots), not by this. */
#define RD_MAX_ACTORS 1024
#define RD_MAX_GROUPS 32
#define RD_MAX_ARGS 32
/* Slots roostd takes itself: its mailbox and the dead letters'. */
#define RD_OWN_SLOTS 2u
#define RD_POOL_MAX (ROOST_SLOTS_MAX - RD_OWN_SLOTS)
#define RD_TIMERS_DEF 16384u

enum rd_restart {
	RD_PERMANENT, /* always restarted */
	RD_TRANSIENT, /* restarted after an abnormal exit only */
	RD_TEMPORARY  /* never restarted */
};

enum rd_strategy {
	RD_ONE_FOR_ONE,  /* restart the one that died */
	RD_ONE_FOR_ALL,  /* stop the others, restart all */
	RD_REST_FOR_ONE  /* stop those started after it, restart them and it */
};

struct rd_group {
	char rg_name[ROOST_NAME_MAX + 1]; /* "" for the top level */
	enum rd_strategy rg_strategy;
	uint32_t rg_intensity;            /* restarts allowed ... */
	uint32_t rg_period_s;             /* ... within this window */
	int rg_line;                      /* where it was defined; 0: implied */
};

struct rd_actor {
	char ra_name[ROOST_NAME_MAX + 1];
	char *ra_program;
	char *ra_argv[RD_MAX_ARGS + 2]; /* program, args, NULL */
	int ra_argc;
	enum rd_restart ra_restart;
	bool ra_daemon;              /* shutdown kills it without waiting */
	uint32_t ra_count;           /* pool size, 1..RD_POOL_MAX */
	uint32_t ra_mbox_bytes;      /* 0: the system default */
	uint32_t ra_shutdown_ms;     /* SIGTERM, then SIGKILL after this */
	int32_t ra_order;            /* start order key */
	int ra_group;                /* index in rc_groups; 0 = top level */
	int ra_line;                 /* where its section starts */
};

struct rd_config {
	roost_sys_opts_t rc_sys;
	char rc_unix_group[64];      /* "" unless [system] group is set */
	uint32_t rc_timers;
	/* rc_groups[0] is the top level (strategy/intensity/period of
	 * [system]); 1.. are [group] sections. */
	struct rd_group rc_groups[RD_MAX_GROUPS + 1];
	int rc_ngroups;
	/* Sorted by start order on success (stable: file order breaks
	 * ties). */
	struct rd_actor rc_actors[RD_MAX_ACTORS];
	int rc_nactors;
	struct rd_gateway rc_gateway; /* rc_actors holds it too, when on */
	struct rd_metrics_cfg rc_metrics; /* the HTTP endpoint, when on */
	char rc_error[512];          /* what is wrong, for the first error */
};

/*
 * Parse 'path' into 'cfg'. Returns 0, or a negative errno (-EINVAL for
 * a bad file, -ENOENT and the like when it cannot be read, -ENOMEM) with
 * "PATH:LINE: what" in cfg->rc_error. Free with rd_config_free() in both
 * cases.
 */
int rd_config_load(struct rd_config *cfg, const char *path);
/* The defaults, as if from an empty file. */
void rd_config_defaults(struct rd_config *cfg);
void rd_config_free(struct rd_config *cfg);
/* True if the config names an actor, or a pool member (NAME.K), 'name'. */
bool rd_config_names(const struct rd_config *cfg, const char *name);

const char *rd_strategy_name(enum rd_strategy s);
const char *rd_restart_name(enum rd_restart r);

#endif
