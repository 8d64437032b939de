/* SPDX-License-Identifier: MIT */
/*
 * roostctl.c - the operator's tool: main, the global options, help and
 * exit codes, the errors every verb shares, and the verbs about whole
 * systems (systems, clean, version). See roostctl.h for the other parts
 * and docs/roostctl.1 for the manual.
 */
#include "roostctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: roostctl [--system NAME] [--json] VERB [ARGS...]\n"
    "\n"
    "Looking (never disturbs the system):\n"
    "  ls [--rate-ms MS]                 every actor: address, pid, state,\n"
    "                                    restarts, mailbox, in/out, rate\n"
    "  ls --node NODE                    another node's actors (its gateway)\n"
    "  inspect NAME|ADDRESS [--limit N] [--lane system|user] [--full]\n"
    "                                    a mailbox's header and queued\n"
    "                                    messages, oldest first\n"
    "  top [--interval MS] [--sort depth|rate|name|restarts] [--count N]\n"
    "                                    live view; q quits\n"
    "  deadletters [--limit N]           messages that killed their actor\n"
    "  timers                            roostd's live alarms\n"
    "  metrics [--top N | --no-actors]   one scrape, Prometheus text format\n"
    "  nodes                             other nodes, as the gateway sees "
    "them,\n"
    "                                    with round trips\n"
    "  systems                           this user's systems, live or stale,\n"
    "                                    and those a group shares with it\n"
    "  version\n"
    "\n"
    "Acting:\n"
    "  send NAME KIND [JSON] [--raw TEXT] [--system-lane] [--timeout MS]\n"
    "  call NAME KIND [JSON] [--raw TEXT] [--timeout MS]  (prints the reply)\n"
    "  spawn [--name N] [--restart permanent|transient|temporary]\n"
    "        [--daemon] [--mailbox-bytes N] [--shutdown-ms MS] PROGRAM "
    "[ARGS...]\n"
    "  stop NAME [--wait MS]             graceful: queued mail is handled\n"
    "  kill NAME                         SIGKILL, not restarted\n"
    "  deadletters --drain               drop every dead letter\n"
    "  shutdown [--no-wait]              stop the whole system\n"
    "  clean                             remove a stale system's leftovers\n"
    "\n"
    "NAME is an actor's name or its address SLOT.GEN (@SLOT.GEN: always an\n"
    "address). KIND is a number or a registered kind name. JSON is sent as\n"
    "MessagePack ({\"$bin\": \"hex\"} for bytes). --json prints one JSON\n"
    "document per line (docs/roostctl-json.md). The system is --system,\n"
    "else $ROOST_SYSTEM, else \"default\".\n"
    "\n"
    "Exit status:\n"
    "  0 success              6 bad JSON\n"
    "  1 usage error          7 permission denied\n"
    "  2 no such system       8 no roostd runs the system\n"
    "  3 stale system         9 timed out\n"
    "  4 unknown actor       10 refused or failed (the message says why)\n"
    "  5 corrupted shared memory\n";

static void
usage_short(void)
{
	fprintf(stderr, "usage: roostctl [--system NAME] [--json] VERB "
	                "[ARGS...]   (roostctl --help)\n");
}

int
ctl_err(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("roostctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
ctl_exit_of(int rc)
{
	switch (rc) {
	case 0:
		return CTL_OK;
	case ROOST_ECORRUPT:
	case ROOST_EVERSION:
		return CTL_CORRUPT;
	case ROOST_ESTALE:
		return CTL_STALE;
	case -EACCES:
	case -EPERM:
		return CTL_PERM;
	case -ENOTCONN:
		return CTL_NOROOSTD;
	case -ETIMEDOUT:
		return CTL_TIMEOUT;
	case -ESRCH:
		return CTL_NOACTOR;
	default:
		return CTL_FAILED;
	}
}

int
ctl_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	fputs("roostctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", roost_strerror(rc));
	return ctl_exit_of(rc);
}

int
ctl_orphaned(int code, const char *verb, const char *sys, const char *then)
{
	return ctl_err(code,
	               "%s: no roostd runs system '%s', but its actors do: "
	               "start roostd for it (roostd --system %s --config "
	               "FILE), which adopts them; %s",
	               verb, sys, sys, then);
}

int
ctl_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "roostctl %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (roostctl --help)\n", stderr);
	return CTL_USAGE;
}

