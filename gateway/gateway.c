/* SPDX-License-Identifier: MIT */
/*
 * gateway.c - the NATS gateway of a node: roostd runs it as the actor
 * "gateway" ("roost_gateway --config FILE", the [gateway] section of
 * roostd's config). Its loop takes what local actors send to other
 * nodes (ROOST__KIND_FORWARD) and their remote lookups
 * (ROOST__KIND_WHEREIS) and publishes them; inbound.c delivers what
 * comes back. Until NATS accepts it, it retries with back-off and
 * answers every request with -ENOTCONN: it never exits for want of a
 * server, so roostd never sees it crash-loop. docs/distribution.md has
 * the design.
 */
#include "gw.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* First-connect back-off: from this, doubling, up to the cap. */
#define GW_RETRY_MIN_MS 100u
#define GW_RETRY_MAX_MS 5000u

static const char *gw_node_name = "?";

void
gw_log(const struct gw *gw, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(void)gw;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gateway %s: %s\n", gw_node_name, line);
}

uint64_t
gw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
gw_say_hello(struct gw *gw)
{
	uint8_t buf[GW_WIRE_HEAD + 32];
	const char *name = gw->gw_conf->gw_node;
	struct gw_frame f = {
		.fr_type = GW_HELLO,
		.fr_to = gw->gw_started_ns,
		.fr_from = (uint64_t)gw->gw_conf->gw_node_id << 16,
		.fr_corr = gw->gw_instance,
		.fr_data = (const uint8_t *)name,
		.fr_size = (uint32_t)strlen(name)};

	if (gw_link_ready(gw))
		(void)gw_publish(gw, gw->gw_subj_hello, &f, buf, sizeof(buf));
}

void
gw_answer_error(struct gw *gw, const roost_msg_t *m, uint64_t from, int err)
{
	if (roost_msg_corr(m) != 0)
		gw_tell_sender(gw->gw_ctx, roost_msg_from(m).id, from,
		               roost_msg_corr(m), roost_msg_kind(m), false, err);
}

void
gw_tell_sender(roost_ctx_t *ctx, uint64_t sender, uint64_t to,
               uint64_t corr, uint32_t kind, bool reply, int err)
{
	roost_undelivered_t u = {.err = err, .kind = kind};
	int32_t e = err;
	struct roost__out o = {
		.o_from = to, .o_corr = corr, .o_flags = ROOST_REC_REPLY,
		.o_kind = ROOST__KIND_REMOTE_ERROR, .o_lane = ROOST_LANE_SYS,
		.o_data = &e, .o_size = sizeof(e)};

	if (reply)
		return;
	if (corr == 0) {
		o.o_flags = 0;
		o.o_kind = ROOST_KIND_UNDELIVERED;
		o.o_data = &u;
		o.o_size = sizeof(u);
	}
	(void)roost__send_as(ctx, (roost_aid_t){sender & ~GW_NODE_MASK}, &o,
	                     corr != 0 ? GW_ANSWER_MS : 0);
}

void
gw_undelivered(struct gw *gw, const uint8_t *buf, size_t n, int err)
{
	struct gw_frame f;
	const char *why;

	atomic_fetch_add(&gw->gw_dropped, 1);
	if (gw_wire_decode(buf, n, &f, &why) == 0)
		gw_tell_sender(gw->gw_ctx, f.fr_from, f.fr_to, f.fr_corr,
		               f.fr_kind, (f.fr_flags & GW_F_REPLY) != 0, err);
}

int
gw_route(struct gw *gw, uint32_t id, bool system, char *subject, size_t len)
{
	char name[32];
	bool up;
	int rc;

	if (!gw_link_ready(gw))
		return -ENOTCONN;
	rc = gw_nodes_by_id(&gw->gw_nodes, id, gw_now_ns(), name, &up);
	if (rc < 0)
		return rc;
	if (!up)
		return -ENOTCONN;
	gw_subject(gw, name, system, subject, len);
	return 0;
}

/* A message sent to this node's own "name@node" address: delivered
 * here, with the sender's envelope. */
