/* SPDX-License-Identifier: MIT */
/*
 * tx_atomically.c - a transaction whose owner must receive another
 * message to finish it, and why that needs two lanes and selective
 * receive.
 *
 * Three actors:
 *  - the owner O holds an account balance (100). It handles TRANSFER as a
 *    transaction: it asks the auditor to approve the amount and waits for
 *    the verdict before it commits. While it waits, no other user request
 *    may touch the balance (atomicity), so it receives only from its
 *    system lane, with roost_recv_aside(): its user lane stays queued,
 *    and the TRANSFER stays in hand, so O answers it with roost_reply()
 *    when the transaction is over (and were O to crash mid-way, the
 *    TRANSFER is the message redelivered).
 *  - the auditor T handles AUDIT by calling O's GET_BALANCE, mid-way
 *    through O's transaction, and then approves or refuses.
 *  - the client (this program's main) sends TRANSFER 30 as a request,
 *    then DEPOSIT 50 right behind it, and waits for the owner's answer.
 *
 * T sends GET_BALANCE with roost_call(..., ROOST_SEND_SYSTEM, ...): it
 * arrives on O's system lane, O answers it from inside its wait, T
 * approves, and the transaction completes. The DEPOSIT queued behind the
 * TRANSFER waits its turn, so T sees the balance as it was before the
 * transaction, never half-way through another request.
 *
 * With --fifo, T sends GET_BALANCE on the user lane, as it would with
 * one FIFO queue per actor: the request waits behind the TRANSFER that O
 * is still handling, and O, waiting for T, never sees it. That is the
 * `atomically` deadlock. Both waits have timeouts, so both give up (T
 * after 500 ms, O after 1 s) and nothing hangs: O aborts the transaction
 * and the balance is unchanged.
 *
 * Usage: tx_atomically [--fifo]
 * Exit status 0 when the outcome is the expected one (committed; with
 * --fifo, both waits timed out), 1 otherwise.
 */
#include <roost.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
	K_TRANSFER = 1,      /* request to O: {amount}; answered with
	                        K_TRANSFER_DONE */
	K_DEPOSIT = 2,       /* client -> O: {amount} */
	K_GET_BALANCE = 3,   /* call to O; answered with K_BALANCE */
	K_AUDIT = 4,         /* O -> T: {amount}; answered with K_VERDICT */
	K_REPORT = 5,        /* call to T; answered with K_AUDIT_REPORT */
	K_BALANCE = 10,      /* {balance} */
	K_VERDICT = 11,      /* {approved, saw} */
	K_AUDIT_REPORT = 12, /* {rc, ms, saw}: T's last GET_BALANCE call */
	K_TRANSFER_DONE = 13 /* {rc, balance, ms}: the transaction */
};

/* The transaction's timeout is the longer one, as an outer wait's should
 * be: the inner call ends first (and without an answer T gives no
 * verdict), so in --fifo both waits always end by their timeouts. */
#define CALL_TIMEOUT_MS 500 /* T's call of GET_BALANCE */
#define TX_TIMEOUT_MS 1000  /* O's wait for the verdict */
#define START_BALANCE 100
#define TRANSFER 30
#define DEPOSIT 50

static char sys_name[ROOST_SYSTEM_NAME_MAX + 1];
static int fifo; /* --fifo: GET_BALANCE on the user lane */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static roost_ctx_t *
open_ctx(const char *name)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = sys_name;
	o.name = name;
	rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "tx_atomically: open %s: %s\n",
		        name ? name : "-", roost_strerror(rc));
		return NULL;
	}
	return ctx;
}

