/* SPDX-License-Identifier: MIT */
/*
 * nats_creds.h - NATS decentralized authentication for the gateway's
 * suite, made without nsc (not packaged in Debian): an operator, an
 * account and users as ed25519 nkeys (libcrypto), their JWTs signed as
 * nats-server checks them, and creds files as libnats reads them.
 */
#ifndef ROOST_TEST_NATS_CREDS_H
#define ROOST_TEST_NATS_CREDS_H

/*
 * Under 'dir': server.conf (the operator's JWT, and the account's,
 * preloaded into a memory resolver: for nats-server -c), node.creds (a
 * user of that account) and rogue.creds (a user of an account the
 * server does not know). Fails the test on any error.
 */
void nu_creds_make(const char *dir);

#endif
