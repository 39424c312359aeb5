/*
 * libnss_agentgate.so.2: passwd and group entries for agents.
 *
 * Every entry point takes the state lock, lets a worker return 0 or a
 * negative errno, drops the lock and converts the result exactly once
 * in nss_status_of().  errno is saved on entry and restored before
 * returning, so callers see it change only on an error we report.
 *
 * The password field is "*": no crypt hash matches it, so no password
 * other than a token checked by pam_agentgate can ever log in, and,
 * unlike "x", it tells pam_unix and friends that there is no shadow
 * entry to look for.  Shadow lookups for agents therefore never happen
 * on the PAM path, and ones that do happen (getspnam) find nothing,
 * which reads as "no password", the truth.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "nss_agentgate.h"
#include "nss_state.h"
#include "util.h"

#define NO_PASSWORD "*"

/*
 * The one place an internal result becomes an NSS status.  ERANGE
 * must be TRYAGAIN with *errnop = ERANGE: glibc then retries with a
 * larger buffer, whereas NOTFOUND would tell the caller the user does
 * not exist.  Shortages of memory or descriptors are temporary too.
 * NOTFOUND leaves *errnop alone.  Anything else means agentgate's
 * state is broken for a name that is an agent's: UNAVAIL.
 */
static enum nss_status nss_status_of(int r, int *errnop)
{
	switch (r) {
	case 0:
		return NSS_STATUS_SUCCESS;
	case -ENOENT:
		return NSS_STATUS_NOTFOUND;
	case -ERANGE:
	case -ENOMEM:
	case -EMFILE:
	case -ENFILE:
	case -EAGAIN:
		*errnop = -r;
		return NSS_STATUS_TRYAGAIN;
	default:
		*errnop = r < 0 ? -r : EIO;
		return NSS_STATUS_UNAVAIL;
	}
}

static enum nss_status finish(int r, int saved_errno, int *errnop)
{
	errno = saved_errno;
	return nss_status_of(r, errnop);
}

/* Hands out pieces of the caller's buffer; never writes past it. */
struct pack {
	char *p;
	size_t left;
	bool short_of_space;
};

static char *pack_bytes(struct pack *b, const char *s, size_t n)
{
	char *out = b->p;

	if (b->short_of_space || n > b->left) {
		b->short_of_space = true;
		return NULL;
	}
	memcpy(out, s, n);
	b->p += n;
	b->left -= n;
	return out;
}

static char *pack_str(struct pack *b, const char *s)
{
	return pack_bytes(b, s, strlen(s) + 1);
}

/* "BASE/NAME" without doubling a trailing slash of BASE. */
static char *pack_home(struct pack *b, const char *base, const char *name)
{
	size_t n = strlen(base);
	char *out;

	while (n > 1 && base[n - 1] == '/')
		n--;
	out = pack_bytes(b, base, n);
	if (out && !(n == 1 && base[0] == '/'))
		pack_bytes(b, "/", 1);
	pack_str(b, name);
	return b->short_of_space ? NULL : out;
}

static char **pack_empty_list(struct pack *b)
{
	size_t pad = (uintptr_t)b->p % sizeof(char *);
	char *none = NULL;

	if (pad)
		pad = sizeof(char *) - pad;
	if (!b->short_of_space && pad > b->left)
		b->short_of_space = true;
	if (b->short_of_space)
		return NULL;
	b->p += pad;
	b->left -= pad;
	return (char **)(void *)pack_bytes(b, (const char *)&none,
		sizeof(none));
}

/* No field of a passwd or group line may contain ':' or '\n'. */
static bool field_ok(const char *s)
{
	return s && !strpbrk(s, ":\n");
}

static int fill_passwd(const struct nss_agent *a, struct passwd *pw,
	char *buf, size_t buflen)
{
	const struct ag_issuer *is = a->issuer;
	struct pack b = { buf, buflen, false };
	char gecos[128];
	struct passwd p;

	if (ag_path(gecos, sizeof(gecos), "agentgate agent (issuer %s)",
			is->name) < 0 || !field_ok(gecos) ||
		!field_ok(is->home_base) || !field_ok(is->shell))
		return -EBADMSG;

	p.pw_name = pack_str(&b, a->name);
	p.pw_passwd = pack_str(&b, NO_PASSWORD);
	p.pw_gecos = pack_str(&b, gecos);
	p.pw_dir = pack_home(&b, is->home_base, a->name);
	p.pw_shell = pack_str(&b, is->shell);
	if (b.short_of_space)
		return -ERANGE;

	p.pw_uid = a->uid;
	p.pw_gid = a->uid;
	*pw = p;
	return 0;
}

