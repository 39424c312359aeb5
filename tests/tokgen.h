/*
 * Test-only token factory: keys generated at run time with OpenSSL,
 * tokens signed from literal header and payload JSON, so a test can
 * produce exactly the malformed or hostile token it means to.
 */
#ifndef AG_TOKGEN_H
#define AG_TOKGEN_H

#include <stddef.h>

#include <openssl/evp.h>

/* "RSA2048", "RSA1024", "P-256", "P-384", "P-521", "ED25519". */
EVP_PKEY *tg_keygen(const char *kind);

/* PEM files; MODE is applied with chmod after writing. */
int tg_write_pub(EVP_PKEY *key, const char *path, unsigned mode);
int tg_write_priv(EVP_PKEY *key, const char *path, unsigned mode);

/* The public part as one JWK object (JSON text, malloc'd). */
char *tg_jwk(EVP_PKEY *key, const char *kid);

/* base64url without padding, malloc'd. */
char *tg_b64(const void *data, size_t len);

/*
 * HEADER.PAYLOAD.SIG with the signature KEY makes for ALG ("RS256",
 * "ES384", "EdDSA" ...; ECDSA in JOSE R || S form).  The header's own
 * alg may say anything: that is the point.  malloc'd.
 */
char *tg_sign(EVP_PKEY *key, const char *alg, const char *header,
	const char *payload);

/* HS256 over the same input with SECRET as the HMAC key. */
char *tg_sign_hmac(const void *secret, size_t len, const char *header,
	const char *payload);

/* Replace the ES256/384/512 signature of TOKEN with (r, n - s). */
char *tg_high_s(const char *token, EVP_PKEY *key);

/* Replace the ECDSA signature of TOKEN with its DER form. */
char *tg_der_sig(const char *token);

/* Write LEN bytes to PATH (created 0600). */
int tg_write_file(const char *path, const char *data, size_t len);

#endif
