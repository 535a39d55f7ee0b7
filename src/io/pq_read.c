/* The Parquet reader: maps the file, decodes the footer, maps the schema to
 * flat gf columns (restoring Arrow types from the ARROW:schema metadata),
 * prunes row groups by statistics (pq_prune.c), then decodes the
 * (row group x projected column) chunks in parallel, each into its own
 * slot, and assembles one batch per row group: the output does not depend
 * on the number of workers. */
#include <string.h>

#include "exec/exec_internal.h"
#include "io/io_internal.h"
#include "io/ipc_internal.h"
#include "io/pq_read_internal.h"
#include "io/pq_groups.h"

#include "data/builder_internal.h"
#include "expr/expr_internal.h"
#include "ops/sort_join_internal.h"

/* An open file: mapping, footer, columns. */
typedef struct pq_file {
  const char *path;
  const gf_allocator *a;
  gfi_mapped_file *map;
  const uint8_t *data;
  size_t len;
  tr_arena ar;
  gfi_pq_file_meta meta;
  int ncols;            /* top-level columns (flat or nested) */
  pq_column *cols;
  char **nested;        /* per column: NULL, or why it is not readable */
  int nleaves;
} pq_file;

void gf_parquet_read_options_init(gf_parquet_read_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

/* NUL-terminated copy of n bytes through a; NULL when out of memory. */
static char *dup_bytes(const gf_allocator *a, const uint8_t *p, size_t n) {
  char *s = gfi_malloc(a, n + 1);
  if (!s) return NULL;
  if (n) memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* Frees what file_open made (also after a failed open). */
static void file_close(pq_file *f) {
  for (int i = 0; i < f->ncols; i++) {
    if (f->cols[i].name) gfi_mfree(f->a, f->cols[i].name, strlen(f->cols[i].name) + 1);
    if (f->nested[i]) gfi_mfree(f->a, f->nested[i], strlen(f->nested[i]) + 1);
  }
  if (f->cols) gfi_mfree(f->a, f->cols, gfi_at_least_1((size_t)f->ncols) * sizeof *f->cols);
  if (f->nested) gfi_mfree(f->a, f->nested, gfi_at_least_1((size_t)f->ncols) * sizeof *f->nested);
  gfi_tr_arena_free(&f->ar);
  gfi_mapped_file_release(f->map);
}

/* ---- schema mapping ------------------------------------------------ */

/* decimal128 (precision <= 38) or decimal256 (<= 76) for column c;
 * other parameters are GF_ENOTSUP naming the column. */
static gf_status decimal_type(const pq_file *f, const pq_column *c, int32_t p,
                              int32_t s, gf_datatype *t, gf_error *err) {
  if (p < 1 || p > 76 || s < 0 || s > p)
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: column '%s': decimal(%d, %d) is not supported "
                        "(precision 1..76, scale 0..precision)",
                        f->path, c->name, (int)p, (int)s);
  /* A byte array wider than the type (e.g. 16 bytes for precision 10)
   * still fits: each value's extra bytes must be sign extension
   * (checked as values are converted). */
  *t = p <= 38 ? gf_type_decimal128(p, s) : gf_type_decimal256(p, s);
  return GF_OK;
}

/* The unit of a TimeUnit union (MILLIS when none is set). */
static gf_time_unit lt_unit(const gfi_pq_time_unit *u) {
  return tr_isset(u, GFI_PQ_UNIT_NANOS) ? GF_UNIT_NANO
         : tr_isset(u, GFI_PQ_UNIT_MICROS) ? GF_UNIT_MICRO : GF_UNIT_MILLI;
}

/* Maps a leaf schema element to an output type and conversion. */
static gf_status map_leaf(const pq_file *f, pq_column *c, gf_error *err) {
  const gfi_pq_schema_element *e = c->el;
  const gfi_pq_logical_type *lt = &e->logical;
  bool has_lt = tr_isset(e, 10);
  int ct = tr_isset(e, 6) ? e->converted_type : -1;
  c->conv = PQ_CV_INT;
  c->mul = 1;
  c->sort_signed = true;
#define LT(k) (has_lt && tr_isset(lt, k))
  bool dec = LT(GFI_PQ_LT_DECIMAL) || ct == GFI_PQ_CT_DECIMAL;
  int32_t prec = LT(GFI_PQ_LT_DECIMAL) ? lt->decimal.precision : e->precision;
  int32_t scale = LT(GFI_PQ_LT_DECIMAL) ? lt->decimal.scale : e->scale;
  switch (c->phys) {
  case GFI_PQ_BOOLEAN:
    c->conv = PQ_CV_BOOL;
    c->type = gf_type(GF_TYPE_BOOL);
    return GF_OK;
  case GFI_PQ_INT32:
  case GFI_PQ_INT64: {
    bool i32 = c->phys == GFI_PQ_INT32;
    if (dec) {
      c->conv = PQ_CV_DEC;
      return decimal_type(f, c, prec, scale, &c->type, err);
    }
    if (LT(GFI_PQ_LT_INTEGER) || (ct >= GFI_PQ_CT_UINT_8 && ct <= GFI_PQ_CT_INT_64)) {
      int bw;
      bool sg;
      if (LT(GFI_PQ_LT_INTEGER)) {
        bw = lt->integer.bit_width;
        sg = lt->integer.is_signed;
      } else {
        static const int w[] = {8, 16, 32, 64, 8, 16, 32, 64};
        bw = w[ct - GFI_PQ_CT_UINT_8];
        sg = ct >= GFI_PQ_CT_INT_8;
      }
      static const gf_type_id s_ids[] = {GF_TYPE_INT8, GF_TYPE_INT16, GF_TYPE_INT32, GF_TYPE_INT64};
      static const gf_type_id u_ids[] = {GF_TYPE_UINT8, GF_TYPE_UINT16, GF_TYPE_UINT32, GF_TYPE_UINT64};
      int k = bw == 8 ? 0 : bw == 16 ? 1 : bw == 32 ? 2 : bw == 64 ? 3 : -1;
      if (k < 0 || (i32 && k == 3))
        return gf_error_set(err, GF_EINVAL, "%s: column '%s': integer annotation of %d bits on %s",
                            f->path, c->name, bw, gfi_pq_type_name(c->phys));
      c->type = gf_type(sg ? s_ids[k] : u_ids[k]);
      c->sort_signed = sg;
      return GF_OK;
    }
    if (LT(GFI_PQ_LT_DATE) || ct == GFI_PQ_CT_DATE) {
      c->type = i32 ? gf_type(GF_TYPE_DATE32) : gf_type(GF_TYPE_INT64);
      return GF_OK;
    }
    if (LT(GFI_PQ_LT_TIME) || ct == GFI_PQ_CT_TIME_MILLIS || ct == GFI_PQ_CT_TIME_MICROS) {
      gf_time_unit u = LT(GFI_PQ_LT_TIME) ? lt_unit(&lt->time.unit)
                       : ct == GFI_PQ_CT_TIME_MILLIS ? GF_UNIT_MILLI : GF_UNIT_MICRO;
      c->type = gf_type_time(u == GF_UNIT_MILLI ? GF_TYPE_TIME32 : GF_TYPE_TIME64, u);
      return GF_OK;
    }
    if (!i32 && (LT(GFI_PQ_LT_TIMESTAMP) || ct == GFI_PQ_CT_TIMESTAMP_MILLIS ||
                 ct == GFI_PQ_CT_TIMESTAMP_MICROS)) {
      gf_time_unit u = LT(GFI_PQ_LT_TIMESTAMP) ? lt_unit(&lt->timestamp.unit)
                       : ct == GFI_PQ_CT_TIMESTAMP_MILLIS ? GF_UNIT_MILLI : GF_UNIT_MICRO;
      bool utc = LT(GFI_PQ_LT_TIMESTAMP) ? lt->timestamp.adjusted_to_utc : true;
      c->type = gf_type_timestamp(u, utc, 0);
      return GF_OK;
    }
    if (LT(GFI_PQ_LT_UNKNOWN)) break;
    c->type = gf_type(i32 ? GF_TYPE_INT32 : GF_TYPE_INT64);
    return GF_OK;
  }
  case GFI_PQ_INT96:
    c->conv = PQ_CV_INT96;
    c->type = gf_type_timestamp(GF_UNIT_NANO, false, 0);
    c->sort_signed = false;
    return GF_OK;
  case GFI_PQ_FLOAT:
    c->conv = PQ_CV_F32;
    c->type = gf_type(GF_TYPE_FLOAT32);
    return GF_OK;
  case GFI_PQ_DOUBLE:
    c->conv = PQ_CV_F64;
    c->type = gf_type(GF_TYPE_FLOAT64);
    return GF_OK;
  case GFI_PQ_BYTE_ARRAY:
    c->sort_signed = false;
    if (dec) {
      c->conv = PQ_CV_DEC;
      return decimal_type(f, c, prec, scale, &c->type, err);
    }
    if (LT(GFI_PQ_LT_UNKNOWN)) break;
    c->conv = PQ_CV_BYTES;
    c->type = gf_type(LT(GFI_PQ_LT_STRING) || LT(GFI_PQ_LT_ENUM) || LT(GFI_PQ_LT_JSON) ||
                              ct == GFI_PQ_CT_UTF8 || ct == GFI_PQ_CT_ENUM || ct == GFI_PQ_CT_JSON
                          ? GF_TYPE_UTF8
                          : GF_TYPE_BINARY);
    return GF_OK;
  case GFI_PQ_FIXED_LEN_BYTE_ARRAY:
    c->sort_signed = false;
    if (e->type_length <= 0 || !tr_isset(e, 2))
      return gf_error_set(err, GF_EINVAL, "%s: column '%s': FIXED_LEN_BYTE_ARRAY without a positive type_length",
                          f->path, c->name);
    if (dec) {
      c->conv = PQ_CV_DEC;
      return decimal_type(f, c, prec, scale, &c->type, err);
    }
    if (LT(GFI_PQ_LT_FLOAT16)) {
      if (e->type_length != 2)
        return gf_error_set(err, GF_EINVAL, "%s: column '%s': FLOAT16 of %d bytes", f->path,
                            c->name, (int)e->type_length);
      c->conv = PQ_CV_F16;
      c->type = gf_type(GF_TYPE_FLOAT32);
      return GF_OK;
    }
    if (LT(GFI_PQ_LT_UNKNOWN)) break;
    c->conv = PQ_CV_FLBA;
    c->type = gf_type_fixed_size_binary(e->type_length);
    return GF_OK;
  default:
    return gf_error_set(err, GF_EINVAL, "%s: column '%s': unknown physical type %d", f->path,
                        c->name, (int)c->phys);
  }
#undef LT
  return gf_error_set(err, GF_ENOTSUP, "%s: column '%s': the UNKNOWN (always null) logical type is not supported",
                      f->path, c->name);
}

/* Counts the leaves under schema element i (itself when a leaf); *next
 * receives the index after its subtree. */
static gf_status subtree(const pq_file *f, int i, int depth, int *leaves,
                         int *next, gf_error *err) {
  const gfi_pq_schema_element *el = f->meta.schema.items;
  int n = f->meta.schema.n;
  if (i >= n || depth > 64)
    return gf_error_set(err, GF_EINVAL, "%s: schema tree is malformed (children past the end)", f->path);
  int kids = tr_isset(&el[i], 5) ? el[i].num_children : 0;
  if (kids <= 0 && tr_isset(&el[i], 1)) {
    (*leaves)++;
    *next = i + 1;
    return GF_OK;
  }
  if (kids < 0 || kids > n)
    return gf_error_set(err, GF_EINVAL, "%s: schema element %d has %d children", f->path, i, kids);
  int j = i + 1;
  for (int k = 0; k < kids; k++) GF_RETURN_NOT_OK(subtree(f, j, depth + 1, leaves, &j, err));
  *next = j;
  return GF_OK;
}

/* Maps the top-level schema children to columns: flat leaves typed by
 * map_leaf, groups and repeated fields noted as nested (refused only
 * when selected). */
static gf_status map_schema(pq_file *f, gf_error *err) {
  const gfi_pq_schema_element *el = f->meta.schema.items;
  int n = f->meta.schema.n;
  if (n < 1) return gf_error_set(err, GF_EINVAL, "%s: empty schema in the footer", f->path);
  int top = tr_isset(&el[0], 5) ? el[0].num_children : 0;
  if (top < 0 || top > n - 1)
    return gf_error_set(err, GF_EINVAL, "%s: schema root has %d children", f->path, top);
  f->cols = gfi_calloc(f->a, gfi_at_least_1((size_t)top) * sizeof *f->cols);
  f->nested = gfi_calloc(f->a, gfi_at_least_1((size_t)top) * sizeof *f->nested);
  if (!f->cols || !f->nested) return GF_OOM(err, "the Parquet column list");
  f->ncols = top;
  int i = 1, leaves = 0;
  for (int k = 0; k < top; k++) {
    pq_column *c = &f->cols[k];
    if (i >= n) /* found by fuzz_parquet */
      return gf_error_set(err, GF_EINVAL, "%s: schema root has %d children but only %d elements follow",
                          f->path, top, n - 1);
    c->el = &el[i];
    c->leaf = leaves;
    c->name = dup_bytes(f->a, el[i].name.p, el[i].name.len);
    if (!c->name) return GF_OOM(err, "a Parquet column name");
    int next = 0; /* set by subtree on GF_OK */
    GF_RETURN_NOT_OK(subtree(f, i, 0, &leaves, &next, err));
    bool group = next != i + 1 || !tr_isset(&el[i], 1);
    const char *why = NULL;
    if (group) {
      const gfi_pq_logical_type *lt = &el[i].logical;
      int ct = tr_isset(&el[i], 6) ? el[i].converted_type : -1;
      why = (tr_isset(&el[i], 10) && tr_isset(lt, GFI_PQ_LT_LIST)) || ct == GFI_PQ_CT_LIST ? "list (nested data)"
            : (tr_isset(&el[i], 10) && tr_isset(lt, GFI_PQ_LT_MAP)) || ct == GFI_PQ_CT_MAP ||
                      ct == GFI_PQ_CT_MAP_KEY_VALUE
                ? "map (nested data)"
                : "struct (nested data)";
    } else if (el[i].repetition_type == GFI_PQ_REPEATED) {
      why = "repeated field (nested data)";
    }
    if (why) {
      f->nested[k] = dup_bytes(f->a, (const uint8_t *)why, strlen(why));
      if (!f->nested[k]) return GF_OOM(err, "a Parquet column note");
    } else {
      c->phys = el[i].type;
      c->type_length = el[i].type_length;
      c->max_def = el[i].repetition_type == GFI_PQ_OPTIONAL ? 1 : 0;
      GF_RETURN_NOT_OK(map_leaf(f, c, err));
    }
    i = next;
  }
  f->nleaves = leaves;
  return GF_OK;
}

/* ---- ARROW:schema ---------------------------------------------------- */

/* Value of a base64 character (standard or URL alphabet), -1 otherwise. */
static int b64v(uint8_t ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+' || ch == '-') return 62;
  if (ch == '/' || ch == '_') return 63;
  return -1;
}

/* Applies the Arrow types of the ARROW:schema metadata where they refine
 * the Parquet ones, as Arrow's reader does: time zones, large string
 * types, durations, dictionary encoding of strings (date64 stays date32,
 * as in Arrow). A value that does not decode is ignored: only the
 * refinements are lost. */
static gf_status apply_arrow_schema(pq_file *f, const tr_bytes *v, gf_error *err) {
  size_t cap = (size_t)v->len / 4 * 3 + 16;
  uint8_t *buf = gfi_malloc(f->a, cap);
  if (!buf) return GF_OOM(err, "the decoded ARROW:schema");
  size_t n = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (uint32_t i = 0; i < v->len; i++) {
    int x = b64v(v->p[i]);
    if (x < 0) continue; /* padding, line breaks */
    acc = acc << 6 | (uint32_t)x;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      buf[n++] = (uint8_t)(acc >> bits);
    }
  }
  /* An encapsulated IPC message: [0xFFFFFFFF] int32 length, flatbuffer.
   * Fields are decoded one by one (a type the IPC reader does not hold,
   * such as float16, only loses that field's refinement). */
  size_t at = 0;
  if (n >= 4 && buf[0] == 0xff && buf[1] == 0xff && buf[2] == 0xff && buf[3] == 0xff) at = 4;
  if (n - at < 4) goto done;
  uint32_t mlen = (uint32_t)buf[at] | (uint32_t)buf[at + 1] << 8 | (uint32_t)buf[at + 2] << 16 |
                  (uint32_t)buf[at + 3] << 24;
  at += 4;
  if (mlen > n - at) goto done;
  gf_error e;
  if (gfi_fb_verify(buf + at, mlen, &gfi_fb_message, 0, &e) != GF_OK) goto done;
  fb_table msg = gfi_fb_root(buf + at, mlen, &gfi_fb_message), schema;
  if (gfi_fb_get_int(&msg, MSG_HEADER_TYPE, 0) != MSG_SCHEMA ||
      !gfi_fb_get_table(&msg, MSG_HEADER, &schema))
    goto done;
  size_t nf = gfi_fb_vec_len(&schema, SCHEMA_FIELDS);
  for (size_t i = 0; i < nf; i++) {
    fb_table fld;
    const char *nm;
    size_t nl;
    if (!gfi_fb_vec_table(&schema, SCHEMA_FIELDS, i, &fld) ||
        !gfi_fb_get_string(&fld, FIELD_NAME, &nm, &nl))
      continue;
    pq_column *c = NULL;
    for (int k = 0; k < f->ncols && !c; k++)
      if (!f->nested[k] && strlen(f->cols[k].name) == nl && !memcmp(f->cols[k].name, nm, nl))
        c = &f->cols[k];
    if (!c) continue;
    gf_datatype vt;
    bool view;
    if (gfi_ipc_decode_type(&fld, c->name, &vt, &view, &e) != GF_OK) continue;
    fb_table de;
    bool dict = gfi_fb_get_table(&fld, FIELD_DICTIONARY, &de);
    gf_datatype pt = c->type;
    if (vt.id == GF_TYPE_TIMESTAMP && pt.id == GF_TYPE_TIMESTAMP && vt.unit == pt.unit &&
        c->conv != PQ_CV_INT96) { /* Arrow keeps INT96 zone-less */
      pt = vt;
    } else if ((vt.id == GF_TYPE_LARGE_UTF8 && pt.id == GF_TYPE_UTF8) ||
               (vt.id == GF_TYPE_LARGE_BINARY && pt.id == GF_TYPE_BINARY)) {
      pt = vt;
    } else if (vt.id == GF_TYPE_DURATION && pt.id == GF_TYPE_INT64) {
      pt = vt;
    }
    if (dict && c->conv == PQ_CV_BYTES && !gfi_type_is_large(pt.id)) pt = gf_type_dictionary(pt);
    c->type = pt;
  }
done:
  gfi_mfree(f->a, buf, cap);
  return GF_OK;
}

