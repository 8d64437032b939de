/* SPDX-License-Identifier: MIT */
/*
 * teller.c - the client of the bank demo, and the file to read first.
 *
 * roostd runs the system of bank.ini.in: a bank that owns three accounts
 * (bank.c), three workers that earn money for it (worker.c) and a ticker
 * that hands them jobs (ticker.c); bank_proto.h has their messages. The
 * teller joins that system as an ordinary process, not one of roostd's
 * actors, and:
 *
 *  1. asks the bank for the balances a few times: they grow by
 *     themselves;
 *  2. tries two withdrawals, one of them too large;
 *  3. sends worker.2 a job that makes it abort, learns from a monitor
 *     that roostd restarts it, and sees its account go on growing;
 *  4. asks roostd to shut the whole system down (not with
 *     --no-shutdown).
 *
 * It checks every outcome, and exits 1 saying what went wrong.
 *
 * With --node NODE the bank runs on another node (another roost system,
 * reached through the NATS gateways: docs/distribution.md): the teller
 * names its actors "bank@NODE", "worker.2@NODE", ... and the same story
 * runs across the two nodes, monitors included; it never shuts the other
 * node down (scripts/demo-nodes.sh does).
 *
 * Usage: teller SYSTEM [--no-shutdown] [--node NODE]
 */
#include <roost.h>

#include "bank_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ASK_EVERY_US (300 * 1000)

struct teller {
	roost_ctx_t *tl_ctx;
	const char *tl_node;    /* the bank's node; NULL: this one */
	char tl_name[64];       /* the last name built by actor() */
	roost_aid_t tl_bank;
	uint64_t tl_corr;       /* correlation id of the last request */
	struct timespec tl_t0;  /* when the teller started */
};

/* Report a roost call that failed; returns its error 'rc'. */
static int
fail(const char *what, int rc)
{
	fprintf(stderr, "teller: %s: %s\n", what, roost_strerror(rc));
	return rc;
}

/* Report an outcome that is not what the demo promises. */
static int __attribute__((format(printf, 1, 2)))
wrong(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "teller: WRONG: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EPROTO;
}

/* The bank's actor 'name' as the teller names it: "name", or
 * "name@NODE" with --node. Valid until the next call. */
static const char *
actor(struct teller *tl, const char *name)
{
	if (tl->tl_node == NULL)
		return name;
	snprintf(tl->tl_name, sizeof(tl->tl_name), "%s@%s", name, tl->tl_node);
	return tl->tl_name;
}

/* Look 'name' up, waiting up to 5 s for roostd to start it (and, on
 * another node, for the gateways to hear each other). */
static int
whereis_wait(roost_ctx_t *ctx, const char *name, roost_aid_t *out)
{
	int rc = -ENOENT;
	int tries;

	for (tries = 0; tries < 500 && (rc == -ENOENT || rc == -ENOTCONN ||
	                                rc == -EHOSTUNREACH);
	     tries++) {
		rc = roost_whereis(ctx, name, out);
		if (rc < 0)
			usleep(10000);
	}
	return rc;
}

/* Join 'system' (waiting up to 5 s for roostd to create it) once all of
 * its actors run: the ticker is the last one roostd starts. */
static int
join(struct teller *tl, const char *system)
{
	roost_ctx_opts_t o;
	roost_aid_t ticker;
	int rc = -ENOENT;
	int tries;

	clock_gettime(CLOCK_MONOTONIC, &tl->tl_t0);
	roost_ctx_opts_init(&o);
	o.system = system;
	for (tries = 0; tries < 500 && rc == -ENOENT; tries++) {
		rc = roost_ctx_open(&tl->tl_ctx, &o);
		if (rc == -ENOENT)
			usleep(10000);
	}
	if (rc < 0) {
		fprintf(stderr, "teller: cannot join system '%s': %s\n", system,
		        roost_strerror(rc));
		return rc;
	}
	rc = whereis_wait(tl->tl_ctx, actor(tl, "ticker"), &ticker);
	if (rc < 0)
		return fail("waiting for the ticker to start", rc);
	rc = roost_whereis(tl->tl_ctx, actor(tl, BANK_NAME), &tl->tl_bank);
	if (rc < 0)
		return fail("looking the bank up", rc);
	return 0;
}

/* Selective receive: the answer to the request whose correlation id is
 * at 'arg', or any DOWN notice (we monitor only actors we count on). */
static bool
answer_or_down(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == ROOST_KIND_DOWN ||
	       (roost_msg_kind(m) == BANK_REPLY &&
	        roost_msg_corr(m) == *(const uint64_t *)arg);
}

