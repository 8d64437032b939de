/* SPDX-License-Identifier: MIT */
/*
 * ctl_inspect.c - inspect (one mailbox: its header and its queued
 * messages, oldest first, payloads decoded) and deadletters (the queue
 * of the "deadletters" actor, each letter unpacked: who it was for, who
 * sent it, its kind and its payload). Both read through
 * roost_view_queue(), which copies the queue out in short locked chunks
 * and decodes nothing under a lock.
 */
#include "roostctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT_DEF     100
#define PAYLOAD_WIDTH 60

struct listing {
	struct ctl *l_ctl;
	struct ctl_names l_names;
	json_t *l_arr; /* --json */
	bool l_full;
	unsigned l_lane; /* lane whose heading was printed, 0 none */
	const roost_mbox_info_t *l_info;
};

static const char *
lane_name(unsigned lane)
{
	return lane == ROOST_LANE_SYSTEM ? "system" : "user";
}

/* One queued message as JSON (docs/roostctl-json.md). */
static json_t *
msg_json(struct listing *l, const roost_queued_t *q)
{
	char from[32];
	json_t *o;

	o = json_pack(
	    "{s:s, s:I, s:s, s:I, s:o, s:I, s:o, s:I, s:I, s:I, "
	    "s:o}",
	    "lane", lane_name(q->lane), "seq", (json_int_t)q->seq, "from",
	    ctl_fmt_aid(q->from, from, sizeof(from)), "from_aid",
	    (json_int_t)q->from.id, "from_name",
	    ctl_json_str_or_null(ctl_names_get(&l->l_names, q->from)), "kind",
	    (json_int_t)q->kind, "kind_name",
	    ctl_kind_name_json(l->l_ctl, q->kind), "corr", (json_int_t)q->corr,
	    "size", (json_int_t)q->size, "age_ms",
	    (json_int_t)(q->age_ns / 1000000u), "flags",
	    ctl_flags_json(q->flags));
	ctl_payload_json(o, q->data, q->size,
	                 (q->flags & ROOST_MSG_MSGPACK) != 0);
	return o;
}

static void
lane_heading(struct listing *l, unsigned lane)
{
	unsigned i = lane == ROOST_LANE_SYSTEM ? 0 : 1;

	printf("%s lane: %u message(s)%s\n", lane_name(lane),
	       l->l_info->listed[i],
	       l->l_info->truncated[i] ? " listed, more queued (--limit)"
	                               : "");
	if (l->l_info->listed[i] > 0)
		printf("  %-10s %-7s %-22s %-14s %6s %-16s %s\n", "SEQ", "AGE",
		       "FROM", "KIND", "SIZE", "FLAGS", "PAYLOAD");
}

static int
msg_print(void *arg, const roost_queued_t *q)
{
	struct listing *l = arg;
	char age[24], who[80], kind[32], flags[64];
	bool mp = (q->flags & ROOST_MSG_MSGPACK) != 0;

	if (l->l_arr != NULL) {
		json_array_append_new(l->l_arr, msg_json(l, q));
		return 0;
	}
	l->l_lane = q->lane;
	printf("  %-10llu %-7s %-22s %-14s %6u %-16s %s\n",
	       (unsigned long long)q->seq,
	       ctl_fmt_age(q->age_ns, age, sizeof(age)),
	       ctl_fmt_who(&l->l_names, q->from, who, sizeof(who)),
	       ctl_fmt_kind(l->l_ctl, q->kind, kind, sizeof(kind)), q->size,
	       ctl_fmt_flags(q->flags, flags, sizeof(flags)),
	       ctl_payload_text(q->data, q->size, mp,
	                        l->l_full ? 0 : PAYLOAD_WIDTH));
	if (l->l_full && !mp && q->size > 0)
		ctl_hexdump(stdout, "      ", q->data, q->size);
	return 0;
}

