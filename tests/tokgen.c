/* Test-only token factory; see tokgen.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "keys.h"
#include "tokgen.h"

EVP_PKEY *tg_keygen(const char *kind)
{
	if (strcmp(kind, "RSA2048") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (strcmp(kind, "RSA1024") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	if (strcmp(kind, "P-256") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (strcmp(kind, "P-384") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (strcmp(kind, "P-521") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	if (strcmp(kind, "ED25519") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return NULL;
}

static int write_pem(EVP_PKEY *key, const char *path, unsigned mode,
	int priv)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = priv ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		  : PEM_write_PUBKEY(f, key);
	if (fclose(f) != 0 || !ok)
		return -1;
	return chmod(path, mode);
}

int tg_write_pub(EVP_PKEY *key, const char *path, unsigned mode)
{
	return write_pem(key, path, mode, 0);
}

int tg_write_priv(EVP_PKEY *key, const char *path, unsigned mode)
{
	return write_pem(key, path, mode, 1);
}

int tg_write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

char *tg_b64(const void *data, size_t len)
{
	char *out = malloc(ag_b64url_len(len) + 1);

	if (out)
		ag_b64url_encode(data, len, out);
	return out;
}

static char *bn_b64(EVP_PKEY *key, const char *param, int pad)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (!EVP_PKEY_get_bn_param(key, param, &bn))
		return NULL;
	n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return n < 0 ? NULL : tg_b64(buf, (size_t)n);
}

static int field_len(EVP_PKEY *key)
{
	return (EVP_PKEY_get_bits(key) + 7) / 8;
}

char *tg_jwk(EVP_PKEY *key, const char *kid)
{
	char *a = NULL, *b = NULL, *out = malloc(4096);
	unsigned char raw[32];
	size_t rlen = sizeof(raw);

	if (EVP_PKEY_is_a(key, "RSA")) {
		a = bn_b64(key, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bn_b64(key, OSSL_PKEY_PARAM_RSA_E, 0);
		snprintf(out, 4096, "{\"kty\":\"RSA\",\"kid\":\"%s\","
			"\"n\":\"%s\",\"e\":\"%s\"}", kid, a, b);
	} else if (EVP_PKEY_is_a(key, "EC")) {
		int fl = field_len(key);

		a = bn_b64(key, OSSL_PKEY_PARAM_EC_PUB_X, fl);
		b = bn_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y, fl);
		snprintf(out, 4096, "{\"kty\":\"EC\",\"kid\":\"%s\","
			"\"crv\":\"P-%d\",\"x\":\"%s\",\"y\":\"%s\"}", kid,
			EVP_PKEY_get_bits(key), a, b);
	} else {
		EVP_PKEY_get_raw_public_key(key, raw, &rlen);
		a = tg_b64(raw, rlen);
		snprintf(out, 4096, "{\"kty\":\"OKP\",\"kid\":\"%s\","
			"\"crv\":\"Ed25519\",\"x\":\"%s\"}", kid, a);
	}
	free(a);
	free(b);
	return out;
}

static const EVP_MD *md_for(const char *alg)
{
	if (strstr(alg, "256"))
		return EVP_sha256();
	if (strstr(alg, "384"))
		return EVP_sha384();
	if (strstr(alg, "512"))
		return EVP_sha512();
	return NULL;
}

/* DER ECDSA signature to fixed-width R || S. */
static size_t der_to_jose(const unsigned char *der, size_t len,
	int fl, unsigned char *out)
{
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &der, (long)len);
	const BIGNUM *r, *s;

	if (!es)
		return 0;
	ECDSA_SIG_get0(es, &r, &s);
	BN_bn2binpad(r, out, fl);
	BN_bn2binpad(s, out + fl, fl);
	ECDSA_SIG_free(es);
	return (size_t)(2 * fl);
}

static char *join(const char *input, const unsigned char *sig,
	size_t siglen)
{
	char *s = tg_b64(sig, siglen);
	size_t len = strlen(input) + strlen(s) + 2;
	char *tok = malloc(len);

	snprintf(tok, len, "%s.%s", input, s);
	free(s);
	return tok;
}

static char *signing_input(const char *header, const char *payload)
{
	char *h = tg_b64(header, strlen(header));
	char *p = tg_b64(payload, strlen(payload));
	size_t len = strlen(h) + strlen(p) + 2;
	char *in = malloc(len);

	snprintf(in, len, "%s.%s", h, p);
	free(h);
	free(p);
	return in;
}

char *tg_sign(EVP_PKEY *key, const char *alg, const char *header,
	const char *payload)
{
	char *in = signing_input(header, payload), *tok = NULL;
	unsigned char sig[1024], jose[200];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const EVP_MD *h = strcmp(alg, "EdDSA") ? md_for(alg) : NULL;

	if (EVP_DigestSignInit(md, NULL, h, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)in,
			strlen(in)) != 1)
		goto out;

	if (alg[0] == 'E' && alg[1] == 'S') {
		siglen = der_to_jose(sig, siglen, field_len(key), jose);
		tok = join(in, jose, siglen);
	} else {
		tok = join(in, sig, siglen);
	}
out:
	EVP_MD_CTX_free(md);
	free(in);
	return tok;
}

char *tg_sign_hmac(const void *secret, size_t len, const char *header,
	const char *payload)
{
	char *in = signing_input(header, payload), *tok;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;

	HMAC(EVP_sha256(), secret, (int)len, (unsigned char *)in, strlen(in),
		mac, &maclen);
	tok = join(in, mac, maclen);
	free(in);
	return tok;
}

static unsigned char *token_sig(const char *token, size_t *len,
	size_t *inlen)
{
	const char *dot = strrchr(token, '.');
	unsigned char *sig;

	*inlen = (size_t)(dot - token);
	if (ag_b64url_decode(dot + 1, strlen(dot + 1), &sig, len) < 0)
		return NULL;
	return sig;
}

static char *with_sig(const char *token, size_t inlen,
	const unsigned char *sig, size_t len)
{
	char *in = strndup(token, inlen), *tok = join(in, sig, len);

	free(in);
	return tok;
}

char *tg_high_s(const char *token, EVP_PKEY *key)
{
	size_t len, inlen, fl;
	unsigned char *sig = token_sig(token, &len, &inlen);
	BIGNUM *order = NULL, *s;
	char group[32];
	EC_GROUP *g;
	char *tok;

	fl = len / 2;
	EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
		group, sizeof(group), NULL);
	g = EC_GROUP_new_by_curve_name(OBJ_txt2nid(group));
	order = BN_dup(EC_GROUP_get0_order(g));
	s = BN_bin2bn(sig + fl, (int)fl, NULL);
	BN_sub(s, order, s);
	BN_bn2binpad(s, sig + fl, (int)fl);
	tok = with_sig(token, inlen, sig, len);

	BN_free(s);
	BN_free(order);
	EC_GROUP_free(g);
	free(sig);
	return tok;
}

char *tg_der_sig(const char *token)
{
	size_t len, inlen;
	unsigned char *sig = token_sig(token, &len, &inlen), *der = NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	int n;
	char *tok;

	ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)len / 2, NULL),
		BN_bin2bn(sig + len / 2, (int)len / 2, NULL));
	n = i2d_ECDSA_SIG(es, &der);
	tok = with_sig(token, inlen, der, (size_t)n);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	free(sig);
	return tok;
}