static int
deliver_here(struct gw *gw, const roost_msg_t *m, const struct roost__fwd *fw)
{
	struct roost__out o = {
		.o_from = roost_msg_from(m).id, .o_corr = roost_msg_corr(m),
		.o_kind = fw->fw_kind, .o_flags = fw->fw_flags,
		.o_lane = (roost_msg_flags(m) & ROOST_MSG_SYSTEM)
		                  ? ROOST_LANE_SYS : ROOST_LANE_USR,
		.o_data = (const uint8_t *)roost_msg_data(m) + sizeof(*fw),
		.o_size = roost_msg_size(m) - sizeof(*fw)};

	return roost__send_as(gw->gw_ctx,
	                      (roost_aid_t){fw->fw_to & ~GW_NODE_MASK}, &o, 0);
}

/* A message a local actor sent to another node's actor. Redelivered
 * (this gateway died while holding it): it may have been published
 * already, so it is dropped (at most once). */
static void
forward(struct gw *gw, const roost_msg_t *m)
{
	struct roost__fwd fw;
	char subject[GW_SUBJECT_MAX];
	struct gw_frame f;
	bool system = (roost_msg_flags(m) & ROOST_MSG_SYSTEM) != 0;
	uint32_t node;
	int rc;

	if (roost_msg_size(m) < sizeof(fw) ||
	    (roost_msg_flags(m) & ROOST_MSG_REDELIVERED) != 0) {
		atomic_fetch_add(&gw->gw_dropped, 1);
		return;
	}
	memcpy(&fw, roost_msg_data(m), sizeof(fw));
	if ((fw.fw_flags & ~(ROOST_REC_MSGPACK | ROOST_REC_REPLY)) != 0) {
		atomic_fetch_add(&gw->gw_dropped, 1);
		return;
	}
	node = roost_aid_node((roost_aid_t){fw.fw_to});
	f.fr_type = GW_MSG;
	f.fr_flags = ((fw.fw_flags & ROOST_REC_MSGPACK) ? GW_F_MSGPACK : 0) |
	             ((fw.fw_flags & ROOST_REC_REPLY) ? GW_F_REPLY : 0) |
	             (system ? GW_F_SYSTEM : 0);
	f.fr_to = fw.fw_to;
	f.fr_from = roost_msg_from(m).id |
	            ((uint64_t)gw->gw_conf->gw_node_id << 16);
	f.fr_corr = roost_msg_corr(m);
	f.fr_kind = fw.fw_kind;
	f.fr_data = (const uint8_t *)roost_msg_data(m) + sizeof(fw);
	f.fr_size = (uint32_t)(roost_msg_size(m) - sizeof(fw));
	f.fr_seq = 0;
	if (node == gw->gw_conf->gw_node_id) {
		rc = deliver_here(gw, m, &fw);
	} else {
		rc = gw_route(gw, node, system, subject, sizeof(subject));
		if (rc == 0 && !system) { /* within the window, or parked */
			f.fr_seq = ++gw->gw_seq_out[node];
			rc = gw_window_send(gw, node, subject, &f);
			if (rc < 0)
				gw->gw_seq_out[node]--; /* not sent: no gap */
		} else if (rc == 0)
			rc = gw_publish(gw, subject, &f, gw->gw_out_buf,
			                gw->gw_out_cap);
	}
	if (rc == 0)
		return;
	atomic_fetch_add(&gw->gw_dropped, 1);
	gw_tell_sender(gw->gw_ctx, roost_msg_from(m).id, fw.fw_to,
	               f.fr_corr, fw.fw_kind, (f.fr_flags & GW_F_REPLY) != 0, rc);
}

/* roost_whereis("name@node") of this very node: the plain local
 * address (replies then come from it, as the caller expects). */
