/*
 * agentgatectl subcommands.  Each takes the arguments after its own
 * name (argv[0] is the subcommand) and returns the process exit code:
 * 0 success / accepted, 1 rejected or failed, 2 usage or config error.
 */
#ifndef AG_CTL_H
#define AG_CTL_H

int ctl_verify(int argc, char **argv);
int ctl_mint(int argc, char **argv);
int ctl_list(int argc, char **argv);
int ctl_revoke(int argc, char **argv);
int ctl_check_config(int argc, char **argv);

/* "agentgatectl: CMD: WHAT" on stderr; returns 2, the usage code. */
int ctl_bad(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The getopt error for argv[optind - 1] (C is ':' or '?'). */
int ctl_option_error(const char *cmd, int c, char **argv);

/* S for a message, unless it could put escapes on the terminal. */
const char *ctl_shown(const char *s);

#endif
