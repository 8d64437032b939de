/* SPDX-License-Identifier: MIT */
/*
 * config.c - parsing and validating roostd's INI configuration. The file
 * format, every key and its range is the comment at the top of config.h;
 * this file turns such a file into a struct rd_config or into one error
 * message, "PATH:LINE: what" (or "PATH: what" where no line applies).
 *
 * inih does the lexing and calls on_entry() once per key. How that
 * shapes the code below:
 *
 *  - Debian's inih does not call the handler for a section line itself,
 *    only for each key (INI_CALL_HANDLER_ON_NEW_SECTION is 0), so a
 *    section with no keys is invisible: an empty [group g] does not
 *    define g, an empty [foo] is not reported. on_entry() notices a new
 *    section when the first key of it arrives.
 *  - The handler is not told the line (INI_HANDLER_LINENO is 0), so we
 *    feed inih through read_line(), which counts lines and notes each
 *    "[...]" header: errors then carry the line of the key being parsed,
 *    an actor's ra_line is its header's line and an actor's "group =" key
 *    keeps its own line for the check at the end.
 *  - inih keeps only the first 49 characters of a section name; the
 *    header text read_line() keeps is whole, so 47-character actor names
 *    work. It also rejects a line longer than inih's buffer, which inih
 *    would otherwise cut into pieces.
 *  - inih keeps parsing after an error and reports the line of the first
 *    one; read_line() stops the parse at our first error instead, and
 *    rd_config_load() picks whichever came first.
 *  - An indented line continues the previous key's value in inih (as in
 *    Python's configparser). We do not support that: it is an error.
 *
 * Checks that need the whole file (every actor has a program, group
 * references, the number of actors against the slots) run in finish(),
 * which also sorts the actors by start order.
 */
#include "config.h"
#include "timers.h"

#include <ctype.h>
#include <grp.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define RD_SHUTDOWN_MS_MAX 3600000u /* one hour */
#define RD_INTENSITY_DEF 5u
#define RD_INTENSITY_MAX 1000u
#define RD_PERIOD_DEF 10u
#define RD_PERIOD_MAX 3600u
/* The gateway's two delivery contexts (gateway/gateway.c), besides its
 * own slot. */
#define RD_GATEWAY_EXTRA_SLOTS 2u
/* The gateway goes down last: a graceful stop, then SIGTERM after this. */
#define RD_GATEWAY_SHUTDOWN_MS 2000u
/* The gateway's user lane: it carries every message to and from other
 * nodes, so it gets a router's mailbox, not an idle actor's (the 64 KiB
 * default halved one-way throughput across nodes in roost_dist_bench). */
#define RD_GATEWAY_MBOX_BYTES (1u << 20)

enum section {
	SEC_NONE,
	SEC_SYSTEM,
	SEC_GROUP,
	SEC_ACTOR,
	SEC_GATEWAY,
	SEC_METRICS
};

#define IN_SYSTEM (1u << SEC_SYSTEM)
#define IN_GROUP (1u << SEC_GROUP)
#define IN_ACTOR (1u << SEC_ACTOR)

/* Every key of every section; the bit of each marks it given. */
enum key {
	K_SLOTS,
	K_MAILBOX_BYTES,
	K_MAX_MESSAGE,
	K_TIMERS,
	K_GROUP,
	K_STRATEGY,
	K_INTENSITY,
	K_PERIOD,
	K_PROGRAM,
	K_ARGS,
	K_COUNT,
	K_RESTART,
	K_DAEMON,
	K_SHUTDOWN_MS,
	K_ORDER,
	K_UNBLOCK_MS,
	K_PRIVATE_LANES,
	K_NKEYS
};
static_assert(K_NKEYS <= 32, "ps_seen is a 32-bit mask");

static const struct key_def {
	const char *kd_name;
	unsigned kd_in;              /* IN_*: the sections that have it */
} key_defs[K_NKEYS] = {
	[K_SLOTS] = {"slots", IN_SYSTEM},
	[K_MAILBOX_BYTES] = {"mailbox_bytes", IN_SYSTEM | IN_ACTOR},
	[K_MAX_MESSAGE] = {"max_message", IN_SYSTEM},
	[K_TIMERS] = {"timers", IN_SYSTEM},
	[K_GROUP] = {"group", IN_SYSTEM | IN_ACTOR},
	[K_STRATEGY] = {"strategy", IN_SYSTEM | IN_GROUP},
	[K_INTENSITY] = {"intensity", IN_SYSTEM | IN_GROUP},
	[K_PERIOD] = {"period", IN_SYSTEM | IN_GROUP},
	[K_PROGRAM] = {"program", IN_ACTOR},
	[K_ARGS] = {"args", IN_ACTOR},
	[K_COUNT] = {"count", IN_ACTOR},
	[K_RESTART] = {"restart", IN_ACTOR},
	[K_DAEMON] = {"daemon", IN_ACTOR},
	[K_SHUTDOWN_MS] = {"shutdown_timeout_ms", IN_ACTOR},
	[K_ORDER] = {"order", IN_ACTOR},
	[K_UNBLOCK_MS] = {"unblock_timeout_ms", IN_SYSTEM},
	[K_PRIVATE_LANES] = {"private_lanes", IN_SYSTEM},
};

