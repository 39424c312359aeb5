/*
 * Revocation lists: parsing, matching and agentgatectl's writer.  The
 * format and the fail-closed rule are documented in revoke.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "revoke.h"
#include "util.h"

#define REVOKE_FILE_MAX (16u << 20)
#define REASON_MAX 200

static const char *const kind_names[] = {
	[AG_REVOKE_JTI] = "jti",
	[AG_REVOKE_USER] = "user",
	[AG_REVOKE_ISSUER] = "issuer",
};

static void set_err(char *err, size_t len, const char *file,
	unsigned line, const char *what)
{
	if (err && len)
		snprintf(err, len, "%s:%u: %s", file, line, what);
}

/* A token: printable, no blanks, fits the buffer. */
static int copy_word(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i]; i++)
		if (!isgraph((unsigned char)src[i]))
			return -EINVAL;
	if (i == 0 || i >= len)
		return -EINVAL;
	memcpy(dst, src, i + 1);
	return 0;
}

static int parse_time(const char *s, int64_t *out)
{
	long long v;

	if (ag_parse_int(s, 0, INT64_MAX, &v) < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_kind(const char *s, enum ag_revoke_kind *kind)
{
	unsigned i;

	for (i = 0; i < AG_ARRAY_SIZE(kind_names); i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*kind = (enum ag_revoke_kind)i;
			return 0;
		}
	return -EINVAL;
}

/* 0 entry, 1 nothing on this line, -EBADMSG malformed. */
static int parse_entry(char *line, struct ag_revocation *e)
{
	char *f[4], *save = NULL;
	int i;

	line += strspn(line, " \t");
	if (!*line || *line == '#')
		return 1;
	for (i = 0; i < 4; i++) {
		f[i] = strtok_r(i ? NULL : line, " \t", &save);
		if (!f[i])
			return -EBADMSG;
	}
	memset(e, 0, sizeof(*e));
	if (parse_kind(f[0], &e->kind) < 0)
		return -EBADMSG;

	if (e->kind == AG_REVOKE_JTI) {
		if (copy_word(e->issuer, sizeof(e->issuer), f[1]) < 0 ||
				copy_word(e->value, sizeof(e->value), f[2]) < 0)
			return -EBADMSG;
		e->after = INT64_MAX;
	} else {
		if (copy_word(e->value, sizeof(e->value), f[1]) < 0 ||
				parse_time(f[2], &e->after) < 0)
			return -EBADMSG;
		if (e->kind == AG_REVOKE_ISSUER)
			strcpy(e->issuer, e->value);
	}
	return parse_time(f[3], &e->until) < 0 ? -EBADMSG : 0;
}

static int list_push(struct ag_revoke_list *l, const struct ag_revocation *e)
{
	struct ag_revocation *v = ag_grow(l->v, &l->cap, l->n, sizeof(*v), 16);

	if (!v)
		return -ENOMEM;
	l->v = v;
	l->v[l->n++] = *e;
	return 0;
}

/*
 * One load.  Strict, a bad file or line fails it (logins); lenient,
 * it is counted in SKIPPED, the first one described in ERR, and the
 * rest is read (the daemon, which must still act on good entries).
 */
struct load {
	time_t now;
	struct ag_revoke_list *l;
	bool lenient;
	unsigned skipped;
	char *err;
	size_t errlen;
};

/* R back for a strict load; 0 after noting it for a lenient one. */
static int bad(struct load *ld, const char *file, unsigned line,
	const char *what, int r)
{
	if (ld->lenient && ld->skipped++)
		return 0;
	set_err(ld->err, ld->errlen, file, line, what);
	return ld->lenient ? 0 : r;
}

static int parse_text(struct load *ld, const char *file, char *text,
	size_t len)
{
	struct ag_revocation e;
	char *line = text, *nl;
	unsigned lineno = 0;
	int r;

	if (strlen(text) != len)
		return bad(ld, file, 1, "NUL byte in file", -EBADMSG);
	for (; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		lineno++;
		r = parse_entry(line, &e);
		if (r < 0) {
			r = bad(ld, file, lineno, "malformed entry", r);
			if (r < 0)
				return r;
			continue;
		}
		if (r == 1 || e.until < ld->now)
			continue;
		r = list_push(ld->l, &e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_file(struct load *ld, const char *path)
{
	struct stat st;
	char *text;
	size_t len;
	int r;

	r = ag_read_file(path, REVOKE_FILE_MAX, &text, &len, &st);
	if (r == -ENOENT)
		return 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return bad(ld, path, 0, strerror(-r), r);
	if (!S_ISREG(st.st_mode) || !ag_stat_trusted(&st)) {
		free(text);
		return bad(ld, path, 0,
			"not a root-owned, write-protected file", -EPERM);
	}
	r = parse_text(ld, path, text, len);
	free(text);
	return r;
}

/* Fleet lists: NAME.list, skipping dot files (editors, rsync temps). */
static bool list_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".list") == 0;
}

static int load_dir(struct load *ld, const char *dir)
{
	struct dirent *de;
	struct stat st;
	char path[4200];
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d && errno == ENOENT)
		return 0;
	if (!d)
		return bad(ld, dir, 0, strerror(errno), -errno);
	if (fstat(dirfd(d), &st) < 0 || !ag_stat_trusted(&st)) {
		closedir(d);
		return bad(ld, dir, 0, "directory not trusted", -EPERM);
	}
	while (r == 0 && (de = readdir(d))) {
		if (!list_name(de->d_name))
			continue;
		r = ag_path(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (r < 0)
			r = bad(ld, dir, 0, "file name too long", r);
		else
			r = load_file(ld, path);
	}
	closedir(d);
	return r;
}

static int load_all(const struct ag_config *cfg, struct load *ld,
	struct ag_revoke_list *list)
{
	struct ag_revoke_list l = { 0 };
	char path[4200];
	int r;

	ld->l = &l;
	r = ag_path(path, sizeof(path), "%s/revocations", cfg->state_dir);
	if (r == 0)
		r = load_file(ld, path);
	if (r == 0 && cfg->revocation_dir && cfg->revocation_dir[0])
		r = load_dir(ld, cfg->revocation_dir);
	if (r < 0) {
		ag_revoke_list_free(&l);
		return r;
	}
	*list = l;
	return 0;
}

int ag_revoke_load(const struct ag_config *cfg, time_t now,
	struct ag_revoke_list *list, char *err, size_t errlen)
{
	struct load ld = { .now = now, .err = err, .errlen = errlen };

	return load_all(cfg, &ld, list);
}

int ag_revoke_load_lenient(const struct ag_config *cfg, time_t now,
	struct ag_revoke_list *list, unsigned *skipped, char *err,
	size_t errlen)
{
	struct load ld = { .now = now, .lenient = true, .err = err,
		.errlen = errlen };
	int r;

	r = load_all(cfg, &ld, list);
	if (r == 0)
		*skipped = ld.skipped;
	return r;
}

int ag_revoke_list_merge(struct ag_revoke_list *dst,
	const struct ag_revoke_list *src)
{
	size_t i;
	int r;

	for (i = 0; i < src->n; i++) {
		r = list_push(dst, &src->v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool entry_matches(const struct ag_revocation *e, const char *issuer,
	const char *user, const char *jti, int64_t iat)
{
	switch (e->kind) {
	case AG_REVOKE_JTI:
		return jti && strcmp(e->value, jti) == 0 &&
			(strcmp(e->issuer, "*") == 0 ||
			 (issuer && strcmp(e->issuer, issuer) == 0));
	case AG_REVOKE_USER:
		return user && strcmp(e->value, user) == 0 && iat <= e->after;
	case AG_REVOKE_ISSUER:
		return issuer && strcmp(e->value, issuer) == 0 &&
			iat <= e->after;
	}
	return false;
}

int ag_revoke_match(const struct ag_revoke_list *list, const char *issuer,
	const char *user, const char *jti, int64_t iat)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		if (entry_matches(&list->v[i], issuer, user, jti, iat))
			return 1;
	return 0;
}

void ag_revoke_list_free(struct ag_revoke_list *list)
{
	free(list->v);
	list->v = NULL;
	list->n = list->cap = 0;
}

int ag_revoked(const struct ag_config *cfg, const struct ag_issuer *iss,
	const char *user, const char *jti, int64_t iat, time_t now)
{
	struct ag_revoke_list l;
	int r;

	r = ag_revoke_load(cfg, now, &l, NULL, 0);
	if (r < 0)
		return r;
	r = ag_revoke_match(&l, iss ? iss->name : NULL, user, jti, iat);
	ag_revoke_list_free(&l);
	return r;
}

static int format_entry(char *buf, size_t len, enum ag_revoke_kind kind,
	const char *issuer, const char *value, int64_t after,
	int64_t until, const char *reason)
{
	int n;

	if (kind == AG_REVOKE_JTI)
		n = snprintf(buf, len, "jti %s %s %lld", issuer, value,
			(long long)until);
	else
		n = snprintf(buf, len, "%s %s %lld %lld", kind_names[kind],
			value, (long long)after, (long long)until);
	if (n > 0 && reason && reason[0] && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " %s", reason);
	if (n < 0 || (size_t)n + 1 >= len)
		return -ENAMETOOLONG;
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

static bool reason_ok(const char *reason)
{
	const char *p;

	if (!reason)
		return true;
	for (p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return p - reason <= REASON_MAX;
}

/*
 * Rewrite TEXT keeping comments and entries still in force.  A line
 * that does not parse stops the rewrite: pruning it would silently
 * turn a fail-closed list into an open one.
 */
static int prune_text(char *text, time_t now, char *out, size_t *used)
{
	struct ag_revocation e;
	char *line = text, *nl, copy[1024];
	size_t n;
	int r;

	for (; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		n = strlen(line);
		if (n >= sizeof(copy))
			return -EBADMSG;
		memcpy(copy, line, n + 1);
		r = parse_entry(copy, &e);
		if (r < 0)
			return r;
		if (r == 0 && e.until < now)
			continue;
		memcpy(out + *used, line, n);
		*used += n;
		out[(*used)++] = '\n';
	}
	return 0;
}

static int rewrite_locked(const char *path, const char *entry,
	time_t now)
{
	struct stat st;
	char *text = NULL, *out;
	size_t len = 0, used = 0;
	int r;

	r = ag_read_file(path, REVOKE_FILE_MAX, &text, &len, &st);
	if (r == 0 && (!S_ISREG(st.st_mode) || !ag_stat_trusted(&st)))
		r = -EPERM;
	if (r == -ENOENT)
		r = 0;
	if (r == 0 && text && strlen(text) != len)
		r = -EBADMSG;
	out = r == 0 ? malloc(len + strlen(entry) + 2) : NULL;
	if (r == 0 && !out)
		r = -ENOMEM;
	if (r == 0 && text)
		r = prune_text(text, now, out, &used);
	if (r == 0) {
		memcpy(out + used, entry, strlen(entry));
		used += strlen(entry);
		r = ag_write_file_atomic(path, out, used, 0644);
	}
	free(out);
	free(text);
	return r;
}

int ag_revoke_add(const struct ag_config *cfg, enum ag_revoke_kind kind,
	const char *issuer, const char *value, int64_t after,
	int64_t until, const char *reason)
{
	struct ag_revocation check;
	char entry[1024], path[4200], lock[4200];
	int n, r, fd;

	if ((unsigned)kind >= AG_ARRAY_SIZE(kind_names) || !value ||
			(kind == AG_REVOKE_JTI && !issuer) || !reason_ok(reason))
		return -EINVAL;
	n = format_entry(entry, sizeof(entry), kind, issuer, value, after,
		until, reason);
	if (n < 0)
		return n;
	/* What we write must read back as exactly one entry. */
	memcpy(path, entry, (size_t)n);
	path[n - 1] = '\0';
	if (parse_entry(path, &check) != 0 || strcmp(check.value, value))
		return -EINVAL;

	r = ag_mkdir_p(cfg->state_dir, 0755);
	if (r == 0)
		r = ag_path(path, sizeof(path), "%s/revocations",
			cfg->state_dir);
	if (r == 0)
		r = ag_path(lock, sizeof(lock), "%s/revocations.lock",
			cfg->state_dir);
	if (r == 0)
		r = ag_lock(lock, &fd);
	if (r < 0)
		return r;
	r = rewrite_locked(path, entry, time(NULL));
	ag_unlock(fd);
	return r;
}
