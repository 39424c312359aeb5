/*
 * What an agent leaves behind once its last session has ended: cron
 * and at jobs, a lingering user manager, and (ephemeral policy) its
 * home.  Its processes are gone by then (the uid sweep), so nothing of
 * the agent can race with these removals; still, every path is walked
 * with openat/unlinkat and O_NOFOLLOW, so a symlink the agent planted
 * can never point the removal outside its own home.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentgated.h"
#include "log.h"
#include "names.h"

#define CRONTABS "/var/spool/cron/crontabs"
#define ATJOBS "/var/spool/cron/atjobs"
#define LINGER "/var/lib/systemd/linger"
#define RM_DEPTH_MAX 256

static const char *unlink_in(const char *dir, const char *name)
{
	int dfd, r;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return "none";
	r = unlinkat(dfd, name, 0);
	close(dfd);
	if (r == 0)
		return "removed";
	return errno == ENOENT ? "none" : "error";
}

/* at(1) names job files by queue and number; the owner is the agent. */
static int remove_at_jobs(uid_t uid)
{
	struct dirent *de;
	struct stat st;
	int n = 0;
	DIR *d;

	d = opendir(ATJOBS);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st,
				AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_uid == uid &&
				unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static int rm_tree_at(int dfd, const char *name, dev_t dev, int depth);

static int rm_children(int fd, dev_t dev, int depth)
{
	struct dirent *de;
	int r = 0, e;
	DIR *d;

	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		e = rm_tree_at(dirfd(d), de->d_name, dev, depth + 1);
		if (e < 0 && r == 0)
			r = e;
	}
	closedir(d);
	return r;
}

/* Never follows a symlink, never crosses into another file system. */
static int rm_tree_at(int dfd, const char *name, dev_t dev, int depth)
{
	struct stat st;
	int fd, r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;
	if (depth > RM_DEPTH_MAX)
		return -ELOOP;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = rm_children(fd, dev, depth);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Only HOME_BASE/NAME, only a real directory the agent itself owns. */
static const char *remove_home(const struct ag_issuer *is,
	const struct ag_session *s)
{
	struct stat st;
	int base, r;

	if (!is || is->home_policy != AG_HOME_EPHEMERAL || !is->home_base)
		return "kept";
	base = open(is->home_base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (base < 0)
		return "none";
	if (fstatat(base, s->user, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(base);
		return "none";
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != s->uid) {
		close(base);
		return "refused";
	}
	r = rm_tree_at(base, s->user, st.st_dev, 0);
	close(base);
	return r == 0 ? "removed" : "error";
}

void agd_agent_cleanup(struct agd *d, const struct ag_session *s)
{
	const struct ag_issuer *is;
	const char *cron, *linger, *home;
	int at;

	/* The name becomes a path component below: it must be one. */
	if (!ag_name_valid(s->user) || s->uid == 0)
		return;
	is = ag_config_issuer_by_name(d->cfg, s->issuer);
	if (!is)
		is = ag_config_issuer_for_name(d->cfg, s->user);

	cron = unlink_in(CRONTABS, s->user);
	at = remove_at_jobs(s->uid);
	linger = unlink_in(LINGER, s->user);
	home = remove_home(is, s);
	ag_log(LOG_NOTICE, "event=agent_cleanup user=%s uid=%u "
		"crontab=%s at_jobs=%d linger=%s home=%s", s->user,
		(unsigned)s->uid, cron, at, linger, home);
}
