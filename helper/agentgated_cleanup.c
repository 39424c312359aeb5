/*
 * What an agent leaves behind once its last session has ended: cron
 * and at jobs, a lingering user manager, (ephemeral policy) its home,
 * its files in the shared temporary directories and its System V IPC
 * objects.  Its processes are gone by then (the uid sweep); a new
 * login of the agent is checked for before anything goes and again
 * once its home is out of the way (trash_home).  Every path is
 * walked with openat/unlinkat and O_NOFOLLOW, so a symlink the agent
 * planted can never point the removal outside what it owns.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentgated.h"
#include "session.h"
#include "log.h"
#include "names.h"
#include "util.h"

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

/* What a home's removal may take, and what it kept. */
struct rm_ctx {
	uid_t uid;		/* the agent: its entries and root's go */
	dev_t dev;		/* never left */
	int foreign;		/* entries of other owners, kept */
};

static int rm_tree_at(int dfd, const char *name, struct rm_ctx *c,
	int depth);

static int rm_children(int fd, struct rm_ctx *c, int depth)
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
		e = rm_tree_at(dirfd(d), de->d_name, c, depth + 1);
		if (e < 0 && r == 0)
			r = e;
	}
	closedir(d);
	return r;
}

/*
 * Never follows a symlink, never crosses into another file system.
 * An entry of another owner is kept: the agent may have renamed in a
 * directory of a shared place it could write to, which is not its to
 * lose.
 */
static int rm_tree_at(int dfd, const char *name, struct rm_ctx *c,
	int depth)
{
	struct stat st;
	int fd, r;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (st.st_uid != c->uid && st.st_uid != 0) {
		c->foreign++;
		return -ENOTEMPTY;
	}
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
	if (st.st_dev != c->dev)
		return -EXDEV;
	if (depth > RM_DEPTH_MAX)
		return -ELOOP;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = rm_children(fd, c, depth);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && r == 0)
		r = -errno;
	return r;
}

/*
 * Shared, world-writable directories where an agent can leave files
 * outside its home.  Compiled in: agentgated(8) lists them.
 */
static const char *const tmp_dirs[] = { "/tmp", "/var/tmp", "/dev/shm" };

struct sweep {
	uid_t uid;
	dev_t dev;		/* of the directory swept: never left */
	int removed, left;
};

static void sweep_entry(int dfd, const char *name, struct sweep *sw,
	int depth);

/*
 * What is opened must be what was checked.  In the sticky top level
 * only an entry's owner (the agent, whose processes are gone) can
 * swap it; deeper down, whoever the agent gave write access.
 */
static void sweep_dir(int dfd, const char *name, const struct stat *st,
	struct sweep *sw, int depth)
{
	struct dirent *de;
	struct stat now;
	DIR *d;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (fd < 0 || fstat(fd, &now) < 0 || now.st_ino != st->st_ino ||
			now.st_dev != st->st_dev || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		sw->left++;
		return;
	}

	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			sweep_entry(dirfd(d), de->d_name, sw, depth + 1);
	closedir(d);

	/* Fails while it holds anything of another owner: kept. */
	if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
		sw->removed++;
	else
		sw->left++;
}

/* Entries of other owners, and mount points, are never touched. */
static void sweep_entry(int dfd, const char *name, struct sweep *sw,
	int depth)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (st.st_uid != sw->uid || st.st_dev != sw->dev)
		return;
	if (S_ISDIR(st.st_mode) && depth >= RM_DEPTH_MAX)
		sw->left++;
	else if (S_ISDIR(st.st_mode))
		sweep_dir(dfd, name, &st, sw, depth);
	else if (unlinkat(dfd, name, 0) == 0)
		sw->removed++;
	else
		sw->left++;
}

static void sweep_tmp(const char *path, struct sweep *sw)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	sw->dev = st.st_dev;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			sweep_entry(dirfd(d), de->d_name, sw, 0);
	closedir(d);
}

static void remove_tmp_files(uid_t uid, int *removed, int *left)
{
	struct sweep sw = { .uid = uid };
	size_t i;

	for (i = 0; i < sizeof(tmp_dirs) / sizeof(tmp_dirs[0]); i++)
		sweep_tmp(tmp_dirs[i], &sw);
	*removed = sw.removed;
	*left = sw.left;
}

/*
 * System V IPC objects outlive every process.  The kernel's lists are
 * walked by index (*_STAT_ANY needs no read permission on the object,
 * so a mode 0600 one is seen too); an object is the agent's when it
 * owns it or created it.  IPC_RMID takes CAP_SYS_ADMIN.
 */
struct ipc_count {
	int removed, left;
};

static bool ipc_agents(const struct ipc_perm *p, uid_t uid)
{
	return p->uid == uid || p->cuid == uid;
}

static void ipc_note(struct ipc_count *c, int r)
{
	if (r == 0)
		c->removed++;
	else
		c->left++;
}

