/* agentgate.conf: every rejection with its file:line message. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

#define ISSUER_A \
	"[issuer corp]\n" \
	"iss = https://approve.example\n" \
	"keys = /etc/agentgate/keys/corp.pem\n" \
	"prefix = agent-\n" \
	"uid_range = 70000-79999\n"

static const struct {
	const char *text;
	const char *message;	/* expected, exactly */
} bad[] = {
	{ "x = 1\n", "t.conf:1: key outside any section" },
	{ "[agentgate]\nfoo = 1\n",
	  "t.conf:2: unknown key \"foo\" in [agentgate]" },
	{ "[agentgate]\nleeway = 5\nleeway = 6\n",
	  "t.conf:3: duplicate key \"leeway\"" },
	{ "[agentgate]\n[agentgate]\n",
	  "t.conf:2: section [agentgate] appears twice (first at line 1)" },
	{ "[global]\n", "t.conf:1: unknown section [global]" },
	{ "[agentgate\n", "t.conf:1: expected [agentgate] or [issuer NAME]" },
	{ "[agentgate]\nleeway\n", "t.conf:2: expected key = value" },
	{ "[agentgate]\nleeway =\n", "t.conf:2: leeway: empty value" },
	{ "[agentgate]\nleeway = -1\n",
	  "t.conf:2: leeway: expected a whole number from 0 to 600, "
	  "got \"-1\"" },
	{ "[agentgate]\nleeway = 5s\n",
	  "t.conf:2: leeway: expected a whole number from 0 to 600, "
	  "got \"5s\"" },
	{ "[agentgate]\nleeway = 601\n",
	  "t.conf:2: leeway: expected a whole number from 0 to 600, "
	  "got \"601\"" },
	{ "[agentgate]\nrequire_daemon = maybe\n",
	  "t.conf:2: require_daemon: expected yes or no, got \"maybe\"" },
	{ "[agentgate]\nstate_dir = var/lib\n",
	  "t.conf:2: state_dir: expected an absolute path, got \"var/lib\"" },
	{ "[agentgate]\nstate_dir = /var/../etc\n",
	  "t.conf:2: state_dir: path must not contain \"..\"" },
	{ "[agentgate]\naudience = a b\n",
	  "t.conf:2: audience: expected one word, got \"a b\"" },
	{ "[agentgate]\nkill_grace_ms = 20000\n",
	  "t.conf:2: kill_grace_ms: expected a whole number from 0 to "
	  "10000, got \"20000\"" },
	{ "[agentgate]\nleeway = 5\x01\n",
	  "t.conf:2: control character in line" },
	{ "[issuer bad/name]\n",
	  "t.conf:1: issuer name \"bad/name\" must be 1-63 of "
	  "A-Z a-z 0-9 _ . -" },
	{ ISSUER_A "[issuer corp]\n",
	  "t.conf:6: issuer \"corp\" is defined twice" },
	{ ISSUER_A "colour = blue\n",
	  "t.conf:6: unknown key \"colour\" in [issuer]" },
	{ ISSUER_A "prefix = bot-\n", "t.conf:6: duplicate key \"prefix\"" },
	{ "[issuer corp]\nprefix = Agent-\n",
	  "t.conf:2: prefix: \"Agent-\" is not a valid user-name prefix "
	  "(1-24 of a-z 0-9 _ -, starting with a-z or _)" },
	{ "[issuer corp]\nprefix = agent.\n",
	  "t.conf:2: prefix: \"agent.\" is not a valid user-name prefix "
	  "(1-24 of a-z 0-9 _ -, starting with a-z or _)" },
	{ "[issuer corp]\nalgorithms = RS256 HS256\n",
	  "t.conf:2: algorithms: \"HS256\" is not an allowed algorithm "
	  "(RS256 RS384 RS512 ES256 ES384 ES512 EdDSA)" },
	{ "[issuer corp]\nalgorithms = none\n",
	  "t.conf:2: algorithms: \"none\" is not an allowed algorithm "
	  "(RS256 RS384 RS512 ES256 ES384 ES512 EdDSA)" },
	{ "[issuer corp]\nalgorithms = rs256\n",
	  "t.conf:2: algorithms: \"rs256\" is not an allowed algorithm "
	  "(RS256 RS384 RS512 ES256 ES384 ES512 EdDSA)" },
	{ "[issuer corp]\nalgorithms = ,\n",
	  "t.conf:2: algorithms: expected one or more algorithms" },
	{ "[issuer corp]\nuid_range = 5000\n",
	  "t.conf:2: uid_range: expected MIN-MAX, got \"5000\"" },
	{ "[issuer corp]\nuid_range = 9000-8000\n",
	  "t.conf:2: uid_range: expected MIN-MAX with MIN <= MAX, "
	  "got \"9000-8000\"" },
	{ "[issuer corp]\nuid_range = 0-999\n",
	  "t.conf:2: uid_range: 0-999 reaches reserved uids (below 1000, "
	  "65534-65535, or above 2147483646)" },
	{ "[issuer corp]\nuid_range = 60000-70000\n",
	  "t.conf:2: uid_range: 60000-70000 reaches reserved uids (below "
	  "1000, 65534-65535, or above 2147483646)" },
	{ "[issuer corp]\nuid_range = 2147483000-2147483647\n",
	  "t.conf:2: uid_range: 2147483000-2147483647 reaches reserved uids "
	  "(below 1000, 65534-65535, or above 2147483646)" },
	{ "[issuer corp]\nmax_lifetime = 0\n",
	  "t.conf:2: max_lifetime: expected a whole number from 1 to "
	  "86400, got \"0\"" },
	{ "[issuer corp]\nhome_policy = sometimes\n",
	  "t.conf:2: home_policy: expected ephemeral or persistent, "
	  "got \"sometimes\"" },
	{ "[issuer corp]\nhome_base = /\n", "t.conf:2: home_base: must not be /" },
	{ "[issuer corp]\nshell = bash\n",
	  "t.conf:2: shell: expected an absolute path, got \"bash\"" },
	{ "[issuer corp]\nkeys = /k.pem k2.pem\n",
	  "t.conf:2: keys: expected an absolute path, got \"k2.pem\"" },
	{ "[issuer corp]\ngroups = docker Wheel\n",
	  "t.conf:2: groups: \"Wheel\" is not a valid group name" },
	{ "[issuer corp]\nsingle_use = 2\n",
	  "t.conf:2: single_use: expected yes or no, got \"2\"" },
	{ "[issuer corp]\npins = agent-a\n",
	  "t.conf:2: pins: expected NAME:UID, got \"agent-a\"" },
	{ "[issuer corp]\npins = agent-a:x\n",
	  "t.conf:2: pins: bad uid in \"agent-a:x\"" },
	{ "[issuer corp]\nkeys = /k.pem\nprefix = agent-\n",
	  "t.conf:1: issuer corp: missing \"iss\"" },
	{ "[issuer corp]\niss = x\nprefix = agent-\n",
	  "t.conf:1: issuer corp: missing \"keys\"" },
	{ "[issuer corp]\niss = x\nkeys = /k.pem\n",
	  "t.conf:1: issuer corp: missing \"prefix\"" },
	{ ISSUER_A "pins = bot-a:70001\n",
	  "t.conf:1: issuer corp: pinned name \"bot-a\" is not in its "
	  "namespace \"agent-\"" },
	{ ISSUER_A "pins = agent-a:90000\n",
	  "t.conf:1: issuer corp: pinned uid 90000 of agent-a is outside "
	  "uid_range" },
	{ ISSUER_A "pins = agent-a:70001 agent-b:70001\n",
	  "t.conf:1: issuer corp: agent-a and agent-b are pinned twice" },
	{ ISSUER_A "[issuer ci]\niss = ci\nkeys = /k.pem\n"
	  "prefix = agent-ci-\nuid_range = 80000-89999\n",
	  "t.conf:6: issuer ci: prefix \"agent-ci-\" overlaps prefix "
	  "\"agent-\" of issuer corp" },
	{ ISSUER_A "[issuer ci]\niss = ci\nkeys = /k.pem\n"
	  "prefix = ci-\nuid_range = 79000-89999\n",
	  "t.conf:6: issuer ci: uid_range 79000-89999 overlaps issuer corp "
	  "(70000-79999)" },
	{ ISSUER_A "[issuer ci]\niss = https://approve.example\n"
	  "keys = /k.pem\nprefix = ci-\nuid_range = 80000-89999\n",
	  "t.conf:6: issuer ci: iss \"https://approve.example\" is already "
	  "issuer corp's" },
	{ "[issuer corp]\niss = a\nkeys = /a\nprefix = a-\n"
	  "[issuer ci]\niss = b\nkeys = /b\nprefix = b-\n",
	  "t.conf:5: issuer ci: uid_range 1879048192-2147483646 overlaps "
	  "issuer corp (1879048192-2147483646)" },
};