/* The agent's user-private group: same name, gid = uid, no members. */
static int fill_group(const struct nss_agent *a, struct group *gr,
	char *buf, size_t buflen)
{
	struct pack b = { buf, buflen, false };
	struct group g;

	g.gr_mem = pack_empty_list(&b);
	g.gr_name = pack_str(&b, a->name);
	g.gr_passwd = pack_str(&b, NO_PASSWORD);
	if (b.short_of_space)
		return -ERANGE;

	g.gr_gid = a->uid;
	*gr = g;
	return 0;
}

static int pw_by_name(const char *name, struct passwd *pw, char *buf,
	size_t buflen)
{
	struct nss_agent a;
	int r = nss_agent_by_name(name, &a);

	return r < 0 ? r : fill_passwd(&a, pw, buf, buflen);
}

static int pw_by_uid(uid_t uid, struct passwd *pw, char *buf,
	size_t buflen)
{
	struct nss_agent a;
	int r = nss_agent_by_uid(uid, &a);

	return r < 0 ? r : fill_passwd(&a, pw, buf, buflen);
}

static int gr_by_name(const char *name, struct group *gr, char *buf,
	size_t buflen)
{
	struct nss_agent a;
	int r = nss_agent_by_name(name, &a);

	return r < 0 ? r : fill_group(&a, gr, buf, buflen);
}

static int gr_by_gid(gid_t gid, struct group *gr, char *buf,
	size_t buflen)
{
	struct nss_agent a;
	int r = nss_agent_by_uid(gid, &a);

	return r < 0 ? r : fill_group(&a, gr, buf, buflen);
}

enum nss_status _nss_agentgate_getpwnam_r(const char *name,
	struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;

	if (!ag_name_valid(name))
		return NSS_STATUS_NOTFOUND;	/* cheap, and touches nothing */
	nss_state_lock();
	r = pw_by_name(name, pw, buf, buflen);
	nss_state_unlock();
	return finish(r, saved, errnop);
}

enum nss_status _nss_agentgate_getpwuid_r(uid_t uid, struct passwd *pw,
	char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;

	nss_state_lock();
	r = pw_by_uid(uid, pw, buf, buflen);
	nss_state_unlock();
	return finish(r, saved, errnop);
}

enum nss_status _nss_agentgate_getgrnam_r(const char *name,
	struct group *gr, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;

	if (!ag_name_valid(name))
		return NSS_STATUS_NOTFOUND;
	nss_state_lock();
	r = gr_by_name(name, gr, buf, buflen);
	nss_state_unlock();
	return finish(r, saved, errnop);
}

enum nss_status _nss_agentgate_getgrgid_r(gid_t gid, struct group *gr,
	char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;

	nss_state_lock();
	r = gr_by_gid(gid, gr, buf, buflen);
	nss_state_unlock();
	return finish(r, saved, errnop);
}

/*
 * Enumeration lists agents with a live session, nothing else: the
 * registry holds every agent that ever logged in, which is neither
 * what `getent passwd` users want nor bounded.  The list of names is
 * taken at the first getXXent_r after setXXent and walked from there;
 * each name is resolved afresh when its turn comes.
 *
 * Guarded by the state lock (glibc serialises enumeration itself, but
 * direct callers and nss_wrapper need not).
 */
struct name_list {
	char (*v)[AG_NAME_MAX + 1];
	size_t n, cap, next;
	bool taken;
};

static struct name_list pw_list, gr_list;

