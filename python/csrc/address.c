/* SPDX-License-Identifier: MIT */
/*
 * address.c - roost.Address: an actor's address as a Python value
 * (immutable, hashable, comparable), what roost_aid_t is in C. It crosses
 * processes as its integer 'id'.
 */
#include "_roost.h"

PyObject *
roostpy_address_new(uint64_t id)
{
	roostpy_address_t *a;

	a = PyObject_New(roostpy_address_t, &roostpy_address_type);
	if (a != NULL)
		a->ad_id = id;
	return (PyObject *)a;
}

static PyObject *
address_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"id", NULL};
	unsigned long long id;
	roostpy_address_t *a;

	if (!PyArg_ParseTupleAndKeywords(args, kw, "K:Address", kwlist, &id))
		return NULL;
	if (id == 0)
		return PyErr_Format(PyExc_ValueError, "address 0 is never valid");
	a = (roostpy_address_t *)type->tp_alloc(type, 0);
	if (a != NULL)
		a->ad_id = id;
	return (PyObject *)a;
}

static PyObject *
address_repr(PyObject *self)
{
	roost_aid_t aid = {((roostpy_address_t *)self)->ad_id};

	return PyUnicode_FromFormat("roost.Address(%u.%u)",
	                            roost_aid_slot(aid), roost_aid_gen(aid));
}

static Py_hash_t
address_hash(PyObject *self)
{
	Py_hash_t h = (Py_hash_t)((roostpy_address_t *)self)->ad_id;

	return h == -1 ? -2 : h;
}

static PyObject *
address_richcompare(PyObject *a, PyObject *b, int op)
{
	if (!PyObject_TypeCheck(b, &roostpy_address_type) ||
	    (op != Py_EQ && op != Py_NE))
		Py_RETURN_NOTIMPLEMENTED;
	bool eq = ((roostpy_address_t *)a)->ad_id ==
	          ((roostpy_address_t *)b)->ad_id;
	return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
address_id(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLongLong(((roostpy_address_t *)self)->ad_id);
}

static PyObject *
address_slot(PyObject *self, void *closure)
{
	roost_aid_t aid = {((roostpy_address_t *)self)->ad_id};

	(void)closure;
	return PyLong_FromUnsignedLong(roost_aid_slot(aid));
}

static PyObject *
address_gen(PyObject *self, void *closure)
{
	roost_aid_t aid = {((roostpy_address_t *)self)->ad_id};

	(void)closure;
	return PyLong_FromUnsignedLong(roost_aid_gen(aid));
}

static PyGetSetDef address_getset[] = {
	{"id", address_id, NULL, "The 64-bit address (what C code keeps).",
	 NULL},
	{"slot", address_slot, NULL, "The mailbox slot.", NULL},
	{"generation", address_gen, NULL,
	 "The slot's generation (a reused slot gets a new one).", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject roostpy_address_type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "roost.Address",
	.tp_doc = PyDoc_STR("Address(id): an actor's address (slot and "
	                    "generation), a value that may be sent in "
	                    "messages as its int 'id'."),
	.tp_basicsize = sizeof(roostpy_address_t),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_new = address_new,
	.tp_repr = address_repr,
	.tp_hash = address_hash,
	.tp_richcompare = address_richcompare,
	.tp_getset = address_getset,
};
