/*
 * The uid registry: name <-> uid, forever.  Lives in
 * STATE_DIR/users.db, an index that readers mmap and search in
 * O(log n) by name and by uid; writers take STATE_DIR/users.lock,
 * rebuild the file and rename it into place.  Reader side is libc
 * only and allocation-free, for the NSS module.
 */
#ifndef AG_USERDB_H
#define AG_USERDB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"

/*
 * A mapped snapshot of users.db.  Zero-initialise before first use.
 * Not locked inside: a caller sharing one between threads serialises
 * refresh and lookups itself (the NSS module holds its mutex).
 */
struct ag_userdb {
	const void *map;
	size_t size;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	struct timespec ctime;	/* chmod/chown change trust, not mtime */
	uint32_t count;
};

/*
 * Map STATE_DIR/users.db if it changed since DB was last mapped (or
 * was never mapped).  -ENOENT: no registrations yet (DB is empty, not
 * an error for lookups).  -EPERM: file not trusted; -EBADMSG: corrupt.
 * On error DB is left empty.
 */
int ag_userdb_refresh(struct ag_userdb *db, const char *state_dir);
void ag_userdb_close(struct ag_userdb *db);

/* 0 found, -ENOENT not registered.  NAME buffer: AG_NAME_MAX + 1. */
int ag_userdb_find_name(const struct ag_userdb *db, const char *name,
	uint32_t *uid);
int ag_userdb_find_uid(const struct ag_userdb *db, uint32_t uid,
	char *name, size_t namelen);

/* The i-th registration in name order, for enumeration and tests. */
int ag_userdb_entry(const struct ag_userdb *db, uint32_t i,
	char *name, size_t namelen, uint32_t *uid);

/*
 * Register NAME -> UID.  0 when recorded or already recorded the same
 * way; -EEXIST when NAME or UID is registered differently; -EADDRINUSE
 * when UID (or gid UID) already belongs to a user or group from
 * another source.
 */
int ag_userdb_register(const char *state_dir, const char *name,
	uint32_t uid);

/* Bulk form for tests and benchmarks: N pairs in one rewrite. */
int ag_userdb_register_many(const char *state_dir, const char **names,
	const uint32_t *uids, size_t n);

/*
 * The uid NAME resolves to on this host, consulting the registry:
 * its registered uid, else the issuer's mapping unless that uid is
 * registered to another name (-EEXIST).
 */
int ag_userdb_resolve(const struct ag_userdb *db,
	const struct ag_issuer *issuer, const char *name, uint32_t *uid);

#endif
