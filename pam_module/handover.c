/*
 * Handing the approval from auth to account and session.
 *
 * Within one PAM handle, PAM data carries it.  But OpenSSH runs
 * keyboard-interactive authentication in a child process and opens
 * the session in its parent, so PAM data set during auth is gone by
 * then; only the PAM environment crosses over.  The approval itself
 * therefore also goes into a root-only file under
 * RUNTIME_DIR/pending, and the environment carries just its
 * name, which is random.  A forged name can at worst point at another pending approval,
 * and that is refused unless it is for the same user.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_agentgate.h"
#include "util.h"

#define DATA_KEY "agentgate_approval"
#define ENV_KEY "AGENTGATE_PENDING"
#define ID_BYTES 16
#define PENDING_MAX_AGE 120	/* sshd's LoginGraceTime, by default */

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	free(data);
}

/*
 * A pending record is named "EXPIRY-ID": EXPIRY (epoch seconds) lets
 * pruning work from the directory listing alone, ID is random.
 */
static int pending_expiry(const char *name, int64_t *expiry)
{
	const char *dash = strchr(name, '-');
	long long v;
	char num[24];

	if (!dash || dash == name || (size_t)(dash - name) >= sizeof(num) ||
	    strlen(dash + 1) != 2 * ID_BYTES ||
	    strspn(dash + 1, "0123456789abcdef") != 2 * ID_BYTES)
		return -EINVAL;
	memcpy(num, name, (size_t)(dash - name));
	num[dash - name] = '\0';
	if (ag_parse_int(num, 0, INT64_MAX, &v) < 0)
		return -EINVAL;
	*expiry = v;
	return 0;
}

static int pending_path(struct module *m, const char *name, char *buf,
	size_t len)
{
	int64_t expiry;

	if (pending_expiry(name, &expiry) < 0)
		return -EINVAL;
	return ag_path(buf, len, "%s/pending/%s", m->cfg->runtime_dir, name);
}

/* Drop pending approvals past their expiry, from names alone. */
static void prune_pending(struct module *m, time_t now)
{
	char dir[4096], path[4200];
	struct dirent *de;
	int64_t expiry;
	DIR *d;

	if (ag_path(dir, sizeof(dir), "%s/pending", m->cfg->runtime_dir) < 0)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		/* Dot files, and another login's record being written. */
		if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp"))
			continue;
		if (pending_expiry(de->d_name, &expiry) == 0 &&
		    expiry > (int64_t)now)
			continue;
		if (ag_path(path, sizeof(path), "%s/%s", dir,
			    de->d_name) == 0)
			unlink(path);
	}
	closedir(d);
}

static int write_pending(struct module *m, const struct approval *a,
	char *name, size_t namelen)
{
	char dir[4096], path[4200], text[512], id[2 * ID_BYTES + 1];
	int64_t expiry = (int64_t)time(NULL) + PENDING_MAX_AGE;
	int r;

	if (a->exp < expiry)
		expiry = a->exp;
	r = ag_random_hex(id, ID_BYTES);
	if (r == 0)
		r = ag_path(name, namelen, "%lld-%s", (long long)expiry, id);
	if (r == 0)
		r = ag_path(dir, sizeof(dir), "%s/pending",
			m->cfg->runtime_dir);
	/* Usually there already; build the whole path only when not. */
	if (r == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
		r = ag_mkdir_p(dir, 0700);
	if (r == 0)
		r = pending_path(m, name, path, sizeof(path));
	if (r < 0)
		return r;

	snprintf(text, sizeof(text), "v1 %s %s %" PRId64 " %" PRId64
		" %" PRIu32 " %" PRIu32 " %s\n", a->user, a->issuer, a->iat,
		a->exp, a->groups, a->uid, a->jti);
	return ag_write_file_runtime(path, text, strlen(text), 0600);
}

int approval_save(struct module *m, const struct approval *a)
{
	struct approval *copy = malloc(sizeof(*copy));
	char name[64], env[96];

	if (!copy)
		return -ENOMEM;
	*copy = *a;
	if (pam_set_data(m->pamh, DATA_KEY, copy, free_data) != PAM_SUCCESS) {
		free(copy);
		return -ENOMEM;
	}

	if (write_pending(m, a, name, sizeof(name)) < 0)
		return -EIO;
	/*
	 * Pruning reads the whole directory: do it on about one login in
	 * sixteen (the random id decides), not on every one.
	 */
	if (name[strcspn(name, "-") + 1] == '0')
		prune_pending(m, time(NULL));
	snprintf(env, sizeof(env), ENV_KEY "=%s", name);
	return pam_putenv(m->pamh, env) == PAM_SUCCESS ? 0 : -ENOMEM;
}

static int parse_pending(const char *text, struct approval *a)
{
	char user[64], issuer[64], jti[AG_JTI_MAX + 2];
	int n = 0;

	if (sscanf(text, "v1 %33s %63s %" SCNd64 " %" SCNd64 " %" SCNu32
		    " %" SCNu32 " %129s%n", user, issuer, &a->iat, &a->exp,
		    &a->groups, &a->uid, jti, &n) != 7 ||
	    strcmp(text + n, "\n") != 0 || strlen(user) > AG_NAME_MAX ||
	    strlen(jti) > AG_JTI_MAX)
		return -EBADMSG;
	strcpy(a->user, user);
	strcpy(a->issuer, issuer);
	strcpy(a->jti, jti);
	return 0;
}

static int load_pending(struct module *m, struct approval *a)
{
	const char *id = pam_getenv(m->pamh, ENV_KEY);
	char path[4200], *text;
	struct stat st;
	int64_t expiry;
	int r;

	if (!id || pending_path(m, id, path, sizeof(path)) < 0 ||
	    pending_expiry(id, &expiry) < 0 || expiry <= (int64_t)time(NULL))
		return -ENOENT;
	r = ag_read_file(path, 4096, &text, NULL, &st);
	if (r < 0)
		return r;
	r = ag_stat_trusted(&st) && !(st.st_mode & 077) ?
		parse_pending(text, a) : -EPERM;
	free(text);
	return r;
}

int approval_load(struct module *m, struct approval *a)
{
	const void *data = NULL;

	if (pam_get_data(m->pamh, DATA_KEY, &data) == PAM_SUCCESS && data) {
		*a = *(const struct approval *)data;
		return 0;
	}
	return load_pending(m, a);
}

void approval_drop_pending(struct module *m)
{
	const char *id = pam_getenv(m->pamh, ENV_KEY);
	char path[4200];

	if (id && pending_path(m, id, path, sizeof(path)) == 0)
		unlink(path);
	/* Unset: the session must not see it. */
	pam_putenv(m->pamh, ENV_KEY);
}