static void list_reset(struct name_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int list_add(const struct ag_session *s, void *arg)
{
	struct name_list *l = arg;

	if (!ag_name_valid(s->user))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	strcpy(l->v[l->n++], s->user);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Sorted and without repeats: one entry per agent, not per session. */
static int list_take(struct name_list *l)
{
	size_t w = 0;
	int r;

	list_reset(l);
	l->taken = true;
	r = nss_sessions_foreach(list_add, l);
	if (r < 0 && r != -ENOENT)
		return r;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_name);
	for (size_t i = 0; i < l->n; i++) {
		if (w == 0 || strcmp(l->v[w - 1], l->v[i]) != 0)
			memmove(l->v[w++], l->v[i], sizeof(*l->v));
	}
	l->n = w;
	return 0;
}

typedef int (*fill_fn)(const struct nss_agent *a, void *ent, char *buf,
	size_t buflen);

static int fill_pw_ent(const struct nss_agent *a, void *ent, char *buf,
	size_t buflen)
{
	return fill_passwd(a, ent, buf, buflen);
}

static int fill_gr_ent(const struct nss_agent *a, void *ent, char *buf,
	size_t buflen)
{
	return fill_group(a, ent, buf, buflen);
}

/*
 * Names that no longer resolve are skipped.  On ERANGE the position is
 * kept, so glibc's retry with a larger buffer gets the same entry.
 */
static int list_next(struct name_list *l, fill_fn fill, void *ent,
	char *buf, size_t buflen)
{
	struct nss_agent a;
	int r;

	if (!l->taken) {
		r = list_take(l);
		if (r < 0)
			return r;
	}
	for (; l->next < l->n; l->next++) {
		if (nss_agent_by_name(l->v[l->next], &a) < 0)
			continue;
		r = fill(&a, ent, buf, buflen);
		if (r == -ERANGE)
			return r;
		if (r == 0) {
			l->next++;
			return 0;
		}
	}
	return -ENOENT;
}

static enum nss_status list_restart(struct name_list *l)
{
	int saved = errno;

	nss_state_lock();
	list_reset(l);
	nss_state_unlock();
	errno = saved;
	return NSS_STATUS_SUCCESS;
}

static enum nss_status list_step(struct name_list *l, fill_fn fill,
	void *ent, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, r;

	nss_state_lock();
	r = list_next(l, fill, ent, buf, buflen);
	nss_state_unlock();
	return finish(r, saved, errnop);
}

enum nss_status _nss_agentgate_setpwent(int stayopen)
{
	return list_restart(&pw_list);
}

enum nss_status _nss_agentgate_getpwent_r(struct passwd *pw, char *buf,
	size_t buflen, int *errnop)
{
	return list_step(&pw_list, fill_pw_ent, pw, buf, buflen, errnop);
}

enum nss_status _nss_agentgate_endpwent(void)
{
	return list_restart(&pw_list);
}

enum nss_status _nss_agentgate_setgrent(int stayopen)
{
	return list_restart(&gr_list);
}

enum nss_status _nss_agentgate_getgrent_r(struct group *gr, char *buf,
	size_t buflen, int *errnop)
{
	return list_step(&gr_list, fill_gr_ent, gr, buf, buflen, errnop);
}

enum nss_status _nss_agentgate_endgrent(void)
{
	return list_restart(&gr_list);
}

/*
 * initgroups: the gids granted to the one session the calling process
 * belongs to, on top of what glibc already holds in
 * *groupsp[0..*start).  sshd and su call it as root from a process of
 * the session being set up, so "which session" is a property of the
 * caller, not of the name: granting every live session's gids would
 * hand one token's groups claim to another session of the same agent.
 *
 * The contract: grow the array with realloc when full, never beyond
 * LIMIT when LIMIT > 0, and skip GROUP (the primary gid, already
 * counted).  gid 0 is never handed out, whatever a record says.
 */
#define CGROUP_PATH_MAX sizeof(((struct ag_session *)0)->cgroup)
#define NO_AUDIT_SID UINT32_MAX

/* Where the calling process is: its cgroup v2 path, its audit sid. */
struct caller {
	char cgroup[CGROUP_PATH_MAX];	/* "" when unknown */
	uint32_t audit_sid;		/* NO_AUDIT_SID when none */
};

/* Throws away the rest of a line too long for the buffer. */
static void skip_line(FILE *f)
{
	int c;

	do
		c = getc(f);
	while (c != EOF && c != '\n');
}

/*
 * The "0::PATH" line of /proc/self/cgroup.  A path too long for a
 * record cannot match one, so it is treated like no path at all.
 */
static void caller_cgroup(struct caller *me)
{
	char line[CGROUP_PATH_MAX + 8], *nl;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		nl = strchr(line, '\n');
		if (!nl) {
			skip_line(f);
			continue;
		}
		*nl = '\0';
		if (strncmp(line, "0::", 3) == 0 &&
				strlen(line + 3) < sizeof(me->cgroup)) {
			strcpy(me->cgroup, line + 3);
			break;
		}
	}
	fclose(f);
}