/* Look 'name' up, waiting up to 5 s for its process to register it. */
static int
whereis_wait(roost_ctx_t *ctx, const char *name, roost_aid_t *out)
{
	int rc = -ENOENT;
	int i;

	for (i = 0; i < 5000 && rc == -ENOENT; i++) {
		rc = roost_whereis(ctx, name, out);
		if (rc == -ENOENT)
			usleep(1000);
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * The owner O.
 */
struct owner {
	int64_t ow_balance;
	roost_aid_t ow_auditor;
	uint64_t ow_corr; /* correlation ids of our AUDIT requests */
};

static int
owner_init(roost_ctx_t *ctx, void *state)
{
	struct owner *o = state;

	return whereis_wait(ctx, "auditor", &o->ow_auditor);
}

static int
on_get_balance(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct owner *o = state;

	return roost_reply_packed(ctx, m, K_BALANCE, "{s:I}", "balance",
	                          o->ow_balance) < 0 ? -EIO : ROOST_CONTINUE;
}

static int
on_deposit(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct owner *o = state;
	int64_t amount;

	(void)ctx;
	if (roost_msg_get_int(m, "amount", &amount) < 0)
		return -EPROTO;
	o->ow_balance += amount;
	return ROOST_CONTINUE;
}

/* What the owner takes while a transaction is open: a GET_BALANCE call
 * (on the system lane) or the auditor's reply to our AUDIT. */
struct tx_wait {
	uint64_t tw_corr;
	roost_aid_t tw_auditor;
};

static bool
tx_match(const roost_msg_t *m, void *arg)
{
	struct tx_wait *w = arg;

	if (roost_msg_kind(m) == K_GET_BALANCE)
		return roost_msg_corr(m) != 0; /* a call: it can be answered */
	return (roost_msg_flags(m) & ROOST_MSG_REPLY) &&
	       roost_msg_corr(m) == w->tw_corr &&
	       roost_aid_eq(roost_msg_from(m), w->tw_auditor);
}

/*
 * The transaction: ask the auditor, and until its verdict arrives serve
 * only the system lane. The user lane (the DEPOSIT, and in --fifo mode
 * the auditor's GET_BALANCE) stays queued for after the transaction.
 * Each message is taken aside, so the TRANSFER stays in hand.
 * Returns 0 and '*approved', or -ETIMEDOUT.
 */
static int
audit(roost_ctx_t *ctx, struct owner *o, int64_t amount, bool *approved)
{
	struct tx_wait w = {++o->ow_corr, o->ow_auditor};
	double deadline = now_ms() + TX_TIMEOUT_MS;
	roost_msg_t *m;
	uint8_t buf[32];
	int left;
	int n;
	int rc;

	/* A request with a correlation id, so T can roost_reply() to it. */
	n = roost_pack(buf, sizeof(buf), "{s:I}", "amount", amount);
	rc = n < 0 ? n : roost_send_ex(ctx, o->ow_auditor, K_AUDIT,
	                               ROOST_SEND_MSGPACK, w.tw_corr, buf,
	                               (size_t)n, 1000);
	while (rc == 0) {
		left = (int)(deadline - now_ms() + 0.999); /* round up */
		rc = roost_recv_aside(ctx, &m, ROOST_LANE_SYSTEM, tx_match, &w,
		                      left > 0 ? left : 0);
		if (rc == -EAGAIN)
			rc = -ETIMEDOUT; /* deadline already passed */
		if (rc < 0)
			break;
		if (roost_msg_kind(m) == K_GET_BALANCE) {
			rc = on_get_balance(ctx, o, m) < 0 ? -EIO : 0;
			continue; /* still waiting for the verdict */
		}
		return roost_msg_get_bool(m, "approved", approved);
	}
	return rc;
}

static int
on_transfer(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct owner *o = state;
	double t0 = now_ms();
	bool approved = false;
	int64_t amount;
	int rc;

	if (roost_msg_get_int(m, "amount", &amount) < 0)
		return -EPROTO;
	rc = audit(ctx, o, amount, &approved);
	if (rc == 0 && approved)
		o->ow_balance -= amount; /* commit */
	/* 'm' is still the TRANSFER: answer the client's call. */
	return roost_reply_packed(ctx, m, K_TRANSFER_DONE, "{s:i, s:I, s:d}",
	                          "rc", rc, "balance", o->ow_balance, "ms",
	                          now_ms() - t0) < 0 ? -EIO : ROOST_CONTINUE;
}

static const roost_handler_t owner_handlers[] = {
	{K_TRANSFER, on_transfer},
	{K_DEPOSIT, on_deposit},
	{K_GET_BALANCE, on_get_balance},
	{0, NULL},
};

static const roost_behaviour_t owner_behaviour = {
	.init = owner_init,
	.handlers = owner_handlers,
};

/* ---------------------------------------------------------------------
 * The auditor T.
 */
struct auditor {
	roost_aid_t au_owner;
	int au_rc;      /* outcome of the last GET_BALANCE call */
	double au_ms;   /* and how long it took */
	int64_t au_saw; /* the balance it returned */
};

static int
auditor_init(roost_ctx_t *ctx, void *state)
{
	struct auditor *a = state;

	return whereis_wait(ctx, "owner", &a->au_owner);
}

static int
on_audit(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct auditor *a = state;
	/* System lane: seen by an owner busy in a transaction. --fifo: the
	 * user lane, behind the TRANSFER the owner is handling. */
	uint32_t lane = fifo ? 0 : ROOST_SEND_SYSTEM;
	double t0 = now_ms();
	roost_msg_t *r;
	int64_t amount;

	if (roost_msg_get_int(m, "amount", &amount) < 0)
		return -EPROTO;
	/* roost_call keeps 'm' in hand: it takes only its reply aside. */
	a->au_rc = roost_call(ctx, a->au_owner, K_GET_BALANCE, lane, NULL, 0,
	                      CALL_TIMEOUT_MS, &r);
	a->au_ms = now_ms() - t0;
	if (a->au_rc == 0)
		a->au_rc = roost_msg_get_int(r, "balance", &a->au_saw);
	/* Without the balance there is no verdict: the owner's own, longer
	 * timeout ends its wait. */
	if (a->au_rc < 0)
		return ROOST_CONTINUE;
	return roost_reply_packed(ctx, m, K_VERDICT, "{s:b, s:I}", "approved",
	                          a->au_saw >= amount, "saw", a->au_saw) < 0
	               ? -EIO : ROOST_CONTINUE;
}

static int
on_report(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct auditor *a = state;

	return roost_reply_packed(ctx, m, K_AUDIT_REPORT, "{s:i, s:d, s:I}",
	                          "rc", a->au_rc, "ms", a->au_ms, "saw",
	                          a->au_saw) < 0 ? -EIO : ROOST_CONTINUE;
}

static const roost_handler_t auditor_handlers[] = {
	{K_AUDIT, on_audit},
	{K_REPORT, on_report},
	{0, NULL},
};

static const roost_behaviour_t auditor_behaviour = {
	.init = auditor_init,
	.handlers = auditor_handlers,
};

/* Run an actor in a process of its own, registered as 'name'. */
static pid_t
fork_actor(const char *name, const roost_behaviour_t *b, void *state)
{
	roost_ctx_t *ctx;
	pid_t pid = fork();
	int rc;

	if (pid != 0)
		return pid;
	ctx = open_ctx(name);
	if (ctx == NULL)
		_exit(1);
	rc = roost_run(ctx, b, state);
	if (rc < 0)
		fprintf(stderr, "tx_atomically: %s: %s\n", name,
		        roost_strerror(rc));
	roost_ctx_close(ctx);
	_exit(rc == 0 ? 0 : 1);
}

/* ---------------------------------------------------------------------
 * The client: main.
 */

/* The owner's roost_reply() to our TRANSFER. */
static bool
is_done(const roost_msg_t *m, void *arg)
{
	return (roost_msg_flags(m) & ROOST_MSG_REPLY) &&
	       roost_msg_kind(m) == K_TRANSFER_DONE &&
	       roost_msg_corr(m) == *(uint64_t *)arg;
}

struct outcome {
	int64_t tx_rc;    /* the owner's transaction */
	double tx_ms;
	int64_t bal_tx;   /* balance right after it */
	int64_t call_rc;  /* the auditor's GET_BALANCE call */
	double call_ms;
	int64_t saw;      /* the balance the auditor saw */
	int64_t bal_end;  /* balance once the DEPOSIT is in */
	double total_ms;  /* TRANSFER sent to its answer received */
};

static int
client(roost_ctx_t *ctx, struct outcome *oc)
{
	roost_aid_t owner;
	roost_aid_t auditor;
	roost_msg_t *m;
	uint64_t corr = 1;
	uint8_t buf[32];
	double t0;
	int rc;
	int n;

	rc = whereis_wait(ctx, "owner", &owner);
	if (rc == 0)
		rc = whereis_wait(ctx, "auditor", &auditor);
	if (rc < 0)
		return rc;
	t0 = now_ms();
	/*
	 * roost_call() taken apart: TRANSFER with a correlation id, so the
	 * owner can roost_reply() to it; then, before we wait, a DEPOSIT
	 * queued right behind it (roost_call() would wait in between, and
	 * the DEPOSIT would arrive only once the transaction was over).
	 */
	n = roost_pack(buf, sizeof(buf), "{s:I}", "amount", (int64_t)TRANSFER);
	rc = roost_send_ex(ctx, owner, K_TRANSFER, ROOST_SEND_MSGPACK, corr,
	                   buf, (size_t)n, 1000);
	if (rc == 0)
		rc = roost_send_packed(ctx, owner, K_DEPOSIT, 1000, "{s:I}",
		                       "amount", (int64_t)DEPOSIT);
	if (rc == 0)
		rc = roost_recv_match(ctx, &m, ROOST_LANE_SYSTEM, is_done, &corr,
		                      5000);
	if (rc < 0)
		return rc;
	oc->total_ms = now_ms() - t0;
	if (roost_msg_get_int(m, "rc", &oc->tx_rc) < 0 ||
	    roost_msg_get_double(m, "ms", &oc->tx_ms) < 0 ||
	    roost_msg_get_int(m, "balance", &oc->bal_tx) < 0)
		return -EPROTO;
	/* What the auditor saw, and the balance after the DEPOSIT. */
	rc = roost_call_packed(ctx, auditor, K_REPORT, 5000, &m, "n");
	if (rc == 0 && (roost_msg_get_int(m, "rc", &oc->call_rc) < 0 ||
	                roost_msg_get_double(m, "ms", &oc->call_ms) < 0 ||
	                roost_msg_get_int(m, "saw", &oc->saw) < 0))
		rc = -EPROTO;
	if (rc == 0)
		rc = roost_call_packed(ctx, owner, K_GET_BALANCE, 5000, &m, "n");
	if (rc == 0)
		rc = roost_msg_get_int(m, "balance", &oc->bal_end);
	/* Graceful stops: each handles what is queued, then exits. */
	if (rc == 0)
		rc = roost_stop(ctx, owner);
	if (rc == 0)
		rc = roost_stop(ctx, auditor);
	return rc;
}

static bool
report(const struct outcome *oc)
{
	printf("tx_atomically%s: owner holds %d; client sends TRANSFER %d, "
	       "then DEPOSIT %d queued behind it\n", fifo ? " --fifo" : "",
	       START_BALANCE, TRANSFER, DEPOSIT);
	printf("  the auditor calls GET_BALANCE mid-transaction, on the %s\n",
	       fifo ? "user lane (one FIFO queue: behind the TRANSFER)"
	            : "system lane (served while the owner waits)");
	printf("  auditor's call of GET_BALANCE: %s after %.1f ms%s\n",
	       oc->call_rc == 0 ? "answered" : roost_err_name((int)oc->call_rc),
	       oc->call_ms, oc->call_rc == 0 ? "" : " (its timeout)");
	printf("  owner's wait for the verdict:  %s after %.1f ms\n",
	       oc->tx_rc == 0 ? "verdict" : roost_err_name((int)oc->tx_rc),
	       oc->tx_ms);
	if (!fifo) {
		printf("  the auditor saw %" PRId64 ": the DEPOSIT waited until "
		       "the transaction was over\n", oc->saw);
		printf("  committed: balance %" PRId64 ", %" PRId64 " after the "
		       "DEPOSIT\n", oc->bal_tx, oc->bal_end);
		printf("transaction completed in %.2f ms\n", oc->total_ms);
		return oc->tx_rc == 0 && oc->call_rc == 0 &&
		       oc->saw == START_BALANCE &&
		       oc->bal_tx == START_BALANCE - TRANSFER &&
		       oc->bal_end == START_BALANCE - TRANSFER + DEPOSIT;
	}
	printf("  aborted: balance %" PRId64 " (unchanged), %" PRId64 " after "
	       "the DEPOSIT\n", oc->bal_tx, oc->bal_end);
	if (oc->tx_rc == -ETIMEDOUT && oc->call_rc == -ETIMEDOUT)
		printf("--fifo: both calls timed out, after %d ms and %d ms "
		       "(deadlock avoided by timeouts)\n", CALL_TIMEOUT_MS,
		       TX_TIMEOUT_MS);
	return oc->tx_rc == -ETIMEDOUT && oc->call_rc == -ETIMEDOUT &&
	       oc->bal_tx == START_BALANCE &&
	       oc->bal_end == START_BALANCE + DEPOSIT;
}

int
main(int argc, char **argv)
{
	struct owner o = {START_BALANCE, ROOST_AID_NONE, 0};
	struct auditor a = {ROOST_AID_NONE, 0, 0, 0};
	struct outcome oc;
	roost_ctx_t *ctx;
	pid_t pid[2];
	bool ok = false;
	int status;
	int rc;
	int i;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--fifo") != 0)) {
		fprintf(stderr, "usage: tx_atomically [--fifo]\n");
		return 2;
	}
	fifo = argc == 2;
	snprintf(sys_name, sizeof(sys_name), "tx_atomically-%d", (int)getpid());
	rc = roost_system_create(sys_name, NULL);
	if (rc < 0) {
		fprintf(stderr, "tx_atomically: create %s: %s\n", sys_name,
		        roost_strerror(rc));
		return 1;
	}
	pid[0] = fork_actor("owner", &owner_behaviour, &o);
	pid[1] = fork_actor("auditor", &auditor_behaviour, &a);
	memset(&oc, 0, sizeof(oc));
	ctx = open_ctx(NULL);
	rc = ctx == NULL ? -ENOENT : client(ctx, &oc);
	if (rc < 0)
		fprintf(stderr, "tx_atomically: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
	for (i = 0; i < 2; i++) {
		if (pid[i] < 0) {
			rc = -ECHILD;
			continue;
		}
		if (rc < 0)
			kill(pid[i], SIGKILL);
		if (waitpid(pid[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			rc = rc < 0 ? rc : -ECHILD;
	}
	roost_system_destroy(sys_name);
	if (rc == 0)
		ok = report(&oc);
	return ok ? 0 : 1;
}
