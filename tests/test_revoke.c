/*
 * Revocation lists: every line form of revoke.h, fail-closed parsing,
 * trust of the files, matching by iat, expiry of entries, and the
 * agentgatectl writer.  Lists are only trusted when root owns them, so
 * the tests that load need root (make check runs as root here); as
 * another user they pass without checking.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "revoke.h"
#include "util.h"

#define NEED_ROOT() do { if (geteuid() != 0) return; } while (0)
#define NOW 1800000000
#define LATER 1900000000

static char tmpdir[] = "/tmp/agentgate-test-revoke.XXXXXX";
static char state_dir[256], rev_dir[256], main_list[300];
static struct ag_config cfg;

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	snprintf(rev_dir, sizeof(rev_dir), "%s/revoked.d", tmpdir);
	snprintf(main_list, sizeof(main_list), "%s/revocations", state_dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.state_dir = state_dir;
	cfg.runtime_dir = tmpdir;
	cfg.revocation_dir = rev_dir;
	ck_assert_int_eq(ag_mkdir_p(state_dir, 0755), 0);
	ck_assert_int_eq(ag_mkdir_p(rev_dir, 0755), 0);
}

static void teardown(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX");
}

static void put(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)),
		(ssize_t)strlen(text));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void put_fleet(const char *name, const char *text, mode_t mode)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", rev_dir, name);
	put(path, text, mode);
}

static int load(struct ag_revoke_list *l, char *err, size_t len)
{
	return ag_revoke_load(&cfg, NOW, l, err, len);
}

START_TEST(every_line_form_is_parsed)
{
	struct ag_revoke_list l;
	const struct ag_revocation *e;

	NEED_ROOT();
	put(main_list,
		"# a comment\n"
		"\n"
		"   \t\n"
		"jti corp tok-1 1900000000 leaked in a log\n"
		"\tjti * tok-2 1900000001\n"
		"user agent-x 1700000000 1900000002 offboarded\n"
		"issuer corp 1700000001 1900000003\n"
		"  # indented comment\n", 0644);
	ck_assert_int_eq(load(&l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 4);

	e = &l.v[0];
	ck_assert_int_eq(e->kind, AG_REVOKE_JTI);
	ck_assert_str_eq(e->issuer, "corp");
	ck_assert_str_eq(e->value, "tok-1");
	ck_assert(e->after == INT64_MAX && e->until == 1900000000);
	e = &l.v[1];
	ck_assert_int_eq(e->kind, AG_REVOKE_JTI);
	ck_assert_str_eq(e->issuer, "*");
	ck_assert_str_eq(e->value, "tok-2");
	e = &l.v[2];
	ck_assert_int_eq(e->kind, AG_REVOKE_USER);
	ck_assert_str_eq(e->value, "agent-x");
	ck_assert(e->after == 1700000000 && e->until == 1900000002);
	e = &l.v[3];
	ck_assert_int_eq(e->kind, AG_REVOKE_ISSUER);
	ck_assert_str_eq(e->issuer, "corp");
	ck_assert_str_eq(e->value, "corp");
	ck_assert(e->after == 1700000001 && e->until == 1900000003);
	ag_revoke_list_free(&l);
	ck_assert_ptr_null(l.v);
}
END_TEST

START_TEST(last_line_without_newline_counts)
{
	struct ag_revoke_list l;

	NEED_ROOT();
	put(main_list, "jti corp tok-1 1900000000", 0644);
	ck_assert_int_eq(load(&l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 1);
	ag_revoke_list_free(&l);
}
END_TEST

static char jti_too_long[AG_JTI_MAX + 40];
static char issuer_too_long[100];

static const char *const malformed[] = {
	"token corp tok-1 1900000000\n",	/* unknown kind */
	"JTI corp tok-1 1900000000\n",
	"jti corp tok-1\n",			/* too few fields */
	"jti\n",
	"user agent-x 1700000000\n",
	"jti corp tok-1 soon\n",		/* UNTIL not a number */
	"jti corp tok-1 19e8\n",
	"jti corp tok-1 -1\n",
	"jti corp tok-1 +1900000000\n",
	"jti corp tok-1 99999999999999999999\n",
	"user agent-x yesterday 1900000000\n",	/* AFTER not a number */
	"user agent-x -5 1900000000\n",
	"issuer corp 17e8 1900000000\n",
	"jti corp tok\x01 1900000000\n",	/* control byte in a word */
	jti_too_long,
	issuer_too_long,
};

