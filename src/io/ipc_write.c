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
#include "io/ipc_write_internal.h"

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

/* Footer blocks: (offset, metadata length, body length) triples. */
typedef struct blocks {
  int64_t *v;
  size_t n, cap;
} blocks;

/* How dictionaries reach the output (gfi_ipc_writer, ipc_write_internal.h):
 * before the first record batch, or (files only) after the last one. */
enum { DICT_PENDING = 0, DICT_UPFRONT, DICT_DEFERRED };

struct gfi_ipc_writer {
  const gf_allocator *a;
  gf_schema *schema;
  gf_ipc_write_options o;
  gf_parallel_options par;
  int64_t start_ns; /* when the write started: its deadline counts from here */
  sink *s;
  body body;
  int codec; /* -1 = none */
  bool file;
  blocks dict_blocks, batch_blocks;
  int ncols;
  gf_array **dict_set;  /* per column: the frame-wide dictionary, or NULL */
  gf_array **dict_last; /* per column: the last batch's dictionary (deferred) */
  int64_t *dict_written; /* per column: entries written so far (streams) */
  int dict_mode;
  bool begun, ended;
  int64_t nrows_batches; /* non-empty batches written (incremental use) */
  /* Path and fd outputs of gfi_ipc_writer_open own their sink. */
  sink own;
  gfi_atomic_file af;
  bool af_open;
  gf_error *err;
};
typedef struct gfi_ipc_writer writer;

/* Appends a block; GF_ENOMEM when the list cannot grow. */
static gf_status add_block(writer *w, blocks *bl, int64_t off, int64_t meta, int64_t body_len) {
  if (bl->n == bl->cap) {
    size_t nc = bl->cap ? bl->cap * 2 : 16;
    int64_t *v = gfi_malloc(w->a, nc * 3 * sizeof *v);
    if (!v) return GF_OOM(w->err, "IPC footer blocks");
    if (bl->n) memcpy(v, bl->v, bl->n * 3 * sizeof *v);
    gfi_mfree(w->a, bl->v, bl->cap * 3 * sizeof *v);
    bl->v = v;
    bl->cap = nc;
  }
  int64_t *blk = bl->v + 3 * bl->n++;
  blk[0] = off;
  blk[1] = meta;
  blk[2] = body_len;
  return GF_OK;
}

/* Writes one framed message: metadata from `root`, then the current body
 * (when with_body). Records the block in `bl` when not NULL. */
