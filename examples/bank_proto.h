/* SPDX-License-Identifier: MIT */
/*
 * bank_proto.h - the messages of the bank demo (bank.ini.in): a "bank"
 * actor that owns the accounts, a pool of workers (worker.1 .. worker.3)
 * that earn money for it, a "ticker" that hands the workers jobs, and a
 * teller, the client you run, that asks for the balances.
 *
 *   kind           sent to    payload              answer
 *   BANK_DEPOSIT   bank       struct bank_op       none
 *   BANK_WITHDRAW  bank       struct bank_op       BANK_REPLY
 *   BANK_BALANCE   bank       none                 BANK_REPLY
 *   WORKER_JOB     worker.N   struct worker_job    a BANK_DEPOSIT to bank
 *   TICKER_TICK    ticker     none (roostd alarm)  a WORKER_JOB
 *
 * A payload is one of the fixed-size structs below, sent as raw bytes:
 * both sides are built from this header on the same machine, so they
 * agree on the layout. A receiver still checks the size, and copies the
 * payload out before reading it: anyone on the system may send anything.
 *
 * The bank answers on the asker's system lane, with the correlation id
 * of the request, so the asker can pick the answer out of its mailbox
 * with roost_recv_match() whatever else is queued there.
 */
#ifndef BANK_PROTO_H
#define BANK_PROTO_H

#include <stdint.h>

#define BANK_NAME "bank"

/* The worker pool: "count" of [actor worker] in bank.ini.in. Account k
 * (0-based) holds what worker.(k + 1) earned. */
#define BANK_WORKERS 3
#define BANK_ACCOUNTS BANK_WORKERS

enum {
	BANK_DEPOSIT = 1,
	BANK_WITHDRAW = 2,
	BANK_BALANCE = 3,
	BANK_REPLY = 4,
	WORKER_JOB = 10,
	TICKER_TICK = 20,
};

/* DEPOSIT and WITHDRAW. */
struct bank_op {
	uint32_t account;       /* 0 .. BANK_ACCOUNTS - 1 */
	uint32_t pad;           /* 0 */
	uint64_t amount;
};

/* bank_reply.status */
enum {
	BANK_OK = 0,
	BANK_REFUSED = 1,       /* the withdrawal would overdraw the account */
	BANK_INVALID = 2,       /* malformed request or no such account */
};

/* The answer to WITHDRAW and BALANCE: a status and every balance, as
 * they are once the request is handled. */
struct bank_reply {
	uint32_t status;        /* BANK_OK, ... */
	uint32_t deposits;      /* deposits taken since the bank started */
	uint64_t balance[BANK_ACCOUNTS];
};

/* A job: add up 1 .. n and pay the sum into 'account'. n = 0 makes the
 * worker crash, to show roostd restarting it. */
struct worker_job {
	uint32_t n;
	uint32_t account;
};

#endif /* BANK_PROTO_H */