static void make_long_lines(void)
{
	char jti[AG_JTI_MAX + 2], iss[70];

	memset(jti, 'j', sizeof(jti) - 1);
	jti[sizeof(jti) - 1] = '\0';
	snprintf(jti_too_long, sizeof(jti_too_long),
		"jti corp %s 1900000000\n", jti);
	memset(iss, 'i', sizeof(iss) - 1);
	iss[sizeof(iss) - 1] = '\0';
	snprintf(issuer_too_long, sizeof(issuer_too_long),
		"jti %s tok 1900000000\n", iss);
}

/* One bad line poisons the whole set: logins are refused. */
START_TEST(malformed_line_fails_closed)
{
	struct ag_revoke_list l = { 0 };
	char err[512], text[600], want[400];

	NEED_ROOT();
	make_long_lines();
	snprintf(text, sizeof(text), "jti corp ok 1900000000\n%s",
		malformed[_i]);
	put(main_list, text, 0644);
	ck_assert_int_eq(load(&l, err, sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want), "%s:2: malformed entry", main_list);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(l.v);
	ck_assert_int_eq(ag_revoked(&cfg, NULL, "agent-x", "tok-1", 0, NOW),
		-EBADMSG);
}
END_TEST

START_TEST(malformed_fleet_list_fails_closed)
{
	struct ag_revoke_list l;
	char err[512], want[400];

	NEED_ROOT();
	put_fleet("fleet.list", "# ok\nuser agent-x 1 1900000000\nbad\n",
		0644);
	ck_assert_int_eq(load(&l, err, sizeof(err)), -EBADMSG);
	snprintf(want, sizeof(want), "%s/fleet.list:3: malformed entry",
		rev_dir);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(nul_byte_fails_closed)
{
	struct ag_revoke_list l;
	static const char text[] = "jti corp a 1900000000\n\0jti x b 1\n";
	int fd;

	NEED_ROOT();
	fd = open(main_list, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1),
		(ssize_t)sizeof(text) - 1);
	close(fd);
	ck_assert_int_eq(load(&l, NULL, 0), -EBADMSG);
}
END_TEST

