/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire.c - libFuzzer target: arbitrary bytes as a frame from NATS,
 * fed to the gateway's decoder (gateway/wire.c). Nothing may crash or
 * read outside the frame; a frame it accepts must encode back to the
 * same bytes.
 */
#include "wire.h"
#include "roost_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_frame f;
	const char *why;
	uint8_t *copy = malloc(size ? size : 1); /* ASan sees overreads */
	uint8_t *again;
	int n;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (gw_wire_decode(copy, size, &f, &why) == 0) {
		again = malloc(size);
		if (again != NULL) {
			n = gw_wire_encode(&f, again, size);
			if (n != (int)size || memcmp(again, copy, size) != 0)
				abort();
			free(again);
		}
	} else if (why == NULL) {
		abort(); /* every refusal says why */
	}
	free(copy);
	return 0;
}
