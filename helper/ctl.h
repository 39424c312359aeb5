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

#endif