/* Selective receive: the DOWN notice of the monitor whose ref is at
 * 'arg'. */
static bool
down_of(const roost_msg_t *m, void *arg)
{
	roost_notice_t n;

	return roost_msg_kind(m) == ROOST_KIND_DOWN &&
	       roost_notice_decode(m, &n) == 0 &&
	       n.ref == *(const uint64_t *)arg;
}

/* Send the bank 'kind' with 'op' (NULL: no payload) and wait up to 2 s
 * for its answer, copied into '*r'. */
static int
ask(struct teller *tl, uint32_t kind, const struct bank_op *op,
    struct bank_reply *r)
{
	roost_notice_t n;
	roost_msg_t *m;
	uint64_t corr = ++tl->tl_corr;
	int rc;

	rc = roost_send_ex(tl->tl_ctx, tl->tl_bank, kind, 0, corr, op,
	                   op != NULL ? sizeof(*op) : 0, 1000);
	if (rc < 0)
		return fail("sending to the bank", rc);
	rc = roost_recv_match(tl->tl_ctx, &m, ROOST_LANE_SYSTEM,
	                      answer_or_down, &corr, 2000);
	if (rc < 0)
		return fail("waiting for the bank's answer", rc);
	if (roost_msg_kind(m) == ROOST_KIND_DOWN) {
		rc = roost_notice_decode(m, &n);
		if (rc < 0)
			return fail("decoding a DOWN notice", rc);
		return wrong("%s went down (%s)", n.name,
		             roost_exit_reason_name(n.reason));
	}
	if (roost_msg_size(m) != sizeof(*r))
		return wrong("the bank's answer has %zu bytes",
		             roost_msg_size(m));
	memcpy(r, roost_msg_data(m), sizeof(*r));
	return 0;
}

static void
print_balances(const struct teller *tl, const struct bank_reply *r)
{
	struct timespec now;
	int k;

	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("teller: %4.1f s ", (double)(now.tv_sec - tl->tl_t0.tv_sec) +
	       (double)(now.tv_nsec - tl->tl_t0.tv_nsec) / 1e9);
	for (k = 0; k < BANK_ACCOUNTS; k++)
		printf("  worker.%d %5" PRIu64, k + 1, r->balance[k]);
	printf("  (%u deposit%s)\n", r->deposits,
	       r->deposits == 1 ? "" : "s");
}

static uint64_t
total(const struct bank_reply *r)
{
	uint64_t sum = 0;
	int k;

	for (k = 0; k < BANK_ACCOUNTS; k++)
		sum += r->balance[k];
	return sum;
}

/* Ask for the balances 'times' times, ASK_EVERY_US apart, and print
 * them. '*first' and '*last' get the first and the last answer. */
static int
watch(struct teller *tl, int times, struct bank_reply *first,
      struct bank_reply *last)
{
	int rc;
	int i;

	for (i = 0; i < times; i++) {
		if (i > 0)
			usleep(ASK_EVERY_US);
		rc = ask(tl, BANK_BALANCE, NULL, last);
		if (rc < 0)
			return rc;
		print_balances(tl, last);
		if (i == 0)
			*first = *last;
	}
	return 0;
}

/* Withdraw 'amount' from worker.1's account; 'want' is the status the
 * bank should answer. */
static int
withdraw(struct teller *tl, uint64_t amount, uint32_t want)
{
	struct bank_reply r;
	struct bank_op op;
	int rc;

	memset(&op, 0, sizeof(op));
	op.account = 0;
	op.amount = amount;
	rc = ask(tl, BANK_WITHDRAW, &op, &r);
	if (rc < 0)
		return rc;
	printf("teller: withdraw %" PRIu64 " from worker.1's account: %s "
	       "(%" PRIu64 " left)\n", amount,
	       r.status == BANK_OK ? "done" :
	       r.status == BANK_REFUSED ? "refused, not enough money" :
	       "invalid", r.balance[0]);
	if (r.status != want)
		return wrong("the bank answered status %u, not %u", r.status,
		             want);
	return 0;
}

/* Make worker.2 abort, and check through a monitor that roostd restarts
 * it at the same address. */
