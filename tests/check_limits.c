/* SPDX-License-Identifier: MIT */
/*
 * check_limits.c - every resource limit gives a clear error and leaves
 * nothing behind: a process out of file descriptors, a system at its
 * actor limit, a mailbox at its byte limit and a full /dev/shm (in a
 * private mount namespace over a small tmpfs; skipped where that cannot
 * be had). After each failure the slot table and /dev/shm are compared
 * with what they were, and the same calls must work once the limit is
 * lifted.
 */
#include "test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* --- helpers ---------------------------------------------------------- */

/* A copy of a system's actor table, as every process sees it. */
struct table {
	uint32_t tb_n;
	uint32_t tb_used; /* slots not FREE */
	struct roost__slot_view tb_slot[ROOST_SLOTS_DEF];
};

/* Read system 'sys''s table into 't'. 0 or a negative errno; never
 * asserts, so helpers may call it. */
static int
table_read(const char *sys, struct table *t)
{
	struct roost__sys sy;
	uint32_t i;
	int rc;

	memset(t, 0, sizeof(*t));
	rc = roost__sys_open(&sy, sys);
	if (rc < 0)
		return rc;
	t->tb_n = sy.sy_fixed.sf_nslots;
	if (t->tb_n > ROOST_SLOTS_DEF)
		t->tb_n = ROOST_SLOTS_DEF;
	for (i = 0; i < t->tb_n && rc == 0; i++) {
		rc = roost__sys_slot_read(&sy, i, &t->tb_slot[i]);
		if (rc == 0 && t->tb_slot[i].sv_state != ROOST_SLOT_FREE)
			t->tb_used++;
	}
	roost__sys_close(&sy);
	return rc;
}

/* Index of the first slot whose holder differs between 'a' and 'b'
 * (state, generation, pid, name, size or flags; a FREE slot's stale
 * generation does not count), or -1 if none does. */
static int
table_diff(const struct table *a, const struct table *b)
{
	const struct roost__slot_view *x;
	const struct roost__slot_view *y;
	uint32_t i;

	if (a->tb_n != b->tb_n)
		return 0;
	for (i = 0; i < a->tb_n; i++) {
		x = &a->tb_slot[i];
		y = &b->tb_slot[i];
		if (x->sv_state != y->sv_state)
			return (int)i;
		if (x->sv_state == ROOST_SLOT_FREE)
			continue;
		if (x->sv_gen != y->sv_gen || x->sv_pid != y->sv_pid ||
		    x->sv_pid_start != y->sv_pid_start ||
		    x->sv_mbox_bytes != y->sv_mbox_bytes ||
		    x->sv_flags != y->sv_flags ||
		    strcmp(x->sv_name, y->sv_name) != 0)
			return (int)i;
	}
	return -1;
}

/* Assert that 'now' is 'before' (test process only). */
static void
assert_table_same(const char *what, const struct table *before,
                  const struct table *now)
{
	int i = table_diff(before, now);

	ck_assert_msg(i < 0,
	              "%s: slot %d changed (state %u -> %u, name '%s' "
	              "-> '%s')",
	              what, i, i < 0 ? 0 : before->tb_slot[i].sv_state,
	              i < 0 ? 0 : now->tb_slot[i].sv_state,
	              i < 0 ? "" : before->tb_slot[i].sv_name,
	              i < 0 ? "" : now->tb_slot[i].sv_name);
}

/* tu_shm_count without asserting (a helper may call it): the /dev/shm
 * objects of system 'sys', or -1. */
static int
shm_count(const char *sys)
{
	char prefix[ROOST_SHM_NAME_MAX];
	struct dirent *de;
	size_t plen;
	DIR *d;
	int n = 0;

	if (roost__sys_shm_name(prefix, sizeof(prefix), sys) < 0)
		return -1;
	plen = strlen(prefix + 1);
	d = opendir("/dev/shm");
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix + 1, plen) == 0 &&
		    (de->d_name[plen] == '\0' || de->d_name[plen] == '.'))
			n++;
	}
	closedir(d);
	return n;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait up to 'ms' for '*flag' to become non-zero. */
static bool
flag_wait(const int *flag, int ms)
{
	int i;

	for (i = 0; i < ms * 10; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0)
			return true;
		usleep(100);
	}
	return false;
}

