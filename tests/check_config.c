/* SPDX-License-Identifier: MIT */
/*
 * check_config.c - roostd's configuration parser (daemon/config.c), driven
 * directly: a full valid file with every key, the defaults, start-order
 * sorting, and one test per class of bad file, each checking the exact
 * "PATH:LINE: " prefix of the error and a distinctive part of it.
 */
#include "test_util.h"

#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>

/* 100 KiB: static, not on the stack. Every test frees it. */
static struct rd_config cfg;
static char cfg_path[64];

/* Write 'body' to a new file under /tmp; its name goes to cfg_path. */
static void
write_cfg(const char *body)
{
	size_t n = strlen(body);
	int fd;

	snprintf(cfg_path, sizeof(cfg_path), "/tmp/check_config.XXXXXX");
	fd = mkstemp(cfg_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, body, n), (ssize_t)n);
	ck_assert_int_eq(close(fd), 0);
}

/* rd_config_load() of 'body' into cfg; the file is gone on return. */
static int
load(const char *body)
{
	int rc;

	write_cfg(body);
	rc = rd_config_load(&cfg, cfg_path);
	unlink(cfg_path);
	return rc;
}

/* Loading 'path' fails with "PATH:LINE: " ("PATH: " if 'line' is 0) and
 * 'what' after it. Frees cfg, twice (which must be harmless). */
static void
expect_error_at(const char *path, int line, const char *what)
{
	char prefix[128];
	size_t n;

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	n = strlen(prefix);
	ck_assert_msg(strncmp(cfg.rc_error, prefix, n) == 0,
	              "want prefix '%s', got '%s'", prefix, cfg.rc_error);
	ck_assert_msg(strstr(cfg.rc_error + n, what) != NULL,
	              "want '%s' in '%s'", what, cfg.rc_error);
	rd_config_free(&cfg);
	rd_config_free(&cfg);
}

/* 'body' is refused at 'line' with 'what' in the message. */
static void
expect_error(const char *body, int line, const char *what)
{
	int rc = load(body);

	ck_assert_msg(rc == -EINVAL, "loaded, want '%s' at line %d:\n%s", what,
	              line, body);
	expect_error_at(cfg_path, line, what);
}

/* 'body' loads; the caller checks cfg and frees it. */
static void
expect_ok(const char *body)
{
	int rc = load(body);

	ck_assert_msg(rc == 0, "%s\n---\n%s", cfg.rc_error, body);
}

/* A name of 'n' characters, "aaa...". */
static const char *
long_name(size_t n)
{
	static char buf[ROOST_NAME_MAX + 16];

	ck_assert_uint_lt(n, sizeof(buf));
	memset(buf, 'a', n);
	buf[n] = '\0';
	return buf;
}

/* --- valid files ----------------------------------------------------- */

static const char full_cfg[] =
	"; every key of every section\n"             /*  1 */
	"[system]\n"                                 /*  2 */
	"slots = 64\n"                               /*  3 */
	"mailbox_bytes = 8192\n"                     /*  4 */
	"max_message = 4096      ; a comment\n"      /*  5 */
	"group = root\n"                             /*  6 */
	"timers = 1024\n"                            /*  7 */
	"strategy = rest_for_one\n"                  /*  8 */
	"intensity = 7\n"                            /*  9 */
	"period = 30\n"                              /* 10 */
	"\n"                                         /* 11 */
	"[actor late]\n"                             /* 12 */
	"program = /bin/true\n"                      /* 13 */
	"args = -a  b\tc\n"                          /* 14 */
	"count = 3\n"                                /* 15 */
	"restart = transient\n"                      /* 16 */
	"daemon = yes\n"                             /* 17 */
	"mailbox_bytes = 16384\n"                    /* 18 */
	"shutdown_timeout_ms = 250\n"                /* 19 */
	"order = 10\n"                               /* 20 */
	"group = workers         ; defined below\n"  /* 21 */
	"[actor first]\n"                            /* 22 */
	"program = /bin/true\n"                      /* 23 */
	"order = -2147483648\n"                      /* 24 */
	"daemon = 1\n"                               /* 25 */
	"# a comment line\n"                         /* 26 */
	"[actor tie1]\n"                             /* 27 */
	"order = 10\n"                               /* 28 */
	"program = /bin/true\n"                      /* 29 */
	"restart = temporary\n"                      /* 30 */
	"daemon = false\n"                           /* 31 */
	"group = solo\n"                             /* 32 */
	"[group workers]\n"                          /* 33 */
	"strategy = one_for_all\n"                   /* 34 */
	"intensity = 0\n"                            /* 35 */
	"period = 3600\n"                            /* 36 */
	"[actor plain]\n"                            /* 37 */
	"program = /bin/true\n"                      /* 38 */
	"daemon = no\n"                              /* 39 */
	"[actor tie2]\n"                             /* 40 */
	"program = /bin/true\n"                      /* 41 */
	"order = 10\n"                               /* 42 */
	"daemon = true\n"                            /* 43 */
	"group = workers\n"                          /* 44 */
	"[group solo]\n"                             /* 45 */
	"period = 1\n"                               /* 46 */
	"[actor last]\n"                             /* 47 */
	"program = /bin/true\n"                      /* 48 */
	"order = 2147483647\n"                       /* 49 */
	"daemon = 0\n";                              /* 50 */

