/* Arrow IPC reader: files (footer + blocks) and streams (with or without
 * the 0xFFFFFFFF continuation marker). The whole input is one refcounted
 * buffer (a memory mapping or a heap copy); uncompressed, aligned body
 * buffers become zero-copy views of it. Every flatbuffer is verified before
 * a field is read and every array validated before it is handed out. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "data/builder_internal.h"
#include "data/view_internal.h"
#include "exec/exec_internal.h"
#include "io/io_internal.h"
#include "io/ipc_reader.h"
#include "io/ipc_source.h"

/* Cursor over the nodes and buffers of one RecordBatch. */
typedef struct body_ctx {
  const gfi_ipc_msg *m;
  const uint8_t *nodes, *bufs;
  size_t nnodes, inode, nbufs, ibuf;
  const uint8_t *variadic; /* variadicBufferCounts: one per view array */
  size_t nvariadic, ivariadic;
  int codec; /* -1 = uncompressed */
} body_ctx;

/* ------------------------------------------------------------------ */
/* Metadata                                                              */
/* ------------------------------------------------------------------ */

typedef struct meta_block {
  size_t total;
  gf_ipc_metadata m;
} meta_block;

void gf_ipc_metadata_free(gf_ipc_metadata *m) {
  if (!m) return;
  meta_block *b = (meta_block *)((char *)m - offsetof(meta_block, m));
  gfi_mfree(gf_default_allocator(), b, b->total);
}

/* Copies the schema's KeyValue list into one block. */
static gf_status read_metadata(gfi_ipc_reader *r, const fb_table *schema) {
  size_t n = gfi_fb_vec_len(schema, SCHEMA_METADATA), total = sizeof(meta_block);
  total += n * sizeof(gf_ipc_key_value);
  for (int pass = 0; pass < 2; pass++) {
    meta_block *b = NULL;
    char *s = NULL;
    if (pass == 1) {
      b = gfi_calloc(gf_default_allocator(), total);
      if (!b) return GF_OOM(r->err, "IPC custom metadata");
      b->total = total;
      b->m.n = (int)n;
      b->m.entries = (gf_ipc_key_value *)(b + 1);
      s = (char *)(b->m.entries + n);
    }
    for (size_t i = 0; i < n; i++) {
      fb_table kv;
      const char *k = "", *v = "";
      size_t kn = 0, vn = 0;
      if (gfi_fb_vec_table(schema, SCHEMA_METADATA, i, &kv)) {
        gfi_fb_get_string(&kv, KV_KEY, &k, &kn);
        gfi_fb_get_string(&kv, KV_VALUE, &v, &vn);
      }
      if (pass == 0) {
        total += kn + vn + 2;
        continue;
      }
      memcpy(s, k, kn);
      s[kn] = 0;
      b->m.entries[i].key = s;
      s += kn + 1;
      memcpy(s, v, vn);
      s[vn] = 0;
      b->m.entries[i].value = s;
      s += vn + 1;
    }
    if (pass == 1) *r->meta_out = &b->m;
  }
  return GF_OK;
}

/* ------------------------------------------------------------------ */
/* Schema                                                                */
/* ------------------------------------------------------------------ */

int gfi_ipc_find_dict(const gfi_ipc_reader *r, int64_t id) {
  for (int i = 0; i < r->ndicts; i++)
    if (r->dicts[i].id == id) return i;
  return -1;
}

/* Decodes one field into fields[i] / r->cols[i]; names[i] gets its name. */
static gf_status decode_field(gfi_ipc_reader *r, const fb_table *f, int i,
                              gf_field *out, char *name, gf_error *err) {
  char msgname[80];
  snprintf(msgname, sizeof msgname, "%s", name);
  gf_datatype vt;
  bool view = false;
  GF_RETURN_NOT_OK(gfi_ipc_decode_type(f, msgname, &vt, &view, err));
  gfi_ipc_col *c = &r->cols[i];
  c->dict = -1;
  c->type = vt;
  c->view = view;
  fb_table de;
  if (gfi_fb_get_table(f, FIELD_DICTIONARY, &de)) {
    if (gfi_fb_get_int(&de, DICTENC_KIND, 0) != 0)
      return gf_error_set(err, GF_ENOTSUP,
                          "IPC field '%s': dictionary kind %lld is not "
                          "supported",
                          msgname, (long long)gfi_fb_get_int(&de, DICTENC_KIND, 0));
    int64_t id = gfi_fb_get_int(&de, DICTENC_ID, 0);
    fb_table it;
    c->index_width = 4;
    c->index_signed = true;
    if (gfi_fb_get_table(&de, DICTENC_INDEX_TYPE, &it)) {
      int64_t w = gfi_fb_get_int(&it, INT_BIT_WIDTH, 0);
      if (w != 8 && w != 16 && w != 32 && w != 64)
        return gf_error_set(err, GF_EINVAL,
                            "IPC field '%s': dictionary index of %lld bits",
                            msgname, (long long)w);
      c->index_width = (int)(w / 8);
      c->index_signed = gfi_fb_get_int(&it, INT_SIGNED, 0) != 0;
    }
    if (vt.id == GF_TYPE_NULL)
      return gf_error_set(err, GF_ENOTSUP,
                          "IPC field '%s': dictionary of null values is not "
                          "supported",
                          msgname);
    int d = gfi_ipc_find_dict(r, id);
    if (d < 0) {
      d = r->ndicts++;
      r->dicts[d].id = id;
      r->dicts[d].value_type = vt;
      r->dicts[d].view = view;
    } else if (!gf_type_equals(r->dicts[d].value_type, vt) ||
               r->dicts[d].view != view) {
      return gf_error_set(err, GF_EINVAL,
                          "IPC field '%s': dictionary %lld used with two types",
                          msgname, (long long)id);
    }
    c->dict = d;
    c->view = false;
    c->type = gf_type_dictionary(vt);
  }
  gf_status st = gf_type_validate(c->type, err);
  if (st != GF_OK) return st;
  out->name = name;
  out->type = c->type;
  out->nullable = gfi_fb_get_int(f, FIELD_NULLABLE, 0) != 0;
  return GF_OK;
}

