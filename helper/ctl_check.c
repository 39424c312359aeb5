/*
 * agentgatectl check-config: everything agentgate will trip over at
 * login time, found now.  Prints "file:line: what" per problem and
 * exits 1 when there is any, 2 when the config does not parse.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl.h"
#include "keys.h"
#include "revoke.h"
#include "token.h"
#include "userdb.h"
#include "util.h"

static unsigned check_keys(const struct ag_config *cfg,
	struct ag_keyring *kr, const struct ag_issuer *is)
{
	const struct ag_key *keys;
	unsigned bad = 0;
	size_t i, n;
	int r;

	if (is->n_keys == 0) {
		printf("%s:%u: issuer %s has no keys\n", cfg->path, is->line,
			is->name);
		return 1;
	}
	for (i = 0; i < is->n_keys; i++) {
		r = ag_keyring_file(kr, is->keys[i], &keys, &n);
		if (r == 0)
			continue;
		printf("%s:%u: issuer %s: key %s: %s\n", cfg->path, is->line,
			is->name, is->keys[i], r == -EPERM ?
			"not root-owned and write-protected" : strerror(-r));
		bad++;
	}
	return bad;
}

#define PREFIX_MIN 3	/* "a" would capture admin, "ad" adm */

/*
 * The line of ISSUER's "prefix =" in the config file, for messages;
 * the section's line when the file cannot be read again.
 */
static unsigned prefix_line(const struct ag_config *cfg,
	const struct ag_issuer *is)
{
	unsigned line = 0, found = is->line;
	char *text, *p, *next;
	size_t len;

	if (ag_read_file(cfg->path, 1024 * 1024, &text, &len, NULL) < 0)
		return found;
	for (p = text; p && *p; p = next) {
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		if (++line <= is->line)
			continue;
		p += strspn(p, " \t");
		if (*p == '[')
			break;
		if (strncmp(p, "prefix", 6) == 0 &&
				p[6 + strspn(p + 6, " \t")] == '=') {
			found = line;
			break;
		}
	}
	free(text);
	return found;
}

static unsigned check_prefix(const struct ag_config *cfg,
	const struct ag_issuer *is, unsigned line)
{
	if (strlen(is->prefix) >= PREFIX_MIN)
		return 0;
	printf("%s:%u: issuer %s: prefix \"%s\" is shorter than %d "
		"characters: it would capture ordinary names\n", cfg->path,
		line, is->name, is->prefix, PREFIX_MIN);
	return 1;
}

static bool under_prefix(const struct ag_issuer *is, const char *name)
{
	return strncmp(name, is->prefix, strlen(is->prefix)) == 0;
}

/*
 * Local accounts whose uid falls in the range, or whose name falls
 * under the prefix: agentgate would treat the latter as agents and
 * lock them out.  Only the files, read directly: through NSS our own
 * module would answer for the range.
 */
static unsigned check_passwd(const struct ag_config *cfg,
	const struct ag_issuer *is, unsigned pline)
{
	struct passwd *pw;
	unsigned bad = 0;
	FILE *f;

	f = fopen("/etc/passwd", "re");
	while (f && (pw = fgetpwent(f))) {
		if (pw->pw_uid >= is->uid_min && pw->pw_uid <= is->uid_max) {
			printf("%s:%u: issuer %s: uid_range holds uid %u of "
				"/etc/passwd user %s\n", cfg->path, is->line,
				is->name, (unsigned)pw->pw_uid, pw->pw_name);
			bad++;
		}
		if (under_prefix(is, pw->pw_name)) {
			printf("%s:%u: issuer %s: /etc/passwd user %s is "
				"under prefix \"%s\" and would be locked out "
				"as an agent\n", cfg->path, pline, is->name,
				pw->pw_name, is->prefix);
			bad++;
		}
	}
	if (f)
		fclose(f);
	return bad;
}

static unsigned check_group(const struct ag_config *cfg,
	const struct ag_issuer *is, unsigned pline)
{
	struct group *gr;
	unsigned bad = 0;
	FILE *f;

	f = fopen("/etc/group", "re");
	while (f && (gr = fgetgrent(f))) {
		if (gr->gr_gid >= is->uid_min && gr->gr_gid <= is->uid_max) {
			printf("%s:%u: issuer %s: uid_range holds gid %u of "
				"/etc/group group %s\n", cfg->path, is->line,
				is->name, (unsigned)gr->gr_gid, gr->gr_name);
			bad++;
		}
		if (under_prefix(is, gr->gr_name)) {
			printf("%s:%u: issuer %s: /etc/group group %s is "
				"under prefix \"%s\" and would be taken for "
				"an agent's group\n", cfg->path, pline,
				is->name, gr->gr_name, is->prefix);
			bad++;
		}
	}
	if (f)
		fclose(f);
	return bad;
}

