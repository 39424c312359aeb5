/* The name grammar and the uid wire format. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "names.h"
#include "util.h"

static const char *const accepted[] = {
	"a", "_", "agent-1", "agent-build-42", "agent_x", "a-b_c-9",
	"abcdefghijklmnopqrstuvwxyz012345",	/* exactly 32 */
};

static const char *const rejected[] = {
	"", "Agent-1", "agent-A", " agent-1", "agent-1 ", "agent:1",
	"agent\n1", "agent/1", "agent..1", "..", ".", "-agent", "1agent",
	"agent.1", "agent$", "agent\t1", "agent\xc3\xa9", "agent\x7f",
	"abcdefghijklmnopqrstuvwxyz0123456",	/* 33 */
};

START_TEST(grammar_accepts_valid_names)
{
	ck_assert_msg(ag_name_valid(accepted[_i]), "%s", accepted[_i]);
}
END_TEST

START_TEST(grammar_rejects_invalid_names)
{
	ck_assert_msg(!ag_name_valid(rejected[_i]), "%s", rejected[_i]);
}
END_TEST

START_TEST(grammar_rejects_null)
{
	ck_assert(!ag_name_valid(NULL));
}
END_TEST

/* FNV-1a 64 of "a" is af63dc4c8601ec8c: the published test vector. */
START_TEST(hash_is_standard_fnv1a)
{
	ck_assert_uint_eq(ag_uid_hash("a", 0, UINT32_MAX), 0x8601ec8cu);
	ck_assert_uint_eq(ag_uid_hash("", 0, UINT32_MAX), 0x84222325u);
}
END_TEST

/*
 * These uids are a promise to every admin with files owned by an agent:
 * a failure here is a breaking change, never a test to update.
 */
static const struct {
	const char *name;
	uint32_t uid;
} frozen[] = {
	{ "agent-build-42", 1954188342u },
	{ "agent-a", 2141138673u },
	{ "agent-b", 2141152266u },
	{ "agent-ci", 1951433873u },
	{ "agent-0", 2141360692u },
	{ "agent-deploy-prod", 2001259178u },
	{ "ci-runner_7", 1936838306u },
	{ "agent-xxxxxxxxxxxxxxxxxxxxxxxxxx", 1957644988u },
};

START_TEST(uid_table_never_changes)
{
	ck_assert_uint_eq(ag_uid_hash(frozen[_i].name, AG_DEFAULT_UID_MIN,
		AG_DEFAULT_UID_MAX), frozen[_i].uid);
}
END_TEST

START_TEST(uid_stays_in_small_range)
{
	ck_assert_uint_eq(ag_uid_hash("agent-a", 70000, 79999), 71376u);
	for (int i = 0; i < 5000; i++) {
		char name[16];
		uint32_t uid;

		snprintf(name, sizeof(name), "agent-%d", i);
		uid = ag_uid_hash(name, 70000, 70009);
		ck_assert(uid >= 70000 && uid <= 70009);
	}
}
END_TEST

START_TEST(default_range_avoids_established_owners)
{
	/* systemd's unused range 1879048192-2147483647, below 2^31. */
	ck_assert_uint_ge(AG_DEFAULT_UID_MIN, 1879048192u);
	ck_assert_uint_lt(AG_DEFAULT_UID_MAX, 2147483648u);
}
END_TEST

static struct ag_issuer test_issuer(void)
{
	static struct ag_pin pin = { "agent-pinned", 70001 };
	struct ag_issuer is = {
		.prefix = "agent-", .uid_min = 70000, .uid_max = 79999,
		.pins = &pin, .n_pins = 1,
	};

	return is;
}

START_TEST(namespace_needs_prefix_and_suffix)
{
	struct ag_issuer is = test_issuer();

	ck_assert(ag_name_in_issuer(&is, "agent-x"));
	ck_assert(!ag_name_in_issuer(&is, "agent-"));
	ck_assert(!ag_name_in_issuer(&is, "agentx"));
	ck_assert(!ag_name_in_issuer(&is, "root"));
	ck_assert(!ag_name_in_issuer(&is, "agent-X"));
}
END_TEST

START_TEST(pin_overrides_hash)
{
	struct ag_issuer is = test_issuer();

	ck_assert_uint_eq(ag_name_uid(&is, "agent-pinned"), 70001u);
	ck_assert_uint_eq(ag_name_uid(&is, "agent-a"), 71376u);
}
END_TEST

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, grammar_accepts_valid_names, 0,
		AG_ARRAY_SIZE(accepted));
	tcase_add_loop_test(tc, grammar_rejects_invalid_names, 0,
		AG_ARRAY_SIZE(rejected));
	tcase_add_test(tc, grammar_rejects_null);
	tcase_add_test(tc, hash_is_standard_fnv1a);
	tcase_add_loop_test(tc, uid_table_never_changes, 0,
		AG_ARRAY_SIZE(frozen));
	tcase_add_test(tc, uid_stays_in_small_range);
	tcase_add_test(tc, default_range_avoids_established_owners);
	tcase_add_test(tc, namespace_needs_prefix_and_suffix);
	tcase_add_test(tc, pin_overrides_hash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(names_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
