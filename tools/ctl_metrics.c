/* SPDX-License-Identifier: MIT */
/*
 * ctl_metrics.c - metrics: one scrape of a system in the Prometheus text
 * exposition format 0.0.4, for the monitoring people already run (a
 * textfile collector, or an exporter that runs the command).
 *
 * Built on the view API alone, like ls: the actor table is read once
 * with its seqlock, the mailbox counters with plain loads, roostd's
 * alarm table is counted; nothing is attached and no mailbox lock is
 * taken, so a scrape costs the system nothing but the reads.
 *
 * Everything is collected first and printed after, one family at a
 * time (HELP, TYPE, then every sample), as the format requires. The
 * system's series always count every actor; the per-actor series cover
 * every actor, the --top N deepest queues, or none (--no-actors), so a
 * system of 10,000 actors need not give 10,000 series per family.
 *
 * A node's system (one with a NATS gateway) also gives the gateway's
 * counters and its nodes: that takes one call of the gateway (the only
 * thing a scrape attaches for); a failed call is said on stderr and
 * leaves those families out.
 */
#include "roostctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* What one scrape read. */
struct scrape {
	roost_sysinfo_t sc_sys;
	roost_actor_info_t *sc_actors; /* every actor, in slot order */
	size_t sc_n;
	size_t sc_cap;
	uint64_t sc_restarts; /* of the actors roostd supervises */
	uint32_t sc_corrupt;  /* mailboxes that failed validation */
	int sc_alarms;        /* live alarms, or why not counted */
};

/* The per-actor families, in the order they are printed. */
enum actor_metric {
	AM_QUEUED,
	AM_QUEUED_BYTES,
	AM_CAPACITY,
	AM_HIGH_WATER,
	AM_ENQUEUED,
	AM_DEQUEUED,
	AM_BYTES_IN,
	AM_BLOCKED,
	AM_CORRUPT,
	AM_RESTARTS,
	AM_DEADLETTERS,
	AM_COUNT
};

struct family {
	const char *f_name;
	const char *f_type; /* "gauge" or "counter" */
	const char *f_help;
};

static const struct family actor_families[AM_COUNT] = {
    [AM_QUEUED] = {"roost_actor_queued_messages", "gauge",
                   "Messages queued in the actor's mailbox now, both "
                   "lanes (its queue depth)."},
    [AM_QUEUED_BYTES] = {"roost_actor_queued_bytes", "gauge",
                         "Ring bytes in use in the actor's mailbox now, "
                         "both lanes."},
    [AM_CAPACITY] = {"roost_actor_mailbox_capacity_bytes", "gauge",
                     "Ring bytes of the actor's mailbox, both lanes."},
    [AM_HIGH_WATER] = {"roost_actor_mailbox_high_water_bytes", "gauge",
                       "Most ring bytes ever in use in the actor's "
                       "mailbox."},
    [AM_ENQUEUED] = {"roost_actor_enqueued_messages_total", "counter",
                     "Messages the actor's mailbox ever accepted."},
    [AM_DEQUEUED] = {"roost_actor_dequeued_messages_total", "counter",
                     "Messages the actor ever took from its mailbox."},
    [AM_BYTES_IN] = {"roost_actor_enqueued_bytes_total", "counter",
                     "Payload bytes the actor's mailbox ever accepted."},
    [AM_BLOCKED] = {"roost_actor_blocked_sends_total", "counter",
                    "Sends that found the actor's mailbox full."},
    [AM_CORRUPT] = {"roost_actor_corrupt_records_total", "counter",
                    "Records of the actor's mailbox skipped as corrupt."},
    [AM_RESTARTS] = {"roost_actor_restarts_total", "counter",
                     "Restarts of the actor by the current roostd (only "
                     "for actors roostd supervises)."},
    [AM_DEADLETTERS] = {"roost_actor_deadletters_total", "counter",
                        "Messages to the actor retired as poison to the "
                        "dead letters (only for actors roostd "
                        "supervises)."},
};

/*
 * The value of family 'm' for actor 'a'; false when the actor has no
 * such sample (its mailbox could not be read, or roostd does not
 * supervise it).
 */
