/* SPDX-License-Identifier: MIT */
/*
 * ctl_act.c - the verbs that act: send, call, spawn, stop, kill,
 * shutdown and deadletters --drain, and timers. The acting verbs attach
 * to the system with a context of their own (a small mailbox that
 * receives the replies) and use the public API: roost_send_ex,
 * roost_call, roost_spawn, roost_stop, roost_kill, roost_shutdown,
 * roost_deadletters_drain; timers reads roostd's alarm table through the
 * view API (roost_view_timers), roostd or not.
 */
#include "roostctl.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEND_TIMEOUT_DEF  1000
#define CALL_TIMEOUT_DEF  5000
#define SHUTDOWN_WAIT_DEF 30000

/* The system must have a roostd process for this verb. One that skips
 * heartbeats (stopped with SIGSTOP, say) is asked anyway: the request
 * then answers late or times out (exit 9). */
static int
need_roostd(struct ctl *c, const char *verb)
{
	roost_sysinfo_t si;
	int rc = ctl_view(c, false);

	if (rc != 0)
		return rc;
	rc = roost_view_info(c->c_view, &si);
	if (rc < 0)
		return ctl_fail(rc, "system '%s'", c->c_sysname);
	if (si.state == ROOST_SYS_LIVE || si.state == ROOST_SYS_HUNG)
		return 0;
	return ctl_orphaned(CTL_NOROOSTD, verb, si.name,
	                    "then run this again");
}

/* A send's or call's error, in words that say what to do. */
static int
send_error(int rc, const char *verb, const char *name)
{
	switch (rc) {
	case -ESHUTDOWN:
		return ctl_err(CTL_FAILED,
		               "%s: '%s' is stopping and takes no "
		               "more user messages",
		               verb, name);
	case -EAGAIN:
	case -ETIMEDOUT:
		return ctl_err(CTL_TIMEOUT,
		               "%s: no room in the mailbox of '%s' "
		               "in time (or no answer): %s",
		               verb, name, roost_strerror(rc));
	case -ESRCH:
		return ctl_err(CTL_NOACTOR, "%s: '%s' is gone", verb, name);
	case -EMSGSIZE:
		return ctl_err(CTL_FAILED,
		               "%s: the message is larger than the "
		               "system allows",
		               verb);
	default:
		return ctl_fail(rc, "%s to '%s'", verb, name);
	}
}

/* What send and call share: target, kind, payload. */
struct outgoing {
	roost_aid_t o_to;
	uint32_t o_kind;
	uint32_t o_flags;     /* ROOST_SEND_* */
	msgpack_sbuffer o_sb; /* the payload */
	uint64_t o_timeout;
};

static int
parse_outgoing(struct ctl *c, const char *verb, int argc, char **argv,
               struct outgoing *o)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"raw", required_argument, NULL, 'r'},
	    {"system-lane", no_argument, NULL, 'S'},
	    {"timeout", required_argument, NULL, 't'},
	    {0},
	};
	const char *raw = NULL;
	json_t *j = NULL;
	int opt;
	int rc;

	msgpack_sbuffer_init(&o->o_sb);
	while ((opt = getopt_long(argc, argv, "js:hr:St:", opts, NULL)) !=
	       -1) {
		if (ctl_common_opt(c, opt, verb))
			continue;
		rc = 0;
		if (opt == 'r')
			raw = optarg;
		else if (opt == 'S')
			o->o_flags |= ROOST_SEND_SYSTEM;
		else if (opt == 't')
			rc = ctl_parse_u64(verb, "--timeout", optarg, INT_MAX,
			                   &o->o_timeout);
		else
			return ctl_usage(verb, "unknown option");
		if (rc != 0)
			return rc;
	}
	if (argc - optind < 2 || argc - optind > 3)
		return ctl_usage(verb, "wants NAME KIND [JSON]");
	if (raw != NULL && argc - optind == 3)
		return ctl_usage(verb, "give either JSON or --raw, not both");
	rc = ctl_find(c, argv[optind], &o->o_to);
	if (rc == 0)
		rc = ctl_parse_kind(c, verb, argv[optind + 1], &o->o_kind);
	if (rc != 0)
		return rc;
	if (argc - optind == 3) {
		rc = ctl_json_parse(argv[optind + 2], &j);
		if (rc == 0)
			rc = ctl_json_to_msgpack(j, &o->o_sb);
		json_decref(j);
		if (rc != 0)
			return rc;
		o->o_flags |= ROOST_SEND_MSGPACK;
	} else if (raw != NULL) {
		msgpack_sbuffer_write(&o->o_sb, raw, strlen(raw));
	}
	return 0;
}

