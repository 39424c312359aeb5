/*
 * getpwuid(getpwnam(x)->pw_uid) == x for 10,000 registered names, and
 * the registry's writer-side rules.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "nss_agentgate.h"
#include "test_nss_harness.h"
#include "userdb.h"

#define ROOT BUILDDIR "/nss-direct.d"
#define N_NAMES 10000

static void setup(void)
{
	nss_test_setup(ROOT);
}

static uint32_t hash_uid(const char *name)
{
	return ag_uid_hash(name, T_UID_MIN, T_UID_MAX);
}

START_TEST(roundtrip_for_10000_registered_names)
{
	static char names[N_NAMES][AG_NAME_MAX + 1];
	static const char *ptrs[N_NAMES];
	static uint32_t uids[N_NAMES];
	char buf[1024];
	struct passwd pw;
	int err = 0;

	for (int i = 0; i < N_NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "agent-rt-%05d", i);
		ptrs[i] = names[i];
		uids[i] = hash_uid(names[i]);
	}
	ck_assert_int_eq(ag_userdb_register_many(nss_test_state_dir(), ptrs,
		uids, N_NAMES), 0);

	for (int i = 0; i < N_NAMES; i++) {
		ck_assert_int_eq(_nss_agentgate_getpwnam_r(names[i], &pw, buf,
			sizeof(buf), &err), NSS_STATUS_SUCCESS);
		ck_assert_uint_eq(pw.pw_uid, uids[i]);
		ck_assert_int_eq(_nss_agentgate_getpwuid_r(pw.pw_uid, &pw, buf,
			sizeof(buf), &err), NSS_STATUS_SUCCESS);
		ck_assert_str_eq(pw.pw_name, names[i]);
	}
}
END_TEST

START_TEST(register_is_idempotent_and_refuses_conflicts)
{
	const char *dir = nss_test_state_dir();

	ck_assert_int_eq(ag_userdb_register(dir, "agent-a", T_UID_MIN + 1), 0);
	ck_assert_int_eq(ag_userdb_register(dir, "agent-a", T_UID_MIN + 1), 0);
	ck_assert_int_eq(ag_userdb_register(dir, "agent-a", T_UID_MIN + 2),
		-EEXIST);
	ck_assert_int_eq(ag_userdb_register(dir, "agent-b", T_UID_MIN + 1),
		-EEXIST);
	ck_assert_int_eq(ag_userdb_register(dir, "Agent-b", T_UID_MIN + 3),
		-EINVAL);
	ck_assert_int_eq(ag_userdb_register(dir, "agent-b", 0), -EINVAL);
}
END_TEST

/* nobody/nogroup are 65534 on Debian; root's group is 0. */
START_TEST(register_refuses_uids_of_other_sources)
{
	const char *dir = nss_test_state_dir();

	ck_assert_int_eq(ag_userdb_register(dir, "agent-x", 65534),
		-EADDRINUSE);
}
END_TEST

START_TEST(register_refuses_to_build_on_a_corrupt_db)
{
	const char *dir = nss_test_state_dir();
	FILE *f;

	ck_assert_int_eq(ag_userdb_register(dir, "agent-a", T_UID_MIN + 1), 0);
	f = fopen(nss_test_userdb_path(), "r+");
	ck_assert_ptr_nonnull(f);
	fseek(f, 32, SEEK_SET);
	fputc('A', f);	/* upper case: not a valid name any more */
	fclose(f);
	ck_assert_int_eq(ag_userdb_register(dir, "agent-b", T_UID_MIN + 2),
		-EBADMSG);
}
END_TEST

START_TEST(entries_come_in_name_order)
{
	const char *names[] = { "agent-c", "agent-a", "agent-b" };
	const uint32_t uids[] = { T_UID_MIN + 3, T_UID_MIN + 9,
		T_UID_MIN + 1 };
	struct ag_userdb db = { 0 };
	char name[AG_NAME_MAX + 1];
	uint32_t uid;

	ck_assert_int_eq(ag_userdb_register_many(nss_test_state_dir(), names,
		uids, 3), 0);
	ck_assert_int_eq(ag_userdb_refresh(&db, nss_test_state_dir()), 0);
	ck_assert_uint_eq(db.count, 3);
	ck_assert_int_eq(ag_userdb_entry(&db, 0, name, sizeof(name), &uid), 0);
	ck_assert_str_eq(name, "agent-a");
	ck_assert_uint_eq(uid, T_UID_MIN + 9);
	ck_assert_int_eq(ag_userdb_entry(&db, 2, name, sizeof(name), &uid), 0);
	ck_assert_str_eq(name, "agent-c");
	ck_assert_int_eq(ag_userdb_entry(&db, 3, name, sizeof(name), &uid),
		-ENOENT);
	ag_userdb_close(&db);
}
END_TEST

Suite *roundtrip_suite(void);

Suite *roundtrip_suite(void)
{
	Suite *s = suite_create("nss registry");
	TCase *tc = tcase_create("registry");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, roundtrip_for_10000_registered_names);
	tcase_add_test(tc, register_is_idempotent_and_refuses_conflicts);
	tcase_add_test(tc, register_refuses_uids_of_other_sources);
	tcase_add_test(tc, register_refuses_to_build_on_a_corrupt_db);
	tcase_add_test(tc, entries_come_in_name_order);
	suite_add_tcase(s, tc);
	return s;
}
