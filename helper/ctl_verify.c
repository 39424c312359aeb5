/*
 * agentgatectl verify: explain why a token is or is not accepted.
 *
 * Runs the same decision PAM runs (ag_approval_check), with the replay
 * store consulted read-only, so verifying a single-use token does not
 * spend it.  Prints the decoded claims, never the signature; claims
 * are re-encoded as ASCII JSON so that a hostile token cannot put
 * terminal escapes on the admin's screen.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "approval.h"
#include "ctl.h"
#include "token.h"
#include "util.h"

#define CMD "verify"	/* for messages */

struct verify_opts {
	const char *config;
	const char *user;
	time_t at;
	const char *token;	/* NULL or "-": standard input */
};

#define AT_MAX 253402300799LL	/* 9999-12-31T23:59:59Z */

static const struct option opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "user", required_argument, NULL, 'u' },
	{ "at", required_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int verify_usage(FILE *f, int code)
{
	fputs("usage: agentgatectl verify [--config PATH] [--user NAME] "
		"[--at EPOCH] [TOKEN|-]\n"
		"  Reads the token from standard input when TOKEN is - or "
		"missing;\n  prefer that: command lines are visible to every "
		"user.\n", f);
	return code;
}

static int parse_at(const char *arg, time_t *at)
{
	long long v = 0;
	int r;

	r = ag_parse_int(arg, LLONG_MIN, LLONG_MAX, &v);
	if (r == -EINVAL)
		return ctl_bad(CMD, "--at \"%s\": not a whole number of "
			"seconds since the epoch", ctl_shown(arg));
	if (r < 0 ? arg[0] == '-' : v < 0)
		return ctl_bad(CMD, "--at %s: before the epoch", arg);
	if (r < 0 || v > AT_MAX)
		return ctl_bad(CMD, "--at %s: after the year 9999", arg);
	*at = (time_t)v;
	return 0;
}

static int verify_opt(struct verify_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'c':
		o->config = arg;
		return 0;
	case 'u':
		if (!arg[0])
			return ctl_bad(CMD, "--user is empty");
		o->user = arg;
		return 0;
	case 'a':
		return parse_at(arg, &o->at);
	}
	return ctl_bad(CMD, "unexpected option");
}

/* 0 to go on, -1 for --help, 2 after a usage error was printed. */
static int parse_opts(int argc, char **argv, struct verify_opts *o)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:u:a:h", opts,
			NULL)) != -1) {
		if (c == 'h')
			return -1;
		if (c == ':' || c == '?')
			return ctl_option_error(CMD, c, argv);
		if (verify_opt(o, c, optarg))
			return 2;
	}

	if (argc - optind > 1)
		return ctl_bad(CMD, "more than one token given");
	if (argc - optind == 1)
		o->token = argv[optind];
	return 0;
}

/*
 * At most AG_TOKEN_MAX + 1 bytes are kept: enough for the validator to
 * say too_long, without reading an endless stream.
 */
static int read_token(char *buf, size_t size)
{
	size_t len = 0;

	while (len < size - 1) {
		ssize_t n = read(STDIN_FILENO, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static void print_time(const char *name, int64_t t)
{
	char when[32] = "";
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s: %lld (%s)\n", name, (long long)t, when);
}

static void print_claims(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	char *out = j ? json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII |
		JSON_PRESERVE_ORDER) : NULL;

	if (out)
		printf("claims: %s\n", out);
	free(out);
	json_decref(j);
}

static void print_info(const struct ag_token_info *in)
{
	if (in->issuer)
		printf("issuer: %s\n", in->issuer->name);
	if (*in->fingerprint)
		printf("fingerprint: %s\n", in->fingerprint);
	if (*in->alg)
		printf("alg: %s\n", in->alg);
	if (*in->kid)
		printf("kid: %s\n", in->kid);
	if (*in->user)
		printf("user: %s\n", in->user);
	if (*in->jti)
		printf("jti: %s\n", in->jti);
	if (in->iat)
		print_time("iat", in->iat);
	if (in->nbf)
		print_time("nbf", in->nbf);
	if (in->exp)
		print_time("exp", in->exp);
	print_claims(in->claims_json);
}

static int run_verify(const struct ag_config *cfg, const char *token,
	const struct verify_opts *o)
{
	struct ag_keyring *kr = ag_keyring_new();
	struct ag_token_info info;
	char detail[256];
	enum ag_reason r;

	if (!kr) {
		fputs("agentgatectl: verify: out of memory\n", stderr);
		return 2;
	}
	r = ag_approval_check(cfg, kr, token, o->user, o->at, false, &info,
		detail, sizeof(detail));
	if (r == AG_OK)
		printf("accepted\n");
	else
		printf("rejected: %s: %s\n", ag_reason_str(r), detail);
	print_info(&info);

	ag_token_info_clear(&info);
	ag_keyring_free(kr);
	return r == AG_OK ? 0 : 1;
}

int ctl_verify(int argc, char **argv)
{
	struct verify_opts o = { .config = AG_CONFIG_PATH, .at = time(NULL) };
	struct ag_config *cfg;
	char err[512], buf[AG_TOKEN_MAX + 2];
	const char *token;
	int r;

	r = parse_opts(argc, argv, &o);
	if (r < 0)
		return verify_usage(stdout, 0);
	if (r)
		return r;
	if (ag_config_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentgatectl: verify: %s\n", err);
		return 2;
	}

	token = o.token;
	if (!token || strcmp(token, "-") == 0) {
		r = read_token(buf, sizeof(buf));
		token = buf;
	} else {
		r = 0;
	}
	if (r < 0) {
		fprintf(stderr, "agentgatectl: verify: reading the token: "
			"%s\n",
			strerror(-r));
		ag_config_free(cfg);
		return 2;
	}

	r = run_verify(cfg, token, &o);
	explicit_bzero(buf, sizeof(buf));
	ag_config_free(cfg);
	return r;
}