static json_t *
mbox_info_json(const roost_mbox_info_t *m)
{
	json_t *lanes = json_object();
	unsigned i;

	for (i = 0; i < 2; i++)
		json_object_set_new(
		    lanes, i == 0 ? "system" : "user",
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "capacity",
		              (json_int_t)m->capacity[i], "head",
		              (json_int_t)m->head[i], "tail",
		              (json_int_t)m->tail[i], "used",
		              (json_int_t)(m->tail[i] - m->head[i]), "listed",
		              (json_int_t)m->listed[i], "truncated",
		              m->truncated[i]));
	return json_pack("{s:s, s:s, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, "
	                 "s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	                 "state", ctl_mbox_state_name(m->state), "receiver",
	                 m->receiver_sleeping ? "sleeping" : "awake",
	                 "max_message", (json_int_t)m->max_msg, "lanes", lanes,
	                 "counters", "queued", (json_int_t)m->stats.queued,
	                 "used", (json_int_t)m->stats.used, "capacity",
	                 (json_int_t)m->stats.capacity, "high_water",
	                 (json_int_t)m->stats.high_water, "in",
	                 (json_int_t)m->stats.enqueued, "out",
	                 (json_int_t)m->stats.dequeued, "bytes_in",
	                 (json_int_t)m->stats.bytes_in, "blocked",
	                 (json_int_t)m->stats.blocked_sends, "repaired",
	                 (json_int_t)m->stats.repaired, "corrupt",
	                 (json_int_t)m->stats.corrupt, "replaced",
	                 (json_int_t)m->stats.replaced, "lost",
	                 (json_int_t)m->stats.lost);
}

static void
print_actor_line(const roost_actor_info_t *a)
{
	char addr[32], up[24];
	bool sup = (a->flags & ROOST_ACTOR_F_ROOSTD) != 0;

	printf("%s  %s  pid %d  %s", a->name[0] ? a->name : "(unnamed)",
	       ctl_fmt_aid(a->aid, addr, sizeof(addr)), (int)a->pid,
	       roost_actor_state_name(a->state));
	if (sup) {
		printf("  %s, %u restart(s)", ctl_restart_name(a->restart),
		       a->restarts);
		if (a->group[0] != '\0')
			printf(", group %s", a->group);
		if (a->uptime_ns != 0)
			printf(", up %s",
			       ctl_fmt_age(a->uptime_ns, up, sizeof(up)));
		if (a->last_exit[0] != '\0')
			printf(", last exit: %s", a->last_exit);
	}
	putchar('\n');
}

static void
print_mbox(const roost_mbox_info_t *m)
{
	char b1[16], b2[16], b3[16];
	unsigned i;

	printf("mailbox: %s, receiver %s, largest message %s\n",
	       ctl_mbox_state_name(m->state),
	       m->receiver_sleeping ? "sleeping" : "awake",
	       ctl_fmt_bytes(m->max_msg, b1, sizeof(b1)));
	printf("  %-7s %9s %9s %14s %14s\n", "LANE", "CAPACITY", "USED",
	       "HEAD", "TAIL");
	for (i = 0; i < 2; i++)
		printf("  %-7s %9s %9s %14llu %14llu\n", i ? "user" : "system",
		       ctl_fmt_bytes(m->capacity[i], b2, sizeof(b2)),
		       ctl_fmt_bytes(m->tail[i] - m->head[i], b3, sizeof(b3)),
		       (unsigned long long)m->head[i],
		       (unsigned long long)m->tail[i]);
	printf("  in %llu  out %llu  queued %u  high-water %s  blocked %llu  "
	       "repaired %llu  corrupt %llu  replaced %llu  lost %llu\n",
	       (unsigned long long)m->stats.enqueued,
	       (unsigned long long)m->stats.dequeued, m->stats.queued,
	       ctl_fmt_bytes(m->stats.high_water, b1, sizeof(b1)),
	       (unsigned long long)m->stats.blocked_sends,
	       (unsigned long long)m->stats.repaired,
	       (unsigned long long)m->stats.corrupt,
	       (unsigned long long)m->stats.replaced,
	       (unsigned long long)m->stats.lost);
}

