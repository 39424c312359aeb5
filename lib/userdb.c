/*
 * users.db, the uid registry.  Reader side: libc only, no allocation,
 * for the NSS module.  Writer side: PAM module, helper, tests.
 *
 * Layout, host byte order (the file never leaves the host):
 *
 *   struct udb_header           32 bytes
 *   struct udb_name[count]      sorted by strcmp(name), names unique
 *   struct udb_uid[count]       sorted by uid, uids unique; each points
 *                               back at its row in the name table
 *
 * Readers check the header and the exact file size when they map the
 * file, and then every row a search touches (NUL, grammar, uid != 0,
 * back pointer in bounds).  The row a search lands on must also carry
 * the right check value (24 bits of FNV-1a over name and uid) and be
 * pointed at by the other table.  They never scan the whole file, so
 * the first lookup in a process is O(log n) too.  A damaged or
 * misordered file makes a search miss or fail with -EBADMSG; the odds
 * that damage yields a wrong answer are 2^-24 per damaged row.
 * Writers validate everything before they build on it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "userdb.h"
#include "util.h"

#define UDB_MAGIC "AGUSRDB"	/* with its NUL: 8 bytes */
#define UDB_VERSION 1u
#define UDB_BYTE_ORDER 0x01020304u
#define UDB_MAX_COUNT (1u << 24)	/* 16M agents, ~800 MB: absurd */
#define UDB_UID_LIMIT 2147483646u	/* uids stay below 2^31 - 1 */

struct udb_header {
	char magic[8];
	uint32_t version;
	uint32_t byte_order;
	uint32_t count;
	uint32_t name_off;
	uint32_t uid_off;
	uint32_t reserved;
};

struct udb_name {
	char name[AG_NAME_MAX + 1];
	uint8_t check[3];	/* row_check(name, uid) */
	uint32_t uid;
};

struct udb_uid {
	uint32_t uid;
	uint32_t row;
};

_Static_assert(sizeof(struct udb_header) == 32, "header layout");
_Static_assert(sizeof(struct udb_name) == 40, "name row layout");
_Static_assert(sizeof(struct udb_uid) == 8, "uid row layout");

static const struct udb_name *name_row(const struct ag_userdb *db,
	uint32_t i)
{
	const char *base = db->map;

	return (const struct udb_name *)(base + sizeof(struct udb_header)) +
		i;
}

static const struct udb_uid *uid_row(const struct ag_userdb *db,
	uint32_t i)
{
	const char *base = db->map;
	size_t off = sizeof(struct udb_header) +
		(size_t)db->count * sizeof(struct udb_name);

	return (const struct udb_uid *)(base + off) + i;
}

static void row_check(const char *name, uint32_t uid, uint8_t out[3])
{
	uint64_t h = 14695981039346656037ull;
	const unsigned char *p = (const unsigned char *)name;

	for (; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((uid >> (8 * i)) & 0xff)) * 1099511628211ull;
	out[0] = (uint8_t)h;
	out[1] = (uint8_t)(h >> 8);
	out[2] = (uint8_t)(h >> 16);
}

/* Only for a row already known to be NUL-terminated. */
static bool row_check_ok(const struct udb_name *row)
{
	uint8_t want[3];

	row_check(row->name, row->uid, want);
	return memcmp(want, row->check, 3) == 0;
}

static bool name_row_ok(const struct udb_name *row)
{
	return memchr(row->name, '\0', sizeof(row->name)) != NULL &&
		ag_name_valid(row->name) && row->uid != 0 &&
		row->uid <= UDB_UID_LIMIT;
}

/* Everything that can be checked in O(1): layout, version, size. */
static int check_header(const void *map, size_t size, uint32_t *count)
{
	const struct udb_header *h = map;
	size_t names, want;

	if (size < sizeof(*h) || memcmp(h->magic, UDB_MAGIC, 8) != 0 ||
		h->version != UDB_VERSION ||
		h->byte_order != UDB_BYTE_ORDER ||
		h->count > UDB_MAX_COUNT)
		return -EBADMSG;

	names = (size_t)h->count * sizeof(struct udb_name);
	want = sizeof(*h) + names + (size_t)h->count * sizeof(struct udb_uid);
	if (h->name_off != sizeof(*h) || h->uid_off != sizeof(*h) + names ||
		size != want)
		return -EBADMSG;

	*count = h->count;
	return 0;
}

