/* Agent user names and their uids.  libc only. */
#ifndef AG_NAMES_H
#define AG_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/*
 * The grammar every agent name obeys: 1 to AG_NAME_MAX bytes of
 * [a-z0-9_-], starting with [a-z_].  Nothing else: no upper case, no
 * dot, no space, no ':' or '/', no byte above 0x7f.
 */
bool ag_name_valid(const char *name);

/* A valid name that belongs to ISSUER and has a non-empty suffix. */
bool ag_name_in_issuer(const struct ag_issuer *issuer, const char *name);

/*
 * The wire-format hash.  Never change it: uids must agree across hosts
 * and versions.  FNV-1a, 64 bit, over the bytes of NAME, reduced
 * modulo the size of [min, max] and added to min.
 */
uint32_t ag_uid_hash(const char *name, uint32_t min, uint32_t max);

/* The uid NAME maps to in ISSUER: its pin if any, else the hash. */
uint32_t ag_name_uid(const struct ag_issuer *issuer, const char *name);

#endif
