/* SPDX-License-Identifier: MIT */
/*
 * checks.c - every argument that crosses into libroost is checked here
 * first, with a message that names the rule: timeouts and delays (float
 * seconds), message kinds, addresses and names.
 */
#include "_roost.h"

#include <limits.h>
#include <math.h>

/* Seconds as a finite, non-negative float (ints accepted, bools not). */
static int
seconds(PyObject *obj, const char *what, double max, double *out)
{
	double s;

	if (PyBool_Check(obj) || !(PyFloat_Check(obj) || PyLong_Check(obj))) {
		PyErr_Format(PyExc_TypeError, "%s must be a number of seconds, "
		             "not %.100s", what, Py_TYPE(obj)->tp_name);
		return -1;
	}
	s = PyFloat_AsDouble(obj);
	if (s == -1.0 && PyErr_Occurred())
		return -1;
	if (!isfinite(s) || s < 0.0 || s > max) {
		PyErr_Format(PyExc_ValueError, "%s must be between 0 and %.0f "
		             "seconds", what, max);
		return -1;
	}
	*out = s;
	return 0;
}

int
roostpy_timeout_ms(PyObject *timeout, int *out)
{
	double s;

	if (timeout == NULL || timeout == Py_None) {
		*out = -1;
		return 0;
	}
	/* The C API takes an int of milliseconds: at most INT_MAX. */
	if (seconds(timeout, "timeout", (double)INT_MAX / 1000.0, &s) < 0)
		return -1;
	*out = (int)ceil(s * 1000.0); /* never round a short wait to 0 */
	return 0;
}

int
roostpy_delay_us(PyObject *delay, uint64_t *out)
{
	double s;

	/* roostd's alarms: at most a year ahead. */
	if (seconds(delay, "delay", 365.0 * 86400.0, &s) < 0)
		return -1;
	*out = (uint64_t)ceil(s * 1e6);
	return 0;
}

int
roostpy_kind(PyObject *kind, uint32_t *out)
{
	unsigned long long v;

	if (PyBool_Check(kind) || !PyLong_Check(kind)) {
		PyErr_Format(PyExc_TypeError, "kind must be an int, not %.100s",
		             Py_TYPE(kind)->tp_name);
		return -1;
	}
	v = PyLong_AsUnsignedLongLong(kind);
	if ((v == (unsigned long long)-1 && PyErr_Occurred()) ||
	    v >= ROOST_KIND_RESERVED_MIN) {
		PyErr_Clear();
		PyErr_Format(PyExc_ValueError, "kind must be in 0..%u (kinds "
		             "from 0x%x up are roost's own)",
		             ROOST_KIND_RESERVED_MIN - 1, ROOST_KIND_RESERVED_MIN);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int
roostpy_aid(PyObject *to, roost_aid_t *out)
{
	PyObject *addr;
	int rc;

	if (PyObject_TypeCheck(to, &roostpy_address_type)) {
		out->id = ((roostpy_address_t *)to)->ad_id;
		return 0;
	}
	/* A Ref (roost/actor.py) or anything else with an 'address'. */
	addr = PyObject_GetAttrString(to, "address");
	if (addr != NULL && PyObject_TypeCheck(addr, &roostpy_address_type)) {
		out->id = ((roostpy_address_t *)addr)->ad_id;
		rc = 0;
	} else {
		PyErr_Clear();
		PyErr_Format(PyExc_TypeError, "an address must be a "
		             "roost.Address or a roost.Ref, not %.100s",
		             Py_TYPE(to)->tp_name);
		rc = -1;
	}
	Py_XDECREF(addr);
	return rc;
}

int
roostpy_name(PyObject *name, const char **out)
{
	Py_ssize_t len;
	const char *s;

	if (!PyUnicode_Check(name)) {
		PyErr_Format(PyExc_TypeError, "a name must be a str, not %.100s",
		             Py_TYPE(name)->tp_name);
		return -1;
	}
	s = PyUnicode_AsUTF8AndSize(name, &len);
	if (s == NULL)
		return -1;
	if (len < 1 || len > ROOST_NAME_MAX || strlen(s) != (size_t)len) {
		PyErr_Format(PyExc_ValueError, "a name is 1 to %d bytes of "
		             "UTF-8 without NUL; got %zd bytes", ROOST_NAME_MAX,
		             len);
		return -1;
	}
	*out = s;
	return 0;
}

int
roostpy_u32_arg(PyObject *obj, const char *what, uint32_t *out)
{
	unsigned long long v;

	if (obj == NULL)
		return 0; /* not given: keep the default */
	if (PyBool_Check(obj) || !PyLong_Check(obj)) {
		PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s",
		             what, Py_TYPE(obj)->tp_name);
		return -1;
	}
	v = PyLong_AsUnsignedLongLong(obj);
	if ((v == (unsigned long long)-1 && PyErr_Occurred()) ||
	    v > UINT32_MAX) {
		PyErr_Clear();
		PyErr_Format(PyExc_ValueError, "%s must be in 0..%u", what,
		             UINT32_MAX);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}
