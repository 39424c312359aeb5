/*
 * pam_agentgate.so: agents log in with a short-lived signed token.
 *
 * Every entry point first decides whose login this is.  A name in no
 * agent namespace gets PAM_IGNORE, whatever state agentgate is in, so
 * that a broken agentgate never locks out a human.  For an agent name
 * every failure is a denial.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "names.h"
#include "pam_agentgate.h"
#include "util.h"

static int parse_args(struct module *m, int argc, const char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "debug") == 0)
			m->debug = true;
		else if (strcmp(a, "use_first_pass") == 0)
			m->use_first_pass = true;
		else if (strcmp(a, "try_first_pass") == 0)
			m->try_first_pass = true;
		else if (strncmp(a, "config=", 7) == 0 && a[7] == '/')
			m->config_path = a + 7;
		else {
			pam_syslog(m->pamh, LOG_ERR,
				"event=config result=error reason=bad_argument "
				"argument=\"%.64s\"", a);
			return -1;
		}
	}
	return 0;
}

/* The config is broken: is USER nonetheless meant to be an agent? */
static bool broken_config_names_agent(const char *path, const char *user)
{
	char *text;
	size_t len;
	bool agent;

	if (ag_read_file(path, 1024 * 1024, &text, &len, NULL) < 0)
		return false;
	agent = ag_config_name_looks_agent(text, len, user);
	free(text);
	return agent;
}

static int load_config(struct module *m, int *code)
{
	char err[512], safe[64];

	if (ag_config_load(m->config_path, &m->cfg, err, sizeof(err)) == 0)
		return 0;

	if (broken_config_names_agent(m->config_path, m->user)) {
		pam_syslog(m->pamh, LOG_ERR, "event=config result=deny "
			"user=%s reason=bad_config error=\"%s\"",
			log_safe(m->user, safe, sizeof(safe)), err);
		*code = m->deny;
		return -1;
	}
	if (m->debug)
		pam_syslog(m->pamh, LOG_DEBUG, "event=config result=ignore "
			"error=\"%s\"", err);
	*code = PAM_IGNORE;
	return -1;
}

static bool in_some_namespace(const struct ag_config *cfg,
	const char *user)
{
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		const char *prefix = cfg->issuers[i].prefix;

		if (strncmp(user, prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

int module_open(struct module *m, pam_handle_t *pamh, int argc,
	const char **argv, int deny, int *code)
{
	const void *item = NULL;
	bool bad_args;

	memset(m, 0, sizeof(*m));
	m->pamh = pamh;
	m->deny = deny;
	m->config_path = AG_CONFIG_PATH;
	bad_args = parse_args(m, argc, argv) < 0;

	if (pam_get_user(pamh, &m->user, NULL) != PAM_SUCCESS || !m->user) {
		*code = PAM_USER_UNKNOWN;
		return -1;
	}
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item)
		m->rhost = item;

	if (load_config(m, code) < 0)
		return -1;

	m->issuer = ag_config_issuer_for_name(m->cfg, m->user);
	if (m->issuer && !bad_args)
		return 0;
	if (m->issuer) {
		/* A stack we do not understand must not admit agents. */
		*code = m->deny;
		return -1;
	}
	if (in_some_namespace(m->cfg, m->user)) {
		/* Starts like an agent name but breaks the grammar. */
		log_decision(m, "login", false, "bad_user_name", NULL, NULL);
		*code = m->deny;
		return -1;
	}
	*code = PAM_IGNORE;
	return -1;
}

void module_close(struct module *m)
{
	ag_config_free(m->cfg);
	m->cfg = NULL;
}

typedef int (*step_fn)(struct module *m);

/* DENY is what this step returns for an agent it cannot serve. */
static int run(pam_handle_t *pamh, int argc, const char **argv,
	step_fn step, int deny)
{
	struct module m;
	int code;

	if (module_open(&m, pamh, argc, argv, deny, &code) < 0) {
		module_close(&m);
		return code;
	}
	code = step(&m);
	module_close(&m);
	return code;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags,
	int argc, const char **argv)
{
	return run(pamh, argc, argv, module_authenticate, PAM_AUTH_ERR);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
	const char **argv)
{
	/* Nothing to hand out: the token is the only credential. */
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
	const char **argv)
{
	return run(pamh, argc, argv, module_account, PAM_PERM_DENIED);
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags,
	int argc, const char **argv)
{
	return run(pamh, argc, argv, module_open_session,
		PAM_SESSION_ERR);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags,
	int argc, const char **argv)
{
	return run(pamh, argc, argv, module_close_session,
		PAM_SESSION_ERR);
}

PAM_EXTERN int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
	const char **argv)
{
	/* Agents have no password to change; humans are not ours. */
	return PAM_IGNORE;
}