static void
flag_set(int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

/* --- too few file descriptors ----------------------------------------- */

/* What the helper saw while out of descriptors, for the test to check. */
enum {
	FD_OPEN,     /* roost_ctx_open of a new context */
	FD_CREATE,   /* roost_system_create of another system */
	FD_SEND,     /* roost_send to a peer not yet mapped */
	FD_SEND2,    /* the same again (nothing half-cached) */
	FD_REGISTER, /* roost_register of the live peer's name */
	FD_WHEREIS,  /* roost_whereis of the peer (no descriptor needed) */
	FD_SELF,     /* a send to ourselves (mapped already) */
	FD_CTX_NULL, /* 1 if '*out' is still NULL after it */
	FD_NRESULTS
};

struct fd_shared {
	char fs_other[64]; /* a system to create */
	int fs_at_limit;   /* helper: the failing calls are done */
	int fs_go;         /* test: compared; lift the limit */
	int fs_rc[FD_NRESULTS];
	roost_aid_t fs_peer_seen; /* whereis at the limit */
};

#define FD_LIMIT 64
#define FD_FILL  FD_LIMIT

/*
 * Helper: open a context, then lower RLIMIT_NOFILE to FD_LIMIT and take
 * every descriptor below it, and try what needs a descriptor. Then wait
 * for the test to look, lift the limit and do the same calls again.
 */
static int
fd_helper(void *arg)
{
	struct fd_shared *fs = arg;
	roost_ctx_t *h = tu_open("fdhelper");
	roost_ctx_t *c = NULL;
	roost_ctx_opts_t o;
	struct rlimit old;
	struct rlimit low;
	roost_aid_t peer;
	roost_aid_t aid = ROOST_AID_NONE;
	int fill[FD_FILL];
	int nfill = 0;
	int fd;
	int i;

	peer = tu_whereis_wait(h, "peer", 5000);
	if (getrlimit(RLIMIT_NOFILE, &old) != 0)
		tu_fail("getrlimit: %s", strerror(errno));
	low = old;
	low.rlim_cur = FD_LIMIT;
	if (setrlimit(RLIMIT_NOFILE, &low) != 0)
		tu_fail("setrlimit: %s", strerror(errno));
	for (;;) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		if (nfill == FD_FILL)
			tu_fail("more than %d descriptors below %d", FD_FILL,
			        FD_LIMIT);
		fill[nfill++] = fd;
	}
	if (errno != EMFILE)
		tu_fail("filling descriptors: %s", strerror(errno));

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	o.name = "never";
	fs->fs_rc[FD_OPEN] = roost_ctx_open(&c, &o);
	fs->fs_rc[FD_CTX_NULL] = c == NULL;
	fs->fs_rc[FD_CREATE] = roost_system_create(fs->fs_other, NULL);
	fs->fs_rc[FD_SEND] = roost_send(h, peer, 1, "x", 1, 0);
	fs->fs_rc[FD_SEND2] = roost_send(h, peer, 1, "x", 1, 1000);
	fs->fs_rc[FD_REGISTER] = roost_register(h, "peer", roost_self(h));
	fs->fs_rc[FD_WHEREIS] = roost_whereis(h, "peer", &aid);
	fs->fs_peer_seen = aid;
	fs->fs_rc[FD_SELF] = roost_send(h, roost_self(h), 2, "s", 1, 0);
	flag_set(&fs->fs_at_limit);
	if (!flag_wait(&fs->fs_go, 20000))
		tu_fail("the test never looked");

	/* Lift the limit: everything works again. */
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	if (setrlimit(RLIMIT_NOFILE, &old) != 0)
		tu_fail("setrlimit back: %s", strerror(errno));
	c = NULL;
	if ((i = roost_ctx_open(&c, &o)) != 0)
		tu_fail("open after the limit: %s", roost_strerror(i));
	if ((i = roost_system_create(fs->fs_other, NULL)) != 0)
		tu_fail("create after the limit: %s", roost_strerror(i));
	if ((i = roost_system_destroy(fs->fs_other)) != 0)
		tu_fail("destroy: %s", roost_strerror(i));
	if ((i = roost_send(h, peer, 3, "y", 1, 1000)) != 0)
		tu_fail("send after the limit: %s", roost_strerror(i));
	if (roost_ctx_close(c) != 0 || roost_ctx_close(h) != 0)
		tu_fail("close");
	return 0;
}

