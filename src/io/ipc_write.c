/* Arrow IPC writer: a schema message, one DictionaryBatch per dictionary
 * column, one RecordBatch per frame batch, and for files the footer. Bodies
 * start 64-byte aligned and every buffer is padded to 64 bytes; with
 * compression each body buffer is compressed on the runtime's workers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/builder_internal.h"
#include "data/view_internal.h"
#include "exec/exec_internal.h"
#include "io/csv_write_internal.h"
#include "io/ipc_internal.h"

/* Where the bytes go: a file (through a staging buffer) or memory. */
typedef struct sink {
  gfi_atomic_file *file; /* NULL for fd/memory sinks */
  int fd;                /* >= 0 for fd sinks */
  uint8_t *stage;        /* staging buffer for files and fds */
  size_t stage_len;
  gfi_vec mem;           /* memory sink (owned: the caller gf_mem_frees it) */
  uint64_t pos;          /* bytes emitted so far */
} sink;

#define STAGE_SIZE (1u << 16)

static gf_status fd_write_all(int fd, const void *data, size_t len,
                              gf_error *err) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return gf_error_set(err, GF_EIO, "IPC write to fd %d failed: %s", fd,
                          strerror(errno));
    }
    p += n;
    len -= (size_t)n;
  }
  return GF_OK;
}

static gf_status raw_out(sink *s, const void *p, size_t n, gf_error *err) {
  if (s->file) return gfi_atomic_file_write(s->file, p, n, err);
  return fd_write_all(s->fd, p, n, err);
}

static gf_status sink_flush(sink *s, gf_error *err) {
  if (!s->stage || !s->stage_len) return GF_OK;
  gf_status st = raw_out(s, s->stage, s->stage_len, err);
  s->stage_len = 0;
  return st;
}

static gf_status sink_write(sink *s, const void *p, size_t n, gf_error *err) {
  s->pos += n;
  if (!n) return GF_OK;
  if (!s->stage) {
    return gfi_vec_append(&s->mem, p, n, err);
  }
  if (n >= STAGE_SIZE) {
    GF_RETURN_NOT_OK(sink_flush(s, err));
    return raw_out(s, p, n, err);
  }
  if (STAGE_SIZE - s->stage_len < n) GF_RETURN_NOT_OK(sink_flush(s, err));
  memcpy(s->stage + s->stage_len, p, n);
  s->stage_len += n;
  return GF_OK;
}

static const uint8_t zeros[64];

/* Pads the output with zeros to a multiple of `align` (<= 64). */
static gf_status sink_pad(sink *s, size_t align, gf_error *err) {
  size_t n = (size_t)((align - s->pos % align) % align);
  return sink_write(s, zeros, n, err);
}

static void put_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* ------------------------------------------------------------------ */
/* Bodies                                                               */
/* ------------------------------------------------------------------ */

/* One body buffer: bytes to write (maybe a temporary copy) and, when
 * compressed, the compressed form with its 8-byte length prefix. */
typedef struct wbuf {
  const uint8_t *p;
  size_t n;
  gf_buffer *tmp;
  uint8_t *c; /* prefix + compressed bytes, NULL = write raw */
  size_t clen, ccap;
  bool raw_prefixed; /* compression did not pay: prefix -1 + raw bytes */
} wbuf;

typedef struct body {
  const gf_allocator *a;
  wbuf *bufs;
  size_t nbufs, cap_bufs;
  int64_t *nodes; /* (length, null_count) pairs */
  size_t nnodes, cap_nodes;
  int64_t *variadic; /* data buffer count of each view array, in order */
  size_t nvariadic, cap_variadic;
  bool views;        /* GF_IPC_WRITE_STRING_VIEWS */
  int codec, level;
} body;

static void body_reset(body *b) {
  for (size_t i = 0; i < b->nbufs; i++) {
    gf_buffer_release(b->bufs[i].tmp);
    if (b->bufs[i].c) gf_free(b->a, b->bufs[i].c, b->bufs[i].ccap, 8);
  }
  b->nbufs = 0;
  b->nnodes = 0;
  b->nvariadic = 0;
}

static void body_free(body *b) {
  body_reset(b);
  gfi_mfree(b->a, b->bufs, b->cap_bufs * sizeof *b->bufs);
  gfi_mfree(b->a, b->nodes, b->cap_nodes * 2 * sizeof *b->nodes);
  gfi_mfree(b->a, b->variadic, b->cap_variadic * sizeof *b->variadic);
}

/* Records the data buffer count of one view array (variadicBufferCounts). */
static gf_status add_variadic(body *b, int64_t count, gf_error *err) {
  if (b->nvariadic == b->cap_variadic) {
    size_t nc = b->cap_variadic ? b->cap_variadic * 2 : 8;
    int64_t *v = gfi_malloc(b->a, nc * sizeof *v);
    if (!v) return GF_OOM(err, "IPC variadic buffer counts");
    if (b->nvariadic) memcpy(v, b->variadic, b->nvariadic * sizeof *v);
    gfi_mfree(b->a, b->variadic, b->cap_variadic * sizeof *v);
    b->variadic = v;
    b->cap_variadic = nc;
  }
  b->variadic[b->nvariadic++] = count;
  return GF_OK;
}

