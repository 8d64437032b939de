/* SPDX-License-Identifier: MIT */
/*
 * _roost.h - what the parts of the CPython extension share: the types
 * (Address, Message, Context), the codec (python3-msgpack's C packer and
 * unpacker, looked up once), the error factory set by roost/errors.py,
 * and the argument checks every entry point uses.
 *
 * Thread rule: a Context belongs to the thread that opened it; every
 * method checks that first (roost_ctx_t is not thread-safe). Blocking
 * waits run with the GIL released.
 */
#ifndef ROOSTPY_H
#define ROOSTPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <roost.h>

/* An address: a value, hashable, what roost_aid_t is in C. */
typedef struct {
	PyObject_HEAD
	uint64_t ad_id;
} roostpy_address_t;

/* A context: one mailbox, owned by one thread. */
typedef struct {
	PyObject_HEAD
	roost_ctx_t *cx_ctx;          /* NULL once closed */
	unsigned long cx_owner;       /* thread ident of the opener */
	unsigned cx_fork_gen;         /* roostpy_fork_gen at open: a copy
	                                 inherited by a fork is not ours */
	bool cx_borrowed;             /* a one-shot's: the library closes it */
	bool cx_in_match;             /* a receive predicate is running */
	PyObject *cx_pack;            /* this context's msgpack Packer.pack */
	uint64_t cx_recv_seq;         /* bumped by every receive; a Message
	                                 may be replied to while it matches */
} roostpy_ctx_t;

/* A received message, copied out of the mailbox. */
typedef struct {
	PyObject_HEAD
	uint64_t ms_from;
	uint32_t ms_kind;
	uint32_t ms_flags;
	uint64_t ms_corr;
	PyObject *ms_data;            /* bytes */
	PyObject *ms_body;            /* decoded payload; NULL until asked */
	roostpy_ctx_t *ms_ctx;        /* strong ref; the receiving context */
	uint64_t ms_seq;              /* cx_recv_seq at receipt; 0: none */
	const roost_msg_t *ms_view;   /* valid while ms_seq == cx_recv_seq */
} roostpy_msg_t;

extern PyTypeObject roostpy_address_type;
extern PyTypeObject roostpy_msg_type;
extern PyTypeObject roostpy_ctx_type;

/* Raise the roost.Error subclass for 'code' (negative) met in 'op'
 * ("send", "receive", "call", ...). Returns NULL. */
PyObject *roostpy_raise(int code, const char *op);
/* None for 'rc' >= 0, else roostpy_raise(rc, op). */
PyObject *roostpy_none_or_raise(int rc, const char *op);

/* A message about to be sent: its target, kind, flags and encoded body. */
struct roostpy_outgoing {
	roost_aid_t og_to;
	uint32_t og_kind;
	uint32_t og_flags;   /* ROOST_SEND_MSGPACK or 0 */
	Py_buffer og_buf;    /* the payload bytes */
	PyObject *og_enc;    /* owns og_buf's memory */
};

/* Check and encode a send's arguments ('to' NULL: no target, as for a
 * reply; 'kind' NULL: kind 0). 0, or -1 with an exception set and
 * nothing to release. On success release with roostpy_outgoing_release. */
int roostpy_outgoing_init(roostpy_ctx_t *cx, PyObject *to, PyObject *body,
                          PyObject *kind, struct roostpy_outgoing *og);
void roostpy_outgoing_release(struct roostpy_outgoing *og);

/* Encode 'obj' as the payload: bytes-like objects pass raw ('*flags'
 * gets 0) except roost.Packed, sent as MessagePack as it is; anything else
 * is encoded with 'pack' (a Packer's pack) as MessagePack
 * (ROOST_SEND_MSGPACK). On success returns a new reference to an object
 * whose buffer 'view' holds the bytes; the caller releases 'view' then
 * drops the reference. */
PyObject *roostpy_encode(PyObject *pack, PyObject *obj, Py_buffer *view,
                         uint32_t *flags);
/* A new Packer's bound pack method, for one context. */
PyObject *roostpy_packer_new(void);
/* Decode MessagePack 'data' (bytes). New reference, or NULL with
 * roost.BadPayload set. */
PyObject *roostpy_decode(PyObject *data);

/* Argument checks; each returns -1 with ValueError/TypeError set. */
int roostpy_timeout_ms(PyObject *timeout, int *out);     /* None: -1 */
int roostpy_kind(PyObject *kind, uint32_t *out);
int roostpy_aid(PyObject *to, roost_aid_t *out);         /* Address/int */
int roostpy_name(PyObject *name, const char **out);      /* str, 1..47 */
int roostpy_delay_us(PyObject *delay, uint64_t *out);    /* seconds */
/* An int in 0..UINT32_MAX named 'what'; 'obj' NULL leaves 'out' as is. */
int roostpy_u32_arg(PyObject *obj, const char *what, uint32_t *out);

PyObject *roostpy_address_new(uint64_t id);
/* A Message for the view 'm' of 'ctx'; 'seq' 0 when it may not be
 * replied to (a predicate's look). New reference or NULL. */
PyObject *roostpy_msg_new(roostpy_ctx_t *ctx, const roost_msg_t *m,
                          uint64_t seq);

/* Bumped in every child of fork(): a context opened before it belongs to
 * the parent (its close there would close the parent's mailbox). */
extern unsigned roostpy_fork_gen;
int roostpy_fork_watch(void);

/* The owner and open checks every Context method starts with: 0, or -1
 * with an exception set. */
int roostpy_ctx_usable(roostpy_ctx_t *self);

/* Receive on 'self' (lanes, Python predicate or NULL, timeout) with the
 * GIL released; Ctrl-C is seen within a tenth of a second. Returns the
 * view (valid until the next receive) or NULL with an exception set. */
const roost_msg_t *roostpy_ctx_recv(roostpy_ctx_t *self, unsigned lanes,
                                    PyObject *match, int timeout_ms);

/* Resolve 'to' (an Address, a Ref or a registered name): 0 or -1. */
int roostpy_resolve(roostpy_ctx_t *self, PyObject *to, roost_aid_t *out);

int roostpy_codec_init(void);
int roostpy_run_init(void);      /* learns the main thread */
extern PyMethodDef roostpy_ctx_core_methods[];
PyObject *roostpy_set_error_factory(PyObject *mod, PyObject *fn);
PyObject *roostpy_set_packed_type(PyObject *mod, PyObject *type);
extern PyMethodDef roostpy_control_methods[];

/* Context methods defined in their own files. */
PyObject *roostpy_ctx_run(PyObject *self, PyObject *args);
PyObject *roostpy_ctx_spawn_fn(PyObject *self, PyObject *args,
                               PyObject *kw);

#endif /* ROOSTPY_H */
