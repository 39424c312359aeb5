/*
 * agentgatectl revoke: persist a revocation in STATE_DIR/revocations.
 * agentgated watches that file and ends matching sessions at once; the
 * PAM module refuses matching tokens until the entry expires.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "revoke.h"

struct revoke_opts {
	const char *config, *jti, *user, *issuer, *reason;
};

static int usage(FILE *f, int code)
{
	fputs("usage: agentgatectl revoke [--config PATH] "
		"(--jti ID [--issuer NAME] | --user NAME | --issuer NAME)\n"
		"       [--reason TEXT]\n"
		"A jti without --issuer is revoked for every issuer.\n", f);
	return code;
}

static int parse(int argc, char **argv, struct revoke_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "jti", required_argument, NULL, 'j' },
		{ "user", required_argument, NULL, 'u' },
		{ "issuer", required_argument, NULL, 'i' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:j:u:i:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'j': o->jti = optarg; break;
		case 'u': o->user = optarg; break;
		case 'i': o->issuer = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'h': return 1;
		default: return -1;
		}
	}
	if (optind != argc || (o->jti && o->user) ||
			(!o->jti && !o->user && !o->issuer) ||
			(o->user && o->issuer))
		return -1;
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

	if (o->issuer && !ag_config_issuer_by_name(cfg, o->issuer)) {
		fprintf(stderr, "agentgatectl: no [issuer %s] in %s\n",
			o->issuer, cfg->path);
		return -1;
	}
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
	struct revoke_opts o = { .config = AG_CONFIG_PATH };
	struct ag_config *cfg;
	char err[512];
	int r;

	r = parse(argc, argv, &o);
	if (r != 0)
		return usage(r > 0 ? stdout : stderr, r > 0 ? 0 : 2);
	if (ag_config_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentgatectl: %s\n", err);
		return 2;
	}
	r = apply(cfg, &o);
	if (r < -1)
		fprintf(stderr, "agentgatectl: cannot record revocation: "
			"%s\n", strerror(-r));
	else if (r == 0)
		printf("revoked %s %s\n", o.jti ? "jti" : o.user ? "user" :
			"issuer", o.jti ? o.jti : o.user ? o.user : o.issuer);
	ag_config_free(cfg);
	return r == 0 ? 0 : 1;
}
