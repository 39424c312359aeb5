/*
 * The live-session registry.  One "key=value" file per session; see
 * session.h.  The NSS module links this, so: libc only, no logging,
 * and a parser that treats every byte of a record as hostile.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "util.h"

#define SESSION_FILE_MAX 16384

enum field_type { F_STR, F_U32, F_I64, F_PID, F_U64, F_GROUPS };

struct field {
	const char *key;
	enum field_type type;
	size_t off;
	size_t size;		/* F_STR: buffer size */
	bool required;
};

#define STR(k, req) { #k, F_STR, offsetof(struct ag_session, k), \
	sizeof(((struct ag_session *)0)->k), req }
#define NUM(k, t, req) { #k, t, offsetof(struct ag_session, k), 0, req }

/* The on-disk order; every key is written, readers need the required. */
static const struct field fields[] = {
	STR(id, true),
	STR(user, true),
	NUM(uid, F_U32, true),
	STR(issuer, true),
	STR(jti, true),
	NUM(expires, F_I64, true),
	NUM(started, F_I64, false),
	NUM(iat, F_I64, false),
	STR(rhost, false),
	NUM(leader, F_PID, true),
	NUM(leader_start, F_U64, false),
	STR(cgroup, false),
	NUM(audit_sid, F_U32, false),
	{ "groups", F_GROUPS, 0, 0, false },
};

static bool id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!isxdigit((unsigned char)id[i]) || isupper(
			(unsigned char)id[i]))
			return false;
	return i == AG_SESSION_ID_LEN;
}

/* Values are single lines of printable bytes: nothing can smuggle keys. */
static bool value_valid(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

static int parse_i64(const char *v, int64_t *out)
{
	char *end;
	long long n;

	if (!isdigit((unsigned char)v[v[0] == '-']))
		return -EINVAL;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = n;
	return 0;
}

static int parse_groups(const char *v, struct ag_session *s)
{
	char buf[AG_GROUPS_MAX * 12];
	char *tok, *save = NULL;
	uint64_t g;

	if (!*v)
		return 0;
	if (strlen(v) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, v);
	for (tok = strtok_r(buf, ",", &save); tok;
			tok = strtok_r(NULL, ",", &save)) {
		if (s->n_groups >= AG_GROUPS_MAX ||
				parse_u64(tok, UINT32_MAX - 1, &g) < 0)
			return -EINVAL;
		s->groups[s->n_groups++] = (gid_t)g;
	}
	return 0;
}

static int set_field(const struct field *f, const char *v,
	struct ag_session *s)
{
	char *p = (char *)s + f->off;
	uint64_t u;
	int64_t i;

	switch (f->type) {
	case F_STR:
		if (strlen(v) >= f->size || !value_valid(v))
			return -EINVAL;
		strcpy(p, v);
		return 0;
	case F_U32:
		if (parse_u64(v, UINT32_MAX, &u) < 0)
			return -EINVAL;
		*(uint32_t *)(void *)p = (uint32_t)u;
		return 0;
	case F_PID:
		if (parse_u64(v, INT32_MAX, &u) < 0 || u < 1)
			return -EINVAL;
		*(pid_t *)(void *)p = (pid_t)u;
		return 0;
	case F_U64:
		if (parse_u64(v, UINT64_MAX, &u) < 0)
			return -EINVAL;
		*(uint64_t *)(void *)p = u;
		return 0;
	case F_I64:
		if (parse_i64(v, &i) < 0)
			return -EINVAL;
		*(int64_t *)(void *)p = i;
		return 0;
	case F_GROUPS:
		return parse_groups(v, s);
	}
	return -EINVAL;
}

static const struct field *find_field(const char *key, unsigned *idx)
{
	unsigned i;

	for (i = 0; i < AG_ARRAY_SIZE(fields); i++)
		if (strcmp(fields[i].key, key) == 0) {
			*idx = i;
			return &fields[i];
		}
	return NULL;
}

/*
 * Unknown keys are skipped so that a newer PAM module can add fields
 * without breaking an older daemon; a duplicate key, a bad value or a
 * missing required key rejects the whole record.
 */
static int parse_line(char *line, struct ag_session *s, unsigned *seen)
{
	char *eq = strchr(line, '=');
	const struct field *f;
	unsigned idx;

	if (!eq || eq == line)
		return -EBADMSG;
	*eq = '\0';
	f = find_field(line, &idx);
	if (!f)
		return 0;
	if (*seen & (1u << idx))
		return -EBADMSG;
	*seen |= 1u << idx;
	return set_field(f, eq + 1, s) < 0 ? -EBADMSG : 0;
}

static int session_parse(char *text, size_t len, struct ag_session *s)
{
	unsigned seen = 0, i;
	char *line = text, *nl;
	int r;

	if (strlen(text) != len || len == 0 || text[len - 1] != '\n')
		return -EBADMSG;
	memset(s, 0, sizeof(*s));
	s->audit_sid = UINT32_MAX;

	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		r = parse_line(line, s, &seen);
		if (r < 0)
			return r;
	}

	for (i = 0; i < AG_ARRAY_SIZE(fields); i++)
		if (fields[i].required && !(seen & (1u << i)))
			return -EBADMSG;
	if (!id_valid(s->id) || !s->user[0])
		return -EBADMSG;
	return 0;
}

int ag_session_read(const char *path, struct ag_session *s)
{
	struct ag_session tmp;
	struct stat st;
	char *data;
	size_t len;
	int r;

	r = ag_read_file(path, SESSION_FILE_MAX, &data, &len, &st);
	if (r < 0)
		return r;
	if (!S_ISREG(st.st_mode) || !ag_stat_trusted(&st))
		r = -EPERM;
	else
		r = session_parse(data, len, &tmp);
	free(data);
	if (r == 0)
		*s = tmp;
	return r;
}

