/* SPDX-License-Identifier: MIT */
/*
 * config_gateway.h - the [gateway] section of roostd's INI: the node's
 * NATS gateway (gateway/, docs/distribution.md), which roostd starts
 * first, restarts like any permanent actor and stops last.
 *
 *   [gateway]
 *   program = /abs/path/roost_gateway  ; required
 *   node = alpha            ; required: this node's name, [A-Za-z0-9_-]{1,31}
 *   node_id = 1             ; required: 1..65535, unique in the cluster
 *   urls = nats://127.0.0.1:4222, nats://h2:4222  ; required, 1..8
 *   prefix = roost          ; the cluster's subject prefix (a token)
 *   user = NAME             ; with password; not with creds
 *   password = SECRET
 *   creds = /abs/file.creds ; a NATS credentials file
 *   tls_ca = /abs/ca.pem    ; TLS on: verify the servers with this CA
 *   tls_cert = /abs/c.pem   ; a client certificate, with tls_key
 *   tls_key = /abs/k.pem
 *   heartbeat_ms = 500      ; how often the node says it is alive
 *   down_after_ms = 2000    ; silent this long: the node is down
 */
#ifndef ROOSTD_CONFIG_GATEWAY_H
#define ROOSTD_CONFIG_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RD_GW_URLS_MAX 8
#define RD_GW_PATH_MAX 256
#define RD_GW_HEARTBEAT_DEF 500u
#define RD_GW_DOWN_AFTER_DEF 2000u

struct rd_gateway {
	bool gw_enabled;             /* a [gateway] section was given */
	int gw_line;                 /* its header's line */
	unsigned gw_seen;            /* keys given, 1u << their index */
	char gw_program[RD_GW_PATH_MAX];
	char gw_node[32];
	uint32_t gw_node_id;
	char gw_urls[RD_GW_URLS_MAX][RD_GW_PATH_MAX];
	int gw_nurls;
	char gw_prefix[32];
	char gw_user[64];
	char gw_password[128];
	char gw_creds[RD_GW_PATH_MAX];
	char gw_tls_ca[RD_GW_PATH_MAX];
	char gw_tls_cert[RD_GW_PATH_MAX];
	char gw_tls_key[RD_GW_PATH_MAX];
	uint32_t gw_heartbeat_ms;
	uint32_t gw_down_after_ms;
};

/* The defaults (no gateway). */
void rd_gateway_defaults(struct rd_gateway *g);

/*
 * One "key = val" of [gateway]. Returns 1 when set; 0 when 'val' is bad
 * or the key is given twice, with what is wrong in 'err'; -1 for a key
 * [gateway] does not have.
 */
int rd_gateway_key(struct rd_gateway *g, const char *key, const char *val,
                   char *err, size_t len);

/* The checks on the whole section (required keys, keys that go
 * together). Returns 1, or 0 with what is wrong in 'err'. */
int rd_gateway_check(const struct rd_gateway *g, char *err, size_t len);

#endif
