/* SPDX-License-Identifier: MIT */
/*
 * run.c - an actor's loop in C: roost_run over a table of the kinds a
 * Python Actor handles, each dispatched to a Python callable with the GIL
 * taken for the handler only. Unknown user kinds go to the dead letters
 * (roost_run's rule). For the run on the main thread (signals are the
 * main thread's business in Python), SIGTERM and SIGINT become a graceful
 * stop of oneself: the backlog queued before it is handled, then the run
 * returns. Runs on other threads leave signals alone. Also the one-shot
 * spawn of a Python callable.
 */
#include "_roost.h"

#include <pythread.h>
#include <signal.h>
#include <string.h>

/* What the C handler needs. */
struct run_state {
	roostpy_ctx_t *rs_self;
	PyObject *rs_dispatch;  /* {kind: callable(Message) -> complete?} */
	PyThreadState *rs_ts;   /* saved while roost_run waits */
	bool rs_failed;         /* a handler raised; its error is kept */
	PyObject *rs_exc[3];    /* that error (type, value, traceback) */
};

/* The context of the main thread's run, for the signal handler. */
static roost_ctx_t *volatile running_ctx;
static unsigned long main_thread;
static volatile sig_atomic_t stop_requested;

static void
on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
	if (running_ctx != NULL)
		roost_ctx_interrupt(running_ctx); /* async-signal-safe */
}

static int
run_handler(roost_ctx_t *ctx, void *arg, const roost_msg_t *m)
{
	struct run_state *st = arg;
	roostpy_ctx_t *self = st->rs_self;
	PyObject *key;
	PyObject *fn;
	PyObject *msg = NULL;
	PyObject *r = NULL;
	int rc = ROOST_CONTINUE;

	(void)ctx;
	PyEval_RestoreThread(st->rs_ts);
	self->cx_recv_seq++; /* 'm' is the view the handler may reply to */
	key = PyLong_FromUnsignedLong(roost_msg_kind(m));
	fn = key != NULL ? PyDict_GetItemWithError(st->rs_dispatch, key) : NULL;
	Py_XDECREF(key);
	if (fn != NULL)
		msg = roostpy_msg_new(self, m, self->cx_recv_seq);
	if (msg != NULL)
		r = PyObject_CallOneArg(fn, msg);
	if (r == NULL) {
		if (!PyErr_Occurred()) /* a kind the table has and the dict not */
			PyErr_SetString(PyExc_RuntimeError, "no handler");
		PyErr_Fetch(&st->rs_exc[0], &st->rs_exc[1], &st->rs_exc[2]);
		st->rs_failed = true;
		rc = -ECANCELED;
	} else if (PyObject_IsTrue(r) == 1) {
		rc = ROOST_COMPLETE;
	}
	Py_XDECREF(r);
	Py_XDECREF(msg);
	self->cx_recv_seq++; /* the view ends with the handler */
	st->rs_ts = PyEval_SaveThread();
	return rc;
}

/* The handler table from the dispatch dict's keys; PyMem_Free it. */
static roost_handler_t *
handler_table(PyObject *dispatch)
{
	Py_ssize_t n = PyDict_Size(dispatch);
	Py_ssize_t pos = 0;
	Py_ssize_t i = 0;
	roost_handler_t *t;
	PyObject *key;
	PyObject *val;

	t = PyMem_Calloc((size_t)n + 1, sizeof(*t));
	if (t == NULL)
		return (roost_handler_t *)PyErr_NoMemory();
	while (PyDict_Next(dispatch, &pos, &key, &val)) {
		unsigned long kind = PyLong_AsUnsignedLong(key);

		if ((kind == (unsigned long)-1 && PyErr_Occurred()) ||
		    kind > UINT32_MAX || !PyCallable_Check(val)) {
			PyErr_Clear();
			PyErr_SetString(PyExc_TypeError, "dispatch maps int "
			                "kinds to callables");
			PyMem_Free(t);
			return NULL;
		}
		t[i].kind = (uint32_t)kind;
		t[i].fn = run_handler;
		i++;
	}
	return t; /* ended by the zeroed entry */
}

/* roost_run until it ends; a stop signal turns into roost_stop(self) and
 * the run goes on to drain. */
static int
run_until_end(roostpy_ctx_t *self, const roost_behaviour_t *b,
              struct run_state *st)
{
	int rc;

	for (;;) {
		st->rs_ts = PyEval_SaveThread();
		rc = roost_run(self->cx_ctx, b, st);
		PyEval_RestoreThread(st->rs_ts);
		if (rc != -EINTR || st->rs_failed)
			return rc;
		if (stop_requested && running_ctx == self->cx_ctx) {
			stop_requested = 0;
			rc = roost_stop(self->cx_ctx, roost_self(self->cx_ctx));
			if (rc < 0 && rc != -EALREADY)
				return rc;
		} else if (PyErr_CheckSignals() < 0) {
			return -ECANCELED;
		}
	}
}

