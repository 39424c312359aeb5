/*
 * One logging shim for code shared by the PAM module, the daemon and
 * the CLI: each installs a sink at start; library code that has
 * something to tell an admin calls ag_log().  Pure helpers do not log;
 * they return an error and let their caller decide what to say.
 * Never pass a token or key material to it.
 */
#ifndef AG_LOG_H
#define AG_LOG_H

#include <stdarg.h>
#include <syslog.h>

typedef void (*ag_log_sink)(void *ctx, int prio, const char *msg);

void ag_log_set_sink(ag_log_sink sink, void *ctx);
void ag_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sinks: stderr with a "prio: " prefix, or syslog(3). */
void ag_log_sink_stderr(void *ctx, int prio, const char *msg);
void ag_log_sink_syslog(void *ctx, int prio, const char *msg);

#endif
