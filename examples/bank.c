/* SPDX-License-Identifier: MIT */
/*
 * bank.c - the "bank" actor of the bank demo (bank.ini.in), started by
 * roostd. It owns the accounts of bank_proto.h in its private memory.
 * Nobody else can touch them, and it handles one message at a time, so
 * they need no lock: in the actor model, state is shared by sending
 * messages to its owner.
 *
 * DEPOSIT adds to an account; WITHDRAW takes from one unless that would
 * overdraw it; BALANCE reads them all. The last two are answered on the
 * asker's system lane with the request's correlation id. A restarted
 * bank starts from zero: this demo keeps no books on disk.
 *
 * On a graceful stop (ROOST_KIND_STOP) it handles what was queued before
 * the stop, prints the final balances, closes and exits 0. On an error
 * it exits 1 without closing: closing would give up its address and
 * discard its mail, while an actor that just exits is restarted by
 * roostd at the same address, its mail intact.
 */
#include <roost.h>

#include "bank_proto.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct bank {
	uint64_t bk_balance[BANK_ACCOUNTS];
	uint32_t bk_deposits;
};

/* Copy the payload of 'm' into 'op'. False if it is not a well-formed
 * struct bank_op for an existing account. */
static bool
read_op(const roost_msg_t *m, struct bank_op *op)
{
	if (roost_msg_size(m) != sizeof(*op))
		return false;
	memcpy(op, roost_msg_data(m), sizeof(*op));
	return op->account < BANK_ACCOUNTS;
}

static void
deposit(struct bank *bk, const roost_msg_t *m)
{
	struct bank_op op;

	if (!read_op(m, &op) ||
	    op.amount > UINT64_MAX - bk->bk_balance[op.account]) {
		fprintf(stderr, "bank: bad deposit from %u.%u dropped\n",
		        roost_aid_slot(roost_msg_from(m)),
		        roost_aid_gen(roost_msg_from(m)));
		return;
	}
	bk->bk_balance[op.account] += op.amount;
	bk->bk_deposits++;
}

/* WITHDRAW or BALANCE: act, then answer with the balances. */
static void
answer(roost_ctx_t *ctx, struct bank *bk, const roost_msg_t *m)
{
	struct bank_reply r;
	struct bank_op op;
	int rc;

	memset(&r, 0, sizeof(r));
	if (roost_msg_kind(m) == BANK_WITHDRAW) {
		if (!read_op(m, &op))
			r.status = BANK_INVALID;
		else if (op.amount > bk->bk_balance[op.account])
			r.status = BANK_REFUSED;
		else
			bk->bk_balance[op.account] -= op.amount;
	}
	r.deposits = bk->bk_deposits;
	memcpy(r.balance, bk->bk_balance, sizeof(r.balance));
	rc = roost_send_ex(ctx, roost_msg_from(m), BANK_REPLY,
	                   ROOST_SEND_SYSTEM, roost_msg_corr(m), &r, sizeof(r),
	                   1000);
	/* The asker may have gone away (-ESRCH): that is its problem, not
	 * a reason for the bank to stop. */
	if (rc < 0)
		fprintf(stderr, "bank: answer to %u.%u lost: %s\n",
		        roost_aid_slot(roost_msg_from(m)),
		        roost_aid_gen(roost_msg_from(m)), roost_strerror(rc));
}

int
main(void)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	struct bank bk;
	bool stopping = false;
	int rc;

	memset(&bk, 0, sizeof(bk));
	/* roostd tells us our system, name and (after a crash) address. */
	roost_ctx_opts_init(&o);
	rc = roost_ctx_opts_from_env(&o);
	if (rc == 0)
		rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "bank: cannot join the system: %s\n",
		        roost_strerror(rc));
		return 1;
	}
	for (;;) {
		/* Once stopping, the user lane takes no more mail: -EAGAIN
		 * means everything sent before the stop is handled. */
		rc = roost_recv(ctx, &m, stopping ? 0 : -1);
		if (rc == -EAGAIN && stopping)
			break;
		if (rc < 0) {
			fprintf(stderr, "bank: receive: %s\n",
			        roost_strerror(rc));
			return 1; /* no close: see the top */
		}
		switch (roost_msg_kind(m)) {
		case ROOST_KIND_STOP:
			stopping = true;
			break;
		case BANK_DEPOSIT:
			deposit(&bk, m);
			break;
		case BANK_WITHDRAW:
		case BANK_BALANCE:
			answer(ctx, &bk, m);
			break;
		default:
			fprintf(stderr, "bank: unknown message kind %u "
			        "dropped\n", roost_msg_kind(m));
			break;
		}
	}
	static_assert(BANK_ACCOUNTS == 3, "the line below prints three");
	fprintf(stderr, "bank: stopped after %u deposits; balances %" PRIu64
	        " %" PRIu64 " %" PRIu64 "\n", bk.bk_deposits, bk.bk_balance[0],
	        bk.bk_balance[1], bk.bk_balance[2]);
	rc = roost_ctx_close(ctx);
	if (rc < 0) {
		fprintf(stderr, "bank: close: %s\n", roost_strerror(rc));
		return 1;
	}
	return 0;
}
