/* Token + revocation + replay: the decision PAM and verify share. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "approval.h"
#include "jti.h"
#include "revoke.h"

enum ag_reason ag_approval_recheck(const struct ag_config *cfg,
	const struct ag_issuer *issuer, const char *user, const char *jti,
	int64_t iat, int64_t exp, time_t now,
	char *detail, size_t detaillen)
{
	int r;

	/* Leeway forgives skew between clocks, not a lapsed approval. */
	if (exp <= (int64_t)now) {
		snprintf(detail, detaillen, "approval ended at %lld",
			(long long)exp);
		return AG_R_EXPIRED;
	}

	r = ag_revoked(cfg, issuer, user, jti, iat, now);
	if (r < 0) {
		snprintf(detail, detaillen, "cannot read revocations: %s",
			strerror(-r));
		return AG_R_INTERNAL;
	}
	if (r > 0) {
		snprintf(detail, detaillen, "token revoked");
		return AG_R_REVOKED;
	}
	return AG_OK;
}

static enum ag_reason check_replay(const struct ag_config *cfg,
	const struct ag_token_info *info, time_t now, bool consume,
	char *detail, size_t detaillen)
{
	int r;

	if (!info->issuer->single_use)
		return AG_OK;
	if (consume) {
		r = ag_jti_record(cfg, info->issuer, info->jti, info->exp);
	} else {
		/* Read-only, but an unreadable store still refuses. */
		r = ag_jti_seen(cfg, info->issuer, info->jti, now);
		if (r > 0)
			r = -EEXIST;
	}
	if (r == -EEXIST) {
		snprintf(detail, detaillen, "single-use token already used");
		return AG_R_REPLAYED;
	}
	if (r < 0) {
		snprintf(detail, detaillen, "cannot use the replay store: %s",
			strerror(-r));
		return AG_R_INTERNAL;
	}
	return AG_OK;
}

enum ag_reason ag_approval_check(const struct ag_config *cfg,
	struct ag_keyring *kr, const char *token, const char *user,
	time_t now, bool consume, struct ag_token_info *info,
	char *detail, size_t detaillen)
{
	enum ag_reason reason;

	reason = ag_token_validate(cfg, kr, token, user, now, info, detail,
		detaillen);
	if (reason != AG_OK)
		return reason;

	reason = ag_approval_recheck(cfg, info->issuer, info->user,
		info->jti, info->iat, info->exp, now, detail, detaillen);
	if (reason != AG_OK)
		return reason;

	/* Last, so that a token refused for any other reason stays usable. */
	return check_replay(cfg, info, now, consume, detail, detaillen);
}
