/* Agent user names and the uid hash.  libc only. */
#include "config.h"

#include <string.h>

#include "names.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '-';
}

bool ag_name_valid(const char *name)
{
	size_t i;

	if (!name || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (i = 0; name[i]; i++) {
		if (i >= AG_NAME_MAX || !name_char(name[i]))
			return false;
	}
	return true;
}

bool ag_name_in_issuer(const struct ag_issuer *issuer, const char *name)
{
	size_t plen = strlen(issuer->prefix);

	return ag_name_valid(name) &&
		strncmp(name, issuer->prefix, plen) == 0 &&
		name[plen] != '\0';
}

/*
 * FNV-1a 64 (offset basis 14695981039346656037, prime 1099511628211):
 * simple, public, and identical on every architecture.  The reduction
 * is a plain modulo; its bias over a range of 2^28 is below 2^-35.
 */
uint32_t ag_uid_hash(const char *name, uint32_t min, uint32_t max)
{
	uint64_t h = 14695981039346656037ull;
	uint64_t span = (uint64_t)max - min + 1;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return min + (uint32_t)(h % span);
}

uint32_t ag_name_uid(const struct ag_issuer *issuer, const char *name)
{
	for (size_t i = 0; i < issuer->n_pins; i++) {
		if (strcmp(issuer->pins[i].name, name) == 0)
			return issuer->pins[i].uid;
	}
	return ag_uid_hash(name, issuer->uid_min, issuer->uid_max);
}
