/*
 * What one agent login costs pam_agentgate.so: pam_authenticate plus
 * pam_acct_mgmt through a real PAM stack (pam_start_confdir, the
 * built module, names through nss_wrapper), for one ES256 and one
 * RS256 token, against one raw EVP_DigestVerify of the same kind
 * measured in the same run, in alternating rounds.
 *
 * Two configurations: single_use = no measures the check itself;
 * single_use = yes adds the durable replay record (a new file, fsync
 * of it and of its directory), which is disk latency, not CPU.
 *
 * Usage (root; run-pam.sh builds and runs it): pam_bench MODULE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <security/pam_appl.h>

#include "names.h"
#include "tokgen.h"
#include "util.h"

#define ROUNDS 9
#define PER_ROUND 200
#define ISS "https://approve.bench"

static char dir[64];
static const char *module;
static const char *answer;

struct subject {
	const char *alg, *kind, *user;
	EVP_PKEY *key;
	char *tokens[PER_ROUND];	/* distinct jti each */
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void put(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	chmod(path, mode);
}

static void write_setup(struct subject *s, size_t n)
{
	char text[4096], path[256];
	size_t off = 0;

	for (const char *use = "no"; use; use = *use == 'n' ? "yes" : NULL) {
		snprintf(text, sizeof(text), "[agentgate]\naudience = bench\n"
			"state_dir = %s/state-%s\nruntime_dir = %s/run\n"
			"require_daemon = no\n[issuer b]\niss = " ISS "\n"
			"keys = %s/es.pem %s/rs.pem\nprefix = agent-\n"
			"uid_range = 70000-79999\nhome_base = %s/home\n"
			"single_use = %s\n", dir, use, dir, dir, dir, dir, use);
		snprintf(path, sizeof(path), "single-%s.conf", use);
		put(path, text, 0644);
		snprintf(text, sizeof(text),
			"auth required %s config=%s/single-%s.conf\n"
			"account required %s config=%s/single-%s.conf\n",
			module, dir, use, module, dir, use);
		snprintf(path, sizeof(path), "pam.d/single-%s", use);
		put(path, text, 0644);
	}

	/* The same stack without agentgate: what libpam costs anyway. */
	put("pam.d/baseline", "auth required pam_permit.so\n"
		"account required pam_permit.so\n", 0644);

	off += (size_t)snprintf(text, sizeof(text), "root:x:0:0::/:/bin/sh\n");
	for (size_t i = 0; i < n; i++) {
		uint32_t uid = ag_uid_hash(s[i].user, 70000, 79999);

		off += (size_t)snprintf(text + off, sizeof(text) - off,
			"%s:x:%u:%u::/:/bin/sh\n", s[i].user, uid, uid);
	}
	put("passwd", text, 0644);
	put("group", "root:x:0:\n", 0644);
}

static void mint(struct subject *s)
{
	char payload[512], header[64], jti[33];
	time_t now = time(NULL);

	snprintf(header, sizeof(header), "{\"alg\":\"%s\"}", s->alg);
	for (int i = 0; i < PER_ROUND; i++) {
		ag_random_hex(jti, 16);
		snprintf(payload, sizeof(payload), "{\"iss\":\"" ISS "\","
			"\"aud\":\"bench\",\"sub\":\"%s\",\"iat\":%ld,"
			"\"exp\":%ld,\"jti\":\"%s\"}", s->user, (long)now,
			(long)now + 3000, jti);
		free(s->tokens[i]);
		s->tokens[i] = tg_sign(s->key, s->alg, header, payload);
	}
}

/* One raw verify, the key already parsed: the cost to compare with. */
static double run_raw(struct subject *s)
{
	const char *in = s->tokens[0];
	size_t inlen = (size_t)(strrchr(in, '.') - in), siglen = 1024;
	const EVP_MD *md = strcmp(s->alg, "EdDSA") ? EVP_sha256() : NULL;
	unsigned char sig[1024];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	double t0;

	if (EVP_DigestSignInit(ctx, NULL, md, NULL, s->key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)in,
		    inlen) != 1)
		abort();
	EVP_MD_CTX_free(ctx);

	t0 = now_ns();
	for (int i = 0; i < PER_ROUND; i++) {
		ctx = EVP_MD_CTX_new();
		if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, s->key) != 1 ||
		    EVP_DigestVerify(ctx, sig, siglen,
			    (const unsigned char *)in, inlen) != 1)
			abort();
		EVP_MD_CTX_free(ctx);
	}
	return (now_ns() - t0) / PER_ROUND;
}

