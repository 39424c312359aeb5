/*
 * libnss_agentgate called directly, the way glibc calls it: entries,
 * the grammar reject list, the _r buffer contract at 0, needed - 1 and
 * needed bytes (run under ASan), errno, enumeration and initgroups.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "names.h"
#include "nss_agentgate.h"
#include "test_nss_harness.h"
#include "userdb.h"

#define ROOT BUILDDIR "/nss-direct.d"

static void setup(void)
{
	nss_test_setup(ROOT);
}

static uint32_t hash_uid(const char *name)
{
	return ag_uid_hash(name, T_UID_MIN, T_UID_MAX);
}

static enum nss_status pwnam(const char *name, struct passwd *pw,
	char *buf, size_t len, int *err)
{
	return _nss_agentgate_getpwnam_r(name, pw, buf, len, err);
}

static enum nss_status grnam(const char *name, struct group *gr,
	char *buf, size_t len, int *err)
{
	return _nss_agentgate_getgrnam_r(name, gr, buf, len, err);
}

static void register_ok(const char *name, uint32_t uid)
{
	ck_assert_int_eq(ag_userdb_register(nss_test_state_dir(), name, uid),
		0);
}

START_TEST(agent_resolves_before_registration_with_full_entry)
{
	char buf[1024];
	struct passwd pw;
	int err = 0;

	ck_assert_int_eq(pwnam("agent-build-42", &pw, buf, sizeof(buf), &err),
		NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "agent-build-42");
	ck_assert_str_eq(pw.pw_passwd, "*");
	ck_assert_uint_eq(pw.pw_uid, 1954188342u);
	ck_assert_uint_eq(pw.pw_gid, pw.pw_uid);
	ck_assert_str_eq(pw.pw_gecos, "agentgate agent (issuer ci)");
	ck_assert_str_eq(pw.pw_dir, "/home/agents/agent-build-42");
	ck_assert_str_eq(pw.pw_shell, "/bin/bash");
}
END_TEST

START_TEST(answer_is_the_same_before_and_after_registration)
{
	char buf[1024];
	struct passwd pw;
	struct group gr;
	uid_t before;
	int err = 0;

	ck_assert_int_eq(pwnam("agent-a", &pw, buf, sizeof(buf), &err),
		NSS_STATUS_SUCCESS);
	before = pw.pw_uid;
	ck_assert_int_eq(_nss_agentgate_getpwuid_r(before, &pw, buf,
		sizeof(buf), &err), NSS_STATUS_NOTFOUND);

	register_ok("agent-a", before);
	ck_assert_int_eq(pwnam("agent-a", &pw, buf, sizeof(buf), &err),
		NSS_STATUS_SUCCESS);
	ck_assert_uint_eq(pw.pw_uid, before);
	ck_assert_int_eq(_nss_agentgate_getpwuid_r(before, &pw, buf,
		sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "agent-a");
	ck_assert_int_eq(_nss_agentgate_getgrgid_r(before, &gr, buf,
		sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(gr.gr_name, "agent-a");
	ck_assert_ptr_null(gr.gr_mem[0]);
}
END_TEST

START_TEST(pinned_name_gets_its_pin)
{
	char buf[1024];
	struct passwd pw;
	int err = 0;

	ck_assert_int_eq(pwnam(T_PINNED, &pw, buf, sizeof(buf), &err),
		NSS_STATUS_SUCCESS);
	ck_assert_uint_eq(pw.pw_uid, T_PINNED_UID);
}
END_TEST

START_TEST(name_whose_uid_is_registered_to_another_is_notfound)
{
	char buf[1024];
	struct passwd pw;
	int err = 0;

	register_ok("agent-b", hash_uid("agent-c"));
	ck_assert_int_eq(pwnam("agent-c", &pw, buf, sizeof(buf), &err),
		NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(pwnam("agent-b", &pw, buf, sizeof(buf), &err),
		NSS_STATUS_SUCCESS);
	ck_assert_uint_eq(pw.pw_uid, hash_uid("agent-c"));
}
END_TEST

START_TEST(uids_outside_ranges_or_unregistered_are_notfound)
{
	const uid_t uids[] = { 0, 1, 1000, 65534, T_UID_MIN - 1,
		T_UID_MAX + 1, (uid_t)-1, T_UID_MIN, T_PINNED_UID };
	char buf[1024];
	struct passwd pw;
	struct group gr;
	int err = 0;

	for (size_t i = 0; i < sizeof(uids) / sizeof(uids[0]); i++) {
		ck_assert_int_eq(_nss_agentgate_getpwuid_r(uids[i], &pw, buf,
			sizeof(buf), &err), NSS_STATUS_NOTFOUND);
		ck_assert_int_eq(_nss_agentgate_getgrgid_r(uids[i], &gr, buf,
			sizeof(buf), &err), NSS_STATUS_NOTFOUND);
	}
}
END_TEST

/* Upper case, spaces, ':', newline, '/', "..", empty suffix, long. */
static const char *const rejects[] = {
	"", "Agent-a", "agent-A", "AGENT-A", " agent-a", "agent-a ",
	"agent-a\t", "agent:a", "agent-a:", "agent-a\n", "agent-a\nroot",
	"agent/a", "agent-a/..", "..", "agent-..", "agent-.", "agent-",
	"agent-a123456789012345678901234567",	/* 33 bytes */
	"agent-\xc3\xa9", "agent-a\xff", "agent-\x01", "-agent-a",
	"root", "nobody", "daemon", "alice", "agen", "agent",
};

