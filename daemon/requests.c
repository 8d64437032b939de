/* SPDX-License-Identifier: MIT */
/*
 * requests.c - requests from actors (core/sup/proto.h): each payload is
 * decoded and checked field by field; anything malformed is answered
 * ROOST_EPROTO and changes nothing.
 */
#include "rd.h"
#include "timers.h"
#include "core/msg/mp.h"

#include <msgpack.h>
#include <stdio.h>
#include <unistd.h>

/* Requests handled per loop turn before signals and alarms are looked
 * at again. */
#define REQUESTS_PER_TURN 256
/* One DRAIN request drops at most this many letters. */
#define DRAIN_MAX (1u << 20)

void
rd_reply(struct rd *rd, roost_aid_t to, uint64_t corr, int64_t rc,
         bool has_value, uint64_t value)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int ret;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, has_value ? 2 : 1);
	msgpack_pack_int64(&pk, rc);
	if (has_value)
		msgpack_pack_uint64(&pk, value);
	/* Never blocks: a caller whose system lane is full times out. */
	ret = roost_send_ex(rd->rd_ctx, to, ROOST__KIND_REPLY,
	                    ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK, corr, sb.data,
	                    sb.size, 0);
	if (ret < 0 && ret != -ESRCH)
		rd_log(RD_DEBUG, "reply to %u.%u lost: %s", roost_aid_slot(to),
		       roost_aid_gen(to), roost_strerror(ret));
	msgpack_sbuffer_destroy(&sb);
}