/* ---- opening ----------------------------------------------------------- */

/* Opens `path` (mapped or read), or, when `mem` is not NULL, the bytes
 * mem[0, mem_len) (then `path` only names them in messages). Output
 * arrays never point into the input: every value is decoded into memory
 * of the call's allocator, so the input may go away after the call. */
static gf_status file_open(pq_file *f, const char *path, const uint8_t *mem, size_t mem_len,
                           const gf_parallel_options *par, gf_input_mode mode, gf_error *err) {
  memset(f, 0, sizeof *f);
  f->path = path;
  f->a = gfi_alloc_or_default(par->allocator);
  gfi_tr_arena_init(&f->ar, f->a);
  if (mem) {
    f->data = mem;
    f->len = mem_len;
  } else {
    GF_RETURN_NOT_OK(gfi_mapped_file_open_with(path, par, mode, &f->map, err));
    f->data = (const uint8_t *)gfi_mapped_file_data(f->map);
    f->len = gfi_mapped_file_size(f->map);
  }
  if (f->len >= 4 && !memcmp(f->data + f->len - 4, "PARE", 4))
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: encrypted Parquet file (encrypted footer, \"PARE\" magic): "
                        "encryption is not supported", path);
  if (f->len < 12 || memcmp(f->data, "PAR1", 4) || memcmp(f->data + f->len - 4, "PAR1", 4))
    return gf_error_set(err, GF_EINVAL,
                        "%s: not a Parquet file (no \"PAR1\" magic at both ends of its %zu bytes)",
                        path, f->len);
  const uint8_t *t = f->data + f->len - 8;
  uint32_t flen = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
  if (flen > f->len - 12)
    return gf_error_set(err, GF_EINVAL, "%s: footer length %u at byte %zu exceeds the file",
                        path, flen, f->len - 8);
  size_t fpos = f->len - 8 - flen;
  gf_error sub;
  gf_status st = gfi_pq_decode_file_meta(f->data + fpos, flen, fpos, &f->meta, &f->ar, &sub);
  if (st != GF_OK) return gf_error_set(err, st, "%s: footer: %s", path, sub.message);
  if (tr_isset(&f->meta, 8))
    return gf_error_set(err, GF_ENOTSUP,
                        "%s: encrypted Parquet file (plaintext footer with encrypted columns): "
                        "encryption is not supported", path);
  GF_RETURN_NOT_OK(map_schema(f, err));
  if (f->meta.num_rows < 0 || f->meta.num_rows > GF_MAX_ROWS)
    return gf_error_set(err, GF_EINVAL, "%s: row count %lld out of range", path,
                        (long long)f->meta.num_rows);
  const gfi_pq_row_group *rg = f->meta.row_groups.items;
  int64_t total = 0;
  for (int r = 0; r < f->meta.row_groups.n; r++) {
    if (rg[r].columns.n != f->nleaves)
      return gf_error_set(err, GF_EINVAL, "%s: row group %d has %d column chunks, the schema %d leaves",
                          path, r, (int)rg[r].columns.n, f->nleaves);
    if (rg[r].num_rows < 0 || rg[r].num_rows > GF_MAX_ROWS - total)
      return gf_error_set(err, GF_EINVAL, "%s: row group %d has %lld rows", path, r,
                          (long long)rg[r].num_rows);
    total += rg[r].num_rows;
    const gfi_pq_column_chunk *cc = rg[r].columns.items;
    for (int k = 0; k < f->ncols; k++) {
      if (f->nested[k]) continue;
      const gfi_pq_column_chunk *c = &cc[f->cols[k].leaf];
      if (tr_isset(c, 8) || tr_isset(c, 9))
        return gf_error_set(err, GF_ENOTSUP, "%s: column '%s' is encrypted: encryption is not supported",
                            path, f->cols[k].name);
      if (!tr_isset(c, 3))
        return gf_error_set(err, GF_EINVAL, "%s: column '%s', row group %d: no column metadata",
                            path, f->cols[k].name, r);
      if (c->file_path.len)
        return gf_error_set(err, GF_ENOTSUP, "%s: column '%s': column data in another file is not supported",
                            path, f->cols[k].name);
    }
  }
  const gfi_pq_key_value *kv = f->meta.key_value_metadata.items;
  for (int i = 0; i < f->meta.key_value_metadata.n; i++)
    if (kv[i].key.len == 12 && !memcmp(kv[i].key.p, "ARROW:schema", 12) && tr_isset(&kv[i], 2))
      GF_RETURN_NOT_OK(apply_arrow_schema(f, &kv[i].value, err));
  return GF_OK;
}

