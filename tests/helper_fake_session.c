/*
 * Stand-in for sshd plus the PAM module, for the real-process tests:
 *
 *   helper_fake_session spawn CONFIG ID USER UID ISSUER JTI EXPIRES [SID]
 *	A leader placed with ag_cgroup_place and recorded with
 *	ag_session_write, exactly as the PAM module does, which then
 *	starts, as UID, a double-forked setsid "sleep" and a "sleep" that
 *	ignores SIGTERM, and itself becomes a root "sleep".  Prints the
 *	leader's pid.  SID, when given, is recorded as the audit
 *	session id.
 *
 *	Registers USER -> UID first, as the PAM module's auth does.
 *
 *   helper_fake_session register CONFIG USER UID
 *	Only that registration: an agent's uid with no session.
 *
 *   helper_fake_session record CONFIG ID USER UID ISSUER JTI EXPIRES PID
 *	A record naming PID as leader with a start time that is not
 *	PID's: the pid-reuse case.  No cgroup.
 *
 *   helper_fake_session place-race N
 *	N placements of one idle child into fresh groups, each raced by
 *	a process that removes the group once, as a stale-group sweep
 *	of agentgated would, between its mkdir and the pid's move.
 *	Prints "placed=N failed=F raced=W"; exits 1 if any failed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "session.h"
#include "userdb.h"

static void fill(struct ag_session *s, char **argv)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", argv[3]);
	snprintf(s->user, sizeof(s->user), "%s", argv[4]);
	s->uid = (uint32_t)strtoul(argv[5], NULL, 10);
	snprintf(s->issuer, sizeof(s->issuer), "%s", argv[6]);
	snprintf(s->jti, sizeof(s->jti), "%s", argv[7]);
	s->expires = strtoll(argv[8], NULL, 10);
	s->started = time(NULL);
	snprintf(s->rhost, sizeof(s->rhost), "127.0.0.1");
	s->audit_sid = UINT32_MAX;
}

static void exec_sleep_as(uid_t uid)
{
	if (uid && (setgroups(0, NULL) < 0 ||
			setresgid(uid, uid, uid) < 0 ||
			setresuid(uid, uid, uid) < 0))
		_exit(127);
	execlp("sleep", "sleep", "1000", (char *)NULL);
	_exit(127);
}

/* Escapes the session's process tree: setsid and a double fork. */
static void spawn_escapee(uid_t uid)
{
	pid_t pid = fork();

	if (pid == 0) {
		setsid();
		if (fork() == 0)
			exec_sleep_as(uid);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void spawn_stubborn(uid_t uid)
{
	if (fork() == 0) {
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		exec_sleep_as(uid);
	}
}

static int leader(const struct ag_config *cfg, struct ag_session *s)
{
	int r;

	s->leader = getpid();
	r = ag_proc_starttime(s->leader, &s->leader_start);
	if (r == 0)
		r = ag_cgroup_place(s->id, s->leader, s->cgroup,
			sizeof(s->cgroup));
	if (r == 0)
		r = ag_session_write(cfg, s);
	if (r < 0) {
		fprintf(stderr, "fake_session: %s\n", strerror(-r));
		return 1;
	}
	/* Report, then let go of the caller's pipe: children must not
	 * keep a shell's $(...) waiting. */
	printf("%d\n", (int)s->leader);
	fflush(stdout);
	r = open("/dev/null", O_RDWR | O_CLOEXEC);
	dup2(r, 1);
	dup2(r, 2);
	spawn_escapee(s->uid);
	spawn_stubborn(s->uid);
	execlp("sleep", "sleep", "1000", (char *)NULL);
	return 127;
}

static int spawn(const struct ag_config *cfg, struct ag_session *s)
{
	int st;
	pid_t pid;

	/* The leader is reparented to the test's init, as under sshd
	 * it would stay a child of the privileged monitor. */
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(fork() == 0 ? leader(cfg, s) : 0);
	waitpid(pid, &st, 0);
	return 0;
}

/*
 * The racer and the placer share this.  The placer publishes the
 * group it is about to place into (idx) and waits for the racer to be
 * spinning on it (armed); the racer reports (done) once the group was
 * removed by it, or was found holding the pid (EBUSY), so that each
 * group is removed at most once and only before the pid's move.
 */
struct race {
	volatile int idx, armed, done, stop;
	volatile int won;
};

static void race_group(char *buf, size_t len, const char *mount, int i)
{
	snprintf(buf, len, "%s" AG_CGROUP_PARENT "/a9ace000%08x%016x",
		mount, (unsigned)getppid(), (unsigned)i);
}

static void race_id(char *buf, size_t len, int i)
{
	snprintf(buf, len, "a9ace000%08x%016x", (unsigned)getpid(),
		(unsigned)i);
}

static void racer(struct race *rc, const char *mount)
{
	char dir[4200];
	int seen = -1, i;

	while (!rc->stop) {
		i = rc->idx;
		if (i == seen)
			continue;
		race_group(dir, sizeof(dir), mount, i);
		rc->armed = i;
		while (!rc->stop && rc->idx == i) {
			if (rmdir(dir) == 0) {
				rc->won++;
				break;
			}
			if (errno == EBUSY)
				break;
		}
		rc->done = i;
		seen = i;
	}
	_exit(0);
}

static int place_one(struct race *rc, int i, pid_t victim)
{
	char id[64], path[128];
	int r;

	rc->idx = i;
	while (rc->armed != i)
		;
	race_id(id, sizeof(id), i);
	r = ag_cgroup_place(id, victim, path, sizeof(path));
	if (r < 0)
		fprintf(stderr, "place %d: %s\n", i, strerror(-r));
	while (r == 0 && rc->done != i)
		;
	return r;
}

/* Back where we are, so that every group made can be removed. */
static void race_end(const char *mount, pid_t victim, int n)
{
	char cur[512], file[4700], dir[4200];
	FILE *f;
	int i;

	if (ag_proc_cgroup(getpid(), cur, sizeof(cur)) == 0 &&
			snprintf(file, sizeof(file), "%s%s/cgroup.procs",
				mount, strcmp(cur, "/") ? cur : "") <
			(int)sizeof(file) && (f = fopen(file, "we"))) {
		fprintf(f, "%d\n", (int)victim);
		fclose(f);
	}
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	for (i = 0; i < n; i++) {
		char id[64];

		race_id(id, sizeof(id), i);
		snprintf(dir, sizeof(dir), "%s" AG_CGROUP_PARENT "/%s",
			mount, id);
		rmdir(dir);
	}
}

static int place_race(int n)
{
	char mount[4096];
	struct race *rc;
	pid_t victim, rpid;
	int i, failed = 0;

	if (ag_cgroup_mount(mount, sizeof(mount)) < 0)
		return 77;
	rc = mmap(NULL, sizeof(*rc), PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rc == MAP_FAILED)
		return 2;
	memset(rc, 0, sizeof(*rc));
	rc->idx = rc->armed = rc->done = -1;
	victim = fork();
	if (victim == 0) {
		pause();
		_exit(0);
	}
	rpid = fork();
	if (rpid == 0)
		racer(rc, mount);

	for (i = 0; i < n; i++)
		failed += place_one(rc, i, victim) < 0;
	rc->stop = 1;
	waitpid(rpid, NULL, 0);
	race_end(mount, victim, n);
	printf("placed=%d failed=%d raced=%d\n", n, failed, rc->won);
	return failed ? 1 : 0;
}

static int do_register(const char *conf, const char *user,
	const char *uid)
{
	struct ag_config *cfg;
	char err[512];
	int r;

	if (ag_config_load(conf, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fake_session: %s\n", err);
		return 2;
	}
	r = ag_userdb_register(cfg->state_dir, user,
		(uint32_t)strtoul(uid, NULL, 10));
	if (r < 0)
		fprintf(stderr, "fake_session: register: %s\n", strerror(-r));
	ag_config_free(cfg);
	return r < 0;
}

int main(int argc, char **argv)
{
	struct ag_config *cfg;
	struct ag_session s;
	char err[512];
	int r;

	if (argc == 3 && strcmp(argv[1], "place-race") == 0)
		return place_race(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "register") == 0)
		return do_register(argv[2], argv[3], argv[4]);
	if (argc < 9) {
		fprintf(stderr, "usage: see the comment at the top\n");
		return 2;
	}
	if (ag_config_load(argv[2], &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "fake_session: %s\n", err);
		return 2;
	}
	fill(&s, argv);
	r = 2;
	if (strcmp(argv[1], "spawn") == 0 && argc <= 10) {
		if (argc == 10)
			s.audit_sid = (uint32_t)strtoul(argv[9], NULL, 10);
		r = ag_userdb_register(cfg->state_dir, s.user, s.uid);
		if (r < 0)
			fprintf(stderr, "fake_session: register: %s\n",
				strerror(-r));
		r = r < 0 ? 2 : spawn(cfg, &s);
	} else if (strcmp(argv[1], "record") == 0 && argc == 10) {
		s.leader = (pid_t)atoi(argv[9]);
		r = ag_proc_starttime(s.leader, &s.leader_start) < 0;
		s.leader_start += 4242;
		if (r == 0)
			r = ag_session_write(cfg, &s) < 0;
	}
	ag_config_free(cfg);
	return r;
}
