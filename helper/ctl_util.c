/* Messages shared by the agentgatectl subcommands. */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "ctl.h"

int ctl_bad(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "agentgatectl: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

const char *ctl_shown(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f)
			return "(unprintable)";
	}
	return s;
}

int ctl_option_error(const char *cmd, int c, char **argv)
{
	const char *arg = ctl_shown(argv[optind - 1]);

	if (c == ':')
		return ctl_bad(cmd, "%s needs a value", arg);
	return ctl_bad(cmd, "unknown option %s", arg);
}