int
ctl_send(struct ctl *c, int argc, char **argv)
{
	struct outgoing o;
	char kind[32];
	char who[96];
	int rc;

	memset(&o, 0, sizeof(o));
	o.o_timeout = SEND_TIMEOUT_DEF;
	optind = 0;
	rc = parse_outgoing(c, "send", argc, argv, &o);
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		goto out;
	rc = roost_send_ex(c->c_ctx, o.o_to, o.o_kind, o.o_flags, 0,
	                   o.o_sb.data, o.o_sb.size, (int)o.o_timeout);
	if (rc < 0) {
		rc = send_error(rc, "send", argv[optind]);
		goto out;
	}
	ctl_fmt_kind(c, o.o_kind, kind, sizeof(kind));
	ctl_fmt_aid(o.o_to, who, sizeof(who));
	if (c->c_json)
		ctl_json_print(json_pack(
		    "{s:{s:s, s:I, s:I, s:I, s:s}}", "sent", "to", who, "aid",
		    (json_int_t)o.o_to.id, "kind", (json_int_t)o.o_kind,
		    "size", (json_int_t)o.o_sb.size, "lane",
		    (o.o_flags & ROOST_SEND_SYSTEM) ? "system" : "user"));
	else
		printf("sent %s (%zu bytes%s) to %s (%s)\n", kind, o.o_sb.size,
		       (o.o_flags & ROOST_SEND_MSGPACK) ? ", MessagePack" : "",
		       argv[optind], who);
	rc = CTL_OK;
out:
	msgpack_sbuffer_destroy(&o.o_sb);
	return rc;
}

int
ctl_call(struct ctl *c, int argc, char **argv)
{
	struct ctl_names names = {0};
	struct outgoing o;
	roost_msg_t *reply;
	char kind[32];
	char who[96];
	json_t *j;
	bool mp;
	int rc;

	memset(&o, 0, sizeof(o));
	o.o_timeout = CALL_TIMEOUT_DEF;
	optind = 0;
	rc = parse_outgoing(c, "call", argc, argv, &o);
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		goto out;
	rc = roost_call(c->c_ctx, o.o_to, o.o_kind, o.o_flags, o.o_sb.data,
	                o.o_sb.size, (int)o.o_timeout, &reply);
	if (rc == -ETIMEDOUT) {
		rc = ctl_err(CTL_TIMEOUT,
		             "call: no reply from '%s' within %llu "
		             "ms (does it answer with roost_reply?)",
		             argv[optind], (unsigned long long)o.o_timeout);
		goto out;
	}
	if (rc < 0) {
		rc = send_error(rc, "call", argv[optind]);
		goto out;
	}
	ctl_names_load(c, &names);
	mp = (roost_msg_flags(reply) & ROOST_MSG_MSGPACK) != 0;
	if (c->c_json) {
		j = json_pack(
		    "{s:s, s:I, s:o, s:I, s:o, s:I, s:o, s:I}", "from",
		    ctl_fmt_aid(roost_msg_from(reply), who, sizeof(who)),
		    "from_aid", (json_int_t)roost_msg_from(reply).id,
		    "from_name",
		    ctl_json_str_or_null(
		        ctl_names_get(&names, roost_msg_from(reply))),
		    "kind", (json_int_t)roost_msg_kind(reply), "kind_name",
		    ctl_kind_name_json(c, roost_msg_kind(reply)), "corr",
		    (json_int_t)roost_msg_corr(reply), "flags",
		    ctl_flags_json(roost_msg_flags(reply)), "size",
		    (json_int_t)roost_msg_size(reply));
		ctl_payload_json(j, roost_msg_data(reply),
		                 roost_msg_size(reply), mp);
		ctl_json_print(json_pack("{s:o}", "reply", j));
	} else {
		printf(
		    "reply %s from %s, %zu bytes: %s\n",
		    ctl_fmt_kind(c, roost_msg_kind(reply), kind, sizeof(kind)),
		    ctl_fmt_who(&names, roost_msg_from(reply), who,
		                sizeof(who)),
		    roost_msg_size(reply),
		    ctl_payload_text(roost_msg_data(reply),
		                     roost_msg_size(reply), mp, 0));
	}
	rc = CTL_OK;
out:
	ctl_names_free(&names);
	msgpack_sbuffer_destroy(&o.o_sb);
	return rc;
}