/* Copy the queue of 'aid' and print it: every message is collected
 * first (roost_view_queue calls back after the copy), then shown. */
struct collected {
	roost_queued_t *cq_q;
	uint8_t **cq_data;
	size_t cq_n;
};

static int
collect_msg(void *arg, const roost_queued_t *q)
{
	struct collected *c = arg;
	roost_queued_t *nq;
	uint8_t **nd;

	nq = realloc(c->cq_q, (c->cq_n + 1) * sizeof(*nq));
	if (nq == NULL)
		return -ENOMEM;
	c->cq_q = nq;
	nd = realloc(c->cq_data, (c->cq_n + 1) * sizeof(*nd));
	if (nd == NULL)
		return -ENOMEM;
	c->cq_data = nd;
	nd[c->cq_n] = malloc(q->size + 1u);
	if (nd[c->cq_n] == NULL)
		return -ENOMEM;
	if (q->size > 0)
		memcpy(nd[c->cq_n], q->data, q->size);
	nq[c->cq_n] = *q;
	nq[c->cq_n].data = nd[c->cq_n];
	c->cq_n++;
	return 0;
}

static void
collected_free(struct collected *c)
{
	size_t i;

	for (i = 0; i < c->cq_n; i++)
		free(c->cq_data[i]);
	free(c->cq_data);
	free(c->cq_q);
	memset(c, 0, sizeof(*c));
}

static int
queue_error(struct ctl *c, int rc, const char *spec)
{
	if (rc == ROOST_ECORRUPT || rc == ROOST_EVERSION)
		return ctl_err(CTL_CORRUPT,
		               "mailbox of '%s' in system '%s' is "
		               "corrupted: %s",
		               spec, c->c_sysname, roost_strerror(rc));
	if (rc == -ESRCH || rc == -ENOENT)
		return ctl_err(CTL_NOACTOR,
		               "actor '%s' is gone (or has no "
		               "mailbox yet)",
		               spec);
	if (rc == -ETIMEDOUT)
		return ctl_err(CTL_TIMEOUT,
		               "mailbox of '%s': its lock stayed "
		               "busy",
		               spec);
	return ctl_fail(rc, "reading the mailbox of '%s'", spec);
}