/* Builds r->schema, r->cols and r->dicts from a verified Schema table. */
gf_status gfi_ipc_decode_schema(gfi_ipc_reader *r, const fb_table *schema) {
  if (gfi_fb_get_int(schema, SCHEMA_ENDIANNESS, 0) != 0)
    return gf_error_set(r->err, GF_ENOTSUP,
                        "big-endian IPC data is not supported");
  size_t n = gfi_fb_vec_len(schema, SCHEMA_FIELDS);
  if (n > INT32_MAX / 2)
    return gf_error_set(r->err, GF_EINVAL, "IPC schema at byte %zu has %zu fields",
                        (size_t)(schema->buf - r->data) + schema->pos, n);
  r->ncols = (int)n;
  size_t names_len = 0;
  for (size_t i = 0; i < n; i++) {
    fb_table f;
    const char *s;
    size_t sl = 0;
    if (gfi_fb_vec_table(schema, SCHEMA_FIELDS, i, &f)) gfi_fb_get_string(&f, FIELD_NAME, &s, &sl);
    names_len += (sl ? sl : 24) + 1;
  }
  size_t fsz = (n ? n : 1) * sizeof(gf_field);
  r->meta_alloc = r->a;
  r->cols = gfi_calloc(r->a, (n ? n : 1) * sizeof *r->cols);
  r->dicts = gfi_calloc(r->a, (n ? n : 1) * sizeof *r->dicts);
  gf_field *fields = gfi_calloc(r->a, fsz);
  char *names = gfi_calloc(r->a, names_len + 1);
  gf_status st = GF_OK;
  if (!r->cols || !r->dicts || !fields || !names) {
    st = GF_OOM(r->err, "an IPC schema");
    goto done;
  }
  size_t spos = (size_t)(schema->buf - r->data) + schema->pos;
  char *np = names;
  for (size_t i = 0; i < n && st == GF_OK; i++) {
    fb_table f;
    const char *s = "";
    size_t sl = 0;
    if (!gfi_fb_vec_table(schema, SCHEMA_FIELDS, i, &f)) {
      st = gf_error_set(r->err, GF_EINVAL,
                        "IPC schema at byte %zu: field %zu missing", spos, i);
      break;
    }
    gfi_fb_get_string(&f, FIELD_NAME, &s, &sl);
    if (sl == 0)
      sl = (size_t)snprintf(np, 25, "column_%zu", i + 1);
    else
      memcpy(np, s, sl);
    np[sl] = 0;
    if (strlen(np) != sl) {
      st = gf_error_set(r->err, GF_EINVAL,
                        "IPC schema at byte %zu: field %zu: name contains NUL",
                        spos, i);
      break;
    }
    for (size_t j = 0; j < i; j++)
      if (!strcmp(fields[j].name, np)) {
        st = gf_error_set(r->err, GF_ENOTSUP,
                          "IPC schema at byte %zu: duplicate field name '%s' "
                          "is not supported",
                          spos, np);
        break;
      }
    if (st == GF_OK) {
      gf_error sub;
      st = decode_field(r, &f, (int)i, &fields[i], np, &sub);
      if (st != GF_OK)
        gf_error_set(r->err, st, "IPC schema field at byte %zu: %s",
                     (size_t)(f.buf - r->data) + f.pos, sub.message);
    }
    np += sl + 1;
  }
  if (st == GF_OK) st = gf_schema_new(fields, (int)n, &r->schema, r->err);
  if (st == GF_OK && r->meta_out) st = read_metadata(r, schema);
done:
  gfi_mfree(r->a, fields, fsz);
  gfi_mfree(r->a, names, names_len + 1);
  return st;
}

/* ------------------------------------------------------------------ */
/* Messages                                                              */
/* ------------------------------------------------------------------ */

/* Parses the message framed at `pos` (within [0, limit)). At end of input
 * or an end-of-stream marker, *eos is set. */
gf_status gfi_ipc_read_message(gfi_ipc_reader *r, size_t pos, size_t limit, gfi_ipc_msg *m,
                              size_t *next, bool *eos) {
  *eos = false;
  if (pos == limit) {
    *eos = true;
    return GF_OK;
  }
  if (limit - pos < 4)
    return gf_error_set(r->err, GF_EINVAL,
                        "truncated IPC message header at byte %zu", pos);
  uint32_t w = gfi_fb_load_u32(r->data + pos);
  size_t hdr = 4;
  int32_t mlen = (int32_t)w;
  if (w == 0xFFFFFFFFu) {
    if (limit - pos < 8)
      return gf_error_set(r->err, GF_EINVAL,
                          "truncated IPC message header at byte %zu", pos);
    mlen = gfi_fb_load_i32(r->data + pos + 4);
    hdr = 8;
  }
  if (mlen == 0) {
    *eos = true;
    *next = pos + hdr;
    return GF_OK;
  }
  if (mlen < 0 || (size_t)mlen > limit - pos - hdr)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: metadata length %d exceeds "
                        "the %zu bytes left",
                        pos, (int)mlen, limit - pos - hdr);
  const uint8_t *meta = r->data + pos + hdr;
  GF_RETURN_NOT_OK(gfi_fb_verify(meta, (size_t)mlen, &gfi_fb_message, pos + hdr,
                             r->err));
  fb_table t = gfi_fb_root(meta, (size_t)mlen, &gfi_fb_message);
  int64_t version = gfi_fb_get_int(&t, MSG_VERSION, 0);
  if (version < 3 || version > GFI_IPC_METADATA_V5)
    return gf_error_set(r->err, GF_ENOTSUP,
                        "IPC message at byte %zu: metadata version V%lld is "
                        "not supported (V4 and V5 are)",
                        pos, (long long)version + 1);
  m->type = (int)gfi_fb_get_int(&t, MSG_HEADER_TYPE, 0);
  m->pos = pos;
  if (m->type < MSG_SCHEMA || m->type > MSG_RECORD_BATCH)
    return gf_error_set(r->err,
                        m->type == MSG_TENSOR || m->type == MSG_SPARSE_TENSOR
                            ? GF_ENOTSUP
                            : GF_EINVAL,
                        "IPC message at byte %zu: unsupported message type %d",
                        pos, m->type);
  if (!gfi_fb_get_table(&t, MSG_HEADER, &m->header))
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu has no header", pos);
  int64_t blen = gfi_fb_get_int(&t, MSG_BODY_LENGTH, 0);
  size_t body = pos + hdr + (size_t)mlen;
  if (blen < 0 || (uint64_t)blen > limit - body)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: body of %lld bytes exceeds "
                        "the %zu bytes left",
                        pos, (long long)blen, limit - body);
  m->body = body;
  m->body_len = (size_t)blen;
  *next = body + (size_t)blen;
  return GF_OK;
}

/* ------------------------------------------------------------------ */
/* Buffers and arrays                                                    */
/* ------------------------------------------------------------------ */

