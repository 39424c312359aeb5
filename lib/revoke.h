/*
 * Revocations.  agentgatectl appends to STATE_DIR/revocations; fleets
 * drop *.list files into the config's revocation_dir.  Both have one
 * entry a line:
 *
 *	jti ISSUER JTI UNTIL [REASON...]
 *	user NAME AFTER UNTIL [REASON...]
 *	issuer ISSUER AFTER UNTIL [REASON...]
 *
 * A jti entry revokes that token.  A user or issuer entry revokes
 * every token of that user or issuer whose iat is at or before AFTER.
 * Entries may be dropped once UNTIL (epoch seconds) has passed.
 */
#ifndef AG_REVOKE_H
#define AG_REVOKE_H

#include <stdint.h>
#include <time.h>

#include "config.h"

enum ag_revoke_kind { AG_REVOKE_JTI, AG_REVOKE_USER, AG_REVOKE_ISSUER };

/* 1 revoked, 0 not, negative errno when the lists cannot be read. */
int ag_revoked(const struct ag_config *cfg, const struct ag_issuer *iss,
	const char *user, const char *jti, int64_t iat, time_t now);

int ag_revoke_add(const struct ag_config *cfg, enum ag_revoke_kind kind,
	const char *issuer, const char *value, int64_t after,
	int64_t until, const char *reason);

#endif
