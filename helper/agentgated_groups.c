/*
 * Groups of sessions that are over.  A group is removed as soon as it
 * is empty; one still holding processes (a nohup'd job of an agent
 * that has other sessions, or one still exiting) is watched through
 * inotify on its cgroup.events, which the kernel modifies when the
 * group's "populated" changes, so no timer is needed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

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
	size_t cap;

	/* The same group twice yields the same watch. */
	if (find_wd(d, wd))
		return 0;
	if (d->n_groups == d->cap_groups) {
		cap = d->cap_groups ? d->cap_groups * 2 : 16;
		v = realloc(d->groups, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->groups = v;
		d->cap_groups = cap;
	}
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
 * A stale group can turn out to be a session's whose record arrived
 * after the walk that found it: that one is the session's to remove.
 */
static bool in_table(struct agd *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].s.cgroup, path) == 0)
			return true;
	return false;
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

/* True when WD is a group watch (the event is then handled). */
bool agd_group_event(struct agd *d, int wd, uint32_t mask)
{
	struct agd_group *g = find_wd(d, wd);

	if (!g)
		return false;
	if (mask & (IN_IGNORED | IN_DELETE_SELF))
		forget(d, g);		/* the group is gone */
	else if (in_table(d, g->path))
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
