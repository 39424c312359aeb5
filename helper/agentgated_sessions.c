/*
 * The daemon's table of sessions: what the registry says, which
 * deadline comes next, which sessions are being ended, and the log
 * line for each step.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>

#include "agentgated.h"
#include "cgroup.h"
#include "log.h"
#include "util.h"

#define TICK_NS (10 * 1000 * 1000)	/* while a kill is in flight */

int64_t agd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t agd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct agd_session *find(struct agd *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].s.id, id) == 0)
			return &d->v[i];
	return NULL;
}

static void drop(struct agd *d, struct agd_session *t)
{
	agd_release_session(t);
	*t = d->v[--d->n];
}

static struct agd_session *append(struct agd *d,
	const struct ag_session *s)
{
	struct agd_session *v = ag_grow(d->v, &d->cap, d->n, sizeof(*v), 64);

	if (!v)
		return NULL;
	d->v = v;
	v = &d->v[d->n++];
	memset(v, 0, sizeof(*v));
	v->s = *s;
	v->present = true;
	v->leader_fd = -1;
	return v;
}

static int add(struct agd *d, const struct ag_session *s)
{
	if (!append(d, s))
		return -ENOMEM;
	ag_log(LOG_INFO, "event=session_seen session=%s user=%s uid=%u "
		"issuer=%s jti=%s expires=%lld leader=%d cgroup=%s",
		s->id, s->user, (unsigned)s->uid, s->issuer, s->jti,
		(long long)s->expires, (int)s->leader,
		s->cgroup[0] ? s->cgroup : "-");
	return 0;
}

/* A record (re)appeared: new sessions join the table. */
int agd_record_seen(struct agd *d, const struct ag_session *s)
{
	struct agd_session *t = find(d, s->id);

	if (t) {
		t->present = true;
		return 0;
	}
	return add(d, s);
}

static bool last_of_uid(struct agd *d, const struct agd_session *t)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (&d->v[i] != t && d->v[i].s.uid == t->s.uid &&
				d->v[i].state == AGD_LIVE && d->v[i].present)
			return false;
	return true;
}

/* A live session of UID in the table: the agent is on the host. */
static bool uid_live(struct agd *d, uint32_t uid)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].s.uid == uid && d->v[i].state == AGD_LIVE &&
				d->v[i].present)
			return true;
	return false;
}

static bool uid_swept(struct agd *d, uint32_t uid)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].s.uid == uid && d->v[i].state != AGD_LIVE &&
				d->v[i].sweep_uid)
			return true;
	return false;
}

/* A record of a swept uid that inotify has not brought in yet. */
static int back_cb(const struct ag_session *s, void *arg)
{
	struct agd *d = arg;

	if (!find(d, s->id) && uid_swept(d, s->uid))
		add(d, s);
	return 0;
}

/*
 * An agent may log in again while its last session's processes die:
 * the new session's processes have the same uid, and the sweep must
 * spare them.  The registry itself is read, not only the table, as a
 * record may be written between inotify's report and this tick.  The
 * PAM module writes it before the session starts anything.  Called
 * before every /proc pass; may grow the table.
 */
void agd_drop_sweeps(struct agd *d)
{
	size_t i;
	bool any = false;

	for (i = 0; i < d->n && !any; i++)
		any = d->v[i].state != AGD_LIVE && d->v[i].sweep_uid;
	if (!any)
		return;
	ag_session_foreach(d->cfg->runtime_dir, back_cb, d);
	for (i = 0; i < d->n; i++) {
		struct agd_session *t = &d->v[i];

		if (t->state == AGD_LIVE || !t->sweep_uid ||
				!uid_live(d, t->s.uid))
			continue;
		t->sweep_uid = false;
		ag_log(LOG_NOTICE, "event=uid_sweep_dropped session=%s "
			"user=%s uid=%u reason=live_session", t->s.id,
			t->s.user, (unsigned)t->s.uid);
	}
}

