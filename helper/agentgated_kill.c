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

/*
 * cgroup.kill deals with forks racing the kill itself (cgroup-v2.rst),
 * so one successful write per group is enough: later ticks only wait
 * for it to empty.  Without cgroup.kill every tick signals again.
 */
static void kill_group(struct agd *d, struct agd_session *t,
	const char *path, bool *done)
{
	int r;

	if (*done)
		return;
	r = ag_cgroup_kill(d->cgmount, path);
	if (r == -EOPNOTSUPP)
		signal_group(d, t, path, SIGKILL);
	*done = r == 0;
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
			kill_group(d, t, t->s.cgroup, &t->group_killed);
		else
			signal_group(d, t, t->s.cgroup, sig);
	}
	if (group_usable(d, t->scope)) {
		if (sig == SIGKILL)
			kill_group(d, t, t->scope, &t->scope_killed);
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

/*
 * An audit session id is inherited: "su agent" from a human's login
 * carries the human's id, and so do that login's sshd and shell.  A
 * session with a group of its own is therefore found by its group
 * alone; without one, the id only selects processes of the agent's
 * uid (sid_owned) besides the leader, which signal_direct handles.
 */
static bool by_audit_sid(struct agd *d, const struct agd_session *t)
{
	return audit_valid(t->s.audit_sid) && t->s.uid != 0 &&
		!group_usable(d, t->s.cgroup);
}

static bool needs_scan(struct agd *d, const struct agd_session *t)
{
	return t->state != AGD_LIVE &&
		(t->sweep_uid || by_audit_sid(d, t));
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

/*
 * What one /proc pass looks for: the uids of agents whose last
 * session is ending and the audit ids of sessions being ended, each
 * sorted with the index of its session, so that a process costs a few
 * binary searches however many agents end at the same instant.
 */
struct scan_key {
	uint32_t key;
	uint32_t idx;
};

struct scan_set {
	struct scan_key *uids, *sids;
	size_t n_uids, n_sids;
};

static int key_cmp(const void *a, const void *b)
{
	const struct scan_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* 0 with SET filled (maybe empty), -ENOMEM. */
static int scan_set_build(struct agd *d, struct scan_set *set)
{
	size_t i;

	memset(set, 0, sizeof(*set));
	set->uids = calloc(d->n + 1, sizeof(*set->uids));
	set->sids = calloc(d->n + 1, sizeof(*set->sids));
	if (!set->uids || !set->sids) {
		free(set->uids);
		free(set->sids);
		return -ENOMEM;
	}
	for (i = 0; i < d->n; i++) {
		struct agd_session *t = &d->v[i];

		t->remaining = 0;
		t->last_hit = 0;
		if (!needs_scan(d, t))
			continue;
		/* start_kill only sweeps range uids; 0 never, whatever. */
		if (t->sweep_uid && t->s.uid != 0)
			set->uids[set->n_uids++] = (struct scan_key){
				t->s.uid, (uint32_t)i };
		if (by_audit_sid(d, t))
			set->sids[set->n_sids++] = (struct scan_key){
				t->s.audit_sid, (uint32_t)i };
	}
	qsort(set->uids, set->n_uids, sizeof(*set->uids), key_cmp);
	qsort(set->sids, set->n_sids, sizeof(*set->sids), key_cmp);
	return 0;
}

static void scan_set_free(struct scan_set *set)
{
	free(set->uids);
	free(set->sids);
}

/* The first entry with KEY, or NULL. */
static const struct scan_key *key_find(const struct scan_key *v,
	size_t n, uint32_t key)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].key == key ? &v[lo] : NULL;
}

/* A process of the agent by its real or effective uid. */
static bool sid_owned(const struct agd_session *t,
	const struct proc_info *pi)
{
	return pi->uids[0] == t->s.uid || pi->uids[1] == t->s.uid;
}

/*
 * Each session is signalled once per process, whatever matched.  PI
 * is given for an audit id match, which must also be the agent's.
 */
static void hit(struct agd *d, const struct scan_key *k,
	const struct scan_key *end, uint32_t key, pid_t pid, int fd,
	const struct proc_info *pi)
{
	struct agd_session *t;
	int sig;

	for (; k && k < end && k->key == key; k++) {
		t = &d->v[k->idx];
		if (t->last_hit == pid || (pi && !sid_owned(t, pi)))
			continue;
		t->last_hit = pid;
		sig = t->state == AGD_KILL ? SIGKILL : SIGTERM;
		if (pidfd_signal(fd, sig) == 0) {
			note(t, pid);
			t->remaining++;
		}
	}
}

static bool wanted(const struct scan_set *set, const struct proc_info *pi)
{
	int i;

	for (i = 0; i < 4; i++)
		if (key_find(set->uids, set->n_uids, pi->uids[i]))
			return true;
	return pi->have_sid && audit_valid(pi->sid) &&
		key_find(set->sids, set->n_sids, pi->sid);
}

static int read_proc(const struct scan_set *set, pid_t pid,
	struct proc_info *pi)
{
	if (read_status(pid, pi) < 0)
		return -ESRCH;
	pi->have_sid = false;
	if (set->n_sids)
		read_sessionid(pid, pi);
	return 0;
}

/*
 * Most processes are not wanted: a first look without a pidfd skips
 * them cheaply.  What decides is the second look, taken after the
 * pidfd is open, as everywhere else in this file.
 */
static void scan_one(struct agd *d, const struct scan_set *set,
	pid_t pid)
{
	const struct scan_key *uend = set->uids + set->n_uids;
	struct proc_info pi;
	int fd, i;

	if (read_proc(set, pid, &pi) < 0 || !wanted(set, &pi))
		return;
	fd = pidfd_open_(pid);
	if (fd < 0)
		return;
	if (read_proc(set, pid, &pi) < 0) {
		close(fd);
		return;
	}

	for (i = 0; i < 4; i++)
		hit(d, key_find(set->uids, set->n_uids, pi.uids[i]), uend,
			pi.uids[i], pid, fd, NULL);
	if (pi.have_sid && audit_valid(pi.sid))
		hit(d, key_find(set->sids, set->n_sids, pi.sid),
			set->sids + set->n_sids, pi.sid, pid, fd, &pi);
	close(fd);
}

/* One pass over /proc serves every session being ended. */
static void scan_proc(struct agd *d)
{
	struct scan_set set;
	struct dirent *de;
	pid_t self = getpid();
	long pid;
	char *end;
	DIR *dir;

	if (scan_set_build(d, &set) < 0) {
		/* Keep them all busy: the next tick tries again. */
		for (size_t i = 0; i < d->n; i++)
			d->v[i].remaining = needs_scan(d, &d->v[i]);
		return;
	}
	dir = opendir("/proc");
	if (dir) {
		while ((de = readdir(dir))) {
			pid = strtol(de->d_name, &end, 10);
			if (*end || pid <= 1 || pid == self)
				continue;
			scan_one(d, &set, (pid_t)pid);
		}
		closedir(dir);
	}
	scan_set_free(&set);
}

void agd_kill_step(struct agd *d, int64_t mono)
{
	bool scan = false;
	size_t i;

	agd_drop_sweeps(d);
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
		scan = scan || needs_scan(d, t);
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
	return !(needs_scan(d, t) && t->remaining > 0);
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

/*
 * An agent's uid among PATH's members (real or effective), so that
 * only a group that holds an agent's processes is ended as an orphan.
 */
int agd_group_agent_uid(struct agd *d, const char *path, uint32_t *uid)
{
	struct proc_info pi;
	pid_t pids[4096];
	size_t n = 0, i;
	int r, j;

	r = ag_cgroup_pids(d->cgmount, path, pids, 4096, &n);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		if (read_status(pids[i], &pi) < 0)
			continue;
		for (j = 0; j < 2; j++)
			if (agd_uid_agent(d, pi.uids[j])) {
				*uid = pi.uids[j];
				return 0;
			}
	}
	return -ESRCH;
}

static bool uid_known(struct agd *d, const uint32_t *v, size_t n,
	uint32_t uid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == uid)
			return true;
	for (i = 0; i < d->n; i++)
		if (d->v[i].s.uid == uid)
			return true;
	return false;
}

/*
 * Agent uids (real or effective) running processes that no session
 * in the table accounts for; up to MAX of them into V.
 */
size_t agd_stray_uids(struct agd *d, uint32_t *v, size_t max)
{
	struct proc_info pi;
	struct dirent *de;
	size_t n = 0;
	long pid;
	char *end;
	DIR *dir;
	int j;

	dir = opendir("/proc");
	if (!dir)
		return 0;
	while (n < max && (de = readdir(dir))) {
		pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || read_status((pid_t)pid, &pi) < 0)
			continue;
		for (j = 0; j < 2 && n < max; j++)
			if (agd_uid_agent(d, pi.uids[j]) &&
					!uid_known(d, v, n, pi.uids[j]))
				v[n++] = pi.uids[j];
	}
	closedir(dir);
	return n;
}