START_TEST(grammar_and_namespace_rejects_are_notfound)
{
	const char *name = rejects[_i];
	long start = 1, size = 4;
	gid_t *groups = calloc(4, sizeof(*groups));
	char buf[1024];
	struct passwd pw;
	struct group gr;
	int err = 4242;

	ck_assert_int_eq(pwnam(name, &pw, buf, sizeof(buf), &err),
		NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(grnam(name, &gr, buf, sizeof(buf), &err),
		NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(_nss_agentgate_initgroups_dyn(name, 5, &start,
		&size, &groups, 0, &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(err, 4242);
	ck_assert_int_eq(start, 1);
	free(groups);
}
END_TEST

START_TEST(errno_is_untouched_on_success_and_notfound)
{
	char buf[1024];
	struct passwd pw;

	errno = 4711;
	ck_assert_int_eq(pwnam("agent-a", &pw, buf, sizeof(buf), &errno),
		NSS_STATUS_SUCCESS);
	ck_assert_int_eq(errno, 4711);
	ck_assert_int_eq(pwnam("root", &pw, buf, sizeof(buf), &errno),
		NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(errno, 4711);
	ck_assert_int_eq(_nss_agentgate_getpwuid_r(T_UID_MIN + 5, &pw, buf,
		sizeof(buf), &errno), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(errno, 4711);
}
END_TEST

/* The uid wire format, seen through NSS.  Never change these. */
static const struct {
	const char *name;
	uint32_t uid;
} frozen[] = {
	{ "agent-build-42", 1954188342u },
	{ "agent-a", 2141138673u },
	{ "agent-x", 2141106956u },
	{ "agent-zz-9", 2100295921u },
	{ "agent-_", 2141274603u },
};

START_TEST(uid_stability_table)
{
	char buf[1024];
	struct passwd pw;
	int err = 0;

	ck_assert_int_eq(pwnam(frozen[_i].name, &pw, buf, sizeof(buf), &err),
		NSS_STATUS_SUCCESS);
	ck_assert_uint_eq(pw.pw_uid, frozen[_i].uid);
}
END_TEST

START_TEST(enumeration_lists_live_sessions_once_each)
{
	const gid_t none[1] = { 0 };
	char buf[1024];
	struct passwd pw;
	struct group gr;
	int err = 0;

	register_ok("agent-idle", hash_uid("agent-idle"));
	nss_test_add_session("agent-b", hash_uid("agent-b"), none, 0);
	nss_test_add_session("agent-a", hash_uid("agent-a"), none, 0);
	nss_test_add_session("agent-a", hash_uid("agent-a"), none, 0);

	_nss_agentgate_setpwent(0);
	ck_assert_int_eq(_nss_agentgate_getpwent_r(&pw, buf, sizeof(buf),
		&err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "agent-a");
	ck_assert_int_eq(_nss_agentgate_getpwent_r(&pw, buf, sizeof(buf),
		&err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_name, "agent-b");
	ck_assert_int_eq(_nss_agentgate_getpwent_r(&pw, buf, sizeof(buf),
		&err), NSS_STATUS_NOTFOUND);
	_nss_agentgate_endpwent();

	_nss_agentgate_setgrent(0);
	ck_assert_int_eq(_nss_agentgate_getgrent_r(&gr, buf, sizeof(buf),
		&err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(gr.gr_name, "agent-a");
	ck_assert_uint_eq(gr.gr_gid, hash_uid("agent-a"));
	_nss_agentgate_endgrent();
}
END_TEST

START_TEST(enumeration_without_sessions_is_empty)
{
	char buf[1024];
	struct passwd pw;
	int err = 0;

	register_ok("agent-idle", hash_uid("agent-idle"));
	_nss_agentgate_setpwent(0);
	ck_assert_int_eq(_nss_agentgate_getpwent_r(&pw, buf, sizeof(buf),
		&err), NSS_STATUS_NOTFOUND);
	_nss_agentgate_endpwent();
}
END_TEST

/*
 * The sessions directory is root's (0700): an unprivileged caller
 * sees no sessions, which is an empty list and not an error, while
 * agents still resolve by name.  Runs in a child that drops to nobody.
 */
static int unprivileged_view(void)
{
	long start = 1, size = 1;
	gid_t *v = calloc(1, sizeof(*v));
	char buf[1024];
	struct passwd pw;
	int err = 4242;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
			setuid(65534) < 0)
		return 2;
	if (access(nss_test_config_path(), R_OK) < 0)
		return 0;	/* the build tree is not ours to read */

	_nss_agentgate_setpwent(0);
	if (_nss_agentgate_getpwent_r(&pw, buf, sizeof(buf), &err) !=
			NSS_STATUS_NOTFOUND || err != 4242)
		return 3;
	_nss_agentgate_endpwent();
	if (pwnam("agent-a", &pw, buf, sizeof(buf), &err) !=
			NSS_STATUS_SUCCESS)
		return 4;
	if (_nss_agentgate_initgroups_dyn("agent-a", 1, &start, &size, &v,
			0, &err) != NSS_STATUS_SUCCESS || start != 1)
		return 5;
	free(v);
	return 0;
}

START_TEST(unprivileged_caller_sees_no_sessions_and_no_error)
{
	const gid_t g[1] = { 100 };
	int status;
	pid_t pid;

	nss_test_add_session("agent-a", hash_uid("agent-a"), g, 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(unprivileged_view());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *entries_suite(void)
{
	Suite *s = suite_create("nss entries");
	TCase *tc = tcase_create("lookups");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, agent_resolves_before_registration_with_full_entry);
	tcase_add_test(tc, answer_is_the_same_before_and_after_registration);
	tcase_add_test(tc, pinned_name_gets_its_pin);
	tcase_add_test(tc,
		name_whose_uid_is_registered_to_another_is_notfound);
	tcase_add_test(tc, uids_outside_ranges_or_unregistered_are_notfound);
	tcase_add_loop_test(tc, grammar_and_namespace_rejects_are_notfound,
		0, (int)(sizeof(rejects) / sizeof(rejects[0])));
	tcase_add_test(tc, errno_is_untouched_on_success_and_notfound);
	tcase_add_loop_test(tc, uid_stability_table, 0,
		(int)(sizeof(frozen) / sizeof(frozen[0])));
	tcase_add_test(tc, enumeration_lists_live_sessions_once_each);
	tcase_add_test(tc, enumeration_without_sessions_is_empty);
	tcase_add_test(tc, unprivileged_caller_sees_no_sessions_and_no_error);
	suite_add_tcase(s, tc);
	return s;
}

Suite *buffers_suite(void);
Suite *initgroups_suite(void);
Suite *broken_suite(void);
Suite *roundtrip_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(entries_suite());
	int failed;

	srunner_add_suite(sr, buffers_suite());
	srunner_add_suite(sr, initgroups_suite());
	srunner_add_suite(sr, broken_suite());
	srunner_add_suite(sr, roundtrip_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