/* Never 0, whatever a configuration says. */
static bool uid_in_range(struct agd *d, uint32_t uid)
{
	size_t i;

	if (uid == 0)
		return false;
	for (i = 0; i < d->cfg->n_issuers; i++)
		if (uid >= d->cfg->issuers[i].uid_min &&
				uid <= d->cfg->issuers[i].uid_max)
			return true;
	return false;
}

/* Before deciding which uids are agents': the registry may have grown. */
void agd_userdb_refresh(struct agd *d)
{
	int r = ag_userdb_refresh(&d->udb, d->cfg->state_dir);

	/* Empty on error: then no process is taken for an agent's. */
	if (r < 0 && r != -ENOENT)
		ag_log(LOG_WARNING, "event=userdb_error dir=%s error=\"%s\"",
			d->cfg->state_dir, strerror(-r));
}

/*
 * A uid the registry gave an agent name.  An issuer's range alone is
 * not enough: sssd id-mapping, containers or systemd's foreign range
 * may place a host's own uids there, and a process with no session
 * would be killed for it.
 */
bool agd_uid_agent(struct agd *d, uint32_t uid)
{
	char name[AG_NAME_MAX + 1];

	return uid_in_range(d, uid) &&
		ag_userdb_find_uid(&d->udb, uid, name, sizeof(name)) == 0;
}

/* The uid sweep only ever targets a uid inside an agent range. */
static bool uid_sweepable(struct agd *d, const struct ag_session *s)
{
	const struct ag_issuer *is;

	is = ag_config_issuer_by_name(d->cfg, s->issuer);
	if (!is)
		is = ag_config_issuer_for_name(d->cfg, s->user);
	return is && s->uid != 0 && s->uid >= is->uid_min &&
		s->uid <= is->uid_max;
}

static void start_kill(struct agd *d, struct agd_session *t,
	const char *reason, int64_t event_ms)
{
	t->state = d->cfg->kill_grace_ms > 0 ? AGD_TERM : AGD_KILL;
	t->reason = reason;
	t->event_ms = event_ms;
	t->kill_at = agd_mono_ms() + d->cfg->kill_grace_ms;
	t->sweep_uid = last_of_uid(d, t) && uid_sweepable(d, &t->s);
	ag_log(LOG_NOTICE, "event=%s session=%s user=%s issuer=%s jti=%s "
		"expires=%lld last_session=%s", reason, t->s.id, t->s.user,
		t->s.issuer, t->s.jti, (long long)t->s.expires,
		t->sweep_uid ? "yes" : "no");
}

/*
 * What a session left that no record lists any more: its group (PATH)
 * or, without one, every process of UID.  Ended like a session, but
 * without a record to remove or a name to clean up after.
 */
static void start_orphan(struct agd *d, const char *path, uint32_t uid)
{
	struct agd_session *t;
	struct ag_session s;

	memset(&s, 0, sizeof(s));
	if (path)
		snprintf(s.id, sizeof(s.id), "%s",
			path + strlen(AG_CGROUP_PARENT) + 1);
	else
		snprintf(s.id, sizeof(s.id), "orphan-uid-%u", (unsigned)uid);
	snprintf(s.cgroup, sizeof(s.cgroup), "%s", path ? path : "");
	strcpy(s.user, "-");
	strcpy(s.issuer, "-");
	strcpy(s.jti, "-");
	s.uid = uid;
	s.audit_sid = UINT32_MAX;
	t = append(d, &s);
	if (!t)
		return;

	t->orphan = true;
	t->sweep_uid = !path;
	t->state = d->cfg->kill_grace_ms > 0 ? AGD_TERM : AGD_KILL;
	t->reason = "orphan";
	t->event_ms = agd_now_ms();
	t->kill_at = agd_mono_ms() + d->cfg->kill_grace_ms;
	ag_log(LOG_NOTICE, "event=orphan_found cgroup=%s uid=%u",
		path ? path : "-", (unsigned)uid);
}

/* A populated group of ours that no record claims and no login is
 * still making: only one holding an agent's processes is ended. */
