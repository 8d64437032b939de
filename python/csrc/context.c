/* SPDX-License-Identifier: MIT */
/*
 * context.c - roost.Context: opening and closing a mailbox, and the hot
 * path (send, call, reply, receive) with the GIL released while it
 * blocks. The other verbs are in control.c, the actor loop in run.c.
 */
#include "_roost.h"

#include <pthread.h>
#include <pythread.h>
#include <time.h>

/* Blocking receives wait in slices this long, checking for Ctrl-C
 * between them (an idle receiver wakes 10 times a second). */
#define RECV_SLICE_MS 100

unsigned roostpy_fork_gen;

static void
fork_child(void)
{
	roostpy_fork_gen++;
}

int
roostpy_fork_watch(void)
{
	if (pthread_atfork(NULL, NULL, fork_child) == 0)
		return 0;
	PyErr_NoMemory(); /* its only failure */
	return -1;
}

int
roostpy_ctx_usable(roostpy_ctx_t *self)
{
	if (self->cx_ctx == NULL) {
		roostpy_raise(-EBADF, "context");
		return -1;
	}
	if (self->cx_fork_gen != roostpy_fork_gen) {
		PyErr_SetString(PyExc_RuntimeError, "this roost.Context was "
		                "opened by the parent process; open a new one "
		                "after fork");
		return -1;
	}
	if (self->cx_owner != PyThread_get_thread_ident()) {
		PyErr_SetString(PyExc_RuntimeError, "a roost.Context belongs "
		                "to the thread that opened it; open one per "
		                "thread");
		return -1;
	}
	if (self->cx_in_match) {
		PyErr_SetString(PyExc_RuntimeError, "a receive predicate may "
		                "not use its context");
		return -1;
	}
	return 0;
}

static PyObject *
ctx_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"system", "name", "mailbox_bytes", "from_env",
	                         NULL};
	PyObject *system = Py_None;
	PyObject *name = Py_None;
	PyObject *mbox_bytes = NULL;
	int from_env = 0;
	roost_ctx_opts_t o;
	roostpy_ctx_t *self;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO$Op:Context", kwlist,
	                                 &system, &name, &mbox_bytes,
	                                 &from_env))
		return NULL;
	roost_ctx_opts_init(&o);
	if (roostpy_u32_arg(mbox_bytes, "mailbox_bytes", &o.mbox_bytes) < 0)
		return NULL;
	if (from_env && (rc = roost_ctx_opts_from_env(&o)) < 0)
		return roostpy_raise(rc, "open");
	if (system != Py_None) {
		if (!PyUnicode_Check(system))
			return PyErr_Format(PyExc_TypeError, "system must be a "
			                    "str or None");
		if ((o.system = PyUnicode_AsUTF8(system)) == NULL)
			return NULL;
	}
	if (name != Py_None && roostpy_name(name, &o.name) < 0)
		return NULL;
	self = (roostpy_ctx_t *)type->tp_alloc(type, 0);
	if (self == NULL)
		return NULL;
	if ((self->cx_pack = roostpy_packer_new()) == NULL) {
		Py_DECREF(self);
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS
	rc = roost_ctx_open(&self->cx_ctx, &o);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		self->cx_ctx = NULL;
		Py_DECREF(self);
		return roostpy_raise(rc, "open");
	}
	self->cx_owner = PyThread_get_thread_ident();
	self->cx_fork_gen = roostpy_fork_gen;
	self->cx_recv_seq = 1;
	return (PyObject *)self;
}

/* Close the mailbox. A borrowed context (a one-shot's) is only
 * forgotten: the library closes it when the function returns; so is a
 * copy inherited across fork, which is the parent's to close. */
static int
ctx_close_now(roostpy_ctx_t *self)
{
	roost_ctx_t *ctx = self->cx_ctx;
	int rc = 0;

	self->cx_ctx = NULL;
	self->cx_recv_seq++; /* no Message may be replied to any more */
	if (ctx != NULL && !self->cx_borrowed &&
	    self->cx_fork_gen == roostpy_fork_gen)
		rc = roost_ctx_close(ctx);
	return rc;
}

