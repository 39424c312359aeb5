/*
 * agentgatectl mint: sign a token, for tests, demos and small setups
 * where a script is the approval service.
 *
 * Signs with OpenSSL directly.  ECDSA signatures are converted from
 * OpenSSL's DER to the JOSE form (R || S, each the field size), which
 * is what every verifier expects.  The private key is never printed,
 * logged or copied anywhere but OpenSSL's own key object.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "ctl.h"
#include "keys.h"
#include "token.h"
#include "util.h"

#define MINT_TTL_MAX (31L * 24 * 3600)
#define MINT_KEY_MAX (64 * 1024)

struct mint_opts {
	const char *key, *iss, *sub, *jti, *kid, *alg;
	json_t *aud;		/* string, or array when given twice */
	long ttl;
	json_t *extra;		/* --claim KEY=JSON, applied last */
};

static int mint_usage(void)
{
	fputs("usage: agentgatectl mint --key PRIVATE.pem --iss ISS "
		"--aud AUD --sub NAME\n"
		"         --ttl SECONDS [--jti ID] [--kid KID] [--alg ALG] "
		"[--claim KEY=JSON]...\n", stderr);
	return 2;
}

static int add_aud(struct mint_opts *o, const char *aud)
{
	json_t *a = json_string(aud);

	if (!a)
		return -EINVAL;
	if (!o->aud) {
		o->aud = a;
		return 0;
	}
	if (json_is_string(o->aud)) {
		json_t *arr = json_array();

		json_array_append_new(arr, o->aud);
		o->aud = arr;
	}
	return json_array_append_new(o->aud, a) == 0 ? 0 : -ENOMEM;
}

/* KEY=JSON, e.g. groups=["docker"] or exp="later" for hostile tests. */
static int add_claim(struct mint_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	json_t *v;
	char *key;
	int r;

	if (!eq || eq == arg)
		return -EINVAL;
	v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		NULL);
	if (!v)
		return -EINVAL;
	key = strndup(arg, (size_t)(eq - arg));
	r = key ? json_object_set_new(o->extra, key, v) : -1;
	free(key);
	return r == 0 ? 0 : -ENOMEM;
}

static int mint_opt(struct mint_opts *o, int c, const char *arg)
{
	long long ttl;

	switch (c) {
	case 'k': o->key = arg; return 0;
	case 'i': o->iss = arg; return 0;
	case 's': o->sub = arg; return 0;
	case 'j': o->jti = arg; return 0;
	case 'K': o->kid = arg; return 0;
	case 'A': o->alg = arg; return 0;
	case 'a': return add_aud(o, arg);
	case 'C': return add_claim(o, arg);
	case 't':
		if (ag_parse_int(arg, 1, MINT_TTL_MAX, &ttl) < 0)
			return -EINVAL;
		o->ttl = (long)ttl;
		return 0;
	}
	return -EINVAL;
}

static int parse_opts(int argc, char **argv, struct mint_opts *o)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "iss", required_argument, NULL, 'i' },
		{ "aud", required_argument, NULL, 'a' },
		{ "sub", required_argument, NULL, 's' },
		{ "ttl", required_argument, NULL, 't' },
		{ "jti", required_argument, NULL, 'j' },
		{ "kid", required_argument, NULL, 'K' },
		{ "alg", required_argument, NULL, 'A' },
		{ "claim", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (mint_opt(o, c, optarg) < 0)
			return -EINVAL;
	}
	if (optind != argc || !o->key || !o->iss || !o->aud || !o->sub ||
	    !o->ttl)
		return -EINVAL;
	return 0;
}

static EVP_PKEY *load_key(const char *path)
{
	char *data;
	size_t len;
	BIO *bio;
	EVP_PKEY *pkey = NULL;

	if (ag_read_file(path, MINT_KEY_MAX, &data, &len, NULL) < 0)
		return NULL;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	explicit_bzero(data, len);
	free(data);
	return pkey;
}

/* The algorithm for KEY: --alg if it fits the key, else its default. */
static unsigned pick_alg(EVP_PKEY *pkey, const char *name)
{
	struct ag_key k = { .pkey = pkey };
	char group[32] = "";

	if (EVP_PKEY_is_a(pkey, "RSA"))
		k.type = AG_KEY_RSA;
	else if (EVP_PKEY_is_a(pkey, "ED25519"))
		k.type = AG_KEY_ED25519;
	else if (EVP_PKEY_get_utf8_string_param(pkey,
			OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			NULL))
		k.type = !strcmp(group, "prime256v1") ? AG_KEY_P256 :
			!strcmp(group, "secp384r1") ? AG_KEY_P384 :
			!strcmp(group, "secp521r1") ? AG_KEY_P521 : 0;
	if (!k.type)
		return 0;
	if (!name)
		return ag_key_type_algs(k.type) & -ag_key_type_algs(k.type);
	return ag_alg_from_name(name) & ag_key_type_algs(k.type);
}

