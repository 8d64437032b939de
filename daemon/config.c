/* SPDX-License-Identifier: MIT */
/*
 * config.c - parsing and validating roostd's INI configuration.
 *
 *   [system]
 *   slots = 256                 ; actor table size, 1..4096
 *   mailbox_bytes = 1048576     ; default user-lane ring, 4 KiB..1 GiB
 *   max_message = 65536         ; largest payload
 *
 *   [actor NAME]                ; one per actor, started in file order
 *   program = /path/to/binary   ; required, absolute
 *   args = --flag value         ; split on blanks, no quoting
 *   restart = permanent         ; permanent | transient | temporary
 *   mailbox_bytes = 65536
 *   shutdown_timeout_ms = 5000
 */
#include "config.h"

#include <ini.h>
#include <stdio.h>

static int
fail(struct rd_config *cfg, const char *fmt, const char *a, const char *b)
{
	if (cfg->rc_error[0] == '\0')
		snprintf(cfg->rc_error, sizeof(cfg->rc_error), fmt, a, b);
	return 0; /* inih: stop, report this line */
}

/* A whole decimal number in [lo, hi]. */
static bool
parse_u32(const char *v, uint64_t lo, uint64_t hi, uint32_t *out)
{
	char *end;
	unsigned long long n;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return false;
	*out = (uint32_t)n;
	return true;
}

static int
system_key(struct rd_config *cfg, const char *key, const char *val)
{
	uint32_t *dst;
	uint64_t lo = 1;
	uint64_t hi;

	if (strcmp(key, "slots") == 0) {
		dst = &cfg->rc_sys.slots;
		hi = ROOST_SLOTS_MAX;
	} else if (strcmp(key, "mailbox_bytes") == 0) {
		dst = &cfg->rc_sys.mbox_bytes;
		lo = ROOST_RING_MIN;
		hi = ROOST_RING_MAX;
	} else if (strcmp(key, "max_message") == 0) {
		dst = &cfg->rc_sys.max_msg;
		hi = ROOST_MAX_MSG_MAX;
	} else {
		return fail(cfg, "unknown key '%s' in [system]%s", key, "");
	}
	if (!parse_u32(val, lo, hi, dst))
		return fail(cfg, "bad value '%s' for %s", val, key);
	return 1;
}

static int
split_args(struct rd_config *cfg, struct rd_actor *a, const char *val)
{
	char *copy = strdup(val);
	char *save = NULL;
	char *tok;

	if (copy == NULL)
		return fail(cfg, "out of memory%s%s", "", "");
	a->ra_argc = 1;
	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (a->ra_argc > RD_MAX_ARGS) {
			free(copy);
			return fail(cfg, "too many args (at most %s)%s", "32", "");
		}
		a->ra_argv[a->ra_argc] = strdup(tok);
		if (a->ra_argv[a->ra_argc] == NULL) {
			free(copy);
			return fail(cfg, "out of memory%s%s", "", "");
		}
		a->ra_argc++;
	}
	free(copy);
	return 1;
}

static int
actor_key(struct rd_config *cfg, struct rd_actor *a, const char *key,
          const char *val)
{
	if (strcmp(key, "program") == 0) {
		if (val[0] != '/')
			return fail(cfg, "program '%s' must be an absolute path%s",
			            val, "");
		free(a->ra_program);
		a->ra_program = strdup(val);
		return a->ra_program != NULL ? 1
		                             : fail(cfg, "out of memory%s%s", "", "");
	}
	if (strcmp(key, "args") == 0)
		return split_args(cfg, a, val);
	if (strcmp(key, "restart") == 0) {
		if (strcmp(val, "permanent") == 0)
			a->ra_restart = RD_PERMANENT;
		else if (strcmp(val, "transient") == 0)
			a->ra_restart = RD_TRANSIENT;
		else if (strcmp(val, "temporary") == 0)
			a->ra_restart = RD_TEMPORARY;
		else
			return fail(cfg, "bad restart '%s' (permanent, transient "
			            "or temporary)%s", val, "");
		return 1;
	}
	if (strcmp(key, "mailbox_bytes") == 0) {
		if (!parse_u32(val, ROOST_RING_MIN, ROOST_RING_MAX,
		               &a->ra_mbox_bytes))
			return fail(cfg, "bad value '%s' for %s", val, key);
		return 1;
	}
	if (strcmp(key, "shutdown_timeout_ms") == 0) {
		if (!parse_u32(val, 0, 3600000, &a->ra_shutdown_ms))
			return fail(cfg, "bad value '%s' for %s", val, key);
		return 1;
	}
	return fail(cfg, "unknown key '%s' in an [actor] section%s", key, "");
}

