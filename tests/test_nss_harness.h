/*
 * Shared set-up for the NSS tests.  Each test binary compiles its own
 * copy of the module with AG_SYSCONFDIR pointing at ROOT/etc in the
 * build tree, so binaries can run in parallel and production builds
 * carry no test hook.  ROOT holds etc/, state/ and run/.
 *
 * The module trusts only root-owned files, so these tests need root;
 * without it they exit 77 (automake: skipped).
 */
#ifndef AG_TEST_NSS_HARNESS_H
#define AG_TEST_NSS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The test config's one issuer. */
#define T_PREFIX "agent-"
#define T_UID_MIN 1879048192u
#define T_UID_MAX 2147483646u
#define T_PINNED "agent-pinned"
#define T_PINNED_UID 1879048200u

/* Skip unless root; wipe and recreate ROOT with a valid config. */
void nss_test_setup(const char *root);

/* Use ROOT as set up earlier (by another process). */
void nss_test_attach(const char *root);

const char *nss_test_root(void);
const char *nss_test_state_dir(void);
const char *nss_test_config_path(void);

/* Replace the config with TEXT (root-owned, 0644). */
void nss_test_write_config(const char *text);
void nss_test_write_default_config(void);

/* A live session record for USER with N supplementary gids. */
void nss_test_add_session(const char *user, uint32_t uid,
	const gid_t *gids, unsigned n);

/* The same, recording the session's CGROUP path and AUDIT_SID. */
void nss_test_add_session_in(const char *user, uint32_t uid,
	const char *cgroup, uint32_t audit_sid, const gid_t *gids,
	unsigned n);
void nss_test_clear_sessions(void);

/* Remove users.db. */
void nss_test_clear_userdb(void);

/* users.db path, for corrupting it. */
const char *nss_test_userdb_path(void);

#endif
