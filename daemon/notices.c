/* SPDX-License-Identifier: MIT */
/*
 * notices.c - monitors and links, and the DOWN / EXIT notices roostd
 * sends on the watchers' system lanes when a watched process ends. Each
 * watch has a record in the keep table (keep.c), written when it is made
 * and cleared when it is dropped, so that an adopting roostd keeps it.
 */
#include "rd.h"

#include <msgpack.h>
#include <sys/wait.h>

#define RD_MONITORS_PER_WATCHER 1024

/* Grow an array of 'size'-byte entries to hold one more. */
static int
grow(void **arr, int *cap, int n, size_t size)
{
	void *p;
	int ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, (size_t)ncap * size);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Drop monitor / link 'i' (the last one takes its place). */
static void
mon_drop(struct rd *rd, int i)
{
	rd_keep_watch_free(rd->rd_mons[i].mo_rec);
	rd->rd_mons[i] = rd->rd_mons[--rd->rd_nmons];
}

static void
link_drop(struct rd *rd, int i)
{
	rd_keep_watch_free(rd->rd_links[i].li_rec);
	rd->rd_links[i] = rd->rd_links[--rd->rd_nlinks];
}

/*
 * Drop the watches whose watcher's address is gone (a client that
 * exited without demonitoring): before the tables grow, so they stay
 * bounded by the live watchers.
 */
static void
prune(struct rd *rd)
{
	int i;

	for (i = 0; i < rd->rd_nmons;) {
		if (!roost__sys_aid_live(&rd->rd_sy, rd->rd_mons[i].mo_watcher))
			mon_drop(rd, i);
		else
			i++;
	}
	for (i = 0; i < rd->rd_nlinks;) {
		if (!roost__sys_aid_live(&rd->rd_sy, rd->rd_links[i].li_a) ||
		    !roost__sys_aid_live(&rd->rd_sy, rd->rd_links[i].li_b))
			link_drop(rd, i);
		else
			i++;
	}
}

int
rd_monitor_add(struct rd *rd, roost_aid_t watcher, roost_aid_t target,
               uint64_t *ref)
{
	struct rd_monitor *mo;
	int i, rec, mine = 0;

	if (rd->rd_nmons == rd->rd_mons_cap)
		prune(rd);
	/* A live watcher cannot grow the table without bound. */
	for (i = 0; i < rd->rd_nmons; i++)
		mine += rd->rd_mons[i].mo_watcher.id == watcher.id;
	if (mine >= RD_MONITORS_PER_WATCHER)
		return -ENOSPC;
	if (grow((void **)&rd->rd_mons, &rd->rd_mons_cap, rd->rd_nmons,
	         sizeof(*mo)) < 0)
		return -ENOMEM;
	rec = rd_keep_watch_add(rd->rd_next_ref + 1, watcher, target);
	if (rec == -ENOSPC)
		return -ENOSPC; /* it could not survive an adoption */
	mo = &rd->rd_mons[rd->rd_nmons++];
	mo->mo_ref = ++rd->rd_next_ref;
	mo->mo_watcher = watcher;
	mo->mo_target = target;
	mo->mo_rec = rec;
	*ref = mo->mo_ref;
	return 0;
}

int
rd_monitor_remove(struct rd *rd, roost_aid_t watcher, uint64_t ref)
{
	int i;

	for (i = 0; i < rd->rd_nmons; i++) {
		if (rd->rd_mons[i].mo_ref == ref &&
		    rd->rd_mons[i].mo_watcher.id == watcher.id) {
			mon_drop(rd, i);
			return 0;
		}
	}
	return -ENOENT;
}

static bool
link_is(const struct rd_link *li, roost_aid_t a, roost_aid_t b)
{
	return (li->li_a.id == a.id && li->li_b.id == b.id) ||
	       (li->li_a.id == b.id && li->li_b.id == a.id);
}

int
rd_link_add(struct rd *rd, roost_aid_t a, roost_aid_t b)
{
	int i, rec;

	if (a.id == b.id)
		return -EINVAL;
	for (i = 0; i < rd->rd_nlinks; i++)
		if (link_is(&rd->rd_links[i], a, b))
			return 0; /* linking twice is one link */
	if (rd->rd_nlinks == rd->rd_links_cap)
		prune(rd);
	if (grow((void **)&rd->rd_links, &rd->rd_links_cap, rd->rd_nlinks,
	         sizeof(*rd->rd_links)) < 0)
		return -ENOMEM;
	rec = rd_keep_watch_add(0, a, b);
	if (rec == -ENOSPC)
		return -ENOSPC;
	rd->rd_links[rd->rd_nlinks].li_a = a;
	rd->rd_links[rd->rd_nlinks].li_b = b;
	rd->rd_links[rd->rd_nlinks].li_rec = rec;
	rd->rd_nlinks++;
	return 0;
}

