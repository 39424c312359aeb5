/*
 * pam_agentgate.so in real PAM handles.  Service files are written to
 * a temporary directory and opened with pam_start_confdir; the module
 * functions are also called directly (dlopen) where a test must see
 * their exact return code, PAM_IGNORE above all.  Agent names resolve
 * through nss_wrapper, as sshd would resolve them through NSS.
 *
 * Needs root (the config and state must be root-owned); skips (77)
 * otherwise.
 */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_modules.h>

#include <openssl/pem.h>

#include "config.h"
#include "names.h"
#include "revoke.h"
#include "session.h"
#include "tokgen.h"
#include "userdb.h"
#include "util.h"

#define MODULE TOP_BUILDDIR "/pam_module/.libs/pam_agentgate.so"
#define ISS "https://approve.test"
#define AUD "test-host"

static char dir[64];
static EVP_PKEY *key, *other_key;

typedef int (*sm_fn)(pam_handle_t *, int, int, const char **);
static sm_fn sm_auth, sm_acct, sm_open, sm_close;

/* ---- fixture files ---- */

/* Setup runs outside any test: failures stop the program. */
#define NEED(x) do { if (!(x)) { \
	fprintf(stderr, "setup failed: %s\n", #x); exit(99); } } while (0)
#define NEED_EQ(a, b) NEED((a) == (b))

static void put(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	NEED_EQ(tg_write_file(path, text, strlen(text)), 0);
	chmod(path, 0644);
}

static void write_config(const char *name, bool daemon)
{
	char text[2048];

	snprintf(text, sizeof(text),
		"[agentgate]\naudience = " AUD "\nleeway = 5\n"
		"state_dir = %s/state\nruntime_dir = %s/run\n"
		"revocation_dir = %s/revoked.d\nrequire_daemon = %s\n"
		"[issuer corp]\niss = " ISS "\nkeys = %s/corp.pem\n"
		"prefix = agent-\nuid_range = 70000-79999\n"
		"home_base = %s/home\ngroups = adm\n",
		dir, dir, dir, daemon ? "yes" : "no", dir, dir);
	put(name, text);
}

static void write_service(const char *name, const char *conf)
{
	char text[2048], path[128];

	snprintf(path, sizeof(path), "pam.d/%s", name);
	snprintf(text, sizeof(text),
		"auth [success=done ignore=ignore default=die] " MODULE
		" config=%s/%s\n"
		"auth required pam_permit.so\n"
		"account [success=done ignore=ignore default=die] " MODULE
		" config=%s/%s\n"
		"account required pam_permit.so\n"
		"session required " MODULE " config=%s/%s\n"
		"session optional pam_permit.so\n",
		dir, conf, dir, conf, dir, conf);
	put(path, text);
}

/*
 * An earlier module hands the token on: pam_wrapper's pam_set_items
 * sets PAM_AUTHTOK from the environment variable of that name.
 */
#define SET_ITEMS "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_set_items.so"

static void write_first_pass(const char *name, const char *arg)
{
	char text[1024], path[128];

	snprintf(path, sizeof(path), "pam.d/%s", name);
	snprintf(text, sizeof(text),
		"auth required " SET_ITEMS "\n"
		"auth required " MODULE " %s config=%s/agentgate.conf\n"
		"account required " MODULE " config=%s/agentgate.conf\n",
		arg, dir, dir);
	put(path, text);
}

/* nss_wrapper's view of the accounts: what the NSS module would say. */
static void write_nss_files(void)
{
	static const char *const agents[] = {
		"agent-ok", "agent-a", "agent-b", "agent-c", "agent-d",
		"agent-e", "agent-f", "agent-g", "agent-h", "agent-i",
		"agent-j", "agent-k", "agent-l", "agent-m", "agent-n",
		"agent-o", "agent-taken",
	};
	char text[4096] = "root:x:0:0:root:/root:/bin/sh\n"
		"alice:x:1000:1000:Alice:/home/alice:/bin/sh\n";
	size_t off = strlen(text);

	for (size_t i = 0; i < AG_ARRAY_SIZE(agents); i++) {
		uint32_t uid = ag_uid_hash(agents[i], 70000, 79999);

		off += (size_t)snprintf(text + off, sizeof(text) - off,
			"%s:x:%u:%u::/nonexistent:/bin/sh\n", agents[i],
			uid, uid);
	}
	put("passwd", text);
	put("group", "root:x:0:\nadm:x:4:\nalice:x:1000:\n");
}

static void setup_files(void)
{
	char path[256];

	NEED(mkdtemp(strcpy(dir, "/tmp/agpamXXXXXX")));
	chmod(dir, 0755);
	for (const char *const *d = (const char *const[]){ "pam.d", "state",
		     "run", "revoked.d", NULL }; *d; d++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *d);
		NEED_EQ(mkdir(path, 0755), 0);
	}

	key = tg_keygen("P-256");
	snprintf(path, sizeof(path), "%s/corp.pem", dir);
	NEED_EQ(tg_write_pub(key, path, 0644), 0);
	snprintf(path, sizeof(path), "%s/corp.key", dir);
	NEED_EQ(tg_write_priv(key, path, 0600), 0);

	write_config("agentgate.conf", false);
	write_config("daemon.conf", true);
	put("broken.conf", "[issuer corp]\nprefix = agent-\nthis is not ini\n");
	write_service("agent", "agentgate.conf");
	write_service("daemon", "daemon.conf");
	write_service("broken", "broken.conf");
	write_service("missing", "no-such.conf");
	write_first_pass("first", "use_first_pass");
	write_first_pass("try", "try_first_pass");
	write_nss_files();
}

