/* SPDX-License-Identifier: MIT */
/*
 * control.c - the Context verbs off the hot path: names, stopping and
 * killing, monitors and links, alarms, spawning programs and shutdown.
 * Those that ask roostd wait for its answer with the GIL released.
 */
#include "_roost.h"

/* Run 'expr' (an int-returning libroost call) with the GIL released;
 * raise for 'op' on a negative return. */
#define ROOSTPY_BLOCKING(rc, expr)                                           \
	do {                                                                 \
		Py_BEGIN_ALLOW_THREADS                                       \
		(rc) = (expr);                                               \
		Py_END_ALLOW_THREADS                                         \
	} while (0)

/* A verb on one address ('fmt' names it for PyArg), with the GIL
 * released: most ask roostd and wait for its answer. */
static PyObject *
address_verb(PyObject *self, PyObject *args, const char *fmt,
             const char *op, int (*verb)(roost_ctx_t *, roost_aid_t))
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	PyObject *to;
	roost_aid_t aid;
	int rc;

	if (!PyArg_ParseTuple(args, fmt, &to) || roostpy_ctx_usable(cx) < 0 ||
	    roostpy_resolve(cx, to, &aid) < 0)
		return NULL;
	ROOSTPY_BLOCKING(rc, verb(cx->cx_ctx, aid));
	return roostpy_none_or_raise(rc, op);
}

static PyObject *
ctx_register(PyObject *self, PyObject *arg)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	const char *name;
	int rc;

	if (roostpy_ctx_usable(cx) < 0 || roostpy_name(arg, &name) < 0)
		return NULL;
	rc = roost_register(cx->cx_ctx, name, roost_self(cx->cx_ctx));
	return roostpy_none_or_raise(rc, "register");
}

static PyObject *
ctx_unregister(PyObject *self, PyObject *arg)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	const char *name;
	int rc;

	if (roostpy_ctx_usable(cx) < 0 || roostpy_name(arg, &name) < 0)
		return NULL;
	rc = roost_unregister(cx->cx_ctx, name);
	return roostpy_none_or_raise(rc, "unregister");
}

static PyObject *
ctx_whereis(PyObject *self, PyObject *arg)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	roost_aid_t aid;

	if (roostpy_ctx_usable(cx) < 0 || roostpy_resolve(cx, arg, &aid) < 0)
		return NULL;
	return roostpy_address_new(aid.id);
}

static PyObject *
ctx_kind_register(PyObject *self, PyObject *args)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	PyObject *kindobj;
	const char *name;
	uint32_t kind;
	int rc;

	if (!PyArg_ParseTuple(args, "Os:kind_register", &kindobj, &name) ||
	    roostpy_ctx_usable(cx) < 0 || roostpy_kind(kindobj, &kind) < 0)
		return NULL;
	rc = roost_kind_register(cx->cx_ctx, kind, name);
	return roostpy_none_or_raise(rc, "kind_register");
}

static PyObject *
ctx_stop(PyObject *self, PyObject *args)
{
	return address_verb(self, args, "O:stop", "stop", roost_stop);
}

static PyObject *
ctx_kill(PyObject *self, PyObject *args)
{
	return address_verb(self, args, "O:kill", "kill", roost_kill);
}

static PyObject *
ctx_monitor(PyObject *self, PyObject *args)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	PyObject *to;
	roost_aid_t aid;
	uint64_t ref;
	int rc;

	if (!PyArg_ParseTuple(args, "O:monitor", &to) ||
	    roostpy_ctx_usable(cx) < 0 || roostpy_resolve(cx, to, &aid) < 0)
		return NULL;
	ROOSTPY_BLOCKING(rc, roost_monitor(cx->cx_ctx, aid, &ref));
	if (rc < 0)
		return roostpy_raise(rc, "monitor");
	return PyLong_FromUnsignedLongLong(ref);
}

/* A verb on one id (a monitor's ref, a timer's id), as address_verb. */
static PyObject *
id_verb(PyObject *self, PyObject *args, const char *fmt, const char *op,
        int (*verb)(roost_ctx_t *, uint64_t))
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	unsigned long long id;
	int rc;

	if (!PyArg_ParseTuple(args, fmt, &id) || roostpy_ctx_usable(cx) < 0)
		return NULL;
	ROOSTPY_BLOCKING(rc, verb(cx->cx_ctx, id));
	return roostpy_none_or_raise(rc, op);
}