/* Resolves the projection into column indexes (*sel, *nsel). */
static gf_status select_columns(pq_file *f, const gf_parquet_read_options *o, int **sel,
                                int *nsel, gf_error *err) {
  int n = o->columns ? o->num_columns : f->ncols;
  if (n < 0) return gf_error_set(err, GF_EINVAL, "Parquet reader: num_columns %d is negative", n);
  *sel = gfi_malloc(f->a, gfi_at_least_1((size_t)n) * sizeof **sel);
  if (!*sel) return GF_OOM(err, "the Parquet projection");
  *nsel = n;
  for (int i = 0; i < n; i++) {
    int k = i;
    if (o->columns) {
      k = -1;
      for (int j = 0; j < f->ncols && o->columns[i]; j++)
        if (!strcmp(f->cols[j].name, o->columns[i])) k = j;
      if (k < 0)
        return gf_error_set(err, GF_EINVAL, "%s: no column named '%s'", f->path,
                            o->columns[i] ? o->columns[i] : "(null)");
    }
    if (f->nested[k])
      return gf_error_set(err, GF_ENOTSUP, "%s: column '%s' is a %s: nested columns are not supported",
                          f->path, f->cols[k].name, f->nested[k]);
    (*sel)[i] = k;
  }
  return GF_OK;
}

