/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sys.c - libFuzzer target: arbitrary bytes as a system segment.
 *
 * A real system is created, then the input is laid over its header (from
 * the first byte, or after the fixed part) and its slot table, and the
 * segment is opened and used as any process would: validation, whereis,
 * peer lookups and a context open. Nothing may crash or read out of
 * bounds (ASan); every call must return. The table mutex is glibc's and
 * is left intact (docs/shm-format.md, "Limits of this protection").
 */
#include "roost_impl.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static char sysname[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
overlay(uint8_t *base, size_t len, const uint8_t *data, size_t size)
{
	size_t i;
	size_t off;

	if (size < 2)
		return;
	/* First byte: where to start (0: the fixed header, else the slots). */
	off = data[0] & 1 ? ROOST_SYS_HDR_SIZE + ROOST_NKINDS * 32u : 0;
	for (i = 1; i < size && off < len; i++, off++) {
		base[off] = data[i];
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char shm[ROOST_SHM_NAME_MAX];
	roost_sys_opts_t so;
	roost_ctx_opts_t o;
	struct roost__sys sy;
	struct roost__slot_view sv;
	roost_ctx_t *ctx;
	roost_aid_t aid;
	uint8_t *base;
	size_t len;
	int fd;
	uint32_t i;

	if (sysname[0] == '\0')
		snprintf(sysname, sizeof(sysname), "fz%d", (int)getpid());
	roost_system_destroy(sysname);
	roost_sys_opts_init(&so);
	so.slots = 8;
	so.mbox_bytes = 4096;
	if (roost_system_create(sysname, &so) != 0)
		return 0;
	roost__sys_shm_name(shm, sizeof(shm), sysname);
	fd = shm_open(shm, O_RDWR, 0);
	if (fd < 0)
		goto out;
	len = (size_t)lseek(fd, 0, SEEK_END);
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		goto out;
	overlay(base, len, data, size);
	munmap(base, len);

	if (roost__sys_open(&sy, sysname) == 0) {
		for (i = 0; i < sy.sy_fixed.sf_nslots + 2; i++)
			roost__sys_slot_read(&sy, i, &sv);
		roost__sys_close(&sy);
	}
	roost_ctx_opts_init(&o);
	o.system = sysname;
	o.name = "probe";
	if (roost_ctx_open(&ctx, &o) == 0) {
		roost_whereis(ctx, "probe", &aid);
		roost_whereis(ctx, "other", &aid);
		for (i = 0; i < 10; i++)
			roost_send(ctx, roost__aid_make(i, i + 1), 1, "x", 1, 0);
		roost_ctx_close(ctx);
	}
out:
	roost_system_destroy(sysname);
	return 0;
}