static void release_parent(void *owner) { gf_buffer_release(owner); }

/* A buffer viewing [off, off+n) of the input: zero-copy when 8-byte
 * aligned, else copied so typed loads stay aligned. */
static gf_status view(gfi_ipc_reader *r, size_t off, size_t n, gf_buffer **out) {
  const uint8_t *p = r->data + off;
  if (((uintptr_t)p & 7) != 0) {
    if (gfi_buffer_alloc(r->a, n, out) != GF_OK)
      return GF_OOM(r->err, "an IPC buffer");
    memcpy(gf_buffer_mutable_data(*out), p, n);
    return GF_OK;
  }
  gf_buffer_retain(r->whole);
  if (gfi_buffer_wrap_with(r->a, p, n, release_parent, r->whole, out) != GF_OK) {
    gf_buffer_release(r->whole);
    return GF_OOM(r->err, "an IPC buffer");
  }
  return GF_OK;
}

static gf_status next_node(gfi_ipc_reader *r, body_ctx *c, int64_t *len,
                           int64_t *nulls) {
  if (c->inode >= c->nnodes)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: fewer field nodes (%zu) than "
                        "columns",
                        c->m->pos, c->nnodes);
  const uint8_t *p = c->nodes + GFI_FIELD_NODE_SIZE * c->inode++;
  *len = gfi_fb_load_i64(p);
  *nulls = gfi_fb_load_i64(p + 8);
  if (*len < 0 || *nulls < 0 || *nulls > *len)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: field node %zu has length "
                        "%lld and null count %lld",
                        c->m->pos, c->inode - 1, (long long)*len,
                        (long long)*nulls);
  return GF_OK;
}

/* Next body buffer (decompressed when the batch is compressed); *out NULL
 * for an empty buffer. `max_len` bounds the uncompressed size. */
static gf_status next_buffer(gfi_ipc_reader *r, body_ctx *c, uint64_t max_len,
                             gf_buffer **out) {
  *out = NULL;
  if (c->ibuf >= c->nbufs)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: fewer buffers (%zu) than the "
                        "columns need",
                        c->m->pos, c->nbufs);
  size_t bi = c->ibuf++;
  const uint8_t *p = c->bufs + GFI_BUFFER_SIZE * bi;
  int64_t off = gfi_fb_load_i64(p), n = gfi_fb_load_i64(p + 8);
  if (off < 0 || n < 0 || (uint64_t)off > c->m->body_len ||
      (uint64_t)n > c->m->body_len - (uint64_t)off)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: buffer %zu [%lld, +%lld) "
                        "outside the %zu-byte body",
                        c->m->pos, bi, (long long)off, (long long)n,
                        c->m->body_len);
  if (n == 0) return GF_OK;
  size_t at = c->m->body + (size_t)off;
  if (c->codec < 0) return view(r, at, (size_t)n, out);
  if (n < 8)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC compressed buffer at byte %zu is shorter than its "
                        "8-byte length prefix",
                        at);
  int64_t ulen = gfi_fb_load_i64(r->data + at);
  if (ulen == -1) return view(r, at + 8, (size_t)n - 8, out);
  if (ulen == 0) return GF_OK;
  /* Neither codec expands data more than ~32768:1, so a larger claim is
   * corrupt: this bounds the memory a hostile file can make us allocate. */
  uint64_t cap = (uint64_t)(n - 8) * 32768u + 65536u;
  if (ulen < 0 || (uint64_t)ulen > cap || (uint64_t)ulen > max_len)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC compressed buffer at byte %zu claims %lld "
                        "uncompressed bytes",
                        at, (long long)ulen);
  if (!gfi_ipc_codec_available(c->codec))
    return gf_error_set(r->err, GF_ENOTSUP,
                        "IPC file is compressed with %s: built without %s",
                        gfi_ipc_codec_name(c->codec),
                        gfi_ipc_codec_name(c->codec));
  gf_buffer *b;
  if (gfi_buffer_alloc(r->a, (size_t)ulen, &b) != GF_OK)
    return GF_OOM(r->err, "a decompressed IPC buffer");
  gf_error sub;
  gf_status st = gfi_ipc_decompress(c->codec, r->data + at + 8, (size_t)n - 8,
                                    gf_buffer_mutable_data(b), (size_t)ulen,
                                    &sub);
  if (st != GF_OK) {
    gf_buffer_release(b);
    return gf_error_set(r->err, st, "IPC buffer at byte %zu: %s", at,
                        sub.message);
  }
  *out = b;
  return GF_OK;
}

/* Converts dictionary indices of another integer width to int32 codes
 * (null slots become 0; values outside int32 fail). */
static gf_status convert_indices(gfi_ipc_reader *r, const gfi_ipc_col *ci, int64_t len,
                                 gf_buffer *validity, gf_buffer **idx) {
  size_t w = (size_t)ci->index_width;
  if (w == 4 && ci->index_signed) return GF_OK;
  if (len == 0) {
    gf_buffer_release(*idx);
    *idx = NULL;
    return GF_OK;
  }
  if (!*idx || gf_buffer_size(*idx) / w < (uint64_t)len)
    return gf_error_set(r->err, GF_EINVAL,
                        "dictionary index buffer has %zu bytes, needs %lld indices of %zu",
                        gf_buffer_size(*idx), (long long)len, w);
  gf_buffer *o;
  if (gfi_buffer_alloc(r->a, (size_t)len * 4, &o) != GF_OK)
    return GF_OOM(r->err, "dictionary codes");
  const uint8_t *s = gf_buffer_data(*idx);
  const uint8_t *v = validity ? gf_buffer_data(validity) : NULL;
  int32_t *d = gf_buffer_mutable_data(o);
  for (int64_t i = 0; i < len; i++) {
    if (v && !gfi_bit_get(v, i)) continue;
    const uint8_t *q = s + (size_t)i * w;
    int64_t x;
    if (w == 8) {
      x = gfi_fb_load_i64(q);
      if (!ci->index_signed && x < 0) x = INT64_MAX;
    } else {
      uint64_t u = 0;
      for (size_t k = w; k-- > 0;) u = (u << 8) | q[k];
      if (ci->index_signed && (u >> (8 * w - 1)))
        x = (int64_t)(u | ~((UINT64_C(1) << (8 * w)) - 1));
      else
        x = (int64_t)u;
    }
    if (x < 0 || x > INT32_MAX) {
      gf_buffer_release(o);
      return gf_error_set(r->err, GF_EINVAL,
                          "dictionary index %lld at element %lld is out of "
                          "range",
                          (long long)x, (long long)i);
    }
    d[i] = (int32_t)x;
  }
  gf_buffer_release(*idx);
  *idx = o;
  return GF_OK;
}

