/*
 * agentgatectl revoke: persist a revocation in STATE_DIR/revocations.
 * agentgated watches that file and ends matching sessions at once; the
 * PAM module refuses matching tokens until the entry expires.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "names.h"
#include "revoke.h"

#define CMD "revoke"	/* for messages */

#define REASON_MAX 200		/* bytes; lib/revoke.c refuses more */

struct revoke_opts {
	const char *config, *jti, *user, *issuer, *reason;
};

static const struct option opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "jti", required_argument, NULL, 'j' },
	{ "user", required_argument, NULL, 'u' },
	{ "issuer", required_argument, NULL, 'i' },
	{ "reason", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage(FILE *f, int code)
{
	fputs("usage: agentgatectl revoke [--config PATH] "
		"(--jti ID [--issuer NAME] | --user NAME | --issuer NAME)\n"
		"       [--reason TEXT]\n"
		"A jti without --issuer is revoked for every issuer.\n", f);
	return code;
}

static const char **option_slot(struct revoke_opts *o, int c)
{
	switch (c) {
	case 'c': return &o->config;
	case 'j': return &o->jti;
	case 'u': return &o->user;
	case 'i': return &o->issuer;
	case 'r': return &o->reason;
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

static int check_combination(const struct revoke_opts *o)
{
	if (o->jti && o->user)
		return ctl_bad(CMD, "--jti and --user exclude each other");
	if (o->user && o->issuer)
		return ctl_bad(CMD, "--user and --issuer exclude each other: "
			"a user revocation covers every issuer");
	if (!o->jti && !o->user && !o->issuer)
		return ctl_bad(CMD, "one of --jti, --user or --issuer is "
			"required");
	return 0;
}

/* 0 to go on, 1 for --help, 2 after a usage error was printed. */
static int parse(int argc, char **argv, struct revoke_opts *o)
{
	const char **slot;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:j:u:i:r:h", opts,
			NULL)) != -1) {
		if (c == 'h')
			return 1;
		slot = option_slot(o, c);
		if (!slot)
			return ctl_option_error(CMD, c, argv);
		if (*slot)
			return ctl_bad(CMD, "--%s given twice",
				option_name(c));
		*slot = optarg;
	}

	if (optind != argc)
		return ctl_bad(CMD, "unexpected argument \"%s\"",
			ctl_shown(argv[optind]));
	return check_combination(o);
}

/* The same rule the validator applies to a token's jti. */
static int check_jti(const char *jti)
{
	const unsigned char *p;

	if (!jti[0])
		return ctl_bad(CMD, "--jti is empty");
	if (strlen(jti) > AG_JTI_MAX)
		return ctl_bad(CMD, "--jti is longer than %d bytes",
			AG_JTI_MAX);
	for (p = (const unsigned char *)jti; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return ctl_bad(CMD, "--jti may hold only printable "
				"ASCII, no blanks or control characters");
	return 0;
}

static int check_user(const struct ag_config *cfg, const char *user)
{
	if (!ag_name_valid(user))
		return ctl_bad(CMD, "--user \"%s\": not a valid user name "
			"(1 to %d of a-z 0-9 _ -, starting with a-z or _)",
			ctl_shown(user), AG_NAME_MAX);
	if (!ag_config_issuer_for_name(cfg, user))
		return ctl_bad(CMD, "--user \"%s\": not an agent: in %s "
			"an agent name is an issuer's prefix followed by at "
			"least one character", user, cfg->path);
	return 0;
}

static int check_reason(const char *reason)
{
	const unsigned char *p;

	for (p = (const unsigned char *)reason; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return ctl_bad(CMD, "--reason contains a control "
				"character");
	if (strlen(reason) > REASON_MAX)
		return ctl_bad(CMD, "--reason is longer than %d bytes",
			REASON_MAX);
	return 0;
}

/* Everything that would make a wrong or unreadable entry, refused. */
static int validate(const struct ag_config *cfg,
	const struct revoke_opts *o)
{
	if (o->jti && check_jti(o->jti))
		return 2;
	if (o->user && check_user(cfg, o->user))
		return 2;
	if (o->issuer && !ag_config_issuer_by_name(cfg, o->issuer))
		return ctl_bad(CMD, "--issuer \"%s\": no [issuer %s] in %s",
			ctl_shown(o->issuer), ctl_shown(o->issuer), cfg->path);
	if (o->reason && check_reason(o->reason))
		return 2;
	return 0;
}

/*
 * Until the newest token this could match has expired anyway: one
 * issued at LATEST_IAT, living max_lifetime, accepted for leeway more.
 */
static int64_t horizon(const struct ag_config *cfg, const char *issuer,
	int64_t latest_iat)
{
	long max = 0;
	size_t i;

	for (i = 0; i < cfg->n_issuers; i++)
		if ((!issuer || !strcmp(cfg->issuers[i].name, issuer)) &&
				cfg->issuers[i].max_lifetime > max)
			max = cfg->issuers[i].max_lifetime;
	return latest_iat + max + cfg->leeway + 60;
}

static int apply(const struct ag_config *cfg, const struct revoke_opts *o)
{
	/*
	 * The validator accepts an iat up to leeway seconds ahead of our
	 * clock, so a token already minted by an issuer whose clock runs
	 * fast can carry an iat in our future.  Cover it: a user or
	 * issuer revocation reaches leeway seconds ahead, at the cost of
	 * also refusing tokens minted in the next leeway seconds.
	 */
	int64_t after = (int64_t)time(NULL) + cfg->leeway;
	enum ag_revoke_kind kind = AG_REVOKE_ISSUER;
	const char *value = o->issuer;

	if (o->jti) {
		kind = AG_REVOKE_JTI;
		value = o->jti;
	} else if (o->user) {
		kind = AG_REVOKE_USER;
		value = o->user;
	}
	return ag_revoke_add(cfg, kind, kind == AG_REVOKE_JTI ?
		(o->issuer ? o->issuer : "*") : o->issuer, value, after,
		horizon(cfg, o->issuer, after), o->reason);
}

int ctl_revoke(int argc, char **argv)
{
	struct revoke_opts o = { 0 };
	struct ag_config *cfg;
	char err[512];
	int r;

	r = parse(argc, argv, &o);
	if (r == 1)
		return usage(stdout, 0);
	if (r)
		return 2;
	if (ag_config_load(o.config ? o.config : AG_CONFIG_PATH, &cfg, err,
			sizeof(err)) < 0) {
		fprintf(stderr, "agentgatectl: revoke: %s\n", err);
		return 2;
	}

	r = validate(cfg, &o);
	if (r == 0)
		r = apply(cfg, &o);
	if (r < 0)
		fprintf(stderr, "agentgatectl: revoke: cannot record the "
			"revocation: %s\n", strerror(-r));
	else if (r == 0)
		printf("revoked %s %s\n", o.jti ? "jti" : o.user ? "user" :
			"issuer", o.jti ? o.jti : o.user ? o.user : o.issuer);
	ag_config_free(cfg);
	return r < 0 ? 1 : r;
}