static void
check_actor(const struct rd_actor *a, const char *name, int line,
            int32_t order, bool daemon, int group)
{
	ck_assert_str_eq(a->ra_name, name);
	ck_assert_int_eq(a->ra_line, line);
	ck_assert_int_eq(a->ra_order, order);
	ck_assert_int_eq(a->ra_daemon, daemon);
	ck_assert_int_eq(a->ra_group, group);
	ck_assert_str_eq(a->ra_program, "/bin/true");
	ck_assert_ptr_eq(a->ra_argv[0], a->ra_program);
	ck_assert_ptr_null(a->ra_argv[a->ra_argc]);
}

START_TEST(test_config_full)
{
	const struct rd_actor *a;
	const struct rd_group *g;

	expect_ok(full_cfg);
	ck_assert_uint_eq(cfg.rc_sys.slots, 64);
	ck_assert_uint_eq(cfg.rc_sys.mbox_bytes, 8192);
	ck_assert_uint_eq(cfg.rc_sys.max_msg, 4096);
	ck_assert_uint_eq(cfg.rc_sys.mode, 0660);
	ck_assert_str_eq(cfg.rc_unix_group, "root");
	ck_assert_uint_eq(cfg.rc_timers, 1024);

	ck_assert_int_eq(cfg.rc_ngroups, 3);
	g = &cfg.rc_groups[0];
	ck_assert_str_eq(g->rg_name, "");
	ck_assert_int_eq(g->rg_strategy, RD_REST_FOR_ONE);
	ck_assert_uint_eq(g->rg_intensity, 7);
	ck_assert_uint_eq(g->rg_period_s, 30);
	ck_assert_int_eq(g->rg_line, 0);
	g = &cfg.rc_groups[1];
	ck_assert_str_eq(g->rg_name, "workers");
	ck_assert_int_eq(g->rg_strategy, RD_ONE_FOR_ALL);
	ck_assert_uint_eq(g->rg_intensity, 0);
	ck_assert_uint_eq(g->rg_period_s, 3600);
	ck_assert_int_eq(g->rg_line, 33);
	g = &cfg.rc_groups[2];
	ck_assert_str_eq(g->rg_name, "solo");
	ck_assert_int_eq(g->rg_strategy, RD_ONE_FOR_ONE); /* defaults */
	ck_assert_uint_eq(g->rg_intensity, 5);
	ck_assert_uint_eq(g->rg_period_s, 1);
	ck_assert_int_eq(g->rg_line, 45);

	/* Sorted by order; late, tie1, tie2 share 10 and keep file order. */
	ck_assert_int_eq(cfg.rc_nactors, 6);
	check_actor(&cfg.rc_actors[0], "first", 22, INT32_MIN, true, 0);
	check_actor(&cfg.rc_actors[1], "plain", 37, 0, false, 0);
	check_actor(&cfg.rc_actors[2], "late", 12, 10, true, 1);
	check_actor(&cfg.rc_actors[3], "tie1", 27, 10, false, 2);
	check_actor(&cfg.rc_actors[4], "tie2", 40, 10, true, 1);
	check_actor(&cfg.rc_actors[5], "last", 47, INT32_MAX, false, 0);

	a = &cfg.rc_actors[2];
	ck_assert_int_eq(a->ra_argc, 4);
	ck_assert_str_eq(a->ra_argv[1], "-a");
	ck_assert_str_eq(a->ra_argv[2], "b");
	ck_assert_str_eq(a->ra_argv[3], "c");
	ck_assert_uint_eq(a->ra_count, 3);
	ck_assert_int_eq(a->ra_restart, RD_TRANSIENT);
	ck_assert_uint_eq(a->ra_mbox_bytes, 16384);
	ck_assert_uint_eq(a->ra_shutdown_ms, 250);

	a = &cfg.rc_actors[3];
	ck_assert_int_eq(a->ra_restart, RD_TEMPORARY);
	ck_assert_uint_eq(a->ra_count, 1);

	/* What the other actors did not set. */
	a = &cfg.rc_actors[1];
	ck_assert_int_eq(a->ra_argc, 1);
	ck_assert_int_eq(a->ra_restart, RD_PERMANENT);
	ck_assert_uint_eq(a->ra_count, 1);
	ck_assert_uint_eq(a->ra_mbox_bytes, 0);
	ck_assert_uint_eq(a->ra_shutdown_ms, 5000);

	rd_config_free(&cfg);
	ck_assert_int_eq(cfg.rc_nactors, 0);
	rd_config_free(&cfg);
}
END_TEST

