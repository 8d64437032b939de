/* SPDX-License-Identifier: MIT */
/*
 * children.c - roostd's child table: spawning (the exec error comes back
 * through a close-on-exec pipe; the attach is watched asynchronously),
 * exits classified and restarted by policy, strategies and restart
 * intensity per level, dead letters, and the ordered shutdown.
 *
 * Levels: rd_levels[0] is the top, rd_levels[g] the config's [group]s.
 * A child's failure is judged by its own level: its intensity, then its
 * strategy. A group that exceeds its intensity stops, and counts as one
 * failure of the top, which restarts the group (same addresses) or, when
 * its own intensity is exceeded too, stops the system (exit 1).
 */
#include "rd.h"
#include "timers.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ATTACH_WAIT_NS (5000ull * 1000000u)

static bool was_stopped(struct rd *rd, const struct rd_child *ch);

struct rd_child *
rd_child_add(struct rd *rd, const char *name, int group)
{
	struct rd_child *ch;
	bool listed;
	int i;

	/* A new entry while the table has room (no walk: it is as large as
	 * the actor table), then one that is gone for good. */
	i = rd->rd_nkids;
	if (i == rd->rd_kids_cap)
		for (i = 0; i < rd->rd_nkids; i++)
			if (rd->rd_kids[i].ch_state == CH_GONE &&
			    rd->rd_kids[i].ch_pid == 0)
				break;
	if (i == rd->rd_kids_cap)
		return NULL;
	if (i == rd->rd_nkids)
		rd->rd_nkids++;
	ch = &rd->rd_kids[i];
	rd_spec_free(&ch->ch_spec);
	/* Still listed in rd_starting until the next poll: it stays so,
	 * once. */
	listed = ch->ch_listed;
	memset(ch, 0, sizeof(*ch));
	ch->ch_listed = listed;
	snprintf(ch->ch_name, sizeof(ch->ch_name), "%s", name ? name : "");
	ch->ch_group = group;
	ch->ch_seq = ++rd->rd_next_seq;
	ch->ch_order = RD_ORDER_REQUESTED;
	ch->ch_state = CH_DOWN;
	ch->ch_exec_fd = -1;
	ch->ch_restart_level = -1;
	return ch;
}

struct rd_child *
rd_child_by_aid(struct rd *rd, roost_aid_t aid)
{
	int i;

	for (i = 0; i < rd->rd_nkids; i++)
		if (rd->rd_kids[i].ch_state != CH_GONE &&
		    rd->rd_kids[i].ch_aid.id == aid.id && aid.id != 0)
			return &rd->rd_kids[i];
	return NULL;
}

struct rd_child *
rd_child_by_pid(struct rd *rd, pid_t pid)
{
	int i;

	for (i = 0; i < rd->rd_nkids; i++)
		if (rd->rd_kids[i].ch_pid == pid && pid > 0)
			return &rd->rd_kids[i];
	return NULL;
}

int
rd_spec_copy(struct rd_spec *dst, const char *program, char *const *argv,
             int argc)
{
	int i;

	memset(dst, 0, sizeof(*dst));
	dst->sp_program = strdup(program);
	dst->sp_argv = calloc((size_t)argc + 1, sizeof(char *));
	if (dst->sp_program == NULL || dst->sp_argv == NULL)
		goto fail;
	for (i = 0; i < argc; i++) {
		dst->sp_argv[i] = strdup(argv[i]);
		if (dst->sp_argv[i] == NULL)
			goto fail;
	}
	dst->sp_shutdown_ms = ROOST_SHUTDOWN_MS_DEF;
	return 0;
fail:
	rd_spec_free(dst);
	return -ENOMEM;
}

void
rd_spec_free(struct rd_spec *sp)
{
	int i;

	if (sp->sp_argv != NULL)
		for (i = 0; sp->sp_argv[i] != NULL; i++)
			free(sp->sp_argv[i]);
	free(sp->sp_argv);
	free(sp->sp_program);
	memset(sp, 0, sizeof(*sp));
}

/* The variables roostd sets for an actor; the rest of its own
 * environment is passed on. */
static const char *const roost_vars[] = {
	"ROOST_SYSTEM=", "ROOST_ACTOR=", "ROOST_SUPERVISED=", "ROOST_REATTACH=",
	"ROOST_MBOX_BYTES=", "ROOST_ROOSTD=",
};
#define NROOST_VARS (sizeof(roost_vars) / sizeof(roost_vars[0]))

static bool
is_roost_var(const char *e)
{
	size_t i;

	for (i = 0; i < NROOST_VARS; i++)
		if (strncmp(e, roost_vars[i], strlen(roost_vars[i])) == 0)
			return true;
	return false;
}

