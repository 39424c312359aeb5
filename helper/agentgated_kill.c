/*
 * Ending a session: SIGTERM to every process, a grace period, then
 * SIGKILL (cgroup.kill where the session has a group).
 *
 * Every signal goes through a pidfd opened *before* the process is
 * checked (its group, uid, audit session or start time).  If the pid
 * was recycled before the open, the check sees the newcomer and fails;
 * if it is recycled after, the pidfd still names the old, dead process
 * and the signal fails with ESRCH.  Either way a stranger is never hit.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agentgated.h"
#include "cgroup.h"

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int fd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static bool pidfd_exited(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void read_comm(pid_t pid, char comm[16])
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, 15);
		close(fd);
	}
	if (n <= 0)
		n = 0;
	comm[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)comm[i]))
			comm[i] = i == n - 1 ? '\0' : '?';
	if (!comm[0])
		strcpy(comm, "?");
}

/* Remember what the first round hit, for the "killed" log line. */
static void note(struct agd_session *t, pid_t pid)
{
	size_t i;

	if (t->recorded)
		return;
	for (i = 0; i < t->n_named; i++)
		if (t->named[i] == pid)
			return;
	t->n_total++;
	if (t->n_named < AGD_LOG_PIDS) {
		t->named[t->n_named] = pid;
		read_comm(pid, t->comms[t->n_named]);
		t->n_named++;
	}
}

static bool in_group(pid_t pid, const char *path)
{
	char cur[512];

	return ag_proc_cgroup(pid, cur, sizeof(cur)) == 0 &&
		strcmp(cur, path) == 0;
}

/* SIGTERM (or SIGKILL without cgroup.kill) to each member of PATH. */
static void signal_group(struct agd *d, struct agd_session *t,
	const char *path, int sig)
{
	pid_t pids[4096];
	size_t n = 0, i;
	int fd;

	if (ag_cgroup_pids(d->cgmount, path, pids, 4096, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		fd = pidfd_open_(pids[i]);
		if (fd < 0)
			continue;
		if (in_group(pids[i], path) && pidfd_signal(fd, sig) == 0)
			note(t, pids[i]);
		close(fd);
	}
}

static void kill_group(struct agd *d, struct agd_session *t,
	const char *path)
{
	int r = ag_cgroup_kill(d->cgmount, path);

	if (r == -EOPNOTSUPP)
		signal_group(d, t, path, SIGKILL);
}

static bool group_usable(struct agd *d, const char *path)
{
	return d->cgmount[0] && path[0] && ag_cgroup_path_ok(path);
}

/*
 * The leader, if it is still the process the record names.  On a
 * systemd host its current group may be logind's session scope.
 */
static void open_leader(struct agd_session *t)
{
	uint64_t start;
	char cur[512];
	int fd;

	t->leader_fd = -1;
	fd = pidfd_open_(t->s.leader);
	if (fd < 0)
		return;
	if (ag_proc_starttime(t->s.leader, &start) < 0 ||
			start != t->s.leader_start || pidfd_exited(fd)) {
		close(fd);
		return;
	}
	t->leader_fd = fd;
	if (ag_proc_cgroup(t->s.leader, cur, sizeof(cur)) == 0 &&
			strcmp(cur, t->s.cgroup) != 0 &&
			ag_cgroup_path_ok(cur) &&
			strncmp(cur, AG_CGROUP_PARENT "/",
				strlen(AG_CGROUP_PARENT) + 1) != 0)
		snprintf(t->scope, sizeof(t->scope), "%s", cur);
}

static void signal_direct(struct agd *d, struct agd_session *t, int sig)
{
	if (group_usable(d, t->s.cgroup)) {
		if (sig == SIGKILL)
			kill_group(d, t, t->s.cgroup);
		else
			signal_group(d, t, t->s.cgroup, sig);
	}
	if (group_usable(d, t->scope)) {
		if (sig == SIGKILL)
			kill_group(d, t, t->scope);
		else
			signal_group(d, t, t->scope, sig);
	}
	if (t->leader_fd >= 0 && pidfd_signal(t->leader_fd, sig) == 0)
		note(t, t->s.leader);
}

static bool audit_valid(uint32_t sid)
{
	return sid != UINT32_MAX && sid != 0;
}

static bool needs_scan(const struct agd_session *t)
{
	return t->state != AGD_LIVE &&
		(t->sweep_uid || audit_valid(t->s.audit_sid));
}

struct proc_info {
	uint32_t uids[4];	/* real, effective, saved, fs */
	uint32_t sid;
	bool have_sid;
};

/* 0 for a live process, -ESRCH for a zombie or a vanished one. */
static int read_status(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';

	p = strstr(buf, "\nState:\t");
	if (!p || p[8] == 'Z' || p[8] == 'X')
		return -ESRCH;
	p = strstr(buf, "\nUid:\t");
	if (!p || sscanf(p + 6, "%u %u %u %u", &pi->uids[0], &pi->uids[1],
			&pi->uids[2], &pi->uids[3]) != 4)
		return -ESRCH;
	return 0;
}

static void read_sessionid(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[32];
	ssize_t n;
	int fd;

	pi->have_sid = false;
	snprintf(path, sizeof(path), "/proc/%d/sessionid", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	pi->have_sid = sscanf(buf, "%u", &pi->sid) == 1;
}

static bool proc_matches(const struct agd_session *t,
	const struct proc_info *pi)
{
	int i;

	if (t->sweep_uid)
		for (i = 0; i < 4; i++)
			if (pi->uids[i] == t->s.uid)
				return true;
	return audit_valid(t->s.audit_sid) && pi->have_sid &&
		pi->sid == t->s.audit_sid;
}

static void scan_one(struct agd *d, pid_t pid, bool want_sid)
{
	struct proc_info pi;
	size_t i;
	int fd, sig;

	fd = pidfd_open_(pid);
	if (fd < 0)
		return;
	if (read_status(pid, &pi) < 0) {
		close(fd);
		return;
	}
	if (want_sid)
		read_sessionid(pid, &pi);

	for (i = 0; i < d->n; i++) {
		struct agd_session *t = &d->v[i];

		if (!needs_scan(t) || !proc_matches(t, &pi))
			continue;
		sig = t->state == AGD_KILL ? SIGKILL : SIGTERM;
		if (pidfd_signal(fd, sig) == 0) {
			note(t, pid);
			t->remaining++;
		}
	}
	close(fd);
}

/* One pass over /proc serves every session being ended. */
static void scan_proc(struct agd *d)
{
	bool want_sid = false;
	struct dirent *de;
	pid_t self = getpid();
	long pid;
	char *end;
	size_t i;
	DIR *dir;

	for (i = 0; i < d->n; i++) {
		d->v[i].remaining = 0;
		if (needs_scan(&d->v[i]) && audit_valid(d->v[i].s.audit_sid))
			want_sid = true;
	}
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || pid == self)
			continue;
		scan_one(d, (pid_t)pid, want_sid);
	}
	closedir(dir);
}