START_TEST(test_config_defaults)
{
	roost_sys_opts_t def;
	const struct rd_actor *a;
	const struct rd_group *g;

	roost_sys_opts_init(&def);
	expect_ok("\n[actor a]\nprogram = /bin/true\n");
	ck_assert_uint_eq(cfg.rc_sys.slots, def.slots);
	ck_assert_uint_eq(cfg.rc_sys.mbox_bytes, def.mbox_bytes);
	ck_assert_uint_eq(cfg.rc_sys.max_msg, def.max_msg);
	ck_assert_uint_eq(cfg.rc_sys.unblock_ms, ROOST_UNBLOCK_MS_DEF);
	ck_assert_uint_eq(cfg.rc_sys.mode, 0600);
	ck_assert_str_eq(cfg.rc_unix_group, "");
	ck_assert_uint_eq(cfg.rc_timers, RD_TIMERS_DEF);
	ck_assert_int_eq(cfg.rc_ngroups, 1);
	g = &cfg.rc_groups[0];
	ck_assert_str_eq(g->rg_name, "");
	ck_assert_int_eq(g->rg_strategy, RD_ONE_FOR_ONE);
	ck_assert_uint_eq(g->rg_intensity, 5);
	ck_assert_uint_eq(g->rg_period_s, 10);
	ck_assert_int_eq(cfg.rc_nactors, 1);
	a = &cfg.rc_actors[0];
	ck_assert_str_eq(a->ra_name, "a");
	ck_assert_int_eq(a->ra_line, 2);
	ck_assert_str_eq(a->ra_program, "/bin/true");
	ck_assert_int_eq(a->ra_argc, 1);
	ck_assert_ptr_eq(a->ra_argv[0], a->ra_program);
	ck_assert_ptr_null(a->ra_argv[1]);
	ck_assert_int_eq(a->ra_restart, RD_PERMANENT);
	ck_assert(!a->ra_daemon);
	ck_assert_uint_eq(a->ra_count, 1);
	ck_assert_uint_eq(a->ra_mbox_bytes, 0);
	ck_assert_uint_eq(a->ra_shutdown_ms, 5000);
	ck_assert_int_eq(a->ra_order, 0);
	ck_assert_int_eq(a->ra_group, 0);
	rd_config_free(&cfg);

	/* An empty file is the defaults; so is rd_config_defaults(). */
	expect_ok("");
	ck_assert_int_eq(cfg.rc_nactors, 0);
	ck_assert_uint_eq(cfg.rc_sys.slots, def.slots);
	rd_config_free(&cfg);
	memset(&cfg, 0x5a, sizeof(cfg));
	rd_config_defaults(&cfg);
	ck_assert_int_eq(cfg.rc_nactors, 0);
	ck_assert_int_eq(cfg.rc_ngroups, 1);
	ck_assert_uint_eq(cfg.rc_timers, RD_TIMERS_DEF);
	ck_assert_uint_eq(cfg.rc_groups[0].rg_period_s, 10);
	ck_assert_uint_eq(cfg.rc_sys.slots, def.slots);
	ck_assert_str_eq(cfg.rc_unix_group, "");
	rd_config_free(&cfg);
}
END_TEST

/* CRLF line ends, blanks around '=', ':' for '=', a 47-character actor
 * name (longer than inih keeps of a section name), a 45-character pool
 * whose last member is exactly 47, and exactly 32 args. */
START_TEST(test_config_edges)
{
	char body[1024];
	char name47[ROOST_NAME_MAX + 16];
	char name45[ROOST_NAME_MAX + 16];
	int i;

	snprintf(name47, sizeof(name47), "%s", long_name(47));
	snprintf(name45, sizeof(name45), "%s", long_name(45));
	snprintf(body, sizeof(body),
	         "[system]\r\n  slots:12\t\r\n[actor %s]\r\nprogram=/bin/true\r\n"
	         "[actor %s]\nprogram = /bin/true\ncount = 9\n"
	         "args = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 "
	         "22 23 24 25 26 27 28 29 30 31 32\n", name47, name45);
	expect_ok(body);
	ck_assert_uint_eq(cfg.rc_sys.slots, 12);
	ck_assert_int_eq(cfg.rc_nactors, 2);
	ck_assert_str_eq(cfg.rc_actors[0].ra_name, name47);
	ck_assert_int_eq(cfg.rc_actors[0].ra_line, 3);
	ck_assert_str_eq(cfg.rc_actors[1].ra_name, name45);
	ck_assert_uint_eq(cfg.rc_actors[1].ra_count, 9);
	ck_assert_int_eq(cfg.rc_actors[1].ra_argc, RD_MAX_ARGS + 1);
	for (i = 1; i <= RD_MAX_ARGS; i++)
		ck_assert_int_eq(atoi(cfg.rc_actors[1].ra_argv[i]), i);
	ck_assert_ptr_null(cfg.rc_actors[1].ra_argv[RD_MAX_ARGS + 1]);
	rd_config_free(&cfg);
}
END_TEST