/* An actor's environment: ours without the ROOST_ variables above, then
 * those for 'ch'. One allocation (free() it): the pointers, then the
 * strings roostd adds. NULL when out of memory. */
static char **
child_env(struct rd *rd, const struct rd_child *ch)
{
	extern char **environ;
	size_t n = 0;
	size_t k = 0;
	char **env;
	char *add;
	size_t i;

	while (environ[n] != NULL)
		n++;
	env = malloc((n + NROOST_VARS + 1) * sizeof(char *) + 512);
	if (env == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (!is_roost_var(environ[i]))
			env[k++] = environ[i];
	add = (char *)(env + n + NROOST_VARS + 1);
	/* 512 bytes: a system name (31), an actor name (ROOST_NAME_MAX),
	 * three numbers and the variables' names. */
	env[k++] = add;
	add += sprintf(add, "ROOST_SYSTEM=%s", rd->rd_system) + 1;
	env[k++] = add;
	add += sprintf(add, "ROOST_SUPERVISED=1") + 1;
	env[k++] = add;
	add += sprintf(add, "ROOST_ROOSTD=%016llx",
	               (unsigned long long)roost_self(rd->rd_ctx).id) + 1;
	if (ch->ch_name[0] != '\0') {
		env[k++] = add;
		add += sprintf(add, "ROOST_ACTOR=%s", ch->ch_name) + 1;
	}
	if (ch->ch_aid.id != 0) {
		env[k++] = add;
		add += sprintf(add, "ROOST_REATTACH=%016llx",
		               (unsigned long long)ch->ch_aid.id) + 1;
	}
	if (ch->ch_spec.sp_mbox_bytes != 0) {
		env[k++] = add;
		sprintf(add, "ROOST_MBOX_BYTES=%u", ch->ch_spec.sp_mbox_bytes);
	}
	env[k] = NULL;
	return env;
}

/*
 * In the child of vfork(): it shares our memory until the exec, so it
 * only makes system calls (its signal dispositions and mask are its
 * own), and reports a failed exec's errno through 'errfd'. Never
 * returns.
 */
static void
exec_child(const struct rd_child *ch, char **env, int errfd)
{
	sigset_t none;
	int err;
	int s;

	for (s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	rd_limits_restore();
	execve(ch->ch_spec.sp_program, ch->ch_spec.sp_argv, env);
	err = errno;
	(void)!write(errfd, &err, sizeof(err));
	_exit(127);
}

int
rd_child_spawn(struct rd *rd, struct rd_child *ch)
{
	sigset_t all;
	sigset_t old;
	char **volatile env; /* read again after vfork() */
	pid_t pid;
	int fds[2];
	int err = 0;

	if (ch->ch_nospec)
		return -ENOEXEC;
	if (ch->ch_exec_fd >= 0) {
		close(ch->ch_exec_fd);
		ch->ch_exec_fd = -1;
	}
	/* The child opens the system first: its header must be whole. */
	rd_audit_header(rd);
	/* A new life: whatever ended the last one does not carry over. */
	ch->ch_kill = false;
	ch->ch_stopping = false;
	env = child_env(rd, ch);
	if (env == NULL)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(env);
		return -errno;
	}
	/* No handler of ours may run in the child before exec. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	ch->ch_t0 = roost__plat_now_ns();
	/* vfork: no copy of our page tables, which grow with the actors
	 * (a fork's cost grows with them); we resume once it exec'd. */
	pid = vfork();
	if (pid == 0)
		exec_child(ch, env, fds[1]);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(env);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -err;
	}
	ch->ch_pid = pid;
	ch->ch_is_child = true;
	ch->ch_in_slot = false; /* a restart: until it reattaches */
	/* For rd_child_signal: a child cannot be reaped before we read it;
	 * 0 when it cannot be read (then only the pid says it is ours). */
	if (roost__plat_proc_start(pid, &ch->ch_pid_start) != 0)
		ch->ch_pid_start = 0;
	if (ch->ch_aid.id == 0) {
		/* The exec's outcome is read by rd_children_poll_attach, so
		 * the loop goes on meanwhile: EOF when exec succeeded (the
		 * pipe closed with it), else the child's errno. */
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		ch->ch_exec_fd = fds[0];
		ch->ch_state = CH_STARTING;
		ch->ch_attach_deadline = ch->ch_t0 + ATTACH_WAIT_NS;
		if (!ch->ch_listed) {
			ch->ch_listed = true;
			rd->rd_starting[rd->rd_nstarting++] = ch;
		}
	} else {
		/* A restart: an exec that fails now exits 127, which the
		 * policy and the intensity judge like any exit. */
		close(fds[0]);
		ch->ch_state = CH_RUNNING;
		rd_log(RD_INFO, "restarted %s (pid %d, address %u.%u)",
		       ch->ch_name, (int)pid, roost_aid_slot(ch->ch_aid),
		       roost_aid_gen(ch->ch_aid));
	}
	rd_keep_child(rd, ch);
	return 0;
}

