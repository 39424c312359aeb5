/*
 * Token validation.
 *
 * libjwt 1.10.2 takes the algorithm from the token, verifies nothing
 * with an empty key, lets duplicate members win last, reads claims
 * without types, ignores "crit" and skips junk inside signatures.  So
 * we do the whole JWS ourselves: strict parsing with jansson, an
 * algorithm pinned to the issuer's allowlist and to the key's type,
 * and the signature checked with OpenSSL EVP on a key that was parsed
 * when its file was loaded.  libjwt is not used here at all: every
 * algorithm goes through the same few lines of EVP, which is easier to
 * audit than libjwt plus a list of its exceptions.
 *
 * ECDSA signatures are malleable: (r, n - s) verifies as well as
 * (r, s).  We accept both, because common signers (OpenSSL, Go) do not
 * normalise s and rejecting high-S would refuse half of their tokens.
 * Nothing keys on the token's bytes: replay and revocation use
 * (iss, jti), and the fingerprint is only for logs.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "keys.h"
#include "names.h"
#include "token.h"
#include "util.h"

/* Times beyond year 9999 are nonsense and would overflow arithmetic. */
#define AG_TIME_MAX 253402300799LL

static const char *const reasons[AG_R_COUNT] = {
	[AG_OK] = "ok",
	[AG_R_MALFORMED] = "malformed",
	[AG_R_TOO_LONG] = "too_long",
	[AG_R_ALG_NOT_ALLOWED] = "alg_not_allowed",
	[AG_R_FORBIDDEN_HEADER] = "forbidden_header",
	[AG_R_UNKNOWN_KID] = "unknown_kid",
	[AG_R_NO_KEY] = "no_key",
	[AG_R_BAD_SIGNATURE] = "bad_signature",
	[AG_R_WRONG_ISSUER] = "wrong_issuer",
	[AG_R_WRONG_AUDIENCE] = "wrong_audience",
	[AG_R_UNKNOWN_USER] = "unknown_user",
	[AG_R_USER_MISMATCH] = "user_mismatch",
	[AG_R_MISSING_CLAIM] = "missing_claim",
	[AG_R_BAD_CLAIM] = "bad_claim",
	[AG_R_EXPIRED] = "expired",
	[AG_R_NOT_YET_VALID] = "not_yet_valid",
	[AG_R_ISSUED_IN_FUTURE] = "issued_in_future",
	[AG_R_LIFETIME_TOO_LONG] = "lifetime_too_long",
	[AG_R_REPLAYED] = "replayed",
	[AG_R_REVOKED] = "revoked",
	[AG_R_UID_TAKEN] = "uid_taken",
	[AG_R_DAEMON_DOWN] = "daemon_down",
	[AG_R_INTERNAL] = "internal",
};

const char *ag_reason_str(enum ag_reason r)
{
	if ((unsigned)r >= AG_R_COUNT)
		return "internal";
	return reasons[r];
}

/* Everything one validation carries from step to step. */
struct vctx {
	const struct ag_config *cfg;
	struct ag_keyring *kr;
	const char *token;
	const char *user;
	time_t now;
	struct ag_token_info *info;
	char *detail;
	size_t detaillen;

	const char *seg[3];
	size_t seglen[3];
	json_t *hdr;
	json_t *claims;
	unsigned alg;
	unsigned char *sig;
	size_t siglen;
	const struct ag_issuer *issuer;
};