START_TEST(untrusted_list_file_is_refused)
{
	static const mode_t modes[] = { 0664, 0646, 0666 };
	struct ag_revoke_list l;
	unsigned i;

	NEED_ROOT();
	for (i = 0; i < AG_ARRAY_SIZE(modes); i++) {
		put(main_list, "jti corp a 1900000000\n", modes[i]);
		ck_assert_int_eq(load(&l, NULL, 0), -EPERM);
	}
	put(main_list, "jti corp a 1900000000\n", 0644);
	ck_assert_int_eq(chown(main_list, 2147400001u, 0), 0);
	ck_assert_int_eq(load(&l, NULL, 0), -EPERM);
	ck_assert_int_eq(ag_revoked(&cfg, NULL, "u", "a", 0, NOW), -EPERM);
	unlink(main_list);

	put_fleet("x.list", "jti corp a 1900000000\n", 0644);
	ck_assert_int_eq(chmod(rev_dir, 0777), 0);
	ck_assert_int_eq(load(&l, NULL, 0), -EPERM);
	ck_assert_int_eq(chmod(rev_dir, 0755), 0);
	ck_assert_int_eq(load(&l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 1);
	ag_revoke_list_free(&l);
}
END_TEST

START_TEST(missing_files_and_dir_are_empty_lists)
{
	struct ag_revoke_list l;
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", state_dir, rev_dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(load(&l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 0);
	ag_revoke_list_free(&l);
	ck_assert_int_eq(ag_revoked(&cfg, NULL, "u", "j", 0, NOW), 0);
}
END_TEST

/* Editors' and rsync's temporary files never count, good or bad. */
START_TEST(only_named_list_files_are_read)
{
	struct ag_revoke_list l;

	NEED_ROOT();
	put_fleet(".fleet.list", "garbage\n", 0644);
	put_fleet("fleet.list~", "garbage\n", 0644);
	put_fleet("fleet.txt", "garbage\n", 0644);
	put_fleet(".list", "garbage\n", 0644);
	put_fleet("a.list", "jti * tok 1900000000\n", 0644);
	ck_assert_int_eq(load(&l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 1);
	ag_revoke_list_free(&l);
}
END_TEST

START_TEST(user_and_issuer_revoke_tokens_issued_at_or_before_after)
{
	struct ag_revoke_list l;

	NEED_ROOT();
	put(main_list, "user agent-x 1000 1900000000\n"
		"issuer corp 2000 1900000000\n", 0644);
	ck_assert_int_eq(load(&l, NULL, 0), 0);

	ck_assert_int_eq(ag_revoke_match(&l, "other", "agent-x", "j", 999),
		1);
	ck_assert_int_eq(ag_revoke_match(&l, "other", "agent-x", "j", 1000),
		1);
	ck_assert_int_eq(ag_revoke_match(&l, "other", "agent-x", "j", 1001),
		0);
	ck_assert_int_eq(ag_revoke_match(&l, "other", "agent-y", "j", 0), 0);

	ck_assert_int_eq(ag_revoke_match(&l, "corp", "agent-y", "j", 2000),
		1);
	ck_assert_int_eq(ag_revoke_match(&l, "corp", "agent-y", "j", 2001),
		0);
	ck_assert_int_eq(ag_revoke_match(&l, NULL, NULL, "j", 0), 0);
	ag_revoke_list_free(&l);
}
END_TEST

START_TEST(jti_revokes_that_token_of_that_issuer)
{
	struct ag_revoke_list l;

	NEED_ROOT();
	put(main_list, "jti corp tok-1 1900000000\n"
		"jti * tok-2 1900000000\n", 0644);
	ck_assert_int_eq(load(&l, NULL, 0), 0);

	/* A jti entry ignores iat: the token itself is revoked. */
	ck_assert_int_eq(ag_revoke_match(&l, "corp", "u", "tok-1",
		INT64_MAX), 1);
	ck_assert_int_eq(ag_revoke_match(&l, "other", "u", "tok-1", 0), 0);
	ck_assert_int_eq(ag_revoke_match(&l, NULL, "u", "tok-1", 0), 0);
	ck_assert_int_eq(ag_revoke_match(&l, "any", "u", "tok-2", 0), 1);
	ck_assert_int_eq(ag_revoke_match(&l, NULL, "u", "tok-2", 0), 1);
	ck_assert_int_eq(ag_revoke_match(&l, "corp", "u", "tok-3", 0), 0);
	ck_assert_int_eq(ag_revoke_match(&l, "corp", "u", NULL, 0), 0);
	ck_assert_int_eq(ag_revoke_match(&l, "corp", "u", "tok-", 0), 0);
	ag_revoke_list_free(&l);
}
END_TEST

START_TEST(entries_past_until_are_ignored)
{
	struct ag_revoke_list l;
	char text[200];

	NEED_ROOT();
	snprintf(text, sizeof(text), "jti corp gone %d\njti corp edge %d\n"
		"user agent-x 1000 %d\n", NOW - 1, NOW, NOW - 1);
	put(main_list, text, 0644);
	ck_assert_int_eq(load(&l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].value, "edge");
	ag_revoke_list_free(&l);

	ck_assert_int_eq(ag_revoked(&cfg, NULL, "agent-x", "gone", 0, NOW),
		0);
	ck_assert_int_eq(ag_revoked(&cfg, NULL, "agent-x", "gone", 0,
		NOW - 1), 1);
}
END_TEST

/* ERR at size 0 (untouched), one short (cut, terminated) and exact. */
START_TEST(error_message_fits_the_buffer_given)
{
	struct ag_revoke_list l;
	char want[400], err[400];
	size_t n;

	NEED_ROOT();
	put(main_list, "bad\n", 0644);
	snprintf(want, sizeof(want), "%s:1: malformed entry", main_list);
	n = strlen(want);

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(load(&l, err, 0), -EBADMSG);
	ck_assert_int_eq(err[0], 'x');

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(load(&l, err, n), -EBADMSG);
	ck_assert_uint_eq(strlen(err), n - 1);
	ck_assert_int_eq(strncmp(err, want, n - 1), 0);
	ck_assert_int_eq(err[n], 'x');

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(load(&l, err, n + 1), -EBADMSG);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(err[n + 1], 'x');
}
END_TEST

START_TEST(added_entries_read_back_and_match)
{
	struct ag_revoke_list l;
	int64_t until = (int64_t)time(NULL) + 3600;

	NEED_ROOT();
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "corp", "tok-1",
		0, until, "key leaked"), 0);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "*", "tok-2",
		0, until, NULL), 0);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_USER, NULL,
		"agent-x", 500, until, ""), 0);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_ISSUER, NULL, "corp",
		600, until, "rotated"), 0);

	ck_assert_int_eq(ag_revoke_load(&cfg, time(NULL), &l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_int_eq(ag_revoke_match(&l, "corp", "u", "tok-1", 0), 1);
	ck_assert_int_eq(ag_revoke_match(&l, "x", "u", "tok-2", 0), 1);
	ck_assert_int_eq(ag_revoke_match(&l, "x", "agent-x", "j", 500), 1);
	ck_assert_int_eq(ag_revoke_match(&l, "x", "agent-x", "j", 501), 0);
	ck_assert_int_eq(ag_revoke_match(&l, "corp", "u", "j", 600), 1);
	ck_assert(l.v[2].after == 500 && l.v[2].until == until);
	ag_revoke_list_free(&l);
}
END_TEST

START_TEST(add_prunes_expired_entries_and_keeps_comments)
{
	struct ag_revoke_list l;
	char text[300], *data;
	int64_t now = (int64_t)time(NULL);
	size_t len;

	NEED_ROOT();
	snprintf(text, sizeof(text), "# kept\njti corp old %lld\n"
		"jti corp live %lld\n", (long long)(now - 10),
		(long long)(now + 3600));
	put(main_list, text, 0644);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "corp", "new",
		0, now + 3600, NULL), 0);
	ck_assert_int_eq(ag_read_file(main_list, 4096, &data, &len, NULL),
		0);
	ck_assert_ptr_nonnull(strstr(data, "# kept\n"));
	ck_assert_ptr_null(strstr(data, " old "));
	ck_assert_ptr_nonnull(strstr(data, " live "));
	ck_assert_ptr_nonnull(strstr(data, " new "));
	free(data);
	ck_assert_int_eq(ag_revoke_load(&cfg, now, &l, NULL, 0), 0);
	ck_assert_uint_eq(l.n, 2);
	ag_revoke_list_free(&l);
}
END_TEST