static gf_status add_node(body *b, int64_t len, int64_t nulls, gf_error *err) {
  if (b->nnodes == b->cap_nodes) {
    size_t nc = b->cap_nodes ? b->cap_nodes * 2 : 16;
    int64_t *n = gfi_malloc(b->a, nc * 2 * sizeof *n);
    if (!n) return GF_OOM(err, "IPC field nodes");
    if (b->nnodes) memcpy(n, b->nodes, b->nnodes * 2 * sizeof *n);
    gfi_mfree(b->a, b->nodes, b->cap_nodes * 2 * sizeof *n);
    b->nodes = n;
    b->cap_nodes = nc;
  }
  b->nodes[2 * b->nnodes] = len;
  b->nodes[2 * b->nnodes + 1] = nulls;
  b->nnodes++;
  return GF_OK;
}

/* Appends a buffer; takes ownership of `tmp` (may be NULL) even on error. */
static gf_status add_buf(body *b, const void *p, size_t n, gf_buffer *tmp,
                         gf_error *err) {
  if (b->nbufs == b->cap_bufs) {
    size_t nc = b->cap_bufs ? b->cap_bufs * 2 : 32;
    wbuf *w = gfi_calloc(b->a, nc * sizeof *w);
    if (!w) {
      gf_buffer_release(tmp);
      return GF_OOM(err, "IPC buffer list");
    }
    if (b->nbufs) memcpy(w, b->bufs, b->nbufs * sizeof *w);
    gfi_mfree(b->a, b->bufs, b->cap_bufs * sizeof *w);
    b->bufs = w;
    b->cap_bufs = nc;
  }
  wbuf *w = &b->bufs[b->nbufs++];
  memset(w, 0, sizeof *w);
  w->p = p;
  w->n = n;
  w->tmp = tmp;
  return GF_OK;
}

/* Adds `len` bits of `bits` from bit `off`, shifting into a copy when the
 * offset is not on a byte boundary. */
static gf_status add_bits(body *b, const uint8_t *bits, int64_t off,
                          int64_t len, gf_error *err) {
  size_t nbytes = (size_t)gfi_bitmap_bytes(len);
  if (!bits || len == 0) return add_buf(b, NULL, 0, NULL, err);
  if (off % 8 == 0) return add_buf(b, bits + off / 8, nbytes, NULL, err);
  gf_buffer *t;
  if (gfi_buffer_alloc(b->a, nbytes, &t) != GF_OK)
    return GF_OOM(err, "a shifted bitmap");
  gfi_bitmap_copy(gf_buffer_mutable_data(t), 0, bits, off, len);
  return add_buf(b, gf_buffer_data(t), nbytes, t, err);
}

static const uint8_t zero_offsets[8];

static gf_status add_bits(body *b, const uint8_t *bits, int64_t off,
                          int64_t len, gf_error *err);

/* Adds the views of a utf8/binary (or large) array, then its data windows
 * (zero-copy ranges of its data buffer), as a Utf8View/BinaryView. */
static gf_status add_views(body *b, const gf_array *a, gf_error *err) {
  gf_buffer *views = NULL;
  const uint8_t **starts = NULL;
  int64_t *sizes = NULL, nw = 0;
  GF_RETURN_NOT_OK(gfi_view_build(b->a, a, 0, &views, &starts, &sizes, &nw, err));
  gf_status st = add_buf(b, gf_buffer_data(views), (size_t)a->length * GFI_VIEW_SIZE, views, err);
  for (int64_t k = 0; k < nw && st == GF_OK; k++)
    st = add_buf(b, starts[k], (size_t)sizes[k], NULL, err);
  if (st == GF_OK) st = add_variadic(b, nw, err);
  if (nw > 0) {
    gfi_mfree(b->a, starts, (size_t)nw * sizeof *starts);
    gfi_mfree(b->a, sizes, (size_t)nw * sizeof *sizes);
  }
  return st;
}

