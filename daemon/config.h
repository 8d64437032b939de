/* SPDX-License-Identifier: MIT */
/*
 * config.h - roostd's configuration: the INI file (parsed with inih) as
 * validated values. Every unknown section or key and every bad value is
 * an error naming the file and line; nothing is silently ignored.
 */
#ifndef ROOSTD_CONFIG_H
#define ROOSTD_CONFIG_H

#include "roost_impl.h"

#define RD_MAX_ACTORS 256
#define RD_MAX_ARGS 32

enum rd_restart {
	RD_PERMANENT, /* always restarted */
	RD_TRANSIENT, /* restarted after an abnormal exit only */
	RD_TEMPORARY  /* never restarted */
};

struct rd_actor {
	char ra_name[ROOST_NAME_MAX + 1];
	char *ra_program;
	char *ra_argv[RD_MAX_ARGS + 2]; /* program, args, NULL */
	int ra_argc;
	enum rd_restart ra_restart;
	uint32_t ra_mbox_bytes;      /* 0: the system default */
	uint32_t ra_shutdown_ms;     /* SIGTERM, then SIGKILL after this */
	int ra_line;                 /* where its section starts */
};

struct rd_config {
	roost_sys_opts_t rc_sys;
	struct rd_actor rc_actors[RD_MAX_ACTORS];
	int rc_nactors;
	char rc_error[512];          /* what is wrong, for the first error */
};

/*
 * Parse 'path' into 'cfg'. Returns 0, or -1 with "PATH:LINE: what" in
 * cfg->rc_error. Free with rd_config_free() in both cases.
 */
int rd_config_load(struct rd_config *cfg, const char *path);
void rd_config_free(struct rd_config *cfg);

#endif
