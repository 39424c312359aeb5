/*
 * Config and registry cache for libnss_agentgate.  Each lookup costs
 * two stat() calls while nothing changes; the config is re-parsed and
 * users.db re-mapped only when their stat (including ctime, which
 * chmod and chown move) differs from what was loaded.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "names.h"
#include "nss_state.h"
#include "userdb.h"
#include "util.h"

#define CONFIG_READ_MAX (1024 * 1024)

/*
 * Everything below is guarded by state_lock and touched by no one
 * without it.  Allocations here outlive a call, and only here.
 *
 * cfg is the config in force, or NULL when the file is missing, bad
 * or untrusted (cfg_error says which).  While it is unusable, two
 * things still tell agent names from others, so that agents are
 * refused (UNAVAIL) while everyone else gets a plain NOTFOUND:
 * last_good, the last config that loaded, and bad_text, the text of
 * a root-owned file that failed to parse.  Text from an untrusted
 * file is never consulted: whoever wrote it could claim any name.
 */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ag_config *cfg;
static struct ag_config *last_good;
static int cfg_error = -ENOENT;
static char *bad_text;
static size_t bad_len;
static struct stat cfg_stat;
static bool cfg_stat_valid;
static struct ag_userdb db;

/*
 * A fork while another thread holds the lock would leave the child
 * with a lock nobody will release: hold it across fork instead.
 */
static void atfork_lock(void)
{
	pthread_mutex_lock(&state_lock);
}

static void atfork_unlock(void)
{
	pthread_mutex_unlock(&state_lock);
}

static void register_atfork(void)
{
	pthread_atfork(atfork_lock, atfork_unlock, atfork_unlock);
}

void nss_state_lock(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_atfork);
	pthread_mutex_lock(&state_lock);
}

void nss_state_unlock(void)
{
	pthread_mutex_unlock(&state_lock);
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
		a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
		a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The config in force becomes a fallback for telling names apart. */
static void retire_config(void)
{
	if (cfg) {
		ag_config_free(last_good);
		last_good = cfg;
		cfg = NULL;
	}
	free(bad_text);
	bad_text = NULL;
	bad_len = 0;
}

static int parse_trusted(const char *text, size_t len,
	struct ag_config **out)
{
	char err[256];

	return ag_config_parse(AG_CONFIG_PATH, text, len, out, err,
		sizeof(err));
}

/* Read, trust-check and parse the config; fills cfg or cfg_error. */
static void load_config(void)
{
	struct ag_config *fresh = NULL;
	struct stat st;
	char *text;
	size_t len;
	int r;

	retire_config();
	cfg_stat_valid = false;
	r = ag_read_file(AG_CONFIG_PATH, CONFIG_READ_MAX, &text, &len, &st);
	if (r < 0) {
		cfg_error = r;
		return;
	}
	cfg_stat = st;
	cfg_stat_valid = true;

	if (!S_ISREG(st.st_mode) || !ag_stat_trusted(&st)) {
		cfg_error = -EPERM;
		free(text);
		return;
	}
	r = parse_trusted(text, len, &fresh);
	if (r < 0) {
		cfg_error = r;
		bad_text = text;
		bad_len = len;
		return;
	}
	free(text);
	cfg = fresh;
	cfg_error = 0;
}

/* 0 with cfg usable, else why not.  One stat() when nothing changed. */
static int config_refresh(void)
{
	struct stat st;

	if (stat(AG_CONFIG_PATH, &st) < 0) {
		int r = -errno;

		retire_config();
		cfg_stat_valid = false;
		cfg_error = r;
		return r;
	}
	if (!cfg_stat_valid || !same_stat(&st, &cfg_stat))
		load_config();
	return cfg ? 0 : cfg_error;
}

/* An empty registry (-ENOENT) is normal before the first login. */
static int userdb_refresh(void)
{
	int r = ag_userdb_refresh(&db, cfg->state_dir);

	return r == -ENOENT ? 0 : r;
}

/* With the config unusable: was NAME meant to be an agent's? */
static bool looks_agent(const char *name)
{
	if (last_good && ag_config_issuer_for_name(last_good, name))
		return true;
	return bad_text && ag_config_name_looks_agent(bad_text, bad_len,
		name);
}

/* NAME in the config and registry as they are; nothing refreshed. */
static int agent_resolve(const char *name, struct nss_agent *a)
{
	const struct ag_issuer *is = ag_config_issuer_for_name(cfg, name);
	uint32_t uid;
	int r;

	if (!is || !ag_name_in_issuer(is, name))
		return -ENOENT;
	r = ag_userdb_resolve(&db, is, name, &uid);
	if (r == -EEXIST)
		return -ENOENT;	/* never alias a uid onto a second name */
	if (r < 0)
		return r;

	strcpy(a->name, name);	/* valid: at most AG_NAME_MAX bytes */
	a->uid = uid;
	a->issuer = is;
	return 0;
}

int nss_agent_by_name(const char *name, struct nss_agent *a)
{
	int r;

	if (!ag_name_valid(name))
		return -ENOENT;
	r = config_refresh();
	if (r == -ENOENT || (r < 0 && !looks_agent(name)))
		return -ENOENT;	/* not ours, whatever state we are in */
	if (r < 0)
		return r;
	if (!ag_config_issuer_for_name(cfg, name))
		return -ENOENT;	/* no need to look at users.db */

	r = userdb_refresh();
	if (r < 0)
		return r;
	return agent_resolve(name, a);
}

static bool uid_in_some_range(uint32_t uid)
{
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		const struct ag_issuer *is = &cfg->issuers[i];

		if (uid >= is->uid_min && uid <= is->uid_max)
			return true;
	}
	return false;
}

/*
 * Only registered agents have a name for their uid.  The name found is
 * resolved again and must come back to the same uid, so a stale or
 * inconsistent registry never makes two names share one uid.  With no
 * usable config there is no way to tell an agent's uid from anyone
 * else's: the answer is NOTFOUND.
 */
int nss_agent_by_uid(uint32_t uid, struct nss_agent *a)
{
	char name[AG_NAME_MAX + 1];
	int r;

	if (uid == 0 || config_refresh() < 0 || !uid_in_some_range(uid))
		return -ENOENT;
	r = userdb_refresh();
	if (r < 0)
		return r;

	r = ag_userdb_find_uid(&db, uid, name, sizeof(name));
	if (r < 0)
		return r;
	r = agent_resolve(name, a);
	if (r == 0 && a->uid != uid)
		return -ENOENT;
	return r;
}

/*
 * The sessions directory is root's alone (0700): to anyone else it
 * holds no sessions, which is the answer, not a failure.  Records a
 * caller cannot read are skipped by ag_session_foreach() already.
 */
int nss_sessions_foreach(int (*fn)(const struct ag_session *s, void *arg),
	void *arg)
{
	int r = config_refresh();

	if (r < 0)
		return -ENOENT;
	r = ag_session_foreach(cfg->runtime_dir, fn, arg);
	return r == -EACCES ? 0 : r;
}
