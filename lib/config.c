/*
 * agentgate.conf parser.  libc only: the NSS module links it.
 *
 * The format is INI-like and deliberately small:
 *
 *	# comment (also ';')
 *	[agentgate]
 *	key = value
 *	[issuer NAME]
 *	key = value
 *
 * Lists are separated by spaces or commas.  Any unknown section or
 * key, any repeated key and any bad value rejects the whole file: a
 * half-understood trust configuration is worse than none.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "util.h"

#define LINE_MAX_LEN 4096
#define CONFIG_MAX (1024 * 1024)

struct parser {
	const char *file;
	unsigned line;
	char *err;
	size_t errlen;
	struct ag_config *cfg;
	struct ag_issuer *issuer;	/* current section, or NULL */
	bool in_global;
	unsigned global_line;		/* where [agentgate] was, or 0 */
	unsigned seen;			/* keys seen in this section */
};

static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->line)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->file, p->line,
			what);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->file, what);
	return -EINVAL;
}

static const struct {
	const char *name;
	unsigned bit;
} alg_names[] = {
	{ "RS256", AG_ALG_RS256 }, { "RS384", AG_ALG_RS384 },
	{ "RS512", AG_ALG_RS512 }, { "ES256", AG_ALG_ES256 },
	{ "ES384", AG_ALG_ES384 }, { "ES512", AG_ALG_ES512 },
	{ "EdDSA", AG_ALG_EDDSA },
};

unsigned ag_alg_from_name(const char *name)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(alg_names); i++) {
		if (strcmp(alg_names[i].name, name) == 0)
			return alg_names[i].bit;
	}
	return 0;
}

const char *ag_alg_name(unsigned alg)
{
	for (size_t i = 0; i < AG_ARRAY_SIZE(alg_names); i++) {
		if (alg_names[i].bit == alg)
			return alg_names[i].name;
	}
	return NULL;
}

/* ---- value parsers: each returns 0 or fails with a message ---- */

static int parse_bool(struct parser *p, const char *key, const char *v,
	bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return fail(p, "%s: expected yes or no, got \"%s\"", key, v);
}

static int parse_long(struct parser *p, const char *key, const char *v,
	long min, long max, long *out)
{
	long long n;

	if (ag_parse_int(v, min, max, &n) < 0)
		return fail(p, "%s: expected a whole number from %ld to %ld, "
			"got \"%s\"", key, min, max, v);
	*out = (long)n;
	return 0;
}

/* True when any component of PATH is "..". */
static bool has_dotdot(const char *path)
{
	for (const char *c = path; (c = strstr(c, "..")); c += 2) {
		bool starts = c == path || c[-1] == '/';
		bool ends = c[2] == '\0' || c[2] == '/';

		if (starts && ends)
			return true;
	}
	return false;
}

