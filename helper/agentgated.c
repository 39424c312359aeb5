/*
 * agentgated: ends every process of a session when its approval ends.
 *
 * It sleeps in epoll until one of: the earliest deadline (a timerfd on
 * CLOCK_REALTIME, cancelled when the clock is set so that a step is
 * noticed), a change in the session registry or the revocation lists
 * (inotify), or a signal (signalfd).  With nothing changing it does
 * not wake.  While a kill is in flight it checks every 10 ms until the
 * grace period is over and the session is empty.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "agentgated.h"
#include "cgroup.h"
#include "log.h"
#include "util.h"

static bool log_to_stderr;
static bool log_debug;

static void sink(void *ctx, int prio, const char *msg)
{
	if (prio == LOG_DEBUG && !log_debug)
		return;
	syslog(prio, "%s", msg);
	if (log_to_stderr)
		ag_log_sink_stderr(ctx, prio, msg);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: agentgated [--foreground] [--debug] "
		"[--config PATH]\n"
		"Ends agent sessions when their approval expires or is "
		"revoked.\n");
}

static int take_lock(const struct ag_config *cfg, int *fd)
{
	char path[4200];
	int f, r;

	r = ag_path(path, sizeof(path), "%s/agentgated.lock",
		cfg->runtime_dir);
	if (r < 0)
		return r;
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0)
		return -errno;
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EALREADY : -errno;
		close(f);
		return r;
	}
	*fd = f;
	return 0;
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	setsid();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	return 0;
}

static int add_fd(struct agd *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (fd < 0)
		return -errno;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

#define WATCH_MASK (IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | \
	IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | \
	IN_MOVE_SELF)

static int watch(struct agd *d, const char *dir)
{
	int wd = inotify_add_watch(d->ifd, dir, WATCH_MASK | IN_ONLYDIR);

	if (wd < 0)
		ag_log(LOG_WARNING, "event=watch_failed dir=%s error=\"%s\"",
			dir, strerror(errno));
	return wd;
}

/*
 * Records name agents, their jtis and where they came from: only root
 * reads them.  One made 0755 by an older agentgated or tmpfiles.d is
 * tightened if root owns it; one root does not own is left as it is,
 * and the registry's readers refuse it.
 */
static int make_sessions_dir(const char *dir)
{
	struct stat st;
	int fd, r = 0;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (st.st_uid == 0 && (st.st_mode & 07777) != 0700 &&
			fchmod(fd, 0700) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int make_dirs(const struct ag_config *cfg, char *sessions,
	size_t len)
{
	int r;

	r = ag_path(sessions, len, "%s/sessions", cfg->runtime_dir);
	if (r == 0)
		r = ag_mkdir_p(cfg->runtime_dir, 0755);
	if (r == 0)
		r = make_sessions_dir(sessions);
	if (r == 0)
		r = ag_mkdir_p(cfg->state_dir, 0755);
	if (r == 0 && cfg->revocation_dir && cfg->revocation_dir[0])
		r = ag_mkdir_p(cfg->revocation_dir, 0755);
	return r;
}

static int setup_fds(struct agd *d, const char *sessions)
{
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	d->gfd = timerfd_create(CLOCK_MONOTONIC,
		TFD_CLOEXEC | TFD_NONBLOCK);
	d->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->epfd < 0)
		return -errno;
	r = add_fd(d, d->sfd);
	if (r == 0)
		r = add_fd(d, d->tfd);
	if (r == 0)
		r = add_fd(d, d->gfd);
	if (r == 0)
		r = add_fd(d, d->ifd);
	if (r < 0)
		return r;

	d->wd_sessions = watch(d, sessions);
	d->wd_state = watch(d, d->cfg->state_dir);
	d->wd_revdir = d->cfg->revocation_dir && d->cfg->revocation_dir[0] ?
		watch(d, d->cfg->revocation_dir) : -1;
	return d->wd_sessions < 0 ? -EIO : 0;
}

static int scan_cb(const struct ag_session *s, void *arg)
{
	agd_record_seen(arg, s);
	return 0;
}

/* Whole registry: at start and whenever inotify lost track. */
static void full_scan(struct agd *d)
{
	char gone[64][AG_SESSION_ID_LEN + 1];
	size_t i, n;

	for (i = 0; i < d->n; i++)
		d->v[i].present = false;
	ag_session_foreach(d->cfg->runtime_dir, scan_cb, d);
	do {
		for (i = n = 0; i < d->n && n < 64; i++)
			if (!d->v[i].present && d->v[i].state == AGD_LIVE)
				strcpy(gone[n++], d->v[i].s.id);
		for (i = 0; i < n; i++)
			agd_record_gone(d, gone[i]);
	} while (n == 64);
	agd_reload_revocations(d);
}

static void session_event(struct agd *d, const struct inotify_event *ev)
{
	struct ag_session s;
	char path[4200];

	if (!ev->len || strlen(ev->name) != AG_SESSION_ID_LEN)
		return;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		agd_record_gone(d, ev->name);
		return;
	}
	if (ag_path(path, sizeof(path), "%s/sessions/%s",
			d->cfg->runtime_dir, ev->name) == 0 &&
			ag_session_read(path, &s) == 0 &&
			strcmp(s.id, ev->name) == 0)
		agd_record_seen(d, &s);
}

