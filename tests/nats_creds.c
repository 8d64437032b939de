/* SPDX-License-Identifier: MIT */
/*
 * nats_creds.c - nkeys, JWTs and creds files for tests (nats_creds.h).
 *
 * An nkey is base32 (no padding) of: a prefix byte naming its role,
 * the 32-byte ed25519 public key, a CRC-16 (XMODEM) little-endian; a
 * seed holds the private key under two prefix bytes the same way. A
 * JWT is base64url header "." claims "." the ed25519 signature of the
 * first two by the issuer's key; its "jti" is base32 of the SHA-256 of
 * the claims without it.
 */
#include "nats_creds.h"
#include "test_util.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <time.h>

/* Role prefixes (the first letter of the encoded key). */
enum {
	NK_OPERATOR = 14 << 3, /* 'O' */
	NK_ACCOUNT = 0,        /* 'A' */
	NK_USER = 20 << 3,     /* 'U' */
	NK_SEED = 18 << 3,     /* 'S' */
};

struct nkey {
	EVP_PKEY *nk_key;
	char nk_pub[64];
	char nk_seed[64];
};

static uint16_t
crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021)
			                     : (uint16_t)(crc << 1);
	}
	return crc;
}

/* 'n' bytes in 'bits'-bit digits of 'alphabet', no padding. */
static void
encode(const char *alphabet, int bits, const uint8_t *p, size_t n, char *out)
{
	uint32_t acc = 0;
	int have = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		have += 8;
		while (have >= bits) {
			out[o++] = alphabet[(acc >> (have - bits)) & ((1u << bits) - 1)];
			have -= bits;
		}
	}
	if (have > 0)
		out[o++] = alphabet[(acc << (bits - have)) & ((1u << bits) - 1)];
	out[o] = '\0';
}

static void
base32(const uint8_t *p, size_t n, char *out)
{
	encode("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 5, p, n, out);
}

static void
base64url(const uint8_t *p, size_t n, char *out)
{
	encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
	       6, p, n, out);
}

/* 'len' bytes at 'raw' and their CRC, base32. */
static void
with_crc(uint8_t *raw, size_t len, char *out)
{
	uint16_t crc = crc16(raw, len);

	raw[len] = (uint8_t)crc;
	raw[len + 1] = (uint8_t)(crc >> 8);
	base32(raw, len + 2, out);
}

static void
nkey_make(struct nkey *nk, uint8_t role)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	uint8_t raw[2 + 32 + 2];
	size_t len = 32;

	nk->nk_key = NULL;
	ck_assert_ptr_nonnull(c);
	ck_assert_int_gt(EVP_PKEY_keygen_init(c), 0);
	ck_assert_int_gt(EVP_PKEY_keygen(c, &nk->nk_key), 0);
	EVP_PKEY_CTX_free(c);
	raw[0] = role;
	ck_assert_int_eq(EVP_PKEY_get_raw_public_key(nk->nk_key, raw + 1, &len),
	                 1);
	with_crc(raw, 33, nk->nk_pub);
	raw[0] = (uint8_t)(NK_SEED | (role >> 5));
	raw[1] = (uint8_t)((role & 31) << 3);
	len = 32;
	ck_assert_int_eq(EVP_PKEY_get_raw_private_key(nk->nk_key, raw + 2, &len),
	                 1);
	with_crc(raw, 34, nk->nk_seed);
}

