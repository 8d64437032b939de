/* SPDX-License-Identifier: MIT */
/*
 * roost_scale.c - is the cost of a send flat from 1 to 1,000 actors?
 *
 * One process opens N contexts (N mailboxes) on a private system and sends
 * 64-byte messages round-robin to all of them, timing only the sends; then
 * it drains every mailbox and checks each message. It reports ns per send
 * for each N, and the ratio to N = 1. Everything a send touches per
 * target (peer mapping, mailbox header, ring lines) grows with N, so this
 * shows what a many-actor system costs a sender. A program, not a test.
 *
 * Usage: roost_scale [--max N] [--json]
 */
#include <roost.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SCALE_MAX_DEF 1000
#define ROUNDS 400          /* messages per mailbox per pass (fit 64 KiB) */
#define PASSES 5
#define MBOX_BYTES (64u << 10)

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Drain and check: message r of mailbox i carries (i, r). */
static int
drain(roost_ctx_t **rx, int n)
{
	roost_msg_t *m;
	uint64_t v[2];
	int i;
	int r;
	int rc;

	for (i = 0; i < n; i++) {
		for (r = 0; r < ROUNDS; r++) {
			rc = roost_recv(rx[i], &m, 0);
			if (rc != 0)
				return rc;
			memcpy(v, roost_msg_data(m), sizeof(v));
			if (v[0] != (uint64_t)i || v[1] != (uint64_t)r)
				return -EPROTO;
		}
	}
	return 0;
}

/* Best ns per send over PASSES passes of ROUNDS x n sends. */
static int
measure(roost_ctx_t *tx, roost_ctx_t **rx, int n, double *ns)
{
	uint8_t buf[64] = {0};
	uint64_t v[2];
	uint64_t t0;
	double best = 1e30;
	double d;
	int pass;
	int i;
	int r;
	int rc;

	for (pass = 0; pass < PASSES; pass++) {
		t0 = now_ns();
		for (r = 0; r < ROUNDS; r++) {
			for (i = 0; i < n; i++) {
				v[0] = (uint64_t)i;
				v[1] = (uint64_t)r;
				memcpy(buf, v, sizeof(v));
				rc = roost_try_send(tx, roost_self(rx[i]), 1, buf,
				                    sizeof(buf));
				if (rc != 0)
					return rc;
			}
		}
		d = (double)(now_ns() - t0) / ((double)ROUNDS * n);
		if (d < best)
			best = d;
		rc = drain(rx, n);
		if (rc != 0)
			return rc;
	}
	*ns = best;
	return 0;
}

int
main(int argc, char **argv)
{
	static const int sizes[] = {1, 10, 100, 1000};
	char sys[32];
	roost_sys_opts_t so;
	roost_ctx_opts_t o;
	roost_ctx_t *tx = NULL;
	roost_ctx_t **rx;
	double ns[4] = {0};
	int max = SCALE_MAX_DEF;
	int json = 0;
	int opened = 0;
	int k;
	int i;
	int rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
			max = atoi(argv[++i]);
			if (max < 1 || max > 4000) {
				fprintf(stderr, "roost_scale: --max 1..4000\n");
				return 2;
			}
		} else {
			fprintf(stderr, "usage: roost_scale [--max N] [--json]\n");
			return 2;
		}
	}
	snprintf(sys, sizeof(sys), "scale-%d", (int)getpid());
	roost_sys_opts_init(&so);
	so.slots = (uint32_t)max + 1;
	so.mbox_bytes = MBOX_BYTES;
	rc = roost_system_create(sys, &so);
	if (rc < 0) {
		fprintf(stderr, "roost_scale: create: %s\n", roost_strerror(rc));
		return 1;
	}
	rx = calloc((size_t)max, sizeof(*rx));
	if (rx == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	roost_ctx_opts_init(&o);
	o.system = sys;
	rc = roost_ctx_open(&tx, &o);
	for (opened = 0; rc == 0 && opened < max; opened++)
		rc = roost_ctx_open(&rx[opened], &o);
	if (rc < 0) {
		opened--;
		goto out;
	}
	for (k = 0; k < 4 && sizes[k] <= max; k++) {
		rc = measure(tx, rx, sizes[k], &ns[k]);
		if (rc < 0)
			goto out;
	}
	if (json) {
		printf("{\"bench\":\"roost_scale\",\"payload\":64,\"ns_per_send\":{");
		for (i = 0; i < k; i++)
			printf("%s\"%d\":%.1f", i ? "," : "", sizes[i], ns[i]);
		printf("}}\n");
	} else {
		printf("roost_scale: ns per 64 B send, round-robin over N "
		       "mailboxes (best of %d passes)\n", PASSES);
		for (i = 0; i < k; i++)
			printf("  N = %4d  %7.1f ns  (%.2fx N=1)\n", sizes[i],
			       ns[i], ns[i] / ns[0]);
	}
out:
	if (rc < 0)
		fprintf(stderr, "roost_scale: %s\n", roost_strerror(rc));
	for (i = 0; i < opened; i++)
		roost_ctx_close(rx[i]);
	roost_ctx_close(tx);
	free(rx);
	roost_system_destroy(sys);
	return rc < 0;
}
