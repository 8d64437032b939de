/* SPDX-License-Identifier: MIT */
/*
 * roostctl.h - what the parts of roostctl share: exit codes, the
 * command's state, error reporting, and the helpers for JSON,
 * MessagePack and text output (ctl_json.c).
 *
 * roostctl is a client of the public libroost only (roost.h: the view
 * API to look, a context to act); it never touches roost internals.
 *
 *   roostctl.c     main, global options, help, systems, clean, version
 *   ctl_ls.c       ls and top
 *   ctl_inspect.c  inspect and the dead-letter listing
 *   ctl_act.c      send, call, spawn, stop, kill, timers, shutdown, drain
 *   ctl_metrics.c  metrics (the Prometheus text format)
 *   ctl_json.c     JSON <-> MessagePack, payload display, formatting
 */
#ifndef ROOSTCTL_H
#define ROOSTCTL_H

#include <roost.h>
#include <roost/view.h>

#include <getopt.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes: one per class of failure (docs/roostctl.1, --help). */
enum ctl_exit {
	CTL_OK = 0,
	CTL_USAGE = 1,    /* bad arguments */
	CTL_NOSYS = 2,    /* no such system */
	CTL_STALE = 3,    /* the system is stale (nothing runs) */
	CTL_NOACTOR = 4,  /* unknown actor */
	CTL_CORRUPT = 5,  /* a segment failed validation */
	CTL_BADJSON = 6,  /* a JSON argument does not parse */
	CTL_PERM = 7,     /* permission denied */
	CTL_NOROOSTD = 8, /* no roostd runs the system */
	CTL_TIMEOUT = 9,  /* no answer in time */
	CTL_FAILED = 10   /* the request was refused or failed */
};

/* One invocation. */
struct ctl {
	const char *c_system; /* as given; NULL: $ROOST_SYSTEM/default */
	char c_sysname[ROOST_SYSTEM_NAME_MAX + 1]; /* resolved, after open */
	bool c_json;
	roost_view_t *c_view; /* ctl_view() */
	roost_ctx_t *c_ctx;   /* ctl_connect() */
};

/* Options every verb accepts; verbs append their own (see CTL_OPTS). */
#define CTL_COMMON_OPTS                                                       \
	{"json", no_argument, NULL, 'j'},                                     \
	    {"system", required_argument, NULL, 's'},                         \
	{                                                                     \
		"help", no_argument, NULL, 'h'                                \
	}

/* Handle a common option; false if 'opt' is not one. */
bool ctl_common_opt(struct ctl *c, int opt, const char *verb);

