/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h - the clock, pause and statistics helpers every file of
 * roost_bench shares. Header-only (static inline): each is a line or two,
 * and the timing loops want them inlined.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_NS 1000000000.0

static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline struct timespec
bench_ns_to_ts(uint64_t ns)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	return ts;
}

static inline void
bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = bench_ns_to_ts(ns);

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The spin-wait hint of the CPU (x86 PAUSE, arm64 YIELD). */
static inline void
bench_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static inline int
bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int
bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile 'p' (0..100] of 'n' sorted samples. */
static inline uint64_t
bench_percentile(const uint64_t *s, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return s[rank == 0 ? 0 : rank - 1];
}

/*
 * Median of the finite values among 'n' doubles 'stride' apart (NaN marks
 * a figure that was not measured). NaN when none is finite. With an even
 * count, the mean of the two middle values. 'scratch' holds 'n' doubles.
 */
static inline double
bench_median(const double *v, int n, size_t stride, double *scratch)
{
	int k = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (isfinite(v[(size_t)i * stride]))
			scratch[k++] = v[(size_t)i * stride];
	}
	if (k == 0)
		return NAN;
	qsort(scratch, (size_t)k, sizeof(*scratch), bench_cmp_double);
	return k % 2 ? scratch[k / 2]
	             : (scratch[k / 2 - 1] + scratch[k / 2]) / 2;
}

#endif /* BENCH_UTIL_H */