START_TEST(bad_config_is_rejected_with_message)
{
	struct ag_config *cfg = (struct ag_config *)0x1;
	char err[512] = "";
	int r;

	r = ag_config_parse("t.conf", bad[_i].text, strlen(bad[_i].text),
		&cfg, err, sizeof(err));
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_str_eq(err, bad[_i].message);
	ck_assert_ptr_eq(cfg, (struct ag_config *)0x1);
}
END_TEST

static const char good[] =
	"# comment\n"
	"; also a comment\n"
	"[agentgate]\n"
	"audience = host1.example\n"
	"leeway = 30\n"
	"state_dir = /tmp/state\n"
	"require_daemon = no\n"
	"\n"
	ISSUER_A
	"algorithms = ES256, EdDSA\n"
	"max_lifetime = 900\n"
	"shell = /bin/sh\n"
	"home_base = /srv/agents\n"
	"home_policy = persistent\n"
	"groups = docker, adm\n"
	"single_use = no\n"
	"pins = agent-boss:70005\n"
	"\n"
	"[issuer ci]\n"
	"  iss = ci   \n"
	"keys = /k1.pem /k2.jwks\n"
	"prefix = ci-\n"
	"uid_range = 80000-89999\n";

START_TEST(good_config_is_parsed)
{
	struct ag_config *cfg = NULL;
	const struct ag_issuer *is;
	char err[512] = "";

	ck_assert_int_eq(ag_config_parse("t.conf", good, strlen(good), &cfg,
		err, sizeof(err)), 0);
	ck_assert_str_eq(cfg->audience, "host1.example");
	ck_assert_int_eq(cfg->leeway, 30);
	ck_assert_str_eq(cfg->state_dir, "/tmp/state");
	ck_assert_str_eq(cfg->runtime_dir, AG_RUNDIR);
	ck_assert(!cfg->require_daemon);
	ck_assert_uint_eq(cfg->n_issuers, 2);

	is = ag_config_issuer_for_name(cfg, "agent-x");
	ck_assert_ptr_nonnull(is);
	ck_assert_str_eq(is->name, "corp");
	ck_assert_uint_eq(is->algs, AG_ALG_ES256 | AG_ALG_EDDSA);
	ck_assert_int_eq(is->max_lifetime, 900);
	ck_assert_str_eq(is->home_base, "/srv/agents");
	ck_assert_int_eq(is->home_policy, AG_HOME_PERSISTENT);
	ck_assert_uint_eq(is->n_groups, 2);
	ck_assert_str_eq(is->groups[1], "adm");
	ck_assert(!is->single_use);
	ck_assert_uint_eq(is->pins[0].uid, 70005);

	is = ag_config_issuer_for_name(cfg, "ci-7");
	ck_assert_str_eq(is->iss, "ci");
	ck_assert_uint_eq(is->n_keys, 2);
	ck_assert_str_eq(is->user_claim, "sub");
	ck_assert(is->single_use);
	ck_assert_ptr_null(ag_config_issuer_for_name(cfg, "root"));
	ck_assert_ptr_null(ag_config_issuer_for_name(cfg, "agent-"));
	ag_config_free(cfg);
}
END_TEST

