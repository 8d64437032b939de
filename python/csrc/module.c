/* SPDX-License-Identifier: MIT */
/*
 * module.c - roost._roost, the CPython extension over libroost: types,
 * constants, and the hooks roost/__init__.py sets at import.
 */
#include "_roost.h"

/* Context's methods: the hot path (context.c) then the other verbs
 * (control.c), joined once at import. */
static PyMethodDef ctx_methods[48];

static int
join_ctx_methods(void)
{
	size_t n = 0;

	for (PyMethodDef *m = roostpy_ctx_core_methods; m->ml_name; m++)
		ctx_methods[n++] = *m;
	for (PyMethodDef *m = roostpy_control_methods; m->ml_name; m++) {
		if (n + 1 >= sizeof(ctx_methods) / sizeof(ctx_methods[0])) {
			PyErr_SetString(PyExc_SystemError, "ctx_methods full");
			return -1;
		}
		ctx_methods[n++] = *m;
	}
	roostpy_ctx_type.tp_methods = ctx_methods; /* zeroed entry ends it */
	return 0;
}

static PyObject *
mod_system_create(PyObject *mod, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"name", "mailbox_bytes", "slots", NULL};
	const char *name;
	PyObject *mbox_bytes = NULL;
	PyObject *slots = NULL;
	uint32_t mbox_bytes_v = 0; /* 0: the default */
	uint32_t slots_v = 0;
	roost_sys_opts_t o;
	int rc;

	(void)mod;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "s|$OO:system_create",
	                                 kwlist, &name, &mbox_bytes, &slots) ||
	    roostpy_u32_arg(mbox_bytes, "mailbox_bytes", &mbox_bytes_v) < 0 ||
	    roostpy_u32_arg(slots, "slots", &slots_v) < 0)
		return NULL;
	roost_sys_opts_init(&o);
	if (mbox_bytes_v != 0)
		o.mbox_bytes = mbox_bytes_v;
	if (slots_v != 0)
		o.slots = slots_v;
	rc = roost_system_create(name, &o);
	return roostpy_none_or_raise(rc, "system_create");
}

static PyObject *
mod_system_destroy(PyObject *mod, PyObject *args)
{
	const char *name;
	int rc;

	(void)mod;
	if (!PyArg_ParseTuple(args, "s:system_destroy", &name))
		return NULL;
	rc = roost_system_destroy(name);
	return roostpy_none_or_raise(rc, "system_destroy");
}

static PyObject *
mod_strerror(PyObject *mod, PyObject *args)
{
	int code;

	(void)mod;
	if (!PyArg_ParseTuple(args, "i:strerror", &code))
		return NULL;
	return Py_BuildValue("(ss)", roost_err_name(code),
	                     roost_strerror(code));
}

static PyMethodDef mod_methods[] = {
	{"system_create", (PyCFunction)(void (*)(void))mod_system_create,
	 METH_VARARGS | METH_KEYWORDS, NULL},
	{"system_destroy", mod_system_destroy, METH_VARARGS, NULL},
	{"strerror", mod_strerror, METH_VARARGS, NULL},
	{"_set_error_factory", roostpy_set_error_factory, METH_O, NULL},
	{"_set_packed_type", roostpy_set_packed_type, METH_O, NULL},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef roost_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "roost._roost",
	.m_doc = "The C half of the roost package (use 'roost').",
	.m_size = -1,
	.m_methods = mod_methods,
};

static int
add_constants(PyObject *m)
{
	return PyModule_AddIntConstant(m, "LANE_SYSTEM", ROOST_LANE_SYSTEM) ||
	       PyModule_AddIntConstant(m, "LANE_USER", ROOST_LANE_USER) ||
	       PyModule_AddIntConstant(m, "LANE_ANY", ROOST_LANE_ANY) ||
	       PyModule_AddIntConstant(m, "KIND_DOWN", ROOST_KIND_DOWN) ||
	       PyModule_AddIntConstant(m, "KIND_EXIT", ROOST_KIND_EXIT) ||
	       PyModule_AddIntConstant(m, "KIND_RESERVED_MIN",
	                               ROOST_KIND_RESERVED_MIN) ||
	       PyModule_AddIntConstant(m, "NAME_MAX", ROOST_NAME_MAX) ||
	       PyModule_AddIntConstant(m, "TIMER_DATA_MAX",
	                               ROOST_TIMER_DATA_MAX) ||
	       PyModule_AddIntConstant(m, "ECORRUPT", ROOST_ECORRUPT) ||
	       PyModule_AddIntConstant(m, "EPROTO", ROOST_EPROTO) ||
	       PyModule_AddIntConstant(m, "EVERSION", ROOST_EVERSION) ||
	       PyModule_AddIntConstant(m, "ESTALE", ROOST_ESTALE) ||
	       PyModule_AddStringConstant(m, "libroost_version",
	                                  roost_version());
}

PyMODINIT_FUNC
PyInit__roost(void)
{
	PyObject *m;

	if (join_ctx_methods() < 0 || roostpy_codec_init() < 0 ||
	    roostpy_fork_watch() < 0 || roostpy_run_init() < 0 ||
	    PyType_Ready(&roostpy_address_type) < 0 ||
	    PyType_Ready(&roostpy_msg_type) < 0 ||
	    PyType_Ready(&roostpy_ctx_type) < 0)
		return NULL;
	m = PyModule_Create(&roost_module);
	if (m == NULL)
		return NULL;
	if (PyModule_AddObjectRef(m, "Address",
	                          (PyObject *)&roostpy_address_type) < 0 ||
	    PyModule_AddObjectRef(m, "Message",
	                          (PyObject *)&roostpy_msg_type) < 0 ||
	    PyModule_AddObjectRef(m, "Context",
	                          (PyObject *)&roostpy_ctx_type) < 0 ||
	    add_constants(m) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