START_TEST(test_limits_fds)
{
	struct fd_shared *fs = tu_shared_alloc(sizeof(*fs));
	roost_ctx_t *peer = tu_open("peer");
	struct table before;
	struct table now;
	roost_msg_t *m;
	int shm_before;
	uint32_t ps;
	pid_t pid;
	int rc;

	snprintf(fs->fs_other, sizeof(fs->fs_other), "%s-o", tu_sys);
	ck_assert_int_eq(table_read(tu_sys, &before), 0);
	shm_before = tu_shm_count(tu_sys);
	ck_assert_int_eq(shm_before, 2);
	pid = tu_fork(fd_helper, fs);
	if (!flag_wait(&fs->fs_at_limit, 20000)) {
		rc = tu_wait(pid, 1000);
		ck_abort_msg("helper never reached the limit (exit %d)", rc);
	}

	/* At the limit. Each call failed with the errno of the failing
	 * open (-EMFILE), and the ones that need no descriptor work. */
	ck_assert_int_eq(fs->fs_rc[FD_OPEN], -EMFILE);
	ck_assert_int_eq(fs->fs_rc[FD_CTX_NULL], 1);
	ck_assert_int_eq(fs->fs_rc[FD_CREATE], -EMFILE);
	ck_assert_int_eq(fs->fs_rc[FD_SEND], -EMFILE);
	ck_assert_int_eq(fs->fs_rc[FD_SEND2], -EMFILE);
	/* The peer lives: a process that cannot read /proc must not judge
	 * it dead and take its name (and remove its mailbox). */
	ck_assert_int_eq(fs->fs_rc[FD_REGISTER], -EADDRINUSE);
	ck_assert_int_eq(fs->fs_rc[FD_WHEREIS], 0);
	ck_assert(roost_aid_eq(fs->fs_peer_seen, roost_self(peer)));
	ck_assert_int_eq(fs->fs_rc[FD_SELF], 0);
	/* Nothing was left: one more slot and one more mailbox (the
	 * helper's own), no other system; the peer's slot untouched. */
	ck_assert_int_eq(table_read(tu_sys, &now), 0);
	ck_assert_uint_eq(now.tb_used, before.tb_used + 1);
	ps = roost_aid_slot(roost_self(peer));
	ck_assert_uint_eq(now.tb_slot[ps].sv_state, ROOST_SLOT_ACTIVE);
	ck_assert_uint_eq(now.tb_slot[ps].sv_gen, before.tb_slot[ps].sv_gen);
	ck_assert_int_eq(now.tb_slot[ps].sv_pid, (int32_t)getpid());
	ck_assert_str_eq(now.tb_slot[ps].sv_name, "peer");
	ck_assert_int_eq(tu_shm_count(tu_sys), shm_before + 1);
	ck_assert_int_eq(tu_shm_count(fs->fs_other), 0);
	ck_assert_int_eq(roost_recv(peer, &m, 0), -EAGAIN);
	flag_set(&fs->fs_go);
	ck_assert_int_eq(tu_wait(pid, 20000), 0);

	/* The limit lifted, the same calls worked; all closed again. */
	ck_assert_int_eq(table_read(tu_sys, &now), 0);
	assert_table_same("after the helper", &before, &now);
	ck_assert_int_eq(tu_shm_count(tu_sys), shm_before);
	ck_assert_int_eq(tu_shm_count(fs->fs_other), 0);
	/* Exactly the one send made after the limit arrived. */
	ck_assert_int_eq(roost_recv(peer, &m, 1000), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 3);
	ck_assert_int_eq(roost_recv(peer, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_ctx_close(peer), 0);
}
END_TEST

/* --- a system at its actor limit -------------------------------------- */

#define ACT_SLOTS 4

static int
open_one(void *arg)
{
	roost_ctx_opts_t o;
	roost_ctx_t *c = NULL;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = arg;
	o.name = "from-child";
	rc = roost_ctx_open(&c, &o);
	if (rc == 0)
		roost_ctx_close(c);
	return rc == -ENOSPC ? 0 : rc == 0 ? 1 : 2;
}

static int
supervised_dies(void *arg)
{
	roost_ctx_opts_t o;
	roost_ctx_t *c;

	roost_ctx_opts_init(&o);
	o.system = arg;
	o.flags = ROOST_CTX_SUPERVISED;
	if (roost_ctx_open(&c, &o) != 0)
		return 1;
	kill(getpid(), SIGKILL);
	return 2;
}

START_TEST(test_limits_actor_table)
{
	char sys[64];
	char name[16];
	roost_sys_opts_t so;
	roost_ctx_opts_t o;
	roost_ctx_t *c[ACT_SLOTS];
	roost_ctx_t *x;
	struct table full;
	struct table now;
	roost_aid_t old;
	roost_aid_t aid;
	roost_msg_t *m;
	int i;
	int round;

	snprintf(sys, sizeof(sys), "%s-s", tu_sys);
	roost_sys_opts_init(&so);
	so.slots = ACT_SLOTS;
	ck_assert_int_eq(roost_system_create(sys, &so), 0);
	roost_ctx_opts_init(&o);
	o.system = sys;
	for (i = 0; i < ACT_SLOTS; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		o.name = name;
		ck_assert_int_eq(roost_ctx_open(&c[i], &o), 0);
	}
	ck_assert_int_eq(table_read(sys, &full), 0);
	ck_assert_uint_eq(full.tb_used, ACT_SLOTS);
	ck_assert_int_eq(tu_shm_count(sys), 1 + ACT_SLOTS);

	/* The N+1th, named or not, here or in another process. */
	o.name = "extra";
	x = NULL;
	ck_assert_int_eq(roost_ctx_open(&x, &o), -ENOSPC);
	ck_assert_ptr_null(x);
	o.name = NULL;
	ck_assert_int_eq(roost_ctx_open(&x, &o), -ENOSPC);
	ck_assert_int_eq(tu_wait(tu_fork(open_one, sys), 5000), 0);
	ck_assert_int_eq(roost_whereis(c[0], "extra", &aid), -ENOENT);
	ck_assert_int_eq(roost_whereis(c[0], "from-child", &aid), -ENOENT);
	ck_assert_int_eq(table_read(sys, &now), 0);
	assert_table_same("after -ENOSPC", &full, &now);
	ck_assert_int_eq(tu_shm_count(sys), 1 + ACT_SLOTS);

	/* A slot freed by a close is reused, many times over, under a new
	 * generation each time; the old address stays dead. */
	for (round = 0; round < 50; round++) {
		i = 1 + round % (ACT_SLOTS - 1);
		old = roost_self(c[i]);
		ck_assert_int_eq(roost_ctx_close(c[i]), 0);
		ck_assert_int_eq(tu_shm_count(sys), ACT_SLOTS);
		o.name = "extra";
		ck_assert_int_eq(roost_ctx_open(&c[i], &o), 0);
		ck_assert_uint_eq(roost_aid_slot(roost_self(c[i])),
		                  roost_aid_slot(old));
		ck_assert_uint_ne(roost_aid_gen(roost_self(c[i])),
		                  roost_aid_gen(old));
		ck_assert_int_eq(roost_send(c[0], old, 1, NULL, 0, 0), -ESRCH);
		ck_assert_int_eq(roost_send_name(c[0], "extra", 1, NULL, 0, 0),
		                 0);
		ck_assert_int_eq(roost_recv(c[i], &m, 1000), 0);
		ck_assert_int_eq(roost_ctx_open(&x, &o), -EADDRINUSE);
		o.name = NULL;
		ck_assert_int_eq(roost_ctx_open(&x, &o), -ENOSPC);
		ck_assert_int_eq(tu_shm_count(sys), 1 + ACT_SLOTS);
		ck_assert_int_eq(roost_unregister(c[i], "extra"), 0);
	}

	/* A supervised holder that died keeps its slot for its restart:
	 * still full. */
	ck_assert_int_eq(roost_ctx_close(c[ACT_SLOTS - 1]), 0);
	ck_assert_int_eq(tu_wait(tu_fork(supervised_dies, sys), 5000),
	                 128 + SIGKILL);
	ck_assert_int_eq(roost_ctx_open(&x, &o), -ENOSPC);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(tu_shm_count(sys), 1 + ACT_SLOTS);

	for (i = 0; i < ACT_SLOTS - 1; i++)
		ck_assert_int_eq(roost_ctx_close(c[i]), 0);
	ck_assert_int_eq(roost_system_destroy(sys), 0);
	ck_assert_int_eq(tu_shm_count(sys), 0);
}
END_TEST

/* --- a mailbox at its byte limit -------------------------------------- */

#define MB_RING 4096u
/* Largest payload a 4 KiB lane always takes (mbox_layout.c). */
#define MB_MAX  (MB_RING / 2 - ROOST_RING_SLACK - ROOST_REC_HDR)
#define MB_LATE 200 /* messages the blocked helper sends */

struct mb_hdr {
	uint64_t mh_seq;
	uint32_t mh_size; /* whole payload, this header included */
	uint32_t mh_pad;
};

#define MB_MIN ((size_t)sizeof(struct mb_hdr))

/* The size message 'seq' usually has: MB_MIN..MB_MIN+184 bytes, and now
 * and then MB_MAX, so records of many sizes wrap the ring. */
static size_t
mb_size(uint64_t seq)
{
	return seq % 23 == 5 ? MB_MAX : MB_MIN + (size_t)(seq * 37 % 185);
}

/* Message 'seq' of 'size' bytes: a header, then bytes derived from
 * 'seq'. Returns 'size'. */
static size_t
mb_make(uint8_t *buf, uint64_t seq, size_t size)
{
	struct mb_hdr h;
	size_t i;

	h.mh_seq = seq;
	h.mh_size = (uint32_t)size;
	h.mh_pad = 0;
	memcpy(buf, &h, sizeof(h));
	for (i = sizeof(h); i < size; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
	return size;
}

/* Check that 'm' is message 'seq', whole and undamaged. */
static void
mb_check(const roost_msg_t *m, uint64_t seq)
{
	uint8_t want[MB_MAX];
	struct mb_hdr h;
	size_t size = roost_msg_size(m);

	ck_assert_uint_ge(size, MB_MIN);
	ck_assert_uint_le(size, MB_MAX);
	memcpy(&h, roost_msg_data(m), sizeof(h));
	ck_assert_msg(h.mh_seq == seq, "message %llu expected, %llu came",
	              (unsigned long long)seq, (unsigned long long)h.mh_seq);
	ck_assert_uint_eq(h.mh_size, size);
	mb_make(want, seq, size);
	ck_assert_msg(memcmp(roost_msg_data(m), want, size) == 0,
	              "message %llu damaged", (unsigned long long)seq);
}

struct mb_shared {
	roost_aid_t ms_rx;
	uint64_t ms_first; /* first seq the helper sends */
	int ms_started;
};

/* Helper: send MB_LATE more messages into the full mailbox, each
 * waiting for room. */
static int
mb_blocked_sender(void *arg)
{
	struct mb_shared *ms = arg;
	roost_ctx_t *tx = tu_open(NULL);
	uint8_t buf[MB_MAX];
	uint64_t seq;
	size_t size;
	int rc;

	flag_set(&ms->ms_started);
	for (seq = ms->ms_first; seq < ms->ms_first + MB_LATE; seq++) {
		size = mb_make(buf, seq, mb_size(seq));
		rc = roost_send(tx, ms->ms_rx, 1, buf, size, 10000);
		if (rc != 0)
			tu_fail("late send %llu: %s", (unsigned long long)seq,
			        roost_strerror(rc));
	}
	return roost_ctx_close(tx) == 0 ? 0 : 1;
}

START_TEST(test_limits_mailbox_bytes)
{
	struct mb_shared *ms = tu_shared_alloc(sizeof(*ms));
	roost_ctx_t *rx = tu_open_sized("rx", MB_RING);
	roost_ctx_t *tx = tu_open(NULL);
	static uint8_t big[ROOST_MAX_MSG_DEF + 1];
	uint8_t buf[MB_MAX];
	roost_mbox_stats_t st0;
	roost_mbox_stats_t st;
	roost_msg_t *m;
	uint64_t sent = 0;
	uint64_t next_late;
	uint64_t next_tx;
	uint64_t seq;
	uint64_t t0;
	size_t size;
	pid_t pid;
	int rc;

	/* Fill the user lane with messages of many sizes until it refuses,
	 * then with the smallest until it refuses those too. */
	for (;;) {
		size = mb_make(buf, sent, mb_size(sent));
		rc = roost_try_send(tx, roost_self(rx), 1, buf, size);
		if (rc != 0)
			break;
		sent++;
	}
	ck_assert_int_eq(rc, -EAGAIN);
	ck_assert_uint_gt(sent, 5);
	for (;;) {
		size = mb_make(buf, sent, MB_MIN);
		rc = roost_try_send(tx, roost_self(rx), 1, buf, size);
		if (rc != 0)
			break;
		sent++;
	}
	ck_assert_int_eq(rc, -EAGAIN);
	ck_assert_int_eq(roost_mbox_stats(tx, roost_self(rx), &st0), 0);
	ck_assert_uint_eq(st0.enqueued, sent);

	/* Full: -EAGAIN without waiting, -ETIMEDOUT after the timeout, for
	 * a message that could fit an emptier ring, the largest one too. */
	ck_assert_int_eq(roost_try_send(tx, roost_self(rx), 1, buf, MB_MIN),
	                 -EAGAIN);
	ck_assert_int_eq(roost_try_send(tx, roost_self(rx), 1, big, MB_MAX),
	                 -EAGAIN);
	t0 = now_ms();
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, buf, MB_MIN, 50),
	                 -ETIMEDOUT);
	ck_assert_uint_ge(now_ms() - t0, 45);
	/* One that can never fit is -EMSGSIZE at once, even full, even
	 * with no timeout: past the lane's largest payload, past the
	 * system's largest message, on either lane. */
	t0 = now_ms();
	ck_assert_int_eq(
	    roost_send(tx, roost_self(rx), 1, big, MB_MAX + 1, -1), -EMSGSIZE);
	ck_assert_int_eq(
	    roost_try_send(tx, roost_self(rx), 1, big, MB_MAX + 1), -EMSGSIZE);
	ck_assert_int_eq(roost_send_ex(tx, roost_self(rx), 1,
	                               ROOST_SEND_SYSTEM, 0, big, sizeof(big),
	                               -1),
	                 -EMSGSIZE);
	ck_assert_int_eq(
	    roost_send(tx, roost_self(rx), 1, big, sizeof(big), -1),
	    -EMSGSIZE);
	ck_assert_uint_lt(now_ms() - t0, 1000);
	/* The refusals wrote nothing. */
	ck_assert_int_eq(roost_mbox_stats(tx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.enqueued, st0.enqueued);
	ck_assert_uint_eq(st.bytes_in, st0.bytes_in);
	ck_assert_uint_eq(st.queued, sent);

	/* A sender blocked on the full mailbox, in another process; the
	 * receiver drains and everything arrives once, each sender's in
	 * order (tx's may sit in its private lane, the helper's in the
	 * shared one: FIFO holds per sender). */
	ms->ms_rx = roost_self(rx);
	ms->ms_first = sent;
	pid = tu_fork(mb_blocked_sender, ms);
	ck_assert(flag_wait(&ms->ms_started, 5000));
	usleep(50000); /* let it block */
	for (next_tx = 0, next_late = sent; next_tx + next_late <
	     2 * sent + MB_LATE;) {
		struct mb_hdr h;

		ck_assert_int_eq(roost_recv(rx, &m, 5000), 0);
		ck_assert_uint_ge(roost_msg_size(m), MB_MIN);
		memcpy(&h, roost_msg_data(m), sizeof(h));
		mb_check(m, h.mh_seq < sent ? next_tx++ : next_late++);
	}
	ck_assert_int_eq(tu_wait(pid, 10000), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);

	/* Drained: the largest message fits again, and a full round again
	 * goes through. */
	size = mb_make(buf, 5, MB_MAX);
	ck_assert_int_eq(roost_try_send(tx, roost_self(rx), 1, buf, size), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 1000), 0);
	mb_check(m, 5);
	ck_assert_uint_eq(roost_msg_size(m), MB_MAX);
	for (seq = 0; seq < sent; seq++) {
		size = mb_make(buf, seq, mb_size(seq));
		ck_assert_int_eq(
		    roost_send(tx, roost_self(rx), 1, buf, size, 0), 0);
		ck_assert_int_eq(roost_recv(rx, &m, 1000), 0);
		mb_check(m, seq);
	}
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_mbox_stats(tx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.enqueued, 2 * sent + MB_LATE + 1);
	ck_assert_uint_eq(st.corrupt, 0);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* --- a full /dev/shm -------------------------------------------------- */

#define SHM_TMPFS "size=4m"
#define SHM_SIZE  (4u << 20)

/* Exit codes of shm_helper when the private tmpfs cannot be had. */
enum { SHM_SKIP_UNSHARE = 77, SHM_SKIP_PRIVATE = 78, SHM_SKIP_MOUNT = 79 };

enum {
	SHM_MBOX_BIG,      /* ctx_open, mailbox larger than the tmpfs */
	SHM_MBOX_BIG_OUT,  /* ... '*out' still NULL */
	SHM_MBOX_BIG_SHM,  /* ... objects of the system afterwards */
	SHM_MBOX_BIG_USED, /* ... slots taken afterwards */
	SHM_SMALL,         /* ctx_open, small mailbox, after that */
	SHM_CREATE_FULL,   /* system_create on a full tmpfs */
	SHM_CREATE_SHM,    /* ... objects of that system afterwards */
	SHM_OPEN_FULL,     /* ctx_open on a full tmpfs */
	SHM_OPEN_SHM,      /* ... objects afterwards */
	SHM_OPEN_USED,     /* ... slots taken afterwards */
	SHM_CREATE_AGAIN,  /* system_create once there is room */
	SHM_OPEN_AGAIN,    /* ctx_open once there is room */
	SHM_LEFT,          /* objects of both systems at the end */
	SHM_NRESULTS
};

struct shm_shared {
	char ss_sys[64];
	char ss_sys2[64];
	int ss_errno; /* why it was skipped */
	int ss_rc[SHM_NRESULTS];
};

/* Take all of /dev/shm but less than a page with the plain file
 * 'path'. */
static int
shm_fill(const char *path)
{
	size_t chunk = SHM_SIZE;
	off_t len = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	/* Grow by halving chunks until a page does not fit. */
	while (chunk >= 4096) {
		if (posix_fallocate(fd, len, (off_t)chunk) == 0)
			len += (off_t)chunk;
		else
			chunk /= 2;
	}
	close(fd);
	return 0;
}

/*
 * Helper: in a mount namespace of its own, a 4 MiB tmpfs over /dev/shm
 * (propagation made private first, so nothing reaches the real one).
 * Runs the full-/dev/shm cases and records what each returned.
 */
static int
shm_helper(void *arg)
{
	struct shm_shared *ss = arg;
	char filler[64];
	roost_ctx_opts_t o;
	roost_ctx_t *c = NULL;
	struct table t;
	int *r = ss->ss_rc;

	if (unshare(CLONE_NEWNS) != 0) {
		ss->ss_errno = errno;
		return SHM_SKIP_UNSHARE;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		ss->ss_errno = errno;
		return SHM_SKIP_PRIVATE;
	}
	if (mount("none", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	          SHM_TMPFS) != 0) {
		ss->ss_errno = errno;
		return SHM_SKIP_MOUNT;
	}
	if (roost_system_create(ss->ss_sys, NULL) != 0)
		tu_fail("create on the empty tmpfs");

	/* A mailbox larger than the whole tmpfs. */
	roost_ctx_opts_init(&o);
	o.system = ss->ss_sys;
	o.name = "big";
	o.mbox_bytes = 2 * SHM_SIZE;
	r[SHM_MBOX_BIG] = roost_ctx_open(&c, &o);
	r[SHM_MBOX_BIG_OUT] = c == NULL;
	r[SHM_MBOX_BIG_SHM] = shm_count(ss->ss_sys);
	r[SHM_MBOX_BIG_USED] =
	    table_read(ss->ss_sys, &t) == 0 ? (int)t.tb_used : -1;
	o.mbox_bytes = 4096;
	r[SHM_SMALL] = roost_ctx_open(&c, &o);
	if (r[SHM_SMALL] == 0)
		roost_ctx_close(c);

	/* Fill the tmpfs but for less than a page; a new system and a new
	 * mailbox do not fit. */
	snprintf(filler, sizeof(filler), "/dev/shm/filler.%d", (int)getpid());
	if (shm_fill(filler) != 0)
		tu_fail("fill: %s", strerror(errno));
	r[SHM_CREATE_FULL] = roost_system_create(ss->ss_sys2, NULL);
	r[SHM_CREATE_SHM] = shm_count(ss->ss_sys2);
	o.mbox_bytes = 0;
	r[SHM_OPEN_FULL] = roost_ctx_open(&c, &o);
	r[SHM_OPEN_SHM] = shm_count(ss->ss_sys);
	r[SHM_OPEN_USED] =
	    table_read(ss->ss_sys, &t) == 0 ? (int)t.tb_used : -1;

	/* Room again. */
	unlink(filler);
	r[SHM_CREATE_AGAIN] = roost_system_create(ss->ss_sys2, NULL);
	r[SHM_OPEN_AGAIN] = roost_ctx_open(&c, &o);
	if (r[SHM_OPEN_AGAIN] == 0)
		roost_ctx_close(c);
	roost_system_destroy(ss->ss_sys);
	roost_system_destroy(ss->ss_sys2);
	r[SHM_LEFT] = shm_count(ss->ss_sys) + shm_count(ss->ss_sys2);
	return 0;
}

START_TEST(test_limits_shm_full)
{
	struct shm_shared *ss = tu_shared_alloc(sizeof(*ss));
	const char *step;
	int rc;

	snprintf(ss->ss_sys, sizeof(ss->ss_sys), "%s-f", tu_sys);
	snprintf(ss->ss_sys2, sizeof(ss->ss_sys2), "%s-g", tu_sys);
	rc = tu_wait(tu_fork(shm_helper, ss), 30000);
	if (rc == SHM_SKIP_UNSHARE || rc == SHM_SKIP_PRIVATE ||
	    rc == SHM_SKIP_MOUNT) {
		step = rc == SHM_SKIP_UNSHARE ? "unshare(CLONE_NEWNS)"
		       : rc == SHM_SKIP_PRIVATE
		           ? "making / private"
		           : "mounting a tmpfs on /dev/shm";
		printf("test_limits_shm_full: skipped: %s failed (%s); a full "
		       "/dev/shm needs a private mount namespace (root)\n",
		       step, strerror(ss->ss_errno));
		fflush(stdout);
		return;
	}
	ck_assert_int_eq(rc, 0);
	/* A mailbox that cannot fit: -ENOSPC, no slot, no object. */
	ck_assert_int_eq(ss->ss_rc[SHM_MBOX_BIG], -ENOSPC);
	ck_assert_int_eq(ss->ss_rc[SHM_MBOX_BIG_OUT], 1);
	ck_assert_int_eq(ss->ss_rc[SHM_MBOX_BIG_SHM], 1);
	ck_assert_int_eq(ss->ss_rc[SHM_MBOX_BIG_USED], 0);
	ck_assert_int_eq(ss->ss_rc[SHM_SMALL], 0);
	/* A full tmpfs: a system and a mailbox both -ENOSPC, nothing
	 * left of either. */
	ck_assert_int_eq(ss->ss_rc[SHM_CREATE_FULL], -ENOSPC);
	ck_assert_int_eq(ss->ss_rc[SHM_CREATE_SHM], 0);
	ck_assert_int_eq(ss->ss_rc[SHM_OPEN_FULL], -ENOSPC);
	ck_assert_int_eq(ss->ss_rc[SHM_OPEN_SHM], 1);
	ck_assert_int_eq(ss->ss_rc[SHM_OPEN_USED], 0);
	/* Room again: both work. */
	ck_assert_int_eq(ss->ss_rc[SHM_CREATE_AGAIN], 0);
	ck_assert_int_eq(ss->ss_rc[SHM_OPEN_AGAIN], 0);
	ck_assert_int_eq(ss->ss_rc[SHM_LEFT], 0);
	/* And the real /dev/shm never saw any of it. */
	ck_assert_int_eq(tu_shm_count(ss->ss_sys), 0);
	ck_assert_int_eq(tu_shm_count(ss->ss_sys2), 0);
}
END_TEST

static Suite *
limits_suite(void)
{
	Suite *s = suite_create("limits");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
	    {"test_limits_fds", test_limits_fds},
	    {"test_limits_actor_table", test_limits_actor_table},
	    {"test_limits_mailbox_bytes", test_limits_mailbox_bytes},
	    {"test_limits_shm_full", test_limits_shm_full},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, tu_tcase(cases[i].name, cases[i].fn, 60));
	return s;
}

int
main(void)
{
	return tu_run(limits_suite());
}