/* ---- tokens ---- */

static char last_jti[33];

static char *token_for(const char *sub, const char *aud, long from_now,
	long ttl, const char *extra)
{
	char payload[1024], *jti = last_jti;
	time_t now = time(NULL);

	ag_random_hex(jti, 16);
	snprintf(payload, sizeof(payload),
		"{\"iss\":\"" ISS "\",\"aud\":\"%s\",\"sub\":\"%s\","
		"\"iat\":%ld,\"exp\":%ld,\"jti\":\"%s\"%s}", aud, sub,
		(long)now + from_now, (long)now + from_now + ttl, jti,
		extra ? extra : "");
	return tg_sign(key, "ES256", "{\"alg\":\"ES256\",\"typ\":\"JWT\"}",
		payload);
}

static char *good_token(const char *sub)
{
	return token_for(sub, AUD, 0, 300, NULL);
}

/* ---- conversation ---- */

enum answer_kind { ANSWER, CONV_FAILS, NULL_RESPONSE };

static struct {
	enum answer_kind kind;
	const char *text;
} answer;

static int conv(int n, const struct pam_message **msg,
	struct pam_response **resp, void *data)
{
	struct pam_response *r;

	if (answer.kind == CONV_FAILS)
		return PAM_CONV_ERR;
	if (answer.kind == NULL_RESPONSE) {
		*resp = NULL;
		return PAM_SUCCESS;
	}
	r = calloc((size_t)n, sizeof(*r));
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			r[i].resp = strdup(answer.text);
	}
	*resp = r;
	return PAM_SUCCESS;
}

static pam_handle_t *start(const char *service, const char *user)
{
	static struct pam_conv c = { conv, NULL };
	char confdir[128];
	pam_handle_t *pamh = NULL;

	snprintf(confdir, sizeof(confdir), "%s/pam.d", dir);
	ck_assert_int_eq(pam_start_confdir(service, user, &c, confdir,
		&pamh), PAM_SUCCESS);
	return pamh;
}

static const char *args(const char *conf)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "config=%s/%s", dir, conf);
	return buf;
}

/*
 * Call one module function directly, with our config, to see its very
 * return code.  Only for refusals and PAM_IGNORE: libpam lets only a
 * module inside a stack set PAM_AUTHTOK or PAM data.
 */
static int call(sm_fn fn, pam_handle_t *pamh, const char *conf)
{
	const char *argv[] = { args(conf) };

	return fn(pamh, 0, 1, argv);
}

static int auth_with(const char *user, const char *token)
{
	pam_handle_t *pamh = start("agent", user);
	int r;

	answer.kind = ANSWER;
	answer.text = token;
	r = pam_authenticate(pamh, 0);
	pam_end(pamh, r);
	return r;
}

/* Remember a session's cgroup so main() can remove it afterwards. */
static void note_cgroup(const char *id)
{
	char path[256], list[128];
	struct ag_session s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/run/sessions/%s", dir, id);
	if (ag_session_read(path, &s) < 0 || !s.cgroup[0])
		return;
	snprintf(list, sizeof(list), "%s/cgroups", dir);
	f = fopen(list, "a");
	if (f) {
		fprintf(f, "%s\n", s.cgroup);
		fclose(f);
	}
}

