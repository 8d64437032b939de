/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c - libFuzzer target: arbitrary bytes as roostd's config
 * file. rd_config_load must accept it or reject it with a message naming
 * the file; never crash, leak or read out of bounds (ASan), and a
 * config it accepts must hold only values in range.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rd_config cfg;
	FILE *f;
	int i;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz-config-%d.ini",
		         (int)getpid());
	f = fopen(path, "w");
	if (f == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (rd_config_load(&cfg, path) < 0) {
		if (strstr(cfg.rc_error, path) == NULL)
			__builtin_trap(); /* every error names the file */
	} else {
		if (cfg.rc_nactors < 0 || cfg.rc_nactors > RD_MAX_ACTORS ||
		    cfg.rc_ngroups < 1 || cfg.rc_ngroups > RD_MAX_GROUPS + 1)
			__builtin_trap();
		for (i = 0; i < cfg.rc_nactors; i++) {
			const struct rd_actor *a = &cfg.rc_actors[i];

			if (a->ra_program == NULL || a->ra_program[0] != '/' ||
			    a->ra_count < 1 || a->ra_count > RD_POOL_MAX ||
			    a->ra_group < 0 || a->ra_group >= cfg.rc_ngroups ||
			    a->ra_argv[a->ra_argc] != NULL)
				__builtin_trap();
		}
	}
	rd_config_free(&cfg);
	unlink(path);
	return 0;
}