START_TEST(test_config_names)
{
	ck_assert_str_eq(rd_strategy_name(RD_ONE_FOR_ONE), "one_for_one");
	ck_assert_str_eq(rd_strategy_name(RD_ONE_FOR_ALL), "one_for_all");
	ck_assert_str_eq(rd_strategy_name(RD_REST_FOR_ONE), "rest_for_one");
	ck_assert_str_eq(rd_restart_name(RD_PERMANENT), "permanent");
	ck_assert_str_eq(rd_restart_name(RD_TRANSIENT), "transient");
	ck_assert_str_eq(rd_restart_name(RD_TEMPORARY), "temporary");
}
END_TEST

/* --- one test per class of bad file ---------------------------------- */

START_TEST(test_config_unknown_section)
{
	expect_error("[galaxy]\nx = 1\n", 2, "unknown section [galaxy]");
	expect_error("[actor]\nprogram = /bin/true\n", 2,
	             "section [actor] needs a name");
	expect_error("slots = 8\n", 1, "key 'slots' comes before any section");
}
END_TEST

START_TEST(test_config_unknown_key)
{
	expect_error("[system]\nslots = 8\nslotz = 4\n", 3,
	             "unknown key 'slotz' in [system]");
	expect_error("[actor a]\nprogram = /bin/true\nargs = x y\n"
	             "programme = /bin/true\n", 4,
	             "unknown key 'programme' in [actor a]");
	expect_error("[group g]\nstrategy = one_for_all\nslots = 3\n", 3,
	             "unknown key 'slots' in [group g]");
	/* A key of another section kind. */
	expect_error("[system]\nprogram = /bin/true\n", 2,
	             "unknown key 'program' in [system]");
}
END_TEST

START_TEST(test_config_bad_number)
{
	expect_error("[system]\nslots = 12abc\n", 2,
	             "bad value '12abc' for slots: not a whole number (1..16384)");
	expect_error("[system]\ntimers = 0x100\n", 2,
	             "bad value '0x100' for timers: not a whole number");
	expect_error("[actor a]\nprogram = /bin/true\norder = --1\n", 3,
	             "bad value '--1' for order: not a whole number "
	             "(-2147483648..2147483647)");
	expect_error("[group g]\nperiod = 1 0\n", 2,
	             "bad value '1 0' for period: not a whole number (1..3600)");
}
END_TEST

START_TEST(test_config_out_of_range)
{
	expect_error("[system]\nslots = 0\n", 2,
	             "bad value '0' for slots: out of range (1..16384)");
	expect_error("[system]\nmailbox_bytes = 99\n", 2,
	             "bad value '99' for mailbox_bytes: out of range (4096..");
	expect_error("[system]\ntimers = 15\n", 2,
	             "bad value '15' for timers: out of range (16..1048576)");
	expect_error("[system]\nunblock_timeout_ms = 9\n", 2,
	             "bad value '9' for unblock_timeout_ms: out of range "
	             "(10..600000)");
	expect_ok("[system]\nunblock_timeout_ms = 250\n");
	ck_assert_uint_eq(cfg.rc_sys.unblock_ms, 250);
	expect_error("[system]\nintensity = 1001\n", 2,
	             "bad value '1001' for intensity: out of range (0..1000)");
	expect_error("[group g]\nperiod = 3601\n", 2,
	             "bad value '3601' for period: out of range (1..3600)");
	expect_error("[actor a]\nprogram = /bin/true\ncount = 0\n", 3,
	             "bad value '0' for count: out of range (1..16382)");
	expect_error("[actor a]\nprogram = /bin/true\ncount = -1\n", 3,
	             "bad value '-1' for count: out of range (1..16382)");
	expect_error("[actor a]\nprogram = /bin/true\norder = 2147483648\n", 3,
	             "bad value '2147483648' for order: out of range");
	expect_error("[actor a]\nprogram = /bin/true\n"
	             "shutdown_timeout_ms = 99999999999999999999\n", 3,
	             "bad value '99999999999999999999' for shutdown_timeout_ms: "
	             "out of range (0..3600000)");
}
END_TEST

START_TEST(test_config_bad_restart)
{
	expect_error("[actor a]\nprogram = /bin/true\nrestart = sometimes\n", 3,
	             "bad restart 'sometimes' (permanent, transient or "
	             "temporary)");
}
END_TEST

START_TEST(test_config_bad_strategy)
{
	expect_error("[system]\nstrategy = all_for_one\n", 2,
	             "bad strategy 'all_for_one' (one_for_one, one_for_all or "
	             "rest_for_one)");
	expect_error("[group g]\nstrategy = One_for_one\n", 2,
	             "bad strategy 'One_for_one'");
}
END_TEST

