/* agentgate.conf: host-wide settings and one trust context per issuer.
 *
 * libc only: the NSS module links this.  A parsed config owns every
 * string it points to; ag_config_free() releases it all.
 */
#ifndef AG_CONFIG_H
#define AG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef AG_SYSCONFDIR
#define AG_SYSCONFDIR "/etc"
#endif
#ifndef AG_STATEDIR
#define AG_STATEDIR "/var/lib/agentgate"
#endif
#ifndef AG_RUNDIR
#define AG_RUNDIR "/run/agentgate"
#endif
#define AG_CONFIG_PATH AG_SYSCONFDIR "/agentgate/agentgate.conf"

/* Algorithms a token may name.  Asymmetric only, by decision. */
enum ag_alg {
	AG_ALG_RS256 = 1u << 0,
	AG_ALG_RS384 = 1u << 1,
	AG_ALG_RS512 = 1u << 2,
	AG_ALG_ES256 = 1u << 3,
	AG_ALG_ES384 = 1u << 4,
	AG_ALG_ES512 = 1u << 5,
	AG_ALG_EDDSA = 1u << 6,
};
#define AG_ALG_ALL 0x7fu

enum ag_home_policy {
	AG_HOME_EPHEMERAL,	/* removed with the agent's last session */
	AG_HOME_PERSISTENT,
};

struct ag_pin {
	char *name;
	uint32_t uid;
};

struct ag_issuer {
	char *name;		/* the section's NAME */
	unsigned line;		/* where the section starts */
	char *iss;
	char **keys;		/* PEM or JWKS files */
	size_t n_keys;
	unsigned algs;		/* enum ag_alg bits */
	long max_lifetime;	/* seconds, exp - iat */
	char *user_claim;
	char *prefix;
	uint32_t uid_min;
	uint32_t uid_max;
	char *shell;
	char *home_base;
	enum ag_home_policy home_policy;
	char **groups;		/* groups a token may grant */
	size_t n_groups;
	bool single_use;
	struct ag_pin *pins;
	size_t n_pins;
};

struct ag_config {
	char *path;
	char *audience;		/* NULL: the host name */
	long leeway;		/* seconds of clock skew tolerated */
	char *state_dir;
	char *runtime_dir;
	char *revocation_dir;	/* watched for *.list files */
	bool require_daemon;
	long kill_grace_ms;	/* SIGTERM to SIGKILL */
	struct ag_issuer *issuers;
	size_t n_issuers;
};

/* Limits that are part of the contract with admins. */
#define AG_NAME_MAX 32		/* bytes, like useradd and utmp */
#define AG_PREFIX_MAX 24
#define AG_DEFAULT_UID_MIN 1879048192u	/* systemd: unused range */
#define AG_DEFAULT_UID_MAX 2147483646u	/* stays below 2^31 - 1 */

/*
 * Parse the file at PATH.  On failure returns a negative errno, leaves
 * *out untouched and writes "file:line: what" into err.
 */
int ag_config_load(const char *path, struct ag_config **out,
	char *err, size_t errlen);

/* Same, from memory; NAME is used in messages. */
int ag_config_parse(const char *name, const char *text, size_t len,
	struct ag_config **out, char *err, size_t errlen);

void ag_config_free(struct ag_config *cfg);

/* The issuer whose prefix NAME starts with, or NULL. */
const struct ag_issuer *ag_config_issuer_for_name(
	const struct ag_config *cfg, const char *name);

const struct ag_issuer *ag_config_issuer_by_name(
	const struct ag_config *cfg, const char *section);

/*
 * When the config cannot be parsed we still want to know whether a
 * name was meant to be an agent, so that PAM can deny it rather than
 * pass it on.  Scans TEXT for "prefix = X" lines leniently; returns
 * true when NAME starts with any of them.
 */
bool ag_config_name_looks_agent(const char *text, size_t len,
	const char *name);

/* Algorithm names <-> bits.  Exact, case-sensitive match. */
unsigned ag_alg_from_name(const char *name);
const char *ag_alg_name(unsigned alg);

#endif