static const char *const strategy_names[] = {
	[RD_ONE_FOR_ONE] = "one_for_one",
	[RD_ONE_FOR_ALL] = "one_for_all",
	[RD_REST_FOR_ONE] = "rest_for_one",
};

static const char *const restart_names[] = {
	[RD_PERMANENT] = "permanent",
	[RD_TRANSIENT] = "transient",
	[RD_TEMPORARY] = "temporary",
};

/* The state of one rd_config_load(); on the heap (the group references
 * alone are 12 KiB). */
struct parse {
	struct rd_config *ps_cfg;
	const char *ps_path;
	FILE *ps_file;
	char *ps_buf;                /* getline()'s buffer, freed with free() */
	size_t ps_bufsz;
	int ps_line;                 /* the line inih is parsing */
	bool ps_indented;            /* it starts with a blank */
	int ps_header_line;          /* the last "[...]" line; 0: none yet */
	char ps_header[64];          /* its text between '[' and ']' */
	bool ps_header_long;         /* ... which did not fit */
	int ps_cur_header;           /* header line of the section being
	                              * filled; -1: none */
	enum section ps_sec;         /* that section's kind ... */
	int ps_index;                /* ... and its group or actor index */
	uint32_t ps_seen;            /* keys given in it, 1u << enum key */
	char ps_prev_key[32];        /* "": no key since the last header */
	int ps_system_line;          /* where [system] is; 0: not seen */
	char ps_abs_path[PATH_MAX];  /* the file's absolute path (the
	                              * gateway reads it too) */
	int ps_slots_line;           /* where slots is; 0: the default */
	/* Each actor's "group =" value and line, resolved by finish(). */
	char ps_group_ref[RD_MAX_ACTORS][ROOST_NAME_MAX + 1];
	int ps_group_line[RD_MAX_ACTORS];
	bool ps_failed;              /* rc_error holds the first error */
	int ps_errno;                /* a read failed: its errno */
	int ps_err_line;             /* its line; 0: none applies */
};

/* --- errors ---------------------------------------------------------- */

/* Record the first error only: "PATH:LINE: what", or "PATH: what" when
 * 'line' is 0. Returns 0, which tells inih the handler failed. */
__attribute__((format(printf, 3, 0))) static int
verror(struct parse *ps, int line, const char *fmt, va_list ap)
{
	char *buf = ps->ps_cfg->rc_error;
	size_t size = sizeof(ps->ps_cfg->rc_error);
	int n;

	if (ps->ps_failed)
		return 0;
	ps->ps_failed = true;
	ps->ps_err_line = line;
	if (line > 0)
		n = snprintf(buf, size, "%s:%d: ", ps->ps_path, line);
	else
		n = snprintf(buf, size, "%s: ", ps->ps_path);
	if (n >= 0 && (size_t)n < size)
		vsnprintf(buf + n, size - (size_t)n, fmt, ap);
	return 0;
}

/* An error at the line being parsed. */
__attribute__((format(printf, 2, 3))) static int
fail(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(ps, ps->ps_line, fmt, ap);
	va_end(ap);
	return 0;
}

/* An error at 'line' (0: the whole file). */
__attribute__((format(printf, 3, 4))) static int
fail_at(struct parse *ps, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(ps, line, fmt, ap);
	va_end(ap);
	return 0;
}

static int
out_of_memory(struct parse *ps)
{
	ps->ps_errno = ENOMEM;
	return fail(ps, "out of memory");
}

/* --- values ---------------------------------------------------------- */

/* A copy of 's' from roost__malloc; the caller frees it (roost__free). */
static char *
dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = roost__malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* 'v' is a whole decimal number (optional '-', digits) in [lo, hi]. */
static int
set_num(struct parse *ps, enum key k, const char *v, int64_t lo, int64_t hi,
        int64_t *out)
{
	const char *digits = v + (v[0] == '-');
	char *end;
	long long n;

	if (*digits < '0' || *digits > '9')
		goto out_bad;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end != '\0')
		goto out_bad;
	if (errno == ERANGE || n < lo || n > hi)
		return fail(ps, "bad value '%s' for %s: out of range (%lld..%lld)",
		            v, key_defs[k].kd_name, (long long)lo, (long long)hi);
	*out = n;
	return 1;

out_bad:
	return fail(ps, "bad value '%s' for %s: not a whole number (%lld..%lld)",
	            v, key_defs[k].kd_name, (long long)lo, (long long)hi);
}

