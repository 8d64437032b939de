/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mbox.c - libFuzzer target: arbitrary bytes as a mapped mailbox.
 *
 * The input becomes the whole mailbox segment (header and rings) of a
 * 4 KiB + 4 KiB mailbox. The target validates it as a sender would
 * (roost__mbox_attach), then as its owner (rx_init), then drains it with
 * plain and selective receives and sends into it. Every view handed out
 * must lie inside a ring; ASan catches any read out of bounds. Built only
 * with -DROOST_FUZZ=ON and clang (see tests/CMakeLists.txt).
 */
#include "roost_impl.h"

#include <stdio.h>
#include <sys/mman.h>

#define RING 4096u

static bool
odd_kind(const roost_msg_t *m, void *arg)
{
	(void)arg;
	return (roost_msg_kind(m) & 1u) != 0;
}

static void
check_view(const struct roost__mbox *mb, const roost_msg_t *m)
{
	const uint8_t *p = roost_msg_data(m);
	unsigned lane;

	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		if (p >= mb->mb_ring[lane] &&
		    roost_msg_size(m) <=
		            (size_t)(mb->mb_ring[lane] + mb->mb_cap[lane] - p))
			return;
	}
	fprintf(stderr, "view outside the rings\n");
	__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = roost__mbox_seg_size(RING, RING, ROOST_NPRIV_DEF);
	struct roost__seg seg;
	struct roost__mbox mb;
	struct roost__mbox_hdr *h;
	struct roost__rx rx;
	struct roost__out o;
	struct roost_msg *m;
	uint8_t payload[64] = {0};
	int i;

	seg.sg_base = mmap(NULL, len, PROT_READ | PROT_WRITE,
	                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (seg.sg_base == MAP_FAILED)
		return 0;
	seg.sg_len = len;
	/* A valid mailbox first, so the fuzzer starts from real structure;
	 * then the input is laid over it from the lock line on (lock words
	 * included), or over the fixed header when the first byte says so. */
	if (roost__mbox_format(&mb, seg, 3, 7, 1024, RING, RING,
	                       ROOST_NPRIV_DEF, false) != 0)
		goto out;
	h = seg.sg_base;
	if (size > 0 && (data[0] & 1)) {
		size_t n = size - 1 < sizeof(h->mh_fixed) ? size - 1
		                                          : sizeof(h->mh_fixed);
		memcpy(&h->mh_fixed, data + 1, n);
	} else if (size > 1) {
		size_t off = offsetof(struct roost__mbox_hdr, mh_lock);
		size_t n = size - 1 < len - off ? size - 1 : len - off;
		memcpy((uint8_t *)seg.sg_base + off, data + 1, n);
	}
	if (roost__mbox_attach(&mb, seg, 3, 7) != 0)
		goto out;
	if (roost__mbox_rx_init(&mb, &rx) != 0)
		goto out;
	rx.rx_spin_ns = rx.rx_spin_budget = 0;
	for (i = 0; i < 64; i++) {
		if (roost__mbox_take(&mb, &rx, ROOST_LANE_ANY,
		                     (i & 1) ? odd_kind : NULL, NULL, 0, &m) == 0)
			check_view(&mb, m);
		memset(&o, 0, sizeof(o));
		o.o_lane = (unsigned)i & 1u;
		o.o_kind = (uint32_t)i;
		o.o_data = payload;
		o.o_size = (size_t)(i * 7) % sizeof(payload);
		roost__mbox_push(&mb, &o, 0);
	}
out:
	munmap(seg.sg_base, len);
	return 0;
}