/* The output schema of the selected columns (nullable when optional). */
static gf_status make_schema(pq_file *f, const int *sel, int nsel, gf_schema **out, gf_error *err) {
  gf_field *fields = gfi_calloc(f->a, gfi_at_least_1((size_t)nsel) * sizeof *fields);
  if (!fields) return GF_OOM(err, "the Parquet schema");
  for (int i = 0; i < nsel; i++) {
    const pq_column *c = &f->cols[sel[i]];
    fields[i].name = c->name;
    fields[i].type = c->type;
    fields[i].nullable = c->max_def > 0;
  }
  gf_status st = gf_schema_new(fields, nsel, out, err);
  gfi_mfree(f->a, fields, gfi_at_least_1((size_t)nsel) * sizeof *fields);
  return st;
}

/* ---- parallel decoding -------------------------------------------------- */

typedef struct work {
  pq_file *f;
  const int *sel, *rgs;
  int nsel;
  gf_array **out; /* nrg * nsel, row-group-major */
  /* late materialisation: rows picked per row group (index as rgs), or
   * NULL = every row */
  int64_t *const *pick;
  const int64_t *npick;
} work;

/* Work item i: row group rgs[i / nsel], column sel[i % nsel], decoded
 * into out[i] (its own slot: the order of work does not matter). */
static gf_status decode_item(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  work *w = user;
  int64_t i = ch->chunk_id;
  int r = w->rgs[i / w->nsel];
  const pq_column *c = &w->f->cols[w->sel[i % w->nsel]];
  const gfi_pq_row_group *rg = (const gfi_pq_row_group *)w->f->meta.row_groups.items + r;
  const gfi_pq_column_chunk *cc = (const gfi_pq_column_chunk *)rg->columns.items + c->leaf;
  char where[700];
  snprintf(where, sizeof where, "%.500s: column '%.100s', row group %d", w->f->path, c->name, r);
  int g = (int)(i / w->nsel);
  const int64_t *pk = w->pick ? w->pick[g] : NULL;
  return gfi_pq_read_chunk(w->f->data, w->f->len, c, cc, rg->num_rows, pk, pk ? w->npick[g] : 0,
                           ctx->allocator, where, &w->out[i], ctx->err);
}

/* View columns that came out large in some batch: make all batches large. */
static gf_status unify_large(pq_file *f, gf_schema **schema, gf_array **cols, int nrg,
                             int nsel, gf_error *err) {
  for (int k = 0; k < nsel; k++) {
    bool any = false, all = true;
    for (int r = 0; r < nrg; r++) {
      bool l = gfi_type_is_large(cols[(size_t)r * (size_t)nsel + (size_t)k]->type.id);
      any |= l;
      all &= l;
    }
    if (!any || all) continue;
    for (int r = 0; r < nrg; r++) {
      gf_array **p = &cols[(size_t)r * (size_t)nsel + (size_t)k];
      if (gfi_type_is_large((*p)->type.id)) continue;
      gf_array *w;
      GF_RETURN_NOT_OK(gfi_array_widen(f->a, *p, NULL, &w, err));
      gf_array_release(*p);
      *p = w;
    }
  }
  /* The schema follows the arrays of the first batch. */
  if (nrg == 0) return GF_OK;
  gf_schema *s = *schema;
  int n = gf_schema_num_fields(s);
  bool differ = false;
  for (int k = 0; k < n; k++) differ |= gf_schema_field(s, k)->type.id != cols[k]->type.id;
  if (!differ) return GF_OK;
  gf_field *fields = gfi_calloc(f->a, gfi_at_least_1((size_t)n) * sizeof *fields);
  if (!fields) return GF_OOM(err, "the Parquet schema");
  for (int k = 0; k < n; k++) {
    fields[k] = *gf_schema_field(s, k);
    fields[k].type = cols[k]->type;
  }
  gf_schema *ns;
  gf_status st = gf_schema_new(fields, n, &ns, err);
  gfi_mfree(f->a, fields, gfi_at_least_1((size_t)n) * sizeof *fields);
  if (st != GF_OK) return st;
  gf_schema_release(s);
  *schema = ns;
  return GF_OK;
}


/* Row-group pruning (pq_prune.c). */
gf_status gfi_pq_prune(const pq_column *cols, int ncols, const gfi_pq_file_meta *meta,
                       const gf_expr *pred, bool *keep, gf_error *err);
/* Page-level pruning from the page index (pq_prune.c): *cand receives the
 * rows of row group rg not excluded (ascending, *ncand of them), or NULL
 * when none is excluded (no index, or nothing ruled out). */
gf_status gfi_pq_prune_pages(const uint8_t *data, size_t len, const pq_column *cols, int ncols,
                             const int *pc, int npc, const gfi_pq_row_group *rg,
                             const gf_expr *pred, const gf_allocator *a, int64_t **cand,
                             int64_t *ncand, gf_error *err);

/* ---- late materialisation ------------------------------------------- */

/* The columns the predicate names, each once, in file order, into
 * *pc[0, *npc). A name not in the file fails as in select_columns. The
 * tree is walked with an explicit stack (expressions may be tall). */
static gf_status pred_columns(pq_file *f, const gf_expr *e, int **pc, int *npc, gf_error *err) {
  bool *used = gfi_calloc(f->a, gfi_at_least_1((size_t)f->ncols) * sizeof *used);
  gfi_vec stack;
  gfi_vec_init(&stack, f->a);
  gf_status st = used ? gfi_vec_append(&stack, &e, sizeof e, err) : GF_OOM(err, "the predicate's columns");
  while (st == GF_OK && stack.len) {
    const gf_expr *x;
    stack.len -= sizeof x;
    memcpy(&x, stack.data + stack.len, sizeof x);
    if (x->kind == GF_EXPR_COLUMN) {
      int k = -1;
      for (int j = 0; j < f->ncols && k < 0; j++)
        if (!strcmp(f->cols[j].name, x->name)) k = j;
      if (k < 0)
        st = gf_error_set(err, GF_EINVAL, "%s: the filter names column '%s', which the file does not have",
                          f->path, x->name);
      else if (f->nested[k])
        st = gf_error_set(err, GF_ENOTSUP, "%s: column '%s' is a %s: nested columns are not supported",
                          f->path, f->cols[k].name, f->nested[k]);
      else
        used[k] = true;
    }
    for (int i = 0; st == GF_OK && i < x->nargs; i++)
      st = gfi_vec_append(&stack, &x->args[i], sizeof x->args[i], err);
  }
  gfi_vec_reset(&stack);
  int n = 0;
  for (int k = 0; st == GF_OK && k < f->ncols; k++) n += used[k];
  if (st == GF_OK) {
    *pc = gfi_malloc(f->a, gfi_at_least_1((size_t)n) * sizeof **pc);
    if (!*pc) st = GF_OOM(err, "the predicate's columns");
  }
  if (st == GF_OK) {
    *npc = 0;
    for (int k = 0; k < f->ncols; k++)
      if (used[k]) (*pc)[(*npc)++] = k;
  }
  if (used) gfi_mfree(f->a, used, gfi_at_least_1((size_t)f->ncols) * sizeof *used);
  return st;
}

/* Decodes rows groups rgs[0, nrg) x columns sel[0, nsel) in parallel into
 * out (row-group-major), only the rows pick[g] when pick and pick[g] are
 * not NULL. */
static gf_status decode_cells(pq_file *f, const int *sel, int nsel, const int *rgs, int nrg,
                              int64_t *const *pick, const int64_t *npick,
                              const gf_parallel_options *par, gf_array **out, gf_error *err) {
  size_t n = (size_t)nrg * (size_t)nsel;
  if (!n) return GF_OK;
  gf_chunk_spec *chunks = gfi_calloc(f->a, n * sizeof *chunks);
  if (!chunks) return GF_OOM(err, "the Parquet chunk list");
  const gfi_pq_row_group *rg = f->meta.row_groups.items;
  for (size_t i = 0; i < n; i++) {
    /* Weighted by the rows decoded, for the runtime's balance. */
    size_t g = i / (size_t)nsel;
    chunks[i].end_row = pick && pick[g] ? npick[g] : rg[rgs[g]].num_rows;
    chunks[i].chunk_id = (int64_t)i;
  }
  work w = {f, sel, rgs, nsel, out, pick, npick};
  gf_status st = gf_run_chunks(chunks, (int64_t)n, decode_item, &w, par, err);
  gfi_mfree(f->a, chunks, n * sizeof *chunks);
  return st;
}

/* The rows of boolean array m that are true (not null), into new arrays:
 * *rows their row numbers in the row group (cand[i] when m's rows are the
 * candidate rows cand), *g their row numbers in m's frame (base + i). */
