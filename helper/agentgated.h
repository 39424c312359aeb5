/* agentgated internals shared by its source files. */
#ifndef AG_AGENTGATED_H
#define AG_AGENTGATED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "revoke.h"
#include "session.h"
#include "userdb.h"

#define AGD_LOG_PIDS 16		/* pids and comms named per log line */

enum agd_state { AGD_LIVE, AGD_TERM, AGD_KILL };

/* One session the daemon knows of, live or being ended. */
struct agd_session {
	struct ag_session s;
	bool present;		/* record seen in the latest scan */
	enum agd_state state;
	const char *reason;	/* "expired" or "revoked" */
	int64_t event_ms;	/* deadline or revocation seen, realtime */
	int64_t kill_at;	/* SIGKILL due, monotonic ms */
	bool sweep_uid;		/* the agent's last session */
	bool orphan;		/* no record: left while nobody watched */
	bool recorded;		/* first signal round done */
	bool group_killed;	/* cgroup.kill written to s.cgroup */
	bool scope_killed;	/* and to scope */
	char scope[512];	/* leader's current group, if not ours */
	int leader_fd;		/* pidfd of the verified leader, or -1 */
	size_t remaining;	/* matches of the latest /proc scan */
	pid_t last_hit;		/* pid signalled last by that scan */
	pid_t named[AGD_LOG_PIDS];
	char comms[AGD_LOG_PIDS][16];
	size_t n_named, n_total;
};

/* A finished session's group, removed once cgroup.events says empty. */
struct agd_group {
	int wd;			/* inotify watch on its cgroup.events */
	char path[512];
};

/* An agent's file cleanup running in a child process. */
struct agd_cleanup {
	pid_t pid;
	int pidfd;		/* in epoll: readable once it exits */
	int pipefd;		/* its report, one line */
	char user[AG_NAME_MAX + 1];
	uint32_t uid;
};

struct agd {
	struct ag_config *cfg;
	const char *cfg_path;
	bool debug;
	char cgmount[4096];	/* "" when there is no cgroup2 */
	int epfd, tfd, gfd, ifd, sfd;
	int wd_sessions, wd_state, wd_revdir;
	struct ag_userdb udb;	/* which uids are agents' */
	struct ag_revoke_list rl;	/* what sessions are judged by */
	struct ag_revoke_list rl_good;	/* the last load without errors */
	char rl_err[512];	/* last list error logged, "" when fine */
	struct agd_session *v;
	size_t n, cap;
	struct agd_group *groups;
	size_t n_groups, cap_groups;
	struct agd_cleanup *cleanups;
	size_t n_cleanups, cap_cleanups;
};

int64_t agd_now_ms(void);
int64_t agd_mono_ms(void);

/* agentgated_kill.c */
void agd_kill_step(struct agd *d, int64_t mono);
bool agd_session_empty(struct agd *d, struct agd_session *t);
void agd_release_session(struct agd_session *t);
bool agd_session_alive(struct agd *d, const struct ag_session *s);
int agd_group_agent_uid(struct agd *d, const char *path, uint32_t *uid);
size_t agd_stray_uids(struct agd *d, uint32_t *v, size_t max);

/* agentgated_sessions.c */
int agd_record_seen(struct agd *d, const struct ag_session *s);
void agd_record_gone(struct agd *d, const char *id);
void agd_reload_revocations(struct agd *d);
void agd_evaluate(struct agd *d);
bool agd_progress(struct agd *d);
void agd_reconcile(struct agd *d);
bool agd_uid_agent(struct agd *d, uint32_t uid);
void agd_userdb_refresh(struct agd *d);
void agd_end_orphan_group(struct agd *d, const char *path);
void agd_drop_sweeps(struct agd *d);

/* agentgated_groups.c */
#define AGD_GROUP_MIN_AGE_S 5	/* a younger group may be mid-login */
void agd_retire_group(struct agd *d, const char *path);
void agd_retire_stale(struct agd *d, int dfd, const char *name);
bool agd_group_event(struct agd *d, int wd, uint32_t mask);
void agd_groups_free(struct agd *d);

/* agentgated_cleanup.c: the agent has no session left on the host. */
void agd_agent_cleanup(struct agd *d, const struct ag_session *s);
bool agd_cleanup_event(struct agd *d, int fd);

#endif
