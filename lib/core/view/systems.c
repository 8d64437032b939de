/* SPDX-License-Identifier: MIT */
/*
 * systems.c - the systems on this machine that we may look at
 * (roost_systems_list), and cleaning up a dead one (roost_system_clean).
 */
#include "core/view/view_impl.h"

#include <stdio.h>

struct name_list {
	char (*nl_names)[ROOST_SYSTEM_NAME_MAX + 1];
	size_t nl_n;
	size_t nl_cap;
	uint32_t nl_uid; /* ours */
	int nl_err;
};

/* Keep "/roost.UID.NAME" where NAME is a system name, as NAME when UID is
 * ours and as "UID:NAME" (how a granted group's member names it) when
 * not: mailboxes (".N"), the alarm and supervisor tables (".timers",
 * ".sup") and roostd's lock ("~lock") carry a character no system name
 * has. */
static void
collect_name(const char *shm, void *arg)
{
	static const char prefix[] = "/roost.";
	struct name_list *nl = arg;
	char name[64]; /* room for "UID:" and more than a name; checked */
	const char *dot;
	unsigned long uid;
	char *end;

	if (nl->nl_err != 0 || strncmp(shm, prefix, sizeof(prefix) - 1) != 0)
		return;
	shm += sizeof(prefix) - 1;
	dot = strchr(shm, '.');
	if (dot == NULL || dot == shm || *shm < '0' || *shm > '9')
		return;
	uid = strtoul(shm, &end, 10);
	if (end != dot || uid > UINT32_MAX)
		return;
	if (strlen(dot + 1) > ROOST_SYSTEM_NAME_MAX)
		return;
	if (uid == nl->nl_uid)
		snprintf(name, sizeof(name), "%s", dot + 1);
	else
		snprintf(name, sizeof(name), "%lu:%s", uid, dot + 1);
	if (roost__system_resolve(name) != name)
		return; /* not a system, or a name too long to open */
	nl->nl_err = roost__view_grow((void **)&nl->nl_names, &nl->nl_cap, nl->nl_n, 1,
	                  sizeof(*nl->nl_names));
	if (nl->nl_err == 0) /* at most ROOST_SYSTEM_NAME_MAX: resolved */
		memcpy(nl->nl_names[nl->nl_n++], name, strlen(name) + 1);
}

/* Our own systems first, then those shared with us, each by name. */
static int
by_name(const void *a, const void *b)
{
	bool shared_a = strchr((const char *)a, ':') != NULL;
	bool shared_b = strchr((const char *)b, ':') != NULL;

	if (shared_a != shared_b)
		return shared_a ? 1 : -1;
	return strcmp((const char *)a, (const char *)b);
}

int
roost_systems_list(roost_systems_fn fn, void *arg)
{
	struct name_list nl;
	roost_sysinfo_t info;
	roost_view_t *v;
	int listed = 0;
	size_t i;
	int rc;

	if (fn == NULL)
		return -EINVAL;
	memset(&nl, 0, sizeof(nl));
	nl.nl_uid = roost__plat_uid();
	rc = roost__plat_seg_list("/roost.", collect_name, &nl);
	if (rc >= 0 && nl.nl_err < 0)
		rc = nl.nl_err;
	if (rc < 0)
		goto out;
	if (nl.nl_n > 1)
		qsort(nl.nl_names, nl.nl_n, sizeof(*nl.nl_names), by_name);
	for (i = 0; i < nl.nl_n; i++) {
		memset(&info, 0, sizeof(info));
		snprintf(info.name, sizeof(info.name), "%s", nl.nl_names[i]);
		rc = roost_view_open(&v, nl.nl_names[i]);
		if (rc == 0) {
			rc = roost_view_info(v, &info);
			roost_view_close(v);
		}
		if (rc == -ENOENT)
			continue; /* removed while we looked */
		if ((rc == -EACCES || rc == -EPERM) &&
		    strchr(nl.nl_names[i], ':') != NULL)
			continue; /* another user's, not shared with us */
		rc = fn(arg, &info, rc);
		if (rc != 0)
			goto out;
		listed++;
	}
	rc = listed;
out:
	roost__free(nl.nl_names);
	return rc;
}

int
roost_system_clean(const char *name)
{
	char lock[ROOST_SHM_NAME_MAX + 8];
	roost_sysinfo_t info;
	roost_view_t *v;
	int rc;

	name = roost__system_resolve(name);
	if (name == NULL)
		return -EINVAL;
	/* A segment that cannot be read (ROOST_ECORRUPT, still being
	 * created) cannot be judged stale: the caller decides what next. */
	rc = roost_view_open(&v, name);
	if (rc < 0)
		return rc == -EAGAIN ? -EBUSY : rc;
	rc = roost_view_info(v, &info);
	roost_view_close(v);
	if (rc < 0)
		return rc;
	if (info.state != ROOST_SYS_STALE)
		return -EBUSY;
	rc = roost_system_destroy(name);
	if (rc < 0)
		return rc;
	/* roostd's lock file, left behind only when roostd was killed (a
	 * roostd that starts creates it again). */
	if (roost__sys_shm_name(lock, sizeof(lock) - 6, name) == 0) {
		strcat(lock, "~lock");
		roost__plat_seg_unlink(lock);
	}
	return 0;
}

/* --- roostd's alarms ---------------------------------------------------- */
