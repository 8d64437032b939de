/* SPDX-License-Identifier: MIT */
/*
 * ctl_ls.c - ls (one table of every actor) and top (the same table,
 * refreshed, sorted by depth or rate; a full-screen view on a terminal,
 * plain repeated snapshots otherwise). Both only look: the view API
 * reads counters without locks.
 *
 * Rate is messages per second accepted by the mailbox (its enqueued
 * counter), between two samples: ls takes two, --rate-ms apart; top
 * compares each refresh with the one before.
 */
#include "roostctl.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

struct row {
	roost_actor_info_t r_a;
	double r_rate;
	bool r_has_rate;
};

struct table {
	struct row *t_rows;
	size_t t_n;
	size_t t_cap;
	int t_err;
};

static int
collect(void *arg, const roost_actor_info_t *a)
{
	struct table *t = arg;
	struct row *rows;

	if (t->t_n == t->t_cap) {
		rows = realloc(t->t_rows,
		               (t->t_cap ? t->t_cap * 2 : 64) * sizeof(*rows));
		if (rows == NULL)
			return -ENOMEM;
		t->t_rows = rows;
		t->t_cap = t->t_cap ? t->t_cap * 2 : 64;
	}
	memset(&t->t_rows[t->t_n], 0, sizeof(t->t_rows[0]));
	t->t_rows[t->t_n++].r_a = *a;
	return 0;
}

static int
table_load(roost_view_t *v, struct table *t)
{
	int rc;

	t->t_n = 0;
	rc = roost_view_actors(v, collect, t);
	return rc < 0 ? rc : 0;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Rates of 'cur' against 'prev', 'dt_ns' apart (same address only).
 * Both are in slot order (roost_view_actors): one merged walk. */
static void
table_rates(struct table *cur, const struct table *prev, uint64_t dt_ns)
{
	size_t i;
	size_t j = 0;

	for (i = 0; i < cur->t_n && dt_ns > 0; i++) {
		const roost_actor_info_t *a = &cur->t_rows[i].r_a;
		const roost_actor_info_t *b;

		while (j < prev->t_n &&
		       roost_aid_slot(prev->t_rows[j].r_a.aid) <
		       roost_aid_slot(a->aid))
			j++;
		if (j == prev->t_n)
			break;
		b = &prev->t_rows[j].r_a;
		if (b->aid.id != a->aid.id || a->mbox_err != 0 ||
		    b->mbox_err != 0 || a->mbox.enqueued < b->mbox.enqueued)
			continue;
		cur->t_rows[i].r_rate = (double)(a->mbox.enqueued -
		                                 b->mbox.enqueued) *
		                        1e9 / (double)dt_ns;
		cur->t_rows[i].r_has_rate = true;
	}
}

static void
table_free(struct table *t)
{
	free(t->t_rows);
	memset(t, 0, sizeof(*t));
}

/* After the table, a line for each mailbox that met damage: records
 * skipped as corrupt, segments replaced and runs lost with them. */
static void
print_damage(FILE *f, const struct table *t)
{
	const roost_actor_info_t *a;
	char addr[32];
	size_t i;

	for (i = 0; i < t->t_n; i++) {
		a = &t->t_rows[i].r_a;
		if (a->mbox_err != 0 || (a->mbox.corrupt == 0 &&
		                         a->mbox.replaced == 0 &&
		                         a->mbox.repaired == 0))
			continue;
		fprintf(f, "damage: %s (%s): %llu corrupt record(s) skipped, %llu "
		        "half-written repaired, mailbox replaced %llu time(s), "
		        "%llu run(s) lost\n",
		        a->name[0] ? a->name : "an unnamed actor",
		        ctl_fmt_aid(a->aid, addr, sizeof(addr)),
		        (unsigned long long)a->mbox.corrupt,
		        (unsigned long long)a->mbox.repaired,
		        (unsigned long long)a->mbox.replaced,
		        (unsigned long long)a->mbox.lost);
	}
}

bool
ctl_mbox_damaged(const roost_actor_info_t *a)
{
	char addr[32];

	if (a->mbox_err != ROOST_ECORRUPT && a->mbox_err != ROOST_EVERSION)
		return false;
	ctl_err(CTL_CORRUPT, "mailbox of %s (%s) is corrupted: %s",
	        a->name[0] ? a->name : "an unnamed actor",
	        ctl_fmt_aid(a->aid, addr, sizeof(addr)),
	        roost_strerror(a->mbox_err));
	return true;
}

static void
print_header(FILE *f)
{
	fprintf(f, "%-20s %-9s %7s %-10s %4s %7s %15s %7s %9s %9s %9s %4s\n",
	        "NAME", "ADDRESS", "PID", "STATE", "RST", "QUEUED",
	        "USED/CAPACITY", "HIGH", "IN", "OUT", "RATE/s", "DEAD");
}

static void
print_row(FILE *f, const struct row *r)
{
	const roost_actor_info_t *a = &r->r_a;
	bool sup = (a->flags & ROOST_ACTOR_F_ROOSTD) != 0;
	char addr[32], used[16], cap[16], uc[40], hw[16], rate[24];
	char rst[16], dead[16], queued[24], in[24], out[24];

	ctl_fmt_aid(a->aid, addr, sizeof(addr));
	snprintf(rst, sizeof(rst), sup ? "%u" : "-", a->restarts);
	snprintf(dead, sizeof(dead), sup ? "%u" : "-", a->deadletters);
	if (a->mbox_err == 0) {
		snprintf(uc, sizeof(uc), "%s/%s",
		         ctl_fmt_bytes(a->mbox.used, used, sizeof(used)),
		         ctl_fmt_bytes(a->mbox.capacity, cap, sizeof(cap)));
		ctl_fmt_bytes(a->mbox.high_water, hw, sizeof(hw));
		snprintf(queued, sizeof(queued), "%u", a->mbox.queued);
		snprintf(in, sizeof(in), "%llu",
		         (unsigned long long)a->mbox.enqueued);
		snprintf(out, sizeof(out), "%llu",
		         (unsigned long long)a->mbox.dequeued);
	} else {
		snprintf(uc, sizeof(uc), "%s",
		         a->mbox_err == ROOST_ECORRUPT ? "CORRUPT" : "-");
		snprintf(hw, sizeof(hw), "-");
		snprintf(queued, sizeof(queued), "-");
		snprintf(in, sizeof(in), "-");
		snprintf(out, sizeof(out), "-");
	}
	if (r->r_has_rate)
		snprintf(rate, sizeof(rate), "%.0f", r->r_rate);
	else
		snprintf(rate, sizeof(rate), "-");
	fprintf(f, "%-20s %-9s %7d %-10s %4s %7s %15s %7s %9s %9s %9s %4s\n",
	        a->name[0] ? a->name : "-", addr, (int)a->pid,
	        roost_actor_state_name(a->state), rst, queued, uc, hw, in, out,
	        rate, dead);
}

static void
print_footer(FILE *f, const roost_sysinfo_t *si)
{
	fprintf(f,
	        "system %s: %s, roostd pid %d, %u actor(s), %llu dead "
	        "letter(s)\n",
	        si->name, roost_sys_state_name(si->state), (int)si->roostd_pid,
	        si->actors, (unsigned long long)si->deadletters);
}

static json_t *
table_json(const roost_sysinfo_t *si, const struct table *t)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < t->t_n; i++)
		json_array_append_new(
		    arr, ctl_actor_json(&t->t_rows[i].r_a, t->t_rows[i].r_rate,
		                        t->t_rows[i].r_has_rate));
	return json_pack("{s:o, s:o}", "system", ctl_sysinfo_json(si),
	                 "actors", arr);
}