static PyObject *
ctx_demonitor(PyObject *self, PyObject *args)
{
	return id_verb(self, args, "K:demonitor", "demonitor",
	               roost_demonitor);
}

static PyObject *
ctx_link(PyObject *self, PyObject *args)
{
	return address_verb(self, args, "O:link", "link", roost_link);
}

static PyObject *
ctx_unlink(PyObject *self, PyObject *args)
{
	return address_verb(self, args, "O:unlink", "unlink", roost_unlink);
}

static PyObject *
ctx_timer_start(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"to", "delay", "body", "kind", "interval",
	                         NULL};
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	PyObject *to;
	PyObject *delay;
	PyObject *body = Py_None;
	PyObject *kind = NULL;
	PyObject *interval = NULL;
	struct roostpy_outgoing og;
	uint64_t delay_us;
	uint64_t interval_us = 0;
	uint64_t timer_id;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|OO$O:_timer_start",
	                                 kwlist, &to, &delay, &body, &kind,
	                                 &interval) ||
	    roostpy_ctx_usable(cx) < 0 ||
	    roostpy_delay_us(delay, &delay_us) < 0 ||
	    (interval != NULL && roostpy_delay_us(interval, &interval_us) < 0))
		return NULL;
	if (interval != NULL && interval_us == 0)
		return PyErr_Format(PyExc_ValueError, "an interval must be "
		                    "more than 0 seconds");
	if (roostpy_outgoing_init(cx, to, body, kind, &og) < 0)
		return NULL;
	ROOSTPY_BLOCKING(rc, roost_timer_start(cx->cx_ctx, og.og_to, delay_us,
	                                       interval_us, og.og_kind,
	                                       og.og_flags, og.og_buf.buf,
	                                       (size_t)og.og_buf.len,
	                                       &timer_id));
	roostpy_outgoing_release(&og);
	if (rc < 0)
		return roostpy_raise(rc, "timer");
	return PyLong_FromUnsignedLongLong(timer_id);
}

static PyObject *
ctx_cancel(PyObject *self, PyObject *args)
{
	return id_verb(self, args, "K:cancel", "cancel", roost_timer_cancel);
}

/* Copy the str items of 'args' into a NULL-terminated argv after
 * 'program'. The strings stay owned by 'args'. Caller frees the array. */
static const char **
spawn_argv(const char *program, PyObject *args)
{
	PyObject *seq = PySequence_Fast(args, "args must be a sequence of str");
	const char **argv = NULL;
	Py_ssize_t n;

	if (seq == NULL)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	argv = PyMem_Calloc((size_t)n + 2, sizeof(*argv));
	if (argv == NULL) {
		PyErr_NoMemory();
		goto out;
	}
	argv[0] = program;
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *item = PySequence_Fast_GET_ITEM(seq, i);

		if (!PyUnicode_Check(item) ||
		    (argv[i + 1] = PyUnicode_AsUTF8(item)) == NULL) {
			if (!PyErr_Occurred())
				PyErr_SetString(PyExc_TypeError, "args must "
				                "be a sequence of str");
			PyMem_Free(argv);
			argv = NULL;
			goto out;
		}
	}
out:
	Py_DECREF(seq); /* 'args' keeps the items alive */
	return argv;
}