static int format_groups(const struct ag_session *s, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;
	int n;

	buf[0] = '\0';
	for (i = 0; i < s->n_groups && i < AG_GROUPS_MAX; i++) {
		n = snprintf(buf + used, len - used, "%s%u", i ? "," : "",
			(unsigned)s->groups[i]);
		if (n < 0 || (size_t)n >= len - used)
			return -ENAMETOOLONG;
		used += (size_t)n;
	}
	return 0;
}

static bool session_writable(const struct ag_session *s)
{
	return id_valid(s->id) && s->user[0] && s->leader > 0 &&
		s->n_groups <= AG_GROUPS_MAX && value_valid(s->user) &&
		value_valid(s->issuer) && value_valid(s->jti) &&
		value_valid(s->rhost) && value_valid(s->cgroup);
}

static int session_format(const struct ag_session *s, char *buf,
	size_t len)
{
	char groups[AG_GROUPS_MAX * 12];
	int n;

	if (format_groups(s, groups, sizeof(groups)) < 0)
		return -EINVAL;
	n = snprintf(buf, len,
		"id=%s\nuser=%s\nuid=%" PRIu32 "\nissuer=%s\njti=%s\n"
		"expires=%" PRId64 "\nstarted=%" PRId64 "\niat=%" PRId64 "\n"
		"rhost=%s\nleader=%d\nleader_start=%" PRIu64 "\n"
		"cgroup=%s\naudit_sid=%" PRIu32 "\ngroups=%s\n",
		s->id, s->user, s->uid, s->issuer, s->jti, s->expires,
		s->started, s->iat, s->rhost, (int)s->leader,
		s->leader_start, s->cgroup, s->audit_sid, groups);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

static int sessions_dir(const char *runtime_dir, char *buf, size_t len)
{
	return ag_path(buf, len, "%s/sessions", runtime_dir);
}

/*
 * Records name a token's jti, the client's address and the leader's
 * pid: for root's eyes only.  RUNTIME_DIR stays 0755 (others keep
 * files there); the sessions directory is made 0700 even when an
 * older agentgated or tmpfiles.d created it 0755.  Only a directory
 * root owns is tightened: anything else is refused.
 */
static int sessions_dir_private(const char *runtime_dir, const char *dir)
{
	struct stat st;
	int fd, r;

	r = ag_mkdir_p(runtime_dir, 0755);
	if (r < 0)
		return r;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (st.st_uid != 0)
		r = -EPERM;
	else if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		r = -errno;
	close(fd);
	return r;
}

int ag_session_write(const struct ag_config *cfg,
	const struct ag_session *s)
{
	char dir[4096], path[4200], buf[4096];
	int n, r;

	if (!session_writable(s))
		return -EINVAL;
	n = session_format(s, buf, sizeof(buf));
	if (n < 0)
		return n;

	r = sessions_dir(cfg->runtime_dir, dir, sizeof(dir));
	if (r == 0)
		r = sessions_dir_private(cfg->runtime_dir, dir);
	if (r < 0)
		return r;
	r = ag_path(path, sizeof(path), "%s/%s", dir, s->id);
	if (r < 0)
		return r;
	return ag_write_file_runtime(path, buf, (size_t)n, 0600);
}

int ag_session_remove(const struct ag_config *cfg, const char *id)
{
	char path[4200];
	int r;

	if (!id_valid(id))
		return -EINVAL;
	r = ag_path(path, sizeof(path), "%s/sessions/%s",
		cfg->runtime_dir, id);
	if (r < 0)
		return r;
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

/* A record counts only if it parses and names the file it lives in. */
static int visit(const char *dir, const char *name,
	int (*fn)(const struct ag_session *s, void *arg), void *arg)
{
	char path[4200];
	struct ag_session s;

	if (!id_valid(name) ||
			ag_path(path, sizeof(path), "%s/%s", dir, name) < 0)
		return 0;
	if (ag_session_read(path, &s) < 0 || strcmp(s.id, name) != 0)
		return 0;
	return fn(&s, arg);
}

int ag_session_foreach(const char *runtime_dir,
	int (*fn)(const struct ag_session *s, void *arg), void *arg)
{
	char dir[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r;

	r = sessions_dir(runtime_dir, dir, sizeof(dir));
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(dirfd(d), &st) < 0 || !ag_stat_trusted(&st)) {
		closedir(d);
		return -EPERM;
	}

	r = 0;
	while (r == 0 && (de = readdir(d)))
		r = visit(dir, de->d_name, fn, arg);
	closedir(d);
	return r;
}

/* Field 22 of /proc/PID/stat; the comm before it may hold anything. */
int ag_proc_starttime(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024], *p, *save = NULL;
	uint64_t v;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	i = errno;
	close(fd);
	if (n < 0)
		return -i;
	buf[n] = '\0';

	p = strrchr(buf, ')');
	if (!p)
		return -EBADMSG;
	p = strtok_r(p + 1, " ", &save);
	for (i = 3; p && i < 22; i++)
		p = strtok_r(NULL, " ", &save);
	if (!p || parse_u64(p, UINT64_MAX, &v) < 0)
		return -EBADMSG;
	*start = v;
	return 0;
}

int ag_daemon_running(const struct ag_config *cfg)
{
	char path[4200];
	struct stat st;
	int fd, r;

	r = ag_path(path, sizeof(path), "%s/agentgated.lock",
		cfg->runtime_dir);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;

	/* Someone else's file proves nothing about the daemon. */
	if (fstat(fd, &st) < 0 || !ag_stat_trusted(&st)) {
		close(fd);
		return 0;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		r = 0;
	else
		r = errno == EWOULDBLOCK ? 1 : -errno;
	close(fd);
	return r;
}