static int parse_path(struct parser *p, const char *key, const char *v,
	char **out)
{
	if (v[0] != '/')
		return fail(p, "%s: expected an absolute path, got \"%s\"",
			key, v);
	if (has_dotdot(v))
		return fail(p, "%s: path must not contain \"..\"", key);
	if (strpbrk(v, " \t:,"))
		return fail(p, "%s: path must not contain spaces, ',' or ':'",
			key);
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

static int parse_word(struct parser *p, const char *key, const char *v,
	char **out)
{
	if (!*v || strpbrk(v, " \t"))
		return fail(p, "%s: expected one word, got \"%s\"", key, v);
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

static void free_list(char **vec, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(vec[i]);
	free(vec);
}

/* Split V on spaces and commas into a malloc'd vector. */
static int split_list(const char *v, char ***out, size_t *n)
{
	char *copy = strdup(v), *save = NULL, *tok;
	char **vec = NULL;
	size_t count = 0;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		char **grown = realloc(vec, (count + 1) * sizeof(*vec));

		if (!grown) {
			r = -ENOMEM;
			break;
		}
		vec = grown;
		vec[count] = strdup(tok);
		if (!vec[count]) {
			r = -ENOMEM;
			break;
		}
		count++;
	}
	free(copy);
	if (r < 0) {
		free_list(vec, count);
		return r;
	}
	*out = vec;
	*n = count;
	return 0;
}

/* ---- [agentgate] keys ---- */

static int g_audience(struct parser *p, const char *k, const char *v)
{
	return parse_word(p, k, v, &p->cfg->audience);
}

static int g_leeway(struct parser *p, const char *k, const char *v)
{
	return parse_long(p, k, v, 0, 600, &p->cfg->leeway);
}

static int g_state_dir(struct parser *p, const char *k, const char *v)
{
	free(p->cfg->state_dir);
	p->cfg->state_dir = NULL;
	return parse_path(p, k, v, &p->cfg->state_dir);
}

static int g_runtime_dir(struct parser *p, const char *k, const char *v)
{
	free(p->cfg->runtime_dir);
	p->cfg->runtime_dir = NULL;
	return parse_path(p, k, v, &p->cfg->runtime_dir);
}

static int g_revocation_dir(struct parser *p, const char *k, const char *v)
{
	free(p->cfg->revocation_dir);
	p->cfg->revocation_dir = NULL;
	return parse_path(p, k, v, &p->cfg->revocation_dir);
}

static int g_require_daemon(struct parser *p, const char *k, const char *v)
{
	return parse_bool(p, k, v, &p->cfg->require_daemon);
}

static int g_kill_grace_ms(struct parser *p, const char *k, const char *v)
{
	return parse_long(p, k, v, 0, 10000, &p->cfg->kill_grace_ms);
}

/* ---- [issuer NAME] keys ---- */

static int i_iss(struct parser *p, const char *k, const char *v)
{
	return parse_word(p, k, v, &p->issuer->iss);
}

static int i_keys(struct parser *p, const char *k, const char *v)
{
	struct ag_issuer *is = p->issuer;
	int r = split_list(v, &is->keys, &is->n_keys);

	if (r < 0)
		return r;
	if (is->n_keys == 0)
		return fail(p, "%s: expected one or more key files", k);
	for (size_t i = 0; i < is->n_keys; i++) {
		char *dup;

		r = parse_path(p, k, is->keys[i], &dup);
		if (r < 0)
			return r;
		free(dup);
	}
	return 0;
}

static int i_algorithms(struct parser *p, const char *k, const char *v)
{
	char **names;
	size_t n;
	int r = split_list(v, &names, &n);

	if (r < 0)
		return r;
	p->issuer->algs = 0;
	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned bit = ag_alg_from_name(names[i]);

		if (!bit)
			r = fail(p, "%s: \"%s\" is not an allowed algorithm "
				"(RS256 RS384 RS512 ES256 ES384 ES512 EdDSA)",
				k, names[i]);
		p->issuer->algs |= bit;
	}
	if (r == 0 && n == 0)
		r = fail(p, "%s: expected one or more algorithms", k);
	free_list(names, n);
	return r;
}

static int i_max_lifetime(struct parser *p, const char *k, const char *v)
{
	return parse_long(p, k, v, 1, 86400, &p->issuer->max_lifetime);
}

static int i_user_claim(struct parser *p, const char *k, const char *v)
{
	free(p->issuer->user_claim);
	p->issuer->user_claim = NULL;
	return parse_word(p, k, v, &p->issuer->user_claim);
}

static bool prefix_valid(const char *v)
{
	size_t n = strlen(v);

	/* A prefix is the start of a valid name, so it obeys the grammar. */
	return n > 0 && n <= AG_PREFIX_MAX && ag_name_valid(v);
}

static int i_prefix(struct parser *p, const char *k, const char *v)
{
	if (!prefix_valid(v))
		return fail(p, "%s: \"%s\" is not a valid user-name prefix "
			"(1-%d of a-z 0-9 _ -, starting with a-z or _)",
			k, v, AG_PREFIX_MAX);
	p->issuer->prefix = strdup(v);
	return p->issuer->prefix ? 0 : -ENOMEM;
}

