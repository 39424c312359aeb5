/*
 * Issuer public keys: PEM (SubjectPublicKeyInfo) and JWKS files on
 * local disk, parsed into OpenSSL keys and cached per file until the
 * file changes.  Nothing here ever fetches a key from anywhere else,
 * and a "kid" only ever selects among keys already loaded.
 *
 * A keyring is not thread-safe: give each thread its own, or hold a
 * lock around every call that takes it.
 */
#ifndef AG_KEYS_H
#define AG_KEYS_H

#include <stddef.h>

#include <openssl/evp.h>

#include "token.h"

#define AG_KEYFILE_MAX (256 * 1024)	/* bytes of one key file */
#define AG_RSA_MIN_BITS 2048
#define AG_RSA_MAX_BITS 16384	/* bounds the cost of one verify */

enum ag_key_type {
	AG_KEY_RSA = 1,
	AG_KEY_P256,
	AG_KEY_P384,
	AG_KEY_P521,
	AG_KEY_ED25519,
};

struct ag_key {
	EVP_PKEY *pkey;
	enum ag_key_type type;
	/* enum ag_alg bits this key may verify: its type's, narrowed by a
	 * JWK "alg" member when there is one. */
	unsigned algs;
	char kid[AG_KID_MAX + 1];	/* "" when the key has none */
};

/* The algorithms a key type can verify (enum ag_alg bits). */
unsigned ag_key_type_algs(enum ag_key_type type);

/*
 * Parse every public key in DATA: a JWKS ({"keys": [...]}), a single
 * JWK, or one or more PEM "PUBLIC KEY" blocks.  PEM keys get
 * DEFAULT_KID (may be NULL).  Keys of unsupported types, RSA keys
 * under AG_RSA_MIN_BITS, and JWKs meant for encryption are skipped.
 * Returns 0 with at least one key, -ENOKEY when none was usable,
 * -EINVAL when DATA is not a key file at all, -EFBIG above
 * AG_KEYFILE_MAX bytes, -ENOMEM.
 */
int ag_keys_parse(const char *data, size_t len, const char *default_kid,
	struct ag_key **keys, size_t *n);
void ag_keys_free(struct ag_key *keys, size_t n);

/*
 * The keys of the file at PATH, read again whenever its device,
 * inode, size, mtime, ctime, owner or mode changed.  The file must be
 * trusted (root-owned, not group/other writable), else -EPERM.  The
 * array stays valid until the next call for the same PATH or
 * ag_keyring_free().  A PEM file's keys use the file's base name
 * without its extension as their kid.
 */
int ag_keyring_file(struct ag_keyring *kr, const char *path,
	const struct ag_key **keys, size_t *n);

/*
 * Verify the JWS signature SIG over INPUT with KEY for ALG (one enum
 * ag_alg bit), which KEY must allow.  ECDSA signatures are JOSE R || S
 * of exactly twice the field size.  1 verified, 0 not, -ENOMEM.
 */
int ag_token_verify_sig(const struct ag_key *key, unsigned alg,
	const void *input, size_t inlen, const unsigned char *sig,
	size_t siglen);

/*
 * Strict base64url (RFC 7515 section 2): only [A-Za-z0-9_-], no
 * padding, no whitespace, unused trailing bits zero, so that every
 * byte string has exactly one accepted encoding.  *OUT is malloc'd
 * (and NUL-terminated for convenience).  -EINVAL or -ENOMEM.
 */
int ag_b64url_decode(const char *s, size_t len, unsigned char **out,
	size_t *outlen);

/* Encode LEN bytes; OUT must hold ag_b64url_len(LEN) + 1 bytes. */
size_t ag_b64url_len(size_t len);
void ag_b64url_encode(const unsigned char *in, size_t len, char *out);

#endif