/* Cheap layout checks for GF_IPC_VALIDATE_METADATA_ONLY: buffer sizes
 * against the length, and the last offset against the data size. */
static gf_status check_sizes(gf_error *err, gf_datatype t, int64_t len,
                             gf_buffer *b[3]) {
  uint64_t n = (uint64_t)len;
  if (b[0] && gf_buffer_size(b[0]) < (n + 7) / 8)
    return gf_error_set(err, GF_EINVAL, "validity buffer too short");
  if (len == 0) return GF_OK;
  if (gfi_type_is_var_width(t.id)) {
    uint64_t osz = gfi_type_is_large(t.id) ? 8 : 4;
    if (!b[1] || gf_buffer_size(b[1]) / osz < n + 1)
      return gf_error_set(err, GF_EINVAL, "offsets buffer too short");
    const uint8_t *o = gf_buffer_data(b[1]);
    int64_t first = osz == 8 ? gfi_fb_load_i64(o) : gfi_fb_load_i32(o);
    int64_t last = osz == 8 ? gfi_fb_load_i64(o + n * 8) : gfi_fb_load_i32(o + n * 4);
    if (first < 0 || last < first || (uint64_t)last > gf_buffer_size(b[2]))
      return gf_error_set(err, GF_EINVAL, "offsets outside the data buffer");
    return GF_OK;
  }
  uint64_t w = (uint64_t)gfi_type_byte_width(t);
  bool short_data = t.id == GF_TYPE_BOOL
                        ? !b[1] || gf_buffer_size(b[1]) < (n + 7) / 8
                        : !b[1] || gf_buffer_size(b[1]) / w < n;
  if (short_data) return gf_error_set(err, GF_EINVAL, "data buffer too short");
  return GF_OK;
}

/* Reads the next Utf8View/BinaryView array (node, validity, views, then
 * as many data buffers as the batch's next variadic count says) and
 * converts it to utf8/binary, or large_* past int32 offsets. */
static gf_status read_view_array(gfi_ipc_reader *r, body_ctx *c, gf_datatype t,
                                 const char *what, gf_array **out) {
  int64_t len = 0, nulls = 0;
  GF_RETURN_NOT_OK(next_node(r, c, &len, &nulls));
  if (c->ivariadic >= c->nvariadic)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: %s: variadicBufferCounts "
                        "has %zu entries, fewer than the view columns",
                        c->m->pos, what, c->nvariadic);
  int64_t nvar = gfi_fb_load_i64(c->variadic + 8 * c->ivariadic++);
  if (nvar < 0 || (uint64_t)nvar > c->nbufs - c->ibuf)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: %s: variadic buffer count "
                        "%lld exceeds the %zu buffers left",
                        c->m->pos, what, (long long)nvar, c->nbufs - c->ibuf);
  if (len > GF_MAX_ROWS)
    return gf_error_set(r->err, GF_ENOTSUP,
                        "IPC message at byte %zu: %s: %lld rows is more than "
                        "GF_MAX_ROWS",
                        c->m->pos, what, (long long)len);
  uint64_t ulen = (uint64_t)len;
  gf_buffer *vb[2] = {NULL, NULL};
  gf_buffer **data = NULL;
  const uint8_t **dp = NULL;
  int64_t *ds = NULL;
  size_t nalloc = (size_t)(nvar > 0 ? nvar : 1);
  gf_status st = next_buffer(r, c, ulen / 8 + 64, &vb[0]);
  if (st == GF_OK) st = next_buffer(r, c, ulen * GFI_VIEW_SIZE + 64, &vb[1]);
  if (st == GF_OK) {
    data = gfi_calloc(r->a, nalloc * sizeof *data);
    dp = gfi_calloc(r->a, nalloc * sizeof *dp);
    ds = gfi_calloc(r->a, nalloc * sizeof *ds);
    if (!data || !dp || !ds) st = GF_OOM(r->err, "IPC view data buffers");
  }
  for (int64_t k = 0; st == GF_OK && k < nvar; k++) {
    st = next_buffer(r, c, UINT64_MAX, &data[k]);
    if (st == GF_OK && data[k]) {
      dp[k] = gf_buffer_data(data[k]);
      ds[k] = (int64_t)gf_buffer_size(data[k]);
    }
  }
  if (st == GF_OK && nulls > 0 &&
      (!vb[0] || gf_buffer_size(vb[0]) < (ulen + 7) / 8))
    st = gf_error_set(r->err, GF_EINVAL,
                      "IPC message at byte %zu: %s has %lld nulls but a "
                      "validity buffer of %zu bytes",
                      c->m->pos, what, (long long)nulls,
                      vb[0] ? gf_buffer_size(vb[0]) : (size_t)0);
  if (st == GF_OK && len > 0 &&
      (!vb[1] || gf_buffer_size(vb[1]) / GFI_VIEW_SIZE < ulen))
    st = gf_error_set(r->err, GF_EINVAL,
                      "IPC message at byte %zu: %s: views buffer has %zu "
                      "bytes, needs %lld",
                      c->m->pos, what, vb[1] ? gf_buffer_size(vb[1]) : (size_t)0,
                      (long long)(len * GFI_VIEW_SIZE));
  const uint8_t *valid = nulls > 0 ? gf_buffer_data(vb[0]) : NULL;
  if (st == GF_OK && valid && gfi_bitmap_count(valid, 0, len) != len - nulls)
    st = gf_error_set(r->err, GF_EINVAL,
                      "IPC message at byte %zu: %s: null count %lld does not "
                      "match the validity bitmap",
                      c->m->pos, what, (long long)nulls);
  if (st == GF_OK) {
    char where[160];
    snprintf(where, sizeof where, "IPC message at byte %zu: %s", c->m->pos,
             what);
    gfi_view_input in = {valid, vb[1] ? gf_buffer_data(vb[1]) : NULL, 0, len,
                         dp, ds, nvar, t.id == GF_TYPE_UTF8, 0};
    st = gfi_view_convert(r->a, &in, where, out, r->err);
  }
  for (int64_t k = 0; data && k < nvar; k++) gf_buffer_release(data[k]);
  if (data) gfi_mfree(r->a, data, nalloc * sizeof *data);
  if (dp) gfi_mfree(r->a, dp, nalloc * sizeof *dp);
  if (ds) gfi_mfree(r->a, ds, nalloc * sizeof *ds);
  gf_buffer_release(vb[0]);
  gf_buffer_release(vb[1]);
  return st;
}