START_TEST(test_config_bad_bool)
{
	expect_error("[actor a]\nprogram = /bin/true\ndaemon = maybe\n", 3,
	             "bad value 'maybe' for daemon (true, false, yes, no, 1 or "
	             "0)");
	expect_error("[actor a]\nprogram = /bin/true\ndaemon = TRUE\n", 3,
	             "bad value 'TRUE' for daemon");
}
END_TEST

START_TEST(test_config_empty_value)
{
	expect_error("[actor a]\nprogram = /bin/true\nargs =\n", 3,
	             "empty value for 'args'");
	expect_error("[system]\ngroup =   ; nothing\n", 2,
	             "empty value for 'group'");
}
END_TEST

START_TEST(test_config_key_twice)
{
	expect_error("[system]\nslots = 8\nmailbox_bytes = 8192\nslots = 9\n", 4,
	             "key 'slots' set twice");
	expect_error("[actor a]\nprogram = /bin/true\nargs = x\nargs = y\n", 4,
	             "key 'args' set twice");
	/* An indented line continues the key before it in inih. */
	expect_error("[actor a]\nprogram = /bin/true\nargs = -x\n  -y\n", 4,
	             "an indented line continues the value of 'args'");
}
END_TEST

START_TEST(test_config_actor_twice)
{
	expect_error("[actor a]\nprogram = /bin/true\n[actor b]\n"
	             "program = /bin/true\n[actor a]\nprogram = /bin/true\n", 6,
	             "actor 'a' defined twice (first at line 1)");
	/* Back to back: inih gives both the same section name. */
	expect_error("[actor a]\nprogram = /bin/true\n\n[actor a]\norder = 1\n",
	             5, "actor 'a' defined twice (first at line 1)");
	expect_error("[system]\nslots = 8\n[system]\ntimers = 32\n", 4,
	             "[system] given twice (first at line 1)");
}
END_TEST

START_TEST(test_config_group_twice)
{
	expect_error("[group g]\nperiod = 2\n[actor a]\nprogram = /bin/true\n"
	             "[group g]\nintensity = 1\n", 6,
	             "group 'g' defined twice (first at line 1)");
}
END_TEST

START_TEST(test_config_missing_program)
{
	expect_error("[system]\nslots = 8\n\n[actor a]\nargs = x\n", 4,
	             "actor 'a' has no program");
}
END_TEST

START_TEST(test_config_relative_program)
{
	expect_error("[actor a]\nprogram = bin/true\n", 2,
	             "program 'bin/true' must be an absolute path");
}
END_TEST

START_TEST(test_config_not_executable)
{
	expect_error("[actor a]\nprogram = /etc/passwd\n", 2,
	             "program '/etc/passwd' is not an executable file: "
	             "Permission denied");
	expect_error("[actor a]\nprogram = /tmp\n", 2,
	             "program '/tmp' is not an executable file: Is a directory");
	expect_error("[actor a]\nprogram = /nonexistent/roost-prog\n", 2,
	             "program '/nonexistent/roost-prog' is not an executable "
	             "file: No such file or directory");
}
END_TEST

START_TEST(test_config_unknown_group)
{
	expect_error("[group other]\nperiod = 2\n[actor a]\n"
	             "program = /bin/true\ngroup = nosuch\norder = 1\n", 5,
	             "actor 'a': unknown group 'nosuch'");
	/* A section without keys is invisible to inih's handler. */
	expect_error("[group empty]\n[actor a]\nprogram = /bin/true\n"
	             "group = empty\n", 4, "unknown group 'empty'");
	expect_error("[actor a]\nprogram = /bin/true\ngroup = two words\n", 3,
	             "bad group name 'two words'");
}
END_TEST

START_TEST(test_config_unknown_unix_group)
{
	expect_error("[system]\nslots = 8\ngroup = roost-no-such-group\n", 3,
	             "unknown unix group 'roost-no-such-group'");
}
END_TEST

START_TEST(test_config_bad_name)
{
	expect_error("[actor bad name]\nprogram = /bin/true\n", 2,
	             "bad actor name 'bad name'");
	expect_error("[group a b]\nperiod = 1\n", 2, "bad group name 'a b'");
}
END_TEST

START_TEST(test_config_pool_name_too_long)
{
	char body[256];
	char want[128];

	snprintf(body, sizeof(body), "[actor %s]\nprogram = /bin/true\n"
	         "count = 2\n", long_name(46));
	snprintf(want, sizeof(want), "pool member name '%s.2' is longer "
	         "than 47 characters", long_name(46));
	expect_error(body, 3, want);
	snprintf(body, sizeof(body), "[actor %s]\nprogram = /bin/true\n"
	         "count = 10\n", long_name(45));
	expect_error(body, 3, "is longer than 47 characters");
}
END_TEST