static gf_status true_rows(const gf_allocator *a, const gf_array *m, int64_t base,
                           const int64_t *cand, int64_t **rows, int64_t **g, int64_t *n,
                           gf_error *err) {
  const uint8_t *v = m->null_count ? gfi_buf(m, 0) : NULL, *d = gfi_buf(m, 1);
  int64_t k = 0, off = m->offset;
  for (int64_t i = 0; i < m->length; i++)
    k += (!v || gfi_bit_get(v, off + i)) && gfi_bit_get(d, off + i);
  *rows = gfi_malloc(a, gfi_at_least_1((size_t)k) * 8);
  *g = gfi_malloc(a, gfi_at_least_1((size_t)k) * 8);
  *n = k; /* the callers free both by it */
  if (!*rows || !*g) return GF_OOM(err, "the rows that pass the filter");
  k = 0;
  for (int64_t i = 0; i < m->length; i++)
    if ((!v || gfi_bit_get(v, off + i)) && gfi_bit_get(d, off + i)) {
      (*rows)[k] = cand ? cand[i] : i;
      (*g)[k++] = base + i;
    }
  return GF_OK;
}

/* True when e can be evaluated on a column's distinct values instead of
 * its rows: comparisons, and/or/not, is (not) null, between and in, of
 * columns and literals only (nothing that could fail on a dictionary
 * value that no row holds, nothing that depends on the row). */
static bool per_value_pred(const gf_expr *e, int depth) {
  if (depth > 64) return false;
  switch (e->kind) {
  case GF_EXPR_COLUMN:
  case GF_EXPR_LITERAL: return true;
  case GF_EXPR_BINARY:
    if (e->op < GF_OP_EQ || e->op > GF_OP_OR) return false;
    break;
  case GF_EXPR_UNARY:
    if (e->op != GF_OP_NOT) return false;
    break;
  case GF_EXPR_CALL:
    if (strcmp(e->name, "is_null") && strcmp(e->name, "is_not_null")) return false;
    break;
  case GF_EXPR_BETWEEN:
  case GF_EXPR_IN: break;
  default: return false;
  }
  for (int i = 0; i < e->nargs; i++)
    if (!per_value_pred(e->args[i], depth + 1)) return false;
  return true;
}

typedef struct cwork {
  pq_file *f;
  const pq_column *c;
  const int *rgs;
  int64_t *const *cand; /* per row group: the rows to decode, NULL = all */
  const int64_t *ncand;
  gfi_pq_codes *out;
} cwork;

/* Work item i: row group rgs[i] of column c as dictionary codes. */
static gf_status codes_item(void *user, const gf_chunk_spec *ch, gf_task_ctx *ctx) {
  cwork *w = user;
  int r = w->rgs[ch->chunk_id];
  const gfi_pq_row_group *rg = (const gfi_pq_row_group *)w->f->meta.row_groups.items + r;
  const gfi_pq_column_chunk *cc = (const gfi_pq_column_chunk *)rg->columns.items + w->c->leaf;
  char where[700];
  snprintf(where, sizeof where, "%.500s: column '%.100s', row group %d", w->f->path, w->c->name, r);
  const int64_t *cd = w->cand[ch->chunk_id];
  return gfi_pq_read_chunk_codes(w->f->data, w->f->len, w->c, cc, rg->num_rows, cd,
                                 cd ? w->ncand[ch->chunk_id] : 0, ctx->allocator, where,
                                 &w->out[ch->chunk_id], ctx->err);
}

/* The predicate's value on each row of frame fd (one batch, one column)
 * as true / not true, into ok[0, rows). */
static gf_status eval_values(const gf_frame *fd, const gf_expr *pred, const gf_parallel_options *par,
                             const char *path, bool *ok, gf_error *err) {
  gf_frame *mf = NULL;
  GF_RETURN_NOT_OK(gf_evaluate(fd, pred, "filter", par, &mf, err));
  gf_status st = GF_OK;
  for (int g = 0, at = 0; g < gf_frame_num_batches(mf) && st == GF_OK; g++) {
    const gf_array *m = gf_frame_column(mf, g, 0);
    if (m->type.id != GF_TYPE_BOOL) {
      st = gf_error_set(err, GF_EINVAL, "%s: the filter is not a boolean expression", path);
      break;
    }
    const uint8_t *v = m->null_count ? gfi_buf(m, 0) : NULL, *d = gfi_buf(m, 1);
    for (int64_t i = 0; i < m->length; i++, at++)
      ok[at] = (!v || gfi_bit_get(v, m->offset + i)) && gfi_bit_get(d, m->offset + i);
  }
  gf_frame_release(mf);
  return st;
}

/* The filter on one column whose chunks are all dictionary-encoded:
 * evaluated once per dictionary entry (and once for null), then looked up
 * by each row's code; the column's passing rows are taken from the
 * dictionary. *done = false (nothing else changed) when a chunk is not
 * dictionary-encoded: the caller evaluates row by row. */
static gf_status dict_filter(pq_file *f, const gf_parquet_read_options *o,
                             const gf_parallel_options *par, int col, const int *rgs, int nrg,
                             int64_t *const *cand, const int64_t *ncand,
                             int64_t **pick, int64_t *npick, gf_array **pout, bool *done,
                             gf_error *err) {
  const gf_allocator *a = f->a;
  const pq_column *c = &f->cols[col];
  *done = false;
  gfi_pq_codes *codes = gfi_calloc(a, (size_t)nrg * sizeof *codes);
  gf_chunk_spec *chunks = gfi_calloc(a, (size_t)nrg * sizeof *chunks);
  gf_status st = codes && chunks ? GF_OK : GF_OOM(err, "the filtered Parquet read");
  if (st == GF_OK) {
    const gfi_pq_row_group *rg = f->meta.row_groups.items;
    for (int g = 0; g < nrg; g++) {
      chunks[g].end_row = cand[g] ? ncand[g] : rg[rgs[g]].num_rows;
      chunks[g].chunk_id = g;
    }
    cwork w = {f, c, rgs, cand, ncand, codes};
    st = gf_run_chunks(chunks, nrg, codes_item, &w, par, err);
  }
  gf_schema *ps = NULL;
  gf_builder *b = NULL;
  gf_array *nul = NULL;
  gf_frame *fn = NULL;
  bool null_ok = false;
  if (st == GF_OK) st = make_schema(f, &col, 1, &ps, err);
  /* The predicate's value for a null (is_null, or/not of it). */
  if (st == GF_OK) st = gf_builder_new(c->type, a, &b, err);
  if (st == GF_OK) st = gf_builder_append_null(b, err);
  if (st == GF_OK) st = gf_builder_finish(b, &nul, err);
  if (st == GF_OK) st = gf_frame_new(ps, &nul, 1, a, &fn, err);
  if (st == GF_OK) st = eval_values(fn, o->predicate, par, f->path, &null_ok, err);
  for (int g = 0; st == GF_OK && g < nrg; g++) {
    gfi_pq_codes *k = &codes[g];
    gf_frame *fd = NULL;
    int64_t nd = k->dict->length;
    bool *ok = gfi_malloc(a, gfi_at_least_1((size_t)nd) * sizeof *ok);
    int64_t *idx = NULL;
    if (!ok) st = GF_OOM(err, "the filter's dictionary values");
    if (st == GF_OK) st = gf_frame_new(ps, &k->dict, 1, a, &fd, err);
    if (st == GF_OK) st = eval_values(fd, o->predicate, par, f->path, ok, err);
    const int32_t *cd = k->codes ? (const int32_t *)gf_buffer_data(k->codes) : NULL;
    const uint8_t *vb = k->valid ? gf_buffer_data(k->valid) : NULL;
    int64_t n = 0;
    for (int64_t i = 0; st == GF_OK && i < k->rows; i++)
      n += (!vb || gfi_bit_get(vb, i)) ? ok[cd[i]] : null_ok;
    if (st == GF_OK) {
      pick[g] = gfi_malloc(a, gfi_at_least_1((size_t)n) * 8);
      idx = gfi_malloc(a, gfi_at_least_1((size_t)n) * 8);
      npick[g] = n; /* pick[g] and idx are freed by it */
      if (!pick[g] || !idx) st = GF_OOM(err, "the rows that pass the filter");
    }
    if (st == GF_OK) {
      n = 0;
      for (int64_t i = 0; i < k->rows; i++) {
        bool v = !vb || gfi_bit_get(vb, i);
        if (v ? ok[cd[i]] : null_ok) {
          pick[g][n] = cand[g] ? cand[g][i] : i;
          idx[n++] = v ? cd[i] : -1; /* -1: a null row */
        }
      }
      if (n) st = gfi_take(fd, 0, idx, n, a, &pout[g], err);
    }
    if (idx) gfi_mfree(a, idx, gfi_at_least_1((size_t)npick[g]) * 8);
    if (ok) gfi_mfree(a, ok, gfi_at_least_1((size_t)nd) * sizeof *ok);
    gf_frame_release(fd);
  }
  if (st == GF_OK) *done = true;
  if (st == GF_ENOTSUP) st = GF_OK; /* a chunk not dictionary-encoded: row by row */
  for (int g = 0; codes && g < nrg; g++) gfi_pq_codes_free(&codes[g]);
  if (codes) gfi_mfree(a, codes, (size_t)nrg * sizeof *codes);
  if (chunks) gfi_mfree(a, chunks, (size_t)nrg * sizeof *chunks);
  gf_builder_free(b);
  gf_array_release(nul);
  gf_frame_release(fn);
  gf_schema_release(ps);
  return st;
}