/* Field accessors: false if the field is absent or of the wrong type. */
static bool
arg_u64(const msgpack_object *a, uint32_t i, uint64_t *out)
{
	if (i >= a->via.array.size ||
	    a->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*out = a->via.array.ptr[i].via.u64;
	return true;
}

static bool
arg_u32(const msgpack_object *a, uint32_t i, uint32_t *out)
{
	uint64_t v;

	if (!arg_u64(a, i, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A string field copied out with a NUL; 'max' bytes at most. */
static char *
arg_str(const msgpack_object *a, uint32_t i, size_t max)
{
	const msgpack_object *o;
	char *s;

	if (i >= a->via.array.size)
		return NULL;
	o = &a->via.array.ptr[i];
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max ||
	    (o->via.str.size > 0 &&
	     memchr(o->via.str.ptr, 0, o->via.str.size) != NULL))
		return NULL;
	s = malloc(o->via.str.size + 1);
	if (s != NULL) {
		if (o->via.str.size > 0) /* an empty string's ptr may be NULL */
			memcpy(s, o->via.str.ptr, o->via.str.size);
		s[o->via.str.size] = '\0';
	}
	return s;
}

bool
rd_program_allowed(const struct rd *rd, const char *program)
{
	int i;

	if (rd->rd_cfg->rc_unix_group[0] == '\0')
		return true;
	for (i = 0; i < rd->rd_cfg->rc_nactors; i++)
		if (strcmp(rd->rd_cfg->rc_actors[i].ra_program, program) == 0)
			return true;
	return false;
}

#define SPAWN_ARGS_MAX 256

/* SPAWN: [program, [argv...], name|nil, restart, flags, mbox, shutdown].
 * Answered now on failure, or when the child attaches (children.c). */
static int
req_spawn(struct rd *rd, const roost_msg_t *m, const msgpack_object *a)
{
	const msgpack_object *av;
	char *argv[SPAWN_ARGS_MAX + 1];
	char *program = NULL;
	char *name = NULL;
	struct rd_child *ch;
	uint32_t restart, flags, mbox, shutdown_ms;
	roost_aid_t holder;
	uint32_t argc = 0;
	uint32_t i;
	int rc = ROOST_EPROTO;

	if (a->via.array.size != 7 || !arg_u32(a, 3, &restart) ||
	    !arg_u32(a, 4, &flags) || !arg_u32(a, 5, &mbox) ||
	    !arg_u32(a, 6, &shutdown_ms) || restart > RD_TEMPORARY ||
	    (flags & ~ROOST_SPAWN_DAEMON) != 0 || shutdown_ms > 3600000 ||
	    (mbox != 0 && (mbox < ROOST_RING_MIN || mbox > ROOST_RING_MAX)))
		return ROOST_EPROTO;
	av = &a->via.array.ptr[1];
	if (av->type != MSGPACK_OBJECT_ARRAY || av->via.array.size == 0 ||
	    av->via.array.size > SPAWN_ARGS_MAX)
		return ROOST_EPROTO;
	program = arg_str(a, 0, 4096);
	if (a->via.array.ptr[2].type != MSGPACK_OBJECT_NIL) {
		name = arg_str(a, 2, ROOST_NAME_MAX);
		if (name == NULL || !roost__name_valid(name))
			goto out;
	}
	for (argc = 0; argc < av->via.array.size; argc++) {
		argv[argc] = arg_str(av, argc, 65536);
		if (argv[argc] == NULL)
			goto out;
	}
	argv[argc] = NULL;
	if (program == NULL || program[0] != '/')
		goto out;
	rc = -ESHUTDOWN;
	if (rd->rd_stopping)
		goto out;
	rc = -EPERM;
	if (!rd_program_allowed(rd, program))
		goto out;
	rc = -EADDRINUSE;
	if (name != NULL && roost_whereis(rd->rd_ctx, name, &holder) == 0)
		goto out;
	rc = -ENOSPC;
	ch = rd_child_add(rd, name, 0);
	if (ch == NULL)
		goto out;
	rc = rd_spec_copy(&ch->ch_spec, program, argv, (int)argc);
	if (rc < 0) {
		ch->ch_state = CH_GONE;
		goto out;
	}
	ch->ch_spec.sp_restart = (enum rd_restart)restart;
	ch->ch_spec.sp_daemon = (flags & ROOST_SPAWN_DAEMON) != 0;
	ch->ch_spec.sp_mbox_bytes = mbox;
	ch->ch_spec.sp_shutdown_ms = shutdown_ms;
	rc = rd_child_spawn(rd, ch);
	if (rc < 0) {
		ch->ch_state = CH_GONE;
		goto out;
	}
	ch->ch_req_from = roost_msg_from(m);
	ch->ch_req_corr = roost_msg_corr(m);
	rc = 1; /* answered later */
out:
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(program);
	free(name);
	return rc;
}

/* KILL: [address]. */
static int
req_kill(struct rd *rd, const msgpack_object *a)
{
	struct rd_child *ch;
	roost_aid_t aid;

	if (a->via.array.size != 1 || !arg_u64(a, 0, &aid.id))
		return ROOST_EPROTO;
	ch = rd_child_by_aid(rd, aid);
	if (ch == NULL)
		return roost__sys_aid_live(&rd->rd_sy, aid) ? -EPERM : -ESRCH;
	rd_log(RD_INFO, "killing %s on request",
	       ch->ch_name[0] ? ch->ch_name : "actor");
	rd_child_kill(rd, ch);
	return 0;
}

/* TIMER: [to, delay_us, interval_us, kind, flags, payload]. */
static int
req_timer(struct rd *rd, const roost_msg_t *m, const msgpack_object *a,
          uint64_t *id)
{
	const msgpack_object *d;
	uint64_t delay, interval;
	uint32_t kind, flags;
	roost_aid_t to;

	if (a->via.array.size != 6 || !arg_u64(a, 0, &to.id) ||
	    !arg_u64(a, 1, &delay) || !arg_u64(a, 2, &interval) ||
	    !arg_u32(a, 3, &kind) || !arg_u32(a, 4, &flags) ||
	    (flags & ~ROOST_SEND_MSGPACK) != 0)
		return ROOST_EPROTO;
	d = &a->via.array.ptr[5];
	if (d->type != MSGPACK_OBJECT_BIN)
		return ROOST_EPROTO;
	/* A year at most, so due times never wrap. */
	if (delay > 366ull * 86400 * 1000000 ||
	    interval > 366ull * 86400 * 1000000)
		return -EINVAL;
	if (!roost__sys_aid_live(&rd->rd_sy, to))
		return -ESRCH;
	if (rd->rd_timers == NULL)
		return -ENOTSUP;
	return rd_timers_add(rd->rd_timers, to, roost_msg_from(m),
	                     roost__plat_now_ns() + delay * 1000u,
	                     interval * 1000u, kind, flags, d->via.bin.ptr,
	                     d->via.bin.size, id);
}

/* WATCH: [pid, pid_start, flags], from a one-shot's own context. */
static int
req_watch(struct rd *rd, const roost_msg_t *m, const msgpack_object *a)
{
	struct roost__slot_view sv;
	struct rd_child *ch;
	roost_aid_t from = roost_msg_from(m);
	uint64_t pid, start;
	uint32_t flags;
	int rc;

	if (a->via.array.size != 3 || !arg_u64(a, 0, &pid) ||
	    !arg_u64(a, 1, &start) || !arg_u32(a, 2, &flags) ||
	    pid == 0 || pid > INT32_MAX || (flags & ~ROOST_SPAWN_DAEMON) != 0)
		return ROOST_EPROTO;
	/* The sender's slot must be held by that very process. */
	if (roost__sys_slot_read(&rd->rd_sy, roost_aid_slot(from), &sv) < 0 ||
	    sv.sv_gen != roost_aid_gen(from) || sv.sv_pid != (int32_t)pid ||
	    sv.sv_pid_start != start ||
	    !roost__plat_proc_alive((pid_t)pid, start))
		return -ESRCH;
	if (rd_child_by_aid(rd, from) != NULL)
		return -EALREADY;
	ch = rd_child_add(rd, sv.sv_name, 0);
	if (ch == NULL)
		return -ENOSPC;
	ch->ch_oneshot = true;
	ch->ch_nospec = true;
	ch->ch_spec.sp_restart = RD_TEMPORARY;
	ch->ch_spec.sp_daemon = (flags & ROOST_SPAWN_DAEMON) != 0;
	ch->ch_spec.sp_shutdown_ms = ROOST_SHUTDOWN_MS_DEF;
	ch->ch_aid = from;
	ch->ch_pid = (pid_t)pid;
	ch->ch_pid_start = start;
	ch->ch_is_child = false;
	ch->ch_in_slot = true;
	ch->ch_state = CH_RUNNING;
	rc = rd_watch_add((pid_t)pid, start);
	if (rc < 0) {
		ch->ch_state = CH_GONE;
		ch->ch_pid = 0;
		return rc;
	}
	rd_log(RD_INFO, "watching one-shot %s (pid %d, address %u.%u)",
	       ch->ch_name[0] ? ch->ch_name : "actor", (int)pid,
	       roost_aid_slot(from), roost_aid_gen(from));
	return 0;
}

/* DONE: [status], a one-shot's exit status before it exits. */
static void
req_done(struct rd *rd, const roost_msg_t *m, const msgpack_object *a)
{
	struct rd_child *ch = rd_child_by_aid(rd, roost_msg_from(m));
	uint32_t status;

	if (ch == NULL || !ch->ch_oneshot || a->via.array.size != 1 ||
	    !arg_u32(a, 0, &status) || status > 255)
		return;
	ch->ch_done_status = (int)(status << 8); /* as waitpid reports it */
	ch->ch_done_known = true;
}

static int
req_watches(struct rd *rd, uint32_t kind, roost_aid_t from,
            const msgpack_object *a, uint64_t *value)
{
	roost_aid_t aid;

	if (a->via.array.size != 1 || !arg_u64(a, 0, &aid.id))
		return ROOST_EPROTO;
	/* Only roostd's own actors are watched: no notice could come
	 * from anything else (-EPERM, as for roost_kill). */
	switch (kind) {
	case ROOST__KIND_MONITOR:
		if (!roost__sys_aid_live(&rd->rd_sy, aid))
			return -ESRCH;
		return rd_child_by_aid(rd, aid) != NULL
		       ? rd_monitor_add(rd, from, aid, value) : -EPERM;
	case ROOST__KIND_DEMONITOR:
		return rd_monitor_remove(rd, from, aid.id);
	case ROOST__KIND_LINK:
		if (!roost__sys_aid_live(&rd->rd_sy, aid))
			return -ESRCH;
		return rd_child_by_aid(rd, aid) != NULL
		       ? rd_link_add(rd, from, aid) : -EPERM;
	default:
		return rd_link_remove(rd, from, aid);
	}
}

/* "name (slot.gen)" or "slot.gen" for the log. */
static const char *
describe(struct rd *rd, roost_aid_t aid, char *buf, size_t len)
{
	struct roost__slot_view sv;

	if (roost__sys_slot_read(&rd->rd_sy, roost_aid_slot(aid), &sv) == 0 &&
	    sv.sv_gen == roost_aid_gen(aid) && sv.sv_name[0] != '\0')
		snprintf(buf, len, "%s (%u.%u)", sv.sv_name, roost_aid_slot(aid),
		         roost_aid_gen(aid));
	else
		snprintf(buf, len, "%u.%u", roost_aid_slot(aid),
		         roost_aid_gen(aid));
	return buf;
}

/* DRAIN []: drop every queued dead letter; the value is how many. */
static int
req_drain(struct rd *rd, const roost_msg_t *m, const msgpack_object *a,
          uint64_t *value)
{
	roost_msg_t *d;
	uint64_t n = 0;
	uint32_t i;
	int rc = 0;

	if (a->via.array.size != 0)
		return -EPROTO;
	if (rd->rd_dead == NULL)
		return -ENOTCONN;
	/* Each receive releases the one before, so when it says -EAGAIN
	 * every letter taken is gone. Damaged records are skipped by the
	 * receive itself. */
	for (i = 0; i < DRAIN_MAX; i++) {
		rc = roost_recv(rd->rd_dead, &d, 0);
		if (rc == 0)
			n++;
		else if (rc != ROOST_ECORRUPT)
			break;
	}
	rd_log(RD_INFO, "%llu dead letter(s) drained at the request of %u.%u",
	       (unsigned long long)n, roost_aid_slot(roost_msg_from(m)),
	       roost_aid_gen(roost_msg_from(m)));
	*value = n;
	return 0;
}

/* Dispatch one request; >0: answered later. */
static int
dispatch(struct rd *rd, const roost_msg_t *m, const msgpack_object *a,
         uint64_t *value, bool *has_value)
{
	uint32_t kind = roost_msg_kind(m);
	struct rd_child *ch;
	char who[ROOST_NAME_MAX + 32];
	uint64_t id;
	int rc;

	switch (kind) {
	case ROOST__KIND_SPAWN:
		return req_spawn(rd, m, a);
	case ROOST__KIND_KILL:
		return req_kill(rd, a);
	case ROOST__KIND_SHUTDOWN:
		if (a->via.array.size != 0)
			return ROOST_EPROTO;
		rd_log(RD_INFO, "shutdown requested by %s",
		       describe(rd, roost_msg_from(m), who, sizeof(who)));
		rd->rd_stopping = true;
		return 0;
	case ROOST__KIND_TIMER:
		rc = req_timer(rd, m, a, &id);
		*value = id;
		*has_value = rc == 0;
		return rc;
	case ROOST__KIND_CANCEL:
		if (a->via.array.size != 1 || !arg_u64(a, 0, &id))
			return ROOST_EPROTO;
		return rd->rd_timers ? rd_timers_cancel(rd->rd_timers, id)
		                     : -ENOENT;
	case ROOST__KIND_MONITOR:
	case ROOST__KIND_DEMONITOR:
	case ROOST__KIND_LINK:
	case ROOST__KIND_UNLINK:
		rc = req_watches(rd, kind, roost_msg_from(m), a, value);
		*has_value = rc == 0 && kind == ROOST__KIND_MONITOR;
		return rc;
	case ROOST__KIND_WATCH:
		return req_watch(rd, m, a);
	case ROOST__KIND_DONE:
		req_done(rd, m, a);
		return 1; /* no reply */
	case ROOST__KIND_DRAIN:
		rc = req_drain(rd, m, a, value);
		*has_value = rc == 0;
		return rc;
	case ROOST__KIND_STOPPING:
		/* Believed only when the lane really is shut: nobody can
		 * make roostd give up an actor by saying so. A stop asked by
		 * another has the actor's timeouts from here (SIGTERM, then
		 * SIGKILL); an actor that stops itself ends as it sees fit. */
		if (a->via.array.size == 1 && arg_u64(a, 0, &id) &&
		    (ch = rd_child_by_aid(rd, (roost_aid_t){id})) != NULL &&
		    rd_child_lane_shut(rd, ch)) {
			if (roost_msg_from(m).id == id) {
				ch->ch_stopping = true;
				rd_keep_child(rd, ch);
			} else {
				rd_stop_follow(rd, ch);
			}
		}
		return 1; /* no reply */
	case ROOST__KIND_ATTACHED:
		/* Its own address only: the table decides (children.c). */
		if (a->via.array.size == 1 && arg_u64(a, 0, &id) &&
		    id == roost_msg_from(m).id)
			rd_children_told_attached(rd, roost_msg_from(m));
		return 1; /* no reply */
	default:
		return -ENOSYS;
	}
}

void
rd_request(struct rd *rd, const roost_msg_t *m)
{
	msgpack_unpacked up;
	bool has_value = false;
	uint64_t value = 0;
	int rc = ROOST_EPROTO;

	if (roost_msg_kind(m) == ROOST__KIND_REPLY)
		return; /* never answer an answer */
	msgpack_unpacked_init(&up);
	if ((roost_msg_flags(m) & ROOST_MSG_MSGPACK) &&
	    roost__mp_check(roost_msg_data(m), roost_msg_size(m)) &&
	    msgpack_unpack_next(&up, roost_msg_data(m), roost_msg_size(m),
	                        NULL) == MSGPACK_UNPACK_SUCCESS &&
	    up.data.type == MSGPACK_OBJECT_ARRAY)
		rc = dispatch(rd, m, &up.data, &value, &has_value);
	else if ((roost_msg_kind(m) & 0xffffff00u) != 0xffffff00u)
		rc = -ENOSYS;
	msgpack_unpacked_destroy(&up);
	if (rc > 0)
		return;
	if (rc < 0)
		rd_log(RD_DEBUG, "request 0x%x from %u.%u: %s",
		       roost_msg_kind(m), roost_aid_slot(roost_msg_from(m)),
		       roost_aid_gen(roost_msg_from(m)), roost_strerror(rc));
	rd_reply(rd, roost_msg_from(m), roost_msg_corr(m), rc, has_value,
	         value);
}

/* Handle requests from 'rc'/'m' on, without waiting, up to a bound, or
 * until one begins the shutdown (the loop's next turn starts it). */
void
rd_requests_handle(struct rd *rd, int rc, roost_msg_t *m)
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

	rd_requests_handle(rd, rc, m);
}
