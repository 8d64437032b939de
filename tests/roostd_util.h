/* SPDX-License-Identifier: MIT */
/*
 * roostd_util.h - helpers for suites that drive the real roostd binary
 * (ROOSTD_BIN) with a config naming the echo actor (ECHO_BIN).
 */
#ifndef ROOST_TEST_ROOSTD_UTIL_H
#define ROOST_TEST_ROOSTD_UTIL_H

#include "test_util.h"

/* Kinds the echo actor (examples/echo_actor.c) understands. */
enum {
	KIND_ECHO = 1, KIND_QUIT = 2, KIND_CRASH = 3, KIND_SLEEP = 4,
	KIND_POISON = 5, KIND_PID = 6, KIND_STOP_SELF = 7, KIND_REPLY = 100,
	KIND_REPLY_REDELIVERED = 101, KIND_FORWARDED = 1000
};

extern char rsys[64];     /* the system roostd runs (not tu_sys) */
extern char cfgpath[128];

/* rsys from tu_sys; call first in each test. */
void ru_setup_names(void);
/* Write the config; 'body' is printf'd with ECHO_BIN for each %s. */
void ru_write_config(const char *body);
/* Start roostd in the foreground; its stderr goes to 'errfd' if >= 0,
 * else to CONFIG.log. */
pid_t ru_start_roostd(int errfd);
/* Read 'fd' until it closes (and close it). */
void ru_slurp(int fd, char *buf, size_t len);
/* Run roostd to completion: its exit status and stderr. */
int ru_run_roostd(char *err, size_t len);
/* Wait until roostd is up (its name registered by a live process). */
void ru_wait_up(void);
/* Open a context on rsys once roostd is up. */
roost_ctx_t *ru_open_when_up(void);
/* SIGTERM roostd, wait for exit 0 and check nothing is left in shm. */
void ru_stop_roostd(pid_t rd);
/* A roostd that adopted a system mid-shutdown finishes it: it exits
 * with 'status', says so in its log, and leaves nothing in shm. */
void ru_finishes_shutdown(pid_t rd, int status);
/* True if roostd's log (CONFIG.log, when started without a pipe) has a
 * line containing 'needle'. */
bool ru_log_has(const char *needle);
/* Remove the config and roostd's log (kept when a test fails). */
void ru_cleanup(void);
/* Take the next message of 'kind' (any lane) within 'ms'. */
roost_msg_t *ru_take_kind(roost_ctx_t *ctx, uint32_t kind, int ms);
/* The pid the echo actor at 'aid' reports (KIND_PID). */
int32_t ru_echo_pid(roost_ctx_t *ctx, roost_aid_t aid);

#endif