bool
rd_children_starting(const struct rd *rd)
{
	/* Listed by each spawn, kept by each poll while starting: never
	 * empty while one is starting (a stale entry costs one poll). */
	return rd->rd_nstarting > 0;
}

static void system_fails(struct rd *rd, const char *why);

/*
 * The exec of a starting child: 0 while unknown or done, or its errno
 * when it failed (the child exits 127; it is not restarted). A config
 * actor that cannot exec stops the system.
 */
static int
check_exec(struct rd *rd, struct rd_child *ch)
{
	char why[ROOST_NAME_MAX + 160];
	ssize_t n;
	int err = 0;

	if (ch->ch_exec_fd < 0)
		return 0;
	n = read(ch->ch_exec_fd, &err, sizeof(err));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0; /* not exec'd yet */
	close(ch->ch_exec_fd);
	ch->ch_exec_fd = -1;
	if (n != (ssize_t)sizeof(err))
		return 0; /* EOF: the exec succeeded */
	if (err <= 0)
		err = ENOEXEC;
	snprintf(why, sizeof(why), "cannot start %s: exec %s: %s",
	         ch->ch_name[0] ? ch->ch_name : "actor",
	         ch->ch_spec.sp_program, strerror(err));
	ch->ch_kill = true;
	if (ch->ch_req_from.id == 0)
		system_fails(rd, why);
	else
		rd_log(RD_ERR, "%s", why);
	return err;
}

/* Answer a pending spawn request, if any. */
static void
answer_spawn(struct rd *rd, struct rd_child *ch, int rc)
{
	if (ch->ch_req_from.id == 0)
		return;
	rd_reply(rd, ch->ch_req_from, ch->ch_req_corr, rc, rc == 0,
	         ch->ch_aid.id);
	ch->ch_req_from.id = 0;
}

/* The slot an active actor of pid 'pid' holds (the pid stays in the
 * slot of a supervised actor that died), or the table's size. */
static uint32_t
slot_of_pid(struct rd *rd, pid_t pid, struct roost__slot_view *sv)
{
	uint32_t i;

	for (i = 0; i < rd->rd_sy.sy_fixed.sf_nslots; i++) {
		if (roost__sys_slot_read(&rd->rd_sy, i, sv) == 0 &&
		    sv->sv_state == ROOST_SLOT_ACTIVE && sv->sv_pid == pid)
			break;
	}
	return i;
}

static int
by_pid(const void *a, const void *b)
{
	pid_t x = (*(struct rd_child *const *)a)->ch_pid;
	pid_t y = (*(struct rd_child *const *)b)->ch_pid;

	return x < y ? -1 : x > y;
}

/* 'ch' published its mailbox in slot 'i' ('sv'). */
static void
attached(struct rd *rd, struct rd_child *ch, uint32_t i,
         const struct roost__slot_view *sv, uint64_t now)
{
	ch->ch_aid = roost__aid_make(i, sv->sv_gen);
	ch->ch_state = CH_RUNNING;
	if (ch->ch_exec_fd >= 0) {
		close(ch->ch_exec_fd); /* it runs: its exec succeeded */
		ch->ch_exec_fd = -1;
	}
	ch->ch_in_slot = true;
	/* Spawn-to-ready: fork until its mailbox is published. */
	rd_log(RD_INFO, "started %s (pid %d, address %u.%u, ready in %.2f ms)",
	       ch->ch_name[0] ? ch->ch_name : "actor", (int)ch->ch_pid, i,
	       sv->sv_gen, (double)(now - ch->ch_t0) / 1e6);
	rd_keep_child(rd, ch);
	answer_spawn(rd, ch, 0);
	rd_stats_spawn(now - ch->ch_t0);
}

/*
 * One pass over the table for every starting child at once: the pid and
 * state words are looked at without the slot's sequence (a hint), and
 * only a slot whose pid is one of theirs is read whole. So a poll costs
 * one walk of the table however many children are starting.
 */
