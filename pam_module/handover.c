/*
 * Handing the approval from auth to account and session.
 *
 * Within one PAM handle, PAM data carries it.  But OpenSSH runs
 * keyboard-interactive authentication in a child process and opens
 * the session in its parent, so PAM data set during auth is gone by
 * then; only the PAM environment crosses over.  The approval itself
 * therefore also goes into a root-only file under
 * RUNTIME_DIR/pending, and the environment carries just its random
 * name.  A forged name can at worst point at another pending approval,
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

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	free(data);
}

static int pending_path(struct module *m, const char *id, char *buf,
	size_t len)
{
	if (strlen(id) != 2 * ID_BYTES ||
	    strspn(id, "0123456789abcdef") != 2 * ID_BYTES)
		return -EINVAL;
	return ag_path(buf, len, "%s/pending/%s", m->cfg->runtime_dir, id);
}

/* Drop pending approvals whose token has expired. */
static void prune_pending(struct module *m, time_t now)
{
	char dir[4096], path[4200];
	struct dirent *de;
	DIR *d;

	if (ag_path(dir, sizeof(dir), "%s/pending", m->cfg->runtime_dir) < 0)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct approval a;
		char *text;

		if (de->d_name[0] == '.' ||
		    pending_path(m, de->d_name, path, sizeof(path)) < 0 ||
		    ag_read_file(path, 4096, &text, NULL, NULL) < 0)
			continue;
		if (sscanf(text, "v1 %*s %*s %" SCNd64 " %" SCNd64,
			    &a.iat, &a.exp) != 2 || a.exp <= now)
			unlink(path);
		free(text);
	}
	closedir(d);
}

static int write_pending(struct module *m, const struct approval *a,
	char *id)
{
	char dir[4096], path[4200], text[512];
	int r;

	r = ag_random_hex(id, ID_BYTES);
	if (r == 0)
		r = ag_path(dir, sizeof(dir), "%s/pending",
			m->cfg->runtime_dir);
	if (r == 0)
		r = ag_mkdir_p(dir, 0700);
	if (r == 0)
		r = pending_path(m, id, path, sizeof(path));
	if (r < 0)
		return r;

	snprintf(text, sizeof(text), "v1 %s %s %" PRId64 " %" PRId64
		" %" PRIu32 " %" PRIu32 " %s\n", a->user, a->issuer, a->iat,
		a->exp, a->groups, a->uid, a->jti);
	return ag_write_file_atomic(path, text, strlen(text), 0600);
}

int approval_save(struct module *m, const struct approval *a)
{
	struct approval *copy = malloc(sizeof(*copy));
	char id[2 * ID_BYTES + 1], env[64];

	if (!copy)
		return -ENOMEM;
	*copy = *a;
	if (pam_set_data(m->pamh, DATA_KEY, copy, free_data) != PAM_SUCCESS) {
		free(copy);
		return -ENOMEM;
	}

	prune_pending(m, time(NULL));
	if (write_pending(m, a, id) < 0)
		return -EIO;
	snprintf(env, sizeof(env), ENV_KEY "=%s", id);
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
	int r;

	if (!id || pending_path(m, id, path, sizeof(path)) < 0)
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