void agd_end_orphan_group(struct agd *d, const char *path)
{
	size_t plen = strlen(AG_CGROUP_PARENT) + 1;
	uint32_t uid;

	agd_userdb_refresh(d);
	if (strlen(path) != plen + AG_SESSION_ID_LEN ||
			agd_group_agent_uid(d, path, &uid) < 0) {
		agd_retire_group(d, path);
		return;
	}
	start_orphan(d, path, uid);
}

/* One file of the registry, re-read at start; see recheck_records. */
static void recheck_one(struct agd *d, const char *dir, const char *name)
{
	struct ag_session s;
	char path[4200];
	int r;

	if (strlen(name) != AG_SESSION_ID_LEN || strspn(name,
			"0123456789abcdef") != AG_SESSION_ID_LEN ||
			find(d, name) ||
			ag_path(path, sizeof(path), "%s/%s", dir, name) < 0)
		return;
	r = ag_session_read(path, &s);
	if (r == 0 && strcmp(s.id, name) == 0) {
		agd_record_seen(d, &s);
		return;
	}
	if (r == -ENOENT)
		return;		/* closed meanwhile */
	/* Claims nothing: its uid's processes are still strays. */
	ag_log(LOG_WARNING, "event=record_unreadable session=%s "
		"error=\"%s\"", name, r < 0 ? strerror(-r) : "id mismatch");
}

/*
 * A login may have written its record since the start's first scan:
 * its uid is then claimed, not stray.  Records joining the table here
 * are judged like any other by the evaluation that follows.
 */
static void recheck_records(struct agd *d)
{
	char dir[4200];
	struct dirent *de;
	struct stat st;
	DIR *dh;

	if (ag_path(dir, sizeof(dir), "%s/sessions",
			d->cfg->runtime_dir) < 0)
		return;
	dh = opendir(dir);
	if (!dh)
		return;
	if (fstat(dirfd(dh), &st) == 0 && ag_stat_trusted(&st))
		while ((de = readdir(dh)))
			recheck_one(d, dir, de->d_name);
	closedir(dh);
}

/* At start: agents' processes that belong to no session we know. */
static void sweep_stray_uids(struct agd *d)
{
	uint32_t v[256];
	size_t n, i;

	recheck_records(d);
	agd_userdb_refresh(d);
	n = agd_stray_uids(d, v, 256);
	for (i = 0; i < n; i++)
		start_orphan(d, NULL, v[i]);
}

/*
 * A record vanished: logout, or an admin removed it.  Either way the
 * session is over, so whatever it left running (nohup, setsid, a
 * double fork) ends now, like an expired session's, even while the
 * agent has other sessions: those own their processes, not these,
 * and a process nobody lists must not outlive its approval.  When it
 * was the agent's last session, start_kill adds the uid sweep.
 */
void agd_record_gone(struct agd *d, const char *id)
{
	struct agd_session *t = find(d, id);

	if (!t || t->state != AGD_LIVE)
		return;
	t->present = false;
	ag_log(LOG_INFO, "event=session_closed session=%s user=%s",
		t->s.id, t->s.user);
	start_kill(d, t, "closed", agd_now_ms());
}

static void revocation_error(struct agd *d, unsigned skipped,
	const char *err)
{
	/* Logins are refused meanwhile (fail closed, in the PAM module). */
	if (strcmp(err, d->rl_err) != 0)
		ag_log(LOG_ERR, "event=revocation_error skipped=%u "
			"error=\"%s\" applied=readable+last_good", skipped,
			err);
	snprintf(d->rl_err, sizeof(d->rl_err), "%s", err);
}

/*
 * Every entry that can be read applies at once, whatever else is
 * wrong: one bad fleet file must not shield a fresh revocation from
 * agentgatectl.  With anything skipped, the last list read without
 * errors still applies too, so that a file gone bad mid-edit does not
 * lift the revocations it held.
 */