static void remove_shm(uid_t uid, struct ipc_count *c)
{
	struct shm_info info;
	struct shmid_ds ds;
	int max, i, id;

	max = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&info);
	for (i = 0; i <= max; i++) {
		id = shmctl(i, SHM_STAT_ANY, &ds);
		if (id >= 0 && ipc_agents(&ds.shm_perm, uid))
			ipc_note(c, shmctl(id, IPC_RMID, NULL));
	}
}

static void remove_msg(uid_t uid, struct ipc_count *c)
{
	struct msginfo info;
	struct msqid_ds ds;
	int max, i, id;

	max = msgctl(0, MSG_INFO, (struct msqid_ds *)(void *)&info);
	for (i = 0; i <= max; i++) {
		id = msgctl(i, MSG_STAT_ANY, &ds);
		if (id >= 0 && ipc_agents(&ds.msg_perm, uid))
			ipc_note(c, msgctl(id, IPC_RMID, NULL));
	}
}

/* semctl's fourth argument; the caller defines it (semctl(2)). */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

static void remove_sem(uid_t uid, struct ipc_count *c)
{
	struct seminfo info;
	struct semid_ds ds;
	union semun arg;
	int max, i, id;

	arg.info = &info;
	max = semctl(0, 0, SEM_INFO, arg);
	arg.buf = &ds;
	for (i = 0; i <= max; i++) {
		id = semctl(i, 0, SEM_STAT_ANY, arg);
		if (id >= 0 && ipc_agents(&ds.sem_perm, uid))
			ipc_note(c, semctl(id, 0, IPC_RMID));
	}
}

/* Set before the cleanup child forks; read only in it. */
static const char *cleanup_runtime_dir;

static int same_user(const struct ag_session *r, void *arg)
{
	return strcmp(r->user, arg) == 0;
}

/*
 * The cleanup runs in the background, so the agent may have logged in
 * again meanwhile: a live record of the same name keeps its home (an
 * error reading the registry keeps it too).
 */
static bool agent_is_back(const char *user)
{
	return !cleanup_runtime_dir ||
		ag_session_foreach(cleanup_runtime_dir, same_user,
			(void *)user) != 0;
}