static int
set_u32(struct parse *ps, enum key k, const char *v, uint32_t lo, uint32_t hi,
        uint32_t *dst)
{
	int64_t n;

	if (!set_num(ps, k, v, lo, hi, &n))
		return 0;
	*dst = (uint32_t)n;
	return 1;
}

static int
set_i32(struct parse *ps, enum key k, const char *v, int32_t *dst)
{
	int64_t n;

	if (!set_num(ps, k, v, INT32_MIN, INT32_MAX, &n))
		return 0;
	*dst = (int32_t)n;
	return 1;
}

/* The index of 'v' in 'names', or -1. */
static int
name_index(const char *const *names, int n, const char *v)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], v) == 0)
			return i;
	return -1;
}

static int
set_bool(struct parse *ps, enum key k, const char *v, bool *dst)
{
	static const char *const truths[] = {"true", "yes", "1"};
	static const char *const lies[] = {"false", "no", "0"};

	if (name_index(truths, 3, v) >= 0)
		*dst = true;
	else if (name_index(lies, 3, v) >= 0)
		*dst = false;
	else
		return fail(ps, "bad value '%s' for %s (true, false, yes, no, 1 "
		            "or 0)", v, key_defs[k].kd_name);
	return 1;
}

/* --- [system] and [group NAME] --------------------------------------- */

/* strategy, intensity and period: of a [group] or, in [system], of the
 * top level (rc_groups[0]). */
static int
policy_key(struct parse *ps, struct rd_group *g, enum key k, const char *v)
{
	int s;

	switch (k) {
	case K_STRATEGY:
		s = name_index(strategy_names, 3, v);
		if (s < 0)
			return fail(ps, "bad strategy '%s' (one_for_one, "
			            "one_for_all or rest_for_one)", v);
		g->rg_strategy = (enum rd_strategy)s;
		return 1;
	case K_INTENSITY:
		return set_u32(ps, k, v, 0, RD_INTENSITY_MAX, &g->rg_intensity);
	case K_PERIOD:
		return set_u32(ps, k, v, 1, RD_PERIOD_MAX, &g->rg_period_s);
	default:
		return fail(ps, "internal error: key '%s' in a group",
		            key_defs[k].kd_name);
	}
}

/* [system] group: the unix group that gets access to the system. */
static int
set_unix_group(struct parse *ps, const char *v)
{
	struct rd_config *cfg = ps->ps_cfg;

	if (strlen(v) >= sizeof(cfg->rc_unix_group))
		return fail(ps, "unix group name '%s' is too long (at most %zu "
		            "characters)", v, sizeof(cfg->rc_unix_group) - 1);
	if (getgrnam(v) == NULL)
		return fail(ps, "unknown unix group '%s'", v);
	snprintf(cfg->rc_unix_group, sizeof(cfg->rc_unix_group), "%s", v);
	cfg->rc_sys.mode = 0660;
	return 1;
}

static int
system_key(struct parse *ps, enum key k, const char *v)
{
	struct rd_config *cfg = ps->ps_cfg;

	switch (k) {
	case K_SLOTS:
		ps->ps_slots_line = ps->ps_line;
		return set_u32(ps, k, v, 1, ROOST_SLOTS_MAX, &cfg->rc_sys.slots);
	case K_MAILBOX_BYTES:
		return set_u32(ps, k, v, ROOST_RING_MIN, ROOST_RING_MAX,
		               &cfg->rc_sys.mbox_bytes);
	case K_MAX_MESSAGE:
		return set_u32(ps, k, v, 1, ROOST_MAX_MSG_MAX,
		               &cfg->rc_sys.max_msg);
	case K_TIMERS:
		return set_u32(ps, k, v, ROOST_TMR_CAP_MIN, ROOST_TMR_CAP_MAX,
		               &cfg->rc_timers);
	case K_UNBLOCK_MS:
		return set_u32(ps, k, v, ROOST_UNBLOCK_MS_MIN,
		               ROOST_UNBLOCK_MS_MAX, &cfg->rc_sys.unblock_ms);
	case K_PRIVATE_LANES:
		return set_u32(ps, k, v, 0, ROOST_NPRIV_MAX,
		               &cfg->rc_sys.private_lanes);
	case K_GROUP:
		return set_unix_group(ps, v);
	default:
		return policy_key(ps, &cfg->rc_groups[0], k, v);
	}
}

static void
group_init(struct rd_group *g, const char *name, int line)
{
	snprintf(g->rg_name, sizeof(g->rg_name), "%s", name);
	g->rg_strategy = RD_ONE_FOR_ONE;
	g->rg_intensity = RD_INTENSITY_DEF;
	g->rg_period_s = RD_PERIOD_DEF;
	g->rg_line = line;
}

static int
begin_system(struct parse *ps)
{
	if (ps->ps_system_line > 0)
		return fail(ps, "[system] given twice (first at line %d)",
		            ps->ps_system_line);
	ps->ps_system_line = ps->ps_header_line;
	ps->ps_sec = SEC_SYSTEM;
	return 1;
}

