/*
 * The _r buffer contract for every entry point that takes a buffer:
 * at every size below the one needed, TRYAGAIN with ERANGE and the
 * result struct untouched; at the size needed, SUCCESS.  Buffers are
 * malloc'd at exactly the size passed, so under ASan a single byte
 * written past buflen fails the test.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "nss_agentgate.h"
#include "test_nss_harness.h"
#include "userdb.h"

#define ROOT BUILDDIR "/nss-direct.d"
#define NAME "agent-buffers-7"

union ent {
	struct passwd pw;
	struct group gr;
};

typedef enum nss_status (*call_fn)(union ent *e, char *buf, size_t len,
	int *err);

static uint32_t uid(void)
{
	return ag_uid_hash(NAME, T_UID_MIN, T_UID_MAX);
}

static enum nss_status c_pwnam(union ent *e, char *b, size_t n, int *err)
{
	return _nss_agentgate_getpwnam_r(NAME, &e->pw, b, n, err);
}

static enum nss_status c_pwuid(union ent *e, char *b, size_t n, int *err)
{
	return _nss_agentgate_getpwuid_r(uid(), &e->pw, b, n, err);
}

static enum nss_status c_grnam(union ent *e, char *b, size_t n, int *err)
{
	return _nss_agentgate_getgrnam_r(NAME, &e->gr, b, n, err);
}

static enum nss_status c_grgid(union ent *e, char *b, size_t n, int *err)
{
	return _nss_agentgate_getgrgid_r(uid(), &e->gr, b, n, err);
}

/* Enumeration restarts each time so every size sees the same entry. */
static enum nss_status c_pwent(union ent *e, char *b, size_t n, int *err)
{
	_nss_agentgate_setpwent(0);
	return _nss_agentgate_getpwent_r(&e->pw, b, n, err);
}

static enum nss_status c_grent(union ent *e, char *b, size_t n, int *err)
{
	_nss_agentgate_setgrent(0);
	return _nss_agentgate_getgrent_r(&e->gr, b, n, err);
}

static const call_fn calls[] = {
	c_pwnam, c_pwuid, c_grnam, c_grgid, c_pwent, c_grent,
};

static void setup(void)
{
	gid_t none = 0;

	nss_test_setup(ROOT);
	ck_assert_int_eq(ag_userdb_register(nss_test_state_dir(), NAME,
		uid()), 0);
	nss_test_add_session(NAME, uid(), &none, 0);
}

/* One call with a buffer of exactly LEN bytes. */
static enum nss_status call_sized(call_fn fn, size_t len, union ent *e,
	int *err)
{
	char *buf = malloc(len);
	enum nss_status st;

	ck_assert(buf != NULL || len == 0);
	st = fn(e, buf, len, err);
	free(buf);
	return st;
}

static void assert_short(call_fn fn, size_t len)
{
	union ent e, before;
	int err = 0;

	memset(&e, 0xa5, sizeof(e));
	before = e;
	ck_assert_int_eq(call_sized(fn, len, &e, &err), NSS_STATUS_TRYAGAIN);
	ck_assert_int_eq(err, ERANGE);
	ck_assert(memcmp(&e, &before, sizeof(e)) == 0);
}

static size_t needed(call_fn fn)
{
	for (size_t len = 0; len < 4096; len++) {
		char *buf = malloc(len ? len : 1);
		union ent e;
		int err = 0;
		enum nss_status st = fn(&e, buf, len, &err);

		free(buf);
		if (st == NSS_STATUS_SUCCESS)
			return len;
		ck_assert_int_eq(st, NSS_STATUS_TRYAGAIN);
		ck_assert_int_eq(err, ERANGE);
	}
	ck_abort_msg("no buffer size up to 4096 succeeded");
	return 0;
}

START_TEST(buffer_of_0_short_by_1_and_exact)
{
	call_fn fn = calls[_i];
	size_t need = needed(fn);
	union ent e;
	int err = 0;

	ck_assert_uint_gt(need, 0);
	assert_short(fn, 0);
	assert_short(fn, need - 1);
	ck_assert_int_eq(call_sized(fn, need, &e, &err), NSS_STATUS_SUCCESS);
}
END_TEST

START_TEST(needed_size_is_what_the_strings_take)
{
	/* name, "*", gecos, home, shell, each with its NUL */
	size_t want = sizeof(NAME) + 2 + sizeof("agentgate agent (issuer ci)") +
		sizeof("/home/agents/" NAME) + sizeof("/bin/bash");

	ck_assert_uint_eq(needed(c_pwnam), want);
}
END_TEST

Suite *buffers_suite(void);

Suite *buffers_suite(void)
{
	Suite *s = suite_create("nss buffers");
	TCase *tc = tcase_create("erange");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, buffer_of_0_short_by_1_and_exact, 0,
		(int)(sizeof(calls) / sizeof(calls[0])));
	tcase_add_test(tc, needed_size_is_what_the_strings_take);
	suite_add_tcase(s, tc);
	return s;
}
