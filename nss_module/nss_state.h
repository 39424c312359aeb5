/*
 * What the NSS entry points know about agentgate: the config and the
 * uid registry, cached per process.  Internal to libnss_agentgate;
 * none of these names is exported (see nss_agentgate.sym).
 *
 * Locking: every function here expects nss_state_lock() to be held by
 * the caller, and pointers it hands out (issuers, config strings) are
 * valid only until nss_state_unlock().
 */
#ifndef AG_NSS_STATE_H
#define AG_NSS_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "session.h"

/* One agent, as the NSS answers describe it. */
struct nss_agent {
	char name[AG_NAME_MAX + 1];
	uint32_t uid;		/* also the gid of its private group */
	const struct ag_issuer *issuer;
};

void nss_state_lock(void);
void nss_state_unlock(void);

/*
 * NAME as an agent: 0 and *A filled; -ENOENT when NAME is not an
 * agent's or its uid belongs to another name; another -errno when
 * NAME is an agent's but agentgate's state is broken.
 */
int nss_agent_by_name(const char *name, struct nss_agent *a);

/* UID as a registered agent; -ENOENT when it is not one. */
int nss_agent_by_uid(uint32_t uid, struct nss_agent *a);

/*
 * Calls FN for every live session record the caller may read (none
 * unless it is root); -ENOENT: agentgate is off.
 */
int nss_sessions_foreach(int (*fn)(const struct ag_session *s, void *arg),
	void *arg);

#endif
