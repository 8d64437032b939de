/* SPDX-License-Identifier: MIT */
/*
 * config_gateway.c - validating the [gateway] section (its keys are in
 * config_gateway.h). config.c finds the section and the line; this file
 * says what is wrong with a value, in a sentence config.c prefixes with
 * "PATH:LINE: ".
 */
#include "config_gateway.h"
#include "config_keys.h"
#include "roost_impl.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

enum gw_key {
	G_PROGRAM,
	G_NODE,
	G_NODE_ID,
	G_URLS,
	G_PREFIX,
	G_USER,
	G_PASSWORD,
	G_CREDS,
	G_TLS_CA,
	G_TLS_CERT,
	G_TLS_KEY,
	G_HEARTBEAT_MS,
	G_DOWN_AFTER_MS,
	G_NKEYS
};

static const char *const gw_key_names[G_NKEYS] = {
	[G_PROGRAM] = "program",
	[G_NODE] = "node",
	[G_NODE_ID] = "node_id",
	[G_URLS] = "urls",
	[G_PREFIX] = "prefix",
	[G_USER] = "user",
	[G_PASSWORD] = "password",
	[G_CREDS] = "creds",
	[G_TLS_CA] = "tls_ca",
	[G_TLS_CERT] = "tls_cert",
	[G_TLS_KEY] = "tls_key",
	[G_HEARTBEAT_MS] = "heartbeat_ms",
	[G_DOWN_AFTER_MS] = "down_after_ms",
};

/* 'v' fits 'dst' (size 'size'); else an error naming 'key'. */
static int
copy(char *dst, size_t size, const char *key, const char *v, char *err,
     size_t len)
{
	if (strlen(v) >= size)
		return rd_key_bad(err, len,
		                  "%s is too long (at most %zu characters)",
		                  key, size - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

/* An absolute path to a readable regular file ('exec': executable). */
static int
set_file(char *dst, const char *key, const char *v, bool exec, char *err,
         size_t len)
{
	struct stat st;
	int e = 0;

	if (v[0] != '/')
		return rd_key_bad(err, len, "%s '%s' must be an absolute path",
		                  key, v);
	if (stat(v, &st) != 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
	else if (access(v, exec ? X_OK : R_OK) != 0)
		e = errno;
	if (e != 0)
		return rd_key_bad(err, len, "%s '%s' is not %s file: %s", key,
		                  v, exec ? "an executable" : "a readable",
		                  strerror(e));
	return copy(dst, RD_GW_PATH_MAX, key, v, err, len);
}

static int
set_ms(uint32_t *dst, const char *key, const char *v, uint32_t lo,
       uint32_t hi, char *err, size_t len)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < lo ||
	    n > hi)
		return rd_key_bad(err, len,
		                  "bad value '%s' for %s (a whole number, "
		                  "%u..%u)",
		                  v, key, lo, hi);
	*dst = (uint32_t)n;
	return 1;
}

/* One server URL: nats:// or tls://, then host:port, nothing else. */
static bool
url_valid(const char *u, size_t n)
{
	const char *p;
	const char *colon;
	size_t i;

	if (n > 8 && strncmp(u, "nats://", 7) == 0)
		p = u + 7;
	else if (n > 7 && strncmp(u, "tls://", 6) == 0)
		p = u + 6;
	else
		return false;
	colon = memrchr(p, ':', n - (size_t)(p - u));
	if (colon == NULL || colon == p || colon + 1 == u + n ||
	    u + n - (colon + 1) > 5)
		return false;
	for (i = 0; p + i < colon; i++)
		if (p[i] <= ' ' || p[i] == '/' || p[i] == '@' || p[i] >= 0x7f)
			return false;
	for (p = colon + 1; p < u + n; p++)
		if (*p < '0' || *p > '9')
			return false;
	return atoi(colon + 1) > 0 && atoi(colon + 1) <= 65535;
}

/* urls: comma-separated, blanks around each ignored. */
static int
set_urls(struct rd_gateway *g, const char *v, char *err, size_t len)
{
	const char *p = v;

	g->gw_nurls = 0;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t n;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (g->gw_nurls == RD_GW_URLS_MAX)
			return rd_key_bad(err, len,
			                  "too many urls (at most %d)",
			                  RD_GW_URLS_MAX);
		if (n >= RD_GW_PATH_MAX || !url_valid(p, n))
			return rd_key_bad(
			    err, len,
			    "bad url '%.*s' (nats://HOST:PORT or "
			    "tls://HOST:PORT, comma-separated)",
			    (int)n, p);
		memcpy(g->gw_urls[g->gw_nurls], p, n);
		g->gw_urls[g->gw_nurls++][n] = '\0';
		p = *end == ',' ? end + 1 : end;
	}
	return g->gw_nurls > 0 ? 1
	                       : rd_key_bad(err, len, "urls names no server");
}