static char *b64_json(json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *out = text ? malloc(ag_b64url_len(strlen(text)) + 1) : NULL;

	if (out)
		ag_b64url_encode((unsigned char *)text, strlen(text), out);
	free(text);
	return out;
}

static json_t *make_header(const struct mint_opts *o, unsigned alg)
{
	json_t *h = json_pack("{s:s, s:s}", "alg", ag_alg_name(alg),
		"typ", "JWT");

	if (h && o->kid)
		json_object_set_new(h, "kid", json_string(o->kid));
	return h;
}

static json_t *make_payload(const struct mint_opts *o)
{
	char jti[33];
	time_t now = time(NULL);
	json_t *p;

	if (!o->jti && ag_random_hex(jti, 16) < 0)
		return NULL;
	p = json_pack("{s:s, s:O, s:s, s:I, s:I, s:s}", "iss", o->iss,
		"aud", o->aud, "sub", o->sub, "iat", (json_int_t)now,
		"exp", (json_int_t)(now + o->ttl), "jti",
		o->jti ? o->jti : jti);
	if (p && json_object_update(p, o->extra) < 0) {
		json_decref(p);
		return NULL;
	}
	return p;
}

/* OpenSSL's DER ECDSA signature to JOSE R || S, in place. */
static int der_to_jose(unsigned char *sig, size_t *len, EVP_PKEY *pkey)
{
	const unsigned char *p = sig;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)*len);
	int fl = (EVP_PKEY_get_bits(pkey) + 7) / 8;
	const BIGNUM *r, *s;

	if (!es)
		return -EINVAL;
	ECDSA_SIG_get0(es, &r, &s);
	BN_bn2binpad(r, sig, fl);
	BN_bn2binpad(s, sig + fl, fl);
	ECDSA_SIG_free(es);
	*len = (size_t)(2 * fl);
	return 0;
}

static const EVP_MD *mint_md(unsigned alg)
{
	if (alg & (AG_ALG_RS256 | AG_ALG_ES256))
		return EVP_sha256();
	if (alg & (AG_ALG_RS384 | AG_ALG_ES384))
		return EVP_sha384();
	if (alg & (AG_ALG_RS512 | AG_ALG_ES512))
		return EVP_sha512();
	return NULL;
}

static int sign(EVP_PKEY *pkey, unsigned alg, const char *input,
	unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	ok = md && EVP_DigestSignInit(md, NULL, mint_md(alg), NULL,
			pkey) == 1 &&
		EVP_DigestSign(md, sig, siglen, (const unsigned char *)input,
			strlen(input)) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -EINVAL;
	if (alg & (AG_ALG_ES256 | AG_ALG_ES384 | AG_ALG_ES512))
		return der_to_jose(sig, siglen, pkey);
	return 0;
}

static int print_token(const struct mint_opts *o, EVP_PKEY *pkey,
	unsigned alg)
{
	json_t *h = make_header(o, alg), *p = make_payload(o);
	char *hb = h ? b64_json(h) : NULL, *pb = p ? b64_json(p) : NULL;
	char input[AG_TOKEN_MAX * 2], sb[2800];
	unsigned char sig[2048];
	size_t siglen = sizeof(sig);
	int r = -ENOMEM;

	if (hb && pb && snprintf(input, sizeof(input), "%s.%s", hb, pb) <
			(int)sizeof(input))
		r = sign(pkey, alg, input, sig, &siglen);
	if (r == 0) {
		ag_b64url_encode(sig, siglen, sb);
		printf("%s.%s\n", input, sb);
	}
	free(hb);
	free(pb);
	json_decref(h);
	json_decref(p);
	return r;
}

static int mint(struct mint_opts *o)
{
	EVP_PKEY *pkey = load_key(o->key);
	unsigned alg;
	int r;

	if (!pkey) {
		fprintf(stderr, "agentgatectl: %s: not a readable PEM "
			"private key\n", o->key);
		return 2;
	}
	alg = pick_alg(pkey, o->alg);
	if (!alg) {
		fprintf(stderr, "agentgatectl: --alg does not fit this "
			"key, or the key type is not supported\n");
		EVP_PKEY_free(pkey);
		return 2;
	}

	r = print_token(o, pkey, alg);
	EVP_PKEY_free(pkey);
	if (r < 0) {
		fprintf(stderr, "agentgatectl: signing failed\n");
		return 1;
	}
	return 0;
}

int ctl_mint(int argc, char **argv)
{
	struct mint_opts o = { .extra = json_object() };
	int r;

	if (!o.extra)
		return 1;
	if (parse_opts(argc, argv, &o) < 0)
		r = mint_usage();
	else
		r = mint(&o);
	json_decref(o.aud);
	json_decref(o.extra);
	return r;
}