/* ---- the good path ---- */

START_TEST(good_token_passes_auth_account_and_session)
{
	char *tok = good_token("agent-ok"), path[256];
	pam_handle_t *pamh = start("agent", "agent-ok");
	const char *id, *exp;
	uint32_t uid = ag_uid_hash("agent-ok", 70000, 79999);
	struct stat st;

	answer.kind = ANSWER;
	answer.text = tok;
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_open_session(pamh, 0), PAM_SUCCESS);

	id = pam_getenv(pamh, "AGENTGATE_SESSION_ID");
	exp = pam_getenv(pamh, "AGENTGATE_EXPIRES_AT");
	ck_assert_ptr_nonnull(id);
	ck_assert_ptr_nonnull(exp);
	ck_assert_uint_eq(strlen(id), AG_SESSION_ID_LEN);
	ck_assert_ptr_null(pam_getenv(pamh, "AGENTGATE_PENDING"));
	note_cgroup(id);

	snprintf(path, sizeof(path), "%s/run/sessions/%s", dir, id);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/home/agent-ok", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, uid);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);

	snprintf(path, sizeof(path), "%s/run/sessions/%s", dir, id);
	ck_assert_int_eq(pam_close_session(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(access(path, F_OK), -1);
	pam_end(pamh, PAM_SUCCESS);
	free(tok);
}
END_TEST

/* An issuer clock ahead within the leeway buys no extra time. */
START_TEST(session_never_outlasts_max_lifetime)
{
	char *tok = token_for("agent-o", AUD, 4, 3600, NULL);
	pam_handle_t *pamh = start("agent", "agent-o");
	const char *exp;
	time_t now = time(NULL);

	answer.kind = ANSWER;
	answer.text = tok;
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	note_cgroup(pam_getenv(pamh, "AGENTGATE_SESSION_ID"));
	exp = pam_getenv(pamh, "AGENTGATE_EXPIRES_AT");
	ck_assert_ptr_nonnull(exp);
	ck_assert_int_le(atoll(exp), (long long)now + 3600 + 1);
	pam_close_session(pamh, 0);
	pam_end(pamh, PAM_SUCCESS);
	free(tok);
}
END_TEST

START_TEST(login_registers_the_uid_for_good)
{
	struct ag_userdb db = { 0 };
	char state[128], *tok = good_token("agent-a");
	uint32_t uid = 0;

	ck_assert_int_eq(auth_with("agent-a", tok), PAM_SUCCESS);
	snprintf(state, sizeof(state), "%s/state", dir);
	ck_assert_int_eq(ag_userdb_refresh(&db, state), 0);
	ck_assert_int_eq(ag_userdb_find_name(&db, "agent-a", &uid), 0);
	ck_assert_uint_eq(uid, ag_uid_hash("agent-a", 70000, 79999));
	ag_userdb_close(&db);
	free(tok);
}
END_TEST

START_TEST(session_records_granted_groups_only)
{
	char *tok = token_for("agent-b", AUD, 0, 300,
		",\"groups\":[\"adm\",\"root\"]");
	pam_handle_t *pamh = start("agent", "agent-b");
	struct ag_session s;
	char path[256];

	answer.kind = ANSWER;
	answer.text = tok;
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
	note_cgroup(pam_getenv(pamh, "AGENTGATE_SESSION_ID"));

	snprintf(path, sizeof(path), "%s/run/sessions/%s", dir,
		pam_getenv(pamh, "AGENTGATE_SESSION_ID"));
	ck_assert_int_eq(ag_session_read(path, &s), 0);
	ck_assert_uint_eq(s.n_groups, 1);
	ck_assert_uint_eq(s.groups[0], 4);	/* adm; root not allowed */
	ck_assert_str_eq(s.user, "agent-b");
	ck_assert_int_eq(s.leader, getpid());

	pam_close_session(pamh, 0);
	pam_end(pamh, PAM_SUCCESS);
	free(tok);
}
END_TEST

/* ---- every way auth must fail ---- */

enum bad_kind {
	BAD_EXPIRED, BAD_AUDIENCE, BAD_OTHER_USER, BAD_SIGNATURE,
	BAD_EMPTY, BAD_BLANK, BAD_SSHD_JUNK, BAD_CONV, BAD_NULL,
	BAD_HMAC_WITH_PEM, BAD_NOT_YET, BAD_COUNT
};

static char *bad_token(enum bad_kind k)
{
	char pem[256], *text, *tok;
	size_t len;

	switch (k) {
	case BAD_EXPIRED:
		return token_for("agent-c", AUD, -400, 300, NULL);
	case BAD_NOT_YET:
		return token_for("agent-c", AUD, 120, 300,
			",\"nbf\":9999999999");
	case BAD_AUDIENCE:
		return token_for("agent-c", "other-host", 0, 300, NULL);
	case BAD_OTHER_USER:
		return good_token("agent-d");
	case BAD_SIGNATURE:
		return tg_sign(other_key, "ES256", "{\"alg\":\"ES256\"}",
			"{\"iss\":\"" ISS "\",\"sub\":\"agent-c\"}");
	case BAD_HMAC_WITH_PEM:
		snprintf(pem, sizeof(pem), "%s/corp.pem", dir);
		ck_assert_int_eq(ag_read_file(pem, 65536, &text, &len, NULL),
			0);
		tok = tg_sign_hmac(text, len, "{\"alg\":\"HS256\"}",
			"{\"iss\":\"" ISS "\",\"sub\":\"agent-c\"}");
		free(text);
		return tok;
	case BAD_EMPTY:
		return strdup("");
	case BAD_BLANK:
		return strdup("   \t ");
	case BAD_SSHD_JUNK:
		return strdup("\b\n\r\177INCORRECT");
	default:
		return strdup("unused");
	}
}

START_TEST(bad_answer_fails_auth)
{
	char *tok = bad_token((enum bad_kind)_i);
	pam_handle_t *pamh = start("agent", "agent-c");

	answer.kind = _i == BAD_CONV ? CONV_FAILS :
		_i == BAD_NULL ? NULL_RESPONSE : ANSWER;
	answer.text = tok;
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_AUTH_ERR);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_PERM_DENIED);
	pam_end(pamh, PAM_AUTH_ERR);
	free(tok);
}
END_TEST