static int
begin_group(struct parse *ps, const char *name)
{
	struct rd_config *cfg = ps->ps_cfg;
	int i;

	if (!roost__name_valid(name))
		return fail(ps, "bad group name '%s' (1..%d printable characters, "
		            "no blanks)", name, ROOST_NAME_MAX);
	for (i = 1; i < cfg->rc_ngroups; i++)
		if (strcmp(cfg->rc_groups[i].rg_name, name) == 0)
			return fail(ps, "group '%s' defined twice (first at line %d)",
			            name, cfg->rc_groups[i].rg_line);
	if (cfg->rc_ngroups > RD_MAX_GROUPS)
		return fail(ps, "too many groups (at most %d)", RD_MAX_GROUPS);
	ps->ps_index = cfg->rc_ngroups++;
	group_init(&cfg->rc_groups[ps->ps_index], name, ps->ps_header_line);
	ps->ps_sec = SEC_GROUP;
	return 1;
}

/* --- [actor NAME] ---------------------------------------------------- */

/* program: an absolute path to an executable regular file. */
static int
set_program(struct parse *ps, struct rd_actor *a, const char *v)
{
	struct stat st;
	int err = 0;

	if (v[0] != '/')
		return fail(ps, "program '%s' must be an absolute path", v);
	if (stat(v, &st) != 0)
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	else if (!S_ISREG(st.st_mode))
		err = EACCES; /* what execve() would say */
	else if (access(v, X_OK) != 0)
		err = errno;
	if (err != 0)
		return fail(ps, "program '%s' is not an executable file: %s", v,
		            strerror(err));
	a->ra_program = dup_str(v);
	if (a->ra_program == NULL)
		return out_of_memory(ps);
	a->ra_argv[0] = a->ra_program;
	return 1;
}

/* args: split on blanks into ra_argv[1..]; ra_argc counts what is
 * allocated, so rd_config_free() frees exactly that after any error. */
static int
set_args(struct parse *ps, struct rd_actor *a, const char *v)
{
	char *copy = dup_str(v);
	char *save = NULL;
	char *tok;
	int rc = 1;

	if (copy == NULL)
		return out_of_memory(ps);
	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (a->ra_argc > RD_MAX_ARGS) {
			rc = fail(ps, "too many args (at most %d)", RD_MAX_ARGS);
			break;
		}
		a->ra_argv[a->ra_argc] = dup_str(tok);
		if (a->ra_argv[a->ra_argc] == NULL) {
			rc = out_of_memory(ps);
			break;
		}
		a->ra_argc++;
	}
	roost__free(copy);
	return rc;
}

/* count: the pool members are NAME.1 .. NAME.N, and must be valid names. */
static int
set_count(struct parse *ps, struct rd_actor *a, const char *v)
{
	int n;

	if (!set_u32(ps, K_COUNT, v, 1, RD_POOL_MAX, &a->ra_count))
		return 0;
	n = snprintf(NULL, 0, "%s.%u", a->ra_name, a->ra_count);
	if (a->ra_count > 1 && n > ROOST_NAME_MAX)
		return fail(ps, "pool member name '%s.%u' is longer than %d "
		            "characters", a->ra_name, a->ra_count,
		            ROOST_NAME_MAX);
	return 1;
}

/* group: a [group] section anywhere in the file; finish() resolves it. */
static int
set_group_ref(struct parse *ps, const char *v)
{
	if (!roost__name_valid(v))
		return fail(ps, "bad group name '%s' (1..%d printable characters, "
		            "no blanks)", v, ROOST_NAME_MAX);
	snprintf(ps->ps_group_ref[ps->ps_index],
	         sizeof(ps->ps_group_ref[ps->ps_index]), "%s", v);
	ps->ps_group_line[ps->ps_index] = ps->ps_line;
	return 1;
}

static int
actor_key(struct parse *ps, enum key k, const char *v)
{
	struct rd_actor *a = &ps->ps_cfg->rc_actors[ps->ps_index];
	int r;

	switch (k) {
	case K_PROGRAM:
		return set_program(ps, a, v);
	case K_ARGS:
		return set_args(ps, a, v);
	case K_COUNT:
		return set_count(ps, a, v);
	case K_RESTART:
		r = name_index(restart_names, 3, v);
		if (r < 0)
			return fail(ps, "bad restart '%s' (permanent, transient or "
			            "temporary)", v);
		a->ra_restart = (enum rd_restart)r;
		return 1;
	case K_DAEMON:
		return set_bool(ps, k, v, &a->ra_daemon);
	case K_MAILBOX_BYTES:
		return set_u32(ps, k, v, ROOST_RING_MIN, ROOST_RING_MAX,
		               &a->ra_mbox_bytes);
	case K_SHUTDOWN_MS:
		return set_u32(ps, k, v, 0, RD_SHUTDOWN_MS_MAX,
		               &a->ra_shutdown_ms);
	case K_ORDER:
		return set_i32(ps, k, v, &a->ra_order);
	case K_GROUP:
		return set_group_ref(ps, v);
	default:
		return fail(ps, "internal error: key '%s' in an actor",
		            key_defs[k].kd_name);
	}
}