bool
ctl_common_opt(struct ctl *c, int opt, const char *verb)
{
	switch (opt) {
	case 'j':
		c->c_json = true;
		return true;
	case 's':
		/* An empty name must not mean the default system: an unset
		 * variable in --system "$SYS" would act on the wrong one. */
		if (*optarg == '\0') {
			ctl_err(CTL_USAGE, "%s%s--system needs a name, got ''",
			        verb, *verb != '\0' ? ": " : "");
			usage_short();
			exit(CTL_USAGE);
		}
		c->c_system = optarg;
		return true;
	case 'h':
		fputs(usage_text, stdout);
		exit(CTL_OK);
	default:
		return false;
	}
}

/* The system's name for messages, before the view says. */
static const char *
sys_label(const struct ctl *c)
{
	const char *s = c->c_system;

	if (c->c_sysname[0] != '\0')
		return c->c_sysname;
	if (s == NULL || *s == '\0')
		s = getenv("ROOST_SYSTEM");
	return s != NULL && *s != '\0' ? s : "default";
}

int
ctl_view(struct ctl *c, bool allow_stale)
{
	roost_sysinfo_t si;
	int rc;

	if (c->c_view != NULL)
		return 0;
	rc = roost_view_open(&c->c_view, c->c_system);
	if (rc == -ENOENT)
		return ctl_err(CTL_NOSYS,
		               "no system '%s' for this user "
		               "('roostctl systems' lists them)",
		               sys_label(c));
	if (rc == -EINVAL)
		return ctl_err(CTL_USAGE,
		               "bad system name '%s' (1-31 of "
		               "A-Z a-z 0-9 _ -)",
		               sys_label(c));
	if (rc == -EACCES || rc == -EPERM)
		return ctl_err(CTL_PERM,
		               "permission denied: system '%s' "
		               "belongs to another user or is not readable",
		               sys_label(c));
	if (rc == ROOST_ECORRUPT || rc == ROOST_EVERSION)
		return ctl_err(CTL_CORRUPT,
		               "system '%s': its segment is "
		               "corrupted (%s)",
		               sys_label(c), roost_strerror(rc));
	if (rc < 0)
		return ctl_fail(rc, "cannot open system '%s'", sys_label(c));
	rc = roost_view_info(c->c_view, &si);
	if (rc < 0)
		return ctl_fail(rc, "system '%s'", sys_label(c));
	snprintf(c->c_sysname, sizeof(c->c_sysname), "%s", si.name);
	if (si.state == ROOST_SYS_STALE && !allow_stale)
		return ctl_err(CTL_STALE,
		               "system '%s' is stale: no roostd and "
		               "no live actor (roostd pid %d gone); remove it "
		               "with: roostctl --system %s clean",
		               si.name, (int)si.roostd_pid, si.name);
	return 0;
}

int
ctl_connect(struct ctl *c)
{
	roost_ctx_opts_t o;
	int rc;

	if (c->c_ctx != NULL)
		return 0;
	rc = ctl_view(c, false);
	if (rc != 0)
		return rc;
	roost_ctx_opts_init(&o);
	o.system = c->c_sysname;
	o.mbox_bytes = 4096; /* replies come on the system lane */
	rc = roost_ctx_open(&c->c_ctx, &o);
	if (rc < 0)
		return ctl_fail(rc, "cannot attach to system '%s'",
		                c->c_sysname);
	return 0;
}

