/*
 * Issuer public keys from PEM and JWKS files, cached per file.
 *
 * Every key is parsed into an EVP_PKEY once, when its file is first
 * used or has changed; validation then only stat()s the file.  A key
 * file that is empty, unparsable or untrusted yields an error, never
 * an empty key: an empty key is what turns libjwt's verification off.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "keys.h"
#include "util.h"

struct kfile {
	char *path;
	struct stat st;
	int err;		/* result of the last load */
	struct ag_key *keys;
	size_t n;
};

struct ag_keyring {
	struct kfile *files;
	size_t n;
};

/* ---- base64url ---- */

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int ag_b64url_decode(const char *s, size_t len, unsigned char **out,
	size_t *outlen)
{
	unsigned char *buf;
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -EINVAL;
	buf = malloc(len / 4 * 3 + 3);
	if (!buf)
		return -ENOMEM;

	for (size_t i = 0; i < len; i++) {
		int v = b64_val((unsigned char)s[i]);

		if (v < 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}

	/* Leftover bits must be zero, or two texts decode alike. */
	if (acc != 0)
		goto bad;
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;

bad:
	free(buf);
	return -EINVAL;
}

size_t ag_b64url_len(size_t len)
{
	return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

void ag_b64url_encode(const unsigned char *in, size_t len, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*out++ = abc[(acc >> bits) & 63];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0)
		*out++ = abc[(acc << (6 - bits)) & 63];
	*out = '\0';
}

/* ---- key types ---- */

unsigned ag_key_type_algs(enum ag_key_type type)
{
	switch (type) {
	case AG_KEY_RSA:
		return AG_ALG_RS256 | AG_ALG_RS384 | AG_ALG_RS512;
	case AG_KEY_P256:
		return AG_ALG_ES256;
	case AG_KEY_P384:
		return AG_ALG_ES384;
	case AG_KEY_P521:
		return AG_ALG_ES512;
	case AG_KEY_ED25519:
		return AG_ALG_EDDSA;
	}
	return 0;
}

static int ec_type(EVP_PKEY *pkey, enum ag_key_type *type)
{
	char group[64];

	if (!EVP_PKEY_get_utf8_string_param(pkey,
			OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			NULL))
		return -EINVAL;
	if (strcmp(group, "prime256v1") == 0)
		*type = AG_KEY_P256;
	else if (strcmp(group, "secp384r1") == 0)
		*type = AG_KEY_P384;
	else if (strcmp(group, "secp521r1") == 0)
		*type = AG_KEY_P521;
	else
		return -EINVAL;
	return 0;
}

/*
 * With e = 1 every padded message is its own signature; an even e is
 * no RSA key either.  Admins' files are trusted, but not to be right.
 */
static int rsa_check(EVP_PKEY *pkey)
{
	int bits = EVP_PKEY_get_bits(pkey);
	BIGNUM *e = NULL;
	int ok;

	if (bits < AG_RSA_MIN_BITS || bits > AG_RSA_MAX_BITS ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
		return -EINVAL;
	ok = BN_is_odd(e) && !BN_is_one(e);
	BN_free(e);
	return ok ? 0 : -EINVAL;
}

/* The point must be on the curve and not the point at infinity. */
static int ec_check(EVP_PKEY *pkey, enum ag_key_type *type)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = ctx && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ok ? ec_type(pkey, type) : -EINVAL;
}

/* Classify PKEY; -EINVAL for anything we will not verify with. */
static int key_type(EVP_PKEY *pkey, enum ag_key_type *type)
{
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (rsa_check(pkey) < 0)
			return -EINVAL;
		*type = AG_KEY_RSA;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "EC"))
		return ec_check(pkey, type);
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		*type = AG_KEY_ED25519;
		return 0;
	}
	return -EINVAL;
}

void ag_keys_free(struct ag_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(keys[i].pkey);
	free(keys);
}

/* Take ownership of PKEY and append it, or free it if unusable. */
static int keys_add(struct ag_key **keys, size_t *n, EVP_PKEY *pkey,
	const char *kid, unsigned alg)
{
	struct ag_key *k;
	enum ag_key_type type;

	if (key_type(pkey, &type) < 0 ||
	    (alg && !(ag_key_type_algs(type) & alg))) {
		EVP_PKEY_free(pkey);
		return 0;
	}

	k = realloc(*keys, (*n + 1) * sizeof(**keys));
	if (!k) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	*keys = k;
	k = &k[(*n)++];
	memset(k, 0, sizeof(*k));
	k->pkey = pkey;
	k->type = type;
	k->algs = alg ? alg : ag_key_type_algs(type);
	if (kid && strlen(kid) <= AG_KID_MAX)
		strcpy(k->kid, kid);
	return 0;
}

/* ---- PEM ---- */

