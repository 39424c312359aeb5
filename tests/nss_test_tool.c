/*
 * Set-up steps for the shell tests of the NSS module (getent through
 * nss_wrapper): the same harness the C tests use, from the command line.
 *
 *   nss_test_tool ROOT setup
 *   nss_test_tool ROOT register NAME
 *   nss_test_tool ROOT session NAME [GID...]
 *   nss_test_tool ROOT uid NAME          prints the hash uid
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "session.h"
#include "test_nss_harness.h"
#include "userdb.h"

static uint32_t hash_uid(const char *name)
{
	return ag_uid_hash(name, T_UID_MIN, T_UID_MAX);
}

static int session(const char *name, int argc, char **argv)
{
	gid_t gids[AG_GROUPS_MAX];
	unsigned n = 0;

	for (int i = 0; i < argc && n < AG_GROUPS_MAX; i++)
		gids[n++] = (gid_t)strtoul(argv[i], NULL, 10);
	nss_test_add_session(name, hash_uid(name), gids, n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (strcmp(argv[2], "setup") == 0) {
		nss_test_setup(argv[1]);
		return 0;
	}
	nss_test_attach(argv[1]);
	if (argc >= 4 && strcmp(argv[2], "register") == 0)
		return ag_userdb_register(nss_test_state_dir(), argv[3],
			hash_uid(argv[3])) == 0 ? 0 : 1;
	if (argc >= 4 && strcmp(argv[2], "session") == 0)
		return session(argv[3], argc - 4, argv + 4);
	if (argc >= 4 && strcmp(argv[2], "uid") == 0) {
		printf("%u\n", hash_uid(argv[3]));
		return 0;
	}
	return 2;
}