static void
whereis_here(struct gw *gw, const roost_msg_t *m, const char *name)
{
	roost_aid_t a;
	int rc = roost_whereis(gw->gw_ctx, name, &a);
	struct roost__out o = {
		.o_from = gw->gw_self.id, .o_corr = roost_msg_corr(m),
		.o_kind = ROOST__KIND_REPLY, .o_flags = ROOST_REC_REPLY,
		.o_lane = ROOST_LANE_SYS, .o_data = &a.id, .o_size = sizeof(a.id)};

	if (rc < 0)
		gw_answer_error(gw, m, gw->gw_self.id, rc);
	else
		(void)roost__send_as(gw->gw_ctx, roost_msg_from(m), &o,
		                     GW_ANSWER_MS);
}

int
gw_ask_node(struct gw *gw, const roost_msg_t *m, const char *node,
            struct gw_frame *f)
{
	char subject[GW_SUBJECT_MAX];
	uint32_t id;
	bool up;
	int rc;

	rc = !gw_link_ready(gw) ? -ENOTCONN
	                       : gw_nodes_by_name(&gw->gw_nodes, node,
	                                          gw_now_ns(), &id, &up);
	if (rc == 0 && !up)
		rc = -ENOTCONN;
	if (rc < 0)
		return rc;
	f->fr_to = (uint64_t)id << 16;
	f->fr_from = roost_msg_from(m).id |
	             ((uint64_t)gw->gw_conf->gw_node_id << 16);
	f->fr_corr = roost_msg_corr(m);
	gw_subject(gw, node, true, subject, sizeof(subject));
	return gw_publish(gw, subject, f, gw->gw_out_buf, gw->gw_out_cap);
}

/* roost_whereis("name@node") from a local actor: ask that node. */
static void
whereis(struct gw *gw, const roost_msg_t *m)
{
	char req[ROOST_NAME_MAX + ROOST__NODE_NAME_MAX + 2];
	struct gw_frame f = {.fr_type = GW_WHEREIS};
	size_t n = roost_msg_size(m);
	char *at;
	int rc = -EINVAL;

	if (n == 0 || n >= sizeof(req) || roost_msg_corr(m) == 0)
		goto out;
	memcpy(req, roost_msg_data(m), n);
	req[n] = '\0';
	at = strchr(req, '@');
	if (at == NULL || memchr(req, '\0', n) != NULL)
		goto out;
	*at = '\0';
	if (strcmp(at + 1, gw->gw_conf->gw_node) == 0) {
		whereis_here(gw, m, req);
		return;
	}
	f.fr_data = (const uint8_t *)req;
	f.fr_size = (uint32_t)strlen(req);
	rc = gw_ask_node(gw, m, at + 1, &f);
out:
	if (rc < 0)
		gw_answer_error(gw, m, gw->gw_self.id, rc);
}

/* Try to connect when due; on failure, log and double the wait. */
static void
maybe_connect(struct gw *gw, uint64_t now, uint64_t *next_try,
              uint32_t *wait_ms, unsigned *attempts)
{
	char why[256];

	if (gw->gw_nc_usr != NULL || now < *next_try ||
	    atomic_load(&gw->gw_refused))
		return;
	(*attempts)++;
	if (gw_link_connect(gw, why, sizeof(why)) == 0) {
		snprintf(gw->gw_link_state, sizeof(gw->gw_link_state),
		         "connected");
		gw_log(gw, "connected to NATS (node id %u, max_payload %lld)",
		       gw->gw_conf->gw_node_id, (long long)gw->gw_max_payload);
		gw_say_hello(gw);
		return;
	}
	snprintf(gw->gw_link_state, sizeof(gw->gw_link_state),
	         "cannot connect (attempt %u): %s", *attempts, why);
	gw_log(gw, "cannot connect to NATS (attempt %u): %s; retrying in "
	       "%u ms", *attempts, why, *wait_ms);
	*next_try = now + (uint64_t)*wait_ms * 1000000u;
	*wait_ms = *wait_ms * 2 > GW_RETRY_MAX_MS ? GW_RETRY_MAX_MS
	                                          : *wait_ms * 2;
}

struct lost_nodes {
	const struct gw *ln_gw;
	uint32_t ln_id[GW_NODES_MAX];
	int ln_n;
};