static void on_inotify(struct agd *d)
{
	char buf[65536] __attribute__((aligned(8)));
	const struct inotify_event *ev;
	bool rescan = false, revs = false;
	ssize_t n;
	char *p;

	while ((n = read(d->ifd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (agd_group_event(d, ev->wd, ev->mask))
				continue;
			if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF |
					IN_MOVE_SELF))
				rescan = true;
			else if (ev->wd == d->wd_sessions)
				session_event(d, ev);
			else if (ev->wd == d->wd_state ||
					ev->wd == d->wd_revdir)
				revs = true;
		}
	}
	if (rescan)
		full_scan(d);
	else if (revs)
		agd_reload_revocations(d);
	agd_evaluate(d);
}

static void on_timer(struct agd *d)
{
	uint64_t ticks;

	if (read(d->tfd, &ticks, sizeof(ticks)) < 0 && errno == ECANCELED)
		ag_log(LOG_NOTICE, "event=clock_changed");
	agd_evaluate(d);
}

static void reload_config(struct agd *d)
{
	struct ag_config *cfg;
	char err[512];

	if (ag_config_load(d->cfg_path, &cfg, err, sizeof(err)) < 0) {
		ag_log(LOG_ERR, "event=reload_failed error=\"%s\"", err);
		return;
	}
	/* Directories are watched as they were: a move needs a restart. */
	ag_config_free(d->cfg);
	d->cfg = cfg;
	ag_log(LOG_INFO, "event=reloaded config=%s", d->cfg_path);
	full_scan(d);
	agd_evaluate(d);
}

/* 0 to go on, 1 to stop. */
static int on_signal(struct agd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload_config(d);
		else
			return 1;
	}
	return 0;
}

static int run(struct agd *d)
{
	struct epoll_event evs[8];
	uint64_t ticks;
	int n, i;

	for (;;) {
		n = epoll_wait(d->epfd, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (agd_cleanup_event(d, fd))
				continue;
			if (fd == d->sfd && on_signal(d))
				return 0;
			if (fd == d->ifd)
				on_inotify(d);
			if (fd == d->tfd)
				on_timer(d);
			if (fd == d->gfd &&
					read(fd, &ticks, sizeof(ticks)) > 0)
				agd_progress(d);
		}
	}
}

static int parse_args(int argc, char **argv, struct agd *d, bool *fg)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	d->cfg_path = AG_CONFIG_PATH;
	while ((c = getopt_long(argc, argv, "fc:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			*fg = true;
			break;
		case 'c':
			d->cfg_path = optarg;
			break;
		case 'd':
			d->debug = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static int start(struct agd *d, bool fg, int *lockfd)
{
	char err[512], sessions[4200];
	int r;

	if (ag_config_load(d->cfg_path, &d->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentgated: %s\n", err);
		return -EINVAL;
	}
	r = make_dirs(d->cfg, sessions, sizeof(sessions));
	if (r == 0)
		r = take_lock(d->cfg, lockfd);
	if (r == -EALREADY)
		fprintf(stderr, "agentgated: already running\n");
	else if (r < 0)
		fprintf(stderr, "agentgated: %s: %s\n", d->cfg->runtime_dir,
			strerror(-r));
	if (r == 0 && !fg)
		r = daemonize();
	if (r == 0 && ag_cgroup_mount(d->cgmount, sizeof(d->cgmount)) < 0)
		d->cgmount[0] = '\0';
	if (r == 0)
		r = setup_fds(d, sessions);
	return r;
}

int main(int argc, char **argv)
{
	struct agd d = { 0 };
	bool fg = false;
	int lockfd = -1, r;

	if (parse_args(argc, argv, &d, &fg) < 0)
		return 2;
	log_to_stderr = fg;
	log_debug = d.debug;
	openlog("agentgated", LOG_PID, LOG_AUTHPRIV);
	ag_log_set_sink(sink, NULL);

	r = start(&d, fg, &lockfd);
	if (r < 0)
		return 1;
	ag_log(LOG_INFO, "event=start pid=%d cgroup2=%s grace_ms=%ld",
		(int)getpid(), d.cgmount[0] ? d.cgmount : "-",
		d.cfg->kill_grace_ms);
	full_scan(&d);
	agd_reconcile(&d);

	r = run(&d);
	ag_log(LOG_INFO, "event=stop sessions=%zu", d.n);
	ag_config_free(d.cfg);
	ag_revoke_list_free(&d.rl);
	ag_revoke_list_free(&d.rl_good);
	agd_groups_free(&d);
	ag_userdb_close(&d.udb);
	free(d.cleanups);
	free(d.v);
	ag_unlock(lockfd);
	return r < 0 ? 1 : 0;
}
