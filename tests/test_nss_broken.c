/*
 * agentgate broken in every way we can think of: truncated, corrupt,
 * untrusted users.db; untrusted, unparsable, missing config.  Agents
 * are refused (UNAVAIL or NOTFOUND), nothing crashes, and names that
 * are not agents' get NOTFOUND every time.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "nss_agentgate.h"
#include "test_nss_harness.h"
#include "userdb.h"
#include "util.h"

#define ROOT BUILDDIR "/nss-direct.d"

static char *good_db;
static size_t good_len;

static uint32_t hash_uid(const char *name)
{
	return ag_uid_hash(name, T_UID_MIN, T_UID_MAX);
}

static void setup(void)
{
	const char *names[] = { "agent-a", "agent-b", "agent-c" };
	uint32_t uids[3];

	nss_test_setup(ROOT);
	for (int i = 0; i < 3; i++)
		uids[i] = hash_uid(names[i]);
	ck_assert_int_eq(ag_userdb_register_many(nss_test_state_dir(), names,
		uids, 3), 0);
	ck_assert_int_eq(ag_read_file(nss_test_userdb_path(), 1 << 20,
		&good_db, &good_len, NULL), 0);
}

static void teardown(void)
{
	free(good_db);
}

static void write_db(const void *data, size_t len, mode_t mode)
{
	ck_assert_int_eq(ag_write_file_atomic(nss_test_userdb_path(), data,
		len, mode), 0);
}

static enum nss_status lookup(const char *name, int *err)
{
	char buf[1024];
	struct passwd pw;

	return _nss_agentgate_getpwnam_r(name, &pw, buf, sizeof(buf), err);
}

static enum nss_status lookup_uid(uid_t uid, int *err)
{
	char buf[1024];
	struct passwd pw;

	return _nss_agentgate_getpwuid_r(uid, &pw, buf, sizeof(buf), err);
}

/* Whatever is wrong, non-agents see NOTFOUND and errno is kept. */
static void assert_others_unaffected(void)
{
	const char *others[] = { "root", "alice", "nobody", "_apt" };
	int err = 4242;

	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(lookup(others[i], &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(lookup_uid(0, &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(lookup_uid(1000, &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(err, 4242);
}

static void assert_agent_unavail(int want_err)
{
	int err = 0;

	ck_assert_int_eq(lookup("agent-a", &err), NSS_STATUS_UNAVAIL);
	ck_assert_int_eq(err, want_err);
	assert_others_unaffected();
}

START_TEST(truncated_db_at_every_length_is_refused)
{
	for (size_t len = 0; len < good_len; len++) {
		int err = 0;

		write_db(good_db, len, 0644);
		ck_assert_int_eq(lookup("agent-a", &err), NSS_STATUS_UNAVAIL);
		ck_assert_int_eq(err, EBADMSG);
		ck_assert_int_eq(lookup_uid(hash_uid("agent-b"), &err),
			NSS_STATUS_UNAVAIL);
	}
	assert_others_unaffected();
}
END_TEST

/* Any single corrupted byte: no crash, and never a wrong answer. */
START_TEST(every_flipped_byte_is_survived)
{
	char *bad = malloc(good_len);

	for (size_t off = 0; off < good_len; off++) {
		char buf[1024];
		struct passwd pw;
		int err = 0;

		memcpy(bad, good_db, good_len);
		bad[off] ^= (char)0xff;
		write_db(bad, good_len, 0644);
		if (_nss_agentgate_getpwnam_r("agent-b", &pw, buf,
				sizeof(buf), &err) == NSS_STATUS_SUCCESS)
			ck_assert_uint_eq(pw.pw_uid, hash_uid("agent-b"));
		if (_nss_agentgate_getpwuid_r(hash_uid("agent-c"), &pw, buf,
				sizeof(buf), &err) == NSS_STATUS_SUCCESS)
			ck_assert_str_eq(pw.pw_name, "agent-c");
		assert_others_unaffected();
	}
	free(bad);
}
END_TEST

START_TEST(garbage_db_is_refused)
{
	char junk[4096];

	memset(junk, 'A', sizeof(junk));
	write_db(junk, sizeof(junk), 0644);
	assert_agent_unavail(EBADMSG);
}
END_TEST

static const mode_t bad_modes[] = { 0664, 0646, 0666, 0622 };

START_TEST(group_or_other_writable_db_is_ignored)
{
	ck_assert_int_eq(chmod(nss_test_userdb_path(), bad_modes[_i]), 0);
	assert_agent_unavail(EPERM);
}
END_TEST

START_TEST(db_not_owned_by_root_is_ignored)
{
	ck_assert_int_eq(chown(nss_test_userdb_path(), 1000, 0), 0);
	assert_agent_unavail(EPERM);
}
END_TEST

START_TEST(db_symlink_is_ignored)
{
	char moved[4200];

	snprintf(moved, sizeof(moved), "%s.real", nss_test_userdb_path());
	ck_assert_int_eq(rename(nss_test_userdb_path(), moved), 0);
	ck_assert_int_eq(symlink(moved, nss_test_userdb_path()), 0);
	assert_agent_unavail(EPERM);
}
END_TEST

/* A trust change without a content change must still be noticed. */
START_TEST(chmod_after_first_lookup_is_noticed)
{
	int err = 0;

	ck_assert_int_eq(lookup("agent-a", &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(chmod(nss_test_userdb_path(), 0666), 0);
	assert_agent_unavail(EPERM);
	ck_assert_int_eq(chmod(nss_test_userdb_path(), 0644), 0);
	ck_assert_int_eq(lookup("agent-a", &err), NSS_STATUS_SUCCESS);
}
END_TEST

START_TEST(untrusted_config_refuses_agents_only)
{
	int err = 0;

	ck_assert_int_eq(lookup("agent-a", &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(chmod(nss_test_config_path(), 0666), 0);
	assert_agent_unavail(EPERM);
	ck_assert_int_eq(chmod(nss_test_config_path(), 0644), 0);
	ck_assert_int_eq(chown(nss_test_config_path(), 1000, 1000), 0);
	assert_agent_unavail(EPERM);
}
END_TEST

START_TEST(unparsable_config_refuses_agents_only)
{
	nss_test_write_config("[issuer x]\nprefix = agent-\nbogus key\n");
	assert_agent_unavail(EINVAL);
}
END_TEST

START_TEST(missing_config_means_agentgate_is_off)
{
	int err = 4242;

	ck_assert_int_eq(unlink(nss_test_config_path()), 0);
	ck_assert_int_eq(lookup("agent-a", &err), NSS_STATUS_NOTFOUND);
	ck_assert_int_eq(err, 4242);
	assert_others_unaffected();
}
END_TEST

START_TEST(config_change_is_picked_up)
{
	char buf[1024];
	struct passwd pw;
	int err = 0;

	ck_assert_int_eq(_nss_agentgate_getpwnam_r("agent-q", &pw, buf,
		sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_shell, "/bin/bash");
	nss_test_write_config("[agentgate]\n"
		"state_dir = " ROOT "/state\nruntime_dir = " ROOT "/run\n"
		"[issuer ci]\niss = https://ci.example.test\n"
		"keys = /nonexistent.pem\nprefix = agent-\n"
		"shell = /bin/sh\n");
	ck_assert_int_eq(_nss_agentgate_getpwnam_r("agent-q", &pw, buf,
		sizeof(buf), &err), NSS_STATUS_SUCCESS);
	ck_assert_str_eq(pw.pw_shell, "/bin/sh");
}
END_TEST

Suite *broken_suite(void);

Suite *broken_suite(void)
{
	Suite *s = suite_create("nss broken state");
	TCase *tc = tcase_create("broken");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, truncated_db_at_every_length_is_refused);
	tcase_add_test(tc, every_flipped_byte_is_survived);
	tcase_add_test(tc, garbage_db_is_refused);
	tcase_add_loop_test(tc, group_or_other_writable_db_is_ignored, 0,
		(int)(sizeof(bad_modes) / sizeof(bad_modes[0])));
	tcase_add_test(tc, db_not_owned_by_root_is_ignored);
	tcase_add_test(tc, db_symlink_is_ignored);
	tcase_add_test(tc, chmod_after_first_lookup_is_noticed);
	tcase_add_test(tc, untrusted_config_refuses_agents_only);
	tcase_add_test(tc, unparsable_config_refuses_agents_only);
	tcase_add_test(tc, missing_config_means_agentgate_is_off);
	tcase_add_test(tc, config_change_is_picked_up);
	suite_add_tcase(s, tc);
	return s;
}