/* Reads the next array of type t (dictionary arrays use `dict`). */
static gf_status read_array(gfi_ipc_reader *r, body_ctx *c, gf_datatype t,
                            const gfi_ipc_col *ci, gf_array *dict,
                            const char *what, gf_array **out) {
  int64_t len = 0, nulls = 0;
  GF_RETURN_NOT_OK(next_node(r, c, &len, &nulls));
  gf_buffer *b[3] = {NULL, NULL, NULL};
  if (t.id == GF_TYPE_NULL)
    return gfi_array_make(r->a, t, len, 0, len, b, NULL, out, r->err);
  /* Bounds for decompressed sizes: what the array can need at most. */
  uint64_t ulen = (uint64_t)len;
  uint64_t max_fixed = ulen * 16 + 64;
  if (t.id == GF_TYPE_FIXED_SIZE_BINARY) max_fixed = ulen * (uint64_t)t.byte_width + 64;
  if (t.id == GF_TYPE_DECIMAL256) max_fixed = ulen * 32 + 64;
  gf_status st = next_buffer(r, c, ulen / 8 + 64, &b[0]);
  if (st == GF_OK && nulls == 0 && b[0]) {
    gf_buffer_release(b[0]);
    b[0] = NULL;
  }
  if (st == GF_OK && b[0] &&
      gf_buffer_size(b[0]) < ((uint64_t)len + 7) / 8)
    st = gf_error_set(r->err, GF_EINVAL,
                      "IPC message at byte %zu: %s: validity buffer has %zu "
                      "bytes, needs %lld",
                      c->m->pos, what, gf_buffer_size(b[0]),
                      (long long)(((uint64_t)len + 7) / 8));
  if (st == GF_OK && nulls > 0 && !b[0])
    st = gf_error_set(r->err, GF_EINVAL,
                      "IPC message at byte %zu: %s has %lld nulls but no "
                      "validity buffer",
                      c->m->pos, what, (long long)nulls);
  if (st == GF_OK) st = next_buffer(r, c, max_fixed, &b[1]);
  if (st == GF_OK && gfi_type_is_var_width(t.id)) {
    /* The data size is bounded by the last offset, not known before. */
    st = next_buffer(r, c, UINT64_MAX, &b[2]);
    int64_t osz = gfi_type_is_large(t.id) ? 8 : 4;
    if (st == GF_OK && len == 0 && (int64_t)gf_buffer_size(b[1]) < osz) {
      gf_buffer_release(b[1]);
      if (gfi_buffer_alloc(r->a, (size_t)osz, &b[1]) != GF_OK) {
        b[1] = NULL;
        st = GF_OOM(r->err, "an offsets buffer");
      }
    }
  }
  if (st == GF_OK && t.id == GF_TYPE_DICTIONARY)
    st = convert_indices(r, ci, len, b[0], &b[1]);
  if (st == GF_OK && t.id == GF_TYPE_DICTIONARY && !dict)
    st = gf_error_set(r->err, GF_EINVAL,
                      "IPC message at byte %zu: %s uses a dictionary that was "
                      "never sent",
                      c->m->pos, what);
  if (st != GF_OK) {
    for (int i = 0; i < 3; i++) gf_buffer_release(b[i]);
    return st;
  }
  /* Sizes first (cheap, and what the statistics pass relies on). */
  gf_datatype phys = t.id == GF_TYPE_DICTIONARY ? gf_type(GF_TYPE_INT32) : t;
  gf_error sub;
  st = check_sizes(&sub, phys, len, b);
  if (st != GF_OK) {
    for (int i = 0; i < 3; i++) gf_buffer_release(b[i]);
    return gf_error_set(r->err, GF_EINVAL, "IPC message at byte %zu: %s: %s",
                        c->m->pos, what, sub.message);
  }
  if (r->validation == GF_IPC_VALIDATE_METADATA_ONLY) {
    gf_stats s;
    gfi_stats_reset(&s, t);
    return gfi_array_make_with_stats(r->a, t, len, nulls, b, dict, &s, out,
                                     r->err);
  }
  gf_array *arr;
  GF_RETURN_NOT_OK(gfi_array_make(r->a, t, len, 0, nulls, b, dict, &arr, r->err));
  st = gf_array_validate(arr, r->validation == GF_IPC_VALIDATE_FULL, &sub);
  if (st != GF_OK) {
    gf_array_release(arr);
    return gf_error_set(r->err, st, "IPC message at byte %zu: %s: %s",
                        c->m->pos, what, sub.message);
  }
  *out = arr;
  return GF_OK;
}

/* Sets up the node/buffer cursors of a RecordBatch table. */
static gf_status open_body(gfi_ipc_reader *r, const gfi_ipc_msg *m, const fb_table *rb,
                           body_ctx *c) {
  memset(c, 0, sizeof *c);
  c->m = m;
  c->nodes = gfi_fb_vec_data(rb, RB_NODES);
  c->nnodes = gfi_fb_vec_len(rb, RB_NODES);
  c->bufs = gfi_fb_vec_data(rb, RB_BUFFERS);
  c->nbufs = gfi_fb_vec_len(rb, RB_BUFFERS);
  c->variadic = gfi_fb_vec_data(rb, RB_VARIADIC);
  c->nvariadic = gfi_fb_vec_len(rb, RB_VARIADIC);
  c->codec = -1;
  fb_table comp;
  if (gfi_fb_get_table(rb, RB_COMPRESSION, &comp)) {
    int64_t codec = gfi_fb_get_int(&comp, COMP_CODEC, 0);
    if (gfi_fb_get_int(&comp, COMP_METHOD, 0) != 0)
      return gf_error_set(r->err, GF_ENOTSUP,
                          "IPC message at byte %zu: compression method %lld "
                          "is not supported",
                          m->pos, (long long)gfi_fb_get_int(&comp, COMP_METHOD, 0));
    if (codec != CODEC_LZ4_FRAME && codec != CODEC_ZSTD)
      return gf_error_set(r->err, GF_EINVAL,
                          "IPC message at byte %zu: unknown codec %lld",
                          m->pos, (long long)codec);
    c->codec = (int)codec;
  }
  return GF_OK;
}