int
rd_link_remove(struct rd *rd, roost_aid_t a, roost_aid_t b)
{
	int i;

	for (i = 0; i < rd->rd_nlinks; i++) {
		if (link_is(&rd->rd_links[i], a, b)) {
			link_drop(rd, i);
			return 0;
		}
	}
	return -ENOENT;
}

static void
pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void
pack_kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_int64(pk, v);
}

/* Send one notice; a watcher whose system lane is full loses it (logged:
 * roostd never blocks on an actor). */
static void
send_notice(struct rd *rd, roost_aid_t to, uint32_t kind,
            const struct rd_child *ch, uint64_t ref, int status, bool known,
            bool restarting, roost_exit_reason_t reason)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 8);
	msgpack_pack_str_with_body(&pk, "aid", 3);
	msgpack_pack_uint64(&pk, ch->ch_aid.id);
	msgpack_pack_str_with_body(&pk, "ref", 3);
	msgpack_pack_uint64(&pk, ref);
	pack_kv_str(&pk, "name", ch->ch_name);
	pack_kv_str(&pk, "reason", roost_exit_reason_name(reason));
	pack_kv_int(&pk, "pid", ch->ch_pid);
	pack_kv_int(&pk, "status", known && WIFEXITED(status)
	                           ? WEXITSTATUS(status) : -1);
	pack_kv_int(&pk, "signal", known && WIFSIGNALED(status)
	                           ? WTERMSIG(status) : 0);
	msgpack_pack_str_with_body(&pk, "restarting", 10);
	if (restarting)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	rc = roost_send_ex(rd->rd_ctx, to, kind,
	                   ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK, 0, sb.data,
	                   sb.size, 0);
	if (rc < 0 && rc != -ESRCH)
		rd_log(RD_ERR, "notice about %s to %u.%u lost: %s", ch->ch_name,
		       roost_aid_slot(to), roost_aid_gen(to), roost_strerror(rc));
	msgpack_sbuffer_destroy(&sb);
}

void
rd_notify_down(struct rd *rd, const struct rd_child *ch, int status,
               bool known, bool restarting, roost_exit_reason_t reason)
{
	int i;

	if (ch->ch_aid.id == 0)
		return;
	for (i = 0; i < rd->rd_nmons; i++)
		if (rd->rd_mons[i].mo_target.id == ch->ch_aid.id)
			send_notice(rd, rd->rd_mons[i].mo_watcher,
			            ROOST_KIND_DOWN, ch, rd->rd_mons[i].mo_ref,
			            status, known, restarting, reason);
	for (i = 0; i < rd->rd_nlinks; i++) {
		if (rd->rd_links[i].li_a.id == ch->ch_aid.id)
			send_notice(rd, rd->rd_links[i].li_b, ROOST_KIND_EXIT, ch,
			            0, status, known, restarting, reason);
		else if (rd->rd_links[i].li_b.id == ch->ch_aid.id)
			send_notice(rd, rd->rd_links[i].li_a, ROOST_KIND_EXIT, ch,
			            0, status, known, restarting, reason);
	}
}

void
rd_watches_forget(struct rd *rd, roost_aid_t aid)
{
	int i;

	for (i = 0; i < rd->rd_nmons;) {
		if (rd->rd_mons[i].mo_target.id == aid.id ||
		    rd->rd_mons[i].mo_watcher.id == aid.id)
			mon_drop(rd, i);
		else
			i++;
	}
	for (i = 0; i < rd->rd_nlinks;) {
		if (rd->rd_links[i].li_a.id == aid.id ||
		    rd->rd_links[i].li_b.id == aid.id)
			link_drop(rd, i);
		else
			i++;
	}
}

void
rd_watch_restore(struct rd *rd, int rec, uint64_t ref, roost_aid_t a,
                 roost_aid_t b)
{
	struct rd_monitor *mo;
	struct rd_link *li;

	/* Only watches of roostd's own actors produce notices. */
	if (ref != 0 ? rd_child_by_aid(rd, b) == NULL
	             : rd_child_by_aid(rd, a) == NULL &&
	               rd_child_by_aid(rd, b) == NULL) {
		rd_keep_watch_free(rec);
		return;
	}
	if (ref != 0 &&
	    grow((void **)&rd->rd_mons, &rd->rd_mons_cap, rd->rd_nmons,
	         sizeof(*mo)) == 0) {
		mo = &rd->rd_mons[rd->rd_nmons++];
		mo->mo_ref = ref;
		mo->mo_watcher = a;
		mo->mo_target = b;
		mo->mo_rec = rec;
	} else if (ref == 0 &&
	           grow((void **)&rd->rd_links, &rd->rd_links_cap,
	                rd->rd_nlinks, sizeof(*li)) == 0) {
		li = &rd->rd_links[rd->rd_nlinks++];
		li->li_a = a;
		li->li_b = b;
		li->li_rec = rec;
	} else {
		rd_keep_watch_free(rec); /* out of memory: lost */
		rd_log(RD_ERR, "a %s kept by the previous roostd is lost: out of "
		       "memory", ref ? "monitor" : "link");
	}
}