static int
begin_actor(struct parse *ps, const char *name)
{
	struct rd_config *cfg = ps->ps_cfg;
	struct rd_actor *a;
	int i;

	if (!roost__name_valid(name))
		return fail(ps, "bad actor name '%s' (1..%d printable characters, "
		            "no blanks)", name, ROOST_NAME_MAX);
	for (i = 0; i < cfg->rc_nactors; i++)
		if (strcmp(cfg->rc_actors[i].ra_name, name) == 0)
			return fail(ps, "actor '%s' defined twice (first at line %d)",
			            name, cfg->rc_actors[i].ra_line);
	if (cfg->rc_nactors == RD_MAX_ACTORS)
		return fail(ps, "too many [actor] sections (at most %d; a "
		            "pool is one)", RD_MAX_ACTORS);
	ps->ps_index = cfg->rc_nactors++;
	a = &cfg->rc_actors[ps->ps_index];
	snprintf(a->ra_name, sizeof(a->ra_name), "%s", name);
	a->ra_argc = 1; /* ra_argv[0] is the program */
	a->ra_restart = RD_PERMANENT;
	a->ra_count = 1;
	a->ra_shutdown_ms = ROOST_SHUTDOWN_MS_DEF;
	a->ra_line = ps->ps_header_line;
	ps->ps_sec = SEC_ACTOR;
	return 1;
}

/* --- [gateway] ------------------------------------------------------ */

static int
begin_gateway(struct parse *ps)
{
	struct rd_gateway *g = &ps->ps_cfg->rc_gateway;

	if (g->gw_enabled)
		return fail(ps, "[gateway] given twice (first at line %d)",
		            g->gw_line);
	g->gw_enabled = true;
	g->gw_line = ps->ps_header_line;
	ps->ps_sec = SEC_GATEWAY;
	return 1;
}

static int
gateway_entry(struct parse *ps, const char *key, const char *val)
{
	char why[256];
	int rc;

	rc = rd_gateway_key(&ps->ps_cfg->rc_gateway, key, val, why,
	                    sizeof(why));
	if (rc < 0)
		return fail(ps, "unknown key '%s' in [gateway]", key);
	if (rc == 0)
		return fail(ps, "%s", why);
	return 1;
}

/* --- [metrics] (config_metrics.c) ---------------------------------- */

static int
begin_metrics(struct parse *ps)
{
	struct rd_metrics_cfg *m = &ps->ps_cfg->rc_metrics;

	if (m->mc_enabled)
		return fail(ps, "[metrics] given twice (first at line %d)",
		            m->mc_line);
	m->mc_enabled = true;
	m->mc_line = ps->ps_header_line;
	ps->ps_sec = SEC_METRICS;
	return 1;
}

static int
metrics_entry(struct parse *ps, const char *key, const char *val)
{
	char why[256];
	int rc;

	rc = rd_metrics_key(&ps->ps_cfg->rc_metrics, key, val, why,
	                    sizeof(why));
	if (rc < 0)
		return fail(ps, "unknown key '%s' in [metrics]", key);
	if (rc == 0)
		return fail(ps, "%s", why);
	return 1;
}

/* The gateway as the first actor to start (and so the last to stop):
 * "gateway --config PATH". Returns 1 or 0. */
static int
add_gateway_actor(struct parse *ps)
{
	struct rd_config *cfg = ps->ps_cfg;
	struct rd_gateway *g = &cfg->rc_gateway;
	struct rd_actor *a;
	char why[256];

	if (!rd_gateway_check(g, why, sizeof(why)))
		return fail_at(ps, g->gw_line, "%s", why);
	if (cfg->rc_nactors == RD_MAX_ACTORS)
		return fail_at(ps, g->gw_line, "too many actors (at most %d)",
		               RD_MAX_ACTORS);
	a = &cfg->rc_actors[cfg->rc_nactors++];
	memset(a, 0, sizeof(*a));
	snprintf(a->ra_name, sizeof(a->ra_name), "%s", ROOST__GATEWAY_NAME);
	a->ra_program = dup_str(g->gw_program);
	a->ra_argv[0] = a->ra_program;
	a->ra_argc = 1;
	if (a->ra_program == NULL)
		return out_of_memory(ps);
	a->ra_argv[a->ra_argc] = dup_str("--config");
	if (a->ra_argv[a->ra_argc] == NULL)
		return out_of_memory(ps);
	a->ra_argc++;
	a->ra_argv[a->ra_argc] = dup_str(ps->ps_abs_path);
	if (a->ra_argv[a->ra_argc] == NULL)
		return out_of_memory(ps);
	a->ra_argc++;
	a->ra_restart = RD_PERMANENT;
	a->ra_count = 1;
	a->ra_shutdown_ms = RD_GATEWAY_SHUTDOWN_MS;
	a->ra_mbox_bytes = RD_GATEWAY_MBOX_BYTES;
	a->ra_order = INT32_MIN;
	a->ra_line = g->gw_line;
	return 1;
}