static int
crash_worker(struct teller *tl)
{
	struct worker_job job;
	roost_notice_t n;
	roost_aid_t before;
	roost_aid_t after;
	roost_msg_t *m;
	uint64_t ref;
	int rc;

	rc = roost_whereis(tl->tl_ctx, actor(tl, "worker.2"), &before);
	if (rc < 0)
		return fail("looking worker.2 up", rc);
	rc = roost_monitor(tl->tl_ctx, before, &ref);
	if (rc < 0)
		return fail("monitoring worker.2", rc);
	job.n = 0;
	job.account = 1;
	rc = roost_send(tl->tl_ctx, before, WORKER_JOB, &job, sizeof(job),
	                1000);
	if (rc < 0)
		return fail("sending worker.2 a job", rc);
	printf("teller: sent worker.2 (address %u.%u) a job with n = 0, "
	       "which makes it abort\n", roost_aid_slot(before),
	       roost_aid_gen(before));
	rc = roost_recv_match(tl->tl_ctx, &m, ROOST_LANE_SYSTEM, down_of, &ref,
	                      5000);
	if (rc < 0)
		return fail("waiting for worker.2's DOWN notice", rc);
	rc = roost_notice_decode(m, &n);
	if (rc < 0)
		return fail("decoding worker.2's DOWN notice", rc);
	printf("teller: DOWN notice: %s (pid %d) died of signal %d (%s); "
	       "roostd restarts it: %s\n", n.name, (int)n.pid, (int)n.signal,
	       strsignal(n.signal), n.restarting ? "yes" : "no");
	rc = roost_demonitor(tl->tl_ctx, ref);
	if (rc < 0)
		return fail("demonitoring worker.2", rc);
	rc = roost_whereis(tl->tl_ctx, actor(tl, "worker.2"), &after);
	if (rc < 0)
		return fail("looking worker.2 up again", rc);
	printf("teller: worker.2 is at address %u.%u: %s\n",
	       roost_aid_slot(after), roost_aid_gen(after),
	       roost_aid_eq(after, before) ? "the same" : "A DIFFERENT ONE");
	if (n.signal != SIGABRT || !n.restarting ||
	    !roost_aid_eq(after, before))
		return wrong("worker.2 was not restarted as it should be");
	return 0;
}

static int
run(struct teller *tl, bool shutdown)
{
	struct bank_reply first;
	struct bank_reply last;
	uint64_t ref;
	int rc;

	/* Should the bank die, roostd tells us (a DOWN notice). */
	rc = roost_monitor(tl->tl_ctx, tl->tl_bank, &ref);
	if (rc < 0)
		return fail("monitoring the bank", rc);
	printf("teller: the bank is at address %u.%u; the ticker hands out "
	       "a job every 200 ms\n", roost_aid_slot(tl->tl_bank),
	       roost_aid_gen(tl->tl_bank));
	rc = watch(tl, 5, &first, &last);
	if (rc < 0)
		return rc;
	if (total(&last) <= total(&first))
		return wrong("the balances did not grow");
	rc = withdraw(tl, last.balance[0] + 1000000, BANK_REFUSED);
	if (rc == 0)
		rc = withdraw(tl, last.balance[0] / 2, BANK_OK);
	if (rc == 0)
		rc = crash_worker(tl);
	if (rc == 0)
		rc = watch(tl, 5, &first, &last);
	if (rc < 0)
		return rc;
	if (last.balance[1] <= first.balance[1])
		return wrong("worker.2's account stopped growing");
	printf("teller: worker.2's account grew from %" PRIu64 " to %" PRIu64
	       " after its restart\n", first.balance[1], last.balance[1]);
	rc = roost_demonitor(tl->tl_ctx, ref);
	if (rc < 0)
		return fail("demonitoring the bank", rc);
	if (!shutdown || tl->tl_node != NULL) {
		printf("teller: leaving the system running\n");
		return 0;
	}
	rc = roost_shutdown(tl->tl_ctx);
	if (rc < 0)
		return fail("asking roostd to shut down", rc);
	printf("teller: asked roostd to shut the system down\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct teller tl;
	bool shutdown = true;
	int closed;
	int rc;
	int i;

	memset(&tl, 0, sizeof(tl));
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--no-shutdown") == 0)
			shutdown = false;
		else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc)
			tl.tl_node = argv[++i];
		else
			break;
	}
	if (argc < 2 || argv[1][0] == '-' || i < argc) {
		fprintf(stderr, "usage: teller SYSTEM [--no-shutdown] "
		        "[--node NODE]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order, even in a pipe */
	rc = join(&tl, argv[1]);
	if (rc == 0)
		rc = run(&tl, shutdown);
	closed = roost_ctx_close(tl.tl_ctx); /* NULL is a no-op */
	if (closed < 0 && rc == 0)
		rc = fail("closing", closed);
	return rc < 0;
}