static bool same_file(const struct ag_userdb *db, const struct stat *st)
{
	return db->map && db->dev == st->st_dev && db->ino == st->st_ino &&
		db->size == (size_t)st->st_size &&
		db->mtime.tv_sec == st->st_mtim.tv_sec &&
		db->mtime.tv_nsec == st->st_mtim.tv_nsec &&
		db->ctime.tv_sec == st->st_ctim.tv_sec &&
		db->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* Trust is judged on the file descriptor we read, not on a path. */
static int check_stat(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return -EBADMSG;
	if (!ag_stat_trusted(st))
		return -EPERM;
	if (st->st_size < (off_t)sizeof(struct udb_header) ||
		(uint64_t)st->st_size > (uint64_t)SIZE_MAX / 2)
		return -EBADMSG;
	return 0;
}

static int map_fd(struct ag_userdb *db, int fd)
{
	struct stat st;
	uint32_t count;
	void *map;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	r = check_stat(&st);
	if (r < 0)
		return r;

	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	r = check_header(map, (size_t)st.st_size, &count);
	if (r < 0) {
		munmap(map, (size_t)st.st_size);
		return r;
	}

	db->map = map;
	db->size = (size_t)st.st_size;
	db->dev = st.st_dev;
	db->ino = st.st_ino;
	db->mtime = st.st_mtim;
	db->ctime = st.st_ctim;
	db->count = count;
	return 0;
}

/*
 * O_NOFOLLOW: a symlink is not a root-written state file.  O_NONBLOCK:
 * opening a FIFO planted in its place must not hang the caller.
 * Known limit: a root process truncating the file in place after we
 * mapped it would make later reads fault (SIGBUS); writers here only
 * ever rename a new file into place.
 */
static int map_path(struct ag_userdb *db, const char *path)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
		O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	r = map_fd(db, fd);
	close(fd);
	return r;
}