START_TEST(test_config_pool_name_clash)
{
	expect_error("[actor w]\nprogram = /bin/true\ncount = 2\n"
	             "[actor w.2]\nprogram = /bin/true\n", 4,
	             "actor 'w.2' has the name of a member of pool 'w'");
	/* Not members: w.3, w.02, and w.1 when w is no pool. */
	expect_ok("[actor w]\nprogram = /bin/true\ncount = 2\n"
	          "[actor w.3]\nprogram = /bin/true\n"
	          "[actor w.02]\nprogram = /bin/true\n"
	          "[actor v]\nprogram = /bin/true\n"
	          "[actor v.1]\nprogram = /bin/true\n");
	rd_config_free(&cfg);
}
END_TEST

START_TEST(test_config_too_many_for_slots)
{
	static const char pools[] =
		"[actor a]\nprogram = /bin/true\ncount = 3\n"
		"[actor b]\nprogram = /bin/true\ncount = 2\n";
	char body[512];

	snprintf(body, sizeof(body), "[system]\nslots = 6\n%s", pools);
	expect_error(body, 2, "5 actors (counting pool members) do not fit "
	             "in slots = 6: roostd and its dead-letter mailbox take 2, "
	             "leaving 4");
	snprintf(body, sizeof(body), "[system]\nslots = 7\n%s", pools);
	expect_ok(body);
	rd_config_free(&cfg);
	/* With the default slots (256) there is no line to name. */
	expect_error("[actor a]\nprogram = /bin/true\ncount = 64\n"
	             "[actor b]\nprogram = /bin/true\ncount = 64\n"
	             "[actor c]\nprogram = /bin/true\ncount = 64\n"
	             "[actor d]\nprogram = /bin/true\ncount = 63\n", 0,
	             "255 actors (counting pool members) do not fit in "
	             "slots = 256");
}
END_TEST

START_TEST(test_config_too_many_actors)
{
	static char body[RD_MAX_ACTORS * 40 + 64];
	size_t n;
	int i;

	/* A pool as large as the table allows, at its largest table; one
	 * member more is too many, past the table it is out of range. */
	expect_ok("[system]\nslots = 16384\n[actor p]\nprogram = /bin/true\n"
	          "count = 16382\n");
	rd_config_free(&cfg);
	expect_error("[system]\nslots = 16384\n[actor p]\nprogram = /bin/true\n"
	             "count = 16382\n[actor q]\nprogram = /bin/true\n", 2,
	             "16383 actors (counting pool members) do not fit in "
	             "slots = 16384");
	expect_error("[actor p]\nprogram = /bin/true\ncount = 16383\n", 3,
	             "bad value '16383' for count: out of range (1..16382)");
	/* RD_MAX_ACTORS + 1 sections. */
	n = (size_t)snprintf(body, sizeof(body), "[system]\nslots = 4096\n");
	for (i = 0; i <= RD_MAX_ACTORS; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		                      "[actor a%d]\nprogram = /bin/true\n", i);
	ck_assert_uint_lt(n, sizeof(body) - 1);
	expect_error(body, 2 + 2 * RD_MAX_ACTORS + 2,
	             "too many [actor] sections (at most 1024; a pool is one)");
	/* RD_MAX_GROUPS + 1 groups. */
	n = 0;
	for (i = 0; i <= RD_MAX_GROUPS; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		                      "[group g%d]\nperiod = 1\n", i);
	expect_error(body, 2 * RD_MAX_GROUPS + 2, "too many groups (at most 32)");
}
END_TEST

START_TEST(test_config_syntax_error)
{
	expect_error("[system]\nslots = 8\nthis line has no equals\n", 3,
	             "syntax error");
	expect_error("[system]\nslots = 8\n[actor a\nprogram = /bin/true\n", 3,
	             "syntax error");
	/* The first error wins, whoever found it. */
	expect_error("[system]\nno equals\nslotz = 1\n", 2, "syntax error");
	expect_error("[system]\nslotz = 1\nno equals\n", 2,
	             "unknown key 'slotz'");
}
END_TEST

START_TEST(test_config_line_too_long)
{
	char body[512];
	char args[301];

	memset(args, 'x', sizeof(args) - 1);
	args[sizeof(args) - 1] = '\0';
	snprintf(body, sizeof(body), "[actor a]\nprogram = /bin/true\n"
	         "args = %s\n", args);
	expect_error(body, 3, "line too long");
}
END_TEST

START_TEST(test_config_unreadable_file)
{
	ck_assert_int_eq(rd_config_load(&cfg, "/nonexistent/roostd.ini"),
	                 -ENOENT);
	expect_error_at("/nonexistent/roostd.ini", 0,
	                "cannot open: No such file or directory");
	ck_assert_int_eq(rd_config_load(&cfg, "/tmp"), -EISDIR);
	expect_error_at("/tmp", 0, "cannot read: Is a directory");
}
END_TEST

/* Every allocation failure is an error that leaks nothing (valgrind
 * checks the leaking part). */