/* The filter evaluated row by row: the predicate's columns decoded
 * whole, gf_evaluate over them, their passing rows taken. */
static gf_status row_filter(pq_file *f, const gf_parquet_read_options *o,
                            const gf_parallel_options *par, const int *pc, int npc,
                            const int *rgs, int nrg, int64_t *const *cand, const int64_t *ncand,
                            int64_t **pick, int64_t *npick, gf_array **pout, gf_error *err) {
  const gf_allocator *a = f->a;
  size_t np = (size_t)nrg * (size_t)npc;
  gf_array **pcols = gfi_calloc(a, gfi_at_least_1(np) * sizeof *pcols);
  int64_t **gpick = gfi_calloc(a, (size_t)nrg * sizeof *gpick);
  gf_schema *ps = NULL;
  gf_frame *fp = NULL, *mf = NULL;
  gf_status st = pcols && gpick ? GF_OK : GF_OOM(err, "the filtered Parquet read");
  if (st == GF_OK) st = decode_cells(f, pc, npc, rgs, nrg, cand, ncand, par, pcols, err);
  if (st == GF_OK) st = make_schema(f, pc, npc, &ps, err);
  if (st == GF_OK) st = unify_large(f, &ps, pcols, nrg, npc, err);
  if (st == GF_OK) st = gf_frame_new(ps, pcols, nrg, a, &fp, err);
  if (st == GF_OK) st = gf_evaluate(fp, o->predicate, "filter", par, &mf, err);
  if (st == GF_OK && (gf_frame_num_batches(mf) != nrg ||
                      gf_frame_column(mf, 0, 0)->type.id != GF_TYPE_BOOL))
    st = gf_error_set(err, GF_EINVAL, "%s: the filter is not a boolean expression", f->path);
  for (int g = 0; st == GF_OK && g < nrg; g++) {
    st = true_rows(a, gf_frame_column(mf, g, 0), gf_frame_batch_offset(fp, g), cand[g], &pick[g],
                   &gpick[g], &npick[g], err);
    for (int j = 0; st == GF_OK && npick[g] && j < npc; j++)
      st = gfi_take_ascending(fp, j, gpick[g], npick[g], a, &pout[(size_t)g * (size_t)npc + (size_t)j],
                              err);
  }
  for (size_t i = 0; pcols && i < np; i++) gf_array_release(pcols[i]);
  for (int g = 0; gpick && g < nrg; g++)
    if (gpick[g]) gfi_mfree(a, gpick[g], gfi_at_least_1((size_t)npick[g]) * 8);
  if (pcols) gfi_mfree(a, pcols, gfi_at_least_1(np) * sizeof *pcols);
  if (gpick) gfi_mfree(a, gpick, (size_t)nrg * sizeof *gpick);
  gf_schema_release(ps);
  gf_frame_release(fp);
  gf_frame_release(mf);
  return st;
}

/* Late materialisation of a filtered read of row groups rgs[0, nrg)
 * (nrg > 0): the predicate's columns are decoded and the predicate
 * evaluated (by gf_evaluate: the semantics of gf_filter) - per distinct
 * value when it names one dictionary-encoded column, else per row - then
 * the other selected columns are decoded at the passing rows only. Row
 * groups without such rows are dropped. *schema may be replaced (large
 * string types). GF_ENOTSUP (err not set) when the predicate names no
 * column: the caller filters after a whole read. */
static gf_status read_late(pq_file *f, const gf_parquet_read_options *o,
                           const gf_parallel_options *par, const int *sel, int nsel,
                           const int *rgs, int nrg, gf_schema **schema, gf_frame **out,
                           gf_error *err) {
  int *pc = NULL, npc = 0, *rest = NULL, nrest = 0, *krgs = NULL, nk = 0;
  gf_array **pout = NULL, **rcols = NULL, **cols = NULL;
  int64_t **pick = NULL, *npick = NULL, *kn = NULL, **kpick = NULL;
  size_t np = 0, nr = 0, nc = 0;
  const gf_allocator *a = f->a;
  gf_status st = pred_columns(f, o->predicate, &pc, &npc, err);
  if (st == GF_OK && npc == 0) {
    gfi_mfree(a, pc, sizeof *pc);
    return GF_ENOTSUP;
  }
  if (st == GF_OK) {
    np = (size_t)nrg * (size_t)npc;
    pout = gfi_calloc(a, gfi_at_least_1(np) * sizeof *pout);
    pick = gfi_calloc(a, (size_t)nrg * sizeof *pick);
    npick = gfi_calloc(a, (size_t)nrg * sizeof *npick);
    kn = gfi_calloc(a, (size_t)nrg * sizeof *kn);
    kpick = gfi_calloc(a, (size_t)nrg * sizeof *kpick);
    krgs = gfi_calloc(a, (size_t)nrg * sizeof *krgs);
    rest = gfi_calloc(a, gfi_at_least_1((size_t)nsel) * sizeof *rest);
    if (!pout || !pick || !npick || !kn || !kpick || !krgs || !rest)
      st = GF_OOM(err, "the filtered Parquet read");
  }
  /* Page-level pruning: the rows of the pages whose page index (bounds,
   * null flags) does not rule the predicate out. */
  int64_t **cand = NULL, *ncand = NULL;
  if (st == GF_OK) {
    cand = gfi_calloc(a, (size_t)nrg * sizeof *cand);
    ncand = gfi_calloc(a, (size_t)nrg * sizeof *ncand);
    if (!cand || !ncand) st = GF_OOM(err, "the filtered Parquet read");
  }
  for (int g = 0; st == GF_OK && g < nrg; g++)
    st = gfi_pq_prune_pages(f->data, f->len, f->cols, f->ncols, pc, npc,
                            (const gfi_pq_row_group *)f->meta.row_groups.items + rgs[g],
                            o->predicate, a, &cand[g], &ncand[g], err);
  if (st == GF_OK && o->page_rows_skipped) {
    const gfi_pq_row_group *rg = f->meta.row_groups.items;
    int64_t skipped = 0;
    for (int g = 0; g < nrg; g++) skipped += cand[g] ? rg[rgs[g]].num_rows - ncand[g] : 0;
    *o->page_rows_skipped = skipped;
  }
  bool done = false;
  if (st == GF_OK && npc == 1 && per_value_pred(o->predicate, 0))
    st = dict_filter(f, o, par, pc[0], rgs, nrg, cand, ncand, pick, npick, pout, &done, err);
  if (st == GF_OK && !done)
    st = row_filter(f, o, par, pc, npc, rgs, nrg, cand, ncand, pick, npick, pout, err);
  for (int g = 0; cand && g < nrg; g++)
    if (cand[g]) gfi_mfree(a, cand[g], gfi_at_least_1((size_t)ncand[g]) * sizeof **cand);
  if (cand) gfi_mfree(a, cand, (size_t)nrg * sizeof *cand);
  if (ncand) gfi_mfree(a, ncand, (size_t)nrg * sizeof *ncand);
  /* The row groups that keep rows. */
  for (int g = 0; st == GF_OK && g < nrg; g++)
    if (npick[g] > 0) {
      kn[nk] = npick[g];
      kpick[nk] = pick[g];
      krgs[nk++] = rgs[g];
    }
  /* The selected columns the predicate does not name: decoded at the
   * passing rows only. */
  if (st == GF_OK) {
    for (int i = 0; i < nsel; i++) {
      bool in_p = false;
      for (int j = 0; j < npc; j++) in_p |= pc[j] == sel[i];
      if (!in_p) rest[nrest++] = sel[i];
    }
    nr = (size_t)nk * (size_t)nrest;
    nc = (size_t)nk * (size_t)nsel;
    rcols = gfi_calloc(a, gfi_at_least_1(nr) * sizeof *rcols);
    cols = gfi_calloc(a, gfi_at_least_1(nc) * sizeof *cols);
    if (!rcols || !cols) st = GF_OOM(err, "the filtered Parquet read");
  }
  if (st == GF_OK) st = decode_cells(f, rest, nrest, krgs, nk, kpick, kn, par, rcols, err);
  /* Assembly, moving the arrays. */
  for (int g = 0, k = 0; st == GF_OK && g < nrg; g++) {
    if (!npick[g]) continue;
    for (int i = 0, r = 0; i < nsel; i++) {
      int j = 0;
      while (j < npc && pc[j] != sel[i]) j++;
      gf_array **src = j < npc ? &pout[(size_t)g * (size_t)npc + (size_t)j]
                               : &rcols[(size_t)k * (size_t)nrest + (size_t)r++];
      cols[(size_t)k * (size_t)nsel + (size_t)i] = *src;
      *src = NULL;
    }
    k++;
  }
  if (st == GF_OK) st = unify_large(f, schema, cols, nk, nsel, err);
  if (st == GF_OK) st = gf_frame_new(*schema, cols, nk, a, out, err);
  for (size_t i = 0; pout && i < np; i++) gf_array_release(pout[i]);
  for (size_t i = 0; rcols && i < nr; i++) gf_array_release(rcols[i]);
  for (size_t i = 0; cols && i < nc; i++) gf_array_release(cols[i]);
  for (int g = 0; pick && g < nrg; g++)
    if (pick[g]) gfi_mfree(a, pick[g], gfi_at_least_1((size_t)npick[g]) * 8);
  if (pout) gfi_mfree(a, pout, gfi_at_least_1(np) * sizeof *pout);
  if (rcols) gfi_mfree(a, rcols, gfi_at_least_1(nr) * sizeof *rcols);
  if (cols) gfi_mfree(a, cols, gfi_at_least_1(nc) * sizeof *cols);
  if (pick) gfi_mfree(a, pick, (size_t)nrg * sizeof *pick);
  if (npick) gfi_mfree(a, npick, (size_t)nrg * sizeof *npick);
  if (kn) gfi_mfree(a, kn, (size_t)nrg * sizeof *kn);
  if (kpick) gfi_mfree(a, kpick, (size_t)nrg * sizeof *kpick);
  if (krgs) gfi_mfree(a, krgs, (size_t)nrg * sizeof *krgs);
  if (rest) gfi_mfree(a, rest, gfi_at_least_1((size_t)nsel) * sizeof *rest);
  if (pc) gfi_mfree(a, pc, gfi_at_least_1((size_t)npc) * sizeof *pc);
  return st;
}

