/* File, lock and randomness helpers.  libc only. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include "util.h"

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash) {
		strcpy(dir, ".");
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);

		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	return ag_fsync_dir(dir);
}

int ag_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

void *ag_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t want;

	if (n < *cap)
		return v;
	want = *cap ? *cap * 2 : first;
	if (want < *cap || want > SIZE_MAX / size)
		return NULL;
	v = realloc(v, want * size);
	if (v)
		*cap = want;
	return v;
}

static int replace_file(const char *path, const void *data, size_t len,
	mode_t mode, bool durable)
{
	char tmp[PATH_MAX];
	int fd, r;

	r = ag_path(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if (r < 0)
		return r;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;

	/* mkostemp makes 0600; widen only to what the caller asked. */
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, data, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return durable ? fsync_dir_of(path) : 0;
}

int ag_write_file_atomic(const char *path, const void *data, size_t len,
	mode_t mode)
{
	return replace_file(path, data, len, mode, true);
}

int ag_write_file_runtime(const char *path, const void *data, size_t len,
	mode_t mode)
{
	return replace_file(path, data, len, mode, false);
}

int ag_read_file(const char *path, size_t max, char **data, size_t *len,
	struct stat *st)
{
	struct stat sb;
	char *buf;
	size_t used = 0;
	int fd, r = 0;

	/* O_NONBLOCK: a FIFO in the file's place must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((size_t)sb.st_size > max) {
		close(fd);
		return -EFBIG;
	}

	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* Read to EOF: the file may have changed size since fstat. */
	for (;;) {
		ssize_t n = read(fd, buf + used, (size_t)sb.st_size - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used == (size_t)sb.st_size)
			break;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}

	buf[used] = '\0';
	*data = buf;
	if (len)
		*len = used;
	if (st)
		*st = sb;
	return 0;
}

bool ag_stat_trusted(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int ag_lock(const char *path, int *fd)
{
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (f < 0)
		return -errno;
	while (flock(f, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = -errno;

			close(f);
			return r;
		}
	}
	*fd = f;
	return 0;
}

void ag_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int ag_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);

	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int ag_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];

	if (nbytes > sizeof(raw))
		return -EINVAL;
	for (size_t got = 0; got < nbytes;) {
		ssize_t n = getrandom(raw + got, nbytes - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

int ag_parse_int(const char *s, long long min, long long max,
	long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || *s == ' ' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	if (errno || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int ag_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