/* Ranges nobody else may own: system users, nobody, 16-bit -1. */
static bool range_reserved(uint32_t min, uint32_t max)
{
	return min < 1000 || (min <= 65535 && max >= 65534) ||
		max > AG_DEFAULT_UID_MAX;
}

static int i_uid_range(struct parser *p, const char *k, const char *v)
{
	char lo[16], hi[16];
	long long min, max;
	const char *dash = strchr(v, '-');

	if (!dash || (size_t)(dash - v) >= sizeof(lo) ||
	    strlen(dash + 1) >= sizeof(hi))
		return fail(p, "%s: expected MIN-MAX, got \"%s\"", k, v);
	memcpy(lo, v, (size_t)(dash - v));
	lo[dash - v] = '\0';
	strcpy(hi, dash + 1);
	if (ag_parse_int(lo, 0, UINT32_MAX, &min) < 0 ||
	    ag_parse_int(hi, 0, UINT32_MAX, &max) < 0 || min > max)
		return fail(p, "%s: expected MIN-MAX with MIN <= MAX, "
			"got \"%s\"", k, v);
	if (range_reserved((uint32_t)min, (uint32_t)max))
		return fail(p, "%s: %s reaches reserved uids (below 1000, "
			"65534-65535, or above %u)", k, v,
			AG_DEFAULT_UID_MAX);
	p->issuer->uid_min = (uint32_t)min;
	p->issuer->uid_max = (uint32_t)max;
	return 0;
}

static int i_shell(struct parser *p, const char *k, const char *v)
{
	free(p->issuer->shell);
	p->issuer->shell = NULL;
	return parse_path(p, k, v, &p->issuer->shell);
}

static int i_home_base(struct parser *p, const char *k, const char *v)
{
	free(p->issuer->home_base);
	p->issuer->home_base = NULL;
	if (strcmp(v, "/") == 0)
		return fail(p, "%s: must not be /", k);
	return parse_path(p, k, v, &p->issuer->home_base);
}

static int i_home_policy(struct parser *p, const char *k, const char *v)
{
	if (strcmp(v, "ephemeral") == 0)
		p->issuer->home_policy = AG_HOME_EPHEMERAL;
	else if (strcmp(v, "persistent") == 0)
		p->issuer->home_policy = AG_HOME_PERSISTENT;
	else
		return fail(p, "%s: expected ephemeral or persistent, "
			"got \"%s\"", k, v);
	return 0;
}

static int i_groups(struct parser *p, const char *k, const char *v)
{
	struct ag_issuer *is = p->issuer;
	int r = split_list(v, &is->groups, &is->n_groups);

	if (r < 0)
		return r;
	if (is->n_groups > 32)
		return fail(p, "%s: at most 32 groups", k);
	for (size_t i = 0; i < is->n_groups; i++) {
		if (!ag_name_valid(is->groups[i]))
			return fail(p, "%s: \"%s\" is not a valid group name",
				k, is->groups[i]);
	}
	return 0;
}

static int i_single_use(struct parser *p, const char *k, const char *v)
{
	return parse_bool(p, k, v, &p->issuer->single_use);
}