/* The whole read: open, project, prune, decode in parallel, assemble. */
static gf_status read_in(const char *path, const uint8_t *mem, size_t mem_len,
                         const gf_parquet_read_options *o, const gf_parallel_options *par,
                         gf_frame **out, gf_error *err) {
  pq_file f;
  int *sel = NULL, nsel = 0, *rgs = NULL, nrg = 0;
  bool *keep = NULL;
  gf_array **cols = NULL;
  size_t ncells = 0;
  gf_schema *schema = NULL;
  gf_status st = file_open(&f, path, mem, mem_len, par, o->input_mode, err);
  if (st == GF_OK) st = select_columns(&f, o, &sel, &nsel, err);
  int nall = f.meta.row_groups.n;
  if (st == GF_OK) {
    keep = gfi_calloc(f.a, gfi_at_least_1((size_t)nall) * sizeof *keep);
    rgs = gfi_calloc(f.a, gfi_at_least_1((size_t)nall) * sizeof *rgs);
    if (!keep || !rgs) st = GF_OOM(err, "the Parquet row group list");
  }
  if (st == GF_OK) {
    for (int r = 0; r < nall; r++) keep[r] = true;
    if (o->predicate) st = gfi_pq_prune(f.cols, f.ncols, &f.meta, o->predicate, keep, err);
  }
  if (st == GF_OK) {
    const gfi_pq_row_group *rg = f.meta.row_groups.items;
    for (int r = 0; r < nall; r++)
      if (keep[r] && rg[r].num_rows > 0) rgs[nrg++] = r;
    if (o->row_groups_skipped) {
      int64_t skipped = 0;
      for (int r = 0; r < nall; r++) skipped += !keep[r];
      *o->row_groups_skipped = skipped;
    }
    st = make_schema(&f, sel, nsel, &schema, err);
  }
  gf_chunk_spec *chunks = NULL;
  bool filter_after = false;
  if (st == GF_OK && o->filter_rows && o->predicate && nrg > 0) {
    st = read_late(&f, o, par, sel, nsel, rgs, nrg, &schema, out, err);
    if (st != GF_ENOTSUP) goto done;
    /* A predicate without columns: read, then filter. */
    st = GF_OK;
    filter_after = true;
  }
  if (st == GF_OK) {
    ncells = (size_t)nrg * (size_t)nsel;
    cols = gfi_calloc(f.a, gfi_at_least_1(ncells) * sizeof *cols);
    chunks = gfi_calloc(f.a, gfi_at_least_1(ncells) * sizeof *chunks);
    if (!cols || !chunks) st = GF_OOM(err, "the Parquet chunk list");
  }
  if (st == GF_OK && ncells) {
    const gfi_pq_row_group *rg = f.meta.row_groups.items;
    for (size_t i = 0; i < ncells; i++) {
      /* Weighted by rows so that the runtime's parallel threshold and
       * largest-first order see the real work. */
      chunks[i].start_row = 0;
      chunks[i].end_row = rg[rgs[i / (size_t)nsel]].num_rows;
      chunks[i].chunk_id = (int64_t)i;
    }
    work w = {&f, sel, rgs, nsel, cols, NULL, NULL};
    st = gf_run_chunks(chunks, (int64_t)ncells, decode_item, &w, par, err);
  }
  if (st == GF_OK) st = unify_large(&f, &schema, cols, nrg, nsel, err);
  if (st == GF_OK) st = gf_frame_new(schema, cols, nrg, f.a, out, err);
  if (st == GF_OK && filter_after) {
    gf_frame *g = NULL;
    st = gf_filter(*out, o->predicate, par, &g, err);
    gf_frame_release(*out);
    *out = g;
  }
done:
  if (cols)
    for (size_t i = 0; i < ncells; i++) gf_array_release(cols[i]);
  if (cols) gfi_mfree(f.a, cols, gfi_at_least_1(ncells) * sizeof *cols);
  if (chunks) gfi_mfree(f.a, chunks, gfi_at_least_1(ncells) * sizeof *chunks);
  if (keep) gfi_mfree(f.a, keep, gfi_at_least_1((size_t)nall) * sizeof *keep);
  if (rgs) gfi_mfree(f.a, rgs, gfi_at_least_1((size_t)nall) * sizeof *rgs);
  if (sel) gfi_mfree(f.a, sel, gfi_at_least_1((size_t)nsel) * sizeof *sel);
  gf_schema_release(schema);
  file_close(&f);
  return st;
}

/* Copies the caller's options (any older, smaller struct) and loads the
 * call context (deadline, token, memory limit) for the whole read. */
static gf_status load_opts(const gf_parquet_read_options *o, gf_parquet_read_options *lo,
                           gfi_ctx *call, gf_parallel_options *par, gf_error *err) {
  gf_parquet_read_options_init(lo);
  if (o) memcpy(lo, o, o->size && o->size < sizeof *lo ? o->size : sizeof *lo);
  if (o && o->size == 0) return gf_error_set(err, GF_EINVAL, "Parquet reader: options.size is 0 (call gf_parquet_read_options_init)");
  return gfi_ctx_load(call, lo->parallel, par, err);
}

gf_status gf_read_parquet(const char *path, const gf_parquet_read_options *o,
                          gf_frame **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_read_parquet: out is NULL");
  *out = NULL;
  if (!path) return gf_error_set(err, GF_EINVAL, "gf_read_parquet: path is NULL");
  gf_parquet_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(load_opts(o, &lo, &call, &par, err));
  return gfi_ctx_end(&call, read_in(path, NULL, 0, &lo, &par, out, err), err);
}

