/* Internals shared by the files of pam_agentgate.so. */
#ifndef PAM_AGENTGATE_H
#define PAM_AGENTGATE_H

#include <stdbool.h>
#include <stdint.h>

#include <security/pam_modules.h>

#include "config.h"
#include "token.h"

/* What a validated token approved, kept for the rest of the login. */
struct approval {
	char user[AG_NAME_MAX + 1];
	char issuer[64];
	char jti[AG_JTI_MAX + 1];
	int64_t iat;
	int64_t exp;
	uint32_t groups;	/* bits of issuer->groups */
	uint32_t uid;
};

struct module {
	pam_handle_t *pamh;
	int deny;		/* this step's code for "agent refused" */
	bool debug;
	bool use_first_pass;
	bool try_first_pass;
	const char *config_path;
	const char *user;
	const char *rhost;
	struct ag_config *cfg;
	const struct ag_issuer *issuer;
};

/* Outcome of setting up a call: go on, or return CODE right away. */
int module_open(struct module *m, pam_handle_t *pamh, int argc,
	const char **argv, int deny, int *code);
void module_close(struct module *m);

int module_authenticate(struct module *m);
int module_account(struct module *m);
int module_open_session(struct module *m);
int module_close_session(struct module *m);

/* Approval hand-over between auth and later steps (approval.c). */
int approval_save(struct module *m, const struct approval *a);
int approval_load(struct module *m, struct approval *a);
void approval_drop_pending(struct module *m);

/*
 * One syslog line per decision, stable key=value fields; the token
 * never appears, only its short fingerprint.
 */
void log_decision(struct module *m, const char *event, bool allowed,
	const char *reason, const struct approval *a, const char *extra);

/* Copy S into BUF with anything outside [!-~] replaced by '?'. */
const char *log_safe(const char *s, char *buf, size_t len);

#endif