/* 'prog' as an absolute path: as given if it has a '/', else from
 * $PATH. Returns a malloc'd path or NULL. */
static char *
program_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	const char *p;
	const char *e;
	size_t n;

	if (strchr(prog, '/') != NULL)
		return realpath(prog, NULL);
	for (p = path ? path : "/usr/bin:/bin"; *p != '\0';
	     p = *e ? e + 1 : e) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n == 0 || n + strlen(prog) + 2 > sizeof(buf))
			continue;
		memcpy(buf, p, n);
		buf[n] = '/';
		strcpy(buf + n + 1, prog);
		if (access(buf, X_OK) == 0)
			return realpath(buf, NULL);
	}
	return NULL;
}

/* spawn's options into 'o'; 0 (optind at PROGRAM) or an exit code. */
static int
spawn_opts(struct ctl *c, int argc, char **argv, roost_spawn_opts_t *o)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"name", required_argument, NULL, 'N'},
	    {"restart", required_argument, NULL, 'r'},
	    {"daemon", no_argument, NULL, 'd'},
	    {"mailbox-bytes", required_argument, NULL, 'm'},
	    {"shutdown-ms", required_argument, NULL, 'S'},
	    {"timeout", required_argument, NULL, 't'},
	    {0},
	};
	uint64_t v;
	int opt;
	int rc;

	optind = 0;
	/* '+': everything after PROGRAM belongs to it. */
	while ((opt = getopt_long(argc, argv, "+js:hN:r:dm:S:t:", opts,
	                          NULL)) != -1) {
		if (ctl_common_opt(c, opt, "spawn"))
			continue;
		rc = 0;
		switch (opt) {
		case 'N':
			o->name = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "permanent") == 0)
				o->restart = ROOST_RESTART_PERMANENT;
			else if (strcmp(optarg, "transient") == 0)
				o->restart = ROOST_RESTART_TRANSIENT;
			else if (strcmp(optarg, "temporary") == 0)
				o->restart = ROOST_RESTART_TEMPORARY;
			else
				return ctl_usage("spawn",
				                 "--restart: permanent, "
				                 "transient or temporary");
			break;
		case 'd':
			o->flags |= ROOST_SPAWN_DAEMON;
			break;
		case 'm':
			rc = ctl_parse_u64("spawn", "--mailbox-bytes", optarg,
			                   1u << 30, &v);
			o->mbox_bytes = (uint32_t)v;
			break;
		case 'S':
			rc = ctl_parse_u64("spawn", "--shutdown-ms", optarg,
			                   3600000, &v);
			o->shutdown_ms = (uint32_t)v;
			break;
		case 't':
			rc = ctl_parse_u64("spawn", "--timeout", optarg,
			                   INT_MAX, &v);
			o->timeout_ms = (int)v;
			break;
		default:
			return ctl_usage("spawn", "unknown option");
		}
		if (rc != 0)
			return rc;
	}
	if (optind >= argc)
		return ctl_usage("spawn", "wants PROGRAM [ARGS...]");
	return 0;
}

/* What roost_spawn said, as an exit code and a message. */
static int
spawn_error(const struct ctl *c, int rc, const roost_spawn_opts_t *o)
{
	if (rc == -EADDRINUSE)
		return ctl_err(CTL_FAILED, "spawn: the name '%s' is taken",
		               o->name);
	if (rc == -ECHILD)
		return ctl_err(CTL_FAILED,
		               "spawn: %s exited before it attached "
		               "(is it a roost actor?)",
		               o->program);
	if (rc == -ESHUTDOWN)
		return ctl_err(CTL_FAILED, "spawn: system '%s' is shutting "
		               "down", c->c_sysname);
	return ctl_fail(rc, "spawn %s", o->program);
}