static int add_pin(struct parser *p, const char *k, const char *item)
{
	struct ag_issuer *is = p->issuer;
	const char *colon = strrchr(item, ':');
	struct ag_pin *grown;
	long long uid;
	char name[AG_NAME_MAX + 1];

	if (!colon || (size_t)(colon - item) > AG_NAME_MAX)
		return fail(p, "%s: expected NAME:UID, got \"%s\"", k, item);
	memcpy(name, item, (size_t)(colon - item));
	name[colon - item] = '\0';
	if (ag_parse_int(colon + 1, 1, UINT32_MAX, &uid) < 0)
		return fail(p, "%s: bad uid in \"%s\"", k, item);

	grown = realloc(is->pins, (is->n_pins + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	is->pins = grown;
	grown[is->n_pins].name = strdup(name);
	if (!grown[is->n_pins].name)
		return -ENOMEM;
	grown[is->n_pins++].uid = (uint32_t)uid;
	return 0;
}

static int i_pins(struct parser *p, const char *k, const char *v)
{
	char **items;
	size_t n;
	int r = split_list(v, &items, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = add_pin(p, k, items[i]);
	free_list(items, n);
	return r;
}

/* ---- sections ---- */

typedef int (*key_fn)(struct parser *p, const char *key, const char *v);

struct key_def {
	const char *name;
	key_fn fn;
};

static const struct key_def global_keys[] = {
	{ "audience", g_audience },
	{ "leeway", g_leeway },
	{ "state_dir", g_state_dir },
	{ "runtime_dir", g_runtime_dir },
	{ "revocation_dir", g_revocation_dir },
	{ "require_daemon", g_require_daemon },
	{ "kill_grace_ms", g_kill_grace_ms },
};

static const struct key_def issuer_keys[] = {
	{ "iss", i_iss },
	{ "keys", i_keys },
	{ "algorithms", i_algorithms },
	{ "max_lifetime", i_max_lifetime },
	{ "user_claim", i_user_claim },
	{ "prefix", i_prefix },
	{ "uid_range", i_uid_range },
	{ "shell", i_shell },
	{ "home_base", i_home_base },
	{ "home_policy", i_home_policy },
	{ "groups", i_groups },
	{ "single_use", i_single_use },
	{ "pins", i_pins },
};

static int issuer_defaults(struct ag_issuer *is)
{
	is->algs = AG_ALG_ALL;
	is->max_lifetime = 3600;
	is->uid_min = AG_DEFAULT_UID_MIN;
	is->uid_max = AG_DEFAULT_UID_MAX;
	is->home_policy = AG_HOME_EPHEMERAL;
	is->single_use = true;
	is->user_claim = strdup("sub");
	is->shell = strdup("/bin/bash");
	is->home_base = strdup("/home/agents");
	if (!is->user_claim || !is->shell || !is->home_base)
		return -ENOMEM;
	return 0;
}

static bool section_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	}
	return true;
}

static int open_issuer(struct parser *p, const char *name)
{
	struct ag_config *cfg = p->cfg;
	struct ag_issuer *grown, *is;

	if (!section_name_valid(name))
		return fail(p, "issuer name \"%s\" must be 1-63 of "
			"A-Z a-z 0-9 _ . -", name);
	if (ag_config_issuer_by_name(cfg, name))
		return fail(p, "issuer \"%s\" is defined twice", name);

	grown = realloc(cfg->issuers, (cfg->n_issuers + 1) * sizeof(*is));
	if (!grown)
		return -ENOMEM;
	cfg->issuers = grown;
	is = &grown[cfg->n_issuers++];
	memset(is, 0, sizeof(*is));
	is->line = p->line;
	is->name = strdup(name);
	if (!is->name)
		return -ENOMEM;
	p->issuer = is;
	return issuer_defaults(is);
}

static int parse_section(struct parser *p, char *s)
{
	char *end = strchr(s, ']');

	if (!end || end[1] != '\0')
		return fail(p, "expected [agentgate] or [issuer NAME]");
	*end = '\0';
	s++;

	p->seen = 0;
	p->issuer = NULL;
	p->in_global = false;
	if (strcmp(s, "agentgate") == 0) {
		if (p->global_line)
			return fail(p, "section [agentgate] appears twice "
				"(first at line %u)", p->global_line);
		p->global_line = p->line;
		p->in_global = true;
		return 0;
	}
	if (strncmp(s, "issuer ", 7) == 0)
		return open_issuer(p, s + 7);
	return fail(p, "unknown section [%s]", s);
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_key(struct parser *p, char *line)
{
	const struct key_def *defs = p->in_global ? global_keys : issuer_keys;
	size_t n = p->in_global ? AG_ARRAY_SIZE(global_keys) :
		AG_ARRAY_SIZE(issuer_keys);
	char *eq = strchr(line, '='), *key, *val;

	if (!p->in_global && !p->issuer)
		return fail(p, "key outside any section");
	if (!eq)
		return fail(p, "expected key = value");

	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(defs[i].name, key) != 0)
			continue;
		if (p->seen & (1u << i))
			return fail(p, "duplicate key \"%s\"", key);
		p->seen |= 1u << i;
		if (!*val)
			return fail(p, "%s: empty value", key);
		return defs[i].fn(p, key, val);
	}
	return fail(p, "unknown key \"%s\" in [%s]", key,
		p->in_global ? "agentgate" : "issuer");
}

