/*
 * Stand-in for sshd plus the PAM module, for the real-process tests:
 *
 *   helper_fake_session spawn CONFIG ID USER UID ISSUER JTI EXPIRES
 *	A leader placed with ag_cgroup_place and recorded with
 *	ag_session_write, exactly as the PAM module does, which then
 *	starts, as UID, a double-forked setsid "sleep" and a "sleep" that
 *	ignores SIGTERM, and itself becomes a root "sleep".  Prints the
 *	leader's pid.
 *
 *   helper_fake_session record CONFIG ID USER UID ISSUER JTI EXPIRES PID
 *	A record naming PID as leader with a start time that is not
 *	PID's: the pid-reuse case.  No cgroup.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "session.h"

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

int main(int argc, char **argv)
{
	struct ag_config *cfg;
	struct ag_session s;
	char err[512];
	int r;

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
	if (strcmp(argv[1], "spawn") == 0) {
		r = spawn(cfg, &s);
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
