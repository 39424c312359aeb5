/*
 * Token validation: everything libjwt 1.10 leaves to us (see
 * shared design notes).  Pure: no logging, no state writes.
 */
#ifndef AG_TOKEN_H
#define AG_TOKEN_H

#include <stdint.h>
#include <time.h>

#include "config.h"

#define AG_TOKEN_MAX 8192	/* bytes of compact JWS accepted */
#define AG_JTI_MAX 128
#define AG_KID_MAX 128
#define AG_GROUPS_MAX 32	/* groups a token may be granted */

/* Stable reason codes: logs and agentgatectl print ag_reason_str(). */
enum ag_reason {
	AG_OK = 0,
	AG_R_MALFORMED,		/* not compact JWS / JSON / types */
	AG_R_TOO_LONG,
	AG_R_ALG_NOT_ALLOWED,	/* HS*, none, unknown, not allowlisted,
				   or not matching the key type */
	AG_R_FORBIDDEN_HEADER,	/* crit, jku, x5u, jwk, x5c, bad typ */
	AG_R_UNKNOWN_KID,
	AG_R_NO_KEY,		/* no usable key for the issuer */
	AG_R_BAD_SIGNATURE,
	AG_R_WRONG_ISSUER,
	AG_R_WRONG_AUDIENCE,
	AG_R_UNKNOWN_USER,	/* name in no agent namespace */
	AG_R_USER_MISMATCH,
	AG_R_MISSING_CLAIM,
	AG_R_BAD_CLAIM,		/* wrong JSON type or bad value */
	AG_R_EXPIRED,
	AG_R_NOT_YET_VALID,
	AG_R_ISSUED_IN_FUTURE,
	AG_R_LIFETIME_TOO_LONG,
	AG_R_REPLAYED,
	AG_R_REVOKED,
	AG_R_UID_TAKEN,		/* uid registered to another name */
	AG_R_DAEMON_DOWN,
	AG_R_INTERNAL,		/* unreadable state, out of memory ... */
	AG_R_COUNT
};

const char *ag_reason_str(enum ag_reason r);

struct ag_token_info {
	const struct ag_issuer *issuer;
	char alg[8];
	char kid[AG_KID_MAX + 1];
	char user[AG_NAME_MAX + 1];
	char jti[AG_JTI_MAX + 1];
	int64_t iat;
	int64_t exp;
	int64_t nbf;		/* 0 when absent */
	/* Bit i set: issuer->groups[i] was requested and is allowed. */
	uint32_t groups;
	/* First 8 bytes of SHA-256 of the token, hex: safe to log. */
	char fingerprint[17];
	/* The payload as JSON text, for display; malloc'd or NULL. */
	char *claims_json;
};

/* Parsed keys of every issuer, re-read when a key file changes. */
struct ag_keyring;

struct ag_keyring *ag_keyring_new(void);
void ag_keyring_free(struct ag_keyring *kr);

/*
 * Validate TOKEN completely (format, header, key, signature, claims)
 * at time NOW.  USER, when not NULL, selects the issuer by prefix and
 * must equal the user claim; when NULL the issuer is the one whose
 * "iss" the payload names.  Fills INFO as far as it got (so a
 * rejection can still be logged with its jti) and DETAIL with a short
 * human explanation that never contains the token.  Does not consult
 * revocations or the replay store: see approval.h.
 */
enum ag_reason ag_token_validate(const struct ag_config *cfg,
	struct ag_keyring *kr, const char *token, const char *user,
	time_t now, struct ag_token_info *info,
	char *detail, size_t detaillen);

void ag_token_info_clear(struct ag_token_info *info);

/* Hex of the first 8 bytes of SHA-256(token). */
void ag_token_fingerprint(const char *token, char out[17]);

#endif