static int conv(int n, const struct pam_message **msg,
	struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(answer);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/*
 * sshd opens a session after auth and account, and that consumes the
 * pending approval record each login writes; the bench opens none, so
 * it clears them between rounds (untimed) to keep the directory the
 * size it has on a real host.
 */
static void clear_pending(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/run/pending'", dir);
	if (system(cmd) != 0)
		abort();
}

/* auth + account on one handle, as sshd does per connection. */
static double run_login(struct subject *s, const char *service)
{
	struct pam_conv c = { conv, NULL };
	char confdir[128];
	pam_handle_t *pamh;
	double t0, total = 0;

	snprintf(confdir, sizeof(confdir), "%s/pam.d", dir);
	if (pam_start_confdir(service, s->user, &c, confdir, &pamh) !=
	    PAM_SUCCESS)
		abort();
	for (int i = 0; i < PER_ROUND; i++) {
		answer = s->tokens[i];
		t0 = now_ns();
		if (pam_authenticate(pamh, 0) != PAM_SUCCESS ||
		    pam_acct_mgmt(pamh, 0) != PAM_SUCCESS) {
			fprintf(stderr, "login failed for %s\n", s->alg);
			exit(1);
		}
		total += now_ns() - t0;
	}
	pam_end(pamh, PAM_SUCCESS);
	clear_pending();
	return total / PER_ROUND;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(double), cmp);
	return v[ROUNDS / 2];
}

static void measure(struct subject *s)
{
	double raw[ROUNDS], base[ROUNDS], once[ROUNDS], single[ROUNDS];
	double r, b, o, u;

	for (int i = 0; i < ROUNDS; i++) {
		mint(s);
		raw[i] = run_raw(s);
		base[i] = run_login(s, "baseline");
		once[i] = run_login(s, "single-no");
		mint(s);
		single[i] = run_login(s, "single-yes");
	}
	r = median(raw);
	b = median(base);
	o = median(once);
	u = median(single);
	printf("%s: raw verify %.1f us; libpam alone %.1f us\n"
		"  auth+account        %7.1f us, module's share %7.1f us "
		"(%.2fx raw)\n"
		"  + replay record     %7.1f us, module's share %7.1f us "
		"(%.2fx raw)\n", s->alg, r / 1e3, b / 1e3, o / 1e3,
		(o - b) / 1e3, (o - b) / r, u / 1e3, (u - b) / 1e3,
		(u - b) / r);
}

static void reexec_under_nss_wrapper(char **argv)
{
	char path[128];

	if (getenv("AG_BENCH_DIR"))
		return;
	snprintf(path, sizeof(path), "%s/passwd", dir);
	setenv("NSS_WRAPPER_PASSWD", path, 1);
	snprintf(path, sizeof(path), "%s/group", dir);
	setenv("NSS_WRAPPER_GROUP", path, 1);
	setenv("AG_BENCH_DIR", dir, 1);
	setenv("LD_PRELOAD", "libnss_wrapper.so", 1);
	execv("/proc/self/exe", argv);
	perror("execv");
	exit(1);
}

static void write_keys(struct subject *s, size_t n)
{
	char path[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s.pem", dir,
			strcmp(s[i].alg, "ES256") ? "rs" : "es");
		if (tg_write_pub(s[i].key, path, 0644) != 0)
			abort();
		snprintf(path, sizeof(path), "%s/%s.key", dir, s[i].alg);
		if (tg_write_priv(s[i].key, path, 0600) != 0)
			abort();
	}
}

static void read_keys(struct subject *s, size_t n)
{
	char path[256];

	for (size_t i = 0; i < n; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.key", dir, s[i].alg);
		f = fopen(path, "r");
		s[i].key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		if (!s[i].key)
			abort();
		fclose(f);
	}
}

/*
 * /run is a tmpfs on every host agentgate runs on; give the bench's
 * runtime directory one too when run-pam.sh made a mount namespace.
 */
static void mount_run(void)
{
	char run[128];

	if (!getenv("AG_BENCH_TMPFS"))
		return;
	snprintf(run, sizeof(run), "%s/run", dir);
	mkdir(run, 0755);
	if (mount("tmpfs", run, "tmpfs", 0, "mode=0755") != 0) {
		perror("mount tmpfs");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct subject s[] = {
		{ .alg = "ES256", .kind = "P-256", .user = "agent-es" },
		{ .alg = "RS256", .kind = "RSA2048", .user = "agent-rs" },
	};
	size_t n = AG_ARRAY_SIZE(s);
	char cmd[128];

	if (argc != 2 || geteuid() != 0) {
		fprintf(stderr, "usage (as root): pam_bench MODULE\n");
		return 2;
	}
	module = argv[1];
	if (!getenv("AG_BENCH_DIR")) {
		if (!mkdtemp(strcpy(dir, "/tmp/agpambench.XXXXXX")))
			return 1;
		chmod(dir, 0755);
		snprintf(cmd, sizeof(cmd), "%s/pam.d", dir);
		mkdir(cmd, 0755);
		for (size_t i = 0; i < n; i++)
			s[i].key = tg_keygen(s[i].kind);
		write_keys(s, n);
		write_setup(s, n);
		reexec_under_nss_wrapper(argv);
	}
	snprintf(dir, sizeof(dir), "%s", getenv("AG_BENCH_DIR"));
	read_keys(s, n);
	mount_run();

	printf("median of %d rounds of %d logins, same run:\n", ROUNDS,
		PER_ROUND);
	for (size_t i = 0; i < n; i++)
		measure(&s[i]);

	if (getenv("AG_BENCH_TMPFS")) {
		snprintf(cmd, sizeof(cmd), "%s/run", dir);
		umount2(cmd, MNT_DETACH);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
