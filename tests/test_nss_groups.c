/*
 * initgroups_dyn: the gids of the caller's own session only, found by
 * its cgroup v2 path or, failing that, by a unique audit session id;
 * the glibc contract kept (*start, *size, LIMIT, realloc of
 * *groupsp), the primary gid, gid 0 and repeats skipped.
 *
 * Every call runs in a forked child that first moves itself into a
 * group of a test subtree below the cgroup2 mount, created for this
 * suite and removed after it.  Without a writable cgroup2 the suite
 * says so and checks nothing.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "names.h"
#include "nss_agentgate.h"
#include "test_nss_harness.h"
#include "util.h"

#define ROOT BUILDDIR "/nss-direct.d"

#define NOT_PLACED 99	/* the child could not enter its group */
#define NO_AUDIT 77	/* the child could not get an audit session */

static const char *const groups[] = { "a", "b", "h", "none" };

static char mount_dir[PATH_MAX];
static char tree[128];		/* below the mount: "/agentgate-test-PID" */
static bool have_cgroups;

static uint32_t hash_uid(const char *name)
{
	return ag_uid_hash(name, T_UID_MIN, T_UID_MAX);
}

/* The path of test group NAME below the cgroup2 mount. */
static const char *cg(const char *name)
{
	static char path[sizeof(tree) + 16];

	snprintf(path, sizeof(path), "%s/%s", tree, name);
	return path;
}

static int cg_mkdir(const char *below)
{
	char dir[PATH_MAX + 200];

	snprintf(dir, sizeof(dir), "%s%s", mount_dir, below);
	return mkdir(dir, 0755) < 0 ? -errno : 0;
}

static void cg_rmdir(const char *below)
{
	char dir[PATH_MAX + 200];

	snprintf(dir, sizeof(dir), "%s%s", mount_dir, below);
	for (int i = 0; i < 50 && rmdir(dir) < 0 && errno == EBUSY; i++)
		usleep(20000);	/* a reaped child may linger a moment */
}

/* Runs once, in the runner: the subtree outlives the forked tests. */
static void tree_setup(void)
{
	snprintf(tree, sizeof(tree), "/agentgate-test-%d", (int)getpid());
	have_cgroups = geteuid() == 0 &&
		ag_cgroup_mount(mount_dir, sizeof(mount_dir)) == 0 &&
		cg_mkdir(tree) == 0;
	for (size_t i = 0; have_cgroups && i < AG_ARRAY_SIZE(groups); i++)
		have_cgroups = cg_mkdir(cg(groups[i])) == 0;
	if (!have_cgroups)
		fprintf(stderr, "no writable cgroup2: initgroups by "
			"session not tested\n");
}

static void tree_teardown(void)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(groups); i++)
		cg_rmdir(cg(groups[i]));
	cg_rmdir(tree);
}

static void setup(void)
{
	const gid_t ga[] = { 100, 0, 27, 100 };
	const gid_t gb[] = { 27, 44, 5000 };
	const gid_t gh[] = { 9999 };
	uint32_t g = hash_uid("agent-g");

	nss_test_setup(ROOT);
	nss_test_add_session_in("agent-g", g, cg("a"), (uint32_t)-1, ga, 4);
	nss_test_add_session_in("agent-g", g, cg("b"), (uint32_t)-1, gb, 3);
	nss_test_add_session_in("agent-h", hash_uid("agent-h"), cg("h"),
		(uint32_t)-1, gh, 1);
}

/* One initgroups_dyn call, its arguments and what came back. */
struct call {
	const char *user;
	gid_t primary;
	long start, size, limit;
	gid_t in[4];		/* the first START gids */
	unsigned audit_records;	/* agent-g records to give our audit sid */
	int status;
	gid_t out[64];
};

static int enter(const char *group)
{
	char procs[PATH_MAX + 200];
	int fd, ok;

	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", mount_dir,
		cg(group));
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ok = write(fd, "0", 1) == 1;
	close(fd);
	return ok ? 0 : -EIO;
}

/* A fresh audit session (as pam_loginuid makes), and records for it. */
static int audit_session(unsigned n)
{
	const gid_t gids[] = { 321 };
	char buf[16] = "";
	unsigned long sid;
	int fd;

	fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		return -EPERM;
	close(fd);
	fd = open("/proc/self/sessionid", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return -EPERM;
	close(fd);
	sid = strtoul(buf, NULL, 10);
	if (sid >= UINT32_MAX)
		return -EPERM;
	for (unsigned i = 0; i < n; i++)
		nss_test_add_session_in("agent-g", hash_uid("agent-g"), "",
			(uint32_t)sid, gids, 1);
	return 0;
}

static void child(const char *group, struct call *c, int fd)
{
	gid_t *v = calloc((size_t)c->size, sizeof(*v));
	int err = 0;

	memcpy(v, c->in, (size_t)c->start * sizeof(*v));
	if (enter(group) < 0)
		c->status = NOT_PLACED;
	else if (c->audit_records && audit_session(c->audit_records) < 0)
		c->status = NO_AUDIT;
	else
		c->status = _nss_agentgate_initgroups_dyn(c->user,
			c->primary, &c->start, &c->size, &v, c->limit, &err);
	for (long i = 0; i < c->start && i < 64; i++)
		c->out[i] = v[i];
	free(v);
	if (write(fd, c, sizeof(*c)) != (ssize_t)sizeof(*c))
		_exit(1);
	_exit(0);
}

/* Makes call C from a child placed in test group GROUP. */
static void call_in(const char *group, struct call *c)
{
	int p[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		child(group, c, p[1]);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], c, sizeof(*c)), (ssize_t)sizeof(*c));
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_ne(c->status, NOT_PLACED);
}