START_TEST(empty_config_has_no_issuers)
{
	struct ag_config *cfg = NULL;
	char err[128];

	ck_assert_int_eq(ag_config_parse("t", "", 0, &cfg, err,
		sizeof(err)), 0);
	ck_assert_uint_eq(cfg->n_issuers, 0);
	ck_assert_int_eq(cfg->leeway, 60);
	ck_assert(cfg->require_daemon);
	ag_config_free(cfg);
}
END_TEST

START_TEST(nul_byte_is_rejected)
{
	struct ag_config *cfg = NULL;
	char err[128];

	ck_assert_int_eq(ag_config_parse("t", "[agentgate]\0", 12, &cfg, err,
		sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t: NUL byte in file");
}
END_TEST

START_TEST(overlong_line_is_rejected)
{
	struct ag_config *cfg = NULL;
	char err[128], *text = malloc(5000);

	memset(text, '#', 5000);
	ck_assert_int_eq(ag_config_parse("t", text, 5000, &cfg, err,
		sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t:1: line longer than 4096 bytes");
	free(text);
}
END_TEST

START_TEST(broken_config_still_names_agents)
{
	static const char text[] = "[issuer x]\n prefix = agent-\nbogus\n";

	ck_assert(ag_config_name_looks_agent(text, strlen(text), "agent-1"));
	ck_assert(!ag_config_name_looks_agent(text, strlen(text), "alice"));
}
END_TEST

static char *write_temp(const char *text, mode_t mode)
{
	char *path = strdup("/tmp/agcfgXXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
	return path;
}

START_TEST(load_reports_missing_file)
{
	struct ag_config *cfg = NULL;
	char err[256];

	ck_assert_int_eq(ag_config_load("/nonexistent/agentgate.conf", &cfg,
		err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/agentgate.conf: "
		"No such file or directory");
}
END_TEST

START_TEST(load_ignores_writable_config)
{
	struct ag_config *cfg = NULL;
	char err[256], *path;

	if (geteuid() != 0)
		return;	/* ownership is part of the check: root only */
	path = write_temp("[agentgate]\n", 0666);
	ck_assert_int_eq(ag_config_load(path, &cfg, err, sizeof(err)), -EPERM);
	ck_assert_ptr_null(cfg);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(load_reads_trusted_config)
{
	struct ag_config *cfg = NULL;
	char err[256], *path;

	if (geteuid() != 0)
		return;
	path = write_temp("[agentgate]\nleeway = 7\n", 0644);
	ck_assert_int_eq(ag_config_load(path, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg->leeway, 7);
	ag_config_free(cfg);
	unlink(path);
	free(path);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, bad_config_is_rejected_with_message, 0,
		AG_ARRAY_SIZE(bad));
	tcase_add_test(tc, good_config_is_parsed);
	tcase_add_test(tc, empty_config_has_no_issuers);
	tcase_add_test(tc, nul_byte_is_rejected);
	tcase_add_test(tc, overlong_line_is_rejected);
	tcase_add_test(tc, broken_config_still_names_agents);
	tcase_add_test(tc, load_reports_missing_file);
	tcase_add_test(tc, load_ignores_writable_config);
	tcase_add_test(tc, load_reads_trusted_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