START_TEST(single_use_token_is_refused_the_second_time)
{
	char *tok = good_token("agent-e");

	ck_assert_int_eq(auth_with("agent-e", tok), PAM_SUCCESS);
	ck_assert_int_eq(auth_with("agent-e", tok), PAM_AUTH_ERR);
	free(tok);
}
END_TEST

static struct ag_config *load_test_config(void)
{
	struct ag_config *cfg = NULL;
	char conf[128], err[256];

	snprintf(conf, sizeof(conf), "%s/agentgate.conf", dir);
	ck_assert_int_eq(ag_config_load(conf, &cfg, err, sizeof(err)), 0);
	return cfg;
}

START_TEST(revoked_jti_is_refused_and_only_it)
{
	struct ag_config *cfg = load_test_config();
	char *tok = good_token("agent-f"), *other;

	ck_assert_int_eq(ag_revoke_add(cfg, AG_REVOKE_JTI, "corp", last_jti,
		0, time(NULL) + 3600, "test"), 0);
	other = good_token("agent-f");
	ck_assert_int_eq(auth_with("agent-f", tok), PAM_AUTH_ERR);
	ck_assert_int_eq(auth_with("agent-f", other), PAM_SUCCESS);
	ag_config_free(cfg);
	free(other);
	free(tok);
}
END_TEST

START_TEST(revoked_user_is_refused)
{
	struct ag_config *cfg = load_test_config();
	char *tok = good_token("agent-f");

	/* Every token of agent-f issued up to now. */
	ck_assert_int_eq(ag_revoke_add(cfg, AG_REVOKE_USER, "corp",
		"agent-f", time(NULL) + 1, time(NULL) + 3600, "test"), 0);
	ck_assert_int_eq(auth_with("agent-f", tok), PAM_AUTH_ERR);
	ag_config_free(cfg);
	free(tok);
}
END_TEST

START_TEST(malformed_agent_name_is_refused)
{
	pam_handle_t *pamh = start("agent", "agent-Upper");

	answer.kind = ANSWER;
	answer.text = "x";
	ck_assert_int_eq(call(sm_auth, pamh, "agentgate.conf"), PAM_AUTH_ERR);
	pam_end(pamh, PAM_AUTH_ERR);
}
END_TEST

