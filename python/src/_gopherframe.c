/*
 * _gopherframe: the CPython extension under the `gopherframe` package.
 *
 * Written on the public C API of the library only (<gopherframe.h>) and on
 * the stable ABI of CPython (Py_LIMITED_API 3.9), so one abi3 wheel serves
 * every CPython from 3.9 on. The Pythonic layer (gopherframe/__init__.py)
 * calls the flat functions here; this file owns three things:
 *  - the Frame handle (a gf_frame reference) and its Arrow PyCapsules, and
 *    the Plan handle (a gf_plan reference: the lazy API);
 *  - running engine calls without the GIL on a helper thread while the
 *    calling thread polls for signals, so Ctrl-C cancels the call through
 *    its gf_cancel token (the engine stops between morsels);
 *  - mapping gf_status to the exception classes (gopherframe.Error and one
 *    subclass per status) with the engine's message.
 */
#define Py_LIMITED_API 0x03090000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gopherframe.h>

/* How often the waiting thread looks at pending signals: bounds the
 * Ctrl-C latency together with the engine's morsel length. */
#define GFPY_POLL_NS (10 * 1000 * 1000L)

/* ------------------------------------------------------------------ */
/* Exceptions                                                          */
/* ------------------------------------------------------------------ */

static PyObject *ErrorBase;                 /* gopherframe.Error */
static PyObject *ErrorByStatus[GF_EINTERNAL + 1];

/* One exception class per status: the name, the builtin exception it also
 * derives from (so `except MemoryError` keeps working), and its doc. */
static const struct {
  gf_status st;
  const char *name;
  const char *doc;
} ERROR_CLASSES[] = {
    {GF_EINVAL, "InvalidArgumentError", "GF_EINVAL: invalid argument or malformed input"},
    {GF_ENOMEM, "OutOfMemoryError", "GF_ENOMEM: allocation failed or memory limit reached"},
    {GF_EIO, "IoError", "GF_EIO: operating-system I/O error"},
    {GF_ECANCELED, "CanceledError", "GF_ECANCELED: the call was cancelled"},
    {GF_ETIMEDOUT, "TimedOutError", "GF_ETIMEDOUT: the call's deadline (timeout=) passed"},
    {GF_ENOTSUP, "NotSupportedError", "GF_ENOTSUP: valid but unsupported (type, feature)"},
    {GF_ETYPE, "TypeMismatchError", "GF_ETYPE: type mismatch"},
    {GF_EPARSE, "ParseError", "GF_EPARSE: text could not be parsed"},
    {GF_ERANGE, "OutOfRangeError", "GF_ERANGE: value out of range or overflow"},
    {GF_EINTERNAL, "InternalError", "GF_EINTERNAL: a bug in GopherFrame (please report it)"},
};

/* The builtin second base of each class, looked up at import. */
static PyObject *builtin_base(gf_status st) {
  switch (st) {
  case GF_EINVAL: return PyExc_ValueError;
  case GF_ENOMEM: return PyExc_MemoryError;
  case GF_EIO: return PyExc_OSError;
  case GF_ETIMEDOUT: return PyExc_TimeoutError;
  case GF_ENOTSUP: return PyExc_NotImplementedError;
  case GF_ETYPE: return PyExc_TypeError;
  case GF_EPARSE: return PyExc_ValueError;
  case GF_ERANGE: return PyExc_OverflowError;
  case GF_EINTERNAL: return PyExc_RuntimeError;
  default: return NULL;
  }
}

/* Raises the class of err->code with the engine's message (the status'
 * description when the message is empty). Always returns NULL. */
static PyObject *raise_gf(const gf_error *err) {
  gf_status st = err->code;
  PyObject *cls = (st > GF_OK && st <= GF_EINTERNAL && ErrorByStatus[st]) ? ErrorByStatus[st] : ErrorBase;
  if (st == GF_OK) st = GF_EINTERNAL; /* a failure reported without a status */
  PyErr_SetString(cls, err->message[0] ? err->message : gf_status_string(st));
  return NULL;
}