int
ctl_ls(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"rate-ms", required_argument, NULL, 'r'},
	    {"node", required_argument, NULL, 'n'},
	    {0},
	};
	const char *node = NULL;
	struct table prev = {0};
	struct table cur = {0};
	roost_sysinfo_t si;
	uint64_t rate_ms = 200;
	uint64_t t0;
	size_t i;
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:hr:n:", opts, NULL)) != -1) {
		if (ctl_common_opt(c, opt, "ls"))
			continue;
		if (opt == 'n') {
			node = optarg;
			continue;
		}
		if (opt == 'r') {
			rc = ctl_parse_u64("ls", "--rate-ms", optarg, 60000,
			                   &rate_ms);
			if (rc != 0)
				return rc;
			continue;
		}
		return ctl_usage("ls", "unknown option");
	}
	if (optind != argc)
		return ctl_usage("ls", "takes no arguments");
	if (node != NULL)
		return ctl_ls_node(c, node);
	rc = ctl_view(c, false);
	if (rc != 0)
		return rc;
	t0 = now_ns();
	rc = table_load(c->c_view, &prev);
	if (rc == 0 && rate_ms > 0) {
		usleep((useconds_t)(rate_ms * 1000u));
		rc = table_load(c->c_view, &cur);
		table_rates(&cur, &prev, now_ns() - t0);
	} else if (rc == 0) {
		cur = prev;
		memset(&prev, 0, sizeof(prev));
	}
	if (rc == 0)
		rc = roost_view_info(c->c_view, &si);
	if (rc < 0) {
		rc = ctl_fail(rc, "reading system '%s'", c->c_sysname);
		goto out;
	}
	if (c->c_json) {
		ctl_json_print(table_json(&si, &cur));
	} else {
		print_header(stdout);
		for (i = 0; i < cur.t_n; i++)
			print_row(stdout, &cur.t_rows[i]);
		print_footer(stdout, &si);
		print_damage(stdout, &cur);
	}
	/* The table is out; damage is also an error (one line each). */
	rc = CTL_OK;
	for (i = 0; i < cur.t_n; i++)
		if (ctl_mbox_damaged(&cur.t_rows[i].r_a))
			rc = CTL_CORRUPT;
