/* SPDX-License-Identifier: MIT */
/*
 * metrics_http.c - the optional HTTP endpoint ([metrics] listen; see
 * config_metrics.h): GET /metrics answers what `roostctl metrics`
 * prints, from the same formatter (metrics/expo.h), as Prometheus text
 * 0.0.4 or, when the Accept header asks for it, OpenMetrics 1.0.0.
 *
 * libmicrohttpd serves it from a thread of its own, which reads the
 * system through the view API like any tool: it never touches roostd's
 * state, takes no lock roostd takes, and roostd's loop never waits for
 * it. One polling thread serves every connection without blocking on
 * any (a scraper that sends nothing or reads nothing holds only its own
 * connection, until the idle timeout closes it), so the view it keeps
 * is used by that thread alone.
 */
#include "rd.h"
#include "expo.h"

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* An idle connection is closed after this long (seconds). */
#define IDLE_TIMEOUT_S 10u
/* Connections served at once; more wait in the listen queue. */
#define CONNECTIONS_MAX 64u

static struct MHD_Daemon *daemon_h;
static roost_view_t *view; /* the server thread's alone */
static const char *view_system;
static struct expo_actors per_actor;

static enum MHD_Result
answer_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	                                    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* One scrape into a new buffer of '*len' bytes (to free), or NULL with
 * why in 'err'. A view that failed is opened anew next time. */
static char *
scrape(enum expo_format fmt, size_t *len, char *err, size_t errlen)
{
	struct expo_scrape sc;
	char *buf = NULL;
	FILE *f;
	int rc;

	if (view == NULL) {
		rc = roost_view_open(&view, view_system);
		if (rc < 0) {
			view = NULL;
			snprintf(err, errlen, "cannot open system '%s': %s\n",
			         view_system, roost_strerror(rc));
			return NULL;
		}
	}
	rc = expo_collect(view, &sc);
	if (rc < 0) {
		expo_free(&sc);
		roost_view_close(view);
		view = NULL;
		snprintf(err, errlen, "cannot read system '%s': %s\n",
		         view_system, roost_strerror(rc));
		return NULL;
	}
	f = open_memstream(&buf, len);
	if (f != NULL) {
		expo_print(f, &sc, fmt, &per_actor);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	expo_free(&sc);
	if (buf == NULL)
		snprintf(err, errlen, "out of memory\n");
	return buf;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
           const char *method, const char *version, const char *upload,
           size_t *upload_size, void **con_cls)
{
	struct MHD_Response *r;
	enum expo_format fmt;
	enum MHD_Result rc;
	char err[160];
	size_t len = 0;
	char *body;

	(void)cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size != 0) {
		*upload_size = 0; /* a body is read and ignored */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		                   "only GET and HEAD\n");
	if (strcmp(url, "/metrics") != 0)
		return answer_text(conn, MHD_HTTP_NOT_FOUND,
		                   "roostd serves /metrics only\n");
	fmt = expo_format_for(MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
	body = scrape(fmt, &len, err, sizeof(err));
	if (body == NULL)
		return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, err);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        fmt == EXPO_OPENMETRICS
	                            ? EXPO_TYPE_OPENMETRICS
	                            : EXPO_TYPE_PROMETHEUS);
	rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* The port the listening socket got (the configured one, or the one
 * the kernel chose for port 0). */
static unsigned
bound_port(void)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	info = MHD_get_daemon_info(daemon_h, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL ||
	    getsockname(info->listen_fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int
rd_metrics_start(const char *system, const struct rd_metrics_cfg *mc)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
	sigset_t all, old;

	if (!mc->mc_enabled)
		return 0;
	view_system = system;
	per_actor = mc->mc_actors;
	if (mc->mc_addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* Its thread starts with every signal blocked: roostd's handlers
	 * run on the main thread alone. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	daemon_h = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
	    (const struct sockaddr *)&mc->mc_addr,
	    MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_LIMIT, CONNECTIONS_MAX, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (daemon_h == NULL) {
		rd_log(RD_ERR,
		       "metrics: cannot listen on %s (in use, or not "
		       "an address of this machine)",
		       mc->mc_listen);
		return -1;
	}
	/* The address as configured, with the port it got: tests (and
	 * operators) that asked for port 0 read it here. */
	rd_log(RD_INFO, "metrics: serving http://%.*s:%u/metrics",
	       (int)(strrchr(mc->mc_listen, ':') - mc->mc_listen),
	       mc->mc_listen, bound_port());
	return 0;
}

void
rd_metrics_stop(void)
{
	if (daemon_h != NULL)
		MHD_stop_daemon(daemon_h);
	daemon_h = NULL;
	roost_view_close(view);
	view = NULL;
}