static int parse_pem(const char *data, size_t len, const char *kid,
	struct ag_key **keys, size_t *n)
{
	BIO *bio;
	EVP_PKEY *pkey;
	int r = 0;

	bio = BIO_new_mem_buf(data, (int)len);
	if (!bio)
		return -ENOMEM;
	while (r == 0 && (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)))
		r = keys_add(keys, n, pkey, kid, 0);
	BIO_free(bio);

	/* The end of the file shows up as a PEM "no start line" error. */
	ERR_clear_error();
	return r;
}

/* ---- JWK ---- */

static const char *jwk_str(json_t *jwk, const char *name)
{
	return json_string_value(json_object_get(jwk, name));
}

static int jwk_bytes(json_t *jwk, const char *name, unsigned char **out,
	size_t *len)
{
	const char *s = jwk_str(jwk, name);

	if (!s)
		return -EINVAL;
	return ag_b64url_decode(s, strlen(s), out, len);
}

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params && ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

static EVP_PKEY *jwk_rsa(json_t *jwk)
{
	unsigned char *nb = NULL, *eb = NULL;
	size_t nlen, elen;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (jwk_bytes(jwk, "n", &nb, &nlen) < 0 ||
	    jwk_bytes(jwk, "e", &eb, &elen) < 0)
		goto out;

	bn_n = BN_bin2bn(nb, (int)nlen, NULL);
	bn_e = BN_bin2bn(eb, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!bn_n || !bn_e || !bld ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		goto out;
	pkey = pkey_fromdata("RSA", bld);

out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	free(nb);
	free(eb);
	return pkey;
}

static int ec_curve(const char *crv, const char **group, size_t *flen)
{
	static const struct {
		const char *crv, *group;
		size_t flen;
	} curves[] = {
		{ "P-256", "prime256v1", 32 },
		{ "P-384", "secp384r1", 48 },
		{ "P-521", "secp521r1", 66 },
	};

	for (size_t i = 0; crv && i < AG_ARRAY_SIZE(curves); i++) {
		if (strcmp(crv, curves[i].crv) == 0) {
			*group = curves[i].group;
			*flen = curves[i].flen;
			return 0;
		}
	}
	return -EINVAL;
}

static EVP_PKEY *jwk_ec(json_t *jwk)
{
	unsigned char *x = NULL, *y = NULL, pub[1 + 2 * 66];
	const char *group;
	size_t flen, xlen, ylen;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	if (ec_curve(jwk_str(jwk, "crv"), &group, &flen) < 0 ||
	    jwk_bytes(jwk, "x", &x, &xlen) < 0 ||
	    jwk_bytes(jwk, "y", &y, &ylen) < 0 ||
	    xlen != flen || ylen != flen)
		goto out;

	/* Uncompressed point; OpenSSL checks that it is on the curve. */
	pub[0] = 0x04;
	memcpy(pub + 1, x, flen);
	memcpy(pub + 1 + flen, y, flen);
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld,
			OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
			pub, 1 + 2 * flen))
		goto out;
	pkey = pkey_fromdata("EC", bld);

out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

static EVP_PKEY *jwk_okp(json_t *jwk)
{
	const char *crv = jwk_str(jwk, "crv");
	unsigned char *x = NULL;
	size_t xlen;
	EVP_PKEY *pkey = NULL;

	if (crv && strcmp(crv, "Ed25519") == 0 &&
	    jwk_bytes(jwk, "x", &x, &xlen) == 0 && xlen == 32)
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
			x, xlen);
	free(x);
	return pkey;
}

/* "use" and "key_ops", when present, must allow verification. */
static bool jwk_for_signing(json_t *jwk)
{
	json_t *use = json_object_get(jwk, "use");
	json_t *ops = json_object_get(jwk, "key_ops");
	json_t *op;
	size_t i;

	if (use && !(json_is_string(use) &&
			strcmp(json_string_value(use), "sig") == 0))
		return false;
	if (!ops)
		return true;
	json_array_foreach(ops, i, op) {
		if (json_is_string(op) &&
		    strcmp(json_string_value(op), "verify") == 0)
			return true;
	}
	return false;
}

static int parse_jwk(json_t *jwk, struct ag_key **keys, size_t *n)
{
	const char *kty = jwk_str(jwk, "kty");
	json_t *jalg = json_object_get(jwk, "alg");
	json_t *jkid = json_object_get(jwk, "kid");
	unsigned alg = 0;
	EVP_PKEY *pkey = NULL;

	if (!kty || !jwk_for_signing(jwk))
		return 0;
	if (jkid && !json_is_string(jkid))
		return 0;
	if (jalg) {
		alg = ag_alg_from_name(json_string_value(jalg) ?
			json_string_value(jalg) : "");
		if (!alg)
			return 0;
	}

	if (strcmp(kty, "RSA") == 0)
		pkey = jwk_rsa(jwk);
	else if (strcmp(kty, "EC") == 0)
		pkey = jwk_ec(jwk);
	else if (strcmp(kty, "OKP") == 0)
		pkey = jwk_okp(jwk);
	if (!pkey)
		return 0;
	return keys_add(keys, n, pkey, json_string_value(jkid), alg);
}