static bool
actor_value(const roost_actor_info_t *a, enum actor_metric m, uint64_t *v)
{
	bool sup = (a->flags & ROOST_ACTOR_F_ROOSTD) != 0;

	if (m == AM_RESTARTS || m == AM_DEADLETTERS) {
		*v = m == AM_RESTARTS ? a->restarts : a->deadletters;
		return sup;
	}
	if (a->mbox_err != 0)
		return false;
	switch (m) {
	case AM_QUEUED:
		*v = a->mbox.queued;
		break;
	case AM_QUEUED_BYTES:
		*v = a->mbox.used;
		break;
	case AM_CAPACITY:
		*v = a->mbox.capacity;
		break;
	case AM_HIGH_WATER:
		*v = a->mbox.high_water;
		break;
	case AM_ENQUEUED:
		*v = a->mbox.enqueued;
		break;
	case AM_DEQUEUED:
		*v = a->mbox.dequeued;
		break;
	case AM_BYTES_IN:
		*v = a->mbox.bytes_in;
		break;
	case AM_BLOCKED:
		*v = a->mbox.blocked_sends;
		break;
	case AM_CORRUPT:
		*v = a->mbox.corrupt;
		break;
	default:
		return false;
	}
	return true;
}

/*
 * Print 's' as a label value, escaped as the exposition format says:
 * backslash, double quote and line feed. roost's names are printable
 * ASCII; any other byte (only damage could put one there) is printed
 * as '?', so the output stays valid UTF-8.
 */
static void
print_label_value(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\' || ch == '"')
			printf("\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch < ' ' || ch >= 0x7f)
			putchar('?');
		else
			putchar(ch);
	}
}

static void
print_family_head(const struct family *f)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", f->f_name, f->f_help, f->f_name,
	       f->f_type);
}

static void
print_actor_sample(const char *metric, const char *sys,
                   const roost_actor_info_t *a, uint64_t v)
{
	char addr[32];

	printf("%s{system=\"", metric);
	print_label_value(sys);
	fputs("\",actor=\"", stdout);
	print_label_value(a->name[0] != '\0'
	                      ? a->name
	                      : ctl_fmt_aid(a->aid, addr, sizeof(addr)));
	printf("\",slot=\"%u\"} %llu\n", roost_aid_slot(a->aid),
	       (unsigned long long)v);
}

/* One system-wide family with its single sample ('value' is printed as
 * given: an integer or a decimal). */
static void
print_system_family(const char *sys, const struct family *f, const char *value)
{
	print_family_head(f);
	printf("%s{system=\"", f->f_name);
	print_label_value(sys);
	printf("\"} %s\n", value);
}

static void
print_system_u64(const char *sys, const struct family *f, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	print_system_family(sys, f, text);
}

static void
print_system(const struct scrape *sc)
{
	static const struct family actors = {
	    "roost_system_actors", "gauge",
	    "Actors in the system's table now (slots taken)."};
	static const struct family live = {
	    "roost_system_live_actors", "gauge",
	    "Actors in the table whose process runs now."};
	static const struct family slots = {
	    "roost_system_actor_slots", "gauge",
	    "Size of the system's actor table."};
	static const struct family up = {
	    "roost_system_roostd_up", "gauge",
	    "1 when a roostd runs the system with a fresh heartbeat, else 0."};
	static const struct family beat = {
	    "roost_system_heartbeat_age_seconds", "gauge",
	    "Time since roostd's last heartbeat (it beats every 100 ms)."};
	static const struct family alarms = {
	    "roost_system_alarms", "gauge",
	    "roostd's live alarms (absent when the system has no alarm "
	    "table)."};
	static const struct family restarts = {
	    "roost_system_restarts", "gauge",
	    "Restarts by the current roostd of the actors in the table now "
	    "(falls when an actor leaves the table)."};
	static const struct family dead = {
	    "roost_system_deadletters_total", "counter",
	    "Messages retired as poison to the dead letters (absent when "
	    "roostd's table cannot be read)."};
	static const struct family corrupt = {
	    "roost_system_corrupt_mailboxes", "gauge",
	    "Mailboxes that failed validation in this scrape."};
	const roost_sysinfo_t *si = &sc->sc_sys;
	char age[32];

	print_system_u64(si->name, &actors, si->actors);
	print_system_u64(si->name, &live, si->live_actors);
	print_system_u64(si->name, &slots, si->slots);
	print_system_u64(si->name, &up, si->state == ROOST_SYS_LIVE);
	snprintf(age, sizeof(age), "%.9f", (double)si->heartbeat_age_ns / 1e9);
	print_system_family(si->name, &beat, age);
	if (sc->sc_alarms >= 0)
		print_system_u64(si->name, &alarms, (uint64_t)sc->sc_alarms);
	print_system_u64(si->name, &restarts, sc->sc_restarts);
	if (si->supervised)
		print_system_u64(si->name, &dead, si->deadletters);
	print_system_u64(si->name, &corrupt, sc->sc_corrupt);
}

