/* SPDX-License-Identifier: MIT */
/*
 * roost_metrics_bench.c - how long one metrics scrape of a big system
 * takes: the shared formatter (metrics/expo.h) that roostd's HTTP
 * endpoint and `roostctl metrics` run, reading through the view API and
 * printing into memory, with per-actor series for all actors, the top
 * 100 by queue depth, or none, in both formats. The target: a
 * scrape under 1 s with 10,000 actors.
 *
 * One process opens N contexts (N mailboxes, queue depths 0..6) on a
 * private system; roostd does not run (the scrape reads what a tool
 * reads). A program, not a test.
 *
 * Usage: roost_metrics_bench [--actors N] [--scrapes K]
 */
#include "bench_util.h"
#include "expo.h"

#include <roost.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ACTORS_DEF  4000
#define SCRAPES_DEF 5
#define MBOX_BYTES  (16u << 10)
#define OWN_SLOTS   8 /* spare slots past the actors */

/* One scrape: collect and print; its time (ns) and output size. */
static uint64_t
scrape_once(roost_view_t *v, enum expo_format fmt,
            const struct expo_actors *sel, size_t *bytes)
{
	struct expo_scrape sc;
	char *buf = NULL;
	uint64_t t0 = bench_now_ns();
	FILE *f;

	*bytes = 0;
	if (expo_collect(v, &sc) < 0) {
		expo_free(&sc);
		return 0;
	}
	f = open_memstream(&buf, bytes);
	if (f == NULL) {
		expo_free(&sc);
		return 0;
	}
	expo_print(f, &sc, fmt, sel);
	fclose(f);
	expo_free(&sc);
	free(buf);
	return bench_now_ns() - t0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void
measure(roost_view_t *v, const char *label, enum expo_format fmt,
        const struct expo_actors *sel, int scrapes)
{
	uint64_t t[64];
	size_t bytes = 0;
	int i;

	for (i = 0; i < scrapes; i++)
		t[i] = scrape_once(v, fmt, sel, &bytes);
	qsort(t, (size_t)scrapes, sizeof(t[0]), cmp_u64);
	printf("  %-22s %-11s median %8.1f ms  max %8.1f ms  %9zu bytes  %s\n",
	       label, fmt == EXPO_OPENMETRICS ? "openmetrics" : "prometheus",
	       (double)t[scrapes / 2] / 1e6, (double)t[scrapes - 1] / 1e6,
	       bytes, t[scrapes - 1] < 1000000000u ? "PASS (< 1 s)" : "MISS");
}

int
main(int argc, char **argv)
{
	static const struct expo_actors all = {EXPO_ACTORS_ALL, 0};
	static const struct expo_actors top = {EXPO_ACTORS_TOP, 100};
	static const struct expo_actors off = {EXPO_ACTORS_OFF, 0};
	int actors = ACTORS_DEF, scrapes = SCRAPES_DEF;
	roost_ctx_opts_t co;
	roost_sys_opts_t so;
	roost_ctx_t **ctx;
	roost_view_t *v;
	char sys[32];
	uint64_t t0;
	int i, k, rc;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--actors") == 0)
			actors = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--scrapes") == 0)
			scrapes = atoi(argv[i + 1]);
	}
	if (actors < 1 || scrapes < 1 || scrapes > 64) {
		fprintf(stderr, "usage: roost_metrics_bench [--actors N] "
		                "[--scrapes 1..64]\n");
		return 2;
	}
	snprintf(sys, sizeof(sys), "mbench%d", (int)getpid());
	roost_sys_opts_init(&so);
	so.slots = (uint32_t)actors + OWN_SLOTS;
	so.mbox_bytes = MBOX_BYTES;
	rc = roost_system_create(sys, &so);
	if (rc < 0) {
		fprintf(stderr, "system of %u slots: %s\n", so.slots,
		        roost_strerror(rc));
		return 1;
	}
	ctx = calloc((size_t)actors, sizeof(*ctx));
	t0 = bench_now_ns();
	for (i = 0; i < actors && ctx != NULL; i++) {
		char name[32];

		snprintf(name, sizeof(name), "a%d", i);
		roost_ctx_opts_init(&co);
		co.system = sys;
		co.name = name;
		rc = roost_ctx_open(&ctx[i], &co);
		if (rc < 0) {
			fprintf(stderr, "actor %d: %s\n", i,
			        roost_strerror(rc));
			break;
		}
		for (k = 0; k < i % 7; k++)
			roost_send(ctx[i], roost_self(ctx[i]), 1, "x", 1, 0);
	}
	actors = i;
	printf("metrics scrape of %d actors (opened in %.1f s), %d scrapes "
	       "each:\n",
	       actors, (double)(bench_now_ns() - t0) / 1e9, scrapes);
	rc = roost_view_open(&v, sys);
	if (rc == 0) {
		measure(v, "per_actor = all", EXPO_PROMETHEUS, &all, scrapes);
		measure(v, "per_actor = all", EXPO_OPENMETRICS, &all, scrapes);
		measure(v, "per_actor = top 100", EXPO_PROMETHEUS, &top,
		        scrapes);
		measure(v, "per_actor = off", EXPO_PROMETHEUS, &off, scrapes);
		roost_view_close(v);
	} else {
		fprintf(stderr, "view: %s\n", roost_strerror(rc));
	}
	for (i = 0; i < actors; i++)
		roost_ctx_close(ctx[i]);
	free(ctx);
	roost_system_destroy(sys);
	return rc < 0 ? 1 : 0;
}