/* Applies a DictionaryBatch message (new, replacement or delta). */
gf_status gfi_ipc_read_dictionary(gfi_ipc_reader *r, const gfi_ipc_msg *m) {
  int64_t id = gfi_fb_get_int(&m->header, DB_ID, 0);
  int d = gfi_ipc_find_dict(r, id);
  if (d < 0)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: dictionary id %lld is not in "
                        "the schema",
                        m->pos, (long long)id);
  fb_table rb;
  if (!gfi_fb_get_table(&m->header, DB_DATA, &rb))
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: dictionary batch has no data",
                        m->pos);
  body_ctx c;
  GF_RETURN_NOT_OK(gfi_check_stop(&r->par, r->start_ns, NULL, r->err));
  GF_RETURN_NOT_OK(open_body(r, m, &rb, &c));
  char what[64];
  snprintf(what, sizeof what, "dictionary %lld", (long long)id);
  gf_array *vals;
  if (r->dicts[d].view) {
    GF_RETURN_NOT_OK(read_view_array(r, &c, r->dicts[d].value_type, what, &vals));
    if (vals->type.id != r->dicts[d].value_type.id) {
      gf_array_release(vals);
      return gf_error_set(r->err, GF_ENOTSUP,
                          "IPC message at byte %zu: %s: view values of more "
                          "than 2^31-1 bytes (a dictionary of large strings "
                          "is not supported)",
                          m->pos, what);
    }
  } else {
    GF_RETURN_NOT_OK(read_array(r, &c, r->dicts[d].value_type, NULL, NULL,
                                what, &vals));
  }
  gfi_ipc_dict *e = &r->dicts[d];
  if (gfi_fb_get_int(&m->header, DB_IS_DELTA, 0) && e->dict) {
    gf_array *both[2] = {e->dict, vals}, *merged;
    gf_status st = gf_array_concat((const gf_array *const *)both, 2, r->a, &merged,
                                   r->err);
    gf_array_release(vals);
    if (st != GF_OK) return st;
    vals = merged;
  }
  gf_array_release(e->dict);
  e->dict = vals;
  return GF_OK;
}

/* Moves the cursor past column `ci`'s node and buffers without reading
 * them (a column not selected): one node; no buffer for null, views and
 * variadic buffers for view columns, three for variable width, else two.
 * Counts past the end are left for the next decoded column to report. */
static void skip_column(body_ctx *c, const gfi_ipc_col *ci) {
  c->inode++;
  if (ci->view) {
    int64_t nvar = 0;
    if (c->ivariadic < c->nvariadic)
      nvar = gfi_fb_load_i64(c->variadic + 8 * c->ivariadic++);
    size_t left = c->ibuf < c->nbufs ? c->nbufs - c->ibuf : 0;
    size_t n = nvar < 0 || (uint64_t)nvar > left ? left : (size_t)nvar;
    c->ibuf += 2 + n;
    return;
  }
  if (ci->type.id == GF_TYPE_NULL) return;
  c->ibuf += gfi_type_is_var_width(ci->type.id) ? 3 : 2;
}

/* Decodes (and validates) the selected columns of a RecordBatch. */
gf_status gfi_ipc_decode_batch(gfi_ipc_reader *r, const gfi_ipc_msg *m,
                               const int *sel, int nsel, gf_array **out) {
  body_ctx c;
  GF_RETURN_NOT_OK(open_body(r, m, &m->header, &c));
  int64_t rows = gfi_fb_get_int(&m->header, RB_LENGTH, 0);
  /* slot[i]: where column i goes in out, -1 when not selected. */
  int *slot = gfi_malloc(r->a, sizeof *slot * (size_t)(r->ncols ? r->ncols : 1));
  if (!slot) return GF_OOM(r->err, "an IPC column selection");
  for (int i = 0; i < r->ncols; i++) slot[i] = sel ? -1 : i;
  for (int k = 0; sel && k < nsel; k++) slot[sel[k]] = k;
  int done = 0; /* out[] entries filled so far, in file column order */
  gf_status st = GF_OK;
  for (int i = 0; i < r->ncols && st == GF_OK; i++) {
    const gfi_ipc_col *ci = &r->cols[i];
    if (slot[i] < 0) {
      skip_column(&c, ci);
      continue;
    }
    gf_array *dict = ci->dict >= 0 ? r->dicts[ci->dict].dict : NULL;
    gf_array **dst = &out[slot[i]];
    char what[96];
    snprintf(what, sizeof what, "column '%.60s'",
             gf_schema_field(r->schema, i)->name);
    /* A batch is decoded on one thread making no runtime call, so it
     * checks the token and the deadline itself, before each column
     * (decoding and validating one is its unit of work). */
    st = gfi_check_stop(&r->par, r->start_ns, NULL, r->err);
    if (st == GF_OK)
      st = ci->view ? read_view_array(r, &c, ci->type, what, dst)
                    : read_array(r, &c, ci->type, ci, dict, what, dst);
    if (st == GF_OK && (*dst)->null_count > 0 &&
        !gf_schema_field(r->schema, i)->nullable) {
      gf_array_release(*dst);
      *dst = NULL;
      st = gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: %s is not nullable but has "
                        "nulls",
                        m->pos, what);
    } else if (st == GF_OK && (*dst)->length != rows) {
      int64_t got = (*dst)->length;
      gf_array_release(*dst);
      *dst = NULL;
      st = gf_error_set(r->err, GF_EINVAL,
                        "IPC message at byte %zu: %s has %lld rows, the batch "
                        "%lld",
                        m->pos, what, (long long)got, (long long)rows);
    }
    if (st == GF_OK) done++;
  }
  if (st != GF_OK) {
    /* Release what was decoded: the selected columns before column i. */
    for (int i = 0, k = 0; i < r->ncols && k < done; i++)
      if (slot[i] >= 0) {
        gf_array_release(out[slot[i]]);
        out[slot[i]] = NULL;
        k++;
      }
  }
  gfi_mfree(r->a, slot, sizeof *slot * (size_t)(r->ncols ? r->ncols : 1));
  return st;
}

/* Decodes a RecordBatch message into one more row of r->columns (the
 * eager stream reader). */
static gf_status read_batch(gfi_ipc_reader *r, const gfi_ipc_msg *m) {
  if (gfi_vec_reserve(&r->columns, (size_t)r->ncols * sizeof(gf_array *), NULL) != GF_OK)
    return GF_OOM(r->err, "the IPC batch list");
  gf_array **row = (gf_array **)r->columns.data + (size_t)r->nbatches * (size_t)r->ncols;
  GF_RETURN_NOT_OK(gfi_ipc_decode_batch(r, m, NULL, r->ncols, row));
  r->nbatches++;
  r->columns.len += (size_t)r->ncols * sizeof(gf_array *);
  return GF_OK;
}