gf_status gf_read_parquet_buffer(const void *data, size_t len, const gf_parquet_read_options *o,
                                 gf_frame **out, gf_error *err) {
  if (!out) return gf_error_set(err, GF_EINVAL, "gf_read_parquet_buffer: out is NULL");
  *out = NULL;
  if (!data && len) return gf_error_set(err, GF_EINVAL, "gf_read_parquet_buffer: data is NULL");
  static const uint8_t empty[1];
  gf_parquet_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(load_opts(o, &lo, &call, &par, err));
  return gfi_ctx_end(&call, read_in("Parquet buffer", data ? data : empty, len, &lo, &par, out, err),
                     err);
}

gf_status gf_parquet_read_schema(const char *path, const gf_parquet_read_options *o,
                                 gf_schema **schema, int64_t *rows, gf_error *err) {
  if (!schema) return gf_error_set(err, GF_EINVAL, "gf_parquet_read_schema: schema is NULL");
  *schema = NULL;
  if (!path) return gf_error_set(err, GF_EINVAL, "gf_parquet_read_schema: path is NULL");
  gf_parquet_read_options lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(load_opts(o, &lo, &call, &par, err));
  pq_file f;
  int *sel = NULL, nsel = 0;
  gf_status st = file_open(&f, path, NULL, 0, &par, lo.input_mode, err);
  if (st == GF_OK) st = select_columns(&f, &lo, &sel, &nsel, err);
  if (st == GF_OK) st = make_schema(&f, sel, nsel, schema, err);
  if (st == GF_OK && rows) *rows = f.meta.num_rows;
  if (sel) gfi_mfree(f.a, sel, gfi_at_least_1((size_t)nsel) * sizeof *sel);
  file_close(&f);
  return gfi_ctx_end(&call, st, err);
}

/* ---- row group by row group (the streaming source) ---------------------- */

struct gfi_pq_groups {
  pq_file f;
  char *path;          /* owned copy (f.path points here) */
  int *sel, nsel;
  int *rgs, nrg;       /* kept, non-empty row groups in file order */
  int64_t *row0;       /* nrg: absolute row offset of each */
  int64_t skipped;
  gf_schema *schema;
};

void gfi_pq_groups_close(gfi_pq_groups *g) {
  if (!g) return;
  const gf_allocator *a = g->f.a;
  int nall = g->f.meta.row_groups.n;
  if (g->sel) gfi_mfree(a, g->sel, gfi_at_least_1((size_t)g->nsel) * sizeof *g->sel);
  if (g->rgs) gfi_mfree(a, g->rgs, gfi_at_least_1((size_t)nall) * sizeof *g->rgs);
  if (g->row0) gfi_mfree(a, g->row0, gfi_at_least_1((size_t)nall) * sizeof *g->row0);
  gf_schema_release(g->schema);
  file_close(&g->f);
  if (g->path) gfi_mfree(a, g->path, strlen(g->path) + 1);
  gfi_mfree(a, g, sizeof *g);
}

gf_status gfi_pq_groups_open(const char *path, const gf_parquet_read_options *o,
                             const gf_parallel_options *par, gfi_pq_groups **out,
                             gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(par->allocator);
  gfi_pq_groups *g = gfi_calloc(a, sizeof *g);
  size_t n = strlen(path) + 1;
  char *pc = gfi_malloc(a, n);
  if (!g || !pc) {
    if (g) gfi_mfree(a, g, sizeof *g);
    if (pc) gfi_mfree(a, pc, n);
    return GF_OOM(err, "a Parquet source");
  }
  memcpy(pc, path, n);
  gf_status st = file_open(&g->f, pc, NULL, 0, par, o->input_mode, err);
  g->path = pc; /* after file_open, which zeroes g->f only */
  bool *keep = NULL;
  int nall = g->f.meta.row_groups.n;
  if (st == GF_OK) st = select_columns(&g->f, o, &g->sel, &g->nsel, err);
  if (st == GF_OK) {
    keep = gfi_calloc(a, gfi_at_least_1((size_t)nall) * sizeof *keep);
    g->rgs = gfi_calloc(a, gfi_at_least_1((size_t)nall) * sizeof *g->rgs);
    g->row0 = gfi_calloc(a, gfi_at_least_1((size_t)nall) * sizeof *g->row0);
    if (!keep || !g->rgs || !g->row0) st = GF_OOM(err, "the Parquet row group list");
  }
  if (st == GF_OK) {
    for (int r = 0; r < nall; r++) keep[r] = true;
    if (o->predicate) st = gfi_pq_prune(g->f.cols, g->f.ncols, &g->f.meta, o->predicate, keep, err);
  }
  if (st == GF_OK) {
    /* The same row groups, in the same order, as read_in decodes. */
    const gfi_pq_row_group *rg = g->f.meta.row_groups.items;
    int64_t at = 0;
    for (int r = 0; r < nall; r++) {
      if (keep[r] && rg[r].num_rows > 0) {
        g->row0[g->nrg] = at;
        g->rgs[g->nrg++] = r;
      }
      g->skipped += !keep[r];
      at += rg[r].num_rows;
    }
    st = make_schema(&g->f, g->sel, g->nsel, &g->schema, err);
  }
  if (keep) gfi_mfree(a, keep, gfi_at_least_1((size_t)nall) * sizeof *keep);
  if (st != GF_OK) {
    gfi_pq_groups_close(g);
    return st;
  }
  *out = g;
  return GF_OK;
}

const gf_schema *gfi_pq_groups_schema(const gfi_pq_groups *g) { return g->schema; }
int gfi_pq_groups_count(const gfi_pq_groups *g) { return g->nrg; }
int64_t gfi_pq_groups_skipped(const gfi_pq_groups *g) { return g->skipped; }
int gfi_pq_groups_index(const gfi_pq_groups *g, int i) { return g->rgs[i]; }
int64_t gfi_pq_groups_offset(const gfi_pq_groups *g, int i) { return g->row0[i]; }

gf_status gfi_pq_groups_read(gfi_pq_groups *g, int i, const gf_parallel_options *par,
                             gf_frame **out, gf_error *err) {
  *out = NULL;
  const gf_allocator *a = gfi_alloc_or_default(par->allocator);
  size_t ns = gfi_at_least_1((size_t)g->nsel);
  gf_array **cols = gfi_calloc(a, ns * sizeof *cols);
  gf_chunk_spec *chunks = gfi_calloc(a, ns * sizeof *chunks);
  gf_status st = cols && chunks ? GF_OK : GF_OOM(err, "a Parquet row group");
  const gfi_pq_row_group *rg = g->f.meta.row_groups.items;
  int r = g->rgs[i];
  if (st == GF_OK && g->nsel) {
    for (int k = 0; k < g->nsel; k++) {
      chunks[k].start_row = 0;
      chunks[k].end_row = rg[r].num_rows;
      chunks[k].chunk_id = k;
    }
    /* decode_item's indexing with one row group: rgs + i is that group. */
    work w = {&g->f, g->sel, g->rgs + i, g->nsel, cols, NULL, NULL}; /* every row */
    gf_error e;
    gf_error_clear(&e);
    st = gf_run_chunks(chunks, g->nsel, decode_item, &w, par, &e);
    /* Every input error names the file and the row group (some decoders'
     * messages name only a byte offset in the page). */
    if (st != GF_OK && st != GF_ENOMEM && st != GF_ECANCELED && st != GF_ETIMEDOUT &&
        !strstr(e.message, g->path))
      gf_error_set(err, st, "%.300s: row group %d: %s", g->path, r, e.message);
    else if (st != GF_OK && err)
      *err = e;
  }
  for (int k = 0; k < g->nsel && st == GF_OK; k++)
    if (cols[k]->type.id != gf_schema_field(g->schema, k)->type.id)
      st = gf_error_set(err, GF_ENOTSUP,
                        "%s: column '%s', row group %d holds more than 2^31-1 bytes of strings: "
                        "a streamed read cannot widen the column it already handed out; read "
                        "the file whole (gf_read_parquet; gf: --input-mode read)",
                        g->path, gf_schema_field(g->schema, k)->name, r);
  if (st == GF_OK) st = gf_frame_new(g->schema, cols, 1, a, out, err);
  for (int k = 0; cols && k < g->nsel; k++) gf_array_release(cols[k]);
  if (cols) gfi_mfree(a, cols, ns * sizeof *cols);
  if (chunks) gfi_mfree(a, chunks, ns * sizeof *chunks);
  return st;
}