static void
find_attached(struct rd *rd, struct rd_child **set, int n, uint64_t now)
{
	const struct roost__slot *slots = rd->rd_sy.sy_slots;
	struct roost__slot_view sv;
	struct rd_child key;
	struct rd_child *kp = &key;
	struct rd_child **hit;
	uint64_t t0 = now;
	uint32_t i;

	qsort(set, (size_t)n, sizeof(*set), by_pid);
	for (i = 0; i < rd->rd_sy.sy_fixed.sf_nslots; i++) {
		if (roost__load_rlx(&slots[i].sl_state) != ROOST_SLOT_ACTIVE)
			continue;
		key.ch_pid = roost__load_rlx(&slots[i].sl_pid);
		hit = bsearch(&kp, set, (size_t)n, sizeof(*set), by_pid);
		if (hit == NULL || (*hit)->ch_state != CH_STARTING ||
		    roost__sys_slot_read(&rd->rd_sy, i, &sv) != 0 ||
		    sv.sv_state != ROOST_SLOT_ACTIVE ||
		    sv.sv_pid != (*hit)->ch_pid)
			continue;
		attached(rd, *hit, i, &sv, now);
	}
	/* A walk of a large table costs: the next one waits at least
	 * twenty times as long (at most 5% of roostd's time). */
	now = roost__plat_now_ns() - t0;
	rd->rd_attach_poll_ns = now * 20 > RD_ATTACH_POLL_NS ? now * 20
	                                                     : RD_ATTACH_POLL_NS;
}

void
rd_children_told_attached(struct rd *rd, roost_aid_t aid)
{
	struct roost__slot_view sv;
	uint32_t slot = roost_aid_slot(aid);
	struct rd_child *ch;
	int k;

	/* Believed only as the table shows it: that address is active,
	 * held by the process of one of our starting children. */
	if (roost__sys_slot_read(&rd->rd_sy, slot, &sv) != 0 ||
	    sv.sv_state != ROOST_SLOT_ACTIVE ||
	    sv.sv_gen != roost_aid_gen(aid))
		return;
	for (k = 0; k < rd->rd_nstarting; k++) {
		ch = rd->rd_starting[k];
		if (ch->ch_state == CH_STARTING && ch->ch_pid == sv.sv_pid) {
			attached(rd, ch, slot, &sv, roost__plat_now_ns());
			return;
		}
	}
}

void
rd_children_poll_attach(struct rd *rd)
{
	uint64_t now = roost__plat_now_ns();
	struct rd_child **set = rd->rd_starting;
	struct rd_child *ch;
	int n = 0;
	int rc;
	int k;

	/* The list holds every child that became STARTING since the last
	 * poll (rd_child_spawn), and those that were still: keep those
	 * that still are. */
	for (k = 0; k < rd->rd_nstarting; k++) {
		ch = set[k];
		ch->ch_listed = false;
		if (ch->ch_state != CH_STARTING)
			continue;
		rc = check_exec(rd, ch);
		if (rc != 0) {
			answer_spawn(rd, ch, -rc);
			continue; /* its exit (127) ends it */
		}
		set[n++] = ch;
	}
	/* The walk of the table at its own pace: a loop turn per request
	 * would walk it per request. */
	if (n > 0 && now >= rd->rd_attach_walk_ns) {
		find_attached(rd, set, n, now);
		rd->rd_attach_walk_ns = now + rd->rd_attach_poll_ns;
	}
	rd->rd_nstarting = 0;
	for (k = 0; k < n; k++) {
		ch = set[k];
		if (ch->ch_state != CH_STARTING)
			continue;
		if (now <= ch->ch_attach_deadline) {
			ch->ch_listed = true;
			set[rd->rd_nstarting++] = ch;
			continue;
		}
		rd_log(RD_ERR, "%s did not attach within 5 s: killing it",
		       ch->ch_name[0] ? ch->ch_name : "actor");
		/* A spawn request fails for good; a config actor's exit is
		 * judged by its policy and intensity. */
		if (ch->ch_req_from.id != 0)
			ch->ch_kill = true;
		answer_spawn(rd, ch, -ETIMEDOUT);
		rd_child_signal(ch, SIGKILL);
		ch->ch_state = CH_RUNNING; /* its exit ends it */
	}
}

/* --- dead letters ----------------------------------------------------- */

struct poison {
	struct rd *po_rd;
	const struct rd_child *po_ch;
	int po_rc;
};

/* Copy a retired message to the dead-letter mailbox. */
static void
dead_letter(void *arg, const struct roost_msg *m)
{
	struct poison *po = arg;

	po->po_rc = po->po_rd->rd_dead == NULL ? -ENOTCONN :
	            roost__send_dead_letter(po->po_rd->rd_ctx,
	                                    roost_self(po->po_rd->rd_dead),
	                                    po->po_ch->ch_aid,
	                                    po->po_ch->ch_name, m);
}