/* Print "roostctl: ..." on stderr and return 'code'. */
int ctl_err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The exit code for a roost error 'rc' (negative errno or ROOST_E*). */
int ctl_exit_of(int rc);
/* "roostctl: WHAT: <strerror(rc)>" and its exit code. */
int ctl_fail(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A usage error about 'verb': one line and the hint; CTL_USAGE. */
int ctl_usage(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A system whose actors run on without a roostd (orphaned), and the one
 * way out: "roostctl: VERB: no roostd runs system 'SYS', but its actors
 * do: start roostd for it ... adopts them; THEN". Returns 'code'. */
int ctl_orphaned(int code, const char *verb, const char *sys,
                 const char *then);

/* Open the view of the system (once), refusing a stale one unless
 * 'allow_stale'. 0 or an exit code (message printed). */
int ctl_view(struct ctl *c, bool allow_stale);
/* Open a context on the system (a mailbox for replies). 0 or an exit
 * code (message printed). */
int ctl_connect(struct ctl *c);
/* Look 'spec' up (name or SLOT.GEN). 0 or an exit code. */
int ctl_find(struct ctl *c, const char *spec, roost_aid_t *out);
/* Close what is open. */
void ctl_close(struct ctl *c);

/* Parse numbers: 0 or CTL_USAGE (message printed). */
int ctl_parse_u64(const char *verb, const char *what, const char *s,
                  uint64_t max, uint64_t *out);
/* A kind: a number (decimal or 0x...) or a registered kind name. */
int ctl_parse_kind(struct ctl *c, const char *verb, const char *s,
                   uint32_t *out);

/* Actor names by address, for showing senders and targets. */
struct ctl_names {
	roost_aid_t *cn_aid;
	char (*cn_name)[ROOST_NAME_MAX + 1];
	size_t cn_n;
};
int ctl_names_load(struct ctl *c, struct ctl_names *nm);
const char *ctl_names_get(const struct ctl_names *nm, roost_aid_t aid);
void ctl_names_free(struct ctl_names *nm);

/* True if the mailbox of 'a' failed validation; then one line on
 * stderr says so (ls and metrics exit 5 after their output). */
bool ctl_mbox_damaged(const roost_actor_info_t *a);

/* --- ctl_json.c --------------------------------------------------------- */

/* Print 'j' as one compact line on stdout and release it. */
void ctl_json_print(json_t *j);
/* Parse 'text' (any JSON value). 0, or CTL_BADJSON (message printed). */
int ctl_json_parse(const char *text, json_t **out);
/* Pack 'j' as MessagePack into 'sb' ({"$bin": "hex"} becomes bin).
 * 0, or CTL_BADJSON (message printed). */
int ctl_json_to_msgpack(const json_t *j, msgpack_sbuffer *sb);
/* A MessagePack value as JSON (see docs/roostctl-json.md for the
 * mapping of types JSON lacks). New reference. */
json_t *ctl_msgpack_to_json(const msgpack_object *o);
/* Decode one whole MessagePack value from 'data'; NULL and '*why' if it
 * is not one. New reference. */
json_t *ctl_payload_decode(const void *data, size_t size, const char **why);
/* Add a payload's fields to 'obj': "encoding", then "payload" (decoded)
 * or "hex" and "ascii" (raw, or msgpack that does not decode, with
 * "payload_error"). */
void ctl_payload_json(json_t *obj, const void *data, size_t size,
                      bool msgpack);
/* The payload for a table cell: decoded JSON or hex + ASCII, cut to
 * 'width' characters unless 'width' is 0. Static buffer. */
const char *ctl_payload_text(const void *data, size_t size, bool msgpack,
                             size_t width);
/* A hex dump (offset, 16 bytes of hex, ASCII) to 'f', each line
 * prefixed by 'indent'. */
void ctl_hexdump(FILE *f, const char *indent, const void *data, size_t size);

/* Text helpers; each returns 'buf'. */
char *ctl_fmt_aid(roost_aid_t aid, char *buf, size_t len);
char *ctl_fmt_age(uint64_t ns, char *buf, size_t len);
char *ctl_fmt_bytes(uint64_t n, char *buf, size_t len);
/* "name(slot.gen)" if named, else "slot.gen". */
char *ctl_fmt_who(const struct ctl_names *nm, roost_aid_t aid, char *buf,
                  size_t len);
/* Message flags as words: "msgpack,redelivered" or "-". */
char *ctl_fmt_flags(uint32_t flags, char *buf, size_t len);
/* The same as a JSON array of strings. */
json_t *ctl_flags_json(uint32_t flags);
/* A kind: its name or its number (JSON: the name or null). */
char *ctl_fmt_kind(struct ctl *c, uint32_t kind, char *buf, size_t len);
json_t *ctl_kind_name_json(struct ctl *c, uint32_t kind);
/* null if 's' is empty, else a string. */
json_t *ctl_json_str_or_null(const char *s);

/* The system and an actor as JSON (docs/roostctl-json.md). */
json_t *ctl_sysinfo_json(const roost_sysinfo_t *s);
json_t *ctl_actor_json(const roost_actor_info_t *a, double rate,
                       bool has_rate);
const char *ctl_restart_name(uint32_t restart);
const char *ctl_mbox_state_name(uint32_t state);

/* --- verbs -------------------------------------------------------------- */

int ctl_ls(struct ctl *c, int argc, char **argv);
int ctl_top(struct ctl *c, int argc, char **argv);
int ctl_inspect(struct ctl *c, int argc, char **argv);
int ctl_deadletters(struct ctl *c, int argc, char **argv);
int ctl_send(struct ctl *c, int argc, char **argv);
int ctl_call(struct ctl *c, int argc, char **argv);
int ctl_spawn(struct ctl *c, int argc, char **argv);
int ctl_stop(struct ctl *c, int argc, char **argv);
int ctl_kill(struct ctl *c, int argc, char **argv);
int ctl_timers(struct ctl *c, int argc, char **argv);
int ctl_nodes(struct ctl *c, int argc, char **argv);
/* The gateway's status map (gateway.nodes, docs/distribution.md) as
 * JSON; 0 or a roostctl exit status (said on stderr, 'verb' first). */
int ctl_gateway_status(struct ctl *c, const char *verb, json_t **out);
/* `ls --node NODE`: that node's actors, asked of its gateway. */
int ctl_ls_node(struct ctl *c, const char *node);
int ctl_shutdown(struct ctl *c, int argc, char **argv);
int ctl_metrics(struct ctl *c, int argc, char **argv);
/* deadletters --drain (ctl_act.c) */
int ctl_drain(struct ctl *c);

#endif /* ROOSTCTL_H */
