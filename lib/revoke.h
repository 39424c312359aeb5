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
 *
 * ISSUER is the config section name; in a jti entry "*" matches every
 * issuer.  Fields are separated by blanks; empty lines and lines
 * starting with '#' are skipped.  A line that does not parse makes
 * the whole set of lists unusable: ag_revoked() and ag_revoke_load()
 * fail with -EBADMSG, so agent logins are denied (fail closed) until
 * the file is fixed, rather than silently dropping a revocation.  The
 * same holds for a list file that is not root-owned and write-protected
 * (-EPERM).  A missing file or directory is an empty list.
 */
#ifndef AG_REVOKE_H
#define AG_REVOKE_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "token.h"

enum ag_revoke_kind { AG_REVOKE_JTI, AG_REVOKE_USER, AG_REVOKE_ISSUER };

/* 1 revoked, 0 not, negative errno when the lists cannot be read. */
int ag_revoked(const struct ag_config *cfg, const struct ag_issuer *iss,
	const char *user, const char *jti, int64_t iat, time_t now);

int ag_revoke_add(const struct ag_config *cfg, enum ag_revoke_kind kind,
	const char *issuer, const char *value, int64_t after,
	int64_t until, const char *reason);

/* All entries still in force at load time, for repeated matching. */
struct ag_revocation {
	enum ag_revoke_kind kind;
	char issuer[64];
	char value[AG_JTI_MAX + 1];	/* jti, user or issuer */
	int64_t after;
	int64_t until;
};

struct ag_revoke_list {
	struct ag_revocation *v;
	size_t n;
	size_t cap;
};

/* On error, ERR (may be NULL) gets "file:line: what". */
int ag_revoke_load(const struct ag_config *cfg, time_t now,
	struct ag_revoke_list *list, char *err, size_t errlen);
/*
 * For agentgated, which must act on every revocation it can read: a
 * file or line that strict loading rejects is skipped instead, *SKIPPED
 * gets how many were, ERR the first ("file:line: what").  Fails only
 * when memory runs out.  Logins keep to ag_revoked (fail closed).
 */
int ag_revoke_load_lenient(const struct ag_config *cfg, time_t now,
	struct ag_revoke_list *list, unsigned *skipped, char *err,
	size_t errlen);

/* Appends every entry of SRC to DST. */
int ag_revoke_list_merge(struct ag_revoke_list *dst,
	const struct ag_revoke_list *src);

int ag_revoke_match(const struct ag_revoke_list *list, const char *issuer,
	const char *user, const char *jti, int64_t iat);
void ag_revoke_list_free(struct ag_revoke_list *list);

#endif
