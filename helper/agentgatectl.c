/* agentgatectl: the admin's view of agentgate.  Dispatch only. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "ctl.h"
#include "log.h"
#include "util.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
	{ "verify", ctl_verify, "explain why a token is or is not accepted" },
	{ "mint", ctl_mint, "sign a token (tests and small setups)" },
	{ "list", ctl_list, "live sessions and their time left" },
	{ "revoke", ctl_revoke, "revoke a token, a user or an issuer" },
	{ "check-config", ctl_check_config,
	  "check config, keys, uid ranges and state directories" },
};

static int usage(FILE *f, int code)
{
	size_t i;

	fputs("usage: agentgatectl COMMAND [OPTIONS]\n\ncommands:\n", f);
	for (i = 0; i < AG_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name,
			commands[i].what);
	fputs("\n\"agentgatectl COMMAND --help\" describes its options.\n",
		f);
	return code;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage(stderr, 2);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
			!strcmp(argv[1], "help"))
		return usage(stdout, 0);

	/* mint holds a private key, verify a token: no core dumps. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	ag_log_set_sink(ag_log_sink_stderr, NULL);
	for (i = 0; i < AG_ARRAY_SIZE(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "agentgatectl: unknown command \"%s\"\n", argv[1]);
	return usage(stderr, 2);
}
