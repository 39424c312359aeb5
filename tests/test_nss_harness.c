/* Set-up shared by the NSS tests; see test_nss_harness.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "test_nss_harness.h"
#include "util.h"

static char root_dir[PATH_MAX];
static char state_dir[PATH_MAX];
static char run_dir[PATH_MAX];
static char conf_path[PATH_MAX];
static char db_path[PATH_MAX];

static void die(const char *what, int err)
{
	fprintf(stderr, "nss test setup: %s: %s\n", what, strerror(err));
	exit(99);	/* automake: hard error */
}

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		die(cmd, EIO);
}

void nss_test_attach(const char *root)
{
	if (ag_path(root_dir, sizeof(root_dir), "%s", root) < 0 ||
		ag_path(state_dir, sizeof(state_dir), "%s/state", root) < 0 ||
		ag_path(run_dir, sizeof(run_dir), "%s/run", root) < 0 ||
		ag_path(conf_path, sizeof(conf_path), "%s%s", root,
			"/etc/agentgate/agentgate.conf") < 0 ||
		ag_path(db_path, sizeof(db_path), "%s/users.db",
			state_dir) < 0)
		die(root, ENAMETOOLONG);
}

void nss_test_setup(const char *root)
{
	char cmd[PATH_MAX + 16];

	if (geteuid() != 0) {
		fprintf(stderr, "needs root (trust checks): skipped\n");
		exit(77);
	}
	nss_test_attach(root);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	run(cmd);
	snprintf(cmd, sizeof(cmd), "%s/etc/agentgate", root);
	if (ag_mkdir_p(cmd, 0755) < 0 || ag_mkdir_p(state_dir, 0755) < 0 ||
		ag_mkdir_p(run_dir, 0755) < 0)
		die("mkdir", errno);
	nss_test_write_default_config();
}

const char *nss_test_root(void)
{
	return root_dir;
}

const char *nss_test_state_dir(void)
{
	return state_dir;
}

const char *nss_test_config_path(void)
{
	return conf_path;
}

const char *nss_test_userdb_path(void)
{
	return db_path;
}

void nss_test_write_config(const char *text)
{
	int r = ag_write_file_atomic(conf_path, text, strlen(text), 0644);

	if (r < 0)
		die(conf_path, -r);
}

void nss_test_write_default_config(void)
{
	static char text[4 * PATH_MAX + 512];

	snprintf(text, sizeof(text),
		"[agentgate]\n"
		"state_dir = %s\n"
		"runtime_dir = %s\n"
		"\n"
		"[issuer ci]\n"
		"iss = https://ci.example.test\n"
		"keys = %s/etc/agentgate/ci.pem\n"
		"prefix = " T_PREFIX "\n"
		"uid_range = %u-%u\n"
		"pins = " T_PINNED ":%u\n"
		"home_base = /home/agents\n"
		"shell = /bin/bash\n",
		state_dir, run_dir, root_dir, T_UID_MIN, T_UID_MAX,
		T_PINNED_UID);
	nss_test_write_config(text);
}

static struct ag_config *session_cfg(void)
{
	static struct ag_config cfg;

	cfg.runtime_dir = run_dir;
	cfg.state_dir = state_dir;
	return &cfg;
}

void nss_test_add_session(const char *user, uint32_t uid,
	const gid_t *gids, unsigned n)
{
	nss_test_add_session_in(user, uid, "", (uint32_t)-1, gids, n);
}

void nss_test_add_session_in(const char *user, uint32_t uid,
	const char *cgroup, uint32_t audit_sid, const gid_t *gids,
	unsigned n)
{
	struct ag_session s;
	int r;

	memset(&s, 0, sizeof(s));
	if (ag_random_hex(s.id, AG_SESSION_ID_LEN / 2) < 0)
		die("random", EIO);
	snprintf(s.user, sizeof(s.user), "%s", user);
	s.uid = uid;
	snprintf(s.issuer, sizeof(s.issuer), "ci");
	snprintf(s.jti, sizeof(s.jti), "jti-%s", s.id);
	s.expires = 4102444800;	/* 2100-01-01 */
	s.started = 1700000000;
	s.leader = 1;
	snprintf(s.cgroup, sizeof(s.cgroup), "%s", cgroup);
	s.audit_sid = audit_sid;
	for (unsigned i = 0; i < n && i < AG_GROUPS_MAX; i++)
		s.groups[s.n_groups++] = gids[i];
	r = ag_session_write(session_cfg(), &s);
	if (r < 0)
		die("ag_session_write", -r);
}

void nss_test_clear_sessions(void)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/sessions'", run_dir);
	run(cmd);
}

void nss_test_clear_userdb(void)
{
	if (unlink(db_path) < 0 && errno != ENOENT)
		die(db_path, errno);
}
