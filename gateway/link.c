/* SPDX-License-Identifier: MIT */
/*
 * link.c - the gateway's NATS connections (two: user frames on a
 * buffered one, control frames on one that writes at once; gw.h):
 * options from [gateway] (servers, credentials, TLS), connect,
 * subscriptions, publish. libnats reconnects on its own once connected;
 * the first connect is retried by the forwarding loop with back-off
 * (gateway.c).
 */
#include "gw.h"

#include <stdarg.h>
#include <stdio.h>

void
gw_subject(const struct gw *gw, const char *node, bool system, char *out,
           size_t len)
{
	snprintf(out, len, "%s.node.%s.%s.%s", gw->gw_conf->gw_prefix, node,
	         system ? "ctl" : "usr", gw->gw_conf->gw_node);
}

static void
on_disconnected(natsConnection *nc, void *closure)
{
	struct gw *gw = closure;

	(void)nc;
	if (atomic_load(&gw->gw_closing))
		return;
	/* Frames may be lost from now on: the other nodes count as lost
	 * (monitors get noconnection) until they are heard again. */
	gw_nodes_forget(&gw->gw_nodes);
	gw_log(gw, "disconnected from NATS; reconnecting");
}

static void
on_reconnected(natsConnection *nc, void *closure)
{
	char url[256] = "";

	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	atomic_store(&((struct gw *)closure)->gw_resync, true);
	gw_log(closure, "reconnected to %s", url);
}

/* natsOptions from [gateway]; NATS_OK or the failing call's status.
 * 'asap': write each publish at once (the control connection). */
static natsStatus
make_options(struct gw *gw, bool asap, natsOptions **out)
{
	const struct rd_gateway *g = gw->gw_conf;
	const char *urls[RD_GW_URLS_MAX];
	natsOptions *o = NULL;
	natsStatus s;
	bool tls = g->gw_tls_ca[0] != '\0';

	for (int i = 0; i < g->gw_nurls; i++) {
		urls[i] = g->gw_urls[i];
		tls |= strncmp(urls[i], "tls://", 6) == 0;
	}
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, urls, g->gw_nurls);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, g->gw_node);
	if (s == NATS_OK && g->gw_user[0] != '\0')
		s = natsOptions_SetUserInfo(o, g->gw_user, g->gw_password);
	if (s == NATS_OK && g->gw_creds[0] != '\0')
		s = natsOptions_SetUserCredentialsFromFiles(o, g->gw_creds,
		                                            NULL);
	if (s == NATS_OK && tls)
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && g->gw_tls_ca[0] != '\0')
		s = natsOptions_LoadCATrustedCertificates(o, g->gw_tls_ca);
	if (s == NATS_OK && g->gw_tls_cert[0] != '\0')
		s = natsOptions_LoadCertificatesChain(o, g->gw_tls_cert,
		                                      g->gw_tls_key);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetSendAsap(o, asap);
	/* Once connected, reconnect for ever, quickly: the node table
	 * tells senders a peer is gone while this is retried. */
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 100);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, gw);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, gw);
	if (s != NATS_OK)
		natsOptions_Destroy(o);
	else
		*out = o;
	return s;
}

/* Subscribe 'subject' on 'nc' with 'cb'; no pending limit in the
 * client (the delivering thread waits for room in local mailboxes;
 * dropping there would lose messages silently). */
static natsStatus
subscribe(struct gw *gw, natsConnection *nc, int i, const char *subject,
          natsMsgHandler cb)
{
	natsStatus s;

	s = natsConnection_Subscribe(&gw->gw_sub[i], nc, subject, cb, gw);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(gw->gw_sub[i], -1, -1);
	return s;
}

static natsStatus
connect_one(struct gw *gw, bool asap, natsConnection **nc)
{
	natsOptions *o = NULL;
	natsStatus s = make_options(gw, asap, &o);

	if (s == NATS_OK) {
		s = natsConnection_Connect(nc, o);
		natsOptions_Destroy(o);
	}
	return s;
}