/* Adds the node and buffers of one array (any offset) in IPC order. */
static gf_status add_array(body *b, const gf_array *a, gf_error *err) {
  int64_t len = a->length, off = a->offset;
  GF_RETURN_NOT_OK(add_node(b, len, a->type.id == GF_TYPE_NULL ? len : a->null_count, err));
  gf_type_id id = a->type.id;
  if (id == GF_TYPE_NULL) return GF_OK;
  const uint8_t *v = a->null_count > 0 ? gfi_buf(a, 0) : NULL;
  GF_RETURN_NOT_OK(add_bits(b, v, off, len, err));
  if (b->views && gfi_type_is_var_width(id)) return add_views(b, a, err);
  const uint8_t *d = gfi_buf(a, 1);
  if (id == GF_TYPE_BOOL) return add_bits(b, d, off, len, err);
  if (!gfi_type_is_var_width(id)) {
    size_t w = id == GF_TYPE_DICTIONARY ? 4 : (size_t)gfi_type_byte_width(a->type);
    if (!d || len == 0) return add_buf(b, NULL, 0, NULL, err);
    return add_buf(b, d + (size_t)off * w, (size_t)len * w, NULL, err);
  }
  bool large = gfi_type_is_large(id);
  size_t osz = large ? 8 : 4;
  if (len == 0 || !d) {
    GF_RETURN_NOT_OK(add_buf(b, zero_offsets, osz, NULL, err));
    return add_buf(b, NULL, 0, NULL, err);
  }
  int64_t first = large ? ((const int64_t *)d)[off] : ((const int32_t *)d)[off];
  int64_t last = large ? ((const int64_t *)d)[off + len]
                       : ((const int32_t *)d)[off + len];
  size_t obytes = (size_t)(len + 1) * osz;
  if (first == 0) {
    GF_RETURN_NOT_OK(add_buf(b, d + (size_t)off * osz, obytes, NULL, err));
  } else {
    gf_buffer *t;
    if (gfi_buffer_alloc(b->a, obytes, &t) != GF_OK)
      return GF_OOM(err, "rebased offsets");
    uint8_t *o = gf_buffer_mutable_data(t);
    for (int64_t i = 0; i <= len; i++) {
      if (large)
        ((int64_t *)o)[i] = ((const int64_t *)d)[off + i] - first;
      else
        ((int32_t *)o)[i] = (int32_t)(((const int32_t *)d)[off + i] - first);
    }
    GF_RETURN_NOT_OK(add_buf(b, o, obytes, t, err));
  }
  const uint8_t *data = gfi_buf(a, 2);
  if (!data || last == first) return add_buf(b, NULL, 0, NULL, err);
  return add_buf(b, data + first, (size_t)(last - first), NULL, err);
}

/* Compresses buffer `chunk_id` of the body (a runtime chunk kernel). */
static gf_status compress_one(void *user, const gf_chunk_spec *chunk,
                              gf_task_ctx *ctx) {
  body *b = user;
  wbuf *w = &b->bufs[chunk->chunk_id];
  if (w->n == 0) return GF_OK;
  size_t cap = 8 + gfi_ipc_compress_bound(b->codec, w->n);
  w->c = gf_alloc(b->a, cap, 8);
  if (!w->c) return GF_OOM(ctx->err, "a compressed IPC buffer");
  w->ccap = cap;
  size_t clen;
  GF_RETURN_NOT_OK(gfi_ipc_compress(b->codec, b->level, w->p, w->n, w->c + 8,
                                    cap - 8, &clen, ctx->err));
  if (clen >= w->n) {
    /* No gain: Arrow's -1 prefix says the raw bytes follow. */
    gf_free(b->a, w->c, w->ccap, 8);
    w->c = NULL;
    w->ccap = 0;
    w->raw_prefixed = true;
    return GF_OK;
  }
  put_le(w->c, (uint64_t)w->n, 8);
  w->clen = 8 + clen;
  return GF_OK;
}

