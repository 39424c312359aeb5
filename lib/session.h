/*
 * The live-session registry: one file per session in
 * RUNTIME_DIR/sessions/ID, written atomically by the PAM module at
 * session open and removed at close; read by agentgated, agentgatectl
 * and the NSS module.  libc only.
 *
 * File format: "key=value\n" lines, keys as in struct ag_session.
 * Readers skip keys they do not know, so a key added later must be
 * optional ("iat" is).
 */
#ifndef AG_SESSION_H
#define AG_SESSION_H

#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "token.h"

#define AG_SESSION_ID_LEN 32	/* hex digits */

struct ag_session {
	char id[AG_SESSION_ID_LEN + 1];
	char user[AG_NAME_MAX + 1];
	uint32_t uid;
	char issuer[64];
	char jti[AG_JTI_MAX + 1];
	int64_t expires;
	int64_t started;
	int64_t iat;		/* the token's; 0 in records before it */
	char rhost[256];
	pid_t leader;
	uint64_t leader_start;	/* /proc/PID/stat starttime, in ticks */
	char cgroup[512];	/* path below the cgroup2 mount, or "" */
	uint32_t audit_sid;	/* (uint32_t)-1 when none */
	gid_t groups[AG_GROUPS_MAX];
	unsigned n_groups;
};

int ag_session_write(const struct ag_config *cfg,
	const struct ag_session *s);
int ag_session_read(const char *path, struct ag_session *s);
int ag_session_remove(const struct ag_config *cfg, const char *id);

/* Calls FN for each readable, trusted record; stops when FN != 0. */
int ag_session_foreach(const char *runtime_dir,
	int (*fn)(const struct ag_session *s, void *arg), void *arg);

/* Starttime of PID from /proc, for recognising a recycled pid. */
int ag_proc_starttime(pid_t pid, uint64_t *start);

/* 1 when agentgated holds its lock in RUNTIME_DIR, 0 when not. */
int ag_daemon_running(const struct ag_config *cfg);

/*
 * Place PID in a fresh cgroup v2 group for session ID so that the
 * daemon can end the whole session with cgroup.kill.  Writes the path
 * below the cgroup2 mount into PATH.  -ENOENT when the host has no
 * usable cgroup v2; callers then rely on the audit session id and the
 * uid sweep.
 */
int ag_cgroup_place(const char *id, pid_t pid, char *path, size_t len);

#endif