/* The spawned actor, as JSON or a line of text. */
static void
spawn_print(struct ctl *c, const roost_spawn_opts_t *o, roost_aid_t aid)
{
	roost_actor_info_t a;
	char addr[32];

	memset(&a, 0, sizeof(a));
	roost_view_actor(c->c_view, aid, &a);
	ctl_fmt_aid(aid, addr, sizeof(addr));
	if (c->c_json)
		ctl_json_print(json_pack("{s:{s:s, s:I, s:o, s:i, s:s}}",
		                         "spawned", "address", addr, "aid",
		                         (json_int_t)aid.id, "name",
		                         ctl_json_str_or_null(o->name), "pid",
		                         (int)a.pid, "program", o->program));
	else
		printf("spawned %s as %s at %s (pid %d)\n", o->program,
		       o->name ? o->name : "(unnamed)", addr, (int)a.pid);
}

int
ctl_spawn(struct ctl *c, int argc, char **argv)
{
	roost_spawn_opts_t o;
	roost_aid_t aid;
	const char **args = NULL;
	char *prog = NULL;
	int i;
	int rc;

	roost_spawn_opts_init(&o);
	rc = spawn_opts(c, argc, argv, &o);
	if (rc != 0)
		return rc;
	prog = program_path(argv[optind]);
	if (prog == NULL)
		return ctl_err(CTL_FAILED, "spawn: no program '%s'%s",
		               argv[optind],
		               strchr(argv[optind], '/') ? "" : " in $PATH");
	args = calloc((size_t)(argc - optind) + 1, sizeof(*args));
	if (args == NULL) {
		free(prog);
		return ctl_fail(-ENOMEM, "spawn");
	}
	args[0] = prog;
	for (i = optind + 1; i < argc; i++)
		args[i - optind] = argv[i];
	o.program = prog;
	o.argv = args;
	rc = need_roostd(c, "spawn");
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc == 0) {
		rc = roost_spawn(c->c_ctx, &o, &aid);
		if (rc < 0) {
			rc = spawn_error(c, rc, &o);
		} else {
			spawn_print(c, &o, aid);
			rc = CTL_OK;
		}
	}
	free(args);
	free(prog);
	return rc;
}

/* Wait up to 'ms' for 'aid' to end (its slot freed, or nobody restarts
 * it). 0 or CTL_TIMEOUT. */
static int
wait_gone(struct ctl *c, roost_aid_t aid, uint64_t ms, const char *name)
{
	roost_actor_info_t a;
	uint64_t waited;

	for (waited = 0;; waited += 10) {
		if (roost_view_actor(c->c_view, aid, &a) < 0 ||
		    a.state == ROOST_ACTOR_DEAD)
			return 0;
		if (waited >= ms)
			return ctl_err(CTL_TIMEOUT,
			               "'%s' still runs after %llu ms", name,
			               (unsigned long long)ms);
		usleep(10000);
	}
}

int
ctl_stop(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"wait", required_argument, NULL, 'w'},
	    {0},
	};
	roost_aid_t aid;
	uint64_t wait_ms = 0;
	bool already = false;
	char addr[32];
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:hw:", opts, NULL)) != -1) {
		if (ctl_common_opt(c, opt, "stop"))
			continue;
		if (opt != 'w')
			return ctl_usage("stop", "unknown option");
		rc =
		    ctl_parse_u64("stop", "--wait", optarg, INT_MAX, &wait_ms);
		if (rc != 0)
			return rc;
	}
	if (optind + 1 != argc)
		return ctl_usage("stop", "wants one NAME");
	rc = ctl_find(c, argv[optind], &aid);
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		return rc;
	rc = roost_stop(c->c_ctx, aid);
	if (rc == -EALREADY)
		already = true;
	else if (rc < 0)
		return send_error(rc, "stop", argv[optind]);
	if (wait_ms > 0) {
		rc = wait_gone(c, aid, wait_ms, argv[optind]);
		if (rc != 0)
			return rc;
	}
	ctl_fmt_aid(aid, addr, sizeof(addr));
	if (c->c_json)
		ctl_json_print(json_pack("{s:{s:s, s:I, s:b, s:b}}", "stopped",
		                         "address", addr, "aid",
		                         (json_int_t)aid.id, "already",
		                         already, "waited", wait_ms > 0));
	else
		printf("%s %s (%s)%s\n",
		       already ? "already stopping:" : "stopping",
		       argv[optind], addr, wait_ms > 0 ? ": it ended" : "");
	return CTL_OK;
}