static bool has(const struct call *c, gid_t g)
{
	for (long i = 0; i < c->start; i++) {
		if (c->out[i] == g)
			return true;
	}
	return false;
}

/* agent-g, primary gid already counted, room for one. */
static struct call plain_call(void)
{
	struct call c = { "agent-g", 0, 1, 1, 0, { 0 }, 0, 0, { 0 } };

	c.primary = c.in[0] = hash_uid("agent-g");
	return c;
}

#define NEED_CGROUPS() do { if (!have_cgroups) return; } while (0)

START_TEST(session_gets_its_own_groups_once_without_root)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	call_in("a", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 3);	/* primary, 100, 27 */
	ck_assert(has(&c, 100) && has(&c, 27) && !has(&c, 0));
	ck_assert(!has(&c, 44) && !has(&c, 5000) && !has(&c, 9999));
}
END_TEST

START_TEST(second_session_does_not_get_the_first_ones_groups)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	call_in("b", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 4);	/* primary, 27, 44, 5000 */
	ck_assert(has(&c, 27) && has(&c, 44) && has(&c, 5000));
	ck_assert(!has(&c, 100));
}
END_TEST

START_TEST(session_without_groups_gets_none_while_another_has_some)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	nss_test_add_session_in("agent-g", hash_uid("agent-g"), cg("none"),
		(uint32_t)-1, NULL, 0);
	call_in("none", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 1);
}
END_TEST

START_TEST(caller_in_no_session_cgroup_gets_none)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	call_in("none", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 1);
	ck_assert_int_eq(c.size, 1);
}
END_TEST

START_TEST(another_agents_session_grants_nothing)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	call_in("h", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 1);
}
END_TEST

START_TEST(two_records_naming_one_cgroup_grant_nothing)
{
	const gid_t g[] = { 31337 };
	struct call c = plain_call();

	NEED_CGROUPS();
	nss_test_add_session_in("agent-g", hash_uid("agent-g"), cg("a"),
		(uint32_t)-1, g, 1);
	call_in("a", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 1);
}
END_TEST

START_TEST(limit_caps_the_array_and_is_not_an_error)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	c.size = 2;
	c.limit = 3;
	call_in("b", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 3);
	ck_assert_int_eq(c.size, 3);
}
END_TEST

START_TEST(groups_already_present_are_not_repeated)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	c.start = c.size = 2;
	c.primary = c.in[0] = 7;
	c.in[1] = 44;
	call_in("b", &c);
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 4);	/* 7, 44, 27, 5000 */
	ck_assert(has(&c, 27) && has(&c, 5000));
}
END_TEST

START_TEST(unique_audit_session_decides_outside_session_cgroups)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	c.audit_records = 1;
	call_in("none", &c);
	if (c.status == NO_AUDIT)
		return;		/* no audit support here */
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 2);
	ck_assert(has(&c, 321));
}
END_TEST

START_TEST(shared_audit_session_grants_nothing)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	c.audit_records = 2;
	call_in("none", &c);
	if (c.status == NO_AUDIT)
		return;
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 1);
}
END_TEST

START_TEST(audit_session_does_not_override_a_session_cgroup)
{
	struct call c = plain_call();

	NEED_CGROUPS();
	c.audit_records = 1;
	call_in("h", &c);
	if (c.status == NO_AUDIT)
		return;
	ck_assert_int_eq(c.status, NSS_STATUS_SUCCESS);
	ck_assert_int_eq(c.start, 1);
}
END_TEST

/* Runs in the test's own process, in none of the test groups. */
START_TEST(agent_without_sessions_gets_nothing_added)
{
	long start = 1, size = 1;
	gid_t *v = calloc(1, sizeof(*v));
	int err = 0;

	ck_assert_int_eq(_nss_agentgate_initgroups_dyn("agent-none", 1,
		&start, &size, &v, 0, &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 1);
	ck_assert_int_eq(size, 1);
	ck_assert_int_eq(_nss_agentgate_initgroups_dyn("agent-g", 1,
		&start, &size, &v, 0, &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 1);
	free(v);
}
END_TEST

Suite *initgroups_suite(void);

Suite *initgroups_suite(void)
{
	Suite *s = suite_create("nss initgroups");
	TCase *tc = tcase_create("initgroups_dyn");

	tcase_add_unchecked_fixture(tc, tree_setup, tree_teardown);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, session_gets_its_own_groups_once_without_root);
	tcase_add_test(tc,
		second_session_does_not_get_the_first_ones_groups);
	tcase_add_test(tc,
		session_without_groups_gets_none_while_another_has_some);
	tcase_add_test(tc, caller_in_no_session_cgroup_gets_none);
	tcase_add_test(tc, another_agents_session_grants_nothing);
	tcase_add_test(tc, two_records_naming_one_cgroup_grant_nothing);
	tcase_add_test(tc, limit_caps_the_array_and_is_not_an_error);
	tcase_add_test(tc, groups_already_present_are_not_repeated);
	tcase_add_test(tc,
		unique_audit_session_decides_outside_session_cgroups);
	tcase_add_test(tc, shared_audit_session_grants_nothing);
	tcase_add_test(tc, audit_session_does_not_override_a_session_cgroup);
	tcase_add_test(tc, agent_without_sessions_gets_nothing_added);
	suite_add_tcase(s, tc);
	return s;
}