/* node and prefix: one NATS subject token of [A-Za-z0-9_-]. */
static int
set_token(char *dst, const char *key, const char *v, char *err, size_t len)
{
	if (!roost__node_name_valid(v, strlen(v)))
		return rd_key_bad(err, len,
		                  "bad %s '%s' (1..%d characters of "
		                  "A-Z a-z 0-9 _ -)",
		                  key, v, ROOST__NODE_NAME_MAX);
	return copy(dst, 32, key, v, err, len);
}

void
rd_gateway_defaults(struct rd_gateway *g)
{
	memset(g, 0, sizeof(*g));
	memcpy(g->gw_prefix, "roost", sizeof("roost"));
	g->gw_heartbeat_ms = RD_GW_HEARTBEAT_DEF;
	g->gw_down_after_ms = RD_GW_DOWN_AFTER_DEF;
}

int
rd_gateway_key(struct rd_gateway *g, const char *key, const char *val,
               char *err, size_t len)
{
	int k = rd_key_find(gw_key_names, G_NKEYS, &g->gw_seen, key, err, len);

	if (k < 0)
		return k == -1 ? -1 : 0;
	switch ((enum gw_key)k) {
	case G_PROGRAM:
		return set_file(g->gw_program, key, val, true, err, len);
	case G_NODE:
		return set_token(g->gw_node, key, val, err, len);
	case G_NODE_ID:
		return set_ms(&g->gw_node_id, key, val, 1, 65535, err, len);
	case G_URLS:
		return set_urls(g, val, err, len);
	case G_PREFIX:
		return set_token(g->gw_prefix, key, val, err, len);
	case G_USER:
		return copy(g->gw_user, sizeof(g->gw_user), key, val, err, len);
	case G_PASSWORD:
		return copy(g->gw_password, sizeof(g->gw_password), key, val,
		            err, len);
	case G_CREDS:
		return set_file(g->gw_creds, key, val, false, err, len);
	case G_TLS_CA:
		return set_file(g->gw_tls_ca, key, val, false, err, len);
	case G_TLS_CERT:
		return set_file(g->gw_tls_cert, key, val, false, err, len);
	case G_TLS_KEY:
		return set_file(g->gw_tls_key, key, val, false, err, len);
	case G_HEARTBEAT_MS:
		return set_ms(&g->gw_heartbeat_ms, key, val, 10, 60000, err,
		              len);
	case G_DOWN_AFTER_MS:
		return set_ms(&g->gw_down_after_ms, key, val, 20, 600000, err,
		              len);
	case G_NKEYS:
		break;
	}
	return -1;
}

int
rd_gateway_check(const struct rd_gateway *g, char *err, size_t len)
{
	static const enum gw_key required[] = {G_PROGRAM, G_NODE, G_NODE_ID,
	                                       G_URLS};
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if ((g->gw_seen & (1u << required[i])) == 0)
			return rd_key_bad(err, len, "[gateway] needs %s",
			                  gw_key_names[required[i]]);
	if ((g->gw_user[0] != '\0') != (g->gw_password[0] != '\0'))
		return rd_key_bad(err, len,
		                  "[gateway] user and password go together");
	if (g->gw_user[0] != '\0' && g->gw_creds[0] != '\0')
		return rd_key_bad(err, len,
		                  "[gateway] takes user and password or "
		                  "creds, not both");
	if ((g->gw_tls_cert[0] != '\0') != (g->gw_tls_key[0] != '\0'))
		return rd_key_bad(err, len,
		                  "[gateway] tls_cert and tls_key go "
		                  "together");
	if (g->gw_down_after_ms <= g->gw_heartbeat_ms)
		return rd_key_bad(err, len,
		                  "[gateway] down_after_ms (%u) must be more "
		                  "than heartbeat_ms (%u)",
		                  g->gw_down_after_ms, g->gw_heartbeat_ms);
	return 1;
}