static void caller_audit_sid(struct caller *me)
{
	char buf[16], *end;
	unsigned long v;
	ssize_t n;
	int fd = open("/proc/self/sessionid", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return;
	buf[n] = '\0';
	v = strtoul(buf, &end, 10);
	if ((*end == '\0' || *end == '\n') && v < NO_AUDIT_SID)
		me->audit_sid = (uint32_t)v;
}

/* Unreadable /proc means "in no session": no groups, never others'. */
static void caller_find(struct caller *me)
{
	me->cgroup[0] = '\0';
	me->audit_sid = NO_AUDIT_SID;
	caller_cgroup(me);
	caller_audit_sid(me);
}

/* Matches of one kind, and the gids of the last one seen. */
struct match {
	unsigned n;
	gid_t gids[AG_GROUPS_MAX];
	unsigned n_gids;
};

struct session_pick {
	const struct nss_agent *agent;
	const struct caller *me;
	unsigned in_cgroup;	/* records of anyone naming our cgroup */
	struct match cgroup;	/* ... of which the agent's */
	struct match audit;	/* the agent's with our audit sid */
};

static void match_take(struct match *m, const struct ag_session *s)
{
	m->n++;
	m->n_gids = s->n_groups < AG_GROUPS_MAX ? s->n_groups :
		AG_GROUPS_MAX;
	memcpy(m->gids, s->groups, m->n_gids * sizeof(m->gids[0]));
}

static int pick_visit(const struct ag_session *s, void *arg)
{
	struct session_pick *p = arg;
	bool agents = strcmp(s->user, p->agent->name) == 0 &&
		s->uid == p->agent->uid;
	bool cg = p->me->cgroup[0] &&
		strcmp(s->cgroup, p->me->cgroup) == 0;

	if (cg)
		p->in_cgroup++;
	if (cg && agents)
		match_take(&p->cgroup, s);
	if (agents && p->me->audit_sid != NO_AUDIT_SID &&
			s->audit_sid == p->me->audit_sid)
		match_take(&p->audit, s);
	return 0;
}

/*
 * The caller's session: the one record naming its cgroup.  Only when
 * no record names it (logind moved the process, or there is no cgroup
 * v2) does the audit session id decide, and only when exactly one of
 * the agent's records carries it.  Anything ambiguous grants nothing.
 */
static const struct match *pick_result(const struct session_pick *p)
{
	if (p->in_cgroup > 0)
		return p->in_cgroup == 1 && p->cgroup.n == 1 ?
			&p->cgroup : NULL;
	return p->audit.n == 1 ? &p->audit : NULL;
}

struct gid_acc {
	const struct nss_agent *agent;
	gid_t skip;
	long *start, *size, limit;
	gid_t **groupsp;
};

static bool gid_present(const struct gid_acc *acc, gid_t gid)
{
	for (long i = 0; i < *acc->start; i++) {
		if ((*acc->groupsp)[i] == gid)
			return true;
	}
	return false;
}

static int gid_room(struct gid_acc *acc)
{
	long want;
	gid_t *v;

	if (*acc->start < *acc->size)
		return 0;
	if (acc->limit > 0 && *acc->size >= acc->limit)
		return -ENOSPC;	/* full: stop adding, not an error */

	want = *acc->size > 0 ? 2 * *acc->size : 8;
	if (acc->limit > 0 && want > acc->limit)
		want = acc->limit;
	v = realloc(*acc->groupsp, (size_t)want * sizeof(*v));
	if (!v)
		return -ENOMEM;
	*acc->groupsp = v;
	*acc->size = want;
	return 0;
}

static int gid_add(struct gid_acc *acc, const struct match *m)
{
	int r;

	for (unsigned i = 0; i < m->n_gids; i++) {
		gid_t g = m->gids[i];

		if (g == 0 || g == acc->skip || g == acc->agent->uid ||
			gid_present(acc, g))
			continue;
		r = gid_room(acc);
		if (r == -ENOSPC)
			return 0;
		if (r < 0)
			return r;
		(*acc->groupsp)[(*acc->start)++] = g;
	}
	return 0;
}

static int add_session_groups(const char *user, const struct caller *me,
	struct gid_acc *acc)
{
	struct session_pick pick;
	const struct match *m;
	struct nss_agent a;
	int r = nss_agent_by_name(user, &a);

	if (r < 0)
		return r;

	memset(&pick, 0, sizeof(pick));
	pick.agent = &a;
	pick.me = me;
	r = nss_sessions_foreach(pick_visit, &pick);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;

	m = pick_result(&pick);
	acc->agent = &a;
	return m ? gid_add(acc, m) : 0;
}

enum nss_status _nss_agentgate_initgroups_dyn(const char *user,
	gid_t group, long int *start, long int *size, gid_t **groupsp,
	long int limit, int *errnop)
{
	struct gid_acc acc = { NULL, group, start, size, limit, groupsp };
	struct caller me;
	int saved = errno, r;

	if (!ag_name_valid(user))
		return NSS_STATUS_NOTFOUND;
	caller_find(&me);

	nss_state_lock();
	r = add_session_groups(user, &me, &acc);
	nss_state_unlock();
	return finish(r, saved, errnop);
}