int ag_userdb_refresh(struct ag_userdb *db, const char *state_dir)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	r = ag_path(path, sizeof(path), "%s/users.db", state_dir);
	if (r < 0)
		goto fail;
	if (lstat(path, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (same_file(db, &st))
		return 0;

	ag_userdb_close(db);
	return map_path(db, path);

fail:
	ag_userdb_close(db);
	return r;
}

void ag_userdb_close(struct ag_userdb *db)
{
	if (db->map)
		munmap((void *)db->map, db->size);
	memset(db, 0, sizeof(*db));
}

/* The uid table's row for UID, or NULL. */
static const struct udb_uid *uid_search(const struct ag_userdb *db,
	uint32_t uid)
{
	uint32_t lo = 0, hi = db->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct udb_uid *u = uid_row(db, mid);

		if (u->uid == uid)
			return u;
		if (uid < u->uid)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * A hit is confirmed by the other table: the uid row for its uid must
 * point back at it.  One more O(log n) search, and a damaged uid in
 * either table then shows up as -EBADMSG instead of a wrong answer.
 */
int ag_userdb_find_name(const struct ag_userdb *db, const char *name,
	uint32_t *uid)
{
	uint32_t lo = 0, hi = db->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct udb_name *row = name_row(db, mid);
		const struct udb_uid *u;
		int c;

		if (!name_row_ok(row))
			return -EBADMSG;
		c = strcmp(name, row->name);
		if (c == 0) {
			u = uid_search(db, row->uid);
			if (!u || u->row != mid || !row_check_ok(row))
				return -EBADMSG;
			*uid = row->uid;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

static int copy_name(const struct udb_name *row, char *name,
	size_t namelen)
{
	size_t len = strlen(row->name);

	if (len >= namelen)
		return -ENOBUFS;
	memcpy(name, row->name, len + 1);
	return 0;
}

/* The name row a uid row points at, checked both ways. */
static const struct udb_name *uid_target(const struct ag_userdb *db,
	const struct udb_uid *u)
{
	const struct udb_name *row;

	if (u->row >= db->count)
		return NULL;
	row = name_row(db, u->row);
	if (!name_row_ok(row) || row->uid != u->uid || !row_check_ok(row))
		return NULL;
	return row;
}

int ag_userdb_find_uid(const struct ag_userdb *db, uint32_t uid,
	char *name, size_t namelen)
{
	const struct udb_uid *u = uid_search(db, uid);
	const struct udb_name *row;

	if (!u)
		return -ENOENT;
	row = uid_target(db, u);
	if (!row)
		return -EBADMSG;
	return copy_name(row, name, namelen);
}

int ag_userdb_entry(const struct ag_userdb *db, uint32_t i,
	char *name, size_t namelen, uint32_t *uid)
{
	const struct udb_name *row;
	int r;

	if (i >= db->count)
		return -ENOENT;
	row = name_row(db, i);
	if (!name_row_ok(row) || !row_check_ok(row))
		return -EBADMSG;
	r = copy_name(row, name, namelen);
	if (r < 0)
		return r;
	*uid = row->uid;
	return 0;
}

/*
 * A uid outside the issuer's range (the range was narrowed after the
 * registration, or a pin points outside it) is refused rather than
 * handed out: no agent ever runs with a uid outside its range.
 */
int ag_userdb_resolve(const struct ag_userdb *db,
	const struct ag_issuer *issuer, const char *name, uint32_t *uid)
{
	char owner[AG_NAME_MAX + 1];
	uint32_t u;
	int r;

	r = ag_userdb_find_name(db, name, &u);
	if (r == -ENOENT) {
		u = ag_name_uid(issuer, name);
		r = ag_userdb_find_uid(db, u, owner, sizeof(owner));
		if (r == 0)
			return -EEXIST;	/* taken by another name */
		if (r != -ENOENT)
			return r;
	} else if (r < 0) {
		return r;
	}

	if (u == 0 || u < issuer->uid_min || u > issuer->uid_max)
		return -EDOM;
	*uid = u;
	return 0;
}

/* Writer side.  Runs under STATE_DIR/users.lock; may allocate. */

struct reg {
	char name[AG_NAME_MAX + 1];
	uint32_t uid;
	bool fresh;		/* not yet in users.db */
};

struct regset {
	struct reg *v;
	size_t n;
};

struct idset {
	uint32_t *v;
	size_t n, cap;
};

static int cmp_reg_name(const void *a, const void *b)
{
	const struct reg *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int cmp_reg_uid(const void *a, const void *b)
{
	const struct reg *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

static int cmp_u32(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* The full check a reader skips: order, uniqueness, back pointers. */
static int validate_all(const struct ag_userdb *db)
{
	for (uint32_t i = 0; i < db->count; i++) {
		const struct udb_name *row = name_row(db, i);
		const struct udb_uid *u = uid_row(db, i);

		if (!name_row_ok(row) || !uid_target(db, u))
			return -EBADMSG;
		if (i > 0 && (strcmp(name_row(db, i - 1)->name,
				row->name) >= 0 ||
			uid_row(db, i - 1)->uid >= u->uid))
			return -EBADMSG;
	}
	return 0;
}

/*
 * Existing registrations, fully validated.  A corrupt or untrusted
 * file stops the writer: rewriting it would silently drop
 * registrations, and those are meant to last forever.
 */
static int load_existing(const char *path, struct regset *set, size_t extra)
{
	struct ag_userdb db = { 0 };
	int r;

	r = map_path(&db, path);
	if (r == -ENOENT)
		db.count = 0;
	else if (r < 0)
		return r;
	r = validate_all(&db);
	if (r < 0)
		goto out;

	set->v = calloc((size_t)db.count + extra + 1, sizeof(*set->v));
	if (!set->v) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < db.count; i++) {
		memcpy(set->v[i].name, name_row(&db, i)->name, AG_NAME_MAX + 1);
		set->v[i].uid = name_row(&db, i)->uid;
	}
	set->n = db.count;
out:
	ag_userdb_close(&db);
	return r;
}

static int append_new(struct regset *set, const char **names,
	const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct reg *e = &set->v[set->n];

		if (!ag_name_valid(names[i]) || uids[i] == 0 ||
			uids[i] > UDB_UID_LIMIT)
			return -EINVAL;
		strcpy(e->name, names[i]);	/* valid: <= AG_NAME_MAX */
		e->uid = uids[i];
		e->fresh = true;
		set->n++;
	}
	return 0;
}

/*
 * Sort by name and fold repeats of one pair into a single row (an
 * existing row wins, so "fresh" means really new); any name with two
 * uids, or uid with two names, is a conflict.  Leaves SET name-sorted.
 */
static int dedupe(struct regset *set)
{
	size_t w = 0;

	qsort(set->v, set->n, sizeof(*set->v), cmp_reg_name);
	for (size_t i = 0; i < set->n; i++) {
		struct reg *prev = w ? &set->v[w - 1] : NULL;

		if (prev && strcmp(prev->name, set->v[i].name) == 0) {
			if (prev->uid != set->v[i].uid)
				return -EEXIST;
			prev->fresh = prev->fresh && set->v[i].fresh;
			continue;
		}
		set->v[w++] = set->v[i];
	}
	set->n = w;
	return 0;
}

static int check_uid_unique(const struct reg *by_uid, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (by_uid[i - 1].uid == by_uid[i].uid)
			return -EEXIST;
	}
	return 0;
}

static int idset_add(struct idset *s, uint32_t id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return 0;
}

/*
 * The third field of every line of a passwd(5) or group(5) file.  Read
 * directly: asking getpwuid() would recurse into NSS, and into us.
 * Lines that do not parse are skipped, like nss_files does.
 */
static int read_ids(const char *path, struct idset *s)
{
	char *data, *line, *save = NULL;
	int r;

	r = ag_read_file(path, 64u << 20, &data, NULL, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (line = strtok_r(data, "\n", &save); line && r == 0;
		line = strtok_r(NULL, "\n", &save)) {
		char *f = strchr(line, ':');
		char *end;
		unsigned long id;

		f = f ? strchr(f + 1, ':') : NULL;
		if (!f || f[1] < '0' || f[1] > '9')
			continue;
		errno = 0;
		id = strtoul(f + 1, &end, 10);
		if (errno == 0 && *end == ':' && id <= UINT32_MAX)
			r = idset_add(s, (uint32_t)id);
	}
	free(data);
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
	return r;
}

static bool idset_has(const struct idset *s, uint32_t id)
{
	return s->n && bsearch(&id, s->v, s->n, sizeof(*s->v), cmp_u32);
}

/* A new uid may not be a user's uid or a group's gid from elsewhere. */
static int check_foreign(const struct regset *set)
{
	struct idset users = { 0 }, groups = { 0 };
	int r;

	r = read_ids("/etc/passwd", &users);
	if (r == 0)
		r = read_ids("/etc/group", &groups);
	for (size_t i = 0; r == 0 && i < set->n; i++) {
		const struct reg *e = &set->v[i];

		if (e->fresh && (idset_has(&users, e->uid) ||
				idset_has(&groups, e->uid)))
			r = -EADDRINUSE;
	}
	free(users.v);
	free(groups.v);
	return r;
}

static size_t count_fresh(const struct regset *set)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		n += set->v[i].fresh;
	return n;
}

/* SET is name-sorted; BY_UID is the same rows sorted by uid. */
static int save(const char *path, const struct regset *set,
	const struct reg *by_uid)
{
	size_t names = set->n * sizeof(struct udb_name);
	size_t len = sizeof(struct udb_header) + names +
		set->n * sizeof(struct udb_uid);
	struct udb_header *h;
	struct udb_name *nrow;
	struct udb_uid *urow;
	int r;

	h = calloc(1, len);
	if (!h)
		return -ENOMEM;
	memcpy(h->magic, UDB_MAGIC, 8);
	h->version = UDB_VERSION;
	h->byte_order = UDB_BYTE_ORDER;
	h->count = (uint32_t)set->n;
	h->name_off = sizeof(*h);
	h->uid_off = (uint32_t)(sizeof(*h) + names);
	nrow = (struct udb_name *)(h + 1);
	urow = (struct udb_uid *)(nrow + set->n);

	for (size_t i = 0; i < set->n; i++) {
		memcpy(nrow[i].name, set->v[i].name, AG_NAME_MAX + 1);
		nrow[i].uid = set->v[i].uid;
		row_check(nrow[i].name, nrow[i].uid, nrow[i].check);
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct reg *e = &by_uid[i];
		const struct reg *hit = bsearch(e, set->v, set->n,
			sizeof(*set->v), cmp_reg_name);

		urow[i].uid = e->uid;
		urow[i].row = (uint32_t)(hit - set->v);
	}

	r = ag_write_file_atomic(path, h, len, 0644);
	free(h);
	return r;
}

static int merge_and_save(const char *path, struct regset *set)
{
	struct reg *by_uid;
	int r;

	r = dedupe(set);
	if (r < 0 || count_fresh(set) == 0)
		return r;
	if (set->n > UDB_MAX_COUNT)
		return -ENOSPC;

	by_uid = malloc(set->n * sizeof(*by_uid));
	if (!by_uid)
		return -ENOMEM;
	memcpy(by_uid, set->v, set->n * sizeof(*by_uid));
	qsort(by_uid, set->n, sizeof(*by_uid), cmp_reg_uid);
	r = check_uid_unique(by_uid, set->n);
	if (r == 0)
		r = check_foreign(set);
	if (r == 0)
		r = save(path, set, by_uid);
	free(by_uid);
	return r;
}

static int register_locked(const char *state_dir, const char **names,
	const uint32_t *uids, size_t n)
{
	struct regset set = { 0 };
	char path[PATH_MAX];
	int r;

	r = ag_path(path, sizeof(path), "%s/users.db", state_dir);
	if (r < 0)
		return r;
	r = load_existing(path, &set, n);
	if (r == 0)
		r = append_new(&set, names, uids, n);
	if (r == 0)
		r = merge_and_save(path, &set);
	free(set.v);
	return r;
}

int ag_userdb_register_many(const char *state_dir, const char **names,
	const uint32_t *uids, size_t n)
{
	char lock[PATH_MAX];
	int fd, r;

	if (n > UDB_MAX_COUNT)
		return -ENOSPC;
	r = ag_path(lock, sizeof(lock), "%s/users.lock", state_dir);
	if (r < 0)
		return r;
	r = ag_mkdir_p(state_dir, 0755);
	if (r < 0)
		return r;

	r = ag_lock(lock, &fd);
	if (r < 0)
		return r;
	r = register_locked(state_dir, names, uids, n);
	ag_unlock(fd);
	return r;
}

int ag_userdb_register(const char *state_dir, const char *name,
	uint32_t uid)
{
	return ag_userdb_register_many(state_dir, &name, &uid, 1);
}
