/* SPDX-License-Identifier: MIT */
/*
 * run.c - roost_run: the dispatch loop of an actor written as a table of
 * handlers over private state, with graceful completion and dead letters
 * for kinds nobody handles.
 */
#include "core/sup/sup.h"

static roost_handler_fn
find_handler(const roost_behaviour_t *b, uint32_t kind)
{
	const roost_handler_t *h;

	for (h = b->handlers; h != NULL && h->fn != NULL; h++)
		if (h->kind == kind)
			return h->fn;
	return NULL;
}

/* A user message nobody handles: to the dead letters, never silently
 * lost. Counted either way. */
static void
unhandled(roost_ctx_t *ctx, const roost_msg_t *m)
{
	roost_aid_t dead;

	ctx->cx_unhandled++;
	if (roost_whereis(ctx, "deadletters", &dead) == 0)
		roost__send_dead_letter(ctx, dead, roost_self(ctx), "", m);
}

static int
dispatch(roost_ctx_t *ctx, const roost_behaviour_t *b, void *state,
         const roost_msg_t *m)
{
	roost_handler_fn fn = find_handler(b, roost_msg_kind(m));

	if (fn != NULL)
		return fn(ctx, state, m);
	if (roost_msg_flags(m) & ROOST_MSG_SYSTEM) {
		ctx->cx_unhandled++; /* a notice nobody asked to see */
		return ROOST_CONTINUE;
	}
	if (b->unknown != NULL)
		return b->unknown(ctx, state, m);
	unhandled(ctx, m);
	return ROOST_CONTINUE;
}

int
roost_run(roost_ctx_t *ctx, const roost_behaviour_t *b, void *state)
{
	bool draining = false;
	roost_msg_t *m;
	int rc;

	if (ctx == NULL || b == NULL)
		return -EINVAL;
	if (b->init != NULL) {
		rc = b->init(ctx, state);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		/* Draining: the user lane is shut, so -EAGAIN means everything
		 * queued before the stop has been handled. */
		rc = roost_recv(ctx, &m, draining ? 0 : -1);
		if (rc == -EAGAIN && draining) {
			rc = 0;
			break;
		}
		if (rc == ROOST_ECORRUPT)
			continue; /* damaged records were skipped and counted */
		if (rc < 0)
			break;
		if (roost_msg_kind(m) == ROOST_KIND_STOP &&
		    (roost_msg_flags(m) & ROOST_MSG_SYSTEM)) {
			draining = true;
			continue;
		}
		rc = dispatch(ctx, b, state, m);
		if (rc < 0)
			break;
		if (rc == ROOST_COMPLETE && !draining) {
			/* Shut our own user lane now; the STOP it sends us is
			 * taken above. roostd hears of it as a stop. */
			rc = roost_stop(ctx, roost_self(ctx));
			if (rc < 0 && rc != -EALREADY)
				break;
		}
	}
	if (b->stop != NULL)
		b->stop(ctx, state, rc);
	return rc;
}