int
ctl_inspect(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"limit", required_argument, NULL, 'n'},
	    {"lane", required_argument, NULL, 'l'},
	    {"full", no_argument, NULL, 'f'},
	    {0},
	};
	struct listing l;
	struct collected col = {0};
	roost_actor_info_t a;
	roost_mbox_info_t info;
	roost_aid_t aid;
	uint64_t limit = LIMIT_DEF;
	unsigned lanes = ROOST_LANE_ANY;
	json_t *out;
	size_t i;
	int opt;
	int rc;

	memset(&l, 0, sizeof(l));
	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:hn:l:f", opts, NULL)) !=
	       -1) {
		if (ctl_common_opt(c, opt, "inspect"))
			continue;
		rc = 0;
		if (opt == 'n')
			rc = ctl_parse_u64("inspect", "--limit", optarg,
			                   UINT32_MAX, &limit);
		else if (opt == 'l' && strcmp(optarg, "system") == 0)
			lanes = ROOST_LANE_SYSTEM;
		else if (opt == 'l' && strcmp(optarg, "user") == 0)
			lanes = ROOST_LANE_USER;
		else if (opt == 'l' && strcmp(optarg, "both") == 0)
			lanes = ROOST_LANE_ANY;
		else if (opt == 'f')
			l.l_full = true;
		else
			return ctl_usage("inspect",
			                 "bad option (--lane system, "
			                 "user or both)");
		if (rc != 0)
			return rc;
	}
	if (optind + 1 != argc)
		return ctl_usage("inspect", "wants one NAME or ADDRESS");
	rc = ctl_find(c, argv[optind], &aid);
	if (rc != 0)
		return rc;
	rc = roost_view_actor(c->c_view, aid, &a);
	if (rc < 0)
		return queue_error(c, rc, argv[optind]);
	rc = roost_view_queue(c->c_view, aid, lanes, (uint32_t)limit, &info,
	                      collect_msg, &col);
	if (rc < 0) {
		collected_free(&col);
		return queue_error(c, rc, argv[optind]);
	}
	l.l_ctl = c;
	l.l_info = &info;
	rc = ctl_names_load(c, &l.l_names);
	if (rc < 0) {
		collected_free(&col);
		return ctl_fail(rc, "reading the actor table");
	}
	if (c->c_json) {
		l.l_arr = json_array();
		for (i = 0; i < col.cq_n; i++)
			msg_print(&l, &col.cq_q[i]);
		out = json_pack("{s:o, s:o, s:o}", "actor",
		                ctl_actor_json(&a, 0, false), "mailbox",
		                mbox_info_json(&info), "messages", l.l_arr);
		ctl_json_print(out);
	} else {
		print_actor_line(&a);
		print_mbox(&info);
		for (i = 0; i < col.cq_n; i++) {
			if (l.l_lane != col.cq_q[i].lane) {
				if (l.l_lane == 0 &&
				    col.cq_q[i].lane == ROOST_LANE_USER &&
				    (lanes & ROOST_LANE_SYSTEM))
					lane_heading(&l, ROOST_LANE_SYSTEM);
				lane_heading(&l, col.cq_q[i].lane);
			}
			msg_print(&l, &col.cq_q[i]);
		}
		if (l.l_lane == 0 && (lanes & ROOST_LANE_SYSTEM))
			lane_heading(&l, ROOST_LANE_SYSTEM);
		if (l.l_lane != ROOST_LANE_USER && (lanes & ROOST_LANE_USER))
			lane_heading(&l, ROOST_LANE_USER);
	}
	ctl_names_free(&l.l_names);
	collected_free(&col);
	return CTL_OK;
}

/* --- dead letters ------------------------------------------------------ */

/* The fields of a dead letter ({to, name, from, kind, corr, flags,
 * data}, written by roostd and roost_run). */
struct letter {
	roost_aid_t dl_to;
	roost_aid_t dl_from;
	uint64_t dl_kind;
	uint64_t dl_corr;
	uint64_t dl_flags; /* ROOST_MSG_* of the original */
	char dl_name[ROOST_NAME_MAX + 1];
	const void *dl_data;
	size_t dl_size;
};

static bool
letter_decode(msgpack_unpacked *up, const roost_queued_t *q, struct letter *d)
{
	const msgpack_object *o;
	uint32_t i;
	int seen = 0;

	memset(d, 0, sizeof(d[0]));
	if (!(q->flags & ROOST_MSG_MSGPACK) ||
	    !roost_msgpack_valid(q->data, q->size) ||
	    msgpack_unpack_next(up, q->data, q->size, NULL) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    up->data.type != MSGPACK_OBJECT_MAP)
		return false;
	o = &up->data;
	for (i = 0; i < o->via.map.size; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *v = &o->via.map.ptr[i].val;
		char key[8];

		if (k->type != MSGPACK_OBJECT_STR ||
		    k->via.str.size >= sizeof(key))
			continue;
		if (k->via.str.size > 0)
			memcpy(key, k->via.str.ptr, k->via.str.size);
		key[k->via.str.size] = '\0';
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			if (strcmp(key, "to") == 0)
				d->dl_to.id = v->via.u64, seen |= 1;
			else if (strcmp(key, "from") == 0)
				d->dl_from.id = v->via.u64, seen |= 2;
			else if (strcmp(key, "kind") == 0)
				d->dl_kind = v->via.u64, seen |= 4;
			else if (strcmp(key, "corr") == 0)
				d->dl_corr = v->via.u64;
			else if (strcmp(key, "flags") == 0)
				d->dl_flags = v->via.u64;
		} else if (v->type == MSGPACK_OBJECT_STR &&
		           strcmp(key, "name") == 0 &&
		           v->via.str.size < sizeof(d->dl_name)) {
			if (v->via.str.size > 0)
				memcpy(d->dl_name, v->via.str.ptr,
				       v->via.str.size);
			d->dl_name[v->via.str.size] = '\0';
		} else if (v->type == MSGPACK_OBJECT_BIN &&
		           strcmp(key, "data") == 0) {
			d->dl_data = v->via.bin.ptr;
			d->dl_size = v->via.bin.size;
			seen |= 8;
		}
	}
	return seen == 15;
}