/* --- the inih side --------------------------------------------------- */

/* Note whether the line just read is indented or a "[...]" header. An
 * indented line right after a key is a continuation for inih, never a
 * header, so it is not noted as one. */
static void
note_line(struct parse *ps)
{
	const char *p = ps->ps_buf;
	size_t n;

	if (ps->ps_line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* a UTF-8 byte order mark, which inih skips */
	ps->ps_indented = isspace((unsigned char)*p);
	if (ps->ps_indented && ps->ps_prev_key[0] != '\0')
		return;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '[')
		return;
	p++;
	n = strcspn(p, "]\n");
	ps->ps_header_long = n >= sizeof(ps->ps_header);
	if (ps->ps_header_long)
		n = sizeof(ps->ps_header) - 1;
	memcpy(ps->ps_header, p, n);
	ps->ps_header[n] = '\0';
	ps->ps_header_line = ps->ps_line;
	ps->ps_prev_key[0] = '\0';
}

/*
 * inih's reader (fgets-like): one whole line into 'str' (size 'num').
 * Returns NULL at the end of the file, after a read error, for a line
 * longer than inih's buffer, and once an error is recorded (which ends
 * the parse there).
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	ssize_t n;

	if (ps->ps_failed)
		return NULL;
	errno = 0;
	n = getline(&ps->ps_buf, &ps->ps_bufsz, ps->ps_file);
	if (n < 0) {
		if (!feof(ps->ps_file)) {
			ps->ps_errno = errno != 0 ? errno : EIO;
			fail_at(ps, 0, "cannot read: %s", strerror(errno));
		}
		return NULL;
	}
	ps->ps_line++;
	if (num < 2 || (size_t)n > (size_t)num - 1) {
		fail(ps, "line too long (at most %d characters)", num - 2);
		return NULL;
	}
	memcpy(str, ps->ps_buf, (size_t)n + 1);
	note_line(ps);
	return str;
}

/* The first key of a section: start filling what its header names. */
static int
begin_section(struct parse *ps, const char *section, const char *key)
{
	const char *h = ps->ps_header;

	ps->ps_cur_header = ps->ps_header_line;
	ps->ps_sec = SEC_NONE;
	ps->ps_seen = 0;
	if (ps->ps_header_line == 0)
		return fail(ps, "key '%s' comes before any section", key);
	if (ps->ps_header_long)
		return fail(ps, "section header [%.40s...] is too long", h);
	if (strncmp(h, section, strlen(section)) != 0)
		return fail(ps, "cannot make out the section header [%s]", h);
	if (strcmp(h, "system") == 0)
		return begin_system(ps);
	if (strcmp(h, "gateway") == 0)
		return begin_gateway(ps);
	if (strcmp(h, "metrics") == 0)
		return begin_metrics(ps);
	if (strncmp(h, "group ", 6) == 0)
		return begin_group(ps, h + 6);
	if (strncmp(h, "actor ", 6) == 0)
		return begin_actor(ps, h + 6);
	if (strcmp(h, "group") == 0 || strcmp(h, "actor") == 0)
		return fail(ps, "section [%s] needs a name: [%s NAME]", h, h);
	return fail(ps, "unknown section [%s]", h);
}

/* The key's index if section kind 'sec' has it, else -1. */
static int
key_lookup(const char *key, enum section sec)
{
	int k;

	for (k = 0; k < K_NKEYS; k++)
		if ((key_defs[k].kd_in & (1u << sec)) != 0 &&
		    strcmp(key_defs[k].kd_name, key) == 0)
			return k;
	return -1;
}

/* inih's handler: one "key = value" of 'section'. Returns 1, or 0 after
 * recording an error. */
static int
on_entry(void *user, const char *section, const char *key, const char *val)
{
	struct parse *ps = user;
	bool fresh = ps->ps_header_line != ps->ps_cur_header;
	bool again = strcmp(key, ps->ps_prev_key) == 0;
	int k;

	if (ps->ps_failed)
		return 0;
	if (!fresh && ps->ps_indented && again)
		return fail(ps, "an indented line continues the value of '%s' "
		            "(values are one line: remove the indentation)", key);
	snprintf(ps->ps_prev_key, sizeof(ps->ps_prev_key), "%s", key);
	if (fresh && !begin_section(ps, section, key))
		return 0;
	if (ps->ps_sec == SEC_GATEWAY)
		return val[0] == '\0' ? fail(ps, "empty value for '%s'", key)
		                      : gateway_entry(ps, key, val);
	if (ps->ps_sec == SEC_METRICS)
		return val[0] == '\0' ? fail(ps, "empty value for '%s'", key)
		                      : metrics_entry(ps, key, val);
	k = key_lookup(key, ps->ps_sec);
	if (k < 0)
		return fail(ps, "unknown key '%s' in [%s]", key, ps->ps_header);
	if ((ps->ps_seen & (1u << k)) != 0)
		return fail(ps, "key '%s' set twice", key);
	ps->ps_seen |= 1u << k;
	if (val[0] == '\0')
		return fail(ps, "empty value for '%s'", key);
	switch (ps->ps_sec) {
	case SEC_SYSTEM:
		return system_key(ps, (enum key)k, val);
	case SEC_GROUP:
		return policy_key(ps, &ps->ps_cfg->rc_groups[ps->ps_index],
		                  (enum key)k, val);
	case SEC_ACTOR:
		return actor_key(ps, (enum key)k, val);
	default:
		return fail(ps, "internal error: no section");
	}
}

