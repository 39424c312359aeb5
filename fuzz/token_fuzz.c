/*
 * libFuzzer target for token validation.
 *
 * The first input byte picks what the rest is:
 *   0: a token, as an agent would send it;
 *   1: header JSON, a NUL, payload JSON: the harness signs them with
 *      its Ed25519 key, so claim checks behind the signature are
 *      reached too;
 *   2: a key file (PEM or JWKS) for ag_keys_parse.
 * Keys live in a private directory under $TMPDIR made at start-up and
 * removed at exit (run.sh points TMPDIR at its own scratch directory,
 * so a crash leaves nothing behind either).  Must run as root: key
 * files must be root-owned.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "keys.h"
#include "token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];
static char key_path[300], ec_path[300];
static char *key_list[] = { key_path, ec_path };
static EVP_PKEY *ed;
static struct ag_issuer issuer = {
	.name = "fuzz", .iss = "https://approve.test", .keys = key_list,
	.n_keys = 2, .algs = AG_ALG_ALL, .max_lifetime = 3600,
	.prefix = "agent-", .uid_min = 100000, .uid_max = 200000,
};
static char *groups[] = { "docker", "adm" };
static struct ag_config cfg = {
	.audience = "host1", .leeway = 60, .issuers = &issuer,
	.n_issuers = 1,
};
static struct ag_keyring *kr;

static void cleanup(void)
{
	unlink(key_path);
	unlink(ec_path);
	rmdir(dir);
}

static void write_pub(EVP_PKEY *k, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || !PEM_write_PUBKEY(f, k))
		abort();
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/agfuzz.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	snprintf(key_path, sizeof(key_path), "%s/ed1.pem", dir);
	snprintf(ec_path, sizeof(ec_path), "%s/ec.pem", dir);
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!ed || !ec)
		abort();
	write_pub(ed, key_path);
	write_pub(ec, ec_path);
	EVP_PKEY_free(ec);
	issuer.groups = groups;
	issuer.n_groups = 2;
	kr = ag_keyring_new();
	return 0;
}

static void validate(const char *token)
{
	struct ag_token_info info;
	char detail[128];

	ag_token_validate(&cfg, kr, token, "agent-bob", 1700000000, &info,
		detail, sizeof(detail));
	ag_token_info_clear(&info);
	ag_token_validate(&cfg, kr, token, NULL, 1700000000, &info, detail,
		sizeof(detail));
	ag_token_info_clear(&info);
}

static char *b64(const void *p, size_t len)
{
	char *out = malloc(ag_b64url_len(len) + 1);

	ag_b64url_encode(p, len, out);
	return out;
}

/* header NUL payload -> a token signed with the harness's key. */
static void signed_token(const char *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	unsigned char sig[64];
	size_t siglen = sizeof(sig), hlen;
	char *h, *p, *s, *tok;
	EVP_MD_CTX *md;

	if (!nul)
		return;
	md = EVP_MD_CTX_new();
	hlen = (size_t)(nul - data);
	h = b64(data, hlen);
	p = b64(nul + 1, size - hlen - 1);
	tok = malloc(strlen(h) + strlen(p) + 90);
	sprintf(tok, "%s.%s", h, p);
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, ed) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)tok,
			strlen(tok)) == 1) {
		s = b64(sig, siglen);
		strcat(tok, ".");
		strcat(tok, s);
		free(s);
		validate(tok);
	}
	EVP_MD_CTX_free(md);
	free(h);
	free(p);
	free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ag_key *keys;
	size_t n;
	char *s;

	if (size < 1 || size > 3 * AG_TOKEN_MAX)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	switch (data[0] % 3) {
	case 0:
		validate(s);
		break;
	case 1:
		signed_token(s, size - 1);
		break;
	case 2:
		if (ag_keys_parse(s, size - 1, "k", &keys, &n) == 0)
			ag_keys_free(keys, n);
		break;
	}
	free(s);
	return 0;
}