/* Called under the node table's lock: note it, act after. */
static void
note_lost(void *arg, const struct gw_node *n)
{
	struct lost_nodes *ln = arg;

	if (n->nd_up)
		gw_log(ln->ln_gw, "node '%s' (id %u) restarted its gateway",
		       n->nd_name, n->nd_id);
	else
		gw_log(ln->ln_gw, "node '%s' (id %u) is down: not heard for "
		       "%u ms", n->nd_name, n->nd_id,
		       ln->ln_gw->gw_conf->gw_down_after_ms);
	if (ln->ln_n < GW_NODES_MAX)
		ln->ln_id[ln->ln_n++] = n->nd_id;
}

struct up_nodes {
	char un_name[GW_NODES_MAX][32];
	uint32_t un_id[GW_NODES_MAX];
	int un_n;
};

/* Under the node table's lock: note the nodes up. */
static void
note_up(void *arg, const struct gw_node *n)
{
	struct up_nodes *un = arg;

	if (n->nd_up && un->un_n < GW_NODES_MAX) {
		memcpy(un->un_name[un->un_n], n->nd_name, 32);
		un->un_id[un->un_n++] = n->nd_id;
	}
}

/* PING every node up (each heartbeat): `roostctl nodes` shows the
 * round trips. */
static void
ping_nodes(struct gw *gw)
{
	struct up_nodes un = {.un_n = 0};
	char subject[GW_SUBJECT_MAX];
	uint8_t buf[GW_WIRE_HEAD];
	struct gw_frame f = {
		.fr_type = GW_PING,
		.fr_from = (uint64_t)gw->gw_conf->gw_node_id << 16};

	if (!gw_link_ready(gw))
		return;
	gw_nodes_each(&gw->gw_nodes, GW_NODES_MAX, note_up, &un);
	for (int i = 0; i < un.un_n; i++) {
		f.fr_to = (uint64_t)un.un_id[i] << 16;
		f.fr_corr = gw_now_ns();
		gw_subject(gw, un.un_name[i], true, subject, sizeof(subject));
		(void)gw_publish(gw, subject, &f, buf, sizeof(buf));
	}
}

/* Nodes gone silent or restarted since the last sweep: what this node
 * watched there is lost (DOWN noconnection), what they watched here is
 * dropped. */
static void
sweep_nodes(struct gw *gw, uint64_t now)
{
	struct lost_nodes ln = {.ln_gw = gw};

	gw_nodes_sweep(&gw->gw_nodes, now, note_lost, &ln);
	for (int i = 0; i < ln.ln_n; i++) {
		gw_monitors_node_lost(gw, ln.ln_id[i]);
		gw_credit_node_lost(gw, ln.ln_id[i]);
	}
}

/* Another gateway, started first, serves this node's name or id: leave
 * NATS to it. This gateway stays up (answering -ENOTCONN), so roostd
 * sees no crash loop; roostctl nodes says why. */
static void
refuse(struct gw *gw)
{
	snprintf(gw->gw_link_state, sizeof(gw->gw_link_state),
	         "refused: another gateway, started first, serves node '%s' "
	         "or id %u", gw->gw_conf->gw_node, gw->gw_conf->gw_node_id);
	gw_log(gw, "%s; disconnecting from NATS", gw->gw_link_state);
	gw_link_close(gw);
}

/* Milliseconds from 'now' to 'at' (0 if past), rounded up. */
static int
ms_until(uint64_t now, uint64_t at)
{
	return at > now ? (int)((at - now + 999999u) / 1000000u) : 0;
}

