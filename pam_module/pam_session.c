/* session: home, registry record, cgroup, deadline for the session. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "approval.h"
#include "pam_agentgate.h"
#include "session.h"
#include "util.h"

#define SESSION_KEY "agentgate_session"

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	free(data);
}

/*
 * Create HOME_BASE/USER, 0700 and owned by the agent, without ever
 * following a link an agent could have planted: the base must be
 * root's and not writable by others, and we work relative to it.
 */
static int make_home(const struct ag_issuer *is, const char *user,
	uid_t uid)
{
	struct stat st;
	int base, home, r = 0;

	r = ag_mkdir_p(is->home_base, 0755);
	if (r < 0)
		return r;
	base = open(is->home_base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (base < 0)
		return -errno;
	if (fstat(base, &st) < 0 || !ag_stat_trusted(&st)) {
		close(base);
		return -EPERM;
	}

	if (mkdirat(base, user, 0700) < 0 && errno != EEXIST)
		r = -errno;
	home = r ? -1 : openat(base, user, O_RDONLY | O_DIRECTORY |
		O_NOFOLLOW | O_CLOEXEC);
	close(base);
	if (home < 0)
		return r ? r : -errno;

	if (fstat(home, &st) < 0)
		r = -errno;
	else if (st.st_uid == 0 && fchown(home, uid, uid) < 0)
		r = -errno;
	else if (st.st_uid != 0 && st.st_uid != uid)
		r = -EEXIST;	/* somebody else's directory */
	if (r == 0 && fchmod(home, 0700) < 0)
		r = -errno;
	close(home);
	return r;
}

static int read_proc_u32(const char *path, uint32_t *out)
{
	unsigned long v;
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%lu", &v);
	fclose(f);
	if (n != 1 || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/*
 * The audit session id is the agent's only if pam_loginuid made this
 * login the agent's own.  su and sudo keep the caller's: recording
 * that would let the daemon's audit fallback reach the human.
 */
static uint32_t read_audit_sid(uint32_t uid)
{
	uint32_t loginuid, sid;

	if (read_proc_u32("/proc/self/loginuid", &loginuid) < 0 ||
	    loginuid != uid ||
	    read_proc_u32("/proc/self/sessionid", &sid) < 0)
		return UINT32_MAX;
	return sid;
}

static void grant_groups(struct module *m, const struct approval *a,
	struct ag_session *s)
{
	for (size_t i = 0; i < m->issuer->n_groups && i < 32; i++) {
		const struct group *gr;

		if (!(a->groups & (1u << i)) || s->n_groups >= AG_GROUPS_MAX)
			continue;
		gr = pam_modutil_getgrnam(m->pamh, m->issuer->groups[i]);
		if (gr)
			s->groups[s->n_groups++] = gr->gr_gid;
		else
			pam_syslog(m->pamh, LOG_WARNING, "event=session "
				"user=%s group=%s reason=no_such_group",
				a->user, m->issuer->groups[i]);
	}
}

static int fill_session(struct module *m, const struct approval *a,
	struct ag_session *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	r = ag_random_hex(s->id, AG_SESSION_ID_LEN / 2);
	if (r < 0)
		return r;
	snprintf(s->user, sizeof(s->user), "%s", a->user);
	snprintf(s->issuer, sizeof(s->issuer), "%s", a->issuer);
	snprintf(s->jti, sizeof(s->jti), "%s", a->jti);
	snprintf(s->rhost, sizeof(s->rhost), "%s", m->rhost ? m->rhost : "");
	s->uid = a->uid;
	s->expires = a->exp;
	s->started = time(NULL);
	s->iat = a->iat;
	s->leader = getpid();
	r = ag_proc_starttime(s->leader, &s->leader_start);
	if (r < 0)
		return r;
	s->audit_sid = read_audit_sid(a->uid);
	grant_groups(m, a, s);

	/* No cgroup v2 here: the audit id and the uid sweep remain. */
	r = ag_cgroup_place(s->id, s->leader, s->cgroup, sizeof(s->cgroup));
	return r == -ENOENT ? 0 : r;
}

static int export_session(struct module *m, const struct ag_session *s)
{
	char env[96], *secs, *id;
	long long left = (long long)(s->expires - s->started);

	snprintf(env, sizeof(env), "AGENTGATE_SESSION_ID=%s", s->id);
	if (pam_putenv(m->pamh, env) != PAM_SUCCESS)
		return -ENOMEM;
	snprintf(env, sizeof(env), "AGENTGATE_EXPIRES_AT=%lld",
		(long long)s->expires);
	if (pam_putenv(m->pamh, env) != PAM_SUCCESS)
		return -ENOMEM;

	/* pam_systemd (244+) reads this and has logind end the scope. */
	if (asprintf(&secs, "%lld", left > 0 ? left : 1) < 0)
		return -ENOMEM;
	if (pam_set_data(m->pamh, "systemd.runtime_max_sec", secs,
		    free_data) != PAM_SUCCESS) {
		free(secs);
		return -ENOMEM;
	}
	id = strdup(s->id);
	if (!id || pam_set_data(m->pamh, SESSION_KEY, id,
		    free_data) != PAM_SUCCESS) {
		free(id);
		return -ENOMEM;
	}
	return 0;
}

static int deny_session(struct module *m, const struct approval *a,
	const char *reason, int err)
{
	char extra[128];

	snprintf(extra, sizeof(extra), "error=\"%s\"", strerror(-err));
	log_decision(m, "session_open", false, reason, a, err ? extra : NULL);
	return PAM_SESSION_ERR;
}

int module_open_session(struct module *m)
{
	struct ag_session s;
	struct approval a;
	char detail[256], extra[64];
	enum ag_reason reason;
	int r;

	if (approval_load(m, &a) < 0 || strcmp(a.user, m->user) != 0 ||
	    strcmp(a.issuer, m->issuer->name) != 0)
		return deny_session(m, NULL, "no_token", 0);
	approval_drop_pending(m);

	reason = ag_approval_recheck(m->cfg, m->issuer, a.user, a.jti, a.iat,
		a.exp, time(NULL), detail, sizeof(detail));
	if (reason != AG_OK)
		return deny_session(m, &a, ag_reason_str(reason), 0);
	if (m->cfg->require_daemon && ag_daemon_running(m->cfg) != 1)
		return deny_session(m, &a, "daemon_down", 0);

	r = fill_session(m, &a, &s);
	if (r < 0)
		return deny_session(m, &a, "cgroup", r);
	/*
	 * The record first, then the home: agentgated's background
	 * cleanup of this agent's previous session moves the old home
	 * aside and then looks for a record; in this order it either sees
	 * ours and gives the home back, or we make a fresh one.
	 */
	r = ag_session_write(m->cfg, &s);
	if (r < 0)
		return deny_session(m, &a, "registry", r);
	r = make_home(m->issuer, a.user, a.uid);
	if (r < 0) {
		ag_session_remove(m->cfg, s.id);
		return deny_session(m, &a, "home", r);
	}
	r = export_session(m, &s);
	if (r < 0) {
		ag_session_remove(m->cfg, s.id);
		return deny_session(m, &a, "environment", r);
	}

	snprintf(extra, sizeof(extra), "session=%s", s.id);
	log_decision(m, "session_open", true, "ok", &a, extra);
	return PAM_SUCCESS;
}

int module_close_session(struct module *m)
{
	const void *data = NULL;
	const char *id = NULL;
	struct ag_session s;
	struct approval a;
	char path[4200], extra[64];

	/*
	 * Only the id this handle opened: never one from the environment,
	 * which the agent's own ~/.pam_environment can set, or an agent
	 * could drop another of its sessions out of agentgated's sight.
	 * A record left behind is cleaned up when its leader is gone.
	 */
	if (pam_get_data(m->pamh, SESSION_KEY, &data) == PAM_SUCCESS)
		id = data;
	if (!id || strlen(id) != AG_SESSION_ID_LEN ||
	    strspn(id, "0123456789abcdef") != AG_SESSION_ID_LEN)
		return PAM_SUCCESS;	/* nothing of ours was opened */

	if (ag_path(path, sizeof(path), "%s/sessions/%s",
		    m->cfg->runtime_dir, id) < 0 ||
	    ag_session_read(path, &s) < 0 || strcmp(s.user, m->user) != 0)
		return PAM_SUCCESS;
	ag_session_remove(m->cfg, id);

	memset(&a, 0, sizeof(a));
	snprintf(a.jti, sizeof(a.jti), "%s", s.jti);
	a.exp = s.expires;
	snprintf(extra, sizeof(extra), "session=%s", id);
	log_decision(m, "session_close", true, "ok", &a, extra);
	return PAM_SUCCESS;
}
