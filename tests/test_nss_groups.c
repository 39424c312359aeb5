/*
 * initgroups_dyn: session gids appended, the glibc contract kept
 * (*start, *size, LIMIT, realloc of *groupsp), the primary gid, gid 0
 * and repeats skipped.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "names.h"
#include "nss_agentgate.h"
#include "test_nss_harness.h"

#define ROOT BUILDDIR "/nss-direct.d"

static uint32_t hash_uid(const char *name)
{
	return ag_uid_hash(name, T_UID_MIN, T_UID_MAX);
}

static void setup(void)
{
	const gid_t g1[] = { 100, 0, 27, 100 };
	const gid_t g2[] = { 27, 44, 5000 };
	const gid_t other[] = { 9999 };

	nss_test_setup(ROOT);
	nss_test_add_session("agent-g", hash_uid("agent-g"), g1, 4);
	nss_test_add_session("agent-g", hash_uid("agent-g"), g2, 3);
	nss_test_add_session("agent-h", hash_uid("agent-h"), other, 1);
}

static bool has(const gid_t *v, long n, gid_t g)
{
	for (long i = 0; i < n; i++) {
		if (v[i] == g)
			return true;
	}
	return false;
}

START_TEST(session_groups_are_added_once_without_primary_or_root)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(*groups));
	int err = 0;

	groups[0] = hash_uid("agent-g");
	ck_assert_int_eq(_nss_agentgate_initgroups_dyn("agent-g", groups[0],
		&start, &size, &groups, 0, &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 5);	/* primary, 100, 27, 44, 5000 */
	ck_assert_int_ge(size, start);
	ck_assert(has(groups, start, 100) && has(groups, start, 27));
	ck_assert(has(groups, start, 44) && has(groups, start, 5000));
	ck_assert(!has(groups, start, 0) && !has(groups, start, 9999));
	free(groups);
}
END_TEST

START_TEST(limit_caps_the_array_and_is_not_an_error)
{
	long start = 1, size = 2;
	gid_t *groups = calloc(2, sizeof(*groups));
	int err = 0;

	ck_assert_int_eq(_nss_agentgate_initgroups_dyn("agent-g", 1, &start,
		&size, &groups, 3, &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 3);
	ck_assert_int_eq(size, 3);
	free(groups);
}
END_TEST

START_TEST(groups_already_present_are_not_repeated)
{
	long start = 2, size = 2;
	gid_t *groups = calloc(2, sizeof(*groups));
	int err = 0;

	groups[0] = 7;
	groups[1] = 44;
	ck_assert_int_eq(_nss_agentgate_initgroups_dyn("agent-g", 7, &start,
		&size, &groups, 0, &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 5);	/* 7, 44, 100, 27, 5000 */
	free(groups);
}
END_TEST

START_TEST(agent_without_sessions_gets_nothing_added)
{
	long start = 1, size = 1;
	gid_t *groups = calloc(1, sizeof(*groups));
	int err = 0;

	ck_assert_int_eq(_nss_agentgate_initgroups_dyn("agent-none", 1,
		&start, &size, &groups, 0, &err), NSS_STATUS_SUCCESS);
	ck_assert_int_eq(start, 1);
	ck_assert_int_eq(size, 1);
	free(groups);
}
END_TEST

Suite *initgroups_suite(void);

Suite *initgroups_suite(void)
{
	Suite *s = suite_create("nss initgroups");
	TCase *tc = tcase_create("initgroups_dyn");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc,
		session_groups_are_added_once_without_primary_or_root);
	tcase_add_test(tc, limit_caps_the_array_and_is_not_an_error);
	tcase_add_test(tc, groups_already_present_are_not_repeated);
	tcase_add_test(tc, agent_without_sessions_gets_nothing_added);
	suite_add_tcase(s, tc);
	return s;
}
