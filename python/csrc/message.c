/* SPDX-License-Identifier: MIT */
/*
 * message.c - roost.Message: a received message, copied out of the
 * mailbox at receipt (the C view lasts only until the next receive). Its
 * MessagePack body is decoded on first use, so bytes that are not
 * MessagePack raise roost.BadPayload there while 'data' still holds them:
 * nothing is lost.
 */
#include "_roost.h"

#include <string.h>

PyObject *
roostpy_msg_new(roostpy_ctx_t *ctx, const roost_msg_t *m, uint64_t seq)
{
	roostpy_msg_t *msg;

	msg = PyObject_New(roostpy_msg_t, &roostpy_msg_type);
	if (msg == NULL)
		return NULL;
	msg->ms_data = PyBytes_FromStringAndSize(roost_msg_data(m),
	                                         (Py_ssize_t)roost_msg_size(m));
	if (msg->ms_data == NULL) {
		msg->ms_ctx = NULL;
		msg->ms_body = NULL;
		Py_DECREF(msg);
		return NULL;
	}
	msg->ms_from = roost_msg_from(m).id;
	msg->ms_kind = roost_msg_kind(m);
	msg->ms_flags = roost_msg_flags(m);
	msg->ms_corr = roost_msg_corr(m);
	msg->ms_body = NULL;
	msg->ms_ctx = (roostpy_ctx_t *)Py_NewRef(ctx);
	msg->ms_seq = seq;
	msg->ms_view = m;
	return (PyObject *)msg;
}

static void
msg_dealloc(PyObject *self)
{
	roostpy_msg_t *msg = (roostpy_msg_t *)self;

	Py_XDECREF(msg->ms_data);
	Py_XDECREF(msg->ms_body);
	Py_XDECREF(msg->ms_ctx);
	PyObject_Free(self);
}

static PyObject *
msg_body(PyObject *self, void *closure)
{
	roostpy_msg_t *msg = (roostpy_msg_t *)self;

	(void)closure;
	if (!(msg->ms_flags & ROOST_MSG_MSGPACK))
		return Py_NewRef(msg->ms_data);
	if (msg->ms_body == NULL)
		msg->ms_body = roostpy_decode(msg->ms_data);
	return Py_XNewRef(msg->ms_body);
}

static PyObject *
msg_sender(PyObject *self, void *closure)
{
	(void)closure;
	return roostpy_address_new(((roostpy_msg_t *)self)->ms_from);
}

static PyObject *
msg_flag(PyObject *self, void *flag)
{
	return PyBool_FromLong(((roostpy_msg_t *)self)->ms_flags &
	                       (uint32_t)(uintptr_t)flag);
}

/* A DOWN or EXIT notice as a tuple for roost/notices.py, or None. */
static PyObject *
msg_notice(PyObject *self, PyObject *unused)
{
	roostpy_msg_t *msg = (roostpy_msg_t *)self;
	roost_notice_t n;
	int rc;

	(void)unused;
	if (msg->ms_kind != ROOST_KIND_DOWN && msg->ms_kind != ROOST_KIND_EXIT)
		Py_RETURN_NONE;
	/* The decoder needs a view; the copy is one as long as it lives. */
	if (msg->ms_seq == 0 || msg->ms_seq != msg->ms_ctx->cx_recv_seq)
		return roostpy_raise(-EINVAL, "notice");
	rc = roost_notice_decode(msg->ms_view, &n);
	if (rc < 0)
		return roostpy_raise(rc, "notice");
	return Py_BuildValue("(sNKiiiOss)",
	                     msg->ms_kind == ROOST_KIND_DOWN ? "DOWN" : "EXIT",
	                     roostpy_address_new(n.aid.id),
	                     (unsigned long long)n.ref, (int)n.pid,
	                     (int)n.status, (int)n.signal,
	                     n.restarting ? Py_True : Py_False, n.name,
	                     roost_exit_reason_name(n.reason));
}

static PyObject *
msg_repr(PyObject *self)
{
	roostpy_msg_t *msg = (roostpy_msg_t *)self;
	roost_aid_t from = {msg->ms_from};

	return PyUnicode_FromFormat("<roost.Message kind=%u from=%u.%u "
	                            "%zd bytes%s>", msg->ms_kind,
	                            roost_aid_slot(from), roost_aid_gen(from),
	                            PyBytes_GET_SIZE(msg->ms_data),
	                            (msg->ms_flags & ROOST_MSG_MSGPACK)
	                                    ? " msgpack" : "");
}

static PyMemberDef msg_members[] = {
	{"kind", T_UINT, offsetof(roostpy_msg_t, ms_kind), READONLY,
	 "The message kind (an int)."},
	{"corr", T_ULONGLONG, offsetof(roostpy_msg_t, ms_corr), READONLY,
	 "Correlation id: not 0 for a request sent by call()."},
	{"data", T_OBJECT, offsetof(roostpy_msg_t, ms_data), READONLY,
	 "The payload bytes, as sent."},
	{NULL, 0, 0, 0, NULL},
};

static PyGetSetDef msg_getset[] = {
	{"body", msg_body, NULL, "The payload: decoded when it was sent as "
	 "MessagePack (roost.BadPayload if it is not), else the bytes.", NULL},
	{"sender", msg_sender, NULL, "The sender's roost.Address.", NULL},
	{"is_msgpack", msg_flag, NULL, "Sent as MessagePack.",
	 (void *)(uintptr_t)ROOST_MSG_MSGPACK},
	{"redelivered", msg_flag, NULL, "Handed out before, to a process "
	 "that died handling it.", (void *)(uintptr_t)ROOST_MSG_REDELIVERED},
	{"is_reply", msg_flag, NULL, "An answer sent with reply().",
	 (void *)(uintptr_t)ROOST_MSG_REPLY},
	{"system_lane", msg_flag, NULL, "Arrived on the system lane.",
	 (void *)(uintptr_t)ROOST_MSG_SYSTEM},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef msg_methods[] = {
	{"_notice", msg_notice, METH_NOARGS, NULL},
	{NULL, NULL, 0, NULL},
};

PyTypeObject roostpy_msg_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "roost.Message",
	.tp_doc = PyDoc_STR("A received message (a copy: it outlives the "
	                    "next receive)."),
	.tp_basicsize = sizeof(roostpy_msg_t),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_dealloc = msg_dealloc,
	.tp_repr = msg_repr,
	.tp_members = msg_members,
	.tp_getset = msg_getset,
	.tp_methods = msg_methods,
};