/* --- whole-file checks ----------------------------------------------- */

/* Every actor has a program; '*total' is their number counting pool
 * members (finish() checks it against the table). Returns 1 or 0. */
static int
check_actors(struct parse *ps, uint32_t *total)
{
	struct rd_config *cfg = ps->ps_cfg;
	struct rd_actor *a;
	int i;

	*total = 0;
	for (i = 0; i < cfg->rc_nactors; i++) {
		a = &cfg->rc_actors[i];
		if (a->ra_program == NULL)
			return fail_at(ps, a->ra_line, "actor '%s' has no program",
			               a->ra_name);
		*total += a->ra_count; /* < RD_MAX_ACTORS * RD_POOL_MAX */
	}
	return 1;
}

/* Turn each actor's "group =" name into an index in rc_groups. */
static int
resolve_groups(struct parse *ps)
{
	struct rd_config *cfg = ps->ps_cfg;
	int i;
	int g;

	for (i = 0; i < cfg->rc_nactors; i++) {
		const char *want = ps->ps_group_ref[i];

		if (want[0] == '\0')
			continue;
		for (g = 1; g < cfg->rc_ngroups; g++)
			if (strcmp(cfg->rc_groups[g].rg_name, want) == 0)
				break;
		if (g == cfg->rc_ngroups)
			return fail_at(ps, ps->ps_group_line[i], "actor '%s': unknown "
			               "group '%s' (no [group %s] with keys)",
			               cfg->rc_actors[i].ra_name, want, want);
		cfg->rc_actors[i].ra_group = g;
	}
	return 1;
}

/* The pool 'a' has a member named 'name'. */
static bool
is_pool_member(const struct rd_actor *a, const char *name)
{
	size_t n = strlen(a->ra_name);
	const char *num = name + n + 1;
	char *end;
	unsigned long k;

	if (a->ra_count < 2 || strncmp(name, a->ra_name, n) != 0 ||
	    name[n] != '.' || *num < '1' || *num > '9')
		return false;
	k = strtoul(num, &end, 10);
	return *end == '\0' && k <= a->ra_count;
}

/* No actor takes the name of another's pool member. */
static int
check_pool_names(struct parse *ps)
{
	struct rd_config *cfg = ps->ps_cfg;
	int i;
	int j;

	for (i = 0; i < cfg->rc_nactors; i++) {
		const struct rd_actor *b = &cfg->rc_actors[i];

		if (b->ra_count != 1 || strchr(b->ra_name, '.') == NULL)
			continue;
		for (j = 0; j < cfg->rc_nactors; j++)
			if (is_pool_member(&cfg->rc_actors[j], b->ra_name))
				return fail_at(ps, b->ra_line, "actor '%s' has the "
				               "name of a member of pool '%s'",
				               b->ra_name, cfg->rc_actors[j].ra_name);
	}
	return 1;
}

/* Stable insertion sort by ra_order: file order breaks ties. */
static void
sort_by_order(struct rd_config *cfg)
{
	struct rd_actor tmp;
	int i;
	int j;

	for (i = 1; i < cfg->rc_nactors; i++) {
		tmp = cfg->rc_actors[i];
		for (j = i; j > 0 && cfg->rc_actors[j - 1].ra_order > tmp.ra_order;
		     j--)
			cfg->rc_actors[j] = cfg->rc_actors[j - 1];
		cfg->rc_actors[j] = tmp;
	}
}