out:
	table_free(&prev);
	table_free(&cur);
	return rc;
}

/* --- top -------------------------------------------------------------- */

enum sort_key { SORT_DEPTH, SORT_RATE, SORT_NAME, SORT_RESTARTS };

static enum sort_key sort_by;

static int
row_cmp(const void *pa, const void *pb)
{
	const struct row *x = pa;
	const struct row *y = pb;
	int c = 0;

	switch (sort_by) {
	case SORT_DEPTH:
		c = (y->r_a.mbox.queued > x->r_a.mbox.queued) -
		    (y->r_a.mbox.queued < x->r_a.mbox.queued);
		if (c == 0)
			c = (y->r_a.mbox.used > x->r_a.mbox.used) -
			    (y->r_a.mbox.used < x->r_a.mbox.used);
		break;
	case SORT_RATE:
		c = (y->r_rate > x->r_rate) - (y->r_rate < x->r_rate);
		break;
	case SORT_RESTARTS:
		c = (y->r_a.restarts > x->r_a.restarts) -
		    (y->r_a.restarts < x->r_a.restarts);
		break;
	case SORT_NAME:
		break;
	}
	if (c == 0)
		c = strcmp(x->r_a.name, y->r_a.name);
	if (c == 0)
		c = (x->r_a.aid.id > y->r_a.aid.id) -
		    (x->r_a.aid.id < y->r_a.aid.id);
	return c;
}

static const char *
sort_name(enum sort_key k)
{
	switch (k) {
	case SORT_DEPTH:
		return "depth";
	case SORT_RATE:
		return "rate";
	case SORT_RESTARTS:
		return "restarts";
	default:
		return "name";
	}
}

static volatile sig_atomic_t top_quit;
static struct termios top_saved;
static bool top_raw;

static void
on_quit(int sig)
{
	(void)sig;
	top_quit = 1;
}

static void
term_restore(void)
{
	if (!top_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved);
	/* Show the cursor, leave the alternate screen. */
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	top_raw = false;
}

/* Raw keys from the terminal (no echo, no line buffering), the
 * alternate screen, the cursor hidden. */
static bool
term_raw(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &top_saved) < 0)
		return false;
	t = top_saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
		return false;
	top_raw = true;
	fputs("\033[?1049h\033[?25l", stdout);
	return true;
}

static int
term_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		return ws.ws_row;
	return 24;
}

/* Wait up to 'ms' for a key; handle it. */
static void
wait_key(uint64_t ms, bool tty)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};
	uint64_t end = now_ns() + ms * 1000000u;
	uint64_t now;
	char ch;

	while (!top_quit && (now = now_ns()) < end) {
		if (!tty) {
			usleep((useconds_t)((end - now) / 1000u > 100000
			                        ? 100000
			                        : (end - now) / 1000u));
			continue;
		}
		if (poll(&p, 1, (int)((end - now + 999999u) / 1000000u)) <= 0)
			continue;
		if (read(STDIN_FILENO, &ch, 1) != 1)
			continue;
		switch (ch) {
		case 'q':
		case 'Q':
		case 3:
			top_quit = 1;
			break;
		case 'd':
			sort_by = SORT_DEPTH;
			return;
		case 'r':
			sort_by = SORT_RATE;
			return;
		case 'n':
			sort_by = SORT_NAME;
			return;
		case 'R':
			sort_by = SORT_RESTARTS;
			return;
		default:
			break;
		}
	}
}