/* Before a restart: a message that killed the actor twice is retired. */
static void
retire_poison(struct rd *rd, const struct rd_child *ch)
{
	struct poison po = {rd, ch, 0};
	struct roost__mbox *mb;

	if (ch->ch_aid.id == 0 ||
	    roost__ctx_peer(rd->rd_ctx, ch->ch_aid, &mb) < 0)
		return;
	if (roost__mbox_retire_poison(mb, dead_letter, &po) == 1) {
		rd->rd_deadletters++;
		rd_status_deadletter(rd, ch);
		rd_log(RD_ERR, "%s died twice handling the same message: it "
		       "goes to the dead letters%s%s", ch->ch_name,
		       po.po_rc < 0 ? " (lost: " : "",
		       po.po_rc < 0 ? roost_strerror(po.po_rc) : "");
	}
}

/* --- exits ------------------------------------------------------------ */

static void
describe_exit(int status, bool known, char *buf, size_t len)
{
	if (!known)
		snprintf(buf, len, "ended (status unknown: not roostd's child)");
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "ended (status 0x%x)", status);
}

/* The state of the actor's mailbox (ROOST_MBOX_*), or -1 when it has no
 * address or its mailbox is gone. */
static int64_t
lane_state(struct rd *rd, const struct rd_child *ch)
{
	struct roost__mbox *mb;

	if (ch->ch_aid.id == 0 ||
	    roost__ctx_peer(rd->rd_ctx, ch->ch_aid, &mb) < 0)
		return -1;
	return roost__load_acq(&mb->mb_hdr->mh_lock.lk_state);
}

bool
rd_child_lane_shut(struct rd *rd, const struct rd_child *ch)
{
	/* Shut, or already closed by an actor that finished its drain (its
	 * address may be gone by now): only an open lane disproves it. */
	return lane_state(rd, ch) != ROOST_MBOX_OPEN;
}

/* True if the actor's user lane was shut by a graceful stop. */
static bool
was_stopped(struct rd *rd, const struct rd_child *ch)
{
	return lane_state(rd, ch) == ROOST_MBOX_USER_SHUT;
}

/* True while the slot of 'ch' still holds its address. */
static bool
address_kept(struct rd *rd, const struct rd_child *ch)
{
	return roost__sys_aid_live(&rd->rd_sy, ch->ch_aid);
}

/* Record a restart at 'level'; false if it exceeds the intensity. */
static bool
within_intensity(struct rd *rd, int level)
{
	const struct rd_group *g = &rd->rd_cfg->rc_groups[level];
	struct rd_level *lv = &rd->rd_levels[level];
	uint64_t now = roost__plat_now_ns();
	uint32_t cap = g->rg_intensity + 1;
	uint64_t oldest;

	if (g->rg_intensity == 0)
		return false;
	/* The ring holds the last 'intensity' restarts: one more within the
	 * period than that is too many. */
	if (lv->lv_n >= g->rg_intensity) {
		oldest = lv->lv_times[(lv->lv_n - g->rg_intensity) % cap];
		if (now - oldest < (uint64_t)g->rg_period_s * 1000000000u)
			return false;
	}
	lv->lv_times[lv->lv_n % cap] = now;
	lv->lv_n++;
	rd_keep_level(rd, level);
	return true;
}

/* The actor is gone for good: release its slot, alarms and watches. */
static void
child_gone(struct rd *rd, struct rd_child *ch)
{
	ch->ch_state = CH_GONE;
	if (ch->ch_aid.id == 0)
		return;
	rd_keep_forget(rd, ch->ch_aid);
	if (rd->rd_timers != NULL)
		rd_timers_drop_target(rd->rd_timers, ch->ch_aid);
	rd_watches_forget(rd, ch->ch_aid);
	/* A one-shot that returned closed its own context: -ESRCH here. */
	roost__sys_release_dead(&rd->rd_sy, ch->ch_aid);
}

static int
by_seq(const void *a, const void *b)
{
	const struct rd_child *x = *(struct rd_child *const *)a;
	const struct rd_child *y = *(struct rd_child *const *)b;

	return x->ch_seq < y->ch_seq ? -1 : x->ch_seq > y->ch_seq;
}

/*
 * Once no member awaiting the restart of 'level' runs any more (their
 * stops are over), bring back, in start order, those that should come
 * back. Members killed or stopped meanwhile (roost_kill, roost_stop)
 * stay down for good.
 */
