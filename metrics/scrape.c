/* SPDX-License-Identifier: MIT */
/*
 * scrape.c - reading one system for its metrics (expo.h): the actor
 * table, the system, roostd's alarm table and counters, all through the
 * view API; which actors get series; what an HTTP scraper accepts.
 */
#include "expo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int
collect_actor(void *arg, const roost_actor_info_t *a)
{
	struct expo_scrape *sc = arg;
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

int
expo_collect(roost_view_t *v, struct expo_scrape *sc)
{
	int rc;

	memset(sc, 0, sizeof(*sc));
	rc = roost_view_actors(v, collect_actor, sc);
	if (rc >= 0)
		rc = roost_view_info(v, &sc->sc_sys);
	if (rc < 0)
		return rc;
	sc->sc_alarms = roost_view_timers(v, count_alarm, NULL);
	sc->sc_stats_err = roost_view_roostd_stats(v, &sc->sc_stats);
	return 0;
}

void
expo_free(struct expo_scrape *sc)
{
	free(sc->sc_actors);
	sc->sc_actors = NULL;
	sc->sc_n = sc->sc_cap = 0;
}

int
expo_actors_parse(const char *text, struct expo_actors *out)
{
	unsigned long long n;
	char *end;

	if (strcmp(text, "all") == 0 || strcmp(text, "off") == 0) {
		out->ea_mode =
		    text[0] == 'a' ? EXPO_ACTORS_ALL : EXPO_ACTORS_OFF;
		out->ea_top = 0;
		return 0;
	}
	if (strncmp(text, "top ", 4) != 0)
		return -1;
	text += 4;
	while (*text == ' ')
		text++;
	if (*text < '1' || *text > '9')
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || n > UINT32_MAX)
		return -1;
	out->ea_mode = EXPO_ACTORS_TOP;
	out->ea_top = (uint32_t)n;
	return 0;
}

/* A q value (0 to 1) as 0..1000. Out of range, or no number (NaN
 * included), clamps: a double past INT_MAX must never reach the cast. */
static int
quality(const char *text)
{
	double q = strtod(text, NULL);

	if (!(q > 0))
		return 0;
	return q >= 1 ? 1000 : (int)(q * 1000);
}

/*
 * The quality (0..1000) an Accept header gives media type 'type': the
 * highest among its ranges naming it exactly (parameters other than q
 * ignored); -1 when none does.
 */
static int
accept_quality(const char *accept, const char *type)
{
	size_t tlen = strlen(type);
	const char *p = accept;
	const char *end, *q;
	int best = -1;
	int val;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		end = p + strcspn(p, ",");
		if ((size_t)(end - p) >= tlen &&
		    strncasecmp(p, type, tlen) == 0 &&
		    (p[tlen] == ';' || p[tlen] == ' ' || p + tlen == end)) {
			val = 1000;
			q = p;
			while ((q = memchr(q, ';', (size_t)(end - q))) !=
			       NULL) {
				q++;
				while (*q == ' ')
					q++;
				if (q + 2 <= end && q[0] == 'q' &&
				    q[1] == '=') {
					val = quality(q + 2);
					break;
				}
			}
			if (val > best)
				best = val;
		}
		p = end;
	}
	return best;
}

enum expo_format
expo_format_for(const char *accept)
{
	int om, text;

	if (accept == NULL)
		return EXPO_PROMETHEUS;
	om = accept_quality(accept, "application/openmetrics-text");
	text = accept_quality(accept, "text/plain");
	return om > 0 && om >= text ? EXPO_OPENMETRICS : EXPO_PROMETHEUS;
}