START_TEST(test_config_out_of_memory)
{
	long n;
	int rc;

	for (n = 0; n < 1000; n++) {
		roost__alloc_fail_after = n;
		rc = load(full_cfg);
		roost__alloc_fail_after = -1;
		if (rc == 0)
			break;
		ck_assert_int_eq(rc, -ENOMEM);
		ck_assert_msg(strstr(cfg.rc_error, "out of memory") != NULL,
		              "after %ld allocations: %s", n, cfg.rc_error);
		rd_config_free(&cfg);
	}
	ck_assert_int_gt(n, 5);
	ck_assert_int_lt(n, 1000);
	ck_assert_int_eq(cfg.rc_nactors, 6);
	rd_config_free(&cfg);
}
END_TEST

#define GW_OK "[gateway]\nprogram = /bin/true\nnode = alpha\nnode_id = 7\n" \
              "urls = nats://127.0.0.1:4222, tls://h2:4443\n"

/* [gateway]: the gateway becomes the first actor, "--config PATH". */
START_TEST(test_config_gateway)
{
	const struct rd_gateway *g = &cfg.rc_gateway;

	expect_ok("[actor a]\nprogram = /bin/true\norder = -5\n" GW_OK
	          "prefix = prod\nuser = u\npassword = p\n");
	ck_assert(g->gw_enabled);
	ck_assert_str_eq(g->gw_node, "alpha");
	ck_assert_uint_eq(g->gw_node_id, 7);
	ck_assert_int_eq(g->gw_nurls, 2);
	ck_assert_str_eq(g->gw_urls[1], "tls://h2:4443");
	ck_assert_str_eq(g->gw_prefix, "prod");
	ck_assert_uint_eq(g->gw_heartbeat_ms, RD_GW_HEARTBEAT_DEF);
	ck_assert_int_eq(cfg.rc_nactors, 2);
	ck_assert_str_eq(cfg.rc_actors[0].ra_name, "gateway");
	ck_assert_str_eq(cfg.rc_actors[0].ra_argv[1], "--config");
	ck_assert_str_eq(cfg.rc_actors[1].ra_name, "a");
	rd_config_free(&cfg);
}
END_TEST

START_TEST(test_config_gateway_bad)
{
	expect_error(GW_OK "node = beta\n", 6, "key 'node' set twice");
	expect_error("[gateway]\nnode_id = 0\n", 2, "bad value '0' for node_id");
	expect_error("[gateway]\nnode = a.b\n", 2, "bad node 'a.b'");
	expect_error("[gateway]\nnode_id = 65536\n", 2, "1..65535");
	expect_error("[gateway]\nurls = http://x:1\n", 2, "bad url 'http://x:1'");
	expect_error("[gateway]\nurls = nats://x:1,nats://y\n", 2,
	             "bad url 'nats://y'");
	expect_error("[gateway]\nurls = nats://x:99999\n", 2, "bad url");
	expect_error("[gateway]\nprogram = bin/true\n", 2,
	             "must be an absolute path");
	expect_error("[gateway]\ncreds = /no/such.creds\n", 2,
	             "is not a readable file");
	expect_error("[gateway]\nprefix = a>\n", 2, "bad prefix");
	expect_error("[gateway]\nheartbeat_ms = 5\n", 2, "10..60000");
	expect_error("[gateway]\nwho = me\n", 2,
	             "unknown key 'who' in [gateway]");
	expect_error("[gateway]\nnode = a\n", 1, "[gateway] needs program");
	expect_error(GW_OK "user = u\n", 1, "user and password go together");
	expect_error(GW_OK "tls_cert = /etc/hostname\n", 1,
	             "tls_cert and tls_key go together");
	expect_error(GW_OK "heartbeat_ms = 900\ndown_after_ms = 800\n", 1,
	             "must be more than heartbeat_ms");
	expect_error(GW_OK "[gateway]\nnode = b\n", 7, "[gateway] given twice");
	expect_error(GW_OK "[actor gateway]\nprogram = /bin/true\n", 6,
	             "actor name 'gateway' is the gateway's");
}
END_TEST

/* [metrics]: where roostd's HTTP endpoint listens, and which actors
 * get series; every bad value is named at its line. */
START_TEST(test_config_metrics)
{
	const struct rd_metrics_cfg *m = &cfg.rc_metrics;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&m->mc_addr;
	const struct sockaddr_in6 *a6 =
	    (const struct sockaddr_in6 *)&m->mc_addr;

	expect_ok("[actor a]\nprogram = /bin/true\n");
	ck_assert(!m->mc_enabled);
	rd_config_free(&cfg);
	expect_ok("[metrics]\nlisten = 127.0.0.1:9464\n");
	ck_assert(m->mc_enabled);
	ck_assert_int_eq(a4->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(a4->sin_port), 9464);
	ck_assert_uint_eq(ntohl(a4->sin_addr.s_addr), 0x7f000001u);
	ck_assert_int_eq(m->mc_actors.ea_mode, EXPO_ACTORS_ALL);
	rd_config_free(&cfg);
	expect_ok("[metrics]\nlisten = [::1]:0\nper_actor = top 100\n");
	ck_assert_int_eq(a6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(a6->sin6_port), 0);
	ck_assert_int_eq(m->mc_actors.ea_mode, EXPO_ACTORS_TOP);
	ck_assert_uint_eq(m->mc_actors.ea_top, 100);
	rd_config_free(&cfg);
	expect_ok("[metrics]\nper_actor = off\nlisten = 0.0.0.0:80\n");
	ck_assert_int_eq(m->mc_actors.ea_mode, EXPO_ACTORS_OFF);
	rd_config_free(&cfg);
}
END_TEST