/* A real directory of UID's, and its device for rm_tree_at. */
static bool agents_dir(int base, const char *name, uid_t uid, dev_t *dev)
{
	struct stat st;

	if (fstatat(base, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			!S_ISDIR(st.st_mode) || st.st_uid != uid)
		return false;
	*dev = st.st_dev;
	return true;
}

/*
 * The agent may log in again while this runs; the PAM module writes
 * the session's record before it makes the home.  The home is first
 * moved out of the way under a name no login uses, and only then is
 * the registry read: a login after that read finds no home and makes
 * a fresh one, a login before it gets its own home back.
 */
static const char *trash_home(int base, const struct ag_session *s)
{
	struct rm_ctx c = { .uid = s->uid };
	char trash[64];

	snprintf(trash, sizeof(trash), ".agentgate-trash-%u-%d",
		(unsigned)s->uid, (int)getpid());
	if (renameat2(base, s->user, base, trash, RENAME_NOREPLACE) < 0)
		return "error";
	if (agent_is_back(s->user)) {
		if (renameat2(base, trash, base, s->user,
				RENAME_NOREPLACE) == 0)
			return "kept_live_session";
		/* Unless a fresh home took its place, keep it aside. */
		if (errno != EEXIST)
			return "error";
	}
	if (!agents_dir(base, trash, s->uid, &c.dev))
		return "error";
	if (rm_tree_at(base, trash, &c, 0) == 0)
		return "removed";
	return c.foreign ? "kept_foreign" : "error";
}

/* Only HOME_BASE/NAME, only a real directory the agent itself owns. */
static const char *remove_home(const struct ag_issuer *is,
	const struct ag_session *s)
{
	struct stat st;
	const char *r;
	dev_t dev;
	int base;

	if (!is || is->home_policy != AG_HOME_EPHEMERAL || !is->home_base)
		return "kept";
	base = open(is->home_base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	if (base < 0)
		return "none";
	if (fstatat(base, s->user, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = "none";
	else if (!agents_dir(base, s->user, s->uid, &dev))
		r = "refused";
	else
		r = trash_home(base, s);
	close(base);
	return r;
}

/* Everything but the log line, which the parent writes: into LINE. */
static void cleanup_files(const struct ag_issuer *is,
	const struct ag_session *s, char *line, size_t len)
{
	struct ipc_count shm = { 0 }, msg = { 0 }, sem = { 0 };
	const char *cron, *linger, *home;
	int at, tmp, tmp_left;

	/* Back already: its crontab, files and IPC are in use again. */
	if (agent_is_back(s->user)) {
		snprintf(line, len, "user=%s uid=%u skipped=live_session",
			s->user, (unsigned)s->uid);
		return;
	}
	cron = unlink_in(CRONTABS, s->user);
	at = remove_at_jobs(s->uid);
	linger = unlink_in(LINGER, s->user);
	home = remove_home(is, s);
	remove_tmp_files(s->uid, &tmp, &tmp_left);
	remove_shm(s->uid, &shm);
	remove_msg(s->uid, &msg);
	remove_sem(s->uid, &sem);
	snprintf(line, len, "user=%s uid=%u crontab=%s at_jobs=%d "
		"linger=%s home=%s tmp=%d tmp_left=%d shm=%d msg=%d sem=%d "
		"ipc_left=%d", s->user, (unsigned)s->uid, cron, at, linger,
		home, tmp, tmp_left, shm.removed, msg.removed, sem.removed,
		shm.left + msg.left + sem.left);
}

static void cleanup_inline(const struct ag_issuer *is,
	const struct ag_session *s)
{
	char line[512];

	cleanup_files(is, s, line, sizeof(line));
	ag_log(LOG_NOTICE, "event=agent_cleanup %s", line);
}

/*
 * The child keeps only the pipe (fd 3): an inherited descriptor of
 * the daemon's lock would keep a restarted daemon out until the
 * cleanup is done.
 */
static void cleanup_child(const struct ag_issuer *is,
	const struct ag_session *s, int out)
{
	char line[512];
	sigset_t all;
	ssize_t n;

	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	if (out != 3 && dup2(out, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);

	cleanup_files(is, s, line, sizeof(line));
	n = write(3, line, strlen(line));
	_exit(n < 0);
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int track(struct agd *d, const struct ag_session *s, pid_t pid,
	int pipefd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct agd_cleanup *v = ag_grow(d->cleanups, &d->cap_cleanups,
		d->n_cleanups, sizeof(*v), 8);

	if (!v)
		return -ENOMEM;
	d->cleanups = v;
	v = &d->cleanups[d->n_cleanups];
	v->pid = pid;
	v->pipefd = pipefd;
	v->pidfd = pidfd_open_(pid);
	snprintf(v->user, sizeof(v->user), "%s", s->user);
	v->uid = s->uid;
	ev.data.fd = v->pidfd;
	if (v->pidfd < 0 ||
			epoll_ctl(d->epfd, EPOLL_CTL_ADD, v->pidfd, &ev) < 0) {
		if (v->pidfd >= 0)
			close(v->pidfd);
		return -errno;
	}
	d->n_cleanups++;
	return 0;
}

/* The child is done (or waited for): its report, or why none came. */
static void report(const struct agd_cleanup *c)
{
	char line[512];
	ssize_t n;
	int st = 0;

	waitpid(c->pid, &st, 0);
	n = read(c->pipefd, line, sizeof(line) - 1);
	if (n > 0) {
		line[n] = '\0';
		ag_log(LOG_NOTICE, "event=agent_cleanup %s", line);
	} else {
		ag_log(LOG_ERR, "event=agent_cleanup_failed user=%s uid=%u "
			"status=%d", c->user, (unsigned)c->uid, st);
	}
	close(c->pipefd);
}

static void reap(struct agd *d, struct agd_cleanup *c)
{
	report(c);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
	close(c->pidfd);
	*c = d->cleanups[--d->n_cleanups];
}

/* True when FD is a cleanup child's pidfd (then handled). */
bool agd_cleanup_event(struct agd *d, int fd)
{
	size_t i;

	for (i = 0; i < d->n_cleanups; i++)
		if (d->cleanups[i].pidfd == fd) {
			reap(d, &d->cleanups[i]);
			return true;
		}
	return false;
}

/*
 * Removing a home of millions of files takes many seconds, and the
 * event loop must not miss another session's deadline meanwhile: the
 * files go in a child, reaped through its pidfd in epoll.  If no
 * child can be had, the work is done here, late rather than never.
 */
void agd_agent_cleanup(struct agd *d, const struct ag_session *s)
{
	const struct ag_issuer *is;
	int p[2];
	pid_t pid;

	/* The name becomes a path component below: it must be one. */
	if (!ag_name_valid(s->user) || s->uid == 0)
		return;
	is = ag_config_issuer_by_name(d->cfg, s->issuer);
	if (!is)
		is = ag_config_issuer_for_name(d->cfg, s->user);

	cleanup_runtime_dir = d->cfg->runtime_dir;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		p[0] = p[1] = -1;
	pid = p[0] >= 0 ? fork() : -1;
	if (pid == 0)
		cleanup_child(is, s, p[1]);
	if (p[1] >= 0)
		close(p[1]);
	if (pid > 0 && track(d, s, pid, p[0]) == 0)
		return;

	if (pid > 0) {
		/* Not watchable: waited for here, late rather than never. */
		struct agd_cleanup c = { .pid = pid, .pidfd = -1,
			.pipefd = p[0], .uid = s->uid };

		snprintf(c.user, sizeof(c.user), "%s", s->user);
		report(&c);
		return;
	}
	if (p[0] >= 0)
		close(p[0]);
	cleanup_inline(is, s);
}