/* "name@node": asked of the node through the gateway. */
static int
find_remote(struct ctl *c, const char *spec, roost_aid_t *out)
{
	int rc = ctl_connect(c);

	if (rc != 0)
		return rc;
	rc = roost_whereis(c->c_ctx, spec, out);
	if (rc == 0)
		return 0;
	if (rc == -ENOENT)
		return ctl_err(CTL_NOACTOR, "no actor '%s' (its node has no "
		               "such name)", spec);
	if (rc == -EHOSTUNREACH)
		return ctl_fail(rc, "looking up '%s': unknown node, or no "
		                "gateway in system '%s'", spec, c->c_sysname);
	if (rc == -ENOTCONN)
		return ctl_fail(rc, "looking up '%s': the node is down or the "
		                "gateway is not connected", spec);
	return ctl_fail(rc, "looking up '%s'", spec);
}

int
ctl_find(struct ctl *c, const char *spec, roost_aid_t *out)
{
	int rc;

	if (spec[0] != '@' && strchr(spec, '@') != NULL)
		return find_remote(c, spec, out); /* "@SLOT.GEN" is local */
	rc = ctl_view(c, false);

	if (rc != 0)
		return rc;
	rc = roost_view_find(c->c_view, spec, out);
	if (rc == 0)
		return 0;
	if (rc == -ESRCH)
		return ctl_err(CTL_NOACTOR,
		               "no actor at address '%s' in system "
		               "'%s'",
		               spec, c->c_sysname);
	if (rc == -ENOENT || rc == -EINVAL)
		return ctl_err(CTL_NOACTOR,
		               "no actor '%s' in system '%s' "
		               "('roostctl ls' lists them)",
		               spec, c->c_sysname);
	return ctl_fail(rc, "looking up '%s'", spec);
}

void
ctl_close(struct ctl *c)
{
	if (c->c_ctx != NULL)
		roost_ctx_close(c->c_ctx);
	roost_view_close(c->c_view);
	c->c_ctx = NULL;
	c->c_view = NULL;
}

int
ctl_parse_u64(const char *verb, const char *what, const char *s, uint64_t max,
              uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (s == NULL || *s == '\0' || *s == '-')
		return ctl_usage(verb, "%s: expected a number, got '%s'", what,
		                 s ? s : "");
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return ctl_usage(verb,
		                 "%s: expected a number up to %llu, got "
		                 "'%s'",
		                 what, (unsigned long long)max, s);
	*out = v;
	return 0;
}

int
ctl_parse_kind(struct ctl *c, const char *verb, const char *s, uint32_t *out)
{
	uint64_t v;
	int rc;

	if (*s >= '0' && *s <= '9') {
		rc = ctl_parse_u64(verb, "KIND", s, UINT32_MAX, &v);
		if (rc == 0)
			*out = (uint32_t)v;
		return rc;
	}
	rc = ctl_view(c, false);
	if (rc != 0)
		return rc;
	if (roost_view_kind_lookup(c->c_view, s, out) == 0)
		return 0;
	return ctl_usage(verb,
	                 "KIND '%s' is neither a number nor a kind "
	                 "name registered in system '%s'",
	                 s, c->c_sysname);
}

/* --- names ------------------------------------------------------------- */

static int
name_one(void *arg, const roost_actor_info_t *a)
{
	struct ctl_names *nm = arg;
	roost_aid_t *aid;
	char(*name)[ROOST_NAME_MAX + 1];

	if (a->name[0] == '\0')
		return 0;
	aid = realloc(nm->cn_aid, (nm->cn_n + 1) * sizeof(*aid));
	if (aid == NULL)
		return -ENOMEM;
	nm->cn_aid = aid;
	name = realloc(nm->cn_name, (nm->cn_n + 1) * sizeof(*name));
	if (name == NULL)
		return -ENOMEM;
	nm->cn_name = name;
	nm->cn_aid[nm->cn_n] = a->aid;
	snprintf(nm->cn_name[nm->cn_n], sizeof(*nm->cn_name), "%s", a->name);
	nm->cn_n++;
	return 0;
}

int
ctl_names_load(struct ctl *c, struct ctl_names *nm)
{
	int rc;

	memset(nm, 0, sizeof(*nm));
	rc = roost_view_actors(c->c_view, name_one, nm);
	return rc < 0 ? rc : 0;
}