static void
restart_resume(struct rd *rd, int level)
{
	struct rd_child **set;
	struct rd_child *ch;
	int n = 0;
	int i;

	for (i = 0; i < rd->rd_nkids; i++)
		if (rd->rd_kids[i].ch_restart_level == level &&
		    rd->rd_kids[i].ch_pid > 0)
			return;
	set = calloc((size_t)rd->rd_nkids + 1, sizeof(*set));
	if (set == NULL) {
		system_fails(rd, "out of memory");
		return;
	}
	for (i = 0; i < rd->rd_nkids; i++) {
		ch = &rd->rd_kids[i];
		if (ch->ch_restart_level != level)
			continue;
		ch->ch_restart_level = -1;
		set[n++] = ch;
	}
	qsort(set, (size_t)n, sizeof(*set), by_seq);
	for (i = 0; i < n && !rd->rd_stopping; i++) {
		ch = set[i];
		if (ch->ch_state != CH_DOWN)
			continue;
		if (ch->ch_kill || ch->ch_stopping) {
			child_gone(rd, ch);
			continue;
		}
		retire_poison(rd, ch);
		ch->ch_restarts++;
		rd_stats_restart();
		if (rd_child_spawn(rd, ch) < 0)
			child_gone(rd, ch);
	}
	free(set);
}

/*
 * Restart the members of 'set' (the failed one among them, down
 * already) as one restart of 'level': the running ones are stopped with
 * SIGTERM (their mail stays queued), all at once, and the restart goes
 * on in restart_resume() when the last of them has ended.
 */
static void
restart_set(struct rd *rd, struct rd_child **set, int n,
            const struct rd_child *failed, int level)
{
	bool moved[RD_MAX_GROUPS + 1] = {false};
	struct rd_child *ch;
	bool back;
	int i;

	for (i = n - 1; i >= 0; i--) {
		ch = set[i];
		/* Taken over from another level's pending restart, which may
		 * now be complete without it. */
		if (ch->ch_restart_level >= 0 && ch->ch_restart_level != level)
			moved[ch->ch_restart_level] = true;
		/* A sibling comes back unless it was on its way out anyway
		 * (killed, stopped) or is temporary: never restarted. */
		back = ch == failed ||
		       (!ch->ch_kill && !ch->ch_stopping && !was_stopped(rd, ch) &&
		        ch->ch_spec.sp_restart != RD_TEMPORARY);
		ch->ch_restart_level = level;
		ch->ch_stop_back = back;
		if (ch->ch_pid > 0) {
			rd_stop_begin(rd, ch, RD_STOP_FOR_RESTART);
			continue;
		}
		ch->ch_state = back ? CH_DOWN : CH_GONE;
		if (!back) {
			ch->ch_restart_level = -1;
			child_gone(rd, ch);
		}
		rd_keep_child(rd, ch);
	}
	restart_resume(rd, level);
	for (i = 0; i <= RD_MAX_GROUPS; i++)
		if (moved[i])
			restart_resume(rd, i);
}


/* The members of 'level' (all children for the top) that a failure of
 * 'failed' takes down under 'strategy', in start order. */
static int
strategy_set(struct rd *rd, int level, enum rd_strategy strategy,
             struct rd_child *failed, struct rd_child **set)
{
	struct rd_child *ch;
	int n = 0;
	int i;

	for (i = 0; i < rd->rd_nkids; i++) {
		ch = &rd->rd_kids[i];
		if (ch->ch_state == CH_GONE || ch->ch_oneshot || ch->ch_nospec ||
		    (level != 0 && ch->ch_group != level))
			continue;
		/* Not started yet (start-up is still under way): start-up
		 * starts it, not the strategy. */
		if (ch != failed && ch->ch_pid == 0 && ch->ch_restarts == 0 &&
		    ch->ch_state == CH_DOWN && ch->ch_aid.id == 0)
			continue;
		if (ch == failed || strategy == RD_ONE_FOR_ALL ||
		    (strategy == RD_REST_FOR_ONE && ch->ch_seq > failed->ch_seq))
			set[n++] = ch;
	}
	qsort(set, (size_t)n, sizeof(*set), by_seq);
	return n;
}

static void
system_fails(struct rd *rd, const char *why)
{
	rd_log(RD_ERR, "%s: stopping the system", why);
	rd->rd_exit = 1;
	rd->rd_stopping = true;
}

