/* File, lock and randomness helpers shared by every part.  libc only. */
#ifndef AG_UTIL_H
#define AG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define AG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Replace PATH with DATA so that a crash at any instant leaves either
 * the old or the new file: temporary file in the same directory,
 * fsync, rename, fsync of the directory.
 */
int ag_write_file_atomic(const char *path, const void *data, size_t len,
	mode_t mode);

/*
 * The same without the fsyncs, for runtime state on tmpfs (/run):
 * still all-or-nothing for readers, but gone with the boot anyway, so
 * durability would only cost every login a disk flush.
 */
int ag_write_file_runtime(const char *path, const void *data, size_t len,
	mode_t mode);

/*
 * Read all of PATH (at most MAX bytes, else -EFBIG) into a malloc'd,
 * NUL-terminated buffer.  ST, when not NULL, receives the fstat of the
 * open file, so callers can check ownership on the very file read.
 */
int ag_read_file(const char *path, size_t max, char **data, size_t *len,
	struct stat *st);

/*
 * State written by root must be owned by root and not writable by
 * group or others; anything else is ignored as if absent.
 */
bool ag_stat_trusted(const struct stat *st);

/* fsync of the directory DIR, so a rename or create in it is durable. */
int ag_fsync_dir(const char *dir);

/*
 * Room for element N of a doubling array of SIZE-byte elements: V
 * itself while N < *CAP, else V grown (FIRST elements at the start)
 * with *CAP updated, or NULL with V and *CAP untouched.
 */
void *ag_grow(void *v, size_t *cap, size_t n, size_t size, size_t first);

/* Exclusive flock on PATH (created 0600 if missing). */
int ag_lock(const char *path, int *fd);
void ag_unlock(int fd);

/* mkdir -p with MODE for every component created. */
int ag_mkdir_p(const char *path, mode_t mode);

/* 2 * NBYTES hex digits of kernel randomness, NUL-terminated. */
int ag_random_hex(char *out, size_t nbytes);

/* strtoll over the whole string, within [min, max]. */
int ag_parse_int(const char *s, long long min, long long max,
	long long *out);

/* snprintf into a fixed buffer; -ENAMETOOLONG when it does not fit. */
int ag_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
