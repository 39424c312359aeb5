/*
 * Replay store: STATE_DIR/jti/HEX, HEX = SHA-256(iss NUL jti), content
 * the token's exp in decimal.
 *
 * The file's existence is the record.  O_CREAT|O_EXCL makes the kernel
 * the referee between concurrent logins with one token, so no lock is
 * needed, and a crash leaves either no file (token unused) or a file
 * (token used), never a lost record.  Keyed on the JWT "iss" value, not
 * the config section, because jti values are unique per issuer.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "jti.h"
#include "util.h"

/*
 * A login validated just before its token expired may record its jti
 * a moment later; keep records this long past exp + leeway so that
 * pruning can never reopen that window.
 */
#define AG_JTI_PRUNE_GRACE 300

#define HEX_LEN 64

static const char *state_dir(const struct ag_config *cfg)
{
	return cfg->state_dir ? cfg->state_dir : AG_STATEDIR;
}

static int jti_dir(const struct ag_config *cfg, char *buf, size_t len)
{
	return ag_path(buf, len, "%s/jti", state_dir(cfg));
}

static int jti_path(const struct ag_config *cfg,
	const struct ag_issuer *iss, const char *jti, char *buf, size_t len)
{
	unsigned char md[32];
	char hex[HEX_LEN + 1];
	size_t ilen, jlen = strlen(jti);
	EVP_MD_CTX *ctx;
	int ok;

	if (!iss->iss)
		return -EINVAL;
	ilen = strlen(iss->iss);
	ctx = EVP_MD_CTX_new();

	/* The NUL keeps ("ab", "c") and ("a", "bc") apart. */
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
		EVP_DigestUpdate(ctx, iss->iss, ilen + 1) &&
		EVP_DigestUpdate(ctx, jti, jlen) &&
		EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -ENOMEM;

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[HEX_LEN] = '\0';
	return ag_path(buf, len, "%s/jti/%s", state_dir(cfg), hex);
}

/* Presence alone counts: an unreadable or odd record still blocks. */
int ag_jti_seen(const struct ag_config *cfg, const struct ag_issuer *iss,
	const char *jti, time_t now)
{
	char path[4096];
	struct stat st;
	int r;

	r = jti_path(cfg, iss, jti, path, sizeof(path));
	if (r < 0)
		return r;
	if (lstat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/* Records are only as good as the directory: it must be root's alone. */
static int ensure_dir(const struct ag_config *cfg)
{
	char dir[4096];
	struct stat st;
	int r;

	r = jti_dir(cfg, dir, sizeof(dir));
	if (r == 0)
		r = ag_mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || !ag_stat_trusted(&st))
		return -EPERM;
	return 0;
}

static int write_exp(int fd, int64_t exp)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%lld\n", (long long)exp);
	ssize_t w;

	do {
		w = write(fd, buf, (size_t)n);
	} while (w < 0 && errno == EINTR);
	if (w != n)
		return w < 0 ? -errno : -EIO;
	return fsync(fd) < 0 ? -errno : 0;
}

/*
 * On a write error the file stays: the token is then spent, which is
 * the safe side for a single-use token.
 */
int ag_jti_record(const struct ag_config *cfg, const struct ag_issuer *iss,
	const char *jti, int64_t exp)
{
	char path[4096], dir[4096];
	int fd, r;

	r = ensure_dir(cfg);
	if (r == 0)
		r = jti_path(cfg, iss, jti, path, sizeof(path));
	if (r < 0)
		return r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		0600);
	if (fd < 0)
		return -errno;
	r = write_exp(fd, exp);
	close(fd);

	if (r == 0)
		r = jti_dir(cfg, dir, sizeof(dir));
	if (r == 0)
		r = ag_fsync_dir(dir);
	return r;
}

static bool record_name(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++) {
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	}
	return i == HEX_LEN;
}

static long max_lifetime(const struct ag_config *cfg)
{
	long m = 0;

	for (size_t i = 0; i < cfg->n_issuers; i++) {
		if (cfg->issuers[i].max_lifetime > m)
			m = cfg->issuers[i].max_lifetime;
	}
	return m;
}

/* The time after which the record at NAME may go; 0 keeps it. */
static int64_t record_deadline(const struct ag_config *cfg, int dfd,
	const char *name)
{
	char buf[32];
	long long exp;
	struct stat st;
	ssize_t n;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
		read(fd, buf, sizeof(buf) - 1) : -1;
	close(fd);
	if (n < 0)
		return 0;

	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (ag_parse_int(buf, 0, INT64_MAX / 2, &exp) == 0)
		return exp + cfg->leeway + AG_JTI_PRUNE_GRACE;

	/* Torn by a crash: no token it could stand for outlives this. */
	return st.st_mtime + max_lifetime(cfg) + cfg->leeway +
		AG_JTI_PRUNE_GRACE;
}

/* Returns the number of records removed, or a negative errno. */
int ag_jti_prune(const struct ag_config *cfg, time_t now)
{
	char dir[4096];
	struct dirent *de;
	DIR *d;
	int r, removed = 0;

	r = jti_dir(cfg, dir, sizeof(dir));
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;

	while ((de = readdir(d))) {
		int64_t deadline;

		if (!record_name(de->d_name))
			continue;
		deadline = record_deadline(cfg, dirfd(d), de->d_name);
		if (deadline > 0 && deadline < now &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
