/* auth and account: the token decides. */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "approval.h"
#include "pam_agentgate.h"
#include "session.h"
#include "userdb.h"

#define PROMPT "Agent token: "

const char *log_safe(const char *s, char *buf, size_t len)
{
	size_t i;

	if (!s || !*s)
		return "-";
	for (i = 0; s[i] && i + 1 < len; i++) {
		bool ok = s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' &&
			s[i] != '\\';

		buf[i] = ok ? s[i] : '?';
	}
	buf[i] = '\0';
	return buf;
}

/* For free text inside "...": spaces stay, quotes do not. */
static const char *log_text(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++) {
		bool ok = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' &&
			s[i] != '\\';

		buf[i] = ok ? s[i] : '?';
	}
	buf[i] = '\0';
	return buf;
}

void log_decision(struct module *m, const char *event, bool allowed,
	const char *reason, const struct approval *a, const char *extra)
{
	char user[AG_NAME_MAX + 1], rhost[256], jti[AG_JTI_MAX + 1];

	pam_syslog(m->pamh, allowed ? LOG_INFO : LOG_NOTICE,
		"event=%s result=%s user=%s issuer=%s jti=%s rhost=%s "
		"reason=%s expires=%lld%s%s",
		event, allowed ? "allow" : "deny",
		log_safe(m->user, user, sizeof(user)),
		m->issuer ? m->issuer->name : "-",
		a ? log_safe(a->jti, jti, sizeof(jti)) : "-",
		log_safe(m->rhost, rhost, sizeof(rhost)), reason,
		a ? (long long)a->exp : 0LL, extra ? " " : "",
		extra ? extra : "");
}