/* One sample of a per-node family. */
static void
print_node_sample(const char *metric, const char *sys, const char *node,
                  const char *value)
{
	printf("%s{system=\"", metric);
	print_label_value(sys);
	fputs("\",node=\"", stdout);
	print_label_value(node);
	printf("\"} %s\n", value);
}

/* The gateway's counters (keys of its status map) and its nodes. */
static void
print_gateway(struct ctl *c, const char *sys)
{
	static const struct {
		const char *key;
		struct family f;
	} counters[] = {
	    {"published", {"roost_gateway_published_total", "counter",
	                   "Frames this node's gateway published."}},
	    {"delivered", {"roost_gateway_delivered_total", "counter",
	                   "Frames from other nodes delivered here."}},
	    {"undelivered", {"roost_gateway_undelivered_total", "counter",
	                     "Messages not delivered, either way (each "
	                     "counted and its sender told)."}},
	    {"bad_frames", {"roost_gateway_bad_frames_total", "counter",
	                    "Malformed frames dropped."}},
	    {"forged", {"roost_gateway_forged_total", "counter",
	                "Frames refused: sender not the node their subject "
	                "names."}},
	    {"lost_in_flight", {"roost_gateway_lost_in_flight_total",
	                        "counter",
	                        "User frames from other nodes that never "
	                        "came (gaps in their numbers)."}},
	    {"window_waits", {"roost_gateway_window_waits_total", "counter",
	                      "Times the gateway waited for flow-control "
	                      "credit."}},
	    {"pending_max_bytes", {"roost_gateway_pending_max_bytes", "gauge",
	                           "Most bytes libnats held for delivery here "
	                           "at once."}},
	};
	static const struct family connected = {
	    "roost_gateway_connected", "gauge",
	    "1 when the gateway is connected to NATS and ready, else 0."};
	static const struct family up = {
	    "roost_gateway_node_up", "gauge",
	    "1 when the node was heard within down_after_ms, else 0."};
	static const struct family rtt = {
	    "roost_gateway_node_rtt_seconds", "gauge",
	    "Round trip of the last ping to the node (0: none yet)."};
	roost_aid_t gw;
	json_t *st = NULL;
	json_t *n;
	char text[32];
	size_t i;

	if (roost_view_find(c->c_view, "gateway", &gw) < 0 ||
	    ctl_gateway_status(c, "metrics", &st) != 0)
		return;
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		print_system_u64(sys, &counters[i].f,
		                 (uint64_t)json_integer_value(
		                         json_object_get(st, counters[i].key)));
	print_system_u64(sys, &connected,
	                 json_is_true(json_object_get(st, "connected")));
	print_family_head(&up);
	json_array_foreach(json_object_get(st, "nodes"), i, n)
		print_node_sample(up.f_name, sys,
		                  json_string_value(json_object_get(n, "name")),
		                  json_is_true(json_object_get(n, "up")) ? "1"
		                                                         : "0");
	print_family_head(&rtt);
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		snprintf(text, sizeof(text), "%.6f",
		         (double)json_integer_value(json_object_get(n, "rtt_us")) /
		                 1e6);
		print_node_sample(rtt.f_name, sys,
		                  json_string_value(json_object_get(n, "name")),
		                  text);
	}
	json_decref(st);
}

/* Every per-actor family over the first 'n' actors of 'sc'. A family
 * none of them has a sample of is left out whole. */
static void
print_actors(const struct scrape *sc, size_t n)
{
	enum actor_metric m;
	uint64_t v;
	size_t i;
	bool head;

	for (m = 0; m < AM_COUNT; m++) {
		head = false;
		for (i = 0; i < n; i++) {
			if (!actor_value(&sc->sc_actors[i], m, &v))
				continue;
			if (!head)
				print_family_head(&actor_families[m]);
			head = true;
			print_actor_sample(actor_families[m].f_name,
			                   sc->sc_sys.name, &sc->sc_actors[i],
			                   v);
		}
	}
}