static int
on_entry(void *user, const char *section, const char *key, const char *val)
{
	struct rd_config *cfg = user;
	struct rd_actor *a;
	const char *name;
	int i;

	if (strcmp(section, "system") == 0)
		return system_key(cfg, key, val);
	if (strncmp(section, "actor ", 6) != 0)
		return fail(cfg, "unknown section [%s]%s", section, "");
	name = section + 6;
	if (!roost__name_valid(name))
		return fail(cfg, "bad actor name '%s'%s", name, "");
	a = cfg->rc_nactors > 0 ? &cfg->rc_actors[cfg->rc_nactors - 1] : NULL;
	if (a == NULL || strcmp(a->ra_name, name) != 0) {
		/* The first key of a new section (Debian's inih does not call
		 * the handler on the section line itself). */
		for (i = 0; i < cfg->rc_nactors; i++)
			if (strcmp(cfg->rc_actors[i].ra_name, name) == 0)
				return fail(cfg, "actor '%s' defined twice%s", name,
				            "");
		if (cfg->rc_nactors == RD_MAX_ACTORS)
			return fail(cfg, "too many actors (at most %s)%s", "256", "");
		a = &cfg->rc_actors[cfg->rc_nactors++];
		snprintf(a->ra_name, sizeof(a->ra_name), "%s", name);
		a->ra_restart = RD_PERMANENT;
		a->ra_shutdown_ms = 5000;
		a->ra_argc = 1;
	}
	return actor_key(cfg, a, key, val);
}

int
rd_config_load(struct rd_config *cfg, const char *path)
{
	int line;
	int i;

	memset(cfg, 0, sizeof(*cfg));
	roost_sys_opts_init(&cfg->rc_sys);
	line = ini_parse(path, on_entry, cfg);
	if (line < 0) {
		snprintf(cfg->rc_error, sizeof(cfg->rc_error),
		         "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	if (line > 0) {
		char what[200];

		snprintf(what, sizeof(what), "%.199s",
		         cfg->rc_error[0] ? cfg->rc_error : "syntax error");
		snprintf(cfg->rc_error, sizeof(cfg->rc_error), "%.200s:%d: %s",
		         path, line, what);
		return -1;
	}
	for (i = 0; i < cfg->rc_nactors; i++) {
		struct rd_actor *a = &cfg->rc_actors[i];

		if (a->ra_program == NULL) {
			snprintf(cfg->rc_error, sizeof(cfg->rc_error),
			         "%s: actor '%s' has no program", path, a->ra_name);
			return -1;
		}
		a->ra_argv[0] = a->ra_program;
		a->ra_argv[a->ra_argc] = NULL;
	}
	return 0;
}

void
rd_config_free(struct rd_config *cfg)
{
	int i;
	int j;

	for (i = 0; i < cfg->rc_nactors; i++) {
		for (j = 1; j < cfg->rc_actors[i].ra_argc; j++)
			free(cfg->rc_actors[i].ra_argv[j]);
		free(cfg->rc_actors[i].ra_program);
	}
	cfg->rc_nactors = 0;
}