/* Bytes buffer i takes in the body. */
static size_t stored_len(const wbuf *w) {
  if (w->c) return w->clen;
  if (w->raw_prefixed) return 8 + w->n;
  return w->n;
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

typedef struct writer {
  const gf_allocator *a;
  const gf_frame *f;
  gf_ipc_write_options o;
  gf_parallel_options par;
  int64_t start_ns; /* when the write started: its deadline counts from here */
  sink *s;
  body body;
  int codec; /* -1 = none */
  /* footer blocks: (offset, metadata length, body length) */
  int64_t *dict_blocks, *batch_blocks;
  size_t ndict, nbatch;
  gf_error *err;
} writer;

/* Writes one framed message: metadata from `root`, then the current body
 * (when with_body). Records the block when `blocks` is not NULL. */
static gf_status write_message(writer *w, fbb *b, fbb_node *root,
                               bool with_body, int64_t body_len,
                               int64_t *blocks, size_t *nblocks) {
  uint8_t *meta;
  size_t mlen, mcap;
  GF_RETURN_NOT_OK(gfi_fbb_finish(b, root, &meta, &mlen, &mcap, w->err));
  uint64_t start = w->s->pos;
  /* Pad the metadata so that the body starts 64-byte aligned. */
  uint64_t body_at = (start + 8 + mlen + 63) & ~(uint64_t)63;
  size_t padded = (size_t)(body_at - start - 8);
  uint8_t hdr[8];
  put_le(hdr, 0xFFFFFFFFu, 4);
  put_le(hdr + 4, (uint32_t)padded, 4);
  gf_status st = sink_write(w->s, hdr, 8, w->err);
  if (st == GF_OK) st = sink_write(w->s, meta, mlen, w->err);
  gf_free(w->a, meta, mcap, 8);
  if (st == GF_OK) st = sink_pad(w->s, 64, w->err);
  for (size_t i = 0; with_body && st == GF_OK && i < w->body.nbufs; i++) {
    const wbuf *x = &w->body.bufs[i];
    if (x->c) {
      st = sink_write(w->s, x->c, x->clen, w->err);
    } else if (x->raw_prefixed) {
      uint8_t neg[8];
      put_le(neg, UINT64_MAX, 8);
      st = sink_write(w->s, neg, 8, w->err);
      if (st == GF_OK) st = sink_write(w->s, x->p, x->n, w->err);
    } else {
      st = sink_write(w->s, x->p, x->n, w->err);
    }
    if (st == GF_OK) st = sink_pad(w->s, 64, w->err);
  }
  if (st == GF_OK && blocks) {
    int64_t *blk = blocks + 3 * (*nblocks)++;
    blk[0] = (int64_t)start;
    blk[1] = (int64_t)(8 + padded);
    blk[2] = body_len;
  }
  return st;
}

/* Builds the RecordBatch table for the current body (compressing it first
 * when asked); *body_len receives the body size. */
static gf_status build_record_batch(writer *w, fbb *b, int64_t rows,
                                    fbb_node **out, int64_t *body_len) {
  body *bd = &w->body;
  if (w->codec >= 0 && bd->nbufs > 0) {
    gf_chunk_spec *chunks = gfi_malloc(w->a, bd->nbufs * sizeof *chunks);
    if (!chunks) return GF_OOM(w->err, "compression chunks");
    int64_t at = 0;
    for (size_t i = 0; i < bd->nbufs; i++) {
      chunks[i].start_row = at;
      at += (int64_t)bd->bufs[i].n;
      chunks[i].end_row = at;
      chunks[i].chunk_id = (int64_t)i;
    }
    /* The write's deadline, not a fresh one per batch. */
    gf_parallel_options phase;
    gf_status st = gfi_check_stop(&w->par, w->start_ns, &phase, w->err);
    if (st == GF_OK)
      st = gf_run_chunks(chunks, (int64_t)bd->nbufs, compress_one, bd, &phase, w->err);
    gfi_mfree(w->a, chunks, bd->nbufs * sizeof *chunks);
    GF_RETURN_NOT_OK(st);
  }
  uint8_t *descr = gfi_malloc(w->a, (bd->nbufs ? bd->nbufs : 1) * 16);
  if (!descr) return GF_OOM(w->err, "IPC buffer descriptors");
  uint64_t off = 0;
  for (size_t i = 0; i < bd->nbufs; i++) {
    size_t n = stored_len(&bd->bufs[i]);
    put_le(descr + 16 * i, off, 8);
    put_le(descr + 16 * i + 8, n, 8);
    off += (n + 63) & ~(size_t)63;
  }
  *body_len = (int64_t)off;
  fbb_node *rb = gfi_fbb_table(b, &gfi_fb_record_batch);
  gfi_fbb_set_int(rb, RB_LENGTH, rows);
  uint8_t *nodes = gfi_malloc(w->a, (bd->nnodes ? bd->nnodes : 1) * 16);
  if (nodes) {
    for (size_t i = 0; i < bd->nnodes; i++) {
      put_le(nodes + 16 * i, (uint64_t)bd->nodes[2 * i], 8);
      put_le(nodes + 16 * i + 8, (uint64_t)bd->nodes[2 * i + 1], 8);
    }
    gfi_fbb_set_child(rb, RB_NODES, gfi_fbb_vec_raw(b, nodes, bd->nnodes, 16, 8));
    gfi_mfree(w->a, nodes, (bd->nnodes ? bd->nnodes : 1) * 16);
  }
  gfi_fbb_set_child(rb, RB_BUFFERS, gfi_fbb_vec_raw(b, descr, bd->nbufs, 16, 8));
  gfi_mfree(w->a, descr, (bd->nbufs ? bd->nbufs : 1) * 16);
  if (bd->nvariadic > 0) {
    uint8_t le[8 * 64];
    uint8_t *vb = bd->nvariadic <= 64 ? le : gfi_malloc(w->a, bd->nvariadic * 8);
    if (!vb) return GF_OOM(w->err, "IPC variadic buffer counts");
    for (size_t i = 0; i < bd->nvariadic; i++) put_le(vb + 8 * i, (uint64_t)bd->variadic[i], 8);
    gfi_fbb_set_child(rb, RB_VARIADIC, gfi_fbb_vec_raw(b, vb, bd->nvariadic, 8, 8));
    if (vb != le) gfi_mfree(w->a, vb, bd->nvariadic * 8);
  }
  if (!nodes) return GF_OOM(w->err, "IPC field nodes");
  if (w->codec >= 0) {
    fbb_node *c = gfi_fbb_table(b, &gfi_fb_body_compression);
    gfi_fbb_set_int(c, COMP_CODEC, w->codec);
    gfi_fbb_set_int(c, COMP_METHOD, 0);
    gfi_fbb_set_child(rb, RB_COMPRESSION, c);
  }
  *out = rb;
  return GF_OK;
}

/* Wraps a header in a Message table. */
static fbb_node *message(fbb *b, int type, fbb_node *header, int64_t body_len) {
  fbb_node *m = gfi_fbb_table(b, &gfi_fb_message);
  gfi_fbb_set_int(m, MSG_VERSION, GFI_IPC_METADATA_V5);
  gfi_fbb_set_int(m, MSG_HEADER_TYPE, type);
  gfi_fbb_set_child(m, MSG_HEADER, header);
  gfi_fbb_set_int(m, MSG_BODY_LENGTH, body_len);
  return m;
}

/* The Schema table of the frame (dictionary ids are column indexes). */
static fbb_node *build_schema(writer *w, fbb *b) {
  const gf_schema *sc = gf_frame_schema(w->f);
  int n = gf_schema_num_fields(sc);
  fbb_node **fields = gfi_fbb_alloc(b, (size_t)(n ? n : 1) * sizeof *fields);
  if (!fields) return NULL;
  for (int i = 0; i < n; i++) {
    const gf_field *f = gf_schema_field(sc, i);
    fbb_node *fn = gfi_fbb_table(b, &gfi_fb_field);
    gfi_fbb_set_child(fn, FIELD_NAME, gfi_fbb_string(b, f->name, strlen(f->name)));
    gfi_fbb_set_int(fn, FIELD_NULLABLE, f->nullable);
    gf_datatype vt = gf_type_value(f->type);
    if (w->body.views && gfi_type_is_var_width(vt.id))
      gfi_ipc_encode_view_type(b, fn, vt.id == GF_TYPE_UTF8 || vt.id == GF_TYPE_LARGE_UTF8);
    else
      gfi_ipc_encode_type(b, fn, vt);
    if (f->type.id == GF_TYPE_DICTIONARY) {
      fbb_node *de = gfi_fbb_table(b, &gfi_fb_dictionary_encoding);
      gfi_fbb_set_int(de, DICTENC_ID, i);
      fbb_node *it = gfi_fbb_table(b, &gfi_fb_int);
      gfi_fbb_set_int(it, INT_BIT_WIDTH, 32);
      gfi_fbb_set_int(it, INT_SIGNED, 1);
      gfi_fbb_set_child(de, DICTENC_INDEX_TYPE, it);
      gfi_fbb_set_int(de, DICTENC_ORDERED, 0);
      gfi_fbb_set_child(fn, FIELD_DICTIONARY, de);
    }
    /* Arrow C++ insists on a children vector, even an empty one. */
    gfi_fbb_set_child(fn, FIELD_CHILDREN, gfi_fbb_vec_tables(b, NULL, 0));
    fields[i] = fn;
  }
  fbb_node *s = gfi_fbb_table(b, &gfi_fb_schema);
  gfi_fbb_set_int(s, SCHEMA_ENDIANNESS, 0);
  gfi_fbb_set_child(s, SCHEMA_FIELDS, gfi_fbb_vec_tables(b, fields, (size_t)n));
  if (w->o.num_metadata > 0 && w->o.metadata) {
    int m = w->o.num_metadata;
    fbb_node **kvs = gfi_fbb_alloc(b, (size_t)m * sizeof *kvs);
    if (!kvs) return NULL;
    for (int i = 0; i < m; i++) {
      const char *k = w->o.metadata[i].key ? w->o.metadata[i].key : "";
      const char *v = w->o.metadata[i].value ? w->o.metadata[i].value : "";
      kvs[i] = gfi_fbb_table(b, &gfi_fb_key_value);
      gfi_fbb_set_child(kvs[i], KV_KEY, gfi_fbb_string(b, k, strlen(k)));
      gfi_fbb_set_child(kvs[i], KV_VALUE, gfi_fbb_string(b, v, strlen(v)));
    }
    gfi_fbb_set_child(s, SCHEMA_METADATA, gfi_fbb_vec_tables(b, kvs, (size_t)m));
  }
  return s;
}

/* An empty array of type t (dictionaries of frames without batches). */
static gf_status empty_array(writer *w, gf_datatype t, gf_array **out) {
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  return gfi_array_make(w->a, t, 0, 0, 0, bufs, NULL, out, w->err);
}

/* Writes one message through a fresh builder. `kind` 0 = schema,
 * 1 = dictionary batch of column `col`, 2 = record batch `col`. */
static gf_status emit(writer *w, int kind, int col, bool file) {
  fbb *b = gfi_fbb_new(w->a);
  if (!b) return GF_OOM(w->err, "an IPC metadata builder");
  gf_status st = GF_OK;
  fbb_node *root = NULL;
  int64_t body_len = 0;
  body_reset(&w->body);
  if (kind == 0) {
    fbb_node *s = build_schema(w, b);
    root = s ? message(b, MSG_SCHEMA, s, 0) : NULL;
    st = write_message(w, b, root, false, 0, NULL, NULL);
  } else if (kind == 1) {
    gf_array *dict = NULL, *owned = NULL;
    if (gf_frame_num_batches(w->f) > 0) {
      dict = gf_frame_column(w->f, 0, col)->dictionary;
    } else {
      st = empty_array(w, gf_type_value(gf_schema_field(gf_frame_schema(w->f), col)->type),
                       &owned);
      dict = owned;
    }
    if (st == GF_OK) st = add_array(&w->body, dict, w->err);
    fbb_node *rb = NULL;
    if (st == GF_OK) st = build_record_batch(w, b, dict->length, &rb, &body_len);
    if (st == GF_OK) {
      fbb_node *db = gfi_fbb_table(b, &gfi_fb_dictionary_batch);
      gfi_fbb_set_int(db, DB_ID, col);
      gfi_fbb_set_child(db, DB_DATA, rb);
      gfi_fbb_set_int(db, DB_IS_DELTA, 0);
      root = message(b, MSG_DICTIONARY_BATCH, db, body_len);
      st = write_message(w, b, root, true, body_len,
                         file ? w->dict_blocks : NULL, &w->ndict);
    }
    gf_array_release(owned);
  } else {
    int nc = gf_frame_num_columns(w->f);
    for (int c = 0; c < nc && st == GF_OK; c++)
      st = add_array(&w->body, gf_frame_column(w->f, col, c), w->err);
    fbb_node *rb = NULL;
    if (st == GF_OK)
      st = build_record_batch(w, b, gf_frame_batch_rows(w->f, col), &rb,
                              &body_len);
    if (st == GF_OK) {
      root = message(b, MSG_RECORD_BATCH, rb, body_len);
      st = write_message(w, b, root, true, body_len,
                         file ? w->batch_blocks : NULL, &w->nbatch);
    }
  }
  body_reset(&w->body);
  gfi_fbb_free(b);
  return st;
}

/* Writes the footer, its length and the closing magic. */
static gf_status write_footer(writer *w) {
  fbb *b = gfi_fbb_new(w->a);
  if (!b) return GF_OOM(w->err, "an IPC metadata builder");
  fbb_node *ft = gfi_fbb_table(b, &gfi_fb_footer);
  gfi_fbb_set_int(ft, FOOTER_VERSION, GFI_IPC_METADATA_V5);
  gfi_fbb_set_child(ft, FOOTER_SCHEMA, build_schema(w, b));
  uint8_t blk[GFI_BLOCK_SIZE];
  uint8_t *v = gfi_calloc(w->a, (w->ndict + w->nbatch + 1) * GFI_BLOCK_SIZE);
  gf_status st = GF_OK;
  if (!v) {
    gfi_fbb_free(b);
    return GF_OOM(w->err, "IPC footer blocks");
  }
  for (int pass = 0; pass < 2; pass++) {
    size_t n = pass ? w->nbatch : w->ndict;
    const int64_t *src = pass ? w->batch_blocks : w->dict_blocks;
    for (size_t i = 0; i < n; i++) {
      memset(blk, 0, sizeof blk);
      put_le(blk, (uint64_t)src[3 * i], 8);
      put_le(blk + 8, (uint64_t)src[3 * i + 1], 4);
      put_le(blk + 16, (uint64_t)src[3 * i + 2], 8);
      memcpy(v + GFI_BLOCK_SIZE * i, blk, sizeof blk);
    }
    gfi_fbb_set_child(ft, pass ? FOOTER_BATCHES : FOOTER_DICTIONARIES,
                  gfi_fbb_vec_raw(b, v, n, GFI_BLOCK_SIZE, 8));
  }
  gfi_mfree(w->a, v, (w->ndict + w->nbatch + 1) * GFI_BLOCK_SIZE);
  uint8_t *meta;
  size_t mlen, mcap;
  st = gfi_fbb_finish(b, ft, &meta, &mlen, &mcap, w->err);
  gfi_fbb_free(b);
  if (st != GF_OK) return st;
  uint8_t tail[10];
  put_le(tail, (uint32_t)mlen, 4);
  memcpy(tail + 4, "ARROW1", 6);
  st = sink_write(w->s, meta, mlen, w->err);
  gf_free(w->a, meta, mcap, 8);
  if (st == GF_OK) st = sink_write(w->s, tail, sizeof tail, w->err);
  return st;
}

/* Checks the frame: every dictionary column shares one dictionary. */
static gf_status check_frame(const gf_frame *f, gf_error *err) {
  int nc = gf_frame_num_columns(f), nb = gf_frame_num_batches(f);
  for (int c = 0; c < nc; c++) {
    gf_datatype t = gf_schema_field(gf_frame_schema(f), c)->type;
    if (t.id != GF_TYPE_DICTIONARY) continue;
    for (int b = 1; b < nb; b++)
      if (gf_frame_column(f, b, c)->dictionary !=
          gf_frame_column(f, 0, c)->dictionary)
        return gf_error_set(err, GF_EINTERNAL,
                            "IPC writer: column %d has several dictionaries", c);
  }
  return GF_OK;
}

/* Writes the whole frame to `s`. */
static gf_status write_all(const gf_frame *f, sink *s, bool file,
                           const gf_ipc_write_options *o, gf_error *err) {
  writer w;
  memset(&w, 0, sizeof w);
  gf_ipc_write_options_init(&w.o);
  if (o) memcpy(&w.o, o, o->size && o->size < sizeof w.o ? o->size : sizeof w.o);
  w.o.size = sizeof w.o;
  gfi_ctx call; /* the write's one deadline and token */
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, w.o.parallel, &w.par, err));
  w.a = gfi_alloc_or_default(w.par.allocator);
  w.start_ns = gfi_now_ns();
  w.f = f;
  w.s = s;
  w.err = err;
  w.body.a = w.a;
  w.codec = -1;
  if (w.o.compression == GF_IPC_COMPRESSION_LZ4_FRAME) w.codec = CODEC_LZ4_FRAME;
  else if (w.o.compression == GF_IPC_COMPRESSION_ZSTD) w.codec = CODEC_ZSTD;
  else if (w.o.compression != GF_IPC_COMPRESSION_NONE)
    return gf_error_set(err, GF_EINVAL, "IPC writer: unknown compression %d",
                        (int)w.o.compression);
  if (w.codec >= 0 && !gfi_ipc_codec_available(w.codec))
    return gf_error_set(err, GF_ENOTSUP,
                        "IPC writer: built without %s",
                        gfi_ipc_codec_name(w.codec));
  w.body.codec = w.codec;
  w.body.level = w.o.compression_level;
  w.body.views = (w.o.flags & GF_IPC_WRITE_STRING_VIEWS) != 0;
  GF_RETURN_NOT_OK(check_frame(f, err));
  int nc = gf_frame_num_columns(f), nb = gf_frame_num_batches(f);
  w.dict_blocks = gfi_calloc(w.a, (size_t)(nc + 1) * 3 * sizeof(int64_t));
  w.batch_blocks = gfi_calloc(w.a, (size_t)(nb + 1) * 3 * sizeof(int64_t));
  gf_status st = GF_OK;
  if (!w.dict_blocks || !w.batch_blocks) st = GF_OOM(err, "IPC footer blocks");
  if (st == GF_OK && file) st = sink_write(s, "ARROW1\0\0", 8, err);
  if (st == GF_OK) st = emit(&w, 0, 0, file);
  /* Messages are written on this thread (only compression runs on the
   * pool), so the token and the deadline are checked before each one:
   * before this fix an uncompressed write ignored both, even with an
   * already cancelled token. */
  for (int c = 0; c < nc && st == GF_OK; c++)
    if (gf_schema_field(gf_frame_schema(f), c)->type.id == GF_TYPE_DICTIONARY) {
      st = gfi_check_stop(&w.par, w.start_ns, NULL, err);
      if (st == GF_OK) st = emit(&w, 1, c, file);
    }
  for (int b = 0; b < nb && st == GF_OK; b++) {
    st = gfi_check_stop(&w.par, w.start_ns, NULL, err);
    if (st == GF_OK) st = emit(&w, 2, b, file);
  }
  if (st == GF_OK) {
    uint8_t eos[8];
    put_le(eos, 0xFFFFFFFFu, 4);
    put_le(eos + 4, 0, 4);
    st = sink_write(s, eos, 8, err);
  }
  if (st == GF_OK && file) st = write_footer(&w);
  if (st == GF_OK) st = sink_flush(s, err);
  body_free(&w.body);
  gfi_mfree(w.a, w.dict_blocks, (size_t)(nc + 1) * 3 * sizeof(int64_t));
  gfi_mfree(w.a, w.batch_blocks, (size_t)(nb + 1) * 3 * sizeof(int64_t));
  return st;
}