/* Creates gopherframe.Error and its subclasses in module `m`. */
static int add_exceptions(PyObject *m) {
  PyObject *dict = Py_BuildValue("{s:s}", "status", "");
  if (!dict) return -1;
  ErrorBase = PyErr_NewExceptionWithDoc("gopherframe.Error",
                                        "Base of every error the engine reports; "
                                        "`status` names the gf_status (\"GF_EINVAL\"...).",
                                        PyExc_Exception, dict);
  Py_DECREF(dict);
  if (!ErrorBase) return -1;
  Py_INCREF(ErrorBase);
  if (PyModule_AddObject(m, "Error", ErrorBase) < 0) return -1;
  for (size_t i = 0; i < sizeof ERROR_CLASSES / sizeof ERROR_CLASSES[0]; i++) {
    gf_status st = ERROR_CLASSES[i].st;
    char qual[96];
    snprintf(qual, sizeof qual, "gopherframe.%s", ERROR_CLASSES[i].name);
    PyObject *extra = builtin_base(st);
    PyObject *bases = extra ? PyTuple_Pack(2, ErrorBase, extra) : PyTuple_Pack(1, ErrorBase);
    PyObject *d = Py_BuildValue("{s:s}", "status", gf_status_name(st));
    PyObject *cls = (bases && d) ? PyErr_NewExceptionWithDoc(qual, ERROR_CLASSES[i].doc, bases, d) : NULL;
    Py_XDECREF(bases);
    Py_XDECREF(d);
    if (!cls) return -1;
    ErrorByStatus[st] = cls;
    Py_INCREF(cls);
    if (PyModule_AddObject(m, ERROR_CLASSES[i].name, cls) < 0) return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* The Frame handle                                                    */
/* ------------------------------------------------------------------ */

/* A handle: a Python object owning one reference to an engine object (a
 * frame or a plan), given back with `release` when it is collected. */
typedef struct {
  PyObject_HEAD void *ptr;
  void (*release)(void *);
} HandleObject;

static void handle_dealloc(PyObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  HandleObject *h = (HandleObject *)self;
  if (h->ptr) h->release(h->ptr);
  freefunc tp_free = (freefunc)PyType_GetSlot(tp, Py_tp_free);
  tp_free(self);
  Py_DECREF(tp);
}

/* Wraps `ptr` in a handle of `type`, taking over the caller's reference
 * (released on failure). */
static PyObject *handle_wrap(PyTypeObject *type, void *ptr, void (*release)(void *)) {
  allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
  HandleObject *o = (HandleObject *)alloc(type, 0);
  if (!o) {
    release(ptr);
    return NULL;
  }
  o->ptr = ptr;
  o->release = release;
  return (PyObject *)o;
}

/* The engine object of handle `o` of `type` (borrowed) into *out, or a
 * TypeError naming `what`. Returns 1/0 as a PyArg "O&" converter does. */
static int handle_arg(PyObject *o, PyTypeObject *type, const char *what, void **out) {
  if (!PyObject_TypeCheck(o, type) || !((HandleObject *)o)->ptr) {
    PyErr_Format(PyExc_TypeError, "expected a gopherframe %s handle", what);
    return 0;
  }
  *out = ((HandleObject *)o)->ptr;
  return 1;
}

static PyTypeObject *FrameType;

static void release_frame(void *p) { gf_frame_release(p); }

/* Wraps `f`, taking over the caller's reference (released on failure). */
static PyObject *frame_wrap(gf_frame *f) { return handle_wrap(FrameType, f, release_frame); }

static PyType_Slot frame_slots[] = {
    {Py_tp_dealloc, (void *)handle_dealloc},
    {Py_tp_doc, (void *)"Handle of an immutable gf_frame (use gopherframe.DataFrame)."},
    {0, NULL},
};

static PyType_Spec frame_spec = {
    "gopherframe._gopherframe.Frame", sizeof(HandleObject), 0, Py_TPFLAGS_DEFAULT, frame_slots,
};

/* PyArg "O&" converter: a Frame argument to its gf_frame (borrowed). */
static int frame_arg(PyObject *o, void *out) { return handle_arg(o, FrameType, "Frame", out); }

/* ------------------------------------------------------------------ */
/* String lists                                                        */
/* ------------------------------------------------------------------ */

typedef struct {
  char **v;
  int n;
} strlist;

static void strlist_free(strlist *l) {
  for (int i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

/* Copies a sequence of str as NUL-terminated UTF-8 strings. */
static int strlist_from(PyObject *seq, strlist *out) {
  out->v = NULL;
  out->n = 0;
  Py_ssize_t n = PySequence_Size(seq);
  if (n < 0) return -1;
  if (n > 100000) {
    PyErr_SetString(PyExc_ValueError, "too many names");
    return -1;
  }
  out->v = calloc((size_t)n + 1, sizeof(char *));
  if (!out->v) {
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *item = PySequence_GetItem(seq, i);
    if (!item) goto fail;
    if (!PyUnicode_Check(item)) {
      Py_DECREF(item);
      PyErr_SetString(PyExc_TypeError, "expected a sequence of str");
      goto fail;
    }
    PyObject *b = PyUnicode_AsUTF8String(item);
    Py_DECREF(item);
    if (!b) goto fail;
    char *s;
    Py_ssize_t len;
    if (PyBytes_AsStringAndSize(b, &s, &len) < 0) {
      Py_DECREF(b);
      goto fail;
    }
    if ((Py_ssize_t)strlen(s) != len) {
      Py_DECREF(b);
      PyErr_SetString(PyExc_ValueError, "a name contains a NUL character");
      goto fail;
    }
    out->v[i] = malloc((size_t)len + 1);
    if (out->v[i]) memcpy(out->v[i], s, (size_t)len + 1);
    Py_DECREF(b);
    out->n = (int)i + 1;
    if (!out->v[i]) {
      PyErr_NoMemory();
      goto fail;
    }
  }
  out->n = (int)n;
  return 0;
fail:
  strlist_free(out);
  return -1;
}

/* PyArg "O&" converter for strlist (cleanup is the caller's). */
static int strlist_arg(PyObject *o, void *out) { return strlist_from(o, out) == 0; }

/* ------------------------------------------------------------------ */
/* Running engine calls: GIL released, Ctrl-C cancels                  */
/* ------------------------------------------------------------------ */

/* Per-call options from the Python keywords threads=, timeout=,
 * memory_limit= (0 = default for each). */
typedef struct {
  int threads;
  long long timeout_ms;
  long long memory_limit;
} call_opts;

/* PyArg "O&" converter: a (threads, timeout_ms, memory_limit) tuple. */
static int opts_arg(PyObject *o, void *out) {
  call_opts *c = out;
  if (!PyArg_ParseTuple(o, "iLL;options must be (threads, timeout_ms, memory_limit)", &c->threads,
                        &c->timeout_ms, &c->memory_limit))
    return 0;
  if (c->threads < 0 || c->timeout_ms < 0 || c->memory_limit < 0) {
    PyErr_SetString(PyExc_ValueError, "threads, timeout and memory_limit must be >= 0");
    return 0;
  }
  return 1;
}

/* An engine call: reads its inputs from `ctx`, writes its outputs there. */
typedef gf_status (*job_fn)(void *ctx, const gf_parallel_options *po, gf_error *err);

typedef struct {
  job_fn fn;
  void *ctx;
  const gf_parallel_options *po;
  gf_error err;
  gf_status st;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} job;

static void *job_main(void *arg) {
  job *j = arg;
  gf_status st = j->fn(j->ctx, j->po, &j->err);
  pthread_mutex_lock(&j->mu);
  j->st = st;
  j->done = 1;
  pthread_cond_signal(&j->cv);
  pthread_mutex_unlock(&j->mu);
  return NULL;
}

/*
 * Runs fn(ctx) with the options `o` on a helper thread while this thread,
 * without the GIL, waits for it and every GFPY_POLL_NS takes the GIL back
 * to run PyErr_CheckSignals. A pending KeyboardInterrupt (or any exception
 * a signal handler raises) requests the call's cancel token; the call then
 * stops at its next morsel and its exception is the one raised. Returns 0,
 * or -1 with a Python exception set; on -1 the caller releases whatever
 * the call may still have produced in ctx.
 */
static int run_job(job_fn fn, void *ctx, const call_opts *o) {
  gf_parallel_options po;
  gf_parallel_options_init(&po);
  if (o) {
    po.num_workers = o->threads;
    po.timeout_ms = o->timeout_ms;
    po.memory_limit = o->memory_limit;
  }
  gf_error cerr;
  gf_error_clear(&cerr);
  gf_cancel *cancel = NULL;
  if (gf_cancel_new(&cancel, &cerr) != GF_OK) {
    raise_gf(&cerr);
    return -1;
  }
  po.cancel = cancel;
  job j;
  memset(&j, 0, sizeof j);
  j.fn = fn;
  j.ctx = ctx;
  j.po = &po;
  gf_error_clear(&j.err);
  pthread_mutex_init(&j.mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&j.cv, &ca);
  pthread_condattr_destroy(&ca);
  int interrupted = 0;
  pthread_t th;
  int started;
  Py_BEGIN_ALLOW_THREADS
  started = pthread_create(&th, NULL, job_main, &j) == 0;
  if (!started) job_main(&j); /* no thread to spare: run here, not cancellable by Ctrl-C */
  Py_END_ALLOW_THREADS
  while (started) {
    int done;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&j.mu);
    if (!j.done) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_nsec += GFPY_POLL_NS;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&j.cv, &j.mu, &ts);
    }
    done = j.done;
    pthread_mutex_unlock(&j.mu);
    Py_END_ALLOW_THREADS
    if (done) break;
    if (!interrupted && PyErr_CheckSignals() < 0) {
      interrupted = 1;
      gf_cancel_request(cancel);
    }
  }
  if (started) {
    Py_BEGIN_ALLOW_THREADS
    pthread_join(th, NULL);
    Py_END_ALLOW_THREADS
  }
  pthread_cond_destroy(&j.cv);
  pthread_mutex_destroy(&j.mu);
  gf_cancel_free(cancel);
  if (interrupted) return -1; /* the signal's exception wins over the call's result */
  if (j.st != GF_OK) {
    if (j.err.code == GF_OK) j.err.code = j.st;
    raise_gf(&j.err);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Engine calls                                                        */
/* ------------------------------------------------------------------ */

/* Inputs and output of every job below (fields used per call). */
typedef struct {
  const gf_frame *f, *g;
  const char *s1, *s2;
  strlist *l1, *l2;
  char delimiter;
  int header, compression;
  int flag;
  int64_t n;
  const void *data;
  size_t len;
  struct ArrowArrayStream *stream;
  gf_frame *out;
  void *bytes;
  size_t nbytes;
} call;

static gf_status job_read_csv(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.delimiter = c->delimiter;
  o.header = c->header;
  o.parallel = po;
  return gf_read_csv(c->s1, &o, &c->out, err);
}

static PyObject *py_read_csv(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  const char *path, *delim;
  if (!PyArg_ParseTuple(args, "ssiO&", &path, &delim, &c.header, opts_arg, &o)) return NULL;
  if (strlen(delim) > 1) return PyErr_Format(PyExc_ValueError, "delimiter must be one character, got '%s'", delim);
  c.s1 = path;
  c.delimiter = delim[0];
  if (run_job(job_read_csv, &c, &o) < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_read_ipc(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = po;
  return gf_read_ipc(c->s1, &o, &c->out, err);
}

static PyObject *py_read_ipc(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  if (!PyArg_ParseTuple(args, "sO&", &c.s1, opts_arg, &o)) return NULL;
  if (run_job(job_read_ipc, &c, &o) < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_read_ipc_bytes(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = po;
  if (c->len >= 6 && !memcmp(c->data, "ARROW1", 6))
    return gf_read_ipc_file_buffer(c->data, c->len, &o, &c->out, err);
  return gf_read_ipc_stream_buffer(c->data, c->len, &o, &c->out, err);
}

/* An IPC file or stream in a bytes-like object (what pickling produces). */
static PyObject *py_read_ipc_bytes(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  PyObject *obj;
  if (!PyArg_ParseTuple(args, "SO&", &obj, opts_arg, &o)) return NULL;
  char *p;
  Py_ssize_t len;
  if (PyBytes_AsStringAndSize(obj, &p, &len) < 0) return NULL;
  c.data = p;
  c.len = (size_t)len;
  Py_INCREF(obj); /* keeps the bytes alive while the GIL is released */
  int rc = run_job(job_read_ipc_bytes, &c, &o);
  Py_DECREF(obj);
  if (rc < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_write_ipc_bytes(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_ipc_write_options o;
  gf_ipc_write_options_init(&o);
  o.compression = (gf_ipc_compression)c->compression;
  o.parallel = po;
  return gf_write_ipc_memory(c->f, true, &o, &c->bytes, &c->nbytes, err);
}

static PyObject *py_write_ipc_bytes(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&iO&", frame_arg, &f, &c.compression, opts_arg, &o)) return NULL;
  c.f = f;
  if (run_job(job_write_ipc_bytes, &c, &o) < 0) {
    gf_mem_free(c.bytes);
    return NULL;
  }
  PyObject *r = PyBytes_FromStringAndSize(c.bytes, (Py_ssize_t)c.nbytes);
  gf_mem_free(c.bytes);
  return r;
}

static gf_status job_write_csv(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_csv_write_options o;
  gf_csv_write_options_init(&o);
  o.delimiter = c->delimiter;
  o.parallel = po;
  return gf_write_csv(c->f, c->s1, &o, err);
}

static PyObject *py_write_csv(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  const char *delim;
  if (!PyArg_ParseTuple(args, "O&ssO&", frame_arg, &f, &c.s1, &delim, opts_arg, &o)) return NULL;
  if (strlen(delim) > 1) return PyErr_Format(PyExc_ValueError, "delimiter must be one character, got '%s'", delim);
  c.f = f;
  c.delimiter = delim[0];
  if (run_job(job_write_csv, &c, &o) < 0) return NULL;
  Py_RETURN_NONE;
}

static gf_status job_write_ipc(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_ipc_write_options o;
  gf_ipc_write_options_init(&o);
  o.compression = (gf_ipc_compression)c->compression;
  o.parallel = po;
  return c->flag ? gf_write_ipc_stream(c->f, c->s1, &o, err) : gf_write_ipc_file(c->f, c->s1, &o, err);
}

static PyObject *py_write_ipc(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&sipO&", frame_arg, &f, &c.s1, &c.compression, &c.flag, opts_arg, &o))
    return NULL;
  c.f = f;
  if (run_job(job_write_ipc, &c, &o) < 0) return NULL;
  Py_RETURN_NONE;
}

/* PyArg "O&" converter: None (-> n = -1: no list) or a sequence of str. */
static int optional_strlist_arg(PyObject *o, void *out) {
  strlist *l = out;
  if (o == Py_None) {
    l->v = NULL;
    l->n = -1;
    return 1;
  }
  return strlist_from(o, l) == 0;
}

static void optional_strlist_free(strlist *l) {
  if (l->n >= 0) strlist_free(l);
}

static gf_status job_read_parquet(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_parquet_read_options o;
  gf_parquet_read_options_init(&o);
  if (c->l1->n >= 0) {
    o.columns = (const char *const *)c->l1->v;
    o.num_columns = c->l1->n;
  }
  o.parallel = po;
  if (!c->s2) return gf_read_parquet(c->s1, &o, &c->out, err);
  /* A filter: row groups its statistics rule out are not read, then the
   * rows of the others are filtered (pruning alone keeps whole groups). */
  gf_expr *e = NULL;
  gf_frame *all = NULL;
  gf_status st = gf_expr_parse(c->s2, &e, err);
  o.predicate = e;
  if (st == GF_OK) st = gf_read_parquet(c->s1, &o, &all, err);
  if (st == GF_OK) st = gf_filter(all, e, po, &c->out, err);
  gf_frame_release(all);
  gf_expr_release(e);
  return st;
}

/* read_parquet(path, columns or None, filter or None, opts): only the
 * columns named are read; a filter skips row groups, then filters rows. */
static PyObject *py_read_parquet(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  strlist cols = {NULL, -1};
  if (!PyArg_ParseTuple(args, "sO&zO&", &c.s1, optional_strlist_arg, &cols, &c.s2, opts_arg, &o)) {
    optional_strlist_free(&cols);
    return NULL;
  }
  c.l1 = &cols;
  int rc = run_job(job_read_parquet, &c, &o);
  optional_strlist_free(&cols);
  if (rc < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_write_parquet(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_parquet_write_options o;
  gf_parquet_write_options_init(&o);
  o.compression = (gf_parquet_compression)c->compression;
  o.compression_level = c->header;
  o.row_group_rows = c->n;
  o.parallel = po;
  return gf_write_parquet(c->f, c->s1, &o, err);
}

/* write_parquet(frame, path, compression, level, row_group_rows, opts);
 * 0 for level and row_group_rows means the library's default. */
static PyObject *py_write_parquet(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  long long rg;
  if (!PyArg_ParseTuple(args, "O&siiLO&", frame_arg, &f, &c.s1, &c.compression, &c.header, &rg, opts_arg, &o))
    return NULL;
  if (rg < 0) return PyErr_Format(PyExc_ValueError, "row_group_size must be > 0, got %lld", rg);
  c.f = f;
  c.n = rg;
  if (run_job(job_write_parquet, &c, &o) < 0) return NULL;
  Py_RETURN_NONE;
}

static gf_status job_read_json(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_json_read_options o;
  gf_json_read_options_init(&o);
  o.format = (gf_json_format)c->flag;
  if (c->l1->n >= 0) {
    o.columns = (const char *const *)c->l1->v;
    o.num_columns = c->l1->n;
  }
  o.parallel = po;
  return gf_read_json(c->s1, &o, &c->out, err);
}

/* read_json(path, format 0 auto / 1 ndjson / 2 array, columns or None, opts). */
static PyObject *py_read_json(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  strlist cols = {NULL, -1};
  if (!PyArg_ParseTuple(args, "siO&O&", &c.s1, &c.flag, optional_strlist_arg, &cols, opts_arg, &o)) {
    optional_strlist_free(&cols);
    return NULL;
  }
  if (c.flag < GF_JSON_AUTO || c.flag > GF_JSON_ARRAY) {
    optional_strlist_free(&cols);
    return PyErr_Format(PyExc_ValueError, "JSON format must be 0, 1 or 2, got %d", c.flag);
  }
  c.l1 = &cols;
  int rc = run_job(job_read_json, &c, &o);
  optional_strlist_free(&cols);
  if (rc < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_write_json(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_json_write_options o;
  gf_json_write_options_init(&o);
  o.parallel = po;
  return c->flag ? gf_write_json(c->f, c->s1, &o, err) : gf_write_ndjson(c->f, c->s1, &o, err);
}

/* write_json(frame, path, array, opts): NDJSON, or a JSON array with array=True. */
static PyObject *py_write_json(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&spO&", frame_arg, &f, &c.s1, &c.flag, opts_arg, &o)) return NULL;
  c.f = f;
  if (run_job(job_write_json, &c, &o) < 0) return NULL;
  Py_RETURN_NONE;
}

/* The options of a multi-file read or scan; `filename_column` and the
 * pattern list stay owned by the caller. */
static int files_options(const char *filename_column, int hive, int format, gf_scan_files_options *o) {
  gf_scan_files_options_init(o);
  if (hive < GF_HIVE_AUTO || hive > GF_HIVE_OFF) {
    PyErr_Format(PyExc_ValueError, "hive mode must be 0, 1 or 2, got %d", hive);
    return -1;
  }
  if (format < GF_SCAN_FORMAT_AUTO || format > GF_SCAN_FORMAT_IPC) {
    PyErr_Format(PyExc_ValueError, "file format must be 0, 1 or 2, got %d", format);
    return -1;
  }
  o->filename_column = filename_column;
  o->hive = (gf_hive_mode)hive;
  o->format = (gf_scan_format)format;
  return 0;
}

static gf_status job_read_files(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  const gf_scan_files_options *fo = c->data;
  return gf_read_files((const char *const *)c->l1->v, c->l1->n, fo, po, &c->out, err);
}

/* read_files(patterns, filename_column or None, hive, format, opts). */
static PyObject *py_read_files(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  strlist pats = {NULL, 0};
  const char *fname;
  int hive, format;
  if (!PyArg_ParseTuple(args, "O&ziiO&", strlist_arg, &pats, &fname, &hive, &format, opts_arg, &o)) {
    strlist_free(&pats);
    return NULL;
  }
  gf_scan_files_options fo;
  if (pats.n < 1) {
    strlist_free(&pats);
    return PyErr_Format(PyExc_ValueError, "read_files: give at least one path or pattern");
  }
  if (files_options(fname, hive, format, &fo) < 0) {
    strlist_free(&pats);
    return NULL;
  }
  c.l1 = &pats;
  c.data = &fo;
  int rc = run_job(job_read_files, &c, &o);
  strlist_free(&pats);
  if (rc < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_filter(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_expr *e = NULL;
  gf_status st = gf_expr_parse(c->s1, &e, err);
  if (st == GF_OK) st = gf_filter(c->f, e, po, &c->out, err);
  gf_expr_release(e);
  return st;
}

static PyObject *py_filter(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&sO&", frame_arg, &f, &c.s1, opts_arg, &o)) return NULL;
  c.f = f;
  if (run_job(job_filter, &c, &o) < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_with_columns(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  int n = c->l1->n;
  gf_expr **exprs = calloc((size_t)n + 1, sizeof *exprs);
  if (!exprs) return gf_error_set(err, GF_ENOMEM, "with_columns: out of memory");
  gf_status st = GF_OK;
  for (int i = 0; i < n && st == GF_OK; i++) {
    st = gf_expr_parse(c->l2->v[i], &exprs[i], err);
    if (st != GF_OK) {
      char msg[GF_ERROR_MESSAGE_SIZE];
      snprintf(msg, sizeof msg, "%s", err->message);
      gf_error_set(err, st, "column '%s': %s", c->l1->v[i], msg);
    }
  }
  if (st == GF_OK)
    st = gf_with_columns(c->f, (const char *const *)c->l1->v, exprs, n, po, &c->out, err);
  for (int i = 0; i < n; i++) gf_expr_release(exprs[i]);
  free(exprs);
  return st;
}

static PyObject *py_with_columns(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  strlist names = {0}, exprs = {0};
  if (!PyArg_ParseTuple(args, "O&O&O&O&", frame_arg, &f, strlist_arg, &names, strlist_arg, &exprs,
                        opts_arg, &o)) {
    strlist_free(&names);
    strlist_free(&exprs);
    return NULL;
  }
  PyObject *r = NULL;
  if (names.n != exprs.n) {
    PyErr_SetString(PyExc_ValueError, "with_columns: as many names as expressions");
  } else {
    c.f = f;
    c.l1 = &names;
    c.l2 = &exprs;
    if (run_job(job_with_columns, &c, &o) < 0)
      gf_frame_release(c.out);
    else
      r = frame_wrap(c.out);
  }
  strlist_free(&names);
  strlist_free(&exprs);
  return r;
}

static PyObject *py_select(PyObject *self, PyObject *args) {
  gf_frame *f, *out = NULL;
  strlist names = {0};
  if (!PyArg_ParseTuple(args, "O&O&", frame_arg, &f, strlist_arg, &names)) {
    strlist_free(&names);
    return NULL;
  }
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_select(f, (const char *const *)names.v, names.n, &out, &err);
  strlist_free(&names);
  if (st != GF_OK) return raise_gf(&err);
  return frame_wrap(out);
}

static gf_status job_group_by(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_groupby_options o;
  gf_groupby_options_init(&o);
  o.sort_keys = c->flag != 0;
  o.parallel = po;
  return gf_group_by_text(c->f, (const char *const *)c->l1->v, c->l1->n, c->s1, &o, &c->out, err);
}

static PyObject *py_group_by(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  strlist keys = {0};
  if (!PyArg_ParseTuple(args, "O&O&spO&", frame_arg, &f, strlist_arg, &keys, &c.s1, &c.flag, opts_arg, &o)) {
    strlist_free(&keys);
    return NULL;
  }
  c.f = f;
  c.l1 = &keys;
  int rc = run_job(job_group_by, &c, &o);
  strlist_free(&keys);
  if (rc < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_sort(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_sort_key *keys = NULL;
  int nkeys = 0;
  gf_status st = gf_sort_keys_parse(c->s1, &keys, &nkeys, err);
  if (st == GF_OK) st = gf_sort(c->f, keys, nkeys, c->n, po, &c->out, err);
  gf_sort_keys_free(keys);
  return st;
}

/* Sorts by a sort spec ("k desc, v nulls first"); limit > 0 is a top-k. */
static PyObject *py_sort(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  long long limit;
  if (!PyArg_ParseTuple(args, "O&sLO&", frame_arg, &f, &c.s1, &limit, opts_arg, &o)) return NULL;
  if (limit < 0) return PyErr_Format(PyExc_ValueError, "limit must be >= 0");
  c.f = f;
  c.n = limit;
  if (run_job(job_sort, &c, &o) < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_join(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  gf_join_kind how;
  gf_status st = gf_join_kind_parse(c->s1, &how, err);
  if (st != GF_OK) return st;
  gf_join_options o;
  gf_join_options_init(&o);
  o.suffix = c->s2;
  o.parallel = po;
  return gf_join(c->f, c->g, (const char *const *)c->l1->v, (const char *const *)c->l2->v, c->l1->n, how,
                 &o, &c->out, err);
}

static PyObject *py_join(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f, *g;
  strlist lon = {0}, ron = {0};
  if (!PyArg_ParseTuple(args, "O&O&O&O&ssO&", frame_arg, &f, frame_arg, &g, strlist_arg, &lon, strlist_arg,
                        &ron, &c.s1, &c.s2, opts_arg, &o)) {
    strlist_free(&lon);
    strlist_free(&ron);
    return NULL;
  }
  PyObject *r = NULL;
  if (lon.n != ron.n || lon.n == 0) {
    PyErr_SetString(PyExc_ValueError, "join: left_on and right_on need the same number (>= 1) of columns");
  } else {
    c.f = f;
    c.g = g;
    c.l1 = &lon;
    c.l2 = &ron;
    if (run_job(job_join, &c, &o) < 0)
      gf_frame_release(c.out);
    else
      r = frame_wrap(c.out);
  }
  strlist_free(&lon);
  strlist_free(&ron);
  return r;
}

static gf_status job_distinct(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  return gf_distinct(c->f, (const char *const *)c->l1->v, c->l1->n, po, &c->out, err);
}

static PyObject *py_distinct(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  strlist keys = {0};
  if (!PyArg_ParseTuple(args, "O&O&O&", frame_arg, &f, strlist_arg, &keys, opts_arg, &o)) {
    strlist_free(&keys);
    return NULL;
  }
  c.f = f;
  c.l1 = &keys;
  int rc = run_job(job_distinct, &c, &o);
  strlist_free(&keys);
  if (rc < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static gf_status job_describe(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  return gf_describe(c->f, po, &c->out, err);
}

static PyObject *py_describe(PyObject *self, PyObject *args) {
  call c = {0};
  call_opts o;
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&O&", frame_arg, &f, opts_arg, &o)) return NULL;
  c.f = f;
  if (run_job(job_describe, &c, &o) < 0) {
    gf_frame_release(c.out);
    return NULL;
  }
  return frame_wrap(c.out);
}

static PyObject *py_slice(PyObject *self, PyObject *args) {
  gf_frame *f, *out = NULL;
  long long off, len;
  if (!PyArg_ParseTuple(args, "O&LL", frame_arg, &f, &off, &len)) return NULL;
  gf_error err;
  gf_error_clear(&err);
  if (gf_frame_slice(f, off, len, &out, &err) != GF_OK) return raise_gf(&err);
  return frame_wrap(out);
}

static PyObject *py_concat(PyObject *self, PyObject *args) {
  PyObject *seq;
  if (!PyArg_ParseTuple(args, "O", &seq)) return NULL;
  Py_ssize_t n = PySequence_Size(seq);
  if (n < 0) return NULL;
  if (n == 0 || n > 1000000) return PyErr_Format(PyExc_ValueError, "concat: 1 to 1,000,000 frames");
  gf_frame **frames = calloc((size_t)n, sizeof *frames);
  PyObject **items = calloc((size_t)n, sizeof *items);
  PyObject *r = NULL;
  if (!frames || !items) {
    PyErr_NoMemory();
    goto done;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    items[i] = PySequence_GetItem(seq, i);
    if (!items[i] || !frame_arg(items[i], &frames[i])) goto done;
  }
  gf_error err;
  gf_error_clear(&err);
  gf_frame *out = NULL;
  if (gf_frame_concat(frames, (int)n, NULL, &out, &err) != GF_OK)
    raise_gf(&err);
  else
    r = frame_wrap(out);
done:
  if (items)
    for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(items[i]);
  free(items);
  free(frames);
  return r;
}

/* The table printer's text (gf_frame_format). */
static PyObject *py_format(PyObject *self, PyObject *args) {
  gf_frame *f;
  long long max_rows;
  int max_columns, max_width;
  if (!PyArg_ParseTuple(args, "O&Lii", frame_arg, &f, &max_rows, &max_columns, &max_width)) return NULL;
  gf_print_options o;
  gf_print_options_init(&o);
  if (max_rows > 0) o.max_rows = max_rows;
  if (max_columns > 0) o.max_columns = max_columns;
  if (max_width > 0) o.max_width = max_width;
  char *text = NULL;
  gf_error err;
  gf_error_clear(&err);
  if (gf_frame_format(f, &o, &text, &err) != GF_OK) return raise_gf(&err);
  PyObject *r = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
  gf_mem_free(text);
  return r;
}

/* A schema as [(name, type text, nullable), ...] (a new list). */
static PyObject *schema_list(const gf_schema *s) {
  int n = gf_schema_num_fields(s);
  PyObject *list = PyList_New(n);
  if (!list) return NULL;
  for (int i = 0; i < n; i++) {
    const gf_field *fl = gf_schema_field(s, i);
    char buf[256];
    gf_type_format(fl->type, buf, sizeof buf);
    PyObject *t = Py_BuildValue("(ssO)", fl->name, buf, fl->nullable ? Py_True : Py_False);
    if (!t) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SetItem(list, i, t);
  }
  return list;
}

/* [(name, type text, nullable), ...] of a frame */
static PyObject *py_schema(PyObject *self, PyObject *args) {
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&", frame_arg, &f)) return NULL;
  return schema_list(gf_frame_schema(f));
}

/* (rows, columns, batches) */
static PyObject *py_info(PyObject *self, PyObject *args) {
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&", frame_arg, &f)) return NULL;
  return Py_BuildValue("(Lii)", (long long)gf_frame_num_rows(f), gf_frame_num_columns(f),
                       gf_frame_num_batches(f));
}

static PyObject *py_equals(PyObject *self, PyObject *args) {
  gf_frame *f, *g;
  if (!PyArg_ParseTuple(args, "O&O&", frame_arg, &f, frame_arg, &g)) return NULL;
  return PyBool_FromLong(gf_frame_equals(f, g));
}

/* Address of Arrow buffer `index` of column `col` of batch `batch`, and the
 * array's offset: (address or 0, offset). For zero-copy checks. */
static PyObject *py_buffer_address(PyObject *self, PyObject *args) {
  gf_frame *f;
  int batch, col, index;
  if (!PyArg_ParseTuple(args, "O&iii", frame_arg, &f, &batch, &col, &index)) return NULL;
  if (batch < 0 || batch >= gf_frame_num_batches(f) || col < 0 || col >= gf_frame_num_columns(f) ||
      index < 0 || index > 2)
    return PyErr_Format(PyExc_IndexError, "no buffer %d of column %d of batch %d", index, col, batch);
  const gf_array *a = gf_frame_column(f, batch, col);
  return Py_BuildValue("(KL)", (unsigned long long)(uintptr_t)gf_array_buffer(a, index),
                       (long long)gf_array_offset(a));
}

/* ------------------------------------------------------------------ */
/* Arrow PyCapsule interface                                           */
/* ------------------------------------------------------------------ */

/* Capsule destructors: release the struct unless a consumer moved it out
 * (the protocol's consumer sets `release` to NULL), then free it. */
static void stream_capsule_free(PyObject *cap) {
  struct ArrowArrayStream *s = PyCapsule_GetPointer(cap, "arrow_array_stream");
  if (!s) {
    PyErr_Clear();
    return;
  }
  if (s->release) s->release(s);
  free(s);
}

static void schema_capsule_free(PyObject *cap) {
  struct ArrowSchema *s = PyCapsule_GetPointer(cap, "arrow_schema");
  if (!s) {
    PyErr_Clear();
    return;
  }
  if (s->release) s->release(s);
  free(s);
}

static PyObject *py_export_stream(PyObject *self, PyObject *args) {
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&", frame_arg, &f)) return NULL;
  struct ArrowArrayStream *s = calloc(1, sizeof *s);
  if (!s) return PyErr_NoMemory();
  gf_error err;
  gf_error_clear(&err);
  if (gf_frame_export_stream(f, s, &err) != GF_OK) {
    free(s);
    return raise_gf(&err);
  }
  PyObject *cap = PyCapsule_New(s, "arrow_array_stream", stream_capsule_free);
  if (!cap) {
    s->release(s);
    free(s);
  }
  return cap;
}

static PyObject *py_export_schema(PyObject *self, PyObject *args) {
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&", frame_arg, &f)) return NULL;
  struct ArrowSchema *s = calloc(1, sizeof *s);
  if (!s) return PyErr_NoMemory();
  gf_error err;
  gf_error_clear(&err);
  if (gf_schema_export(gf_frame_schema(f), s, &err) != GF_OK) {
    free(s);
    return raise_gf(&err);
  }
  PyObject *cap = PyCapsule_New(s, "arrow_schema", schema_capsule_free);
  if (!cap) {
    s->release(s);
    free(s);
  }
  return cap;
}

static gf_status job_import_stream(void *ctx, const gf_parallel_options *po, gf_error *err) {
  call *c = ctx;
  (void)po;
  return gf_frame_import_stream(c->stream, c->flag ? GF_IMPORT_CHECK_FULL : GF_IMPORT_CHECK_LAYOUT, &c->out,
                                err);
}

/* Consumes an "arrow_array_stream" capsule: the stream is moved out of it
 * (its release set to NULL, as the protocol asks) and imported zero-copy.
 * The producer's callbacks run on the helper thread; the GIL is free for
 * producers that need it. */
static PyObject *py_import_stream(PyObject *self, PyObject *args) {
  PyObject *cap;
  int full;
  if (!PyArg_ParseTuple(args, "Op", &cap, &full)) return NULL;
  struct ArrowArrayStream *src = PyCapsule_GetPointer(cap, "arrow_array_stream");
  if (!src) return NULL;
  if (!src->release)
    return PyErr_Format(PyExc_ValueError, "the Arrow stream in this capsule was already consumed");
  struct ArrowArrayStream moved = *src;
  src->release = NULL;
  call c = {0};
  c.stream = &moved;
  c.flag = full;
  /* gf_frame_import_stream releases the stream on success and failure;
   * if the job never ran (no memory for its token), release it here. */
  if (run_job(job_import_stream, &c, NULL) < 0) {
    gf_frame_release(c.out);
    if (moved.release) moved.release(&moved);
    return NULL;
  }
  return frame_wrap(c.out);
}

/* ------------------------------------------------------------------ */
/* Lazy plans (plan.h)                                                 */
/* ------------------------------------------------------------------ */

static PyTypeObject *PlanType;

static void release_plan(void *p) { gf_plan_release(p); }

/* Wraps `p`, taking over the caller's reference (released on failure). */
static PyObject *plan_wrap(gf_plan *p) { return handle_wrap(PlanType, p, release_plan); }

static PyType_Slot plan_slots[] = {
    {Py_tp_dealloc, (void *)handle_dealloc},
    {Py_tp_doc, (void *)"Handle of an immutable gf_plan (use gopherframe.LazyFrame)."},
    {0, NULL},
};

static PyType_Spec plan_spec = {
    "gopherframe._gopherframe.Plan", sizeof(HandleObject), 0, Py_TPFLAGS_DEFAULT, plan_slots,
};

/* PyArg "O&" converter: a Plan argument to its gf_plan (borrowed). */
static int plan_arg(PyObject *o, void *out) { return handle_arg(o, PlanType, "Plan", out); }

/* Returns the wrapped plan, or raises err's class when st failed. */
static PyObject *plan_result(gf_status st, gf_plan *out, const gf_error *err) {
  if (st != GF_OK) {
    gf_plan_release(out);
    return raise_gf(err);
  }
  return plan_wrap(out);
}

static PyObject *py_plan_from_frame(PyObject *self, PyObject *args) {
  gf_frame *f;
  if (!PyArg_ParseTuple(args, "O&", frame_arg, &f)) return NULL;
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_plan_from_frame(f, &out, &err);
  return plan_result(st, out, &err);
}

/* CSV source; reads a sample now (the planned schema), without the GIL. */
static PyObject *py_plan_scan_csv(PyObject *self, PyObject *args) {
  const char *path, *delim;
  int header;
  if (!PyArg_ParseTuple(args, "ssi", &path, &delim, &header)) return NULL;
  if (strlen(delim) > 1) return PyErr_Format(PyExc_ValueError, "delimiter must be one character, got '%s'", delim);
  gf_csv_read_options o;
  gf_csv_read_options_init(&o);
  o.delimiter = delim[0];
  o.header = header;
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st;
  Py_BEGIN_ALLOW_THREADS
  st = gf_plan_scan_csv(path, &o, &out, &err);
  Py_END_ALLOW_THREADS
  return plan_result(st, out, &err);
}

/* The file sources that take only a path (their options left default). */
static gf_status scan_ipc_path(const char *path, gf_plan **out, gf_error *err) {
  return gf_plan_scan_ipc(path, NULL, out, err);
}
static gf_status scan_parquet_path(const char *path, gf_plan **out, gf_error *err) {
  return gf_plan_scan_parquet(path, NULL, out, err);
}

/* A lazy source over one path: the file's metadata (the IPC schema, the
 * Parquet footer) is read now, without the GIL; the plan's projection and
 * pushed filters reach the reader when it runs. */
static PyObject *plan_scan_path(PyObject *args, gf_status (*scan)(const char *, gf_plan **, gf_error *)) {
  const char *path;
  if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st;
  Py_BEGIN_ALLOW_THREADS
  st = scan(path, &out, &err);
  Py_END_ALLOW_THREADS
  return plan_result(st, out, &err);
}

static PyObject *py_plan_scan_ipc(PyObject *self, PyObject *args) { return plan_scan_path(args, scan_ipc_path); }

static PyObject *py_plan_scan_parquet(PyObject *self, PyObject *args) {
  return plan_scan_path(args, scan_parquet_path);
}

/* A source over many files (globs, directories, Hive partitions): every
 * file's schema is read now, without the GIL. */
static PyObject *py_plan_scan_files(PyObject *self, PyObject *args) {
  strlist pats = {NULL, 0};
  const char *fname;
  int hive, format;
  if (!PyArg_ParseTuple(args, "O&zii", strlist_arg, &pats, &fname, &hive, &format)) {
    strlist_free(&pats);
    return NULL;
  }
  gf_scan_files_options fo;
  if (pats.n < 1) {
    strlist_free(&pats);
    return PyErr_Format(PyExc_ValueError, "scan_files: give at least one path or pattern");
  }
  if (files_options(fname, hive, format, &fo) < 0) {
    strlist_free(&pats);
    return NULL;
  }
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st;
  Py_BEGIN_ALLOW_THREADS
  st = gf_plan_scan_files((const char *const *)pats.v, pats.n, &fo, NULL, &out, &err);
  Py_END_ALLOW_THREADS
  strlist_free(&pats);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_filter(PyObject *self, PyObject *args) {
  gf_plan *in;
  const char *text;
  if (!PyArg_ParseTuple(args, "O&s", plan_arg, &in, &text)) return NULL;
  gf_plan *out = NULL;
  gf_expr *e = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_expr_parse(text, &e, &err);
  if (st == GF_OK) st = gf_plan_filter(in, e, &out, &err);
  gf_expr_release(e);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_with_columns(PyObject *self, PyObject *args) {
  gf_plan *in;
  strlist names = {0}, texts = {0};
  if (!PyArg_ParseTuple(args, "O&O&O&", plan_arg, &in, strlist_arg, &names, strlist_arg, &texts)) {
    strlist_free(&names);
    strlist_free(&texts);
    return NULL;
  }
  PyObject *r = NULL;
  if (names.n != texts.n) {
    PyErr_SetString(PyExc_ValueError, "with_columns: as many names as expressions");
  } else {
    gf_expr **exprs = calloc((size_t)names.n + 1, sizeof *exprs);
    if (!exprs) {
      PyErr_NoMemory();
    } else {
      gf_error err;
      gf_error_clear(&err);
      gf_status st = GF_OK;
      for (int i = 0; i < names.n && st == GF_OK; i++) st = gf_expr_parse(texts.v[i], &exprs[i], &err);
      gf_plan *out = NULL;
      if (st == GF_OK) st = gf_plan_with_columns(in, (const char *const *)names.v, exprs, names.n, &out, &err);
      for (int i = 0; i < names.n; i++) gf_expr_release(exprs[i]);
      free(exprs);
      r = plan_result(st, out, &err);
    }
  }
  strlist_free(&names);
  strlist_free(&texts);
  return r;
}

static PyObject *py_plan_select(PyObject *self, PyObject *args) {
  gf_plan *in;
  strlist names = {0};
  if (!PyArg_ParseTuple(args, "O&O&", plan_arg, &in, strlist_arg, &names)) {
    strlist_free(&names);
    return NULL;
  }
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_plan_select(in, (const char *const *)names.v, names.n, &out, &err);
  strlist_free(&names);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_group_by(PyObject *self, PyObject *args) {
  gf_plan *in;
  strlist keys = {0};
  const char *aggs;
  int sort_keys;
  if (!PyArg_ParseTuple(args, "O&O&sp", plan_arg, &in, strlist_arg, &keys, &aggs, &sort_keys)) {
    strlist_free(&keys);
    return NULL;
  }
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_plan_group_by(in, (const char *const *)keys.v, keys.n, aggs, sort_keys != 0, &out, &err);
  strlist_free(&keys);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_sort(PyObject *self, PyObject *args) {
  gf_plan *in;
  const char *spec;
  if (!PyArg_ParseTuple(args, "O&s", plan_arg, &in, &spec)) return NULL;
  gf_sort_key *keys = NULL;
  int nkeys = 0;
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_sort_keys_parse(spec, &keys, &nkeys, &err);
  if (st == GF_OK) st = gf_plan_sort(in, keys, nkeys, &out, &err);
  gf_sort_keys_free(keys);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_join(PyObject *self, PyObject *args) {
  gf_plan *l, *r;
  strlist lon = {0}, ron = {0};
  const char *how, *suffix;
  if (!PyArg_ParseTuple(args, "O&O&O&O&ss", plan_arg, &l, plan_arg, &r, strlist_arg, &lon, strlist_arg, &ron,
                        &how, &suffix)) {
    strlist_free(&lon);
    strlist_free(&ron);
    return NULL;
  }
  PyObject *res = NULL;
  if (lon.n != ron.n || lon.n == 0) {
    PyErr_SetString(PyExc_ValueError, "join: left_on and right_on need the same number (>= 1) of columns");
  } else {
    gf_plan *out = NULL;
    gf_error err;
    gf_error_clear(&err);
    gf_join_kind kind;
    gf_status st = gf_join_kind_parse(how, &kind, &err);
    if (st == GF_OK)
      st = gf_plan_join(l, r, (const char *const *)lon.v, (const char *const *)ron.v, lon.n, kind, suffix, &out,
                        &err);
    res = plan_result(st, out, &err);
  }
  strlist_free(&lon);
  strlist_free(&ron);
  return res;
}

static PyObject *py_plan_limit(PyObject *self, PyObject *args) {
  gf_plan *in;
  long long off, n;
  if (!PyArg_ParseTuple(args, "O&LL", plan_arg, &in, &off, &n)) return NULL;
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_plan_limit(in, off, n, &out, &err);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_distinct(PyObject *self, PyObject *args) {
  gf_plan *in;
  strlist keys = {0};
  if (!PyArg_ParseTuple(args, "O&O&", plan_arg, &in, strlist_arg, &keys)) {
    strlist_free(&keys);
    return NULL;
  }
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_plan_distinct(in, (const char *const *)keys.v, keys.n, &out, &err);
  strlist_free(&keys);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_union(PyObject *self, PyObject *args) {
  gf_plan *a, *b;
  if (!PyArg_ParseTuple(args, "O&O&", plan_arg, &a, plan_arg, &b)) return NULL;
  gf_plan *out = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = gf_plan_union(a, b, &out, &err);
  return plan_result(st, out, &err);
}

static PyObject *py_plan_schema(PyObject *self, PyObject *args) {
  gf_plan *p;
  if (!PyArg_ParseTuple(args, "O&", plan_arg, &p)) return NULL;
  return schema_list(gf_plan_schema(p));
}

static PyObject *py_plan_explain(PyObject *self, PyObject *args) {
  gf_plan *p;
  int optimized, schema;
  unsigned int disabled;
  if (!PyArg_ParseTuple(args, "O&ppI", plan_arg, &p, &optimized, &schema, &disabled)) return NULL;
  unsigned flags = (optimized ? GF_PLAN_EXPLAIN_OPTIMIZED : 0u) | (schema ? GF_PLAN_EXPLAIN_SCHEMA : 0u);
  char *text = NULL;
  gf_error err;
  gf_error_clear(&err);
  if (gf_plan_explain(p, flags, disabled, &text, &err) != GF_OK) return raise_gf(&err);
  PyObject *r = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
  gf_mem_free(text);
  return r;
}

/* Inputs and outputs of the plan-running jobs. */
typedef struct {
  const gf_plan *p;
  unsigned disabled;
  int want_profile;
  int sink; /* 0 collect, 1 csv, 2 ipc, 3 parquet */
  const char *path;
  char delimiter;
  int compression;      /* ipc or parquet codec */
  int level;            /* parquet compression level (0: the codec's) */
  long long row_group;  /* parquet rows per row group (0: default) */
  gf_frame *out;
  gf_plan_profile *profile;
} plan_call;

static gf_status job_plan_run(void *ctx, const gf_parallel_options *po, gf_error *err) {
  plan_call *c = ctx;
  gf_plan_options o;
  gf_plan_options_init(&o);
  o.parallel = po;
  o.disabled_rules = c->disabled;
  if (c->want_profile) o.profile = &c->profile;
  if (c->sink == 1) {
    gf_csv_write_options w;
    gf_csv_write_options_init(&w);
    w.delimiter = c->delimiter;
    return gf_plan_sink_csv(c->p, c->path, &w, &o, err);
  }
  if (c->sink == 2) {
    gf_ipc_write_options w;
    gf_ipc_write_options_init(&w);
    w.compression = (gf_ipc_compression)c->compression;
    return gf_plan_sink_ipc(c->p, c->path, &w, &o, err);
  }
  if (c->sink == 3) {
    gf_parquet_write_options w;
    gf_parquet_write_options_init(&w);
    w.compression = (gf_parquet_compression)c->compression;
    w.compression_level = c->level;
    w.row_group_rows = c->row_group;
    return gf_plan_sink_parquet(c->p, c->path, &w, &o, err);
  }
  return gf_plan_collect(c->p, &o, &c->out, err);
}

/* collect(plan, disabled_rules, profile, opts) -> Frame or (Frame, text). */
static PyObject *py_plan_collect(PyObject *self, PyObject *args) {
  plan_call c;
  memset(&c, 0, sizeof c);
  call_opts o;
  gf_plan *p;
  if (!PyArg_ParseTuple(args, "O&IpO&", plan_arg, &p, &c.disabled, &c.want_profile, opts_arg, &o)) return NULL;
  c.p = p;
  if (run_job(job_plan_run, &c, &o) < 0) {
    gf_frame_release(c.out);
    gf_plan_profile_free(c.profile);
    return NULL;
  }
  PyObject *frame = frame_wrap(c.out);
  if (!c.want_profile || !frame) {
    gf_plan_profile_free(c.profile);
    return frame;
  }
  char *text = NULL;
  gf_error err;
  gf_error_clear(&err);
  gf_status st = c.profile ? gf_plan_profile_format(c.profile, &text, &err) : GF_OK;
  gf_plan_profile_free(c.profile);
  if (st != GF_OK) {
    Py_DECREF(frame);
    return raise_gf(&err);
  }
  PyObject *r = Py_BuildValue("(Ns)", frame, text ? text : "");
  gf_mem_free(text);
  return r;
}

/* sink(plan, kind 1 csv / 2 ipc / 3 parquet, path, delimiter, compression,
 * disabled, opts[, parquet level, parquet row group rows]) */
static PyObject *py_plan_sink(PyObject *self, PyObject *args) {
  plan_call c;
  memset(&c, 0, sizeof c);
  call_opts o;
  gf_plan *p;
  const char *delim;
  if (!PyArg_ParseTuple(args, "O&issiIO&|iL", plan_arg, &p, &c.sink, &c.path, &delim, &c.compression, &c.disabled,
                        opts_arg, &o, &c.level, &c.row_group))
    return NULL;
  if (strlen(delim) > 1) return PyErr_Format(PyExc_ValueError, "delimiter must be one character, got '%s'", delim);
  if (c.sink < 1 || c.sink > 3)
    return PyErr_Format(PyExc_ValueError, "sink kind must be 1 (csv), 2 (ipc) or 3 (parquet)");
  if (c.row_group < 0) return PyErr_Format(PyExc_ValueError, "row_group_size must be positive, got %lld", c.row_group);
  c.p = p;
  c.delimiter = delim[0];
  if (run_job(job_plan_run, &c, &o) < 0) return NULL;
  Py_RETURN_NONE;
}

/* Version, codecs (IPC lz4/zstd; Parquet pages snappy/gzip/zstd/lz4;
 * whole-file gzip/zstd/lz4/bzip2) and CPU features. */
static PyObject *py_build_info(PyObject *self, PyObject *noargs) {
#define GFPY_B(x) ((x) ? Py_True : Py_False)
  return Py_BuildValue(
      "{s:s,s:O,s:O,s:{s:O,s:O,s:O,s:O,s:O},s:{s:O,s:O,s:O,s:O},s:s}", "version", gf_version(), "lz4",
      GFPY_B(gf_ipc_compression_available(GF_IPC_COMPRESSION_LZ4_FRAME)), "zstd",
      GFPY_B(gf_ipc_compression_available(GF_IPC_COMPRESSION_ZSTD)), "parquet", "none", Py_True, "snappy",
      GFPY_B(gf_parquet_compression_available(GF_PARQUET_SNAPPY)), "gzip",
      GFPY_B(gf_parquet_compression_available(GF_PARQUET_GZIP)), "zstd",
      GFPY_B(gf_parquet_compression_available(GF_PARQUET_ZSTD)), "lz4",
      GFPY_B(gf_parquet_compression_available(GF_PARQUET_LZ4_RAW)), "files", "gzip",
      GFPY_B(gf_compression_available(GF_COMPRESSION_GZIP)), "zstd",
      GFPY_B(gf_compression_available(GF_COMPRESSION_ZSTD)), "lz4",
      GFPY_B(gf_compression_available(GF_COMPRESSION_LZ4_FRAME)), "bzip2",
      GFPY_B(gf_compression_available(GF_COMPRESSION_BZIP2)), "cpu", gf_cpu_features_string());
#undef GFPY_B
}

static PyObject *py_default_threads(PyObject *self, PyObject *noargs) {
  return PyLong_FromLong(gf_default_num_workers());
}

/* ------------------------------------------------------------------ */
/* Module                                                              */
/* ------------------------------------------------------------------ */

static PyMethodDef methods[] = {
    {"read_csv", py_read_csv, METH_VARARGS, "read_csv(path, delimiter, header, opts) -> Frame"},
    {"read_ipc", py_read_ipc, METH_VARARGS, "read_ipc(path, opts) -> Frame"},
    {"read_ipc_bytes", py_read_ipc_bytes, METH_VARARGS, "read_ipc_bytes(bytes, opts) -> Frame"},
    {"write_ipc_bytes", py_write_ipc_bytes, METH_VARARGS, "write_ipc_bytes(frame, compression, opts) -> bytes"},
    {"write_csv", py_write_csv, METH_VARARGS, "write_csv(frame, path, delimiter, opts)"},
    {"write_ipc", py_write_ipc, METH_VARARGS, "write_ipc(frame, path, compression, stream, opts)"},
    {"read_parquet", py_read_parquet, METH_VARARGS, "read_parquet(path, columns, filter, opts) -> Frame"},
    {"write_parquet", py_write_parquet, METH_VARARGS,
     "write_parquet(frame, path, compression, level, row_group_rows, opts)"},
    {"read_json", py_read_json, METH_VARARGS, "read_json(path, format, columns, opts) -> Frame"},
    {"write_json", py_write_json, METH_VARARGS, "write_json(frame, path, array, opts)"},
    {"read_files", py_read_files, METH_VARARGS, "read_files(patterns, filename_column, hive, format, opts) -> Frame"},
    {"filter", py_filter, METH_VARARGS, "filter(frame, predicate, opts) -> Frame"},
    {"with_columns", py_with_columns, METH_VARARGS, "with_columns(frame, names, exprs, opts) -> Frame"},
    {"select", py_select, METH_VARARGS, "select(frame, names) -> Frame"},
    {"group_by", py_group_by, METH_VARARGS, "group_by(frame, keys, aggs, sort_keys, opts) -> Frame"},
    {"sort", py_sort, METH_VARARGS, "sort(frame, spec, limit, opts) -> Frame"},
    {"join", py_join, METH_VARARGS, "join(left, right, left_on, right_on, how, suffix, opts) -> Frame"},
    {"distinct", py_distinct, METH_VARARGS, "distinct(frame, keys, opts) -> Frame"},
    {"describe", py_describe, METH_VARARGS, "describe(frame, opts) -> Frame"},
    {"slice", py_slice, METH_VARARGS, "slice(frame, offset, length) -> Frame"},
    {"concat", py_concat, METH_VARARGS, "concat(frames) -> Frame"},
    {"format", py_format, METH_VARARGS, "format(frame, max_rows, max_columns, max_width) -> str"},
    {"schema", py_schema, METH_VARARGS, "schema(frame) -> [(name, type, nullable)]"},
    {"info", py_info, METH_VARARGS, "info(frame) -> (rows, columns, batches)"},
    {"equals", py_equals, METH_VARARGS, "equals(a, b) -> bool"},
    {"buffer_address", py_buffer_address, METH_VARARGS, "buffer_address(frame, batch, col, index)"},
    {"export_stream", py_export_stream, METH_VARARGS, "export_stream(frame) -> arrow_array_stream capsule"},
    {"export_schema", py_export_schema, METH_VARARGS, "export_schema(frame) -> arrow_schema capsule"},
    {"import_stream", py_import_stream, METH_VARARGS, "import_stream(capsule, full_check) -> Frame"},
    {"plan_from_frame", py_plan_from_frame, METH_VARARGS, "plan_from_frame(frame) -> Plan"},
    {"plan_scan_csv", py_plan_scan_csv, METH_VARARGS, "plan_scan_csv(path, delimiter, header) -> Plan"},
    {"plan_scan_ipc", py_plan_scan_ipc, METH_VARARGS, "plan_scan_ipc(path) -> Plan"},
    {"plan_scan_parquet", py_plan_scan_parquet, METH_VARARGS, "plan_scan_parquet(path) -> Plan"},
    {"plan_scan_files", py_plan_scan_files, METH_VARARGS,
     "plan_scan_files(patterns, filename_column, hive, format) -> Plan"},
    {"plan_filter", py_plan_filter, METH_VARARGS, "plan_filter(plan, predicate) -> Plan"},
    {"plan_with_columns", py_plan_with_columns, METH_VARARGS, "plan_with_columns(plan, names, exprs) -> Plan"},
    {"plan_select", py_plan_select, METH_VARARGS, "plan_select(plan, names) -> Plan"},
    {"plan_group_by", py_plan_group_by, METH_VARARGS, "plan_group_by(plan, keys, aggs, sort_keys) -> Plan"},
    {"plan_sort", py_plan_sort, METH_VARARGS, "plan_sort(plan, spec) -> Plan"},
    {"plan_join", py_plan_join, METH_VARARGS, "plan_join(left, right, left_on, right_on, how, suffix) -> Plan"},
    {"plan_limit", py_plan_limit, METH_VARARGS, "plan_limit(plan, offset, n) -> Plan"},
    {"plan_distinct", py_plan_distinct, METH_VARARGS, "plan_distinct(plan, keys) -> Plan"},
    {"plan_union", py_plan_union, METH_VARARGS, "plan_union(a, b) -> Plan"},
    {"plan_schema", py_plan_schema, METH_VARARGS, "plan_schema(plan) -> [(name, type, nullable)]"},
    {"plan_explain", py_plan_explain, METH_VARARGS, "plan_explain(plan, optimized, schema, disabled) -> str"},
    {"plan_collect", py_plan_collect, METH_VARARGS, "plan_collect(plan, disabled, profile, opts) -> Frame"},
    {"plan_sink", py_plan_sink, METH_VARARGS, "plan_sink(plan, kind, path, delimiter, compression, disabled, opts[, level, row_group_rows])"},
    {"build_info", py_build_info, METH_NOARGS, "build_info() -> dict"},
    {"default_threads", py_default_threads, METH_NOARGS, "default_threads() -> int"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_gopherframe", "GopherFrame engine bindings (see the gopherframe package).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__gopherframe(void) {
  PyObject *m = PyModule_Create(&module_def);
  if (!m) return NULL;
  FrameType = (PyTypeObject *)PyType_FromSpec(&frame_spec);
  if (!FrameType) goto fail;
  Py_INCREF(FrameType);
  if (PyModule_AddObject(m, "Frame", (PyObject *)FrameType) < 0) goto fail;
  PlanType = (PyTypeObject *)PyType_FromSpec(&plan_spec);
  if (!PlanType) goto fail;
  Py_INCREF(PlanType);
  if (PyModule_AddObject(m, "Plan", (PyObject *)PlanType) < 0) goto fail;
  if (add_exceptions(m) < 0) goto fail;
  return m;
fail:
  Py_DECREF(m);
  return NULL;
}