/* ------------------------------------------------------------------ */
/* Files and streams                                                     */
/* ------------------------------------------------------------------ */

const char gfi_ipc_magic[6] = {'A', 'R', 'R', 'O', 'W', '1'};

static gf_status read_stream_messages(gfi_ipc_reader *r, size_t pos, size_t limit) {
  gfi_ipc_msg m;
  size_t next = pos;
  bool eos;
  GF_RETURN_NOT_OK(gfi_ipc_read_message(r, pos, limit, &m, &next, &eos));
  if (eos)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC stream ends at byte %zu before its schema", pos);
  if (m.type != MSG_SCHEMA)
    return gf_error_set(r->err, GF_EINVAL,
                        "IPC stream: message at byte %zu is not a schema",
                        pos);
  GF_RETURN_NOT_OK(gfi_ipc_decode_schema(r, &m.header));
  for (;;) {
    pos = next;
    GF_RETURN_NOT_OK(gfi_ipc_read_message(r, pos, limit, &m, &next, &eos));
    if (eos) return GF_OK;
    if (m.type == MSG_DICTIONARY_BATCH)
      GF_RETURN_NOT_OK(gfi_ipc_read_dictionary(r, &m));
    else if (m.type == MSG_RECORD_BATCH)
      GF_RETURN_NOT_OK(read_batch(r, &m));
    else
      return gf_error_set(r->err, GF_EINVAL,
                          "IPC stream: second schema at byte %zu", pos);
  }
}

void gfi_ipc_reader_free(gfi_ipc_reader *r) {
  gf_array **columns = (gf_array **)r->columns.data;
  for (size_t i = 0; i < (size_t)r->nbatches * (size_t)r->ncols; i++)
    gf_array_release(columns[i]);
  gfi_vec_reset(&r->columns);
  if (r->dicts)
    for (int i = 0; i < r->ndicts; i++) gf_array_release(r->dicts[i].dict);
  size_t n = (size_t)(r->ncols ? r->ncols : 1);
  if (r->dicts) gfi_mfree(r->meta_alloc, r->dicts, n * sizeof *r->dicts);
  if (r->cols) gfi_mfree(r->meta_alloc, r->cols, n * sizeof *r->cols);
  gf_schema_release(r->schema);
  gf_buffer_release(r->whole);
}

/* After a read that returned `st`: cuts *out to its first max_rows rows
 * (when max_rows > 0 and it has more). */
static gf_status cut_rows(gf_status st, int64_t max_rows, gf_frame **out, gf_error *err) {
  if (st != GF_OK || max_rows <= 0 || gf_frame_num_rows(*out) <= max_rows) return st;
  gf_frame *cut = NULL;
  st = gf_frame_slice(*out, 0, max_rows, &cut, err);
  gf_frame_release(*out);
  *out = cut;
  return st;
}

/* Reads `whole` (consumed) as a file: the lazy source read whole, its
 * batches decoded and validated in parallel (ipc_source.c). */
static gf_status read_ipc_file_whole(gf_buffer *whole, const gf_ipc_read_options *o,
                                     gf_frame **out, gf_error *err) {
  gfi_ipc_source *s;
  GF_RETURN_NOT_OK(gfi_ipc_source_open_buffer(whole, o, &s, err));
  gf_status st = gfi_ipc_source_read_first(s, o ? o->max_rows : 0, o ? o->parallel : NULL,
                                           out, err);
  st = cut_rows(st, o ? o->max_rows : 0, out, err);
  gfi_ipc_source_close(s);
  if (st != GF_OK && o && o->metadata && *o->metadata) {
    gf_ipc_metadata_free(*o->metadata);
    *o->metadata = NULL;
  }
  return st;
}

/* Reads `whole` (consumed) as a file or stream into a frame. */
static gf_status read_ipc(gf_buffer *whole, bool as_file,
                          const gf_ipc_read_options *o, gf_frame **out,
                          gf_error *err) {
  gf_ipc_read_options opts;
  gf_ipc_read_options_init(&opts);
  if (o) memcpy(&opts, o, o->size < sizeof opts ? o->size : sizeof opts);
  if (as_file) return read_ipc_file_whole(whole, &opts, out, err);
  gfi_ipc_reader r;
  memset(&r, 0, sizeof r);
  gfi_ctx call; /* the read's one deadline and token */
  gf_status lst = gfi_ctx_load(&call, opts.parallel, &r.par, err);
  if (lst != GF_OK) {
    gf_buffer_release(whole);
    return lst;
  }
  r.a = gfi_alloc_or_default(r.par.allocator);
  gfi_vec_init(&r.columns, r.a);
  r.start_ns = gfi_now_ns();
  r.whole = whole;
  r.data = gf_buffer_data(whole);
  r.len = gf_buffer_size(whole);
  r.validation = opts.validation;
  r.err = err;
  r.meta_out = opts.metadata;
  if (r.meta_out) *r.meta_out = NULL;
  gf_status st = read_stream_messages(&r, 0, r.len);
  /* View columns of which a batch came out large_*: all batches large. */
  if (st == GF_OK && r.nbatches > 0 && r.ncols > 0)
    st = gfi_view_unify_columns(r.a, &r.schema, (gf_array **)r.columns.data,
                                r.nbatches, r.ncols, err);
  if (st == GF_OK)
    st = gf_frame_new(r.schema, (gf_array **)r.columns.data, r.nbatches, r.a, out, err);
  st = cut_rows(st, opts.max_rows, out, err);
  if (st != GF_OK && r.meta_out && *r.meta_out) {
    gf_ipc_metadata_free(*r.meta_out);
    *r.meta_out = NULL;
  }
  gfi_ipc_reader_free(&r);
  return st;
}

