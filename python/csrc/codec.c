/* SPDX-License-Identifier: MIT */
/*
 * codec.c - payloads and errors. MessagePack goes through
 * python3-msgpack's C implementation (msgpack._cmsgpack), looked up once
 * at import: a Packer per context (a packer's buffer is not to be shared
 * between threads: packing a dict subclass may run Python code, and
 * another thread with it) and unpackb with fixed options. The
 * error factory is roost.errors._from_code, and roost.Packed the type of
 * bytes sent flagged as MessagePack unchecked, both handed over at import.
 */
#include "_roost.h"

static PyObject *packer_type;     /* msgpack.Packer */
static PyObject *unpackb;         /* msgpack.unpackb */
static PyObject *unpack_kwargs;   /* raw=False, strict_map_key=False */
static PyObject *error_factory;   /* roost.errors._from_code */
static PyObject *packed_type;     /* roost.Packed: bytes already encoded */

int
roostpy_codec_init(void)
{
	PyObject *msgpack = PyImport_ImportModule("msgpack");

	if (msgpack == NULL)
		return -1;
	packer_type = PyObject_GetAttrString(msgpack, "Packer");
	unpackb = PyObject_GetAttrString(msgpack, "unpackb");
	unpack_kwargs = Py_BuildValue("{s:O,s:O}", "raw", Py_False,
	                              "strict_map_key", Py_False);
	Py_DECREF(msgpack);
	return packer_type != NULL && unpackb != NULL && unpack_kwargs != NULL
	               ? 0 : -1;
}

PyObject *
roostpy_packer_new(void)
{
	PyObject *packer = PyObject_CallNoArgs(packer_type);
	PyObject *pack;

	if (packer == NULL)
		return NULL;
	pack = PyObject_GetAttrString(packer, "pack");
	Py_DECREF(packer); /* the bound method keeps it */
	return pack;
}

PyObject *
roostpy_set_error_factory(PyObject *mod, PyObject *fn)
{
	(void)mod;
	if (!PyCallable_Check(fn))
		return PyErr_Format(PyExc_TypeError, "factory not callable");
	Py_XSETREF(error_factory, Py_NewRef(fn));
	Py_RETURN_NONE;
}

PyObject *
roostpy_set_packed_type(PyObject *mod, PyObject *type)
{
	(void)mod;
	if (!PyType_Check(type) ||
	    !PyType_IsSubtype((PyTypeObject *)type, &PyBytes_Type))
		return PyErr_Format(PyExc_TypeError, "not a bytes subclass");
	Py_XSETREF(packed_type, Py_NewRef(type));
	Py_RETURN_NONE;
}

PyObject *
roostpy_raise(int code, const char *op)
{
	PyObject *exc;

	if (error_factory == NULL)
		return PyErr_Format(PyExc_OSError, "roost: %s: %s", op,
		                    roost_strerror(code));
	exc = PyObject_CallFunction(error_factory, "iss", code, op,
	                            roost_err_name(code));
	if (exc != NULL) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		Py_DECREF(exc);
	}
	return NULL;
}

PyObject *
roostpy_none_or_raise(int rc, const char *op)
{
	if (rc < 0)
		return roostpy_raise(rc, op);
	Py_RETURN_NONE;
}

PyObject *
roostpy_encode(PyObject *pack, PyObject *obj, Py_buffer *view,
               uint32_t *flags)
{
	PyObject *bytes;

	if (PyObject_CheckBuffer(obj)) {
		if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) < 0)
			return NULL;
		/* Exact bytes skip the subclass test on the hot path. */
		*flags = !PyBytes_CheckExact(obj) && packed_type != NULL &&
		                         PyObject_TypeCheck(obj, (PyTypeObject *)
		                                                     packed_type)
		                 ? ROOST_SEND_MSGPACK : 0;
		return Py_NewRef(obj);
	}
	bytes = PyObject_CallOneArg(pack, obj);
	if (bytes == NULL)
		return NULL; /* TypeError: can not serialize ... */
	if (PyObject_GetBuffer(bytes, view, PyBUF_SIMPLE) < 0) {
		Py_DECREF(bytes);
		return NULL;
	}
	*flags = ROOST_SEND_MSGPACK;
	return bytes;
}

PyObject *
roostpy_decode(PyObject *data)
{
	PyObject *args = PyTuple_Pack(1, data);
	PyObject *body;
	PyObject *type;
	PyObject *cause;
	PyObject *tb;

	if (args == NULL)
		return NULL;
	body = PyObject_Call(unpackb, args, unpack_kwargs);
	Py_DECREF(args);
	if (body != NULL || !PyErr_ExceptionMatches(PyExc_ValueError))
		return body;
	/* msgpack's errors (ExtraData, FormatError, ...) are ValueErrors
	 * about the peer's bytes: BadPayload, with the
	 * decoder's exception as its cause. */
	PyErr_Fetch(&type, &cause, &tb);
	PyErr_NormalizeException(&type, &cause, &tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	roostpy_raise(ROOST_EPROTO, "decode");
	if (cause != NULL) {
		PyObject *etype, *exc, *etb;

		PyErr_Fetch(&etype, &exc, &etb);
		PyErr_NormalizeException(&etype, &exc, &etb);
		PyException_SetCause(exc, cause); /* steals 'cause' */
		PyErr_Restore(etype, exc, etb);
	}
	return NULL;
}