static void
ctx_dealloc(PyObject *self)
{
	ctx_close_now((roostpy_ctx_t *)self);
	Py_CLEAR(((roostpy_ctx_t *)self)->cx_pack);
	Py_TYPE(self)->tp_free(self);
}

static PyObject *
ctx_close(PyObject *self, PyObject *unused)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;

	(void)unused;
	if (cx->cx_ctx == NULL || cx->cx_fork_gen != roostpy_fork_gen) {
		ctx_close_now(cx); /* twice is fine, as for files */
		Py_RETURN_NONE;
	}
	if (roostpy_ctx_usable(cx) < 0)
		return NULL;
	return roostpy_none_or_raise(ctx_close_now(cx), "close");
}

/* Forget the mailbox without closing it, in a process about to exit
 * after a crash: a supervised actor's address and queue then wait for
 * roostd's restart (a close would give them up). The library's memory
 * goes with the process. */
static PyObject *
ctx_abandon(PyObject *self, PyObject *unused)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;

	(void)unused;
	cx->cx_ctx = NULL;
	cx->cx_recv_seq++;
	Py_RETURN_NONE;
}

static PyObject *
ctx_enter(PyObject *self, PyObject *unused)
{
	(void)unused;
	if (roostpy_ctx_usable((roostpy_ctx_t *)self) < 0)
		return NULL;
	return Py_NewRef(self);
}

static PyObject *
ctx_exit(PyObject *self, PyObject *args)
{
	(void)args;
	return ctx_close(self, NULL);
}

static PyObject *
ctx_address(PyObject *self, void *closure)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;

	(void)closure;
	if (roostpy_ctx_usable(cx) < 0)
		return NULL;
	return roostpy_address_new(roost_self(cx->cx_ctx).id);
}

static PyObject *
ctx_closed(PyObject *self, void *closure)
{
	(void)closure;
	return PyBool_FromLong(((roostpy_ctx_t *)self)->cx_ctx == NULL);
}

int
roostpy_resolve(roostpy_ctx_t *self, PyObject *to, roost_aid_t *out)
{
	const char *name;
	int rc;

	if (!PyUnicode_Check(to))
		return roostpy_aid(to, out);
	if (roostpy_name(to, &name) < 0)
		return -1;
	rc = roost_whereis(self->cx_ctx, name, out);
	if (rc < 0) {
		roostpy_raise(rc, "whereis");
		return -1;
	}
	return 0;
}

int
roostpy_outgoing_init(roostpy_ctx_t *cx, PyObject *to, PyObject *body,
                      PyObject *kind, struct roostpy_outgoing *og)
{
	og->og_kind = 0;
	og->og_to = ROOST_AID_NONE;
	if ((kind != NULL && roostpy_kind(kind, &og->og_kind) < 0) ||
	    (to != NULL && roostpy_resolve(cx, to, &og->og_to) < 0))
		return -1;
	og->og_enc = roostpy_encode(cx->cx_pack, body, &og->og_buf,
	                            &og->og_flags);
	return og->og_enc == NULL ? -1 : 0;
}

void
roostpy_outgoing_release(struct roostpy_outgoing *og)
{
	PyBuffer_Release(&og->og_buf);
	Py_DECREF(og->og_enc);
}