void gf_ipc_read_options_init(gf_ipc_read_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

static const gf_allocator *opts_alloc(const gf_ipc_read_options *o) {
  return o && o->parallel && o->parallel->size ? gfi_alloc_or_default(o->parallel->allocator)
                                               : gf_default_allocator();
}

/* Maps `path`, or reads it when o->input_mode is GF_INPUT_READ, into one
 * buffer (consumed by read_ipc). The read has its own context: its token
 * and deadline bound the pread loop as they bound the decoding after it. */
gf_status gfi_ipc_map_path(const char *path, const gf_ipc_read_options *o,
                          gf_buffer **out, gf_error *err) {
  if (!path) return gf_error_set(err, GF_EINVAL, "IPC reader: path is NULL");
  gf_ipc_read_options lo;
  gf_ipc_read_options_init(&lo);
  if (o) memcpy(&lo, o, o->size < sizeof lo ? o->size : sizeof lo);
  gfi_ctx call;
  gf_parallel_options par;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, lo.parallel, &par, err));
  gfi_mapped_file *m;
  GF_RETURN_NOT_OK(gfi_mapped_file_open_with(path, &par, lo.input_mode, &m, err));
  gf_status st = gfi_mapped_file_buffer(m, 0, gfi_mapped_file_size(m), out, err);
  gfi_mapped_file_release(m);
  return st;
}

static gf_status check_out(gf_frame **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "IPC reader: out is NULL");
  *out = NULL;
  return GF_OK;
}

static gf_status read_ipc_file_in(const char *path, const gf_ipc_read_options *o,
                           gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(check_out(out, err));
  gf_buffer *b;
  GF_RETURN_NOT_OK(gfi_ipc_map_path(path, o, &b, err));
  return read_ipc(b, true, o, out, err);
}

static gf_status read_ipc_stream_in(const char *path, const gf_ipc_read_options *o,
                             gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(check_out(out, err));
  gf_buffer *b;
  GF_RETURN_NOT_OK(gfi_ipc_map_path(path, o, &b, err));
  return read_ipc(b, false, o, out, err);
}

static gf_status read_ipc_in(const char *path, const gf_ipc_read_options *o,
                      gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(check_out(out, err));
  gf_buffer *b;
  GF_RETURN_NOT_OK(gfi_ipc_map_path(path, o, &b, err));
  bool is_file = gf_buffer_size(b) >= 6 && !memcmp(gf_buffer_data(b), gfi_ipc_magic, 6);
  return read_ipc(b, is_file, o, out, err);
}

/* Copies caller memory into an owned 64-byte aligned buffer. */
static gf_status copy_in(const void *data, size_t len,
                         const gf_ipc_read_options *o, gf_buffer **out,
                         gf_error *err) {
  if (!data && len)
    return gf_error_set(err, GF_EINVAL, "IPC reader: data is NULL");
  if (gfi_buffer_alloc(opts_alloc(o), len, out) != GF_OK)
    return GF_OOM(err, "a copy of the IPC input");
  if (len) memcpy(gf_buffer_mutable_data(*out), data, len);
  return GF_OK;
}

static gf_status read_ipc_stream_buffer_in(const void *data, size_t len,
                                    const gf_ipc_read_options *o,
                                    gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(check_out(out, err));
  gf_buffer *b;
  GF_RETURN_NOT_OK(copy_in(data, len, o, &b, err));
  return read_ipc(b, false, o, out, err);
}

static gf_status read_ipc_file_buffer_in(const void *data, size_t len,
                                  const gf_ipc_read_options *o,
                                  gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(check_out(out, err));
  gf_buffer *b;
  GF_RETURN_NOT_OK(copy_in(data, len, o, &b, err));
  return read_ipc(b, true, o, out, err);
}

static gf_status read_ipc_stream_fd_in(int fd, const gf_ipc_read_options *o,
                                gf_frame **out, gf_error *err) {
  GF_RETURN_NOT_OK(check_out(out, err));
  gf_buffer *b;
  if (gfi_buffer_alloc(opts_alloc(o), 0, &b) != GF_OK)
    return GF_OOM(err, "an IPC input buffer");
  size_t len = 0;
  for (;;) {
    if (gfi_buffer_capacity(b) - len < 65536 &&
        gfi_buffer_resize(b, len + 65536) != GF_OK) {
      gf_buffer_release(b);
      return GF_OOM(err, "an IPC input buffer");
    }
    size_t room = gfi_buffer_capacity(b) - len;
    gfi_buffer_set_size(b, gfi_buffer_capacity(b));
    ssize_t n = read(fd, (uint8_t *)gf_buffer_mutable_data(b) + len, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      gf_buffer_release(b);
      return gf_error_set(err, GF_EIO, "reading IPC stream from fd %d: %s", fd,
                          strerror(e));
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  gfi_buffer_set_size(b, len);
  return read_ipc(b, false, o, out, err);
}

/* The public readers: one call context (deadline, token, memory limit) for
 * the whole read, input buffer included; the helpers below load the
 * options again as nested calls of it. */
static gf_status ipc_call_begin(const gf_ipc_read_options *o, gf_ipc_read_options *lo,
                                gf_parallel_options *par, gfi_ctx *call, gf_error *err) {
  gf_ipc_read_options_init(lo);
  if (o) memcpy(lo, o, o->size < sizeof *lo ? o->size : sizeof *lo);
  GF_RETURN_NOT_OK(gfi_ctx_load(call, lo->parallel, par, err));
  lo->parallel = par;
  return GF_OK;
}

gf_status gf_read_ipc_file(const char *path, const gf_ipc_read_options *o,
                           gf_frame **out, gf_error *err) {
  gf_ipc_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_call_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, read_ipc_file_in(path, &lo, out, err), err);
}

gf_status gf_read_ipc_stream(const char *path, const gf_ipc_read_options *o,
                           gf_frame **out, gf_error *err) {
  gf_ipc_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_call_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, read_ipc_stream_in(path, &lo, out, err), err);
}

gf_status gf_read_ipc(const char *path, const gf_ipc_read_options *o,
                           gf_frame **out, gf_error *err) {
  gf_ipc_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_call_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, read_ipc_in(path, &lo, out, err), err);
}

gf_status gf_read_ipc_stream_buffer(const void *data, size_t len, const gf_ipc_read_options *o,
                           gf_frame **out, gf_error *err) {
  gf_ipc_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_call_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, read_ipc_stream_buffer_in(data, len, &lo, out, err), err);
}

gf_status gf_read_ipc_file_buffer(const void *data, size_t len, const gf_ipc_read_options *o,
                           gf_frame **out, gf_error *err) {
  gf_ipc_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_call_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, read_ipc_file_buffer_in(data, len, &lo, out, err), err);
}

gf_status gf_read_ipc_stream_fd(int fd, const gf_ipc_read_options *o,
                           gf_frame **out, gf_error *err) {
  gf_ipc_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(ipc_call_begin(o, &lo, &par, &call, err));
  return gfi_ctx_end(&call, read_ipc_stream_fd_in(fd, &lo, out, err), err);
}