static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

static int parse_line(struct parser *p, const char *start, size_t n)
{
	char buf[LINE_MAX_LEN + 1], *s;

	if (n > LINE_MAX_LEN)
		return fail(p, "line longer than %d bytes", LINE_MAX_LEN);
	if (has_control(start, n))
		return fail(p, "control character in line");
	memcpy(buf, start, n);
	buf[n] = '\0';

	s = trim(buf);
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return parse_section(p, s);
	return parse_key(p, s);
}

/* ---- whole-file checks ---- */

static int check_pins(struct parser *p, const struct ag_issuer *is)
{
	for (size_t i = 0; i < is->n_pins; i++) {
		const struct ag_pin *pin = &is->pins[i];

		if (!ag_name_in_issuer(is, pin->name))
			return fail(p, "issuer %s: pinned name \"%s\" is not "
				"in its namespace \"%s\"", is->name,
				pin->name, is->prefix);
		if (pin->uid < is->uid_min || pin->uid > is->uid_max)
			return fail(p, "issuer %s: pinned uid %u of %s is "
				"outside uid_range", is->name, pin->uid,
				pin->name);
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(is->pins[j].name, pin->name) ||
			    is->pins[j].uid == pin->uid)
				return fail(p, "issuer %s: %s and %s are "
					"pinned twice", is->name,
					is->pins[j].name, pin->name);
		}
	}
	return 0;
}

static int check_issuer(struct parser *p, const struct ag_issuer *is)
{
	p->line = is->line;
	if (!is->iss)
		return fail(p, "issuer %s: missing \"iss\"", is->name);
	if (!is->n_keys)
		return fail(p, "issuer %s: missing \"keys\"", is->name);
	if (!is->prefix)
		return fail(p, "issuer %s: missing \"prefix\"", is->name);
	return check_pins(p, is);
}

static bool prefixes_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return strncmp(a, b, la < lb ? la : lb) == 0;
}

static int check_pair(struct parser *p, const struct ag_issuer *a,
	const struct ag_issuer *b)
{
	p->line = b->line;
	if (prefixes_overlap(a->prefix, b->prefix))
		return fail(p, "issuer %s: prefix \"%s\" overlaps prefix "
			"\"%s\" of issuer %s", b->name, b->prefix,
			a->prefix, a->name);
	if (a->uid_min <= b->uid_max && b->uid_min <= a->uid_max)
		return fail(p, "issuer %s: uid_range %u-%u overlaps issuer "
			"%s (%u-%u)", b->name, b->uid_min, b->uid_max,
			a->name, a->uid_min, a->uid_max);
	if (strcmp(a->iss, b->iss) == 0)
		return fail(p, "issuer %s: iss \"%s\" is already issuer %s's",
			b->name, b->iss, a->name);
	return 0;
}

