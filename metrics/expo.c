/* SPDX-License-Identifier: MIT */
/*
 * expo.c - printing a scrape (expo.h) as Prometheus text 0.0.4 or
 * OpenMetrics 1.0.0.
 *
 * One family at a time: HELP, TYPE, then every sample, as both formats
 * require. Names follow Prometheus' conventions: the roost_ prefix, base
 * units (seconds, bytes) in the name, counters ending in _total. The two
 * formats differ here only in how a counter's family is named in HELP
 * and TYPE (OpenMetrics leaves _total to the sample) and in the "# EOF"
 * that ends OpenMetrics.
 */
#include "expo.h"

#include <stdlib.h>
#include <string.h>

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

static const struct expo_family actor_families[AM_COUNT] = {
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
	const roost_mbox_stats_t *mb = &a->mbox;

	if (m == AM_RESTARTS || m == AM_DEADLETTERS) {
		*v = m == AM_RESTARTS ? a->restarts : a->deadletters;
		return (a->flags & ROOST_ACTOR_F_ROOSTD) != 0;
	}
	if (a->mbox_err != 0)
		return false;
	switch (m) {
	case AM_QUEUED:
		*v = mb->queued;
		break;
	case AM_QUEUED_BYTES:
		*v = mb->used;
		break;
	case AM_CAPACITY:
		*v = mb->capacity;
		break;
	case AM_HIGH_WATER:
		*v = mb->high_water;
		break;
	case AM_ENQUEUED:
		*v = mb->enqueued;
		break;
	case AM_DEQUEUED:
		*v = mb->dequeued;
		break;
	case AM_BYTES_IN:
		*v = mb->bytes_in;
		break;
	case AM_BLOCKED:
		*v = mb->blocked_sends;
		break;
	case AM_CORRUPT:
		*v = mb->corrupt;
		break;
	default:
		return false;
	}
	return true;
}

/*
 * Print 's' as a label value, escaped as both formats say: backslash,
 * double quote and line feed. roost's names are printable ASCII; any
 * other byte (only damage could put one there) is printed as '?', so
 * the output stays valid UTF-8.
 */
static void
print_label_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\' || ch == '"')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < ' ' || ch >= 0x7f)
			fputc('?', f);
		else
			fputc(ch, f);
	}
}

void
expo_family_head(FILE *f, const struct expo_family *fam, enum expo_format fmt)
{
	size_t len = strlen(fam->f_name);

	if (fmt == EXPO_OPENMETRICS && strcmp(fam->f_type, "counter") == 0 &&
	    len > 6 && strcmp(fam->f_name + len - 6, "_total") == 0)
		len -= 6;
	fprintf(f, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, fam->f_name,
	        fam->f_help, (int)len, fam->f_name, fam->f_type);
}

/* 'metric'{system="..." and no closing brace. */
static void
print_sample_start(FILE *f, const char *metric, const char *sys)
{
	fprintf(f, "%s{system=\"", metric);
	print_label_value(f, sys);
	fputc('"', f);
}

static void
print_actor_sample(FILE *f, const char *metric, const char *sys,
                   const roost_actor_info_t *a, uint64_t v)
{
	char addr[32];

	print_sample_start(f, metric, sys);
	fputs(",actor=\"", f);
	if (a->name[0] != '\0') {
		print_label_value(f, a->name);
	} else {
		snprintf(addr, sizeof(addr), "%u.%u", roost_aid_slot(a->aid),
		         roost_aid_gen(a->aid));
		fputs(addr, f);
	}
	fprintf(f, "\",slot=\"%u\"} %llu\n", roost_aid_slot(a->aid),
	        (unsigned long long)v);
}

/* A count of nanoseconds as seconds, exactly, into 'buf' (32 bytes). */
static const char *
fmt_seconds(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%llu.%09llu",
	         (unsigned long long)(ns / 1000000000u),
	         (unsigned long long)(ns % 1000000000u));
	return buf;
}

/* A sample of 'metric' with only the system label. */
static void
print_system_sample(FILE *f, const char *metric, const char *sys,
                    const char *value)
{
	expo_sample(f, metric, sys, NULL, NULL, value);
}

void
expo_sample(FILE *f, const char *metric, const char *sys, const char *label,
            const char *label_value, const char *value)
{
	print_sample_start(f, metric, sys);
	if (label != NULL) {
		fprintf(f, ",%s=\"", label);
		print_label_value(f, label_value);
		fputc('"', f);
	}
	fprintf(f, "} %s\n", value);
}

/* One system-wide family with its single sample ('value' as given: an
 * integer or a decimal). */
static void
print_system_family(FILE *f, const char *sys, const struct expo_family *fam,
                    enum expo_format fmt, const char *value)
{
	expo_family_head(f, fam, fmt);
	print_system_sample(f, fam->f_name, sys, value);
}

static void
print_system_u64(FILE *f, const char *sys, const struct expo_family *fam,
                 enum expo_format fmt, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	print_system_family(f, sys, fam, fmt, text);
}

/* Alarm lateness (a histogram) and spawn-to-ready time (a summary of
 * sum and count), from roostd's counters. */