/* The loop: until a graceful stop (0) or a fatal error. */
static int
run(struct gw *gw)
{
	uint64_t hb_ns = (uint64_t)gw->gw_conf->gw_heartbeat_ms * 1000000u;
	uint64_t next_try = 0;
	uint64_t next_hello = 0;
	uint32_t wait_ms = GW_RETRY_MIN_MS;
	unsigned attempts = 0;
	roost_msg_t *m;
	uint64_t now;
	uint64_t wake;
	unsigned lanes;
	int rc;

	for (;;) {
		now = gw_now_ns();
		if (atomic_load(&gw->gw_refused) && gw->gw_nc_usr != NULL)
			refuse(gw);
		maybe_connect(gw, now, &next_try, &wait_ms, &attempts);
		gw_link_resync(gw);
		if (gw->gw_nc_usr != NULL && now >= next_hello) {
			gw_say_hello(gw);
			sweep_nodes(gw, gw_now_ns());
			ping_nodes(gw);
			next_hello = now + hb_ns;
		}
		wake = gw->gw_nc_usr != NULL ? next_hello : next_try;
		if (gw->gw_park.pk_on)
			gw_unpark(gw, gw_now_ns());
		/* A parked user frame: only the system lane until credit
		 * comes (credit.c); the user lane waits in the mailbox. */
		lanes = ROOST_LANE_ANY;
		if (gw->gw_park.pk_on) {
			lanes = ROOST_LANE_SYSTEM;
			if (gw_parked_until(gw) < wake)
				wake = gw_parked_until(gw);
		}
		rc = roost_recv_match(gw->gw_ctx, &m, lanes, NULL, NULL, 0);
		if (rc == -EAGAIN && gw->gw_usr_unflushed) {
			/* Nothing more to batch: write the user frames now
			 * rather than when libnats' flusher wakes (it sleeps
			 * 1 ms first, for throughput). */
			gw->gw_usr_unflushed = false;
			(void)natsConnection_FlushTimeout(gw->gw_nc_usr,
			                                  GW_FLUSH_MS);
			continue;
		}
		if (rc == -EAGAIN)
			rc = roost_recv_match(gw->gw_ctx, &m, lanes, NULL, NULL,
			                      ms_until(gw_now_ns(), wake));
		if (rc == -ETIMEDOUT || rc == -EAGAIN || rc == -EINTR)
			continue;
		if (rc < 0)
			return rc;
		switch (roost_msg_kind(m)) {
		case ROOST__KIND_FORWARD:
			forward(gw, m);
			break;
		case ROOST__KIND_WHEREIS:
			whereis(gw, m);
			break;
		case ROOST__KIND_NODES:
			gw_answer_nodes(gw, m);
			break;
		case ROOST__KIND_ACTORS:
			gw_actors_request(gw, m);
			break;
		case ROOST__KIND_CREDIT:
			if (roost_aid_node(roost_msg_from(m)) != 0)
				gw_credit_received(gw, m);
			break;
		case ROOST__KIND_MONITOR:
			if (roost_aid_node(roost_msg_from(m)) == 0)
				gw_monitor_request(gw, m);
			else
				gw_monitor_remote(gw, m);
			break;
		case ROOST__KIND_LINK:
			if (roost_aid_node(roost_msg_from(m)) == 0)
				gw_link_request(gw, m);
			else
				gw_link_remote(gw, m);
			break;
		case ROOST__KIND_DEMONITOR:
			gw_demonitor_request(gw, m);
			break;
		case ROOST__KIND_UNLINK:
			if (roost_aid_node(roost_msg_from(m)) == 0)
				gw_unlink_request(gw, m);
			else
				gw_unlink_remote(gw, m);
			break;
		case ROOST_KIND_DOWN:
		case ROOST_KIND_EXIT:
			if (roost_aid_node(roost_msg_from(m)) == 0)
				gw_down_local(gw, m);
			else
				gw_down_remote(gw, m);
			break;
		case ROOST__KIND_STOP:
			return 0;
		default:
			atomic_fetch_add(&gw->gw_dropped, 1);
			break;
		}
	}
}

static int
open_ctx(roost_ctx_t **out, bool env)
{
	roost_ctx_opts_t o;
	int rc;

	roost_ctx_opts_init(&o);
	if (env) {
		rc = roost_ctx_opts_from_env(&o);
		if (rc < 0)
			return rc;
	} else {
		o.system = getenv("ROOST_SYSTEM");
	}
	return roost_ctx_open(out, &o);
}

