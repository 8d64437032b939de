/* SPDX-License-Identifier: MIT */
/*
 * system.c - which system this roostd runs: the one-roostd lock, then a
 * new system, or one to adopt (live actors, or kept mailboxes of the
 * config's actors), or a stale one cleaned and made anew.
 */
#include "rd.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a starting roostd waits for the system's lock (lock_within). */
#define LOCK_WAIT_MS 1000

/* One roostd per system: an flock on "/roost.UID.SYSTEM~lock" ('~' is in
 * no system name, so no system's objects match it). Held for life. */
/*
 * flock 'fd' within 'ms'. A roostd killed while it forked a child leaves
 * the lock with that child until the child's exec closes the descriptor
 * (close-on-exec): a short wait tells that from a live roostd.
 */
static bool
lock_within(int fd, int ms)
{
	for (int waited = 0;; waited += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK || waited >= ms)
			return false;
		usleep(10000);
	}
}

int
rd_lock_take(const char *system, char *name, size_t len)
{
	int fd;

	char path[ROOST_SHM_NAME_MAX + 16];
	struct stat held, named;
	int tries;

	snprintf(name, len, "/roost.%u.%s~lock", (unsigned)geteuid(), system);
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	for (tries = 0; tries < 5; tries++) {
		fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			rd_log(RD_ERR, "cannot open the lock of system '%s': %s",
			       system, strerror(errno));
			return -1;
		}
		if (!lock_within(fd, LOCK_WAIT_MS)) {
			rd_log(RD_ERR, "system '%s' is already run by another "
			       "roostd", system);
			close(fd);
			return -1;
		}
		/* A roostd that exits unlinks the file after its shutdown:
		 * a lock on the unlinked inode guards nothing, so try the
		 * new file. */
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
		    held.st_ino == named.st_ino && held.st_dev == named.st_dev)
			return fd;
		close(fd);
	}
	rd_log(RD_ERR, "the lock of system '%s' keeps changing", system);
	return -1;
}

/*
 * Is there something to adopt? A live process in a slot ('who'), or a
 * supervised mailbox of an actor the config names, whose mail a restart
 * at its address keeps ('who' 0). Anything else is stale.
 */
static bool
adoptable(struct roost__sys *sy, const struct rd_config *cfg, pid_t *who)
{
	struct roost__slot_view sv;
	bool kept = false;
	uint32_t i;

	for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
		if (roost__sys_slot_read(sy, i, &sv) != 0 ||
		    sv.sv_state == ROOST_SLOT_FREE)
			continue;
		if (roost__plat_proc_alive(sv.sv_pid, sv.sv_pid_start)) {
			*who = sv.sv_pid;
			return true;
		}
		if ((sv.sv_flags & ROOST_SLOT_F_SUPERVISED) &&
		    sv.sv_state == ROOST_SLOT_ACTIVE && rd_config_names(cfg, sv.sv_name))
			kept = true;
	}
	return kept;
}

/* Create the system, or find one to adopt, or clean a stale one.
 * Returns 0 (created), 1 (adopt it), -1 (logged). */
int
rd_system_create_or_adopt(const char *name, const struct rd_config *cfg)
{
	const roost_sys_opts_t *opts = &cfg->rc_sys;
	struct roost__sys sy;
	pid_t who = 0;
	bool adopt;
	int rc;

	rc = roost_system_create(name, opts);
	if (rc != -EEXIST)
		goto out;
	rc = roost__sys_open(&sy, name);
	if (rc == 0) {
		/* A shutdown begun by the dead roostd is finished, whatever
		 * is left of the system (adopt.c). */
		if (rd_keep_shutdown_recorded(&sy, name)) {
			roost__sys_close(&sy);
			rd_log(RD_INFO, "system '%s' was being shut down when its "
			       "roostd died: adopting it to finish", name);
			return 1;
		}
		adopt = adoptable(&sy, cfg, &who);
		roost__sys_close(&sy);
		if (adopt && who > 0) {
			rd_log(RD_INFO, "system '%s' runs without a roostd (actor "
			       "pid %d is alive): adopting it", name, (int)who);
			return 1;
		}
		if (adopt) {
			rd_log(RD_INFO, "system '%s' has no live process, but "
			       "mailboxes of the config's actors: adopting it "
			       "(they restart at their addresses, mail kept)",
			       name);
			return 1;
		}
	} else if (rc == -EACCES) {
		goto out;
	}
	rd_log(RD_INFO, "removing stale system '%s' (no roostd, no live "
	       "actors, no mailbox of the config's actors%s%s)", name,
	       rc < 0 ? "; " : "", rc < 0 ? roost_strerror(rc) : "");
	roost_system_destroy(name);
	rc = roost_system_create(name, opts);
out:
	if (rc < 0) {
		rd_log(RD_ERR, "cannot create system '%s': %s", name,
		       roost_strerror(rc));
		return -1;
	}
	return 0;
}