/* One dead letter as JSON: who it was for, where it came from, what it
 * held; or the raw message when it is not a dead-letter record. */
static json_t *
letter_json(struct ctl *c, const struct ctl_names *names,
            const roost_queued_t *q, const struct letter *d, bool ok)
{
	char addr[32];
	json_t *o = json_pack("{s:I, s:I}", "seq", (json_int_t)q->seq,
	                      "age_ms", (json_int_t)(q->age_ns / 1000000u));

	if (!ok) {
		json_object_set_new(o, "malformed", json_true());
		ctl_payload_json(o, q->data, q->size,
		                 (q->flags & ROOST_MSG_MSGPACK) != 0);
		return o;
	}
	json_object_set_new(
	    o, "to", json_string(ctl_fmt_aid(d->dl_to, addr, sizeof(addr))));
	json_object_set_new(o, "to_aid", json_integer((json_int_t)d->dl_to.id));
	json_object_set_new(o, "to_name", ctl_json_str_or_null(d->dl_name));
	json_object_set_new(
	    o, "from",
	    json_string(ctl_fmt_aid(d->dl_from, addr, sizeof(addr))));
	json_object_set_new(o, "from_aid",
	                    json_integer((json_int_t)d->dl_from.id));
	json_object_set_new(
	    o, "from_name",
	    ctl_json_str_or_null(ctl_names_get(names, d->dl_from)));
	json_object_set_new(o, "kind", json_integer((json_int_t)d->dl_kind));
	json_object_set_new(o, "kind_name",
	                    ctl_kind_name_json(c, (uint32_t)d->dl_kind));
	json_object_set_new(o, "corr", json_integer((json_int_t)d->dl_corr));
	json_object_set_new(
	    o, "flags",
	    ctl_flags_json((uint32_t)d->dl_flags & ~ROOST_MSG_SYSTEM));
	ctl_payload_json(o, d->dl_data, d->dl_size,
	                 (d->dl_flags & ROOST_MSG_MSGPACK) != 0);
	return o;
}

/* One dead letter as a line of the text table. */
static void
letter_text(struct ctl *c, const struct ctl_names *names,
            const roost_queued_t *q, const struct letter *d, bool ok)
{
	char age[24], who[80], from[80], kind[32], flags[64], addr[32];

	if (!ok) {
		printf("  %-10llu %-7s (not a dead-letter record) %s\n",
		       (unsigned long long)q->seq,
		       ctl_fmt_age(q->age_ns, age, sizeof(age)),
		       ctl_payload_text(q->data, q->size,
		                        (q->flags & ROOST_MSG_MSGPACK) != 0,
		                        PAYLOAD_WIDTH));
		return;
	}
	if (d->dl_name[0] != '\0')
		snprintf(who, sizeof(who), "%s(%s)", d->dl_name,
		         ctl_fmt_aid(d->dl_to, addr, sizeof(addr)));
	else
		ctl_fmt_aid(d->dl_to, who, sizeof(who));
	printf("  %-10llu %-7s %-22s %-22s %-12s %-16s %s\n",
	       (unsigned long long)q->seq,
	       ctl_fmt_age(q->age_ns, age, sizeof(age)), who,
	       ctl_fmt_who(names, d->dl_from, from, sizeof(from)),
	       ctl_fmt_kind(c, (uint32_t)d->dl_kind, kind, sizeof(kind)),
	       ctl_fmt_flags((uint32_t)d->dl_flags & ~ROOST_MSG_SYSTEM, flags,
	                     sizeof(flags)),
	       ctl_payload_text(d->dl_data, d->dl_size,
	                        (d->dl_flags & ROOST_MSG_MSGPACK) != 0,
	                        PAYLOAD_WIDTH));
}