static PyObject *
ctx_send(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"to", "body", "kind", "timeout", "system",
	                         NULL};
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	PyObject *to;
	PyObject *body = Py_None;
	PyObject *kind = NULL;
	PyObject *timeout = Py_None;
	struct roostpy_outgoing og;
	int system_lane = 0;
	int timeout_ms;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO$Op:send", kwlist, &to,
	                                 &body, &kind, &timeout,
	                                 &system_lane) ||
	    roostpy_ctx_usable(cx) < 0 ||
	    roostpy_timeout_ms(timeout, &timeout_ms) < 0 ||
	    roostpy_outgoing_init(cx, to, body, kind, &og) < 0)
		return NULL;
	if (system_lane)
		og.og_flags |= ROOST_SEND_SYSTEM;
	if (timeout_ms == 0) { /* never waits: keep the GIL */
		rc = roost_send_ex(cx->cx_ctx, og.og_to, og.og_kind,
		                   og.og_flags, 0, og.og_buf.buf,
		                   (size_t)og.og_buf.len, 0);
	} else {
		Py_BEGIN_ALLOW_THREADS
		rc = roost_send_ex(cx->cx_ctx, og.og_to, og.og_kind,
		                   og.og_flags, 0, og.og_buf.buf,
		                   (size_t)og.og_buf.len, timeout_ms);
		Py_END_ALLOW_THREADS
	}
	roostpy_outgoing_release(&og);
	return roostpy_none_or_raise(rc, "send");
}

static PyObject *
ctx_call(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"to", "body", "kind", "timeout", NULL};
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	PyObject *to;
	PyObject *body = Py_None;
	PyObject *kind = NULL;
	PyObject *timeout = NULL;
	struct roostpy_outgoing og;
	roost_msg_t *reply;
	int timeout_ms = 5000; /* a call waits 5 s unless told */
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO$O:call", kwlist, &to,
	                                 &body, &kind, &timeout) ||
	    roostpy_ctx_usable(cx) < 0 ||
	    (timeout != NULL && roostpy_timeout_ms(timeout, &timeout_ms) < 0) ||
	    roostpy_outgoing_init(cx, to, body, kind, &og) < 0)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = roost_call(cx->cx_ctx, og.og_to, og.og_kind, og.og_flags,
	                og.og_buf.buf, (size_t)og.og_buf.len, timeout_ms,
	                &reply);
	Py_END_ALLOW_THREADS
	roostpy_outgoing_release(&og);
	if (rc < 0)
		return roostpy_raise(rc, "call");
	return roostpy_msg_new(cx, reply, 0); /* a copy: never answerable */
}

static PyObject *
ctx_reply(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"request", "body", "kind", NULL};
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	roostpy_msg_t *req;
	PyObject *body = Py_None;
	PyObject *kind = NULL;
	struct roostpy_outgoing og;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O!|OO:reply", kwlist,
	                                 &roostpy_msg_type, &req, &body,
	                                 &kind) ||
	    roostpy_ctx_usable(cx) < 0)
		return NULL;
	/* roost_reply reads the request's view, which the next receive on
	 * this context ends (a call or a receive_aside keeps it). */
	if (req->ms_ctx != cx || req->ms_seq != cx->cx_recv_seq)
		return PyErr_Format(PyExc_ValueError, "a request can be "
		                    "answered only by its context and before "
		                    "its next receive");
	if (roostpy_outgoing_init(cx, NULL, body, kind, &og) < 0)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = roost_reply(cx->cx_ctx, req->ms_view, og.og_kind, og.og_flags,
	                 og.og_buf.buf, (size_t)og.og_buf.len);
	Py_END_ALLOW_THREADS
	roostpy_outgoing_release(&og);
	return roostpy_none_or_raise(rc, "reply");
}

/* What the C predicate needs to call the Python one. */
struct match_state {
	roostpy_ctx_t *ms_self;
	PyObject *ms_pred;
	PyThreadState *ms_ts;   /* saved when the GIL was released */
	bool ms_failed;         /* the predicate raised; its error is set */
};