static void
draw(struct ctl *c, const roost_sysinfo_t *si, struct table *t, bool tty,
     uint64_t frame)
{
	char clock_s[32];
	time_t now = time(NULL);
	struct tm tm;
	int rows = tty ? term_rows() : 0;
	size_t i;

	localtime_r(&now, &tm);
	strftime(clock_s, sizeof(clock_s), "%H:%M:%S", &tm);
	if (t->t_n > 1)
		qsort(t->t_rows, t->t_n, sizeof(*t->t_rows), row_cmp);
	if (c->c_json) {
		json_t *j = table_json(si, t);

		json_object_set_new(j, "frame",
		                    json_integer((json_int_t)frame));
		json_object_set_new(j, "sort",
		                    json_string(sort_name(sort_by)));
		ctl_json_print(j);
		fflush(stdout);
		return;
	}
	if (tty)
		fputs("\033[H\033[2J", stdout);
	else if (frame > 0)
		fputc('\n', stdout);
	printf("roostctl top - %s - system %s: %s, %u actor(s), %llu dead "
	       "letter(s) - sort: %s%s\n",
	       clock_s, si->name, roost_sys_state_name(si->state), si->actors,
	       (unsigned long long)si->deadletters, sort_name(sort_by),
	       tty ? "   [q]uit [d]epth [r]ate [n]ame [R]estarts" : "");
	print_header(stdout);
	for (i = 0; i < t->t_n; i++) {
		if (tty && (int)i + 3 >= rows) {
			printf("... %zu more\n", t->t_n - i);
			break;
		}
		print_row(stdout, &t->t_rows[i]);
	}
	fflush(stdout);
}

/* top's options: the refresh interval, the number of frames (0: until
 * quit) and the sort order; 0 or an exit code. */
static int
top_opts(struct ctl *c, int argc, char **argv, uint64_t *interval,
         uint64_t *count)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"interval", required_argument, NULL, 'i'},
	    {"sort", required_argument, NULL, 'o'},
	    {"count", required_argument, NULL, 'n'},
	    {0},
	};
	int opt;
	int rc = 0;

	sort_by = SORT_DEPTH;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:hi:o:n:", opts, NULL)) !=
	       -1) {
		if (ctl_common_opt(c, opt, "top"))
			continue;
		if (opt == 'i')
			rc = ctl_parse_u64("top", "--interval", optarg,
			                   3600000, interval);
		else if (opt == 'n')
			rc = ctl_parse_u64("top", "--count", optarg,
			                   UINT32_MAX, count);
		else if (opt == 'o' && strcmp(optarg, "depth") == 0)
			sort_by = SORT_DEPTH;
		else if (opt == 'o' && strcmp(optarg, "rate") == 0)
			sort_by = SORT_RATE;
		else if (opt == 'o' && strcmp(optarg, "name") == 0)
			sort_by = SORT_NAME;
		else if (opt == 'o' && strcmp(optarg, "restarts") == 0)
			sort_by = SORT_RESTARTS;
		else
			return ctl_usage("top",
			                 "bad option (--sort depth, rate, "
			                 "name or restarts)");
		if (rc != 0)
			return rc;
	}
	if (optind != argc)
		return ctl_usage("top", "takes no arguments");
	if (*interval < 50)
		*interval = 50;
	return 0;
}

/* Collect one frame: the system opened afresh (one shut down and started
 * again is a new segment), its table and its counters. 0 or an exit
 * code. */
static int
top_collect(struct ctl *c, struct table *cur, roost_sysinfo_t *si)
{
	int rc;

	roost_view_close(c->c_view);
	c->c_view = NULL;
	rc = roost_view_open(&c->c_view, c->c_sysname);
	if (rc == 0)
		rc = table_load(c->c_view, cur);
	if (rc == 0)
		rc = roost_view_info(c->c_view, si);
	if (rc == 0)
		return 0;
	term_restore(); /* the message goes to a terminal in its own mode */
	if (rc == -ENOENT && c->c_view == NULL)
		return ctl_err(CTL_NOSYS, "system '%s' is gone", c->c_sysname);
	if (c->c_view == NULL)
		return ctl_fail(rc, "system '%s'", c->c_sysname);
	return ctl_fail(rc, "reading system '%s'", c->c_sysname);
}

int
ctl_top(struct ctl *c, int argc, char **argv)
{
	struct table prev = {0};
	struct table cur = {0};
	struct table tmp;
	struct sigaction sa;
	roost_sysinfo_t si;
	uint64_t interval = 1000;
	uint64_t count = 0;
	uint64_t frame;
	uint64_t t_prev = 0;
	uint64_t t_now;
	bool tty;
	int rc;

	rc = top_opts(c, argc, argv, &interval, &count);
	if (rc != 0)
		return rc;
	rc = ctl_view(c, false);
	if (rc != 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_quit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	tty = !c->c_json && isatty(STDOUT_FILENO) && term_raw();
	rc = CTL_OK;
	for (frame = 0; !top_quit && (count == 0 || frame < count); frame++) {
		t_now = now_ns();
		rc = top_collect(c, &cur, &si);
		if (rc != 0)
			break;
		if (frame > 0)
			table_rates(&cur, &prev, t_now - t_prev);
		draw(c, &si, &cur, tty, frame);
		tmp = prev;
		prev = cur;
		cur = tmp;
		t_prev = t_now;
		if (count == 0 || frame + 1 < count)
			wait_key(interval, tty);
	}
	term_restore();
	table_free(&prev);
	table_free(&cur);
	return rc;
}
