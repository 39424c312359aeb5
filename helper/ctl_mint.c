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
#include <stdbool.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
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

#define CMD "mint"	/* for messages */

#define MINT_TTL_MAX (31L * 24 * 3600)
#define MINT_KEY_MAX (64 * 1024)

struct mint_opts {
	const char *key, *iss, *sub, *jti, *kid, *alg;
	json_t *aud;		/* string, or array when given twice */
	long ttl;
	json_t *extra;		/* --claim KEY=JSON, applied last */
};

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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int mint_usage(FILE *f, int code)
{
	fputs("usage: agentgatectl mint --key PRIVATE.pem --iss ISS "
		"--aud AUD --sub NAME\n"
		"         --ttl SECONDS [--jti ID] [--kid KID] [--alg ALG] "
		"[--claim KEY=JSON]...\n", f);
	return code;
}

static int add_aud(struct mint_opts *o, const char *aud)
{
	json_t *a = json_string(aud);

	if (!a)
		return ctl_bad(CMD, "--aud: not valid UTF-8");
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
	json_error_t jerr;
	json_t *v;
	char *key;
	int r;

	if (!eq)
		return ctl_bad(CMD, "--claim \"%s\": expected KEY=JSON",
			ctl_shown(arg));
	if (eq == arg)
		return ctl_bad(CMD, "--claim \"%s\": empty claim name",
			ctl_shown(arg));
	v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		&jerr);
	if (!v)
		return ctl_bad(CMD, "--claim \"%s\": the value is not valid "
			"JSON: %s", ctl_shown(arg), ctl_shown(jerr.text));

	key = strndup(arg, (size_t)(eq - arg));
	if (!key) {
		json_decref(v);
		return -ENOMEM;
	}
	r = json_object_set_new(o->extra, key, v);
	free(key);
	if (r < 0)	/* the one input jansson refuses: bad UTF-8 */
		return ctl_bad(CMD, "--claim: the claim name is not valid "
			"UTF-8");
	return 0;
}

static int parse_ttl(const char *arg, long *ttl)
{
	long long v = 0;
	int r;

	r = ag_parse_int(arg, LLONG_MIN, LLONG_MAX, &v);
	if (r == -EINVAL)
		return ctl_bad(CMD, "--ttl \"%s\": not a whole number of "
			"seconds", ctl_shown(arg));
	if (r < 0 ? arg[0] == '-' : v < 1)
		return ctl_bad(CMD, "--ttl %s: must be at least 1 second",
			arg);
	if (r < 0 || v > MINT_TTL_MAX)
		return ctl_bad(CMD, "--ttl %s: over the limit of %ld seconds "
			"(31 days)", arg, MINT_TTL_MAX);
	*ttl = (long)v;
	return 0;
}

static int parse_alg(const char *arg, const char **alg)
{
	if (!ag_alg_from_name(arg))
		return ctl_bad(CMD, "--alg \"%s\": unknown algorithm (RS256, "
			"RS384, RS512, ES256, ES384, ES512 or EdDSA)",
			ctl_shown(arg));
	*alg = arg;
	return 0;
}

static const char **string_slot(struct mint_opts *o, int c)
{
	switch (c) {
	case 'k': return &o->key;
	case 'i': return &o->iss;
	case 's': return &o->sub;
	case 'j': return &o->jti;
	case 'K': return &o->kid;
	}
	return NULL;
}

static const char *option_name(int c)
{
	size_t i;

	for (i = 0; opts[i].name; i++)
		if (opts[i].val == c)
			return opts[i].name;
	return "?";
}

static int mint_opt(struct mint_opts *o, int c, const char *arg)
{
	const char **slot = string_slot(o, c);

	if (slot && *slot)
		return ctl_bad(CMD, "--%s given twice", option_name(c));
	if (slot) {
		*slot = arg;
		return 0;
	}
	switch (c) {
	case 'a': return add_aud(o, arg);
	case 'C': return add_claim(o, arg);
	case 'A':
		if (o->alg)
			return ctl_bad(CMD, "--alg given twice");
		return parse_alg(arg, &o->alg);
	case 't':
		if (o->ttl)
			return ctl_bad(CMD, "--ttl given twice");
		return parse_ttl(arg, &o->ttl);
	}
	return -EINVAL;
}

/* What the validator accepts as a jti: mint nothing it would refuse. */
static bool jti_ok(const char *jti)
{
	size_t n = strlen(jti);

	if (n == 0 || n > AG_JTI_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (jti[i] < 0x21 || jti[i] > 0x7e)
			return false;
	}
	return true;
}