/* The token from an earlier module, or from the user. */
static int get_token(struct module *m, const char **token)
{
	const void *item = NULL;
	char *answer = NULL;
	int r;

	if (m->use_first_pass || m->try_first_pass) {
		r = pam_get_item(m->pamh, PAM_AUTHTOK, &item);
		if (r == PAM_SUCCESS && item) {
			*token = item;
			return PAM_SUCCESS;
		}
		if (m->use_first_pass)
			return PAM_AUTH_ERR;
	}

	r = pam_prompt(m->pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", PROMPT);
	if (r != PAM_SUCCESS || !answer) {
		free(answer);
		return r == PAM_SUCCESS ? PAM_CONV_ERR : r;
	}
	/* PAM owns it from here and wipes it at pam_end. */
	r = pam_set_item(m->pamh, PAM_AUTHTOK, answer);
	memset(answer, 0, strlen(answer));
	free(answer);
	if (r != PAM_SUCCESS)
		return r;
	r = pam_get_item(m->pamh, PAM_AUTHTOK, &item);
	if (r != PAM_SUCCESS || !item)
		return PAM_AUTH_ERR;
	*token = item;
	return PAM_SUCCESS;
}

static bool blank(const char *s)
{
	for (; *s; s++) {
		if (!isspace((unsigned char)*s))
			return false;
	}
	return true;
}

static bool registered_as(const struct ag_userdb *db, const char *name,
	uint32_t uid)
{
	uint32_t found;

	return ag_userdb_find_name(db, name, &found) == 0 && found == uid;
}

/*
 * The uid this name gets for good.  It must be the one NSS gave sshd
 * before authentication, and nobody else's.
 */
static enum ag_reason claim_uid(struct module *m, uint32_t *uid,
	char *detail, size_t len)
{
	struct ag_userdb db = { 0 };
	const struct passwd *pw;
	int r;

	r = ag_userdb_refresh(&db, m->cfg->state_dir);
	if (r < 0 && r != -ENOENT) {
		snprintf(detail, len, "uid registry unreadable: %s",
			strerror(-r));
		return AG_R_INTERNAL;
	}
	r = ag_userdb_resolve(&db, m->issuer, m->user, uid);
	/* Registered already: no lock, no rewrite on every login. */
	if (r == 0 && !registered_as(&db, m->user, *uid))
		r = ag_userdb_register(m->cfg->state_dir, m->user, *uid);
	ag_userdb_close(&db);
	if (r == -EEXIST || r == -EADDRINUSE) {
		snprintf(detail, len, "uid %u belongs to another user", *uid);
		return AG_R_UID_TAKEN;
	}
	if (r < 0) {
		snprintf(detail, len, "cannot register uid: %s", strerror(-r));
		return AG_R_INTERNAL;
	}

	pw = pam_modutil_getpwnam(m->pamh, m->user);
	if (!pw || pw->pw_uid != *uid) {
		snprintf(detail, len, "name resolves to another account");
		return AG_R_UID_TAKEN;
	}
	return AG_OK;
}

static enum ag_reason check_daemon(struct module *m, char *detail,
	size_t len)
{
	if (!m->cfg->require_daemon || ag_daemon_running(m->cfg) == 1)
		return AG_OK;
	snprintf(detail, len, "agentgated is not running");
	return AG_R_DAEMON_DOWN;
}

static void fill_approval(struct module *m, const struct ag_token_info *t,
	uint32_t uid, struct approval *a)
{
	int64_t cap = (int64_t)time(NULL) + m->issuer->max_lifetime;

	memset(a, 0, sizeof(*a));
	snprintf(a->user, sizeof(a->user), "%s", m->user);
	snprintf(a->issuer, sizeof(a->issuer), "%s", m->issuer->name);
	snprintf(a->jti, sizeof(a->jti), "%s", t->jti);
	a->iat = t->iat;
	/*
	 * An issuer clock ahead by up to the leeway makes exp - now longer
	 * than exp - iat: the session ends max_lifetime from now at most.
	 */
	a->exp = t->exp < cap ? t->exp : cap;
	a->groups = t->groups;
	a->uid = uid;
}

/*
 * Parsed issuer keys, kept while the module stays loaded: OpenSSL 3
 * takes longer to decode a PEM key than to verify a signature with
 * it.  The keyring re-reads a file whenever it changes, so rotation
 * still works; keyring_lock serialises users of this one keyring in
 * threaded applications.  sshd loads the module afresh in each
 * connection's process, so there the first login still parses.
 */
static pthread_mutex_t keyring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ag_keyring *keyring;

static enum ag_reason validate(struct module *m, const char *token,
	struct ag_token_info *info, char *detail, size_t len)
{
	enum ag_reason reason = AG_R_INTERNAL;

	pthread_mutex_lock(&keyring_lock);
	if (!keyring)
		keyring = ag_keyring_new();
	if (keyring)
		reason = ag_approval_check(m->cfg, keyring, token, m->user,
			time(NULL), true, info, detail, len);
	else
		snprintf(detail, len, "out of memory");
	pthread_mutex_unlock(&keyring_lock);
	return reason;
}

/* libpam dlcloses the module at pam_end: free what we kept. */
__attribute__((destructor)) static void free_keyring(void)
{
	ag_keyring_free(keyring);
	keyring = NULL;
}

static void log_auth(struct module *m, enum ag_reason reason,
	const struct ag_token_info *info, const char *detail)
{
	struct approval a = { 0 };
	char extra[400], kid[AG_KID_MAX + 1], safe[256];

	snprintf(a.jti, sizeof(a.jti), "%s", info->jti[0] ? info->jti : "-");
	a.exp = info->exp;
	snprintf(extra, sizeof(extra), "kid=%s fp=%s detail=\"%s\"",
		info->kid[0] ? log_safe(info->kid, kid, sizeof(kid)) : "-",
		info->fingerprint[0] ? info->fingerprint : "-",
		log_text(detail, safe, sizeof(safe)));
	log_decision(m, "auth", reason == AG_OK, ag_reason_str(reason), &a,
		extra);
}

int module_authenticate(struct module *m)
{
	struct ag_token_info info = { 0 };
	struct approval a;
	char detail[256] = "";
	enum ag_reason reason;
	const char *token = NULL;
	uint32_t uid = 0;
	int r;

	r = get_token(m, &token);
	if (r != PAM_SUCCESS) {
		log_decision(m, "auth", false, "no_token", NULL, NULL);
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_AUTH_ERR;
	}
	if (blank(token)) {
		log_decision(m, "auth", false, "empty_token", NULL, NULL);
		return PAM_AUTH_ERR;
	}
	/*
	 * A name NSS does not answer for (its uid belongs to another name,
	 * or the registry is unreadable) reaches us with sshd's junk in
	 * place of the token: say why, rather than "malformed".
	 */
	if (!pam_modutil_getpwnam(m->pamh, m->user)) {
		log_decision(m, "auth", false, "unknown_account", NULL,
			"detail=\"the name does not resolve: uid taken by "
			"another name, or registry unreadable\"");
		return PAM_AUTH_ERR;
	}

	reason = check_daemon(m, detail, sizeof(detail));
	if (reason == AG_OK)
		reason = validate(m, token, &info, detail, sizeof(detail));
	if (reason == AG_OK)
		reason = claim_uid(m, &uid, detail, sizeof(detail));
	if (reason == AG_OK) {
		fill_approval(m, &info, uid, &a);
		if (approval_save(m, &a) < 0) {
			reason = AG_R_INTERNAL;
			snprintf(detail, sizeof(detail), "cannot keep approval");
		}
	}

	/* OpenSSH's client cuts what it reads at 1023 bytes. */
	if (reason == AG_R_MALFORMED && strlen(token) == 1023)
		snprintf(detail, sizeof(detail), "token of exactly 1023 "
			"bytes: cut by the ssh client? keep tokens short");
	log_auth(m, reason, &info, detail);
	ag_token_info_clear(&info);
	return reason == AG_OK ? PAM_SUCCESS : PAM_AUTH_ERR;
}

int module_account(struct module *m)
{
	struct approval a;
	char detail[256] = "", extra[300], safe[256];
	enum ag_reason reason;
	const struct ag_issuer *is = m->issuer;

	/* No token in this transaction: public key, cron, su, sudo. */
	if (approval_load(m, &a) < 0 || strcmp(a.user, m->user) != 0 ||
	    strcmp(a.issuer, is->name) != 0) {
		log_decision(m, "account", false, "no_token", NULL, NULL);
		return PAM_PERM_DENIED;
	}

	reason = check_daemon(m, detail, sizeof(detail));
	if (reason == AG_OK)
		reason = ag_approval_recheck(m->cfg, is, a.user, a.jti, a.iat,
			a.exp, time(NULL), detail, sizeof(detail));
	snprintf(extra, sizeof(extra), "detail=\"%s\"",
		log_text(detail, safe, sizeof(safe)));
	log_decision(m, "account", reason == AG_OK, ag_reason_str(reason), &a,
		detail[0] ? extra : NULL);

	if (reason == AG_R_EXPIRED)
		return PAM_ACCT_EXPIRED;
	return reason == AG_OK ? PAM_SUCCESS : PAM_PERM_DENIED;
}