static enum ag_reason fail(struct vctx *v, enum ag_reason r,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum ag_reason fail(struct vctx *v, enum ag_reason r,
	const char *fmt, ...)
{
	va_list ap;

	if (v->detail && v->detaillen) {
		va_start(ap, fmt);
		vsnprintf(v->detail, v->detaillen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Bounded, printable, no spaces: safe in key=value log lines. */
static bool printable_id(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= max || s[i] < 0x21 || s[i] > 0x7e)
			return false;
	}
	return i > 0;
}

void ag_token_fingerprint(const char *token, char out[17])
{
	unsigned char md[32];
	unsigned mdlen = 0;

	if (!EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(),
			NULL) || mdlen < 8) {
		strcpy(out, "0000000000000000");
		return;
	}
	for (int i = 0; i < 8; i++) {
		out[2 * i] = "0123456789abcdef"[md[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	out[16] = '\0';
}

void ag_token_info_clear(struct ag_token_info *info)
{
	free(info->claims_json);
	memset(info, 0, sizeof(*info));
}

/* ---- format ---- */

static enum ag_reason split(struct vctx *v)
{
	const char *p = v->token;

	for (int i = 0; i < 3; i++) {
		const char *end = i < 2 ? strchr(p, '.') : p + strlen(p);

		if (!end || end == p)
			return fail(v, AG_R_MALFORMED,
				"not three non-empty segments");
		v->seg[i] = p;
		v->seglen[i] = (size_t)(end - p);
		p = end + 1;
	}
	if (memchr(v->seg[2], '.', v->seglen[2]))
		return fail(v, AG_R_MALFORMED, "more than three segments");
	return AG_OK;
}

static enum ag_reason decode_json(struct vctx *v, int i, json_t **out)
{
	static const char *const what[] = { "header", "payload" };
	unsigned char *raw;
	size_t len;
	json_t *j;
	int r;

	r = ag_b64url_decode(v->seg[i], v->seglen[i], &raw, &len);
	if (r == -ENOMEM)
		return fail(v, AG_R_INTERNAL, "out of memory");
	if (r < 0)
		return fail(v, AG_R_MALFORMED, "%s is not strict base64url",
			what[i]);

	/* No JSON_ALLOW_NUL: a NUL inside a string is rejected. */
	j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
	if (j && i == 1)
		v->info->claims_json = strdup((const char *)raw);
	free(raw);
	if (!json_is_object(j)) {
		json_decref(j);
		return fail(v, AG_R_MALFORMED,
			"%s is not a JSON object without duplicate members",
			what[i]);
	}
	*out = j;
	return AG_OK;
}

static enum ag_reason check_format(struct vctx *v)
{
	enum ag_reason r;
	int e;

	if (!v->token || !*v->token)
		return fail(v, AG_R_MALFORMED, "empty token");
	if (strnlen(v->token, AG_TOKEN_MAX + 1) > AG_TOKEN_MAX)
		return fail(v, AG_R_TOO_LONG, "token longer than %d bytes",
			AG_TOKEN_MAX);
	ag_token_fingerprint(v->token, v->info->fingerprint);

	r = split(v);
	if (r == AG_OK)
		r = decode_json(v, 0, &v->hdr);
	if (r == AG_OK)
		r = decode_json(v, 1, &v->claims);
	if (r != AG_OK)
		return r;

	/* Junk in the signature is an error here, not something skipped. */
	e = ag_b64url_decode(v->seg[2], v->seglen[2], &v->sig, &v->siglen);
	if (e == -ENOMEM)
		return fail(v, AG_R_INTERNAL, "out of memory");
	if (e < 0)
		return fail(v, AG_R_MALFORMED,
			"signature is not strict base64url");
	return AG_OK;
}

/* ---- header ---- */

static enum ag_reason check_kid(struct vctx *v, json_t *kid)
{
	if (!kid)
		return AG_OK;
	if (!json_is_string(kid) ||
	    !printable_id(json_string_value(kid), AG_KID_MAX))
		return fail(v, AG_R_MALFORMED,
			"kid is not a short printable string");
	strcpy(v->info->kid, json_string_value(kid));
	return AG_OK;
}

static enum ag_reason check_header(struct vctx *v)
{
	static const char *const forbidden[] = {
		"crit", "jku", "x5u", "jwk", "x5c",
	};
	json_t *alg = json_object_get(v->hdr, "alg");
	json_t *typ = json_object_get(v->hdr, "typ");

	if (!json_is_string(alg))
		return fail(v, AG_R_MALFORMED, "alg missing or not a string");
	v->alg = ag_alg_from_name(json_string_value(alg));
	if (!v->alg)
		return fail(v, AG_R_ALG_NOT_ALLOWED,
			"alg is not RS256/384/512, ES256/384/512 or EdDSA");
	strcpy(v->info->alg, ag_alg_name(v->alg));

	for (size_t i = 0; i < AG_ARRAY_SIZE(forbidden); i++) {
		if (json_object_get(v->hdr, forbidden[i]))
			return fail(v, AG_R_FORBIDDEN_HEADER,
				"header member \"%s\" is not accepted",
				forbidden[i]);
	}
	if (typ && !(json_is_string(typ) &&
			strcmp(json_string_value(typ), "JWT") == 0))
		return fail(v, AG_R_FORBIDDEN_HEADER, "typ is not \"JWT\"");

	return check_kid(v, json_object_get(v->hdr, "kid"));
}

/* Copy a well-formed jti early, so that rejections can be logged. */
static void peek_jti(struct vctx *v)
{
	const char *jti = json_string_value(json_object_get(v->claims,
		"jti"));

	if (jti && printable_id(jti, AG_JTI_MAX))
		strcpy(v->info->jti, jti);
}

/* ---- issuer ---- */

static const char *user_claim_name(const struct ag_issuer *iss)
{
	return iss->user_claim && *iss->user_claim ? iss->user_claim : "sub";
}

static const char *claim_str(struct vctx *v, const char *name)
{
	return json_string_value(json_object_get(v->claims, name));
}

/* Without a user, the payload's iss (and then its user) decides. */
static const struct ag_issuer *issuer_from_claims(struct vctx *v,
	const char *iss)
{
	const struct ag_issuer *first = NULL;

	for (size_t i = 0; i < v->cfg->n_issuers; i++) {
		const struct ag_issuer *is = &v->cfg->issuers[i];
		const char *name = claim_str(v, user_claim_name(is));

		if (!is->iss || strcmp(is->iss, iss) != 0)
			continue;
		if (name && ag_name_in_issuer(is, name))
			return is;
		if (!first)
			first = is;
	}
	return first;
}

static enum ag_reason pick_issuer(struct vctx *v)
{
	json_t *jiss = json_object_get(v->claims, "iss");
	const char *iss = json_string_value(jiss);

	if (v->user) {
		v->issuer = ag_config_issuer_for_name(v->cfg, v->user);
		if (!v->issuer || !ag_name_in_issuer(v->issuer, v->user))
			return fail(v, AG_R_UNKNOWN_USER,
				"user is in no agent namespace");
	}

	peek_jti(v);
	if (!jiss)
		return fail(v, AG_R_MISSING_CLAIM, "no iss claim");
	if (!iss)
		return fail(v, AG_R_BAD_CLAIM, "iss is not a string");
	if (!v->issuer)
		v->issuer = issuer_from_claims(v, iss);
	if (!v->issuer || !v->issuer->iss || strcmp(v->issuer->iss, iss))
		return fail(v, AG_R_WRONG_ISSUER,
			"iss does not match the issuer%s%s",
			v->issuer ? " " : "",
			v->issuer ? v->issuer->name : "");
	v->info->issuer = v->issuer;

	if (!(v->issuer->algs & v->alg))
		return fail(v, AG_R_ALG_NOT_ALLOWED,
			"%s is not allowed for issuer %s", v->info->alg,
			v->issuer->name);
	return AG_OK;
}

/* ---- signature ---- */

/* JOSE ECDSA signatures are R || S; OpenSSL wants DER. */
static int ecdsa_der(const unsigned char *sig, size_t len,
	unsigned char **der, size_t *derlen)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
	int n = -1;

	*der = NULL;
	if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
		r = s = NULL;
		n = i2d_ECDSA_SIG(es, der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return -ENOMEM;
	*derlen = (size_t)n;
	return 0;
}

static const EVP_MD *alg_md(unsigned alg)
{
	switch (alg) {
	case AG_ALG_RS256:
	case AG_ALG_ES256:
		return EVP_sha256();
	case AG_ALG_RS384:
	case AG_ALG_ES384:
		return EVP_sha384();
	case AG_ALG_RS512:
	case AG_ALG_ES512:
		return EVP_sha512();
	}
	return NULL;		/* EdDSA hashes internally */
}

/* The exact signature length each algorithm produces with KEY. */
static size_t sig_len(const struct ag_key *key, unsigned alg)
{
	switch (key->type) {
	case AG_KEY_RSA:
		return (size_t)EVP_PKEY_get_size(key->pkey);
	case AG_KEY_P256:
		return 64;
	case AG_KEY_P384:
		return 96;
	case AG_KEY_P521:
		return 132;
	case AG_KEY_ED25519:
		return 64;
	}
	return 0;
}

/* 1 verified, 0 not, negative errno when OpenSSL failed. */
int ag_token_verify_sig(const struct ag_key *key, unsigned alg,
	const void *input, size_t inlen, const unsigned char *sig,
	size_t siglen)
{
	unsigned char *der = NULL;
	EVP_MD_CTX *md;
	int r;

	if (!key->pkey || !(key->algs & alg) || siglen != sig_len(key, alg))
		return 0;
	if (key->type != AG_KEY_RSA && key->type != AG_KEY_ED25519) {
		if (ecdsa_der(sig, siglen, &der, &siglen) < 0)
			return -ENOMEM;
		sig = der;
	}

	md = EVP_MD_CTX_new();
	if (!md) {
		OPENSSL_free(der);
		return -ENOMEM;
	}
	r = EVP_DigestVerifyInit(md, NULL, alg_md(alg), NULL, key->pkey);
	if (r == 1)
		r = EVP_DigestVerify(md, sig, siglen, input, inlen);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return r == 1;
}

/* Try one key file's keys: 1 verified, 0 no, -1 kid not in it. */
static int try_keys(struct vctx *v, const struct ag_key *keys, size_t n,
	bool *type_ok)
{
	const char *kid = v->info->kid;
	size_t inlen = v->seglen[0] + 1 + v->seglen[1];
	int r = -1;

	for (size_t i = 0; i < n; i++) {
		const struct ag_key *k = &keys[i];

		if (*kid && strcmp(k->kid, kid) != 0)
			continue;
		if (r < 0)
			r = 0;
		if (!(k->algs & v->alg))
			continue;
		*type_ok = true;
		if (ag_token_verify_sig(k, v->alg, v->token, inlen, v->sig,
				v->siglen) == 1)
			return 1;
	}
	return r;
}

static const char *key_error(int err)
{
	switch (err) {
	case -EPERM:
		return "not root-owned, or writable by others";
	case -ENOKEY:
		return "no usable public key in it";
	case -EINVAL:
		return "not a PEM or JWKS key file";
	}
	return strerror(-err);
}

static enum ag_reason no_key(struct vctx *v, const char *path, int err)
{
	if (!path)
		return fail(v, AG_R_NO_KEY, "issuer %s has no key files",
			v->issuer->name);
	return fail(v, AG_R_NO_KEY, "no usable key for issuer %s "
		"(%s: %s)", v->issuer->name, path, key_error(err));
}

static enum ag_reason check_signature(struct vctx *v)
{
	const struct ag_issuer *is = v->issuer;
	bool any_key = false, kid_found = false, type_ok = false;
	const char *bad_path = NULL;
	int bad_err = 0;

	for (size_t i = 0; i < is->n_keys; i++) {
		const struct ag_key *keys;
		size_t n;
		int r;

		r = ag_keyring_file(v->kr, is->keys[i], &keys, &n);
		if (r < 0 && !bad_path) {
			bad_path = is->keys[i];
			bad_err = r;
		}
		if (r < 0)
			continue;
		any_key = true;
		r = try_keys(v, keys, n, &type_ok);
		if (r == 1)
			return AG_OK;
		if (r == 0)
			kid_found = true;
	}

	if (!any_key)
		return no_key(v, bad_path, bad_err);
	if (!kid_found)
		return fail(v, AG_R_UNKNOWN_KID,
			"no key of issuer %s has this kid", is->name);
	if (!type_ok)
		return fail(v, AG_R_ALG_NOT_ALLOWED,
			"%s does not match the type of the issuer's key",
			v->info->alg);
	return fail(v, AG_R_BAD_SIGNATURE, "signature does not verify");
}

/* ---- claims ---- */

static enum ag_reason get_time(struct vctx *v, const char *name,
	bool required, int64_t *out)
{
	json_t *j = json_object_get(v->claims, name);
	json_int_t t;

	if (!j && !required)
		return AG_OK;
	if (!j)
		return fail(v, AG_R_MISSING_CLAIM, "no %s claim", name);
	if (!json_is_integer(j))
		return fail(v, AG_R_BAD_CLAIM, "%s is not a JSON integer",
			name);
	t = json_integer_value(j);
	if (t < 0 || t > AG_TIME_MAX)
		return fail(v, AG_R_BAD_CLAIM, "%s is out of range", name);
	*out = t;
	return AG_OK;
}

static enum ag_reason check_times(struct vctx *v)
{
	struct ag_token_info *in = v->info;
	int64_t now = v->now, leeway = v->cfg->leeway;
	enum ag_reason r;

	r = get_time(v, "exp", true, &in->exp);
	if (r == AG_OK)
		r = get_time(v, "iat", true, &in->iat);
	if (r == AG_OK)
		r = get_time(v, "nbf", false, &in->nbf);
	if (r != AG_OK)
		return r;

	if (in->exp <= now - leeway)
		return fail(v, AG_R_EXPIRED, "expired %lld s ago",
			(long long)(now - in->exp));
	if (in->nbf && in->nbf > now + leeway)
		return fail(v, AG_R_NOT_YET_VALID, "valid in %lld s",
			(long long)(in->nbf - now));
	if (in->iat > now + leeway)
		return fail(v, AG_R_ISSUED_IN_FUTURE,
			"issued %lld s in the future",
			(long long)(in->iat - now));
	if (in->exp <= in->iat)
		return fail(v, AG_R_BAD_CLAIM, "exp is not after iat");
	if (in->exp - in->iat > v->issuer->max_lifetime)
		return fail(v, AG_R_LIFETIME_TOO_LONG,
			"lifetime %lld s exceeds %ld s",
			(long long)(in->exp - in->iat),
			v->issuer->max_lifetime);
	return AG_OK;
}

static int host_audience(const struct ag_config *cfg, char *buf,
	size_t len)
{
	if (cfg->audience) {
		if (strlen(cfg->audience) >= len)
			return -ENAMETOOLONG;
		strcpy(buf, cfg->audience);
		return 0;
	}

	/* The kernel's host name: no resolver, so no network. */
	if (gethostname(buf, len - 1) < 0)
		return -errno;
	buf[len - 1] = '\0';
	return *buf ? 0 : -ENOENT;
}

static enum ag_reason check_audience(struct vctx *v)
{
	json_t *aud = json_object_get(v->claims, "aud"), *a;
	char want[256];
	size_t i;
	bool hit = false;

	if (host_audience(v->cfg, want, sizeof(want)) < 0)
		return fail(v, AG_R_INTERNAL, "cannot determine audience");
	if (!aud)
		return fail(v, AG_R_MISSING_CLAIM, "no aud claim");
	if (json_is_string(aud))
		hit = strcmp(json_string_value(aud), want) == 0;
	else if (!json_is_array(aud))
		return fail(v, AG_R_BAD_CLAIM, "aud is not a string or array");

	json_array_foreach(aud, i, a) {
		if (!json_is_string(a))
			return fail(v, AG_R_BAD_CLAIM,
				"aud array holds a non-string");
		if (strcmp(json_string_value(a), want) == 0)
			hit = true;
	}
	if (!hit)
		return fail(v, AG_R_WRONG_AUDIENCE,
			"aud does not name \"%s\"", want);
	return AG_OK;
}

static enum ag_reason check_user(struct vctx *v)
{
	const char *cname = user_claim_name(v->issuer);
	json_t *j = json_object_get(v->claims, cname);
	const char *name = json_string_value(j);

	if (!j)
		return fail(v, AG_R_MISSING_CLAIM, "no %s claim", cname);
	if (!name)
		return fail(v, AG_R_BAD_CLAIM, "%s is not a string", cname);
	if (v->user ? strcmp(name, v->user) != 0 :
			!ag_name_in_issuer(v->issuer, name))
		return fail(v, AG_R_USER_MISMATCH, "%s does not name %s",
			cname, v->user ? "this user" :
			"an agent of the issuer");
	strcpy(v->info->user, name);	/* a valid name fits */
	return AG_OK;
}

static enum ag_reason check_jti(struct vctx *v)
{
	json_t *j = json_object_get(v->claims, "jti");

	if (!j)
		return fail(v, AG_R_MISSING_CLAIM, "no jti claim");
	if (!json_is_string(j) ||
	    !printable_id(json_string_value(j), AG_JTI_MAX))
		return fail(v, AG_R_BAD_CLAIM,
			"jti is not 1-%d printable characters", AG_JTI_MAX);
	strcpy(v->info->jti, json_string_value(j));
	return AG_OK;
}

static enum ag_reason check_groups(struct vctx *v)
{
	json_t *groups = json_object_get(v->claims, "groups"), *g;
	const struct ag_issuer *is = v->issuer;
	size_t i;

	if (!groups)
		return AG_OK;
	if (!json_is_array(groups))
		return fail(v, AG_R_BAD_CLAIM, "groups is not an array");

	json_array_foreach(groups, i, g) {
		if (!json_is_string(g))
			return fail(v, AG_R_BAD_CLAIM,
				"groups holds a non-string");
		for (size_t k = 0; k < is->n_groups && k < AG_GROUPS_MAX;
				k++) {
			if (strcmp(json_string_value(g), is->groups[k]) == 0)
				v->info->groups |= 1u << k;
		}
	}
	return AG_OK;
}

static enum ag_reason check_claims(struct vctx *v)
{
	enum ag_reason r;

	r = check_jti(v);
	if (r == AG_OK)
		r = check_user(v);
	if (r == AG_OK)
		r = check_audience(v);
	if (r == AG_OK)
		r = check_times(v);
	if (r == AG_OK)
		r = check_groups(v);
	return r;
}

/*
 * Cheap, unauthenticated checks run before the signature so that
 * rejections say what is wrong; every claim is read again only after
 * the signature verified.
 */
enum ag_reason ag_token_validate(const struct ag_config *cfg,
	struct ag_keyring *kr, const char *token, const char *user,
	time_t now, struct ag_token_info *info,
	char *detail, size_t detaillen)
{
	struct vctx v = {
		.cfg = cfg, .kr = kr, .token = token, .user = user,
		.now = now, .info = info, .detail = detail,
		.detaillen = detaillen,
	};
	enum ag_reason r;

	memset(info, 0, sizeof(*info));
	if (detail && detaillen)
		*detail = '\0';

	r = check_format(&v);
	if (r == AG_OK)
		r = check_header(&v);
	if (r == AG_OK)
		r = pick_issuer(&v);
	if (r == AG_OK)
		r = check_signature(&v);
	if (r == AG_OK)
		r = check_claims(&v);

	json_decref(v.hdr);
	json_decref(v.claims);
	free(v.sig);
	return r;
}