static bool
match_py(const roost_msg_t *m, void *arg)
{
	struct match_state *st = arg;
	PyObject *msg;
	PyObject *r = NULL;
	int take = 0;

	if (st->ms_failed)
		return false;
	PyEval_RestoreThread(st->ms_ts);
	st->ms_self->cx_in_match = true;
	msg = roostpy_msg_new(st->ms_self, m, 0);
	if (msg != NULL)
		r = PyObject_CallOneArg(st->ms_pred, msg);
	if (r != NULL)
		take = PyObject_IsTrue(r);
	st->ms_self->cx_in_match = false;
	Py_XDECREF(r);
	Py_XDECREF(msg);
	if (take < 0 || r == NULL) {
		/* Keep the exception (it stays in this thread's state) and
		 * end the wait: the receive returns -EINTR. */
		st->ms_failed = true;
		roost_ctx_interrupt(st->ms_self->cx_ctx);
		take = 0;
	}
	st->ms_ts = PyEval_SaveThread();
	return take == 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One wait of at most 'slice_ms', with the GIL released. */
static int
recv_slice(roostpy_ctx_t *self, unsigned lanes, struct match_state *st,
           roost_msg_t **m, int slice_ms)
{
	int rc;

	st->ms_ts = PyEval_SaveThread();
	if (st->ms_pred != NULL)
		rc = roost_recv_match(self->cx_ctx, m, lanes, match_py, st,
		                      slice_ms);
	else if (lanes == ROOST_LANE_ANY)
		rc = roost_recv(self->cx_ctx, m, slice_ms);
	else
		rc = roost_recv_match(self->cx_ctx, m, lanes, NULL, NULL,
		                      slice_ms);
	PyEval_RestoreThread(st->ms_ts);
	return rc;
}

const roost_msg_t *
roostpy_ctx_recv(roostpy_ctx_t *self, unsigned lanes, PyObject *match,
                 int timeout_ms)
{
	struct match_state st = {self, match, NULL, false};
	int64_t deadline = -1; /* read the clock only once a wait failed */
	int64_t left;
	roost_msg_t *m = NULL;
	int slice = timeout_ms < 0 || timeout_ms > RECV_SLICE_MS
	                    ? RECV_SLICE_MS : timeout_ms;
	int rc;

	/* Any receive ends the view of the message in hand, even one that
	 * takes nothing: from here on it may not be replied to. */
	self->cx_recv_seq++;
	for (;;) {
		rc = recv_slice(self, lanes, &st, &m, slice);
		if (st.ms_failed)
			return NULL;
		if (rc >= 0)
			break;
		if (rc != -ETIMEDOUT && rc != -EAGAIN && rc != -EINTR) {
			roostpy_raise(rc, "receive");
			return NULL;
		}
		if (PyErr_CheckSignals() < 0)
			return NULL; /* KeyboardInterrupt, say */
		if (timeout_ms < 0)
			continue;
		if (timeout_ms == 0) { /* never waits: -EAGAIN, as in C */
			roostpy_raise(-EAGAIN, "receive");
			return NULL;
		}
		if (deadline < 0)
			deadline = now_ms() + timeout_ms - slice;
		left = deadline - now_ms();
		if (left <= 0) {
			roostpy_raise(-ETIMEDOUT, "receive");
			return NULL;
		}
		slice = left > RECV_SLICE_MS ? RECV_SLICE_MS : (int)left;
	}
	return m;
}

static bool
match_none(const roost_msg_t *m, void *arg)
{
	(void)m;
	(void)arg;
	return false;
}

/* End the message in hand (it counts as handled: a process that dies
 * now does not get it back) without taking another: a receive that
 * takes nothing. */
static PyObject *
ctx_release(PyObject *self, PyObject *unused)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	roost_msg_t *m;
	int rc;

	(void)unused;
	if (roostpy_ctx_usable(cx) < 0)
		return NULL;
	rc = roost_recv_match(cx->cx_ctx, &m, ROOST_LANE_ANY, match_none, NULL,
	                      0);
	cx->cx_recv_seq++;
	return roostpy_none_or_raise(rc == -EAGAIN ? 0 : rc, "release");
}

