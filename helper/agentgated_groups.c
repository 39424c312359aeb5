/*
 * Groups of sessions that are over.  A group is removed as soon as it
 * is empty; one still holding processes (a nohup'd job of an agent
 * that has other sessions, or one still exiting) is watched through
 * inotify on its cgroup.events, which the kernel modifies when the
 * group's "populated" changes, so no timer is needed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentgated.h"
#include "cgroup.h"
#include "util.h"

static struct agd_group *find_wd(struct agd *d, int wd)
{
	size_t i;

	for (i = 0; i < d->n_groups; i++)
		if (d->groups[i].wd == wd)
			return &d->groups[i];
	return NULL;
}

static int add(struct agd *d, int wd, const char *path)
{
	struct agd_group *v;

	/* The same group twice yields the same watch. */
	if (find_wd(d, wd))
		return 0;
	v = ag_grow(d->groups, &d->cap_groups, d->n_groups, sizeof(*v), 16);
	if (!v)
		return -ENOMEM;
	d->groups = v;
	v = &d->groups[d->n_groups++];
	v->wd = wd;
	snprintf(v->path, sizeof(v->path), "%s", path);
	return 0;
}

static void forget(struct agd *d, struct agd_group *g)
{
	*g = d->groups[--d->n_groups];
}

/*
 * A group a session claims is that session's to remove: one in the
 * table, or one whose record is written but not read by us yet (the
 * inotify event is still queued).  Only our own groups have records.
 */
static bool claimed(struct agd *d, const char *path)
{
	size_t plen = strlen(AG_CGROUP_PARENT), i;
	char rec[4200];

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].s.cgroup, path) == 0)
			return true;
	if (strncmp(path, AG_CGROUP_PARENT "/", plen + 1) != 0)
		return false;
	if (ag_path(rec, sizeof(rec), "%s/sessions/%s",
			d->cfg->runtime_dir, path + plen + 1) < 0)
		return true;
	return access(rec, F_OK) == 0 || errno != ENOENT;
}

/*
 * The PAM module makes a group, then moves the session's first pid
 * into it; in between it is empty and has no record yet.  A group
 * made or changed lately may be in that state, so it is left alone
 * (and ag_cgroup_place makes it again should it vanish anyway).  A
 * time in the future (the clock was set back) counts as young.
 */
static bool young(int dfd, const char *name)
{
	struct stat st;
	time_t newest;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return true;
	newest = st.st_mtime > st.st_ctime ? st.st_mtime : st.st_ctime;
	return newest > time(NULL) - AGD_GROUP_MIN_AGE_S;
}

static void unwatch(struct agd *d, struct agd_group *g)
{
	inotify_rm_watch(d->ifd, g->wd);
	forget(d, g);
}

/* Removed (or gone) ends the watch; still populated keeps it. */
static void try_remove(struct agd *d, struct agd_group *g)
{
	if (ag_cgroup_remove(d->cgmount, g->path) == -EBUSY)
		return;
	unwatch(d, g);
}

void agd_retire_group(struct agd *d, const char *path)
{
	char file[4700];
	int wd;

	if (!d->cgmount[0] || !path[0] || !ag_cgroup_path_ok(path))
		return;
	if (ag_cgroup_remove(d->cgmount, path) != -EBUSY)
		return;

	/* Without a watch, the next stale-group sweep gets it. */
	if (ag_path(file, sizeof(file), "%s%s/cgroup.events", d->cgmount,
			path) < 0)
		return;
	wd = inotify_add_watch(d->ifd, file, IN_MODIFY);
	if (wd < 0)
		return;
	if (add(d, wd, path) < 0) {
		inotify_rm_watch(d->ifd, wd);
		return;
	}

	/* It may have emptied before the watch was in place. */
	try_remove(d, find_wd(d, wd));
}

/*
 * NAME, an entry of MOUNT/agentgate (open as DFD), belongs to no
 * session in the table: removed, or watched until empty, unless a
 * login may be in the middle of claiming it.  One still populated is
 * a session whose end nobody saw (its record went while the daemon
 * was down, or the daemon died mid-kill): it is ended now.
 */
void agd_retire_stale(struct agd *d, int dfd, const char *name)
{
	char rel[128];

	if (snprintf(rel, sizeof(rel), AG_CGROUP_PARENT "/%s", name) >=
			(int)sizeof(rel) || !ag_cgroup_path_ok(rel))
		return;
	if (claimed(d, rel) || young(dfd, name))
		return;
	if (ag_cgroup_populated(d->cgmount, rel) == 1)
		agd_end_orphan_group(d, rel);
	else
		agd_retire_group(d, rel);
}

/* True when WD is a group watch (the event is then handled). */
bool agd_group_event(struct agd *d, int wd, uint32_t mask)
{
	struct agd_group *g = find_wd(d, wd);

	if (!g)
		return false;
	if (mask & (IN_IGNORED | IN_DELETE_SELF))
		forget(d, g);		/* the group is gone */
	else if (claimed(d, g->path))
		unwatch(d, g);
	else
		try_remove(d, g);
	return true;
}

void agd_groups_free(struct agd *d)
{
	free(d->groups);
	d->groups = NULL;
	d->n_groups = d->cap_groups = 0;
}