void agd_reload_revocations(struct agd *d)
{
	struct ag_revoke_list l, good = { 0 };
	unsigned skipped = 0;
	char err[512] = "";

	if (ag_revoke_load_lenient(d->cfg, time(NULL), &l, &skipped, err,
			sizeof(err)) < 0)
		return;		/* out of memory: keep what we have */

	if (skipped) {
		revocation_error(d, skipped, err);
		if (ag_revoke_list_merge(&l, &d->rl_good) < 0) {
			ag_revoke_list_free(&l);
			return;
		}
	} else if (ag_revoke_list_merge(&good, &l) == 0) {
		d->rl_err[0] = '\0';
		ag_revoke_list_free(&d->rl_good);
		d->rl_good = good;
	}

	ag_revoke_list_free(&d->rl);
	d->rl = l;
}

static void format_pids(const struct agd_session *t, char *pids,
	char *comms, size_t len)
{
	size_t i, pu = 0, cu = 0;

	pids[0] = comms[0] = '\0';
	for (i = 0; i < t->n_named; i++) {
		pu += (size_t)snprintf(pids + pu, len - pu, "%s%d",
			i ? "," : "", (int)t->named[i]);
		cu += (size_t)snprintf(comms + cu, len - cu, "%s%s",
			i ? "," : "", t->comms[i]);
		if (pu >= len || cu >= len)
			break;
	}
	if (!t->n_named) {
		strcpy(pids, "-");
		strcpy(comms, "-");
	}
}

/*
 * Groups left by sessions no longer in the table (logged out while
 * agentgated was down, or a login that failed after placement).
 * rmdir fails on a populated group, so a live one is never lost; it
 * is watched and removed once empty.  Groups a login may still be
 * claiming are skipped (agd_retire_stale).
 */
static void remove_stale_groups(struct agd *d)
{
	char dir[4200];
	struct dirent *de;
	DIR *dh;

	if (!d->cgmount[0] ||
			ag_path(dir, sizeof(dir), "%s" AG_CGROUP_PARENT,
				d->cgmount) < 0)
		return;
	dh = opendir(dir);
	if (!dh)
		return;
	while ((de = readdir(dh)))
		if (!find(d, de->d_name))
			agd_retire_stale(d, dirfd(dh), de->d_name);
	closedir(dh);
}

/* Agents whose last session ended in this step, cleaned up after it. */
struct gone_agents {
	struct ag_session *v;
	size_t n, cap;
};

static int gone_push(struct gone_agents *g, const struct ag_session *s)
{
	struct ag_session *v = ag_grow(g->v, &g->cap, g->n, sizeof(*v), 16);

	if (!v)
		return -ENOMEM;
	g->v = v;
	g->v[g->n++] = *s;
	return 0;
}

/*
 * Once per step, however many agents left: the /proc pass that found
 * their processes gone is already behind us, and the stale group walk
 * is the same for all of them.
 */
static void cleanup_agents(struct agd *d, struct gone_agents *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		agd_agent_cleanup(d, &g->v[i]);
	if (g->n)
		remove_stale_groups(d);
	free(g->v);
}

static void finish(struct agd *d, struct agd_session *t,
	struct gone_agents *gone)
{
	char pids[AGD_LOG_PIDS * 12], comms[AGD_LOG_PIDS * 17];
	struct ag_session s = t->s;
	bool sweep = t->sweep_uid;
	int64_t now = agd_now_ms();

	format_pids(t, pids, comms, sizeof(pids) < sizeof(comms) ?
		sizeof(pids) : sizeof(comms));
	if (t->orphan)
		ag_log(LOG_NOTICE, "event=orphan_killed cgroup=%s uid=%u "
			"signal=%s n_pids=%zu pids=%s comms=%s",
			s.cgroup[0] ? s.cgroup : "-", (unsigned)s.uid,
			t->state == AGD_KILL ? "SIGKILL" : "SIGTERM",
			t->n_total, pids, comms);
	else
		ag_log(LOG_NOTICE, "event=killed session=%s user=%s "
			"issuer=%s jti=%s reason=%s signal=%s n_pids=%zu "
			"pids=%s comms=%s latency_ms=%lld", s.id, s.user,
			s.issuer, s.jti, t->reason,
			t->state == AGD_KILL ? "SIGKILL" : "SIGTERM",
			t->n_total, pids, comms,
			(long long)(now - t->event_ms));