int
roostpy_run_init(void)
{
	PyObject *threading = PyImport_ImportModule("threading");
	PyObject *main = NULL;
	PyObject *ident = NULL;

	if (threading != NULL)
		main = PyObject_CallMethod(threading, "main_thread", NULL);
	if (main != NULL)
		ident = PyObject_GetAttrString(main, "ident");
	if (ident != NULL)
		main_thread = PyLong_AsUnsignedLong(ident);
	Py_XDECREF(ident);
	Py_XDECREF(main);
	Py_XDECREF(threading);
	return PyErr_Occurred() ? -1 : 0;
}

PyObject *
roostpy_ctx_run(PyObject *obj, PyObject *args)
{
	roostpy_ctx_t *self = (roostpy_ctx_t *)obj;
	struct run_state st = {self, NULL, NULL, false, {NULL, NULL, NULL}};
	struct sigaction sa;
	struct sigaction old_term;
	struct sigaction old_int;
	roost_behaviour_t b;
	bool on_main = PyThread_get_thread_ident() == main_thread;
	int rc;

	if (!PyArg_ParseTuple(args, "O!:_run", &PyDict_Type, &st.rs_dispatch) ||
	    roostpy_ctx_usable(self) < 0)
		return NULL;
	if (on_main && running_ctx != NULL)
		return PyErr_Format(PyExc_RuntimeError, "an actor loop runs "
		                    "on this thread already");
	memset(&b, 0, sizeof(b));
	b.handlers = handler_table(st.rs_dispatch);
	if (b.handlers == NULL)
		return NULL;
	if (on_main) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop_signal;
		sigemptyset(&sa.sa_mask);
		running_ctx = self->cx_ctx;
		stop_requested = 0;
		sigaction(SIGTERM, &sa, &old_term);
		sigaction(SIGINT, &sa, &old_int);
	}
	rc = run_until_end(self, &b, &st);
	if (on_main) {
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGINT, &old_int, NULL);
		running_ctx = NULL;
	}
	PyMem_Free((void *)b.handlers);
	if (st.rs_failed) {
		PyErr_Restore(st.rs_exc[0], st.rs_exc[1], st.rs_exc[2]);
		return NULL;
	}
	if (rc == -ECANCELED && PyErr_Occurred())
		return NULL;
	return roostpy_none_or_raise(rc, "run");
}

/* What the one-shot's process needs: the callable, and the type of
 * context to hand it (the caller's own, roost.Context). */
struct oneshot {
	PyObject *os_fn;
	PyTypeObject *os_type;
};

/* In the one-shot's process (a fork of the caller, GIL held as it was at
 * the fork): run the Python callable on a borrowed Context. */
static int
oneshot_py(roost_ctx_t *ctx, void *arg)
{
	const struct oneshot *os = arg;
	roostpy_ctx_t *cx;
	PyObject *r = NULL;
	int status = 1;

	PyOS_AfterFork_Child();
	cx = (roostpy_ctx_t *)os->os_type->tp_alloc(os->os_type, 0);
	if (cx != NULL && (cx->cx_pack = roostpy_packer_new()) != NULL) {
		cx->cx_ctx = ctx;
		cx->cx_borrowed = true;
		cx->cx_fork_gen = roostpy_fork_gen;
		cx->cx_owner = PyThread_get_thread_ident();
		cx->cx_recv_seq = 1;
		r = PyObject_CallOneArg(os->os_fn, (PyObject *)cx);
		cx->cx_ctx = NULL; /* the library closes it after we return */
	}
	Py_XDECREF(cx);
	if (r == NULL)
		PyErr_Print();
	else if (r == Py_None)
		status = 0;
	else if (PyLong_Check(r))
		status = (int)(PyLong_AsLong(r) & 0xff);
	Py_XDECREF(r);
	/* The process ends with _exit: flush what Python buffered. */
	r = PyObject_CallMethod(PySys_GetObject("stdout"), "flush", NULL);
	Py_XDECREF(r);
	r = PyObject_CallMethod(PySys_GetObject("stderr"), "flush", NULL);
	Py_XDECREF(r);
	PyErr_Clear();
	return status;
}

PyObject *
roostpy_ctx_spawn_fn(PyObject *obj, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"fn", "name", "daemon", NULL};
	roostpy_ctx_t *self = (roostpy_ctx_t *)obj;
	struct oneshot os = {NULL, Py_TYPE(obj)};
	PyObject *name = Py_None;
	const char *cname = NULL;
	int daemon = 0;
	roost_aid_t aid;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$p:_spawn_fn", kwlist,
	                                 &os.os_fn, &name, &daemon) ||
	    roostpy_ctx_usable(self) < 0 ||
	    (name != Py_None && roostpy_name(name, &cname) < 0))
		return NULL;
	if (!PyCallable_Check(os.os_fn))
		return PyErr_Format(PyExc_TypeError, "fn must be callable");
	/* The GIL stays held across the fork, so the child has it; the
	 * parent waits only for the child to attach. */
	PyOS_BeforeFork();
	rc = roost_spawn_fn(self->cx_ctx, oneshot_py, &os, cname,
	                    daemon ? ROOST_SPAWN_DAEMON : 0, &aid);
	PyOS_AfterFork_Parent();
	if (rc < 0)
		return roostpy_raise(rc, "spawn");
	return roostpy_address_new(aid.id);
}