static PyObject *
ctx_receive(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"timeout", "match", "lanes", NULL};
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	PyObject *timeout = Py_None;
	PyObject *match = Py_None;
	PyObject *lanesobj = NULL;
	uint32_t lanes = ROOST_LANE_ANY;
	const roost_msg_t *m;
	int timeout_ms;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$OO:receive", kwlist,
	                                 &timeout, &match, &lanesobj) ||
	    roostpy_ctx_usable(cx) < 0 ||
	    roostpy_u32_arg(lanesobj, "lanes", &lanes) < 0 ||
	    roostpy_timeout_ms(timeout, &timeout_ms) < 0)
		return NULL;
	if (match != Py_None && !PyCallable_Check(match))
		return PyErr_Format(PyExc_TypeError, "match must be callable");
	if (lanes == 0 || (lanes & ~ROOST_LANE_ANY) != 0)
		return PyErr_Format(PyExc_ValueError, "lanes must be "
		                    "LANE_SYSTEM, LANE_USER or both");
	m = roostpy_ctx_recv(cx, lanes, match == Py_None ? NULL : match,
	                     timeout_ms);
	if (m == NULL)
		return NULL;
	return roostpy_msg_new(cx, m, cx->cx_recv_seq);
}

PyMethodDef roostpy_ctx_core_methods[] = {
	{"close", ctx_close, METH_NOARGS,
	 "close()\n--\n\nClose the mailbox: later sends to it fail with "
	 "NoSuchActor, what it held is discarded. Closing twice is fine."},
	{"__enter__", ctx_enter, METH_NOARGS, NULL},
	{"__exit__", ctx_exit, METH_VARARGS, NULL},
	{"send", (PyCFunction)(void (*)(void))ctx_send,
	 METH_VARARGS | METH_KEYWORDS,
	 "send(to, body=None, kind=0, *, timeout=None, system=False)\n--\n\n"
	 "Copy 'body' into the mailbox of 'to' (an Address, a Ref or a "
	 "name). bytes-like bodies go raw, anything else as MessagePack. "
	 "A full mailbox waits up to 'timeout' seconds (None: as long as it "
	 "stays full; 0: never), then raises MailboxFull."},
	{"call", (PyCFunction)(void (*)(void))ctx_call,
	 METH_VARARGS | METH_KEYWORDS,
	 "call(to, body=None, kind=0, *, timeout=5.0)\n--\n\n"
	 "Send a request and return its answer (a Message), waiting up to "
	 "'timeout' seconds (Timeout if none came). The GIL is released "
	 "while it waits."},
	{"reply", (PyCFunction)(void (*)(void))ctx_reply,
	 METH_VARARGS | METH_KEYWORDS,
	 "reply(request, body=None, kind=0)\n--\n\nAnswer a request "
	 "received by call(), before this context's next receive."},
	{"receive", (PyCFunction)(void (*)(void))ctx_receive,
	 METH_VARARGS | METH_KEYWORDS,
	 "receive(timeout=None, *, match=None, lanes=3)\n--\n\n"
	 "Returns the oldest message (system lane first) for which "
	 "match(message) is true; the others stay queued in order. Waits "
	 "up to 'timeout' seconds (None: forever), then raises Timeout. "
	 "The GIL is released while it waits; Ctrl-C interrupts it."},
	{"_run", roostpy_ctx_run, METH_VARARGS, NULL},
	{"_release", ctx_release, METH_NOARGS, NULL},
	{"_abandon", ctx_abandon, METH_NOARGS, NULL},
	{"_spawn_fn", (PyCFunction)(void (*)(void))roostpy_ctx_spawn_fn,
	 METH_VARARGS | METH_KEYWORDS, NULL},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef ctx_getset[] = {
	{"address", ctx_address, NULL, "This context's own Address.", NULL},
	{"closed", ctx_closed, NULL, "True once closed.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject roostpy_ctx_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "roost._roost.Context",
	.tp_doc = PyDoc_STR("A mailbox on a roost system, owned by the "
	                    "thread that opened it."),
	.tp_basicsize = sizeof(roostpy_ctx_t),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_new = ctx_new,
	.tp_dealloc = ctx_dealloc,
	.tp_getset = ctx_getset,
};