/* 'ch' must restart: check intensity, apply the strategy, escalate. */
static void
supervise(struct rd *rd, struct rd_child *ch)
{
	const struct rd_config *cfg = rd->rd_cfg;
	int level = ch->ch_group;
	struct rd_child **set;
	char why[160];
	int n;

	set = calloc((size_t)rd->rd_nkids + 1, sizeof(*set));
	if (set == NULL) {
		system_fails(rd, "out of memory");
		return;
	}
	if (within_intensity(rd, level)) {
		n = strategy_set(rd, level, cfg->rc_groups[level].rg_strategy,
		                 ch, set);
		restart_set(rd, set, n, ch, level);
		goto out;
	}
	snprintf(why, sizeof(why), "%s%s%s: more than %u restarts in %u s",
	         level ? "group " : "", level ? cfg->rc_groups[level].rg_name
	         : "top level", "", cfg->rc_groups[level].rg_intensity,
	         cfg->rc_groups[level].rg_period_s);
	if (level == 0) {
		system_fails(rd, why);
		goto out;
	}
	/* The group gives up: it counts as one failure of the top. */
	rd_log(RD_ERR, "%s: stopping the group, escalating to the top", why);
	if (!within_intensity(rd, 0)) {
		snprintf(why, sizeof(why), "top level: more than %u restarts "
		         "in %u s", cfg->rc_groups[0].rg_intensity,
		         cfg->rc_groups[0].rg_period_s);
		system_fails(rd, why);
		goto out;
	}
	rd->rd_levels[level].lv_n = 0;
	rd_keep_level(rd, level);
	n = strategy_set(rd, level, RD_ONE_FOR_ALL, ch, set);
	rd_log(RD_INFO, "restarting group %s (%d actors)",
	       cfg->rc_groups[level].rg_name, n);
	restart_set(rd, set, n, ch, level);
out:
	free(set);
}

/*
 * A stop of 'ch' for 'why' is over: its process ended with 'status'
 * ('known' false when it was not our child). A sibling of a strategy
 * restart waits down for the rest of its level; an actor of the
 * shutdown is gone for good. Its watchers and the tools hear of it
 * either way.
 */
static void
stop_finished(struct rd *rd, struct rd_child *ch, enum rd_stop_for why,
              int status, bool known)
{
	int level = ch->ch_restart_level;
	bool back = why == RD_STOP_FOR_RESTART && ch->ch_stop_back &&
	            !ch->ch_kill && !ch->ch_stopping && !rd->rd_stopping;
	roost_exit_reason_t reason = why == RD_STOP_FOR_END
	                             ? ROOST_EXIT_STOPPED : ROOST_EXIT_SHUTDOWN;

	if (ch->ch_state == CH_STARTING) {
		int err = check_exec(rd, ch); /* died of a failed exec? */

		answer_spawn(rd, ch, err != 0 ? -err : -ECHILD);
	}
	rd_notify_down(rd, ch, status, known, back && address_kept(rd, ch),
	               reason);
	rd_status_exit(rd, ch, status, known, reason);
	ch->ch_pid = 0;
	if (!back) {
		ch->ch_restart_level = -1;
		child_gone(rd, ch);
	} else {
		ch->ch_state = CH_DOWN;
		if (!address_kept(rd, ch)) {
			/* It closed its context: it comes back at a new
			 * address. */
			rd_watches_forget(rd, ch->ch_aid);
			rd_keep_forget(rd, ch->ch_aid);
			ch->ch_aid.id = 0;
		}
		rd_keep_child(rd, ch);
	}
	if (level >= 0)
		restart_resume(rd, level);
}

