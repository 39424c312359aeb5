/*
 * Replay store for single-use issuers: one file per (issuer, jti)
 * under STATE_DIR/jti, created with O_EXCL so two concurrent logins
 * with the same token cannot both win, kept until the token's exp.
 */
#ifndef AG_JTI_H
#define AG_JTI_H

#include <stdint.h>
#include <time.h>

#include "config.h"

/* 1 seen, 0 not seen, negative errno on error. */
int ag_jti_seen(const struct ag_config *cfg, const struct ag_issuer *iss,
	const char *jti, time_t now);

/* 0 recorded, -EEXIST already used, other negative errno on error. */
int ag_jti_record(const struct ag_config *cfg, const struct ag_issuer *iss,
	const char *jti, int64_t exp);

/* Drop records whose exp (plus leeway) has passed. */
int ag_jti_prune(const struct ag_config *cfg, time_t now);

#endif
