/*
 * The functions glibc's NSS (and nss_wrapper) look up by name in
 * libnss_agentgate.so.2.  Declared here for the module and its tests;
 * the version script exports exactly these.
 */
#ifndef AG_NSS_AGENTGATE_H
#define AG_NSS_AGENTGATE_H

#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>

enum nss_status _nss_agentgate_getpwnam_r(const char *name,
	struct passwd *pw, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_agentgate_getpwuid_r(uid_t uid, struct passwd *pw,
	char *buf, size_t buflen, int *errnop);
enum nss_status _nss_agentgate_setpwent(int stayopen);
enum nss_status _nss_agentgate_getpwent_r(struct passwd *pw, char *buf,
	size_t buflen, int *errnop);
enum nss_status _nss_agentgate_endpwent(void);

enum nss_status _nss_agentgate_getgrnam_r(const char *name,
	struct group *gr, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_agentgate_getgrgid_r(gid_t gid, struct group *gr,
	char *buf, size_t buflen, int *errnop);
enum nss_status _nss_agentgate_setgrent(int stayopen);
enum nss_status _nss_agentgate_getgrent_r(struct group *gr, char *buf,
	size_t buflen, int *errnop);
enum nss_status _nss_agentgate_endgrent(void);

enum nss_status _nss_agentgate_initgroups_dyn(const char *user,
	gid_t group, long int *start, long int *size, gid_t **groupsp,
	long int limit, int *errnop);

#endif