int
ctl_kill(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {CTL_COMMON_OPTS, {0}};
	roost_aid_t aid;
	char addr[32];
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:h", opts, NULL)) != -1)
		if (!ctl_common_opt(c, opt, "kill"))
			return ctl_usage("kill", "unknown option");
	if (optind + 1 != argc)
		return ctl_usage("kill", "wants one NAME");
	rc = ctl_find(c, argv[optind], &aid);
	if (rc == 0)
		rc = need_roostd(c, "kill");
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		return rc;
	rc = roost_kill(c->c_ctx, aid);
	if (rc == -EPERM)
		return ctl_err(CTL_FAILED,
		               "kill: '%s' is not one of roostd's "
		               "actors (roostd kills only what it supervises)",
		               argv[optind]);
	if (rc < 0)
		return send_error(rc, "kill", argv[optind]);
	ctl_fmt_aid(aid, addr, sizeof(addr));
	if (c->c_json)
		ctl_json_print(json_pack("{s:{s:s, s:I}}", "killed", "address",
		                         addr, "aid", (json_int_t)aid.id));
	else
		printf("killed %s (%s); it is not restarted\n", argv[optind],
		       addr);
	return CTL_OK;
}

/* --- timers ------------------------------------------------------------ */

struct timer_list {
	roost_timer_info_t *tl_t;
	size_t tl_n;
};