const char *
ctl_names_get(const struct ctl_names *nm, roost_aid_t aid)
{
	size_t i;

	for (i = 0; nm != NULL && i < nm->cn_n; i++)
		if (nm->cn_aid[i].id == aid.id)
			return nm->cn_name[i];
	return NULL;
}

void
ctl_names_free(struct ctl_names *nm)
{
	free(nm->cn_aid);
	free(nm->cn_name);
	memset(nm, 0, sizeof(*nm));
}

/* --- systems, clean, version ------------------------------------------ */

struct sys_list {
	struct ctl *sl_ctl;
	json_t *sl_arr;
	int sl_n;
};

static const char *
err_class(int err)
{
	switch (ctl_exit_of(err)) {
	case CTL_PERM:
		return "permission denied";
	case CTL_CORRUPT:
		return "corrupted";
	default:
		return roost_strerror(err);
	}
}

static int
sys_one(void *arg, const roost_sysinfo_t *s, int err)
{
	struct sys_list *sl = arg;
	char age[32];
	char beat[32];
	char clean[96];
	json_t *o;
	uint64_t now_rt;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_rt = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	snprintf(clean, sizeof(clean), "roostctl --system %s clean", s->name);
	if (sl->sl_ctl->c_json) {
		if (err != 0) {
			o = json_pack("{s:s, s:n, s:s}", "name", s->name,
			              "state", "error", err_class(err));
		} else {
			o = ctl_sysinfo_json(s);
			json_object_set_new(o, "clean",
			                    s->state == ROOST_SYS_STALE
			                        ? json_string(clean)
			                        : json_null());
		}
		json_array_append_new(sl->sl_arr, o);
	} else {
		if (sl->sl_n++ == 0)
			printf("%-20s %-9s %7s %6s %10s %9s  %s\n", "SYSTEM",
			       "STATE", "ROOSTD", "ACTORS", "AGE", "HEARTBEAT",
			       "NOTE");
		if (err != 0) {
			printf("%-20s %-9s %7s %6s %10s %9s  %s\n", s->name,
			       "?", "-", "-", "-", "-", err_class(err));
			return 0;
		}
		ctl_fmt_age(now_rt > s->created_unix_ns
		                ? now_rt - s->created_unix_ns
		                : 0,
		            age, sizeof(age));
		ctl_fmt_age(s->heartbeat_age_ns, beat, sizeof(beat));
		printf("%-20s %-9s %7d %6u %10s %9s  %s\n", s->name,
		       roost_sys_state_name(s->state), (int)s->roostd_pid,
		       s->live_actors, age, beat,
		       s->state == ROOST_SYS_STALE ? clean
		       : s->state == ROOST_SYS_ORPHANED
		           ? "no roostd: start one to adopt the actors"
		       : s->state == ROOST_SYS_HUNG ? "roostd does not answer"
		                                    : "");
	}
	return 0;
}

static int
ctl_systems(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {CTL_COMMON_OPTS, {0}};
	struct sys_list sl = {c, NULL, 0};
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+jh", opts, NULL)) != -1)
		if (!ctl_common_opt(c, opt, "systems"))
			return ctl_usage("systems", "unknown option");
	if (optind != argc)
		return ctl_usage("systems", "takes no arguments");
	if (c->c_json)
		sl.sl_arr = json_array();
	rc = roost_systems_list(sys_one, &sl);
	if (rc < 0) {
		json_decref(sl.sl_arr);
		return ctl_fail(rc, "cannot list /dev/shm");
	}
	if (c->c_json)
		ctl_json_print(json_pack("{s:o}", "systems", sl.sl_arr));
	else if (sl.sl_n == 0)
		printf("no roost systems for uid %u\n", (unsigned)geteuid());
	return CTL_OK;
}

