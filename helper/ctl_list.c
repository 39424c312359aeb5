/* agentgatectl list: live sessions from the registry, with time left. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "ctl.h"
#include "session.h"

struct list_ctx {
	bool json;
	unsigned n;
	time_t now;
	char mount[4096];	/* "" without cgroup v2 */
};

static unsigned count_procs(const struct list_ctx *c,
	const struct ag_session *s)
{
	pid_t pids[4096];
	uint64_t start;
	size_t n = 0;

	if (c->mount[0] && s->cgroup[0] &&
			ag_cgroup_pids(c->mount, s->cgroup, pids, 4096, &n) == 0)
		return (unsigned)n;
	return ag_proc_starttime(s->leader, &start) == 0 &&
		start == s->leader_start;
}

static void json_str(const char *key, const char *v, bool comma)
{
	printf("\"%s\":\"", key);
	for (; *v; v++)
		printf(*v == '"' || *v == '\\' ? "\\%c" : "%c", *v);
	printf("\"%s", comma ? "," : "");
}

static void fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
			!strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
}

static int show(const struct ag_session *s, void *arg)
{
	struct list_ctx *c = arg;
	long long left = (long long)(s->expires - c->now);
	unsigned procs = count_procs(c, s);
	char started[32];

	fmt_time(s->started, started, sizeof(started));
	if (left < 0)
		left = 0;
	if (c->json) {
		printf("%s{", c->n ? "," : "");
		json_str("session", s->id, true);
		json_str("user", s->user, true);
		json_str("issuer", s->issuer, true);
		json_str("jti", s->jti, true);
		json_str("from", s->rhost, true);
		json_str("started", started, true);
		printf("\"expires\":%lld,\"time_left\":%lld,"
			"\"processes\":%u}", (long long)s->expires, left, procs);
	} else {
		printf("%-20s %-12s %-20.20s %-15.15s %-20s %4lld:%02lld %5u\n",
			s->user, s->issuer, s->jti, s->rhost[0] ? s->rhost :
			"-", started, left / 60, left % 60, procs);
	}
	c->n++;
	return 0;
}

int ctl_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_ctx c = { .now = time(NULL) };
	const char *path = AG_CONFIG_PATH;
	struct ag_config *cfg;
	char err[512];
	int r, o;

	while ((o = getopt_long(argc, argv, "c:jh", opts, NULL)) != -1) {
		if (o == 'c')
			path = optarg;
		else if (o == 'j')
			c.json = true;
		else {
			fputs("usage: agentgatectl list [--config PATH] "
				"[--json]\n", o == 'h' ? stdout : stderr);
			return o == 'h' ? 0 : 2;
		}
	}
	if (ag_config_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentgatectl: %s\n", err);
		return 2;
	}
	if (ag_cgroup_mount(c.mount, sizeof(c.mount)) < 0)
		c.mount[0] = '\0';

	if (c.json)
		printf("[");
	else
		printf("%-20s %-12s %-20s %-15s %-20s %7s %5s\n", "USER",
			"ISSUER", "JTI", "FROM", "STARTED", "LEFT", "PROCS");
	r = ag_session_foreach(cfg->runtime_dir, show, &c);
	if (c.json)
		printf("]\n");
	if (r < 0)
		fprintf(stderr, "agentgatectl: %s/sessions: %s\n",
			cfg->runtime_dir, strerror(-r));
	ag_config_free(cfg);
	return r < 0 ? 1 : 0;
}