void
rd_child_ended(struct rd *rd, struct rd_child *ch, int status, bool known)
{
	const struct rd_spec *sp = &ch->ch_spec;
	bool abnormal = !known || !WIFEXITED(status) ||
	                WEXITSTATUS(status) != 0;
	bool stopped = ch->ch_stopping || was_stopped(rd, ch);
	const char *name = ch->ch_name[0] ? ch->ch_name : "actor";
	roost_exit_reason_t reason;
	enum rd_stop_for stop;
	bool never_attached = false;
	pid_t ended = ch->ch_pid;
	bool restart;
	char why[96];

	/* Its slot held by another live process: the actor runs on. */
	ch->ch_pid = 0; /* ended: nothing of ours to kill */
	if (rd_child_follow_holder(rd, ch))
		return;
	ch->ch_pid = ended;
	/* The end of a stop of ours, or of a graceful stop that a restart
	 * waits for; a stop someone else asked for ends like any exit. */
	if (ch->ch_stop != RD_STOP_NONE) {
		stop = rd_stop_end(rd, ch);
		if (stop != RD_STOP_FOR_END || ch->ch_restart_level >= 0) {
			stop_finished(rd, ch, stop, status, known);
			return;
		}
	}
	describe_exit(status, known, why, sizeof(why));
	if (ch->ch_state == CH_STARTING) {
		struct roost__slot_view sv;
		int err = check_exec(rd, ch); /* died of a failed exec? */
		uint32_t i;

		if (err != 0)
			answer_spawn(rd, ch, -err);
		/* It attached and died before our poll saw it (a message
		 * sent at once can kill it): its supervised slot keeps its
		 * pid, so its address is still known, and a restart takes it
		 * over instead of finding its name taken. */
		i = slot_of_pid(rd, ch->ch_pid, &sv);
		never_attached = i == rd->rd_sy.sy_fixed.sf_nslots;
		if (ch->ch_aid.id == 0 && !never_attached &&
		    (sv.sv_flags & ROOST_SLOT_F_SUPERVISED))
			ch->ch_aid = roost__aid_make(i, sv.sv_gen);
	}
	if (ch->ch_state == CH_STARTING && ch->ch_req_from.id != 0) {
		/* A spawn request fails; its caller decides what next. */
		ch->ch_pid = 0;
		rd_log(RD_ERR, "%s %s before attaching", name, why);
		answer_spawn(rd, ch, -ECHILD);
		child_gone(rd, ch);
		return;
	}
	/* One that ended before it attached failed. If it finished (status
	 * 0), starting it again would only do the same (a program that is
	 * not an actor, say /bin/true): it stays down. If it crashed, it is
	 * restarted by its policy, and its intensity judges a loop. */
	restart = !ch->ch_kill && !stopped && !ch->ch_oneshot &&
	          !ch->ch_nospec && !rd->rd_stopping &&
	          !(never_attached && !abnormal) &&
	          (sp->sp_restart == RD_PERMANENT ||
	           (sp->sp_restart == RD_TRANSIENT && abnormal));
	if (ch->ch_kill)
		reason = ROOST_EXIT_KILLED;
	else if (stopped)
		reason = ROOST_EXIT_STOPPED;
	else if (!known)
		reason = ROOST_EXIT_LOST;
	else if (never_attached)
		reason = ROOST_EXIT_NOATTACH;
	else if (WIFSIGNALED(status))
		reason = ROOST_EXIT_SIGNAL;
	else
		reason = abnormal ? ROOST_EXIT_EXIT : ROOST_EXIT_NORMAL;
	if (reason == ROOST_EXIT_NOATTACH)
		rd_log(RD_ERR, "%s never attached: it %s before attaching%s",
		       name, why,
		       restart ? "; restarting"
		               : "; not restarted (is it a roost actor?)");
	else
		rd_log(abnormal && !ch->ch_kill ? RD_ERR : RD_INFO, "%s %s%s",
		       name, why, restart ? "; restarting" : "");
	/* Watchers watch the address: a restart at a new one (the actor
	 * closed its context) is an end for them. */
	rd_notify_down(rd, ch, status, known, restart && address_kept(rd, ch),
	               reason);
	rd_status_exit(rd, ch, status, known, reason);
	ch->ch_pid = 0;
	if (!restart) {
		child_gone(rd, ch);
		return;
	}
	ch->ch_state = CH_DOWN;
	if (!address_kept(rd, ch)) {
		/* It closed its context: its address is gone, so it comes
		 * back at a new one. */
		rd_watches_forget(rd, ch->ch_aid);
		rd_keep_forget(rd, ch->ch_aid);
		ch->ch_aid.id = 0;
	}
	supervise(rd, ch);
	rd_keep_child(rd, ch);
}

void
rd_children_reap(struct rd *rd)
{
	struct rd_child *ch;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		/* Ours, or a one-shot reparented to us (subreaper). */
		ch = rd_child_by_pid(rd, pid);
		if (ch != NULL)
			rd_child_ended(rd, ch, status, true);
	}
}

void
rd_child_kill(struct rd *rd, struct rd_child *ch)
{
	ch->ch_kill = true;
	rd_keep_child(rd, ch);
	rd_child_signal(ch, SIGKILL);
}

/*
 * Every signal roostd sends to an actor goes through here. kill() with
 * a pid of 0 or below signals a process group (or every process), so
 * such a pid is never used; and the pid's start time is checked right
 * before the kill, so a pid the kernel handed to another process after
 * ours ended is never signalled. (Our own child keeps its pid until we
 * reap it; a watched one does not.)
 */
bool
rd_child_signal(const struct rd_child *ch, int sig)
{
	uint64_t start = 0;
	bool ours;
	int rc;

	if (ch->ch_pid <= 0)
		return false;
	rc = roost__plat_proc_start(ch->ch_pid, &start);
	if (rc == -ESRCH)
		return false; /* gone, or a zombie */
	if (rc == 0 && ch->ch_pid_start != 0)
		ours = start == ch->ch_pid_start;
	else /* start time unknown: only an unreaped child is surely ours */
		ours = ch->ch_is_child;
	return ours && kill(ch->ch_pid, sig) == 0;
}

void
rd_restarts_resume(struct rd *rd)
{
	int level;

	for (level = 0; level <= RD_MAX_GROUPS; level++)
		restart_resume(rd, level);
}