static void
print_roostd_stats(FILE *f, const char *sys, const roost_roostd_stats_t *st,
                   enum expo_format fmt)
{
	static const struct expo_family late = {
	    "roost_system_alarm_lateness_seconds", "histogram",
	    "How late roostd delivered alarms (delivery time minus due "
	    "time), over the system's life."};
	static const struct expo_family spawn = {
	    "roost_system_spawn_seconds", "summary",
	    "Time from fork to a published mailbox of the actors roostd "
	    "started, over the system's life."};
	static const struct expo_family restarts = {
	    "roost_system_restarts_total", "counter",
	    "Restarts of supervised actors by roostd, over the system's "
	    "life."};
	char num[32];
	unsigned i;

	expo_family_head(f, &late, fmt);
	for (i = 0; i < ROOST_LATENESS_BUCKETS; i++) {
		print_sample_start(
		    f, "roost_system_alarm_lateness_seconds_bucket", sys);
		/* Bounds are whole microseconds: %g prints them exactly. */
		fprintf(f, ",le=\"%g\"} %llu\n",
		        (double)st->lateness_bound_ns[i] / 1e9,
		        (unsigned long long)st->lateness_le[i]);
	}
	print_sample_start(f, "roost_system_alarm_lateness_seconds_bucket",
	                   sys);
	fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)st->alarms);
	print_system_sample(
	    f, "roost_system_alarm_lateness_seconds_sum", sys,
	    fmt_seconds(num, sizeof(num), st->lateness_sum_ns));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)st->alarms);
	print_system_sample(f, "roost_system_alarm_lateness_seconds_count",
	                    sys, num);

	expo_family_head(f, &spawn, fmt);
	print_system_sample(f, "roost_system_spawn_seconds_sum", sys,
	                    fmt_seconds(num, sizeof(num), st->spawn_sum_ns));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)st->spawns);
	print_system_sample(f, "roost_system_spawn_seconds_count", sys, num);

	print_system_u64(f, sys, &restarts, fmt, st->restarts);
}

static void
print_system(FILE *f, const struct expo_scrape *sc, enum expo_format fmt)
{
	static const struct expo_family actors = {
	    "roost_system_actors", "gauge",
	    "Actors in the system's table now (slots taken)."};
	static const struct expo_family live = {
	    "roost_system_live_actors", "gauge",
	    "Actors in the table whose process runs now."};
	static const struct expo_family slots = {
	    "roost_system_actor_slots", "gauge",
	    "Size of the system's actor table."};
	static const struct expo_family up = {
	    "roost_system_roostd_up", "gauge",
	    "1 when a roostd runs the system with a fresh heartbeat, else 0."};
	static const struct expo_family beat = {
	    "roost_system_heartbeat_age_seconds", "gauge",
	    "Time since roostd's last heartbeat (it beats every 100 ms)."};
	static const struct expo_family alarms = {
	    "roost_system_alarms", "gauge",
	    "roostd's live alarms (absent when the system has no alarm "
	    "table)."};
	static const struct expo_family dead = {
	    "roost_system_deadletters_total", "counter",
	    "Messages retired as poison to the dead letters (absent when "
	    "roostd's table cannot be read)."};
	static const struct expo_family corrupt = {
	    "roost_system_corrupt_mailboxes", "gauge",
	    "Mailboxes that failed validation in this scrape."};
	const roost_sysinfo_t *si = &sc->sc_sys;
	char age[32];

	print_system_u64(f, si->name, &actors, fmt, si->actors);
	print_system_u64(f, si->name, &live, fmt, si->live_actors);
	print_system_u64(f, si->name, &slots, fmt, si->slots);
	print_system_u64(f, si->name, &up, fmt, si->state == ROOST_SYS_LIVE);
	print_system_family(
	    f, si->name, &beat, fmt,
	    fmt_seconds(age, sizeof(age), si->heartbeat_age_ns));
	if (sc->sc_alarms >= 0)
		print_system_u64(f, si->name, &alarms, fmt,
		                 (uint64_t)sc->sc_alarms);
	if (si->supervised)
		print_system_u64(f, si->name, &dead, fmt, si->deadletters);
	print_system_u64(f, si->name, &corrupt, fmt, sc->sc_corrupt);
	if (sc->sc_stats_err == 0)
		print_roostd_stats(f, si->name, &sc->sc_stats, fmt);
}

/* Every per-actor family over the first 'n' actors. A family none of
 * them has a sample of is left out whole. */
static void
print_actors(FILE *f, const struct expo_scrape *sc, size_t n,
             enum expo_format fmt)
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
				expo_family_head(f, &actor_families[m], fmt);
			head = true;
			print_actor_sample(f, actor_families[m].f_name,
			                   sc->sc_sys.name, &sc->sc_actors[i],
			                   v);
		}
	}
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

/* How many actors (the first of sc_actors) get series. */
static size_t
actors_shown(struct expo_scrape *sc, const struct expo_actors *sel)
{
	if (sel->ea_mode == EXPO_ACTORS_OFF)
		return 0;
	if (sel->ea_mode == EXPO_ACTORS_ALL || sel->ea_top >= sc->sc_n)
		return sc->sc_n;
	qsort(sc->sc_actors, sc->sc_n, sizeof(*sc->sc_actors), depth_cmp);
	return sel->ea_top;
}

void
expo_print(FILE *f, struct expo_scrape *sc, enum expo_format fmt,
           const struct expo_actors *sel)
{
	print_system(f, sc, fmt);
	print_actors(f, sc, actors_shown(sc, sel), fmt);
	if (fmt == EXPO_OPENMETRICS)
		fputs("# EOF\n", f);
}
