/*
 * cgroup v2 helpers: placing a session in its own group (PAM module)
 * and ending it (agentgated).  libc only, no logging.
 *
 * PATH arguments are paths below the cgroup2 mount, as stored in the
 * session record ("/agentgate/ID"); MOUNT is what ag_cgroup_mount()
 * found.  Placement itself is declared in session.h.
 */
#ifndef AG_CGROUP_H
#define AG_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define AG_CGROUP_PARENT "/agentgate"

/* The first cgroup2 mount in /proc/self/mountinfo; -ENOENT if none. */
int ag_cgroup_mount(char *buf, size_t len);

/*
 * Whether PATH names a group that holds exactly one session, so that
 * killing all of it is right: one of ours, or a logind session scope.
 * Never the root, a slice, or a service.
 */
bool ag_cgroup_path_ok(const char *path);

/* Every process in the group, SIGKILL, by the kernel (cgroup.kill). */
int ag_cgroup_kill(const char *mount, const char *path);

/* 1 populated, 0 empty, -ENOENT when the group does not exist. */
int ag_cgroup_populated(const char *mount, const char *path);

/* Up to MAX pids from cgroup.procs; *N gets how many were stored. */
int ag_cgroup_pids(const char *mount, const char *path, pid_t *pids,
	size_t max, size_t *n);

/* rmdir of an empty group: -EBUSY while populated. */
int ag_cgroup_remove(const char *mount, const char *path);

/* The v2 group of PID ("0::PATH" in /proc/PID/cgroup). */
int ag_proc_cgroup(pid_t pid, char *buf, size_t len);

#endif