static int
timer_one(void *arg, const roost_timer_info_t *t)
{
	struct timer_list *tl = arg;
	roost_timer_info_t *n;

	n = realloc(tl->tl_t, (tl->tl_n + 1) * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	tl->tl_t = n;
	n[tl->tl_n++] = *t;
	return 0;
}

static int
by_due(const void *a, const void *b)
{
	const roost_timer_info_t *x = a;
	const roost_timer_info_t *y = b;

	if (x->due_in_ns != y->due_in_ns)
		return x->due_in_ns < y->due_in_ns ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static char *
fmt_due(int64_t ns, char *buf, size_t len)
{
	char age[24];

	if (ns == INT64_MAX)
		snprintf(buf, len, "never");
	else if (ns < 0)
		snprintf(buf, len, "-%s",
		         ctl_fmt_age((uint64_t)-ns, age, sizeof(age)));
	else
		ctl_fmt_age((uint64_t)ns, buf, len);
	return buf;
}

int
ctl_timers(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {CTL_COMMON_OPTS, {0}};
	struct timer_list tl = {NULL, 0};
	struct ctl_names names = {0};
	char to[96], owner[96], kind[32], due[24], every[24], addr[32];
	json_t *arr;
	json_t *o;
	size_t i;
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:h", opts, NULL)) != -1)
		if (!ctl_common_opt(c, opt, "timers"))
			return ctl_usage("timers", "unknown option");
	if (optind != argc)
		return ctl_usage("timers", "takes no arguments");
	/* Read from roostd's table: alarms outlive roostd, so they show
	 * while no roostd runs too (the next one resumes them). */
	rc = ctl_view(c, true);
	if (rc != 0)
		return rc;
	rc = roost_view_timers(c->c_view, timer_one, &tl);
	if (rc == -ENOENT) {
		free(tl.tl_t);
		return ctl_err(CTL_NOROOSTD,
		               "timers: system '%s' has no alarm table (no "
		               "roostd ever ran it)",
		               c->c_sysname);
	}
	if (rc < 0) {
		free(tl.tl_t);
		return ctl_fail(rc, "timers: reading roostd's alarm table");
	}
	if (tl.tl_n > 1)
		qsort(tl.tl_t, tl.tl_n, sizeof(*tl.tl_t), by_due);
	ctl_names_load(c, &names);
	if (c->c_json) {
		arr = json_array();
		for (i = 0; i < tl.tl_n; i++) {
			const roost_timer_info_t *t = &tl.tl_t[i];

			o = json_pack(
			    "{s:I, s:s, s:I, s:o, s:s, s:I, s:o, s:I, s:o, "
			    "s:I, s:I, s:I}",
			    "id", (json_int_t)t->id, "to",
			    ctl_fmt_aid(t->to, to, sizeof(to)), "to_aid",
			    (json_int_t)t->to.id, "to_name",
			    ctl_json_str_or_null(ctl_names_get(&names, t->to)),
			    "owner", ctl_fmt_aid(t->owner, addr, sizeof(addr)),
			    "owner_aid", (json_int_t)t->owner.id, "owner_name",
			    ctl_json_str_or_null(
			        ctl_names_get(&names, t->owner)),
			    "kind", (json_int_t)t->kind, "kind_name",
			    ctl_kind_name_json(c, t->kind), "due_in_ms",
			    (json_int_t)(t->due_in_ns / 1000000),
			    "interval_ms",
			    (json_int_t)(t->interval_ns / 1000000u), "fired",
			    (json_int_t)t->fired);
			ctl_payload_json(o, t->data, t->size,
			                 (t->flags & ROOST_SEND_MSGPACK) != 0);
			json_array_append_new(arr, o);
		}
		ctl_json_print(json_pack("{s:o}", "timers", arr));
	} else {
		printf("%-14s %-22s %-22s %-12s %8s %8s %6s  %s\n", "ID", "TO",
		       "OWNER", "KIND", "DUE IN", "EVERY", "FIRED", "PAYLOAD");
		for (i = 0; i < tl.tl_n; i++) {
			const roost_timer_info_t *t = &tl.tl_t[i];

			if (t->interval_ns != 0)
				ctl_fmt_age(t->interval_ns, every,
				            sizeof(every));
			else
				snprintf(every, sizeof(every), "once");
			printf("%-14llu %-22s %-22s %-12s %8s %8s %6llu  %s\n",
			       (unsigned long long)t->id,
			       ctl_fmt_who(&names, t->to, to, sizeof(to)),
			       ctl_fmt_who(&names, t->owner, owner,
			                   sizeof(owner)),
			       ctl_fmt_kind(c, t->kind, kind, sizeof(kind)),
			       fmt_due(t->due_in_ns, due, sizeof(due)), every,
			       (unsigned long long)t->fired,
			       ctl_payload_text(
			           t->data, t->size,
			           (t->flags & ROOST_SEND_MSGPACK) != 0, 40));
		}
		printf("%zu alarm(s)\n", tl.tl_n);
	}
	ctl_names_free(&names);
	free(tl.tl_t);
	return CTL_OK;
}

/* --- shutdown and drain ------------------------------------------------ */

int
ctl_shutdown(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"no-wait", no_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {0},
	};
	roost_view_t *v;
	uint64_t timeout = SHUTDOWN_WAIT_DEF;
	uint64_t waited;
	bool wait = true;
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:hnt:", opts, NULL)) != -1) {
		if (ctl_common_opt(c, opt, "shutdown"))
			continue;
		if (opt == 'n') {
			wait = false;
			continue;
		}
		if (opt != 't')
			return ctl_usage("shutdown", "unknown option");
		rc = ctl_parse_u64("shutdown", "--timeout", optarg, INT_MAX,
		                   &timeout);
		if (rc != 0)
			return rc;
	}
	if (optind != argc)
		return ctl_usage("shutdown", "takes no arguments");
	rc = need_roostd(c, "shutdown");
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		return rc;
	rc = roost_shutdown(c->c_ctx);
	if (rc < 0)
		return ctl_fail(rc, "shutdown: asking roostd");
	/* Detach at once: roostd removes the system, ours included. */
	ctl_close(c);
	for (waited = 0; wait; waited += 20) {
		rc = roost_view_open(&v, c->c_sysname);
		if (rc == -ENOENT)
			break;
		if (rc == 0)
			roost_view_close(v);
		if (waited >= timeout)
			return ctl_err(CTL_TIMEOUT,
			               "system '%s' still exists %llu ms "
			               "after the shutdown request",
			               c->c_sysname,
			               (unsigned long long)timeout);
		usleep(20000);
	}
	if (c->c_json)
		ctl_json_print(json_pack("{s:s, s:b}", "shutdown",
		                         c->c_sysname, "removed", wait));
	else
		printf("system '%s' %s\n", c->c_sysname,
		       wait ? "shut down and removed" : "shutting down");
	return CTL_OK;
}

int
ctl_drain(struct ctl *c)
{
	uint64_t n = 0;
	int rc;

	rc = need_roostd(c, "deadletters --drain");
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		return rc;
	rc = roost_deadletters_drain(c->c_ctx, &n);
	if (rc < 0)
		return ctl_fail(rc, "deadletters --drain: asking roostd");
	if (c->c_json)
		ctl_json_print(json_pack("{s:I}", "drained", (json_int_t)n));
	else
		printf("drained %llu dead letter(s)\n", (unsigned long long)n);
	return CTL_OK;
}