void gf_ipc_write_options_init(gf_ipc_write_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

bool gf_ipc_compression_available(gf_ipc_compression c) {
  if (c == GF_IPC_COMPRESSION_NONE) return true;
  if (c == GF_IPC_COMPRESSION_LZ4_FRAME) return gfi_ipc_codec_available(CODEC_LZ4_FRAME);
  if (c == GF_IPC_COMPRESSION_ZSTD) return gfi_ipc_codec_available(CODEC_ZSTD);
  return false;
}

static const gf_allocator *wopts_alloc(const gf_ipc_write_options *o) {
  return o && o->parallel && o->parallel->size
             ? gfi_alloc_or_default(o->parallel->allocator)
             : gf_default_allocator();
}

/* Writes to `path` through a temporary file renamed on success. */
static gf_status write_path(const gf_frame *f, const char *path, bool file,
                            const gf_ipc_write_options *o, gf_error *err) {
  if (!f) return gf_error_set(err, GF_EINVAL, "IPC writer: frame is NULL");
  const gf_allocator *a = wopts_alloc(o);
  gfi_atomic_file af;
  GF_RETURN_NOT_OK(gfi_atomic_file_open(path, a, &af, err));
  sink s;
  memset(&s, 0, sizeof s);
  s.file = &af;
  s.fd = -1;
  s.stage = gf_alloc(a, STAGE_SIZE, 64);
  gf_status st = s.stage ? write_all(f, &s, file, o, err)
                         : GF_OOM(err, "an IPC output buffer");
  gf_free(a, s.stage, STAGE_SIZE, 64);
  if (st == GF_OK) return gfi_atomic_file_commit(&af, err);
  gfi_atomic_file_abort(&af);
  return st;
}

static gf_status write_ipc_file_in(const gf_frame *f, const char *path,
                            const gf_ipc_write_options *o, gf_error *err) {
  return write_path(f, path, true, o, err);
}

static gf_status write_ipc_stream_in(const gf_frame *f, const char *path,
                              const gf_ipc_write_options *o, gf_error *err) {
  return write_path(f, path, false, o, err);
}

static gf_status write_ipc_stream_fd_in(const gf_frame *f, int fd,
                                 const gf_ipc_write_options *o, gf_error *err) {
  if (!f || fd < 0)
    return gf_error_set(err, GF_EINVAL, "IPC writer: %s",
                        f ? "bad file descriptor" : "frame is NULL");
  const gf_allocator *a = wopts_alloc(o);
  sink s;
  memset(&s, 0, sizeof s);
  s.fd = fd;
  s.stage = gf_alloc(a, STAGE_SIZE, 64);
  gf_status st = s.stage ? write_all(f, &s, false, o, err)
                         : GF_OOM(err, "an IPC output buffer");
  gf_free(a, s.stage, STAGE_SIZE, 64);
  return st;
}

static gf_status write_ipc_memory_in(const gf_frame *f, bool as_file,
                              const gf_ipc_write_options *o, void **out,
                              size_t *out_len, gf_error *err) {
  if (!f || !out || !out_len)
    return gf_error_set(err, GF_EINVAL, "IPC writer: NULL %s",
                        f ? "output" : "frame");
  sink s;
  memset(&s, 0, sizeof s);
  s.fd = -1;
  gfi_vec_init_owned(&s.mem, wopts_alloc(o));
  gf_status st = write_all(f, &s, as_file, o, err);
  if (st == GF_OK) st = gfi_vec_reserve(&s.mem, 1, err); /* an empty output is still a block */
  if (st != GF_OK) {
    gfi_vec_reset(&s.mem);
    return st;
  }
  *out_len = s.mem.len;
  *out = gfi_vec_take(&s.mem);
  return GF_OK;
}

/* The public writers: one call context (deadline, token, memory limit) for
 * the whole write, staging buffers included; write_all loads the options
 * again as a nested call of it. */
static gf_status ipc_write_begin(const gf_ipc_write_options *o, gf_ipc_write_options *lo, gf_parallel_options *par,
                    gfi_ctx *call, gf_error *err) {
  gf_ipc_write_options_init(lo);
  if (o) memcpy(lo, o, o->size && o->size < sizeof *lo ? o->size : sizeof *lo);
  lo->size = sizeof *lo;
  GF_RETURN_NOT_OK(gfi_ctx_load(call, lo->parallel, par, err));
  lo->parallel = par;
  return GF_OK;
}

gf_status gf_write_ipc_file(const gf_frame *f, const char *path,
                            const gf_ipc_write_options *o, gf_error *err) {
  gf_ipc_write_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_write_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, write_ipc_file_in(f, path, &lo, err), err);
}

