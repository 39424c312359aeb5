/*
 * 16 threads looking agents up by name, uid and group, plus initgroups
 * and non-agent names, while another thread keeps registering agents
 * (users.db replaced under them) and rewriting the config (reloaded
 * under them).  Every answer must be right or a clean NOTFOUND for a
 * uid not yet registered; run under ASan for memory errors.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "names.h"
#include "nss_agentgate.h"
#include "test_nss_harness.h"
#include "userdb.h"

#define ROOT BUILDDIR "/nss-stress.d"
#define THREADS 16
#define ROUNDS 4000
#define NAMES 512

static char names[NAMES][AG_NAME_MAX + 1];
static atomic_int failures;
static atomic_bool writer_done;

static uint32_t hash_uid(const char *name)
{
	return ag_uid_hash(name, T_UID_MIN, T_UID_MAX);
}

static void fail(const char *what, const char *name)
{
	fprintf(stderr, "FAIL: %s for %s\n", what, name);
	atomic_fetch_add(&failures, 1);
}

static void check_name(const char *name, char *buf, size_t len)
{
	struct passwd pw;
	struct group gr;
	int err = 0;

	if (_nss_agentgate_getpwnam_r(name, &pw, buf, len, &err) !=
			NSS_STATUS_SUCCESS || pw.pw_uid != hash_uid(name) ||
		strcmp(pw.pw_name, name) != 0)
		fail("getpwnam", name);
	if (_nss_agentgate_getgrnam_r(name, &gr, buf, len, &err) !=
			NSS_STATUS_SUCCESS || gr.gr_gid != hash_uid(name))
		fail("getgrnam", name);
}

/* Registered or not yet: either the right name or NOTFOUND. */
static void check_uid(const char *name, char *buf, size_t len)
{
	struct passwd pw;
	int err = 0;
	enum nss_status st = _nss_agentgate_getpwuid_r(hash_uid(name), &pw,
		buf, len, &err);

	if (st == NSS_STATUS_SUCCESS ? strcmp(pw.pw_name, name) != 0 :
			st != NSS_STATUS_NOTFOUND)
		fail("getpwuid", name);
}

static void check_other(char *buf, size_t len)
{
	long start = 1, size = 1;
	gid_t *groups = calloc(1, sizeof(*groups));
	struct passwd pw;
	int err = 0;

	if (_nss_agentgate_getpwnam_r("root", &pw, buf, len, &err) !=
		NSS_STATUS_NOTFOUND)
		fail("getpwnam", "root");
	if (_nss_agentgate_initgroups_dyn(names[0], 1, &start, &size,
			&groups, 0, &err) != NSS_STATUS_SUCCESS || start != 2)
		fail("initgroups", names[0]);
	free(groups);
}

static void *reader(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char buf[512];

	for (int i = 0; i < ROUNDS; i++) {
		const char *name = names[rand_r(&seed) % NAMES];

		check_name(name, buf, sizeof(buf));
		check_uid(name, buf, sizeof(buf));
		if (i % 16 == 0)
			check_other(buf, sizeof(buf));
	}
	return NULL;
}

static void *writer(void *arg)
{
	for (int i = 1; i < NAMES && !atomic_load(&writer_done); i++) {
		if (ag_userdb_register(nss_test_state_dir(), names[i],
				hash_uid(names[i])) != 0)
			fail("register", names[i]);
		if (i % 32 == 0)
			nss_test_write_default_config();
	}
	return NULL;
}

/*
 * Fork while the readers hold and drop the module's lock: each child
 * must still be able to look a name up (a lock inherited held would
 * hang it until the alarm kills it).
 */
static void fork_during_lookups(void)
{
	for (int i = 0; i < 50; i++) {
		char buf[512];
		int status;
		pid_t pid = fork();

		if (pid == 0) {
			alarm(5);
			check_name(names[0], buf, sizeof(buf));
			_exit(atomic_load(&failures) ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail("lookup in a child forked mid-lookup", names[0]);
	}
}

int main(void)
{
	pthread_t readers[THREADS], w;
	const gid_t extra = 4242;
	char cg[512];

	nss_test_setup(ROOT);
	for (int i = 0; i < NAMES; i++)
		snprintf(names[i], sizeof(names[i]), "agent-stress-%03d", i);
	if (ag_userdb_register(nss_test_state_dir(), names[0],
			hash_uid(names[0])) != 0)
		return 99;
	/* The session of the process itself, so initgroups grants. */
	if (ag_proc_cgroup(getpid(), cg, sizeof(cg)) < 0)
		return 99;
	nss_test_add_session_in(names[0], hash_uid(names[0]), cg,
		(uint32_t)-1, &extra, 1);

	pthread_create(&w, NULL, writer, NULL);
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&readers[i], NULL, reader, (void *)(i + 1));
	fork_during_lookups();
	for (int i = 0; i < THREADS; i++)
		pthread_join(readers[i], NULL);
	atomic_store(&writer_done, true);
	pthread_join(w, NULL);

	printf("%d threads x %d rounds: %d failures\n", THREADS, ROUNDS,
		atomic_load(&failures));
	return atomic_load(&failures) ? 1 : 0;
}