static int parse_jwks(const char *data, size_t len, struct ag_key **keys,
	size_t *n)
{
	json_t *root, *set, *jwk;
	size_t i;
	int r = 0;

	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}

	set = json_object_get(root, "keys");
	if (!set)
		r = parse_jwk(root, keys, n);
	else if (!json_is_array(set))
		r = -EINVAL;
	json_array_foreach(set, i, jwk) {
		if (r == 0 && json_is_object(jwk))
			r = parse_jwk(jwk, keys, n);
	}
	json_decref(root);
	return r;
}

int ag_keys_parse(const char *data, size_t len, const char *default_kid,
	struct ag_key **keys, size_t *n)
{
	struct ag_key *k = NULL;
	size_t nk = 0, i = 0;
	int r;

	if (len > AG_KEYFILE_MAX)
		return -EFBIG;
	while (i < len && strchr(" \t\r\n", data[i]))
		i++;
	if (i == len)
		return -ENOKEY;

	if (data[i] == '{')
		r = parse_jwks(data, len, &k, &nk);
	else
		r = parse_pem(data, len, default_kid, &k, &nk);
	if (r == 0 && nk == 0)
		r = -ENOKEY;
	if (r < 0) {
		ag_keys_free(k, nk);
		return r;
	}
	*keys = k;
	*n = nk;
	return 0;
}

/* ---- keyring ---- */

struct ag_keyring *ag_keyring_new(void)
{
	return calloc(1, sizeof(struct ag_keyring));
}

static void kfile_drop(struct kfile *f)
{
	ag_keys_free(f->keys, f->n);
	f->keys = NULL;
	f->n = 0;
}

void ag_keyring_free(struct ag_keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++) {
		kfile_drop(&kr->files[i]);
		free(kr->files[i].path);
	}
	free(kr->files);
	free(kr);
}

static struct kfile *kfile_get(struct ag_keyring *kr, const char *path)
{
	struct kfile *f;

	for (size_t i = 0; i < kr->n; i++) {
		if (strcmp(kr->files[i].path, path) == 0)
			return &kr->files[i];
	}

	f = realloc(kr->files, (kr->n + 1) * sizeof(*f));
	if (!f)
		return NULL;
	kr->files = f;
	f = &f[kr->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (!f->path)
		return NULL;
	f->err = -ENOENT;
	kr->n++;
	return f;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
		a->st_size == b->st_size && a->st_mode == b->st_mode &&
		a->st_uid == b->st_uid &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
		a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* "/etc/agentgate/keys/2024-05.pem" -> "2024-05" */
static void pem_kid(const char *path, char kid[AG_KID_MAX + 1])
{
	const char *base = strrchr(path, '/');
	size_t len;
	char *dot;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > AG_KID_MAX)
		len = AG_KID_MAX;
	memcpy(kid, base, len);
	kid[len] = '\0';
	dot = strrchr(kid, '.');
	if (dot && dot != kid)
		*dot = '\0';
}

static int kfile_load(struct kfile *f)
{
	char kid[AG_KID_MAX + 1], *data = NULL;
	size_t len;
	int r;

	kfile_drop(f);
	r = ag_read_file(f->path, AG_KEYFILE_MAX, &data, &len, &f->st);
	if (r < 0)
		return r;

	if (!ag_stat_trusted(&f->st) || !S_ISREG(f->st.st_mode)) {
		r = -EPERM;
	} else {
		pem_kid(f->path, kid);
		r = ag_keys_parse(data, len, kid, &f->keys, &f->n);
	}
	free(data);
	return r;
}

int ag_keyring_file(struct ag_keyring *kr, const char *path,
	const struct ag_key **keys, size_t *n)
{
	struct kfile *f = kfile_get(kr, path);
	struct stat st;

	if (!f)
		return -ENOMEM;
	if (stat(path, &st) < 0) {
		kfile_drop(f);
		memset(&f->st, 0, sizeof(f->st));
		f->err = -errno;
		return f->err;
	}

	/* A file that changed, or one we could not read, is read again. */
	if (f->err == -ENOENT || f->err == -ENOMEM ||
	    !same_file(&st, &f->st)) {
		f->st = st;
		f->err = kfile_load(f);
	}
	if (f->err < 0)
		return f->err;
	*keys = f->keys;
	*n = f->n;
	return 0;
}