/* deadletters' options: '*limit' and '*drain'; 0 or an exit code. */
static int
deadletters_opts(struct ctl *c, int argc, char **argv, uint64_t *limit,
                 bool *drain)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"limit", required_argument, NULL, 'n'},
	    {"drain", no_argument, NULL, 'd'},
	    {0},
	};
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:hn:d", opts, NULL)) != -1) {
		if (ctl_common_opt(c, opt, "deadletters"))
			continue;
		if (opt == 'd') {
			*drain = true;
			continue;
		}
		if (opt != 'n')
			return ctl_usage("deadletters", "unknown option");
		rc = ctl_parse_u64("deadletters", "--limit", optarg,
		                   UINT32_MAX, limit);
		if (rc != 0)
			return rc;
	}
	if (optind != argc)
		return ctl_usage("deadletters", "takes no arguments");
	return 0;
}

int
ctl_deadletters(struct ctl *c, int argc, char **argv)
{
	struct collected col = {0};
	struct ctl_names names;
	roost_mbox_info_t info;
	roost_sysinfo_t si;
	msgpack_unpacked up;
	struct letter d;
	roost_aid_t aid;
	uint64_t limit = LIMIT_DEF;
	bool drain = false;
	json_t *arr = NULL;
	size_t i;
	bool ok;
	int rc;

	rc = deadletters_opts(c, argc, argv, &limit, &drain);
	if (rc != 0)
		return rc;
	if (drain)
		return ctl_drain(c);
	/* Collect: the queue, the system's counters, the names. */
	rc = ctl_view(c, false);
	if (rc != 0)
		return rc;
	rc = roost_view_find(c->c_view, "deadletters", &aid);
	if (rc < 0)
		return ctl_err(CTL_NOROOSTD,
		               "system '%s' has no dead-letter "
		               "queue (it is roostd's: is roostd running?)",
		               c->c_sysname);
	rc = roost_view_queue(c->c_view, aid, ROOST_LANE_ANY, (uint32_t)limit,
	                      &info, collect_msg, &col);
	if (rc < 0) {
		collected_free(&col);
		return queue_error(c, rc, "deadletters");
	}
	rc = roost_view_info(c->c_view, &si);
	if (rc == 0)
		rc = ctl_names_load(c, &names);
	if (rc < 0) {
		collected_free(&col);
		return ctl_fail(rc, "reading system '%s'", c->c_sysname);
	}
	/* Print: one JSON document, or a header and a line per letter. */
	if (c->c_json) {
		arr = json_array();
	} else {
		printf(
		    "dead letters: %u queued, %llu retired by roostd since it "
		    "started\n",
		    info.stats.queued, (unsigned long long)si.deadletters);
		if (col.cq_n > 0)
			printf("  %-10s %-7s %-22s %-22s %-12s %-16s %s\n",
			       "SEQ", "AGE", "TO", "FROM", "KIND", "FLAGS",
			       "DATA");
	}
	for (i = 0; i < col.cq_n; i++) {
		msgpack_unpacked_init(&up);
		ok = letter_decode(&up, &col.cq_q[i], &d);
		if (c->c_json)
			json_array_append_new(
			    arr, letter_json(c, &names, &col.cq_q[i], &d, ok));
		else
			letter_text(c, &names, &col.cq_q[i], &d, ok);
		msgpack_unpacked_destroy(&up);
	}
	if (c->c_json)
		ctl_json_print(json_pack(
		    "{s:I, s:I, s:b, s:o}", "queued",
		    (json_int_t)info.stats.queued, "retired",
		    (json_int_t)si.deadletters, "truncated",
		    info.truncated[0] || info.truncated[1], "letters", arr));
	ctl_names_free(&names);
	collected_free(&col);
	return CTL_OK;
}