START_TEST(test_config_metrics_bad)
{
	expect_error("[metrics]\nlisten = localhost:9464\n", 2,
	             "listen: 'localhost:9464': expected ADDRESS:PORT");
	expect_error("[metrics]\nlisten = 127.0.0.1\n", 2, "listen: '127.0.0.1'");
	expect_error("[metrics]\nlisten = 127.0.0.1:65536\n", 2,
	             "a port 0-65535");
	expect_error("[metrics]\nlisten = 127.0.0.1:-1\n", 2, "listen:");
	expect_error("[metrics]\nlisten = 127.0.0.1:80x\n", 2, "listen:");
	expect_error("[metrics]\nlisten = ::1:80\n", 2, "listen:");
	expect_error("[metrics]\nlisten = [127.0.0.1]:80\n", 2, "listen:");
	expect_error("[metrics]\nlisten = 127.0.0.1:1\nlisten = 127.0.0.1:2\n", 3,
	             "key 'listen' set twice");
	expect_error("[metrics]\nlisten = 127.0.0.1:1\nper_actor = some\n", 3,
	             "per_actor: 'some': expected all, off or top N");
	expect_error("[metrics]\nlisten = 127.0.0.1:1\nper_actor = top 0\n", 3,
	             "per_actor: 'top 0'");
	expect_error("[metrics]\nlisten = 127.0.0.1:1\nper_actor = top 5000000000\n",
	             3, "per_actor:");
	expect_error("[metrics]\nlisten = 127.0.0.1:1\nport = 9\n", 3,
	             "unknown key 'port' in [metrics]");
	expect_error("[metrics]\nper_actor = all\n", 1,
	             "[metrics] needs 'listen'");
	expect_error("[metrics]\nlisten = 127.0.0.1:1\n[metrics]\nper_actor = off\n",
	             4, "[metrics] given twice (first at line 1)");
}
END_TEST

static void
add(Suite *s, const char *name, const TTest *fn)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, fn);
	suite_add_tcase(s, tc);
}

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");

	add(s, "test_config_full", test_config_full);
	add(s, "test_config_gateway", test_config_gateway);
	add(s, "test_config_gateway_bad", test_config_gateway_bad);
	add(s, "test_config_metrics", test_config_metrics);
	add(s, "test_config_metrics_bad", test_config_metrics_bad);
	add(s, "test_config_defaults", test_config_defaults);
	add(s, "test_config_edges", test_config_edges);
	add(s, "test_config_names", test_config_names);
	add(s, "test_config_unknown_section", test_config_unknown_section);
	add(s, "test_config_unknown_key", test_config_unknown_key);
	add(s, "test_config_bad_number", test_config_bad_number);
	add(s, "test_config_out_of_range", test_config_out_of_range);
	add(s, "test_config_bad_restart", test_config_bad_restart);
	add(s, "test_config_bad_strategy", test_config_bad_strategy);
	add(s, "test_config_bad_bool", test_config_bad_bool);
	add(s, "test_config_empty_value", test_config_empty_value);
	add(s, "test_config_key_twice", test_config_key_twice);
	add(s, "test_config_actor_twice", test_config_actor_twice);
	add(s, "test_config_group_twice", test_config_group_twice);
	add(s, "test_config_missing_program", test_config_missing_program);
	add(s, "test_config_relative_program", test_config_relative_program);
	add(s, "test_config_not_executable", test_config_not_executable);
	add(s, "test_config_unknown_group", test_config_unknown_group);
	add(s, "test_config_unknown_unix_group",
	    test_config_unknown_unix_group);
	add(s, "test_config_bad_name", test_config_bad_name);
	add(s, "test_config_pool_name_too_long",
	    test_config_pool_name_too_long);
	add(s, "test_config_pool_name_clash", test_config_pool_name_clash);
	add(s, "test_config_too_many_for_slots",
	    test_config_too_many_for_slots);
	add(s, "test_config_too_many_actors", test_config_too_many_actors);
	add(s, "test_config_syntax_error", test_config_syntax_error);
	add(s, "test_config_line_too_long", test_config_line_too_long);
	add(s, "test_config_unreadable_file", test_config_unreadable_file);
	add(s, "test_config_out_of_memory", test_config_out_of_memory);
	return s;
}

int
main(void)
{
	return tu_run(config_suite());
}
