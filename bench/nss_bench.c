/*
 * Timing for libnss_agentgate through glibc, driven by run-nss.sh.
 *
 *   nss_bench register STATE_DIR N    register agent-bench-000000...
 *   nss_bench time NAME ITER          ns per getpwnam(NAME) and per
 *                                     getpwuid(its uid), through NSS
 *
 * Not part of make check: run-nss.sh builds and runs it by hand.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"
#include "userdb.h"

#define BENCH_PREFIX "agent-bench-"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Hash collisions are skipped: the registry refuses them anyway. */
static int bench_register(const char *dir, size_t n)
{
	char (*names)[AG_NAME_MAX + 1] = calloc(n, sizeof(*names));
	const char **ptrs = calloc(n, sizeof(*ptrs));
	uint32_t *uids = calloc(n, sizeof(*uids));
	size_t m = 0;
	int r;

	if (!names || !ptrs || !uids)
		return 1;
	for (size_t i = 0; i < n; i++) {
		snprintf(names[m], sizeof(names[m]), BENCH_PREFIX "%06zu", i);
		ptrs[m] = names[m];
		uids[m] = ag_uid_hash(names[m], AG_DEFAULT_UID_MIN,
			AG_DEFAULT_UID_MAX);
		m++;
	}
	r = ag_userdb_register_many(dir, ptrs, uids, m);
	if (r == -EEXIST)
		fprintf(stderr, "hash collision among %zu names\n", m);
	return r < 0;
}

static int bench_time(const char *name, long iter)
{
	struct passwd *pw = getpwnam(name);
	uid_t uid;
	double t0, t1, t2;

	if (!pw) {
		fprintf(stderr, "%s: not found\n", name);
		return 1;
	}
	uid = pw->pw_uid;
	t0 = now_ns();
	for (long i = 0; i < iter; i++) {
		if (!getpwnam(name))
			return 1;
	}
	t1 = now_ns();
	for (long i = 0; i < iter; i++) {
		if (!getpwuid(uid))
			return 1;
	}
	t2 = now_ns();
	printf("%.0f %.0f\n", (t1 - t0) / iter, (t2 - t1) / iter);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "register") == 0)
		return bench_register(argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "time") == 0)
		return bench_time(argv[2], strtol(argv[3], NULL, 10));
	fprintf(stderr, "usage: nss_bench register DIR N | time NAME ITER\n");
	return 2;
}
