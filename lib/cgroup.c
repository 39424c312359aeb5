/*
 * One cgroup v2 group per session, MOUNT/agentgate/ID, so that the
 * daemon can end a session, escaped double forks included, with one
 * write to cgroup.kill.
 *
 * On a systemd host pam_systemd, stacked after us, moves the leader
 * into logind's session-N.scope; we do not fight it.  Our group then
 * only records where the session started, and agentgated also reads
 * the leader's current group from /proc/PID/cgroup at kill time and
 * accepts it when it is a session scope (ag_cgroup_path_ok).  logind
 * itself enforces the same deadline through systemd.runtime_max_sec.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "session.h"
#include "util.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
				s[2] >= '0' && s[2] <= '7' &&
				s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 +
				(s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE ..." */
static int mountinfo_line(char *line, char *buf, size_t len)
{
	char *sep = strstr(line, " - ");
	char *tok, *save = NULL;
	int i;

	if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
		return -ENOENT;
	*sep = '\0';
	tok = strtok_r(line, " ", &save);
	for (i = 0; tok && i < 4; i++)
		tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return -ENOENT;
	unescape(tok);
	if (strlen(tok) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, tok);
	return 0;
}

int ag_cgroup_mount(char *buf, size_t len)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int r = -ENOENT;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (r == -ENOENT && getline(&line, &cap, f) > 0)
		r = mountinfo_line(line, buf, len);
	free(line);
	fclose(f);
	return r;
}

static bool seg_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (n == 1 && s[0] == '.') ||
			(n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_hex_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) ||
				isupper((unsigned char)s[i]))
			return false;
	return i == AG_SESSION_ID_LEN;
}

bool ag_cgroup_path_ok(const char *path)
{
	const char *p = path, *slash, *last;
	size_t plen = strlen(AG_CGROUP_PARENT);

	if (path[0] != '/')
		return false;
	for (last = p + 1; *p; p = slash) {
		last = p + 1;
		slash = strchr(last, '/');
		if (!slash)
			slash = last + strlen(last);
		if (!seg_ok(last, (size_t)(slash - last)))
			return false;
	}

	if (strncmp(path, AG_CGROUP_PARENT "/", plen + 1) == 0)
		return is_hex_id(path + plen + 1);
	/* logind: .../user-UID.slice/session-N.scope */
	return strncmp(last, "session-", 8) == 0 &&
		strlen(last) > 14 &&
		strcmp(last + strlen(last) - 6, ".scope") == 0;
}

static int group_file(const char *mount, const char *path,
	const char *file, char *buf, size_t len)
{
	if (!ag_cgroup_path_ok(path))
		return -EINVAL;
	return ag_path(buf, len, "%s%s/%s", mount, path, file);
}

static int write_str(const char *file, const char *s)
{
	ssize_t n;
	int fd, r = 0;

	fd = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		r = -errno;
	else if ((size_t)n != strlen(s))
		r = -EIO;
	close(fd);
	return r;
}

/*
 * Tries at placing a pid.  A group is empty between its mkdir and the
 * pid's move, and agentgated removes empty groups that no session
 * claims.  It leaves young groups alone; should it still win (a clock
 * step, a stalled PAM stack), the group is gone (ENOENT) or dying
 * (ENODEV) when the pid is written, and is simply made again.
 */
#define PLACE_TRIES 5

static int make_group(const char *parent, const char *dir)
{
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int move_pid(const char *dir, pid_t pid)
{
	char procs[4300], num[24];
	int r;

	snprintf(num, sizeof(num), "%d\n", (int)pid);
	r = ag_path(procs, sizeof(procs), "%s/cgroup.procs", dir);
	return r < 0 ? r : write_str(procs, num);
}

int ag_cgroup_place(const char *id, pid_t pid, char *path, size_t len)
{
	char mount[4096], parent[4200], dir[4200], rel[64];
	int r, i;

	if (!is_hex_id(id) || pid <= 0)
		return -EINVAL;
	r = ag_cgroup_mount(mount, sizeof(mount));
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), AG_CGROUP_PARENT "/%s", id);
	if (strlen(rel) >= len)
		return -ENAMETOOLONG;
	r = ag_path(parent, sizeof(parent), "%s" AG_CGROUP_PARENT, mount);
	if (r == 0)
		r = ag_path(dir, sizeof(dir), "%s%s", mount, rel);
	if (r < 0)
		return r;

	for (i = 0; i < PLACE_TRIES; i++) {
		r = make_group(parent, dir);
		if (r == 0)
			r = move_pid(dir, pid);
		if (r != -ENOENT && r != -ENODEV)
			break;
	}
	if (r < 0) {
		rmdir(dir);
		return r;
	}
	strcpy(path, rel);
	return 0;
}

int ag_cgroup_kill(const char *mount, const char *path)
{
	char file[4400];
	int r;

	r = group_file(mount, path, "cgroup.kill", file, sizeof(file));
	if (r < 0)
		return r;
	r = write_str(file, "1");
	/* Before 5.14 there is no cgroup.kill; the caller signals pids. */
	if (r == -ENOENT && access(file, F_OK) < 0) {
		char dir[4300];

		if (ag_path(dir, sizeof(dir), "%s%s", mount, path) == 0 &&
				access(dir, F_OK) == 0)
			return -EOPNOTSUPP;
	}
	return r;
}

static int read_small(const char *file, char *buf, size_t len)
{
	ssize_t n;
	int fd, r = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		r = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return r;
}

int ag_cgroup_populated(const char *mount, const char *path)
{
	char file[4400], buf[256], *p;
	int r;

	r = group_file(mount, path, "cgroup.events", file, sizeof(file));
	if (r == 0)
		r = read_small(file, buf, sizeof(buf));
	if (r < 0)
		return r;
	p = strstr(buf, "populated ");
	if (!p)
		return -EBADMSG;
	return p[10] == '1';
}

int ag_cgroup_pids(const char *mount, const char *path, pid_t *pids,
	size_t max, size_t *n)
{
	char file[4400];
	size_t got = 0;
	long v;
	FILE *f;
	int r;

	r = group_file(mount, path, "cgroup.procs", file, sizeof(file));
	if (r < 0)
		return r;
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (got < max && fscanf(f, "%ld", &v) == 1)
		if (v > 0)
			pids[got++] = (pid_t)v;
	fclose(f);
	*n = got;
	return 0;
}

int ag_cgroup_remove(const char *mount, const char *path)
{
	char dir[4300];

	if (!ag_cgroup_path_ok(path))
		return -EINVAL;
	if (ag_path(dir, sizeof(dir), "%s%s", mount, path) < 0)
		return -ENAMETOOLONG;
	return rmdir(dir) < 0 ? -errno : 0;
}

int ag_proc_cgroup(pid_t pid, char *buf, size_t len)
{
	char file[64], data[4096], *p, *nl;
	int r;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	r = read_small(file, data, sizeof(data));
	if (r < 0)
		return r;
	p = strncmp(data, "0::", 3) == 0 ? data : strstr(data, "\n0::");
	if (!p)
		return -ENOENT;
	p += p[0] == '\n' ? 4 : 3;
	nl = strchr(p, '\n');
	if (nl)
		*nl = '\0';
	if (strlen(p) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, p);
	return 0;
}