START_TEST(uid_of_another_name_is_refused)
{
	char state[128], *tok = good_token("agent-taken");
	uint32_t uid = ag_uid_hash("agent-taken", 70000, 79999);
	const char *name = "agent-squatter";

	snprintf(state, sizeof(state), "%s/state", dir);
	ck_assert_int_eq(ag_userdb_register_many(state, &name, &uid, 1), 0);
	ck_assert_int_eq(auth_with("agent-taken", tok), PAM_AUTH_ERR);
	free(tok);
}
END_TEST

/* ---- humans ---- */

START_TEST(human_is_ignored_by_every_step)
{
	static const char *const confs[] = {
		"agentgate.conf", "broken.conf", "no-such.conf", "daemon.conf"
	};
	pam_handle_t *pamh = start("agent", "alice");

	answer.kind = ANSWER;
	answer.text = "hunter2";
	for (size_t i = 0; i < AG_ARRAY_SIZE(confs); i++) {
		ck_assert_int_eq(call(sm_auth, pamh, confs[i]), PAM_IGNORE);
		ck_assert_int_eq(call(sm_acct, pamh, confs[i]), PAM_IGNORE);
		ck_assert_int_eq(call(sm_open, pamh, confs[i]), PAM_IGNORE);
		ck_assert_int_eq(call(sm_close, pamh, confs[i]), PAM_IGNORE);
	}
	pam_end(pamh, PAM_SUCCESS);
}
END_TEST

START_TEST(human_logs_in_through_stack_whatever_the_config)
{
	static const char *const services[] = {
		"agent", "broken", "missing", "daemon"
	};

	for (size_t i = 0; i < AG_ARRAY_SIZE(services); i++) {
		pam_handle_t *pamh = start(services[i], "alice");

		answer.kind = ANSWER;
		answer.text = "hunter2";
		ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
		ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);
		ck_assert_int_eq(pam_open_session(pamh, 0), PAM_SUCCESS);
		ck_assert_int_eq(pam_close_session(pamh, 0), PAM_SUCCESS);
		pam_end(pamh, PAM_SUCCESS);
	}
}
END_TEST

START_TEST(agent_is_refused_when_config_is_garbage)
{
	char *tok = good_token("agent-g");
	pam_handle_t *pamh = start("broken", "agent-g");

	answer.kind = ANSWER;
	answer.text = tok;
	ck_assert_int_eq(call(sm_auth, pamh, "broken.conf"), PAM_AUTH_ERR);
	ck_assert_int_eq(call(sm_acct, pamh, "broken.conf"), PAM_PERM_DENIED);
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_AUTH_ERR);
	pam_end(pamh, PAM_AUTH_ERR);
	free(tok);
}
END_TEST

/* ---- account ---- */

START_TEST(account_without_token_is_denied)
{
	pam_handle_t *pamh = start("agent", "agent-h");

	/* Public key, cron, su: nobody ran auth with a token. */
	ck_assert_int_eq(call(sm_acct, pamh, "agentgate.conf"),
		PAM_PERM_DENIED);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_PERM_DENIED);
	ck_assert_int_eq(pam_open_session(pamh, 0), PAM_SESSION_ERR);
	pam_end(pamh, PAM_PERM_DENIED);
}
END_TEST

START_TEST(account_after_expiry_is_expired)
{
	char *tok = token_for("agent-i", AUD, 0, 2, NULL);
	pam_handle_t *pamh = start("agent", "agent-i");

	answer.kind = ANSWER;
	answer.text = tok;
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);
	sleep(3);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_ACCT_EXPIRED);
	ck_assert_int_eq(pam_open_session(pamh, 0), PAM_SESSION_ERR);
	pam_end(pamh, PAM_SUCCESS);
	free(tok);
}
END_TEST

/* ---- the token from an earlier module ---- */

static int auth_first_pass(const char *service, const char *user,
	const char *authtok, const char *typed)
{
	pam_handle_t *pamh = start(service, user);
	int r;

	if (authtok)
		setenv("PAM_AUTHTOK", authtok, 1);
	else
		unsetenv("PAM_AUTHTOK");
	answer.kind = typed ? ANSWER : CONV_FAILS;
	answer.text = typed;
	r = pam_authenticate(pamh, 0);
	pam_end(pamh, r);
	unsetenv("PAM_AUTHTOK");
	return r;
}