/* The checks that need the whole file; then sort. Returns 1 or 0. */
static int
finish(struct parse *ps)
{
	struct rd_config *cfg = ps->ps_cfg;
	uint32_t slots = cfg->rc_sys.slots;
	uint32_t total;

	uint32_t own = RD_OWN_SLOTS;

	char why[256];

	if (!check_actors(ps, &total) || !resolve_groups(ps) ||
	    !check_pool_names(ps))
		return 0;
	if (cfg->rc_metrics.mc_enabled &&
	    !rd_metrics_check(&cfg->rc_metrics, why, sizeof(why)))
		return fail_at(ps, cfg->rc_metrics.mc_line, "%s", why);
	for (int i = 0; i < cfg->rc_nactors; i++)
		if (cfg->rc_gateway.gw_enabled &&
		    strcmp(cfg->rc_actors[i].ra_name, ROOST__GATEWAY_NAME) == 0)
			return fail_at(ps, cfg->rc_actors[i].ra_line, "actor name "
			               "'%s' is the gateway's ([gateway] at line "
			               "%d)", ROOST__GATEWAY_NAME,
			               cfg->rc_gateway.gw_line);
	if (cfg->rc_gateway.gw_enabled) {
		if (!add_gateway_actor(ps))
			return 0;
		total++;
		own += RD_GATEWAY_EXTRA_SLOTS;
	}
	if (total + own > slots)
		return fail_at(ps, ps->ps_slots_line, "%u actors (counting pool "
		               "members) do not fit in slots = %u: roostd and its "
		               "dead-letter mailbox%s take %u, leaving %u", total,
		               slots, cfg->rc_gateway.gw_enabled
		               ? " (and the gateway's delivery)" : "", own,
		               slots > own ? slots - own : 0);
	sort_by_order(cfg);
	return 1;
}

/* --- API ------------------------------------------------------------- */

bool
rd_config_names(const struct rd_config *cfg, const char *name)
{
	const struct rd_actor *a;
	int i;

	for (i = 0; i < cfg->rc_nactors; i++) {
		a = &cfg->rc_actors[i];
		if (a->ra_count == 1 ? strcmp(a->ra_name, name) == 0
		                     : is_pool_member(a, name))
			return true;
	}
	return false;
}

void
rd_config_defaults(struct rd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	roost_sys_opts_init(&cfg->rc_sys);
	cfg->rc_timers = RD_TIMERS_DEF;
	group_init(&cfg->rc_groups[0], "", 0);
	cfg->rc_ngroups = 1;
	rd_gateway_defaults(&cfg->rc_gateway);
	rd_metrics_defaults(&cfg->rc_metrics);
}

/*
 * Preconditions: 'cfg' holds nothing to free (it is overwritten with the
 * defaults first). On return the caller owns what 'cfg' holds, success
 * or not, and frees it with rd_config_free().
 */
int
rd_config_load(struct rd_config *cfg, const char *path)
{
	struct parse *ps;
	int line;
	int rc;

	rd_config_defaults(cfg);
	ps = roost__calloc(1, sizeof(*ps));
	if (ps == NULL) {
		snprintf(cfg->rc_error, sizeof(cfg->rc_error), "%s: out of memory",
		         path);
		rc = -ENOMEM;
		goto out;
	}
	ps->ps_cfg = cfg;
	ps->ps_path = path;
	ps->ps_cur_header = -1;
	ps->ps_file = fopen(path, "r");
	if (ps->ps_file == NULL ||
	    realpath(path, ps->ps_abs_path) == NULL) {
		rc = -errno;
		fail_at(ps, 0, "cannot open: %s", strerror(errno));
		if (ps->ps_file != NULL)
			fclose(ps->ps_file);
		goto out_free;
	}
	line = ini_parse_stream(read_line, ps, on_entry, ps);
	rc = -EINVAL;
	if (line == -2) {
		ps->ps_errno = ENOMEM;
		fail_at(ps, 0, "out of memory");
	} else if (line > 0 && (!ps->ps_failed ||
	                        (ps->ps_err_line > 0 && line < ps->ps_err_line))) {
		/* inih's own error, on a line before any of ours. */
		ps->ps_failed = false;
		fail_at(ps, line, "syntax error (not [section], key = value or a "
		        "comment)");
	}
	if (!ps->ps_failed && finish(ps))
		rc = 0;
	else if (ps->ps_errno != 0)
		rc = -ps->ps_errno;
	fclose(ps->ps_file);
out_free:
	free(ps->ps_buf);
	roost__free(ps);
out:
	return rc;
}

/* Free what 'cfg' holds; safe after a failed load, and twice. */
void
rd_config_free(struct rd_config *cfg)
{
	struct rd_actor *a;
	int i;
	int j;

	for (i = 0; i < cfg->rc_nactors; i++) {
		a = &cfg->rc_actors[i];
		for (j = 1; j < a->ra_argc; j++) {
			roost__free(a->ra_argv[j]);
			a->ra_argv[j] = NULL;
		}
		roost__free(a->ra_program);
		a->ra_program = NULL;
		a->ra_argv[0] = NULL;
		a->ra_argc = 0;
	}
	cfg->rc_nactors = 0;
}

const char *
rd_strategy_name(enum rd_strategy s)
{
	if ((unsigned)s >= sizeof(strategy_names) / sizeof(strategy_names[0]))
		return "?";
	return strategy_names[s];
}

const char *
rd_restart_name(enum rd_restart r)
{
	if ((unsigned)r >= sizeof(restart_names) / sizeof(restart_names[0]))
		return "?";
	return restart_names[r];
}