void agd_kill_step(struct agd *d, int64_t mono)
{
	bool scan = false;
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct agd_session *t = &d->v[i];

		if (t->state == AGD_LIVE)
			continue;
		if (!t->recorded) {
			open_leader(t);
			signal_direct(d, t, SIGTERM);
		} else if (t->state == AGD_TERM && mono >= t->kill_at) {
			t->state = AGD_KILL;
		}
		if (t->state == AGD_KILL)
			signal_direct(d, t, SIGKILL);
		scan = scan || needs_scan(t);
	}
	if (scan)
		scan_proc(d);
	for (i = 0; i < d->n; i++)
		if (d->v[i].state != AGD_LIVE)
			d->v[i].recorded = true;
}

static bool group_busy(struct agd *d, const char *path)
{
	return group_usable(d, path) &&
		ag_cgroup_populated(d->cgmount, path) == 1;
}

bool agd_session_empty(struct agd *d, struct agd_session *t)
{
	if (group_busy(d, t->s.cgroup) || group_busy(d, t->scope))
		return false;
	if (t->leader_fd >= 0 && !pidfd_exited(t->leader_fd))
		return false;
	return !(needs_scan(t) && t->remaining > 0);
}

void agd_release_session(struct agd_session *t)
{
	if (t->leader_fd >= 0)
		close(t->leader_fd);
	t->leader_fd = -1;
}

/* Whether anything of a session we are not ending is still running. */
bool agd_session_alive(struct agd *d, const struct ag_session *s)
{
	uint64_t start;

	if (group_busy(d, s->cgroup))
		return true;
	return ag_proc_starttime(s->leader, &start) == 0 &&
		start == s->leader_start;
}