static unsigned check_names(const struct ag_config *cfg,
	const struct ag_issuer *is)
{
	unsigned line = prefix_line(cfg, is);

	return check_prefix(cfg, is, line) + check_passwd(cfg, is, line) +
		check_group(cfg, is, line);
}

static unsigned check_overlap(const struct ag_config *cfg, size_t i)
{
	const struct ag_issuer *a = &cfg->issuers[i], *b;
	unsigned bad = 0;
	size_t j;

	for (j = i + 1; j < cfg->n_issuers; j++) {
		b = &cfg->issuers[j];
		if (a->uid_min <= b->uid_max && b->uid_min <= a->uid_max) {
			printf("%s:%u: issuer %s: uid_range overlaps issuer "
				"%s (line %u)\n", cfg->path, b->line, b->name,
				a->name, a->line);
			bad++;
		}
	}
	return bad;
}

static unsigned check_dir(const struct ag_config *cfg, const char *key,
	const char *dir)
{
	struct stat st;

	if (!dir || !dir[0])
		return 0;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;	/* created by the daemon, 0755 */
		printf("%s: %s %s: %s\n", cfg->path, key, dir,
			strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode) || !ag_stat_trusted(&st)) {
		printf("%s: %s %s: must be a directory owned by root and "
			"not writable by group or others (is %o, uid %u)\n",
			cfg->path, key, dir, (unsigned)(st.st_mode & 07777),
			(unsigned)st.st_uid);
		return 1;
	}
	return 0;
}

/*
 * A pin to a uid the registry already gave another name can never be
 * used: the name would resolve to nothing.  Say so now.
 */
static unsigned check_pins(const struct ag_config *cfg,
	const struct ag_userdb *db, const struct ag_issuer *is)
{
	char owner[AG_NAME_MAX + 1];
	unsigned bad = 0;

	for (size_t i = 0; i < is->n_pins; i++) {
		const struct ag_pin *pin = &is->pins[i];

		if (ag_userdb_find_uid(db, pin->uid, owner,
			    sizeof(owner)) < 0 || strcmp(owner, pin->name) == 0)
			continue;
		printf("%s:%u: issuer %s: pin %s:%u: uid already registered "
			"to %s\n", cfg->path, is->line, is->name, pin->name,
			pin->uid, owner);
		bad++;
	}
	return bad;
}

static unsigned check_registry(const struct ag_config *cfg)
{
	struct ag_userdb db = { 0 };
	unsigned bad = 0;
	int r = ag_userdb_refresh(&db, cfg->state_dir);

	if (r < 0 && r != -ENOENT) {
		printf("%s: state_dir %s: users.db: %s\n", cfg->path,
			cfg->state_dir, strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < cfg->n_issuers; i++)
		bad += check_pins(cfg, &db, &cfg->issuers[i]);
	ag_userdb_close(&db);
	return bad;
}

static unsigned check_all(const struct ag_config *cfg)
{
	struct ag_keyring *kr = ag_keyring_new();
	struct ag_revoke_list rl;
	unsigned bad = 0;
	char err[512];
	size_t i;

	for (i = 0; i < cfg->n_issuers; i++) {
		if (kr)
			bad += check_keys(cfg, kr, &cfg->issuers[i]);
		bad += check_names(cfg, &cfg->issuers[i]);
		bad += check_overlap(cfg, i);
	}
	ag_keyring_free(kr);
	bad += check_dir(cfg, "state_dir", cfg->state_dir);
	bad += check_dir(cfg, "runtime_dir", cfg->runtime_dir);
	bad += check_dir(cfg, "revocation_dir", cfg->revocation_dir);
	bad += check_registry(cfg);

	err[0] = '\0';
	if (ag_revoke_load(cfg, time(NULL), &rl, err, sizeof(err)) < 0) {
		printf("%s\n", err[0] ? err : "revocation lists unreadable");
		bad++;
	} else {
		ag_revoke_list_free(&rl);
	}
	return bad;
}

int ctl_check_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = AG_CONFIG_PATH;
	struct ag_config *cfg;
	char err[512];
	unsigned bad;
	int o;

	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (o == 'c') {
			path = optarg;
			continue;
		}
		fputs("usage: agentgatectl check-config [--config PATH]\n",
			o == 'h' ? stdout : stderr);
		return o == 'h' ? 0 : 2;
	}
	if (ag_config_load(path, &cfg, err, sizeof(err)) < 0) {
		printf("%s\n", err);
		return 2;
	}
	bad = check_all(cfg);
	if (!bad)
		printf("%s: ok\n", path);
	ag_config_free(cfg);
	return bad ? 1 : 0;
}
