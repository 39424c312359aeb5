/* The logging shim; see log.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static ag_log_sink current_sink = ag_log_sink_stderr;
static void *current_ctx;

void ag_log_set_sink(ag_log_sink sink, void *ctx)
{
	current_sink = sink ? sink : ag_log_sink_stderr;
	current_ctx = ctx;
}

void ag_log(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	current_sink(current_ctx, prio, msg);
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void ag_log_sink_stderr(void *ctx, int prio, const char *msg)
{
	fprintf(stderr, "%s: %s\n", prio_name(prio), msg);
}

void ag_log_sink_syslog(void *ctx, int prio, const char *msg)
{
	syslog(prio, "%s", msg);
}