/* Load the config, open the three contexts, name the subjects. */
static int
setup(struct gw *gw, const char *path)
{
	const struct rd_gateway *g = &gw->gw_cfg.rc_gateway;
	struct timespec ts;
	int rc;

	rc = rd_config_load(&gw->gw_cfg, path);
	if (rc < 0) {
		fprintf(stderr, "gateway: %s\n", gw->gw_cfg.rc_error);
		return rc;
	}
	if (!g->gw_enabled) {
		fprintf(stderr, "gateway: %s has no [gateway] section\n", path);
		return -EINVAL;
	}
	gw->gw_conf = g;
	gw_node_name = g->gw_node;
	snprintf(gw->gw_link_state, sizeof(gw->gw_link_state), "connecting");
	gw_nodes_init(&gw->gw_nodes, g->gw_down_after_ms);
	clock_gettime(CLOCK_REALTIME, &ts);
	gw->gw_started_ns = (uint64_t)ts.tv_sec * 1000000000u +
	                    (uint64_t)ts.tv_nsec;
	if (getrandom(&gw->gw_instance, sizeof(gw->gw_instance), 0) !=
	    sizeof(gw->gw_instance))
		gw->gw_instance = gw_now_ns() ^ (uint64_t)getpid() << 32;
	snprintf(gw->gw_subj_hello, GW_SUBJECT_MAX, "%s.nodes.%s.%u",
	         g->gw_prefix, g->gw_node, g->gw_node_id);
	snprintf(gw->gw_subj_nodes, GW_SUBJECT_MAX, "%s.nodes.*.*",
	         g->gw_prefix);
	snprintf(gw->gw_subj_usr, GW_SUBJECT_MAX, "%s.node.%s.usr.*",
	         g->gw_prefix, g->gw_node);
	snprintf(gw->gw_subj_ctl, GW_SUBJECT_MAX, "%s.node.%s.ctl.*",
	         g->gw_prefix, g->gw_node);
	rc = open_ctx(&gw->gw_ctx, true);
	if (rc == 0)
		rc = open_ctx(&gw->gw_in_usr, false);
	if (rc == 0)
		rc = open_ctx(&gw->gw_in_ctl, false);
	if (rc < 0) {
		gw_log(gw, "cannot open the system: %s", roost_strerror(rc));
		return rc;
	}
	gw->gw_self = roost_self(gw->gw_ctx);
	gw->gw_out_cap = GW_WIRE_HEAD + gw->gw_cfg.rc_sys.max_msg;
	gw->gw_out_buf = malloc(gw->gw_out_cap);
	gw->gw_park.pk_buf = malloc(gw->gw_out_cap);
	return gw->gw_out_buf != NULL && gw->gw_park.pk_buf != NULL ? 0
	                                                            : -ENOMEM;
}

int
main(int argc, char **argv)
{
	static struct gw gw;
	int rc;

	if (argc != 3 || strcmp(argv[1], "--config") != 0) {
		fprintf(stderr, "usage: %s --config FILE (roostd runs it from "
		        "the [gateway] section)\n", argv[0]);
		return 2;
	}
	rc = setup(&gw, argv[2]);
	if (rc == 0) {
		rc = run(&gw);
		gw_log(&gw, "stopping (%s): %llu published, %llu delivered, "
		       "%llu not delivered, %llu bad frames, %llu forged, "
		       "%llu lost in flight",
		       rc == 0 ? "stop" : roost_strerror(rc),
		       (unsigned long long)gw.gw_sent,
		       (unsigned long long)gw.gw_received,
		       (unsigned long long)gw.gw_dropped,
		       (unsigned long long)gw.gw_garbage,
		       (unsigned long long)gw.gw_forged,
		       (unsigned long long)gw.gw_lost);
	}
	gw_link_close(&gw);
	roost_ctx_close(gw.gw_in_usr);
	roost_ctx_close(gw.gw_in_ctl);
	roost_ctx_close(gw.gw_ctx);
	free(gw.gw_out_buf);
	free(gw.gw_park.pk_buf);
	rd_config_free(&gw.gw_cfg);
	nats_Close();
	return rc == 0 ? 0 : 1;
}