/* A JWT of 'claims' (a JSON object without "jti") signed by 'issuer'. */
static void
jwt(const struct nkey *issuer, const char *claims, char *out, size_t cap)
{
	static const char head[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
	char full[2048], jti[64], h64[64], c64[2800], s64[100];
	char signing[2900];
	uint8_t hash[SHA256_DIGEST_LENGTH], sig[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	SHA256((const uint8_t *)claims, strlen(claims), hash);
	base32(hash, sizeof(hash), jti);
	snprintf(full, sizeof(full), "{\"jti\":\"%s\",%s", jti, claims + 1);
	base64url((const uint8_t *)head, strlen(head), h64);
	base64url((const uint8_t *)full, strlen(full), c64);
	snprintf(signing, sizeof(signing), "%s.%s", h64, c64);
	ck_assert_ptr_nonnull(md);
	ck_assert_int_gt(EVP_DigestSignInit(md, NULL, NULL, NULL,
	                                    issuer->nk_key), 0);
	ck_assert_int_gt(EVP_DigestSign(md, sig, &siglen,
	                                (const uint8_t *)signing,
	                                strlen(signing)), 0);
	EVP_MD_CTX_free(md);
	base64url(sig, siglen, s64);
	snprintf(out, cap, "%s.%s", signing, s64);
}

static void
account_jwt(const struct nkey *op, const struct nkey *ac, char *out,
            size_t cap)
{
	char claims[1024];

	snprintf(claims, sizeof(claims),
	         "{\"iat\":%ld,\"iss\":\"%s\",\"name\":\"roost\",\"sub\":\"%s\","
	         "\"nats\":{\"limits\":{\"subs\":-1,\"data\":-1,\"payload\":-1,"
	         "\"imports\":-1,\"exports\":-1,\"wildcards\":true,\"conn\":-1,"
	         "\"leaf\":-1},\"default_permissions\":{\"pub\":{},\"sub\":{}},"
	         "\"type\":\"account\",\"version\":2}}",
	         (long)time(NULL), op->nk_pub, ac->nk_pub);
	jwt(op, claims, out, cap);
}

/* A creds file at 'path' for a new user of account 'ac'. */
static void
user_creds(const struct nkey *ac, const char *path)
{
	struct nkey us;
	char claims[1024];
	char token[3000];
	FILE *f;

	nkey_make(&us, NK_USER);
	snprintf(claims, sizeof(claims),
	         "{\"iat\":%ld,\"iss\":\"%s\",\"name\":\"node\",\"sub\":\"%s\","
	         "\"nats\":{\"pub\":{},\"sub\":{},\"subs\":-1,\"data\":-1,"
	         "\"payload\":-1,\"type\":\"user\",\"version\":2}}",
	         (long)time(NULL), ac->nk_pub, us.nk_pub);
	jwt(ac, claims, token, sizeof(token));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER "
	        "JWT------\n\n-----BEGIN USER NKEY SEED-----\n%s\n------END "
	        "USER NKEY SEED------\n", token, us.nk_seed);
	fclose(f);
	EVP_PKEY_free(us.nk_key);
}

void
nu_creds_make(const char *dir)
{
	struct nkey op, ac, other;
	char claims[512];
	char op_jwt[2000], ac_jwt[3000];
	char path[256];
	FILE *f;

	nkey_make(&op, NK_OPERATOR);
	nkey_make(&ac, NK_ACCOUNT);
	nkey_make(&other, NK_ACCOUNT);
	snprintf(claims, sizeof(claims),
	         "{\"iat\":%ld,\"iss\":\"%s\",\"name\":\"op\",\"sub\":\"%s\","
	         "\"nats\":{\"type\":\"operator\",\"version\":2}}",
	         (long)time(NULL), op.nk_pub, op.nk_pub);
	jwt(&op, claims, op_jwt, sizeof(op_jwt));
	account_jwt(&op, &ac, ac_jwt, sizeof(ac_jwt));
	snprintf(path, sizeof(path), "%s/server.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "operator: \"%s\"\nresolver: MEMORY\nresolver_preload: {\n"
	        "  %s: \"%s\"\n}\n", op_jwt, ac.nk_pub, ac_jwt);
	fclose(f);
	snprintf(path, sizeof(path), "%s/node.creds", dir);
	user_creds(&ac, path);
	snprintf(path, sizeof(path), "%s/rogue.creds", dir);
	user_creds(&other, path);
	EVP_PKEY_free(op.nk_key);
	EVP_PKEY_free(ac.nk_key);
	EVP_PKEY_free(other.nk_key);
}