static int
collect_actor(void *arg, const roost_actor_info_t *a)
{
	struct scrape *sc = arg;
	roost_actor_info_t *grown;
	size_t cap;

	if (sc->sc_n == sc->sc_cap) {
		cap = sc->sc_cap != 0 ? sc->sc_cap * 2 : 64;
		grown = realloc(sc->sc_actors, cap * sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		sc->sc_actors = grown;
		sc->sc_cap = cap;
	}
	sc->sc_actors[sc->sc_n++] = *a;
	if (a->flags & ROOST_ACTOR_F_ROOSTD)
		sc->sc_restarts += a->restarts;
	if (a->mbox_err == ROOST_ECORRUPT || a->mbox_err == ROOST_EVERSION)
		sc->sc_corrupt++;
	return 0;
}

static int
count_alarm(void *arg, const roost_timer_info_t *t)
{
	(void)arg;
	(void)t;
	return 0;
}

/* Queue depth, deepest first; then ring bytes in use; then slot order.
 * An actor whose mailbox could not be read counts as empty. */
static int
depth_cmp(const void *pa, const void *pb)
{
	const roost_actor_info_t *x = pa;
	const roost_actor_info_t *y = pb;
	uint64_t xq = x->mbox_err == 0 ? x->mbox.queued : 0;
	uint64_t yq = y->mbox_err == 0 ? y->mbox.queued : 0;
	uint64_t xu = x->mbox_err == 0 ? x->mbox.used : 0;
	uint64_t yu = y->mbox_err == 0 ? y->mbox.used : 0;
	uint32_t xs = roost_aid_slot(x->aid);
	uint32_t ys = roost_aid_slot(y->aid);

	if (xq != yq)
		return xq < yq ? 1 : -1;
	if (xu != yu)
		return xu < yu ? 1 : -1;
	return (xs > ys) - (xs < ys);
}

/* --top N or --no-actors: how many actors get series, of how many. */
static size_t
actors_shown(const struct scrape *sc, bool no_actors, uint64_t top)
{
	if (no_actors)
		return 0;
	if (top == 0 || top >= sc->sc_n)
		return sc->sc_n;
	qsort(sc->sc_actors, sc->sc_n, sizeof(*sc->sc_actors), depth_cmp);
	return (size_t)top;
}

/* The exit status after the output: a damaged mailbox or alarm table
 * is exit 5 (one line each on stderr), as in ls. */
static int
scrape_status(const struct scrape *sc)
{
	int rc = CTL_OK;
	size_t i;

	for (i = 0; i < sc->sc_n; i++)
		if (ctl_mbox_damaged(&sc->sc_actors[i]))
			rc = CTL_CORRUPT;
	if (sc->sc_alarms < 0 && sc->sc_alarms != -ENOENT)
		rc = ctl_fail(sc->sc_alarms,
		              "roostd's alarm table of system "
		              "'%s' (roost_system_alarms left "
		              "out)",
		              sc->sc_sys.name);
	return rc;
}

/* metrics' options; 0 or an exit code. */
static int
metrics_opts(struct ctl *c, int argc, char **argv, bool *no_actors,
             uint64_t *top)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"top", required_argument, NULL, 't'},
	    {"no-actors", no_argument, NULL, 'A'},
	    {0},
	};
	bool has_top = false;
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:h", opts, NULL)) != -1) {
		if (ctl_common_opt(c, opt, "metrics"))
			continue;
		if (opt == 'A') {
			*no_actors = true;
			continue;
		}
		if (opt != 't')
			return ctl_usage("metrics", "unknown option");
		rc =
		    ctl_parse_u64("metrics", "--top", optarg, UINT32_MAX, top);
		if (rc != 0)
			return rc;
		if (*top == 0)
			return ctl_usage(
			    "metrics", "--top: expected at least 1 "
			               "(--no-actors leaves every actor out)");
		has_top = true;
	}
	if (optind != argc)
		return ctl_usage("metrics", "takes no arguments");
	if (has_top && *no_actors)
		return ctl_usage("metrics",
		                 "--top and --no-actors exclude each other");
	if (c->c_json)
		return ctl_usage("metrics", "prints the Prometheus text "
		                            "format; --json does not apply");
	return 0;
}

int
ctl_metrics(struct ctl *c, int argc, char **argv)
{
	struct scrape sc;
	bool no_actors = false;
	uint64_t top = 0;
	int rc;

	memset(&sc, 0, sizeof(sc));
	rc = metrics_opts(c, argc, argv, &no_actors, &top);
	if (rc != 0)
		return rc;
	rc = ctl_view(c, false);
	if (rc != 0)
		return rc;
	rc = roost_view_actors(c->c_view, collect_actor, &sc);
	if (rc >= 0)
		rc = roost_view_info(c->c_view, &sc.sc_sys);
	if (rc < 0) {
		rc = ctl_fail(rc, "reading system '%s'", c->c_sysname);
		goto out;
	}
	sc.sc_alarms = roost_view_timers(c->c_view, count_alarm, NULL);
	print_system(&sc);
	print_actors(&sc, actors_shown(&sc, no_actors, top));
	print_gateway(c, sc.sc_sys.name);
	rc = scrape_status(&sc);
out:
	free(sc.sc_actors);
	return rc;
}