static int check_required(const struct mint_opts *o)
{
	const char *missing = !o->key ? "--key" : !o->iss ? "--iss" :
		!o->aud ? "--aud" : !o->sub ? "--sub" : !o->ttl ? "--ttl" :
		NULL;

	if (missing)
		return ctl_bad(CMD, "%s is required", missing);
	if (o->jti && !jti_ok(o->jti))
		return ctl_bad(CMD, "--jti \"%s\": 1 to %d printable "
			"characters, no spaces", ctl_shown(o->jti), AG_JTI_MAX);
	return 0;
}

/* 0 to go on, -1 for --help, else the exit code; the error printed. */
static int parse_opts(int argc, char **argv, struct mint_opts *o)
{
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return -1;
		if (c == ':' || c == '?')
			return ctl_option_error(CMD, c, argv);
		r = mint_opt(o, c, optarg);
		if (r < 0)
			fprintf(stderr, "agentgatectl: mint: %s\n",
				strerror(-r));
		if (r)
			return r < 0 ? 1 : r;
	}

	if (optind != argc)
		return ctl_bad(CMD, "unexpected argument \"%s\"",
			ctl_shown(argv[optind]));
	return check_required(o);
}

/* No passphrase: an encrypted key fails to load rather than prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

/* 0, -ENOKEY when the file holds no PEM private key, or -errno. */
static int load_key(const char *path, EVP_PKEY **out)
{
	EVP_PKEY *pkey = NULL;
	char *data;
	size_t len;
	BIO *bio;
	int r;

	r = ag_read_file(path, MINT_KEY_MAX, &data, &len, NULL);
	if (r < 0)
		return r;
	bio = BIO_new_mem_buf(data, (int)len);
	if (bio)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
			NULL);
	BIO_free(bio);
	explicit_bzero(data, len);
	free(data);

	if (!pkey)
		return bio ? -ENOKEY : -ENOMEM;
	*out = pkey;
	return 0;
}

static enum ag_key_type key_type(EVP_PKEY *pkey)
{
	char group[32] = "";

	if (EVP_PKEY_is_a(pkey, "RSA"))
		return AG_KEY_RSA;
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return AG_KEY_ED25519;
	if (!EVP_PKEY_get_utf8_string_param(pkey,
			OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			NULL))
		return 0;
	return !strcmp(group, "prime256v1") ? AG_KEY_P256 :
		!strcmp(group, "secp384r1") ? AG_KEY_P384 :
		!strcmp(group, "secp521r1") ? AG_KEY_P521 : 0;
}

static const char *key_type_name(enum ag_key_type type)
{
	switch (type) {
	case AG_KEY_RSA: return "an RSA key (RS256, RS384, RS512)";
	case AG_KEY_P256: return "an EC P-256 key (ES256)";
	case AG_KEY_P384: return "an EC P-384 key (ES384)";
	case AG_KEY_P521: return "an EC P-521 key (ES512)";
	case AG_KEY_ED25519: return "an Ed25519 key (EdDSA)";
	}
	return "a key of an unsupported type";
}

/* The algorithm for the key: --alg if it fits, else the type's first. */
static int pick_alg(EVP_PKEY *pkey, const struct mint_opts *o,
	unsigned *alg)
{
	enum ag_key_type type = key_type(pkey);
	unsigned algs = ag_key_type_algs(type);

	if (!algs)
		return ctl_bad(CMD, "--key %s: %s", ctl_shown(o->key),
			key_type_name(type));
	*alg = o->alg ? ag_alg_from_name(o->alg) & algs : algs & -algs;
	if (!*alg)
		return ctl_bad(CMD, "--alg %s does not fit --key %s: it is %s",
			o->alg, ctl_shown(o->key), key_type_name(type));
	return 0;
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
	EVP_PKEY *pkey = NULL;
	unsigned alg = 0;
	int r;

	r = load_key(o->key, &pkey);
	if (r == -ENOKEY)
		return ctl_bad(CMD, "--key %s: not a PEM private key (or an "
			"encrypted one)", ctl_shown(o->key));
	if (r < 0)
		return ctl_bad(CMD, "--key %s: %s", ctl_shown(o->key),
			strerror(-r));
	r = pick_alg(pkey, o, &alg);
	if (r == 0)
		r = print_token(o, pkey, alg);
	EVP_PKEY_free(pkey);

	if (r < 0) {
		fprintf(stderr, "agentgatectl: mint: signing failed\n");
		return 1;
	}
	return r;
}

int ctl_mint(int argc, char **argv)
{
	struct mint_opts o = { .extra = json_object() };
	int r;

	if (!o.extra)
		return 1;
	r = parse_opts(argc, argv, &o);
	if (r < 0)
		r = mint_usage(stdout, 0);
	else if (r == 0)
		r = mint(&o);
	json_decref(o.aud);
	json_decref(o.extra);
	return r;
}