START_TEST(use_first_pass_takes_the_token_and_never_prompts)
{
	char *tok = good_token("agent-m");

	if (access(SET_ITEMS, R_OK) != 0)
		return;	/* no pam_wrapper test modules here */
	ck_assert_int_eq(auth_first_pass("first", "agent-m", tok, NULL),
		PAM_SUCCESS);
	ck_assert_int_eq(auth_first_pass("first", "agent-m", NULL, tok),
		PAM_AUTH_ERR);
	free(tok);
}
END_TEST

START_TEST(try_first_pass_prompts_when_nothing_was_handed_on)
{
	char *tok = good_token("agent-n"), *junk = strdup("not-a-token");

	if (access(SET_ITEMS, R_OK) != 0)
		return;
	ck_assert_int_eq(auth_first_pass("try", "agent-n", NULL, tok),
		PAM_SUCCESS);
	free(tok);
	tok = good_token("agent-n");
	/* A handed-on password that is not a token is not retried. */
	ck_assert_int_eq(auth_first_pass("try", "agent-n", junk, tok),
		PAM_AUTH_ERR);
	free(junk);
	free(tok);
}
END_TEST

/* ---- agentgated ---- */

START_TEST(agent_is_refused_while_daemon_is_down)
{
	char *tok = good_token("agent-j"), lock[128];
	pam_handle_t *pamh = start("daemon", "agent-j");
	int fd;

	answer.kind = ANSWER;
	answer.text = tok;
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_AUTH_ERR);

	/* Hold the daemon's lock as agentgated would. */
	snprintf(lock, sizeof(lock), "%s/run/agentgated.lock", dir);
	fd = open(lock, O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(pam_authenticate(pamh, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_SUCCESS);
	close(fd);
	ck_assert_int_eq(pam_acct_mgmt(pamh, 0), PAM_PERM_DENIED);
	pam_end(pamh, PAM_SUCCESS);
	free(tok);
}
END_TEST

/* ---- OpenSSH keyboard-interactive: auth in a child ---- */

START_TEST(approval_crosses_to_a_new_handle_through_pending_record)
{
	char *tok = good_token("agent-k"), env[80];
	pam_handle_t *child = start("agent", "agent-k"), *parent;
	const char *pending;

	answer.kind = ANSWER;
	answer.text = tok;
	ck_assert_int_eq(pam_authenticate(child, 0), PAM_SUCCESS);
	pending = pam_getenv(child, "AGENTGATE_PENDING");
	ck_assert_ptr_nonnull(pending);
	snprintf(env, sizeof(env), "AGENTGATE_PENDING=%s", pending);
	pam_end(child, PAM_SUCCESS);

	/* The same name presented for another user opens nothing. */
	parent = start("agent", "agent-l");
	ck_assert_int_eq(pam_putenv(parent, env), PAM_SUCCESS);
	ck_assert_int_eq(pam_open_session(parent, 0), PAM_SESSION_ERR);
	pam_end(parent, PAM_SUCCESS);

	parent = start("agent", "agent-k");
	ck_assert_int_eq(pam_putenv(parent, env), PAM_SUCCESS);
	ck_assert_int_eq(pam_acct_mgmt(parent, 0), PAM_SUCCESS);
	ck_assert_int_eq(pam_open_session(parent, 0), PAM_SUCCESS);
	note_cgroup(pam_getenv(parent, "AGENTGATE_SESSION_ID"));
	ck_assert_ptr_null(pam_getenv(parent, "AGENTGATE_PENDING"));
	ck_assert_int_eq(pam_close_session(parent, 0), PAM_SUCCESS);
	pam_end(parent, PAM_SUCCESS);

	/* Used once: a second session from the same record is refused. */
	parent = start("agent", "agent-k");
	ck_assert_int_eq(pam_putenv(parent, env), PAM_SUCCESS);
	ck_assert_int_eq(pam_open_session(parent, 0), PAM_SESSION_ERR);
	pam_end(parent, PAM_SUCCESS);
	free(tok);
}
END_TEST

static Suite *pam_suite(void)
{
	Suite *s = suite_create("pam");
	TCase *tc = tcase_create("stack");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, good_token_passes_auth_account_and_session);
	tcase_add_test(tc, login_registers_the_uid_for_good);
	tcase_add_test(tc, session_never_outlasts_max_lifetime);
	tcase_add_test(tc, session_records_granted_groups_only);
	tcase_add_loop_test(tc, bad_answer_fails_auth, 0, BAD_COUNT);
	tcase_add_test(tc, single_use_token_is_refused_the_second_time);
	tcase_add_test(tc, revoked_jti_is_refused_and_only_it);
	tcase_add_test(tc, revoked_user_is_refused);
	tcase_add_test(tc, malformed_agent_name_is_refused);
	tcase_add_test(tc, uid_of_another_name_is_refused);
	tcase_add_test(tc, human_is_ignored_by_every_step);
	tcase_add_test(tc, human_logs_in_through_stack_whatever_the_config);
	tcase_add_test(tc, agent_is_refused_when_config_is_garbage);
	tcase_add_test(tc, account_without_token_is_denied);
	tcase_add_test(tc, account_after_expiry_is_expired);
	tcase_add_test(tc, agent_is_refused_while_daemon_is_down);
	tcase_add_test(tc, use_first_pass_takes_the_token_and_never_prompts);
	tcase_add_test(tc, try_first_pass_prompts_when_nothing_was_handed_on);
	tcase_add_test(tc, approval_crosses_to_a_new_handle_through_pending_record);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * Run the suite in a child under nss_wrapper, so that
 * pam_modutil_getpwnam sees the agents the way sshd would see them
 * through the NSS module.  The parent waits and removes the scratch
 * directory (it holds a private key) and the session cgroups however
 * the child ended.
 */
static void remove_cgroups(void);
static void remove_tree(const char *path);
static void exec_under_nss_wrapper(char **argv)
	__attribute__((noreturn));

static int run_under_nss_wrapper(char **argv)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0)
		exec_under_nss_wrapper(argv);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = 99 << 8;
	remove_cgroups();
	remove_tree(dir);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "test_pam: suite killed by signal %d\n",
		WTERMSIG(status));
	return 99;
}