	if (!t->orphan)
		ag_session_remove(d->cfg, s.id);
	agd_retire_group(d, s.cgroup);
	/* An orphan has no name: its files wait for its next logout. */
	sweep = sweep && !t->orphan;
	drop(d, t);
	if (sweep && gone_push(gone, &s) < 0) {
		agd_agent_cleanup(d, &s);
		remove_stale_groups(d);
	}
}

static void arm_tick(struct agd *d, bool on)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (on) {
		its.it_value.tv_nsec = TICK_NS;
		its.it_interval.tv_nsec = TICK_NS;
	}
	timerfd_settime(d->gfd, 0, &its, NULL);
}

/* Drive every kill in flight one step; true while any remains. */
bool agd_progress(struct agd *d)
{
	struct gone_agents gone = { 0 };
	bool busy = false;
	size_t i;

	agd_kill_step(d, agd_mono_ms());
	for (i = 0; i < d->n;) {
		struct agd_session *t = &d->v[i];

		if (t->state != AGD_LIVE && t->recorded &&
				agd_session_empty(d, t)) {
			finish(d, t, &gone);
			continue;
		}
		busy = busy || t->state != AGD_LIVE;
		i++;
	}
	cleanup_agents(d, &gone);
	arm_tick(d, busy);
	return busy;
}

static bool revoked(struct agd *d, const struct ag_session *s)
{
	/*
	 * Records written before iat was kept have 0: the token was
	 * issued before login, so the start time is a safe upper bound.
	 */
	int64_t iat = s->iat ? s->iat : s->started;

	return ag_revoke_match(&d->rl, s->issuer, s->user, s->jti,
		iat) == 1;
}

static void arm_deadline(struct agd *d, int64_t next)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	its.it_value.tv_sec = (time_t)next;
	if (next == INT64_MAX)
		its.it_value.tv_sec = 0;
	/* CANCEL_ON_SET: a clock step wakes us with ECANCELED. */
	timerfd_settime(d->tfd, TFD_TIMER_ABSTIME |
		TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

/* Compare every live session with the clock and the revocations. */
void agd_evaluate(struct agd *d)
{
	int64_t now = agd_now_ms(), next = INT64_MAX;
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct agd_session *t = &d->v[i];

		if (t->state != AGD_LIVE)
			continue;
		if (revoked(d, &t->s))
			start_kill(d, t, "revoked", now);
		else if (t->s.expires * 1000 <= now)
			start_kill(d, t, "expired", t->s.expires * 1000);
		else if (t->s.expires < next)
			next = t->s.expires;
	}
	arm_deadline(d, next);
	agd_progress(d);
}

/*
 * At start: sessions whose leader and group are gone (a crash of sshd
 * or of the host) are closed as at logout, so that strays found by
 * audit session id still end; the rest are judged like any other.
 * What sessions that ended while nobody watched left behind (a group
 * with no record, an agent's process with no session) is ended too.
 */
void agd_reconcile(struct agd *d)
{
	size_t i;

	for (i = 0; i < d->n;) {
		struct agd_session *t = &d->v[i];

		if (t->state == AGD_LIVE && !agd_session_alive(d, &t->s) &&
				t->s.expires * 1000 > agd_now_ms()) {
			ag_log(LOG_INFO, "event=session_gone session=%s "
				"user=%s", t->s.id, t->s.user);
			ag_session_remove(d->cfg, t->s.id);
			/* Now being ended: skipped next time round. */
			agd_record_gone(d, t->s.id);
			continue;
		}
		i++;
	}
	remove_stale_groups(d);
	sweep_stray_uids(d);
	agd_evaluate(d);
}