static int check_config(struct parser *p)
{
	const struct ag_config *cfg = p->cfg;
	int r;

	for (size_t i = 0; i < cfg->n_issuers; i++) {
		r = check_issuer(p, &cfg->issuers[i]);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++) {
			r = check_pair(p, &cfg->issuers[j], &cfg->issuers[i]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int config_defaults(struct ag_config *cfg, const char *path)
{
	cfg->leeway = 60;
	cfg->require_daemon = true;
	cfg->kill_grace_ms = 300;
	cfg->path = strdup(path);
	cfg->state_dir = strdup(AG_STATEDIR);
	cfg->runtime_dir = strdup(AG_RUNDIR);
	cfg->revocation_dir = strdup(AG_SYSCONFDIR "/agentgate/revoked.d");
	if (!cfg->path || !cfg->state_dir || !cfg->runtime_dir ||
	    !cfg->revocation_dir)
		return -ENOMEM;
	return 0;
}

static int parse_text(struct parser *p, const char *text, size_t len)
{
	const char *line = text, *end = text + len;
	int r;

	if (memchr(text, '\0', len))
		return fail(p, "NUL byte in file");
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);

		p->line++;
		r = parse_line(p, line, n);
		if (r < 0)
			return r;
		line += n + 1;
	}
	p->line = 0;
	return check_config(p);
}

int ag_config_parse(const char *name, const char *text, size_t len,
	struct ag_config **out, char *err, size_t errlen)
{
	struct parser p = { .file = name, .err = err, .errlen = errlen };
	int r;

	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg)
		return -ENOMEM;
	r = config_defaults(p.cfg, name);
	if (r == 0)
		r = parse_text(&p, text, len);
	if (r == -ENOMEM)
		fail(&p, "out of memory");
	if (r < 0) {
		ag_config_free(p.cfg);
		return r;
	}
	*out = p.cfg;
	return 0;
}

int ag_config_load(const char *path, struct ag_config **out,
	char *err, size_t errlen)
{
	struct stat st;
	char *text;
	size_t len;
	int r;

	r = ag_read_file(path, CONFIG_MAX, &text, &len, &st);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	/* Whoever can write the config can mint agents: root only. */
	if (!ag_stat_trusted(&st)) {
		snprintf(err, errlen, "%s: not owned by root or writable by "
			"group or others; ignored", path);
		free(text);
		return -EPERM;
	}
	r = ag_config_parse(path, text, len, out, err, errlen);
	free(text);
	return r;
}

static void issuer_free(struct ag_issuer *is)
{
	free(is->name);
	free(is->iss);
	free_list(is->keys, is->n_keys);
	free(is->user_claim);
	free(is->prefix);
	free(is->shell);
	free(is->home_base);
	free_list(is->groups, is->n_groups);
	for (size_t i = 0; i < is->n_pins; i++)
		free(is->pins[i].name);
	free(is->pins);
}

void ag_config_free(struct ag_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_issuers; i++)
		issuer_free(&cfg->issuers[i]);
	free(cfg->issuers);
	free(cfg->path);
	free(cfg->audience);
	free(cfg->state_dir);
	free(cfg->runtime_dir);
	free(cfg->revocation_dir);
	free(cfg);
}

const struct ag_issuer *ag_config_issuer_for_name(
	const struct ag_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		if (ag_name_in_issuer(&cfg->issuers[i], name))
			return &cfg->issuers[i];
	}
	return NULL;
}

const struct ag_issuer *ag_config_issuer_by_name(
	const struct ag_config *cfg, const char *section)
{
	for (size_t i = 0; i < cfg->n_issuers; i++) {
		if (strcmp(cfg->issuers[i].name, section) == 0)
			return &cfg->issuers[i];
	}
	return NULL;
}

/* Lenient scan for "prefix = X": see config.h for why. */
bool ag_config_name_looks_agent(const char *text, size_t len,
	const char *name)
{
	const char *line = text, *end = text + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		char buf[256], *s, *v;

		if (n < sizeof(buf)) {
			memcpy(buf, line, n);
			buf[n] = '\0';
			s = trim(buf);
			if (strncmp(s, "prefix", 6) == 0 &&
			    (v = strchr(s, '=')) != NULL) {
				v = trim(v + 1);
				if (*v && strncmp(name, v, strlen(v)) == 0)
					return true;
			}
		}
		line += n + 1;
	}
	return false;
}