int
gw_link_connect(struct gw *gw, char *why, size_t len)
{
	natsStatus s;
	const char *text;

	s = connect_one(gw, false, &gw->gw_nc_usr);
	if (s == NATS_OK)
		s = connect_one(gw, true, &gw->gw_nc_ctl);
	/* Before any subscription: its delivering thread publishes too,
	 * and reads this. */
	if (s == NATS_OK)
		gw->gw_max_payload = natsConnection_GetMaxPayload(gw->gw_nc_usr);
	if (s == NATS_OK)
		s = subscribe(gw, gw->gw_nc_ctl, 0, gw->gw_subj_nodes,
		              gw_on_nodes);
	if (s == NATS_OK)
		s = subscribe(gw, gw->gw_nc_usr, 1, gw->gw_subj_usr, gw_on_usr);
	if (s == NATS_OK)
		s = subscribe(gw, gw->gw_nc_ctl, 2, gw->gw_subj_ctl, gw_on_ctl);
	if (s == NATS_OK)
		s = natsConnection_Flush(gw->gw_nc_usr);
	if (s == NATS_OK)
		s = natsConnection_Flush(gw->gw_nc_ctl);
	if (s == NATS_OK)
		return 0;
	text = nats_GetLastError(NULL);
	snprintf(why, len, "%s%s%s", natsStatus_GetText(s),
	         text != NULL && text[0] != '\0' ? ": " : "",
	         text != NULL ? text : "");
	gw_link_close(gw);
	return -ENOTCONN;
}

void
gw_link_close(struct gw *gw)
{
	atomic_store(&gw->gw_closing, true);
	for (int i = 0; i < 3; i++) {
		natsSubscription_Destroy(gw->gw_sub[i]);
		gw->gw_sub[i] = NULL;
	}
	natsConnection_Destroy(gw->gw_nc_usr);
	natsConnection_Destroy(gw->gw_nc_ctl);
	gw->gw_nc_usr = NULL;
	gw->gw_nc_ctl = NULL;
}

bool
gw_link_ready(struct gw *gw)
{
	return gw->gw_nc_usr != NULL && !atomic_load(&gw->gw_resync) &&
	       natsConnection_Status(gw->gw_nc_usr) ==
	               NATS_CONN_STATUS_CONNECTED &&
	       natsConnection_Status(gw->gw_nc_ctl) ==
	               NATS_CONN_STATUS_CONNECTED;
}

void
gw_link_resync(struct gw *gw)
{
	if (gw->gw_nc_usr == NULL || !atomic_load(&gw->gw_resync) ||
	    natsConnection_Status(gw->gw_nc_usr) != NATS_CONN_STATUS_CONNECTED ||
	    natsConnection_Status(gw->gw_nc_ctl) != NATS_CONN_STATUS_CONNECTED)
		return;
	atomic_store(&gw->gw_resync, false);
	if (natsConnection_FlushTimeout(gw->gw_nc_usr, GW_FLUSH_MS) != NATS_OK ||
	    natsConnection_FlushTimeout(gw->gw_nc_ctl, GW_FLUSH_MS) != NATS_OK) {
		atomic_store(&gw->gw_resync, true); /* next beat */
		return;
	}
	gw_say_hello(gw);
}

int
gw_publish(struct gw *gw, const char *subject, const struct gw_frame *f,
           uint8_t *buf, size_t cap)
{
	bool user = f->fr_type == GW_MSG && !(f->fr_flags & GW_F_SYSTEM);
	int n;

	if ((int64_t)GW_WIRE_HEAD + f->fr_size > gw->gw_max_payload)
		return -EMSGSIZE;
	n = gw_wire_encode(f, buf, cap);
	if (n < 0)
		return n;
	return gw_publish_bytes(gw, subject, buf, (size_t)n, user);
}

int
gw_publish_bytes(struct gw *gw, const char *subject, const uint8_t *buf,
                 size_t n, bool user)
{
	if (natsConnection_Publish(user ? gw->gw_nc_usr : gw->gw_nc_ctl,
	                           subject, buf, (int)n) != NATS_OK)
		return -ENOTCONN;
	if (user) /* only the forwarding loop publishes user frames */
		gw->gw_usr_unflushed = true;
	atomic_fetch_add(&gw->gw_sent, 1);
	return 0;
}