static int
ctl_clean(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {CTL_COMMON_OPTS, {0}};
	roost_sysinfo_t si;
	char then[96];
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+js:h", opts, NULL)) != -1)
		if (!ctl_common_opt(c, opt, "clean"))
			return ctl_usage("clean", "unknown option");
	if (optind != argc)
		return ctl_usage("clean", "takes no arguments");
	rc = ctl_view(c, true);
	if (rc != 0)
		return rc;
	rc = roost_view_info(c->c_view, &si);
	roost_view_close(c->c_view);
	c->c_view = NULL;
	if (rc < 0)
		return ctl_fail(rc, "system '%s'", c->c_sysname);
	rc = roost_system_clean(c->c_sysname);
	if (rc == -EBUSY && si.state == ROOST_SYS_ORPHANED) {
		/* Not "shutdown": it needs a roostd, and there is none. */
		snprintf(then, sizeof(then),
		         "then 'roostctl --system %s shutdown' stops them",
		         c->c_sysname);
		return ctl_orphaned(CTL_FAILED, "clean", c->c_sysname, then);
	}
	if (rc == -EBUSY)
		return ctl_err(
		    CTL_FAILED,
		    "system '%s' is not stale (roostd or "
		    "an actor still runs): not removed; stop it with "
		    "'roostctl --system %s shutdown'",
		    c->c_sysname, c->c_sysname);
	if (rc < 0)
		return ctl_fail(rc, "cannot remove system '%s'", c->c_sysname);
	if (c->c_json)
		ctl_json_print(json_pack("{s:s}", "removed", c->c_sysname));
	else
		printf("removed stale system '%s'\n", c->c_sysname);
	return CTL_OK;
}

static int
print_version(const struct ctl *c)
{
	if (c->c_json)
		ctl_json_print(json_pack("{s:s, s:s, s:i}", "roostctl",
		                         roost_version(), "libroost",
		                         roost_version(), "json_schema", 1));
	else
		printf("roostctl %s (libroost %s)\n", roost_version(),
		       roost_version());
	return CTL_OK;
}

static int
ctl_version(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {CTL_COMMON_OPTS, {0}};
	int opt;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+js:h", opts, NULL)) != -1)
		if (!ctl_common_opt(c, opt, "version"))
			return ctl_usage("version", "unknown option");
	if (optind != argc)
		return ctl_usage("version", "takes no arguments");
	return print_version(c);
}

/* --- main ------------------------------------------------------------- */

struct verb {
	const char *v_name;
	int (*v_fn)(struct ctl *c, int argc, char **argv);
};

static const struct verb verbs[] = {
    {"ls", ctl_ls},
    {"inspect", ctl_inspect},
    {"top", ctl_top},
    {"send", ctl_send},
    {"call", ctl_call},
    {"spawn", ctl_spawn},
    {"stop", ctl_stop},
    {"kill", ctl_kill},
    {"timers", ctl_timers},
    {"metrics", ctl_metrics},
    {"nodes", ctl_nodes},
    {"deadletters", ctl_deadletters},
    {"shutdown", ctl_shutdown},
    {"systems", ctl_systems},
    {"clean", ctl_clean},
    {"version", ctl_version},
    {NULL, NULL},
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	struct ctl c;
	const struct verb *v;
	bool version = false;
	int opt;
	int rc;

	memset(&c, 0, sizeof(c));
	while ((opt = getopt_long(argc, argv, "+js:hV", opts, NULL)) != -1) {
		if (opt == 'V') {
			version = true;
			continue;
		}
		if (!ctl_common_opt(&c, opt, "")) {
			usage_short();
			return CTL_USAGE;
		}
	}
	if (version) {
		if (optind != argc)
			return ctl_usage("--version", "takes no arguments");
		return print_version(&c);
	}
	if (optind >= argc) {
		usage_short();
		return CTL_USAGE;
	}
	for (v = verbs; v->v_name != NULL; v++)
		if (strcmp(v->v_name, argv[optind]) == 0)
			break;
	if (v->v_name == NULL) {
		ctl_err(CTL_USAGE, "unknown verb '%s'", argv[optind]);
		usage_short();
		return CTL_USAGE;
	}
	rc = v->v_fn(&c, argc - optind, argv + optind);
	ctl_close(&c);
	if (fflush(stdout) != 0 && rc == CTL_OK)
		rc = CTL_FAILED;
	return rc;
}