static gf_status write_message(writer *w, fbb *b, fbb_node *root,
                               bool with_body, int64_t body_len, blocks *bl) {
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
  if (st == GF_OK && bl) st = add_block(w, bl, (int64_t)start, (int64_t)(8 + padded), body_len);
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
  const gf_schema *sc = w->schema;
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

/* Writes the Schema message through a fresh builder. */
static gf_status emit_schema(writer *w) {
  fbb *b = gfi_fbb_new(w->a);
  if (!b) return GF_OOM(w->err, "an IPC metadata builder");
  body_reset(&w->body);
  fbb_node *s = build_schema(w, b);
  fbb_node *root = s ? message(b, MSG_SCHEMA, s, 0) : NULL;
  gf_status st = write_message(w, b, root, false, 0, NULL);
  gfi_fbb_free(b);
  return st;
}

/* Writes a DictionaryBatch of column `col` holding `dict` (a delta: its
 * entries follow those written before). */
static gf_status emit_dict(writer *w, int col, const gf_array *dict, bool delta) {
  fbb *b = gfi_fbb_new(w->a);
  if (!b) return GF_OOM(w->err, "an IPC metadata builder");
  int64_t body_len = 0;
  body_reset(&w->body);
  gf_status st = add_array(&w->body, dict, w->err);
  fbb_node *rb = NULL;
  if (st == GF_OK) st = build_record_batch(w, b, dict->length, &rb, &body_len);
  if (st == GF_OK) {
    fbb_node *db = gfi_fbb_table(b, &gfi_fb_dictionary_batch);
    gfi_fbb_set_int(db, DB_ID, col);
    gfi_fbb_set_child(db, DB_DATA, rb);
    gfi_fbb_set_int(db, DB_IS_DELTA, delta ? 1 : 0);
    fbb_node *root = message(b, MSG_DICTIONARY_BATCH, db, body_len);
    st = write_message(w, b, root, true, body_len, w->file ? &w->dict_blocks : NULL);
  }
  body_reset(&w->body);
  gfi_fbb_free(b);
  return st;
}

/* Writes record batch `bi` of f. */
static gf_status emit_batch(writer *w, const gf_frame *f, int bi) {
  fbb *b = gfi_fbb_new(w->a);
  if (!b) return GF_OOM(w->err, "an IPC metadata builder");
  gf_status st = GF_OK;
  int64_t body_len = 0;
  body_reset(&w->body);
  int nc = gf_frame_num_columns(f);
  for (int c = 0; c < nc && st == GF_OK; c++)
    st = add_array(&w->body, gf_frame_column(f, bi, c), w->err);
  fbb_node *rb = NULL;
  if (st == GF_OK) st = build_record_batch(w, b, gf_frame_batch_rows(f, bi), &rb, &body_len);
  if (st == GF_OK) {
    fbb_node *root = message(b, MSG_RECORD_BATCH, rb, body_len);
    st = write_message(w, b, root, true, body_len, w->file ? &w->batch_blocks : NULL);
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
  size_t nmax = (w->dict_blocks.n > w->batch_blocks.n ? w->dict_blocks.n : w->batch_blocks.n) + 1;
  uint8_t *v = gfi_calloc(w->a, nmax * GFI_BLOCK_SIZE);
  gf_status st = GF_OK;
  if (!v) {
    gfi_fbb_free(b);
    return GF_OOM(w->err, "IPC footer blocks");
  }
  for (int pass = 0; pass < 2; pass++) {
    const blocks *bl = pass ? &w->batch_blocks : &w->dict_blocks;
    for (size_t i = 0; i < bl->n; i++) {
      memset(blk, 0, sizeof blk);
      put_le(blk, (uint64_t)bl->v[3 * i], 8);
      put_le(blk + 8, (uint64_t)bl->v[3 * i + 1], 4);
      put_le(blk + 16, (uint64_t)bl->v[3 * i + 2], 8);
      memcpy(v + GFI_BLOCK_SIZE * i, blk, sizeof blk);
    }
    gfi_fbb_set_child(ft, pass ? FOOTER_BATCHES : FOOTER_DICTIONARIES,
                      gfi_fbb_vec_raw(b, v, bl->n, GFI_BLOCK_SIZE, 8));
  }
  gfi_mfree(w->a, v, nmax * GFI_BLOCK_SIZE);
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

/* ------------------------------------------------------------------ */
/* The incremental writer (ipc_write_internal.h); the whole-frame       */
/* writers below run through it, so both write the same bytes.          */
/* ------------------------------------------------------------------ */

static bool is_dict_col(const writer *w, int c) {
  return gf_schema_field(w->schema, c)->type.id == GF_TYPE_DICTIONARY;
}

/* Sets up w over sink s: options, codec, per-column state. `par` are
 * loaded options (the caller's call context). No byte is written. */
static gf_status writer_init(writer *w, const gf_schema *schema, sink *s, bool file,
                             const gf_ipc_write_options *o, const gf_parallel_options *par,
                             gf_error *err) {
  gf_ipc_write_options_init(&w->o);
  if (o) memcpy(&w->o, o, o->size && o->size < sizeof w->o ? o->size : sizeof w->o);
  w->o.size = sizeof w->o;
  w->par = *par;
  w->a = gfi_alloc_or_default(w->par.allocator);
  w->start_ns = gfi_now_ns();
  w->schema = gf_schema_retain((gf_schema *)schema);
  w->s = s;
  w->file = file;
  w->err = err;
  w->body.a = w->a;
  w->codec = -1;
  if (w->o.compression == GF_IPC_COMPRESSION_LZ4_FRAME) w->codec = CODEC_LZ4_FRAME;
  else if (w->o.compression == GF_IPC_COMPRESSION_ZSTD) w->codec = CODEC_ZSTD;
  else if (w->o.compression != GF_IPC_COMPRESSION_NONE)
    return gf_error_set(err, GF_EINVAL, "IPC writer: unknown compression %d",
                        (int)w->o.compression);
  if (w->codec >= 0 && !gfi_ipc_codec_available(w->codec))
    return gf_error_set(err, GF_ENOTSUP, "IPC writer: built without %s",
                        gfi_ipc_codec_name(w->codec));
  w->body.codec = w->codec;
  w->body.level = w->o.compression_level;
  w->body.views = (w->o.flags & GF_IPC_WRITE_STRING_VIEWS) != 0;
  w->ncols = gf_schema_num_fields(schema);
  size_t n = (size_t)(w->ncols ? w->ncols : 1);
  w->dict_set = gfi_calloc(w->a, n * sizeof *w->dict_set);
  w->dict_last = gfi_calloc(w->a, n * sizeof *w->dict_last);
  w->dict_written = gfi_calloc(w->a, n * sizeof *w->dict_written);
  if (!w->dict_set || !w->dict_last || !w->dict_written) return GF_OOM(err, "IPC writer state");
  return GF_OK;
}

/* Releases what writer_init and the writes allocated (not the sink). */
static void writer_release(writer *w) {
  size_t n = (size_t)(w->ncols ? w->ncols : 1);
  for (int c = 0; c < w->ncols; c++) {
    if (w->dict_set) gf_array_release(w->dict_set[c]);
    if (w->dict_last) gf_array_release(w->dict_last[c]);
  }
  if (w->dict_set) gfi_mfree(w->a, w->dict_set, n * sizeof *w->dict_set);
  if (w->dict_last) gfi_mfree(w->a, w->dict_last, n * sizeof *w->dict_last);
  if (w->dict_written) gfi_mfree(w->a, w->dict_written, n * sizeof *w->dict_written);
  body_free(&w->body);
  gfi_mfree(w->a, w->dict_blocks.v, w->dict_blocks.cap * 3 * sizeof(int64_t));
  gfi_mfree(w->a, w->batch_blocks.v, w->batch_blocks.cap * 3 * sizeof(int64_t));
  gf_schema_release(w->schema);
  w->schema = NULL;
}

/* The magic (files) and the schema message. */
static gf_status writer_begin(writer *w) {
  if (w->begun) return GF_OK;
  w->begun = true;
  gf_status st = GF_OK;
  if (w->file) st = sink_write(w->s, "ARROW1\0\0", 8, w->err);
  if (st == GF_OK) st = emit_schema(w);
  return st;
}

/* Every dictionary column's dictionary in full, before any batch:
 * `dicts[c]`, else an empty one (a result without rows). */
static gf_status write_dicts_full(writer *w, gf_array *const *dicts) {
  gf_status st = GF_OK;
  for (int c = 0; c < w->ncols && st == GF_OK; c++) {
    if (!is_dict_col(w, c)) continue;
    st = gfi_check_stop(&w->par, w->start_ns, NULL, w->err);
    gf_array *d = dicts ? dicts[c] : NULL, *owned = NULL;
    if (st == GF_OK && !d) {
      st = empty_array(w, gf_type_value(gf_schema_field(w->schema, c)->type), &owned);
      d = owned;
    }
    if (st == GF_OK) st = emit_dict(w, c, d, false);
    if (st == GF_OK) w->dict_written[c] = d->length;
    gf_array_release(owned);
  }
  return st;
}

/* Before record batch `bi` of f: the dictionaries it needs. The first
 * batch decides the mode: every dictionary known (set) -> written in full
 * now, as gf_write_ipc_file/stream do; otherwise a file defers them to
 * finish (the footer locates them; codes of every batch index the final,
 * grown dictionary) and a stream writes the batch's dictionary now and
 * later only the entries added since (delta dictionary batches). */
static gf_status dicts_before_batch(writer *w, const gf_frame *f, int bi) {
  bool any = false, all_set = true;
  for (int c = 0; c < w->ncols; c++)
    if (is_dict_col(w, c)) {
      any = true;
      if (!w->dict_set[c]) all_set = false;
    }
  if (!any) return GF_OK;
  if (w->dict_mode == DICT_PENDING) {
    if (all_set) {
      w->dict_mode = DICT_UPFRONT;
      return write_dicts_full(w, w->dict_set);
    }
    w->dict_mode = w->file ? DICT_DEFERRED : DICT_UPFRONT;
    for (int c = 0; c < w->ncols; c++)
      if (is_dict_col(w, c)) w->dict_written[c] = -1; /* nothing yet */
  }
  for (int c = 0; c < w->ncols; c++) {
    if (!is_dict_col(w, c)) continue;
    gf_array *d = gf_frame_column(f, bi, c)->dictionary;
    if (!d) return gf_error_set(w->err, GF_EINTERNAL, "IPC writer: column %d has no dictionary", c);
    if (w->dict_mode == DICT_DEFERRED) {
      if (w->dict_last[c] && d->length < w->dict_last[c]->length)
        return gf_error_set(w->err, GF_EINTERNAL,
                            "IPC writer: column %d's dictionary shrank between batches", c);
      gf_array_release(w->dict_last[c]);
      w->dict_last[c] = gf_array_retain(d);
      continue;
    }
    gf_array *src = w->dict_set[c] ? w->dict_set[c] : d;
    gf_status st = gfi_check_stop(&w->par, w->start_ns, NULL, w->err);
    if (st != GF_OK) return st;
    if (w->dict_written[c] < 0) {
      GF_RETURN_NOT_OK(emit_dict(w, c, src, false));
      w->dict_written[c] = src->length;
    } else if (src->length > w->dict_written[c]) {
      gf_array *tail = NULL;
      GF_RETURN_NOT_OK(gf_array_slice(src, w->dict_written[c], src->length - w->dict_written[c],
                                      &tail, w->err));
      st = emit_dict(w, c, tail, true);
      gf_array_release(tail);
      GF_RETURN_NOT_OK(st);
      w->dict_written[c] = src->length;
    }
  }
  return GF_OK;
}

/* Appends f's record batches (empty ones too unless skip_empty); *n
 * counts the batches written. */
static gf_status writer_batches(writer *w, const gf_frame *f, bool skip_empty, int64_t *n) {
  GF_RETURN_NOT_OK(writer_begin(w));
  int nb = gf_frame_num_batches(f);
  for (int b = 0; b < nb; b++) {
    if (skip_empty && gf_frame_batch_rows(f, b) == 0) continue;
    GF_RETURN_NOT_OK(dicts_before_batch(w, f, b));
    /* Messages are written on this thread (only compression runs on the
     * pool), so the token and the deadline are checked before each one. */
    GF_RETURN_NOT_OK(gfi_check_stop(&w->par, w->start_ns, NULL, w->err));
    GF_RETURN_NOT_OK(emit_batch(w, f, b));
    (*n)++;
  }
  return GF_OK;
}

/* Ends the output: dictionaries not written yet (none at all for a result
 * without batches: empty ones), the end-of-stream marker, the footer. */
static gf_status writer_end(writer *w, bool any_batch) {
  GF_RETURN_NOT_OK(writer_begin(w));
  gf_status st = GF_OK;
  if (!any_batch) {
    st = write_dicts_full(w, NULL);
  } else if (w->dict_mode == DICT_DEFERRED) {
    gf_array **d = gfi_calloc(w->a, (size_t)(w->ncols ? w->ncols : 1) * sizeof *d);
    if (!d) return GF_OOM(w->err, "IPC dictionaries");
    for (int c = 0; c < w->ncols; c++) d[c] = w->dict_set[c] ? w->dict_set[c] : w->dict_last[c];
    st = write_dicts_full(w, d);
    gfi_mfree(w->a, d, (size_t)(w->ncols ? w->ncols : 1) * sizeof *d);
  }
  if (st == GF_OK) {
    uint8_t eos[8];
    put_le(eos, 0xFFFFFFFFu, 4);
    put_le(eos + 4, 0, 4);
    st = sink_write(w->s, eos, 8, w->err);
  }
  if (st == GF_OK && w->file) st = write_footer(w);
  if (st == GF_OK) st = sink_flush(w->s, w->err);
  w->ended = true;
  return st;
}

/* Writes the whole frame to `s`. */
static gf_status write_all(const gf_frame *f, sink *s, bool file,
                           const gf_ipc_write_options *o, gf_error *err) {
  gf_ipc_write_options lo;
  gf_ipc_write_options_init(&lo);
  if (o) memcpy(&lo, o, o->size && o->size < sizeof lo ? o->size : sizeof lo);
  gfi_ctx call; /* the write's one deadline and token */
  gf_parallel_options par;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, lo.parallel, &par, err));
  writer w;
  memset(&w, 0, sizeof w);
  gf_status st = writer_init(&w, gf_frame_schema(f), s, file, o, &par, err);
  if (st == GF_OK) st = check_frame(f, err);
  int nb = gf_frame_num_batches(f);
  if (st == GF_OK && nb > 0) {
    /* One dictionary per column for the whole frame: written first. */
    for (int c = 0; c < w.ncols; c++)
      if (is_dict_col(&w, c)) w.dict_set[c] = gf_array_retain(gf_frame_column(f, 0, c)->dictionary);
    int64_t n = 0;
    st = writer_batches(&w, f, false, &n);
  }
  if (st == GF_OK) st = writer_end(&w, nb > 0);
  writer_release(&w);
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
  gf_parallel_options par;
  gf_parallel_options_init(&par);
  par.allocator = gfi_alloc_or_default(a);
  gf_status st = writer_init(&w, gf_frame_schema(f), &s, false, NULL, &par, err);
  if (st == GF_OK) st = emit_schema(&w);
  if (st == GF_OK) st = gfi_vec_reserve(&s.mem, 1, err);
  writer_release(&w);
  if (st != GF_OK) {
    gfi_vec_reset(&s.mem);
    return st;
  }
  *out_len = s.mem.len;
  *out = gfi_vec_take(&s.mem);
  return GF_OK;
}

/* ------------------------------------------------------------------ */
/* gfi_ipc_writer (ipc_write_internal.h)                                */
/* ------------------------------------------------------------------ */

gf_status gfi_ipc_writer_open(const gf_schema *schema, const char *path, int fd, bool file,
                              const gf_ipc_write_options *o, const gf_parallel_options *po,
                              gfi_ipc_writer **out, gf_error *err) {
  if (!schema || (!path && fd < 0) || (file && !path))
    return gf_error_set(err, GF_EINVAL, "IPC writer: %s",
                        !schema ? "schema is NULL"
                        : file  ? "an IPC file needs a path"
                                : "no path and no file descriptor");
  const gf_allocator *a = gfi_alloc_or_default(po ? po->allocator : NULL);
  writer *w = gfi_calloc(a, sizeof *w);
  if (!w) return GF_OOM(err, "an IPC writer");
  gf_parallel_options def;
  gf_parallel_options_init(&def);
  w->own.fd = -1;
  gf_status st = writer_init(w, schema, &w->own, file, o, po ? po : &def, err);
  w->a = a;
  w->body.a = a;
  if (st == GF_OK) {
    w->own.stage = gf_alloc(a, STAGE_SIZE, 64);
    if (!w->own.stage) st = GF_OOM(err, "an IPC output buffer");
  }
  if (st == GF_OK && path) {
    st = gfi_atomic_file_open(path, a, &w->af, err);
    if (st == GF_OK) {
      w->af_open = true;
      w->own.file = &w->af;
    }
  } else if (st == GF_OK) {
    w->own.fd = fd;
  }
  if (st != GF_OK) {
    gfi_ipc_writer_free(w);
    return st;
  }
  *out = w;
  return GF_OK;
}

void gfi_ipc_writer_set_dictionary(gfi_ipc_writer *w, int col, gf_array *dict) {
  if (!w || col < 0 || col >= w->ncols || !dict || w->dict_mode == DICT_UPFRONT) return;
  gf_array_release(w->dict_set[col]);
  w->dict_set[col] = gf_array_retain(dict);
}

gf_status gfi_ipc_writer_write(gfi_ipc_writer *w, const gf_frame *f, gf_error *err) {
  w->err = err;
  if (w->ended) return gf_error_set(err, GF_EINVAL, "IPC writer: write after finish");
  if (gf_frame_num_columns(f) != w->ncols)
    return gf_error_set(err, GF_EINVAL, "IPC writer: a batch has %d columns, the output %d",
                        gf_frame_num_columns(f), w->ncols);
  /* Empty batches are dropped, as a collected result drops them. */
  return writer_batches(w, f, true, &w->nrows_batches);
}

gf_status gfi_ipc_writer_finish(gfi_ipc_writer *w, gf_error *err) {
  w->err = err;
  if (w->ended) return gf_error_set(err, GF_EINVAL, "IPC writer: finished twice");
  gf_status st = writer_end(w, w->nrows_batches > 0);
  if (st == GF_OK && w->af_open) {
    w->af_open = false;
    st = gfi_atomic_file_commit(&w->af, err);
  }
  return st;
}

int64_t gfi_ipc_writer_bytes(const gfi_ipc_writer *w) { return (int64_t)w->s->pos; }

void gfi_ipc_writer_free(gfi_ipc_writer *w) {
  if (!w) return;
  if (w->af_open) gfi_atomic_file_abort(&w->af);
  const gf_allocator *a = w->a;
  if (w->own.stage) gf_free(a, w->own.stage, STAGE_SIZE, 64);
  writer_release(w);
  gfi_mfree(a, w, sizeof *w);
}