static PyObject *
ctx_spawn(PyObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"program", "args", "name", "restart",
	                         "daemon", "mailbox_bytes", "timeout", NULL};
	static const char *const restarts[] = {"permanent", "transient",
	                                       "temporary"};
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	const char *program;
	PyObject *argl = NULL;
	PyObject *name = Py_None;
	const char *restart = "permanent";
	int daemon = 0;
	PyObject *mbox_bytes = NULL;
	PyObject *timeout = NULL;
	roost_spawn_opts_t o;
	const char **argv;
	roost_aid_t aid;
	int rc;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|O$OspOO:spawn", kwlist,
	                                 &program, &argl, &name, &restart,
	                                 &daemon, &mbox_bytes, &timeout) ||
	    roostpy_ctx_usable(cx) < 0)
		return NULL;
	roost_spawn_opts_init(&o);
	o.program = program;
	o.restart = 3;
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(restart, restarts[i]) == 0)
			o.restart = i;
	if (o.restart == 3)
		return PyErr_Format(PyExc_ValueError, "restart must be "
		                    "permanent, transient or temporary");
	if (program[0] != '/')
		return PyErr_Format(PyExc_ValueError, "program must be an "
		                    "absolute path (say /usr/bin/python3)");
	if ((name != Py_None && roostpy_name(name, &o.name) < 0) ||
	    (timeout != NULL && roostpy_timeout_ms(timeout, &o.timeout_ms) < 0))
		return NULL;
	if (o.timeout_ms < 0)
		return PyErr_Format(PyExc_ValueError, "spawn needs a timeout");
	o.flags = daemon ? ROOST_SPAWN_DAEMON : 0;
	if (roostpy_u32_arg(mbox_bytes, "mailbox_bytes", &o.mbox_bytes) < 0)
		return NULL;
	argv = argl != NULL ? spawn_argv(program, argl) : NULL;
	if (argl != NULL && argv == NULL)
		return NULL;
	o.argv = argv; /* NULL: { program, NULL } */
	ROOSTPY_BLOCKING(rc, roost_spawn(cx->cx_ctx, &o, &aid));
	PyMem_Free(argv);
	if (rc < 0)
		return roostpy_raise(rc, "spawn");
	return roostpy_address_new(aid.id);
}

static PyObject *
ctx_shutdown(PyObject *self, PyObject *unused)
{
	roostpy_ctx_t *cx = (roostpy_ctx_t *)self;
	int rc;

	(void)unused;
	if (roostpy_ctx_usable(cx) < 0)
		return NULL;
	ROOSTPY_BLOCKING(rc, roost_shutdown(cx->cx_ctx));
	return roostpy_none_or_raise(rc, "shutdown");
}

PyMethodDef roostpy_control_methods[] = {
	{"register", ctx_register, METH_O,
	 "register(name)\n--\n\nRegister this context under 'name'."},
	{"unregister", ctx_unregister, METH_O,
	 "unregister(name)\n--\n\nRemove the name 'name'."},
	{"whereis", ctx_whereis, METH_O,
	 "whereis(name)\n--\n\nThe Address of a name (NoSuchActor if "
	 "nobody holds it)."},
	{"kind_register", ctx_kind_register, METH_VARARGS,
	 "kind_register(kind, name)\n--\n\nGive a message kind a display "
	 "name for tools (roostctl): at most 23 bytes."},
	{"stop", ctx_stop, METH_VARARGS,
	 "stop(to)\n--\n\nGraceful stop: 'to' handles what is queued, then "
	 "ends; later sends to it raise ShuttingDown."},
	{"kill", ctx_kill, METH_VARARGS,
	 "kill(to)\n--\n\nKill 'to' at once and for good (through roostd)."},
	{"monitor", ctx_monitor, METH_VARARGS,
	 "monitor(to)\n--\n\nGet a Down notice each time 'to' ends; "
	 "returns the monitor's ref."},
	{"demonitor", ctx_demonitor, METH_VARARGS,
	 "demonitor(ref)\n--\n\nStop a monitor."},
	{"link", ctx_link, METH_VARARGS,
	 "link(to)\n--\n\nLink both ways: each gets an Exit notice when the "
	 "other ends."},
	{"unlink", ctx_unlink, METH_VARARGS, "unlink(to)\n--\n\nUndo link()."},
	{"_timer_start", (PyCFunction)(void (*)(void))ctx_timer_start,
	 METH_VARARGS | METH_KEYWORDS, NULL},
	{"cancel", ctx_cancel, METH_VARARGS,
	 "cancel(timer_id)\n--\n\nCancel an alarm; roost.Error (ENOENT) if "
	 "it already fired or was cancelled."},
	{"spawn", (PyCFunction)(void (*)(void))ctx_spawn,
	 METH_VARARGS | METH_KEYWORDS,
	 "spawn(program, args=(), *, name=None, restart='permanent', "
	 "daemon=False, mailbox_bytes=0, timeout=5.0)\n--\n\n"
	 "Ask roostd to start 'program' (an absolute path; for a Python "
	 "actor, /usr/bin/python3 with the script in 'args') as a supervised "
	 "actor; returns once it has attached."},
	{"shutdown", ctx_shutdown, METH_NOARGS,
	 "shutdown()\n--\n\nAsk roostd to shut the whole system down."},
	{NULL, NULL, 0, NULL},
};