static void exec_under_nss_wrapper(char **argv)
{
	char passwd[128], group[128];

	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	setenv("NSS_WRAPPER_PASSWD", passwd, 1);
	setenv("NSS_WRAPPER_GROUP", group, 1);
	setenv("AG_TEST_DIR", dir, 1);
	setenv("LD_PRELOAD", "libnss_wrapper.so", 1);
	/* Under ASan the preload comes before its runtime; that is fine
	 * here, nss_wrapper does not allocate before main. */
	setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 0);
	execv("/proc/self/exe", argv);
	perror("execv");
	exit(99);
}

static void load_module(void)
{
	void *so = dlopen(MODULE, RTLD_NOW);

	if (!so) {
		fprintf(stderr, "%s\n", dlerror());
		exit(99);
	}
	sm_auth = (sm_fn)dlsym(so, "pam_sm_authenticate");
	sm_acct = (sm_fn)dlsym(so, "pam_sm_acct_mgmt");
	sm_open = (sm_fn)dlsym(so, "pam_sm_open_session");
	sm_close = (sm_fn)dlsym(so, "pam_sm_close_session");
}

/* Sessions moved test processes into cgroups; remove the groups. */
static void remove_cgroups(void)
{
	char list[128], line[600], mount[256], path[1024];
	FILE *f, *mi = fopen("/proc/self/mountinfo", "re");

	mount[0] = '\0';
	while (mi && fgets(line, sizeof(line), mi)) {
		char mp[256], fs[64];

		if (sscanf(line, "%*s %*s %*s %*s %255s %*[^-]- %63s", mp,
			    fs) == 2 && strcmp(fs, "cgroup2") == 0) {
			strcpy(mount, mp);
			break;
		}
	}
	if (mi)
		fclose(mi);
	snprintf(list, sizeof(list), "%s/cgroups", dir);
	f = fopen(list, "re");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sizeof(path), "%s%s", mount, line);
		rmdir(path);
	}
	if (f)
		fclose(f);
}

static void remove_tree(const char *path)
{
	char cmd[256];

	/* Our own mkdtemp directory, nothing else. */
	if (strncmp(path, "/tmp/agpam", 10) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", path);
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "test_pam: needs root (skipped)\n");
		return 77;
	}
	if (!getenv("AG_TEST_DIR")) {
		setup_files();
		return run_under_nss_wrapper(argv);
	}
	snprintf(dir, sizeof(dir), "%s", getenv("AG_TEST_DIR"));
	key = NULL;
	load_module();
	{
		char path[256];
		FILE *f;

		/* The child re-reads the signing key the parent made. */
		snprintf(path, sizeof(path), "%s/corp.key", dir);
		f = fopen(path, "re");
		key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
		other_key = tg_keygen("P-256");
	}

	sr = srunner_create(pam_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);

	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
