/*
 * The whole login decision for one token: validation, revocation and,
 * for single-use issuers, replay.  PAM consumes the jti; agentgatectl
 * verify only asks whether it was used.
 */
#ifndef AG_APPROVAL_H
#define AG_APPROVAL_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "token.h"

enum ag_reason ag_approval_check(const struct ag_config *cfg,
	struct ag_keyring *kr, const char *token, const char *user,
	time_t now, bool consume, struct ag_token_info *info,
	char *detail, size_t detaillen);

/*
 * The part that is checked again later in the same login (account
 * management, session open): still within exp and not revoked.
 */
enum ag_reason ag_approval_recheck(const struct ag_config *cfg,
	const struct ag_issuer *issuer, const char *user, const char *jti,
	int64_t iat, int64_t exp, time_t now,
	char *detail, size_t detaillen);

#endif