gf_status gf_write_ipc_stream(const gf_frame *f, const char *path,
                              const gf_ipc_write_options *o, gf_error *err) {
  gf_ipc_write_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_write_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, write_ipc_stream_in(f, path, &lo, err), err);
}

gf_status gf_write_ipc_stream_fd(const gf_frame *f, int fd,
                                 const gf_ipc_write_options *o, gf_error *err) {
  gf_ipc_write_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_write_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, write_ipc_stream_fd_in(f, fd, &lo, err), err);
}

gf_status gf_write_ipc_memory(const gf_frame *f, bool as_file,
                              const gf_ipc_write_options *o, void **out,
                              size_t *out_len, gf_error *err) {
  gf_ipc_write_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_write_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, write_ipc_memory_in(f, as_file, &lo, out, out_len, err), err);
}

/* See ipc_internal.h. */
gf_status gfi_ipc_schema_message(const gf_frame *f, const gf_allocator *a,
                                 void **out, size_t *out_len, gf_error *err) {
  sink s;
  memset(&s, 0, sizeof s);
  s.fd = -1;
  gfi_vec_init_owned(&s.mem, a);
  writer w;
  memset(&w, 0, sizeof w);
  gf_ipc_write_options_init(&w.o);
  w.a = gfi_alloc_or_default(a);
  w.f = f;
  w.s = &s;
  w.err = err;
  w.body.a = w.a;
  w.codec = -1;
  gf_status st = emit(&w, 0, 0, false);
  if (st == GF_OK) st = gfi_vec_reserve(&s.mem, 1, err);
  body_free(&w.body);
  if (st != GF_OK) {
    gfi_vec_reset(&s.mem);
    return st;
  }
  *out_len = s.mem.len;
  *out = gfi_vec_take(&s.mem);
  return GF_OK;
}