/* Pruning a list that does not parse would drop a revocation. */
START_TEST(add_leaves_a_malformed_list_alone)
{
	static const char text[] = "jti corp a 1900000000\nbroken\n";
	char *data;
	size_t len;

	NEED_ROOT();
	put(main_list, text, 0644);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "corp", "b", 0,
		1900000000, NULL), -EBADMSG);
	ck_assert_int_eq(ag_read_file(main_list, 4096, &data, &len, NULL),
		0);
	ck_assert_str_eq(data, text);
	free(data);
}
END_TEST

START_TEST(add_refuses_what_would_not_read_back)
{
	char reason[300];

	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, NULL, "a", 0,
		LATER, NULL), -EINVAL);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "corp", NULL, 0,
		LATER, NULL), -EINVAL);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "corp", "a b",
		0, LATER, NULL), -EINVAL);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_USER, NULL, "", 0,
		LATER, NULL), -EINVAL);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_USER, NULL, "u", -1,
		LATER, NULL), -EINVAL);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "corp", "a", 0,
		LATER, "two\nlines"), -EINVAL);
	ck_assert_int_eq(ag_revoke_add(&cfg, AG_REVOKE_JTI, "corp", "a", 0,
		LATER, reason), -EINVAL);
	ck_assert_int_eq(ag_revoke_add(&cfg, (enum ag_revoke_kind)7, "c",
		"a", 0, LATER, NULL), -EINVAL);
	ck_assert_int_eq(access(main_list, F_OK), -1);
}
END_TEST

static Suite *revoke_suite(void)
{
	Suite *s = suite_create("revoke");
	TCase *tc = tcase_create("lists");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_line_form_is_parsed);
	tcase_add_test(tc, last_line_without_newline_counts);
	tcase_add_loop_test(tc, malformed_line_fails_closed, 0,
		AG_ARRAY_SIZE(malformed));
	tcase_add_test(tc, malformed_fleet_list_fails_closed);
	tcase_add_test(tc, nul_byte_fails_closed);
	tcase_add_test(tc, untrusted_list_file_is_refused);
	tcase_add_test(tc, missing_files_and_dir_are_empty_lists);
	tcase_add_test(tc, only_named_list_files_are_read);
	tcase_add_test(tc,
		user_and_issuer_revoke_tokens_issued_at_or_before_after);
	tcase_add_test(tc, jti_revokes_that_token_of_that_issuer);
	tcase_add_test(tc, entries_past_until_are_ignored);
	tcase_add_test(tc, error_message_fits_the_buffer_given);
	tcase_add_test(tc, added_entries_read_back_and_match);
	tcase_add_test(tc, add_prunes_expired_entries_and_keeps_comments);
	tcase_add_test(tc, add_leaves_a_malformed_list_alone);
	tcase_add_test(tc, add_refuses_what_would_not_read_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(revoke_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
