/* The Parquet writer: "PAR1", the row groups (column chunks encoded in
 * parallel by pq_write_column.c, written in order), the page index (every
 * ColumnIndex, then every OffsetIndex), the FileMetaData footer (Thrift
 * compact), its length and "PAR1". Everything goes through a temporary
 * file renamed over the target at the end. */
#include <stdio.h>
#include <string.h>

#include "data/timezone.h"
#include "exec/exec_internal.h"
#include "io/atomic_file.h"
#include "io/ipc_internal.h"
#include "io/pq_write_column.h"
#include "io/thrift_write.h"

#define DEFAULT_ROW_GROUP_ROWS (1 << 20)
#define DEFAULT_PAGE_BYTES (1 << 20)
#define DEFAULT_PAGE_ROWS 20000
#define DEFAULT_DICT_BYTES (1 << 20)

void gf_parquet_write_options_init(gf_parquet_write_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

/* The Parquet codec of a public compression value; -1 when unknown. */
static int codec_of(gf_parquet_compression c) {
  switch (c) {
    case GF_PARQUET_NONE: return PQW_CODEC_UNCOMPRESSED;
    case GF_PARQUET_SNAPPY: return PQW_CODEC_SNAPPY;
    case GF_PARQUET_GZIP: return PQW_CODEC_GZIP;
    case GF_PARQUET_ZSTD: return PQW_CODEC_ZSTD;
    case GF_PARQUET_LZ4_RAW: return PQW_CODEC_LZ4_RAW;
    default: return -1;
  }
}

bool gf_parquet_compression_available(gf_parquet_compression c) {
  int codec = codec_of(c);
  return codec >= 0 && gfi_pqw_codec_available(codec);
}

/* Bytes of the smallest two's complement integer holding every unscaled
 * value of `precision` decimal digits. */
static int32_t decimal_bytes(int32_t precision) {
  /* 10^p - 1 < 2^(8n - 1): n = ceil((p * log2(10) + 1) / 8). */
  double bits = precision * 3.321928094887362 + 1.0;
  int32_t n = (int32_t)(bits / 8.0);
  if (n * 8.0 < bits) n++;
  return n < 1 ? 1 : n;
}

/* Fills the Parquet description of column `col` of `schema`; GF_ENOTSUP
 * naming it for types Parquet (or this writer) cannot hold. OPTIONAL when
 * the field is nullable (callers with the data widen it, see
 * widen_optional). */
static gf_status make_colspec(const gf_schema *schema, int col, pqw_colspec *cs, gf_error *err) {
  const gf_field *fd = gf_schema_field(schema, col);
  memset(cs, 0, sizeof *cs);
  cs->col = col;
  cs->name = fd->name;
  cs->type = fd->type;
  cs->vt = gf_type_value(fd->type);
  cs->converted = PQW_CT_NONE;
  cs->logical = PQW_LT_NONE;
  cs->mult = 1;
  cs->phys = PQW_INT32;
  cs->order = ORD_SIGNED32;
  gf_datatype t = cs->vt;
  switch (t.id) {
    case GF_TYPE_NULL:
      cs->logical = PQW_LT_UNKNOWN;
      break;
    case GF_TYPE_BOOL:
      cs->phys = PQW_BOOLEAN;
      cs->order = ORD_BOOL;
      break;
    case GF_TYPE_INT8: case GF_TYPE_INT16: case GF_TYPE_UINT8: case GF_TYPE_UINT16:
    case GF_TYPE_UINT32: case GF_TYPE_UINT64: {
      static const struct { gf_type_id id; int bits; bool sgn; int ct; } m[] = {
          {GF_TYPE_INT8, 8, true, PQW_CT_INT_8}, {GF_TYPE_INT16, 16, true, PQW_CT_INT_16},
          {GF_TYPE_UINT8, 8, false, PQW_CT_UINT_8}, {GF_TYPE_UINT16, 16, false, PQW_CT_UINT_16},
          {GF_TYPE_UINT32, 32, false, PQW_CT_UINT_32}, {GF_TYPE_UINT64, 64, false, PQW_CT_UINT_64}};
      for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        if (m[k].id != t.id) continue;
        cs->logical = PQW_LT_INTEGER;
        cs->int_bits = m[k].bits;
        cs->int_signed = m[k].sgn;
        cs->converted = m[k].ct;
      }
      if (t.id == GF_TYPE_UINT64) {
        cs->phys = PQW_INT64;
        cs->order = ORD_UNSIGNED64;
      } else if (!cs->int_signed) {
        cs->order = ORD_UNSIGNED32;
      }
      break;
    }
    case GF_TYPE_INT32: break;
    case GF_TYPE_INT64: case GF_TYPE_DURATION:
      /* durations have no Parquet logical type: ARROW:schema restores them */
      cs->phys = PQW_INT64;
      cs->order = ORD_SIGNED64;
      break;
    case GF_TYPE_FLOAT32:
      cs->phys = PQW_FLOAT;
      cs->order = ORD_FLOAT;
      break;
    case GF_TYPE_FLOAT64:
      cs->phys = PQW_DOUBLE;
      cs->order = ORD_DOUBLE;
      break;
    case GF_TYPE_UTF8: case GF_TYPE_LARGE_UTF8:
      cs->phys = PQW_BYTE_ARRAY;
      cs->order = ORD_BYTES;
      cs->logical = PQW_LT_STRING;
      cs->converted = PQW_CT_UTF8;
      break;
    case GF_TYPE_BINARY: case GF_TYPE_LARGE_BINARY:
      cs->phys = PQW_BYTE_ARRAY;
      cs->order = ORD_BYTES;
      break;
    case GF_TYPE_FIXED_SIZE_BINARY:
      cs->phys = PQW_FLBA;
      cs->type_length = t.byte_width;
      cs->order = ORD_BYTES;
      break;
    case GF_TYPE_DATE32: case GF_TYPE_DATE64:
      /* date64 is written as days, like Arrow's writers */
      cs->logical = PQW_LT_DATE;
      cs->converted = PQW_CT_DATE;
      break;
    case GF_TYPE_TIME32:
      /* Parquet has no seconds: time32[s] is written as milliseconds.
       * Times of day are local (isAdjustedToUTC false, as Arrow's writers
       * say), so without the legacy TIME_* annotations, which mean UTC. */
      cs->logical = PQW_LT_TIME;
      cs->unit = PQW_UNIT_MILLIS;
      cs->mult = t.unit == GF_UNIT_SECOND ? 1000 : 1;
      break;
    case GF_TYPE_TIME64:
      cs->phys = PQW_INT64;
      cs->order = ORD_SIGNED64;
      cs->logical = PQW_LT_TIME;
      cs->unit = t.unit == GF_UNIT_MICRO ? PQW_UNIT_MICROS : PQW_UNIT_NANOS;
      break;
    case GF_TYPE_TIMESTAMP:
      cs->phys = PQW_INT64;
      cs->order = ORD_SIGNED64;
      cs->logical = PQW_LT_TIMESTAMP;
      /* A zone (any) means instants: UTC-normalised values. */
      cs->adjusted = t.has_timezone;
      cs->unit = t.unit == GF_UNIT_NANO ? PQW_UNIT_NANOS
                 : t.unit == GF_UNIT_MICRO ? PQW_UNIT_MICROS : PQW_UNIT_MILLIS;
      cs->mult = t.unit == GF_UNIT_SECOND ? 1000 : 1;
      /* The legacy annotations mean UTC instants: only for zoned columns. */
      if (cs->adjusted && cs->unit == PQW_UNIT_MILLIS) cs->converted = PQW_CT_TIMESTAMP_MILLIS;
      if (cs->adjusted && cs->unit == PQW_UNIT_MICROS) cs->converted = PQW_CT_TIMESTAMP_MICROS;
      break;
    case GF_TYPE_DECIMAL128:
      cs->logical = PQW_LT_DECIMAL;
      cs->converted = PQW_CT_DECIMAL;
      cs->precision = t.precision;
      cs->scale = t.scale;
      if (t.precision <= 9) {
        cs->phys = PQW_INT32;
      } else if (t.precision <= 18) {
        cs->phys = PQW_INT64;
        cs->order = ORD_SIGNED64;
      } else {
        cs->phys = PQW_FLBA;
        cs->type_length = decimal_bytes(t.precision);
        cs->order = ORD_DECIMAL_BE;
      }
      break;
    default: {
      char buf[64];
      return gf_error_set(err, GF_ENOTSUP,
                          "Parquet writer: column '%s' has type %s, which the writer does not "
                          "support (cast decimal256 to decimal128)",
                          fd->name, gf_type_format(fd->type, buf, sizeof buf));
    }
  }
  cs->optional = fd->nullable || t.id == GF_TYPE_NULL;
  return GF_OK;
}

/* Whether column `col` of `f` holds nulls although its field is not
 * nullable (an array with nulls, a dictionary whose values have nulls). */
static bool holds_nulls(const gf_frame *f, int col) {
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, col);
    if (a->null_count > 0) return true;
    if (a->dictionary && a->dictionary->null_count > 0) return true;
  }
  return false;
}

/* Standard base64 with padding (the ARROW:schema value). */
static gf_status base64(gfi_vec *out, const uint8_t *p, size_t n, gf_error *err) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n) v |= p[i + 2];
    char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=',
                 i + 2 < n ? tab[v & 63] : '='};
    GF_RETURN_NOT_OK(gfi_vec_append(out, q, 4, err));
  }
  return GF_OK;
}

/* The whole write (gf_write_parquet) or a streaming sink's file. */
typedef struct pqw {
  const gf_schema *schema;
  /* The rows being encoded: row 0 of `f` is the first row of row group
   * f_rg (the whole frame for gf_write_parquet, the pending batches for
   * the sink). */
  const gf_frame *f;
  int64_t f_rg;
  gf_parallel_options par;
  int64_t start_ns;
  pqw_params p;
  int nc;
  pqw_colspec *cols;
  int64_t nrg, rg_rows, total_rows; /* row groups and rows written so far */
  pqw_chunk *chunks; /* nrg * nc, row group major */
  int64_t cap_rg;    /* row groups `chunks` has room for */
  gfi_atomic_file *file;
  uint64_t pos;
  int64_t wave_first, wave_n; /* row groups being encoded */
  gf_error *err;
} pqw;

static gf_status out(pqw *w, const void *p, size_t n) {
  w->pos += n;
  return n ? gfi_atomic_file_write(w->file, p, n, w->err) : GF_OK;
}

/* Encodes one (row group, column) chunk of the current wave. */
static gf_status encode_one(void *user, const gf_chunk_spec *spec, gf_task_ctx *ctx) {
  pqw *w = user;
  int64_t k = spec->chunk_id; /* index into the wave */
  int64_t rg = w->wave_first + k / w->nc;
  int c = (int)(k % w->nc);
  int64_t row0 = (rg - w->f_rg) * w->rg_rows;
  int64_t rows = gf_frame_num_rows(w->f) - row0;
  if (rows > w->rg_rows) rows = w->rg_rows;
  return gfi_pqw_encode_chunk(&w->p, w->f, &w->cols[c], row0, rows,
                              &w->chunks[rg * w->nc + c], ctx->err);
}

/* Makes room for `nrg` row groups of chunk metadata (zeroed). */
static gf_status reserve_chunks(pqw *w, int64_t nrg) {
  if (nrg <= w->cap_rg) return GF_OK;
  int64_t cap = w->cap_rg ? w->cap_rg : 4;
  while (cap < nrg) cap *= 2;
  size_t old_n = (size_t)gfi_at_least_1((size_t)(w->cap_rg * w->nc));
  size_t new_n = (size_t)gfi_at_least_1((size_t)(cap * w->nc));
  pqw_chunk *c = gfi_calloc(w->p.a, new_n * sizeof *c);
  if (!c) return GF_OOM(w->err, "Parquet column chunk list");
  if (w->chunks) {
    memcpy(c, w->chunks, (size_t)(w->nrg * w->nc) * sizeof *c);
    gfi_mfree(w->p.a, w->chunks, old_n * sizeof *c);
  }
  w->chunks = c;
  w->cap_rg = cap;
  return GF_OK;
}

/* Ranks the values of the dictionary columns of `f` (its frame-wide
 * dictionaries) once, so chunks compare ranks; replaces earlier ranks. */
static gf_status rank_dictionaries(pqw *w, const gf_frame *f) {
  for (int c = 0; c < w->nc; c++) {
    pqw_colspec *cs = &w->cols[c];
    if (cs->dict_rank)
      gfi_mfree(w->p.a, cs->dict_rank, gfi_at_least_1(cs->dict_len) * sizeof(int32_t));
    cs->dict_rank = NULL;
    cs->dict_len = 0;
    if (cs->type.id != GF_TYPE_DICTIONARY || !w->p.statistics || !w->p.dictionary ||
        cs->phys == PQW_BOOLEAN || gf_frame_num_batches(f) == 0 || gf_frame_num_rows(f) == 0)
      continue;
    const gf_array *dict = gf_frame_column(f, 0, c)->dictionary;
    GF_RETURN_NOT_OK(gfi_pqw_rank_dictionary(&w->p, cs, dict, &cs->dict_rank, w->err));
    cs->dict_len = (size_t)dict->length;
  }
  return GF_OK;
}

/* Encodes and writes row groups [first, first + count) from `f` (whose
 * row 0 is row group first's first row) in waves: enough chunks to keep
 * the workers busy, few enough that the file is not held in memory. */
static gf_status write_row_groups(pqw *w, const gf_frame *f, int64_t first_rg, int64_t count_rg) {
  if (count_rg <= 0 || w->nc == 0) return GF_OK;
  GF_RETURN_NOT_OK(reserve_chunks(w, first_rg + count_rg));
  GF_RETURN_NOT_OK(rank_dictionaries(w, f));
  w->f = f;
  w->f_rg = first_rg;
  int64_t per_wave = (16 + w->nc - 1) / w->nc;
  if (per_wave < 1) per_wave = 1;
  for (int64_t first = first_rg; first < first_rg + count_rg; first += per_wave) {
    int64_t n = first_rg + count_rg - first < per_wave ? first_rg + count_rg - first : per_wave;
    w->wave_first = first;
    w->wave_n = n;
    int64_t count = n * w->nc;
    gf_chunk_spec *specs = gfi_malloc(w->p.a, (size_t)count * sizeof *specs);
    if (!specs) return GF_OOM(w->err, "Parquet chunk list");
    for (int64_t k = 0; k < count; k++) {
      specs[k].chunk_id = k;
      specs[k].start_row = 0;
      specs[k].end_row = w->rg_rows; /* weight for largest-first */
    }
    gf_parallel_options phase;
    gf_status st = gfi_check_stop(&w->par, w->start_ns, &phase, w->err);
    /* Chunks of the wave count as made (freed by pqw_release) even when
     * the run fails part way. */
    if (first + n > w->nrg) w->nrg = first + n;
    if (st == GF_OK) st = gf_run_chunks(specs, count, encode_one, w, &phase, w->err);
    gfi_mfree(w->p.a, specs, (size_t)count * sizeof *specs);
    GF_RETURN_NOT_OK(st);
    for (int64_t k = 0; k < count; k++) {
      pqw_chunk *c = &w->chunks[first * w->nc + k];
      c->file_offset = (int64_t)w->pos;
      GF_RETURN_NOT_OK(out(w, c->bytes.data, c->bytes.len));
      /* The bytes are in the file: keep only the metadata. */
      c->compressed = (int64_t)c->bytes.len;
      gfi_vec_reset(&c->bytes);
    }
  }
  w->f = NULL;
  return GF_OK;
}

/* Writes every ColumnIndex then every OffsetIndex; records where. */
typedef struct index_pos {
  int64_t ci_off, oi_off;
  int32_t ci_len, oi_len;
} index_pos;

static gf_status write_page_index(pqw *w, index_pos *ix) {
  int64_t total = w->nrg * w->nc;
  for (int64_t k = 0; k < total; k++) {
    pqw_chunk *c = &w->chunks[k];
    ix[k].ci_off = -1;
    if (!c->column_index.len) continue;
    ix[k].ci_off = (int64_t)w->pos;
    ix[k].ci_len = (int32_t)c->column_index.len;
    GF_RETURN_NOT_OK(out(w, c->column_index.data, c->column_index.len));
  }
  gfi_vec v;
  gfi_vec_init(&v, w->p.a);
  gf_status st = GF_OK;
  for (int64_t k = 0; k < total && st == GF_OK; k++) {
    pqw_chunk *c = &w->chunks[k];
    v.len = 0;
    tw t;
    gfi_tw_init(&t, &v, w->err);
    gfi_tw_list(&t, OI_PAGE_LOCATIONS, TW_STRUCT, c->npages);
    for (size_t i = 0; i < c->npages; i++) {
      gfi_tw_elem_struct_begin(&t);
      gfi_tw_i64(&t, PL_OFFSET, c->file_offset + c->pages[i].offset);
      gfi_tw_i32(&t, PL_COMPRESSED, c->pages[i].size);
      gfi_tw_i64(&t, PL_FIRST_ROW, c->pages[i].first_row);
      gfi_tw_struct_end(&t);
    }
    gfi_tw_struct_end(&t);
    st = gfi_tw_status(&t);
    ix[k].oi_off = (int64_t)w->pos;
    ix[k].oi_len = (int32_t)v.len;
    if (st == GF_OK) st = out(w, v.data, v.len);
  }
  gfi_vec_reset(&v);
  return st;
}

/* One SchemaElement of a leaf column. */
static void put_schema_element(tw *t, const pqw_colspec *cs) {
  gfi_tw_elem_struct_begin(t);
  gfi_tw_i32(t, SE_TYPE, cs->phys);
  if (cs->phys == PQW_FLBA) gfi_tw_i32(t, SE_TYPE_LENGTH, cs->type_length);
  gfi_tw_i32(t, SE_REPETITION, cs->optional ? PQW_OPTIONAL : PQW_REQUIRED);
  gfi_tw_string(t, SE_NAME, cs->name);
  if (cs->converted != PQW_CT_NONE) gfi_tw_i32(t, SE_CONVERTED, cs->converted);
  if (cs->logical == PQW_LT_DECIMAL) {
    gfi_tw_i32(t, SE_SCALE, cs->scale);
    gfi_tw_i32(t, SE_PRECISION, cs->precision);
  }
  if (cs->logical != PQW_LT_NONE) {
    gfi_tw_struct_begin(t, SE_LOGICAL);
    switch (cs->logical) {
      case PQW_LT_DECIMAL:
        gfi_tw_struct_begin(t, PQW_LT_DECIMAL);
        gfi_tw_i32(t, DEC_SCALE_, cs->scale);
        gfi_tw_i32(t, DEC_PRECISION_, cs->precision);
        gfi_tw_struct_end(t);
        break;
      case PQW_LT_TIME:
      case PQW_LT_TIMESTAMP:
        gfi_tw_struct_begin(t, (int16_t)cs->logical);
        gfi_tw_bool(t, TS_ADJUSTED, cs->adjusted);
        gfi_tw_struct_begin(t, TS_UNIT_);
        gfi_tw_empty_struct(t, (int16_t)cs->unit);
        gfi_tw_struct_end(t);
        gfi_tw_struct_end(t);
        break;
      case PQW_LT_INTEGER: {
        gfi_tw_struct_begin(t, PQW_LT_INTEGER);
        /* bitWidth is an i8: the compact protocol's byte type. */
        uint8_t hdr = (uint8_t)(INT_BITWIDTH << 4 | TW_BYTE);
        if (t->st == GF_OK) t->st = gfi_vec_append(t->out, &hdr, 1, t->err);
        uint8_t bits = (uint8_t)cs->int_bits;
        if (t->st == GF_OK) t->st = gfi_vec_append(t->out, &bits, 1, t->err);
        t->last[t->depth] = INT_BITWIDTH;
        gfi_tw_bool(t, INT_ISSIGNED, cs->int_signed);
        gfi_tw_struct_end(t);
        break;
      }
      default: /* STRING, DATE, UNKNOWN: empty structs */
        gfi_tw_empty_struct(t, (int16_t)cs->logical);
        break;
    }
    gfi_tw_struct_end(t);
  }
  gfi_tw_struct_end(t);
}

/* Writes the FileMetaData, its length and the closing magic. */
static gf_status write_footer(pqw *w, const index_pos *ix, const char *arrow_schema) {
  gfi_vec v, scratch;
  gfi_vec_init(&v, w->p.a);
  gfi_vec_init(&scratch, w->p.a);
  tw t;
  gfi_tw_init(&t, &v, w->err);
  gfi_tw_i32(&t, FMD_VERSION, 2);
  gfi_tw_list(&t, FMD_SCHEMA, TW_STRUCT, (size_t)w->nc + 1);
  gfi_tw_elem_struct_begin(&t);
  gfi_tw_string(&t, SE_NAME, "schema");
  gfi_tw_i32(&t, SE_NUM_CHILDREN, w->nc);
  gfi_tw_struct_end(&t);
  for (int c = 0; c < w->nc; c++) put_schema_element(&t, &w->cols[c]);
  gfi_tw_i64(&t, FMD_NUM_ROWS, w->total_rows);
  gfi_tw_list(&t, FMD_ROW_GROUPS, TW_STRUCT, (size_t)w->nrg);
  for (int64_t rg = 0; rg < w->nrg; rg++) {
    pqw_chunk *row = &w->chunks[rg * w->nc];
    int64_t unc = 0, comp = 0;
    for (int c = 0; c < w->nc; c++) {
      unc += row[c].uncompressed;
      comp += row[c].compressed;
    }
    gfi_tw_elem_struct_begin(&t);
    gfi_tw_list(&t, RG_COLUMNS, TW_STRUCT, (size_t)w->nc);
    for (int c = 0; c < w->nc; c++) {
      const pqw_chunk *ch = &row[c];
      const pqw_colspec *cs = &w->cols[c];
      const index_pos *x = &ix[rg * w->nc + c];
      int64_t first_page = ch->file_offset + (ch->dict_offset >= 0 ? ch->dict_offset : ch->data_offset);
      gfi_tw_elem_struct_begin(&t);
      gfi_tw_i64(&t, CC_FILE_OFFSET, first_page);
      gfi_tw_struct_begin(&t, CC_META);
      gfi_tw_i32(&t, CM_TYPE, cs->phys);
      if (ch->dictionary) {
        gfi_tw_list(&t, CM_ENCODINGS, TW_I32, 3);
        gfi_tw_elem_i32(&t, PQW_ENC_PLAIN);
        gfi_tw_elem_i32(&t, PQW_ENC_RLE);
        gfi_tw_elem_i32(&t, PQW_ENC_RLE_DICTIONARY);
      } else {
        gfi_tw_list(&t, CM_ENCODINGS, TW_I32, 2);
        gfi_tw_elem_i32(&t, PQW_ENC_PLAIN);
        gfi_tw_elem_i32(&t, PQW_ENC_RLE);
      }
      gfi_tw_list(&t, CM_PATH, TW_BINARY, 1);
      gfi_tw_elem_binary(&t, cs->name, strlen(cs->name));
      gfi_tw_i32(&t, CM_CODEC, w->p.codec);
      gfi_tw_i64(&t, CM_NUM_VALUES, ch->rows);
      gfi_tw_i64(&t, CM_UNCOMPRESSED, ch->uncompressed);
      gfi_tw_i64(&t, CM_COMPRESSED, ch->compressed);
      gfi_tw_i64(&t, CM_DATA_PAGE_OFFSET, ch->file_offset + ch->data_offset);
      if (ch->dict_offset >= 0) gfi_tw_i64(&t, CM_DICT_PAGE_OFFSET, ch->file_offset + ch->dict_offset);
      if (w->p.statistics) {
        gfi_tw_struct_begin(&t, CM_STATISTICS);
        gfi_tw_i64(&t, ST_NULL_COUNT, ch->nulls);
        if (ch->has_minmax) {
          scratch.len = 0;
          if (t.st == GF_OK)
            t.st = gfi_pqw_stat_bytes(&scratch, cs->order, ch->max.data, (int32_t)ch->max.len,
                                      true, w->err);
          size_t maxn = scratch.len;
          if (t.st == GF_OK)
            t.st = gfi_pqw_stat_bytes(&scratch, cs->order, ch->min.data, (int32_t)ch->min.len,
                                      false, w->err);
          if (t.st == GF_OK) {
            gfi_tw_binary(&t, ST_MAX_VALUE, scratch.data, maxn);
            gfi_tw_binary(&t, ST_MIN_VALUE, scratch.data + maxn, scratch.len - maxn);
          }
        }
        gfi_tw_struct_end(&t);
      }
      gfi_tw_struct_end(&t); /* meta_data */
      gfi_tw_i64(&t, CC_OI_OFFSET, x->oi_off);
      gfi_tw_i32(&t, CC_OI_LENGTH, x->oi_len);
      if (x->ci_off >= 0) {
        gfi_tw_i64(&t, CC_CI_OFFSET, x->ci_off);
        gfi_tw_i32(&t, CC_CI_LENGTH, x->ci_len);
      }
      gfi_tw_struct_end(&t); /* ColumnChunk */
    }
    gfi_tw_i64(&t, RG_TOTAL_BYTE_SIZE, unc);
    int64_t rows = w->total_rows - rg * w->rg_rows;
    gfi_tw_i64(&t, RG_NUM_ROWS, rows < w->rg_rows ? rows : w->rg_rows);
    gfi_tw_i64(&t, RG_FILE_OFFSET, row[0].file_offset);
    gfi_tw_i64(&t, RG_TOTAL_COMPRESSED, comp);
    if (rg <= INT16_MAX) gfi_tw_i16(&t, RG_ORDINAL, (int16_t)rg);
    gfi_tw_struct_end(&t);
  }
  gfi_tw_list(&t, FMD_KV, TW_STRUCT, 1);
  gfi_tw_elem_struct_begin(&t);
  gfi_tw_string(&t, KV_KEY_, "ARROW:schema");
  gfi_tw_string(&t, KV_VALUE_, arrow_schema);
  gfi_tw_struct_end(&t);
  gfi_tw_string(&t, FMD_CREATED_BY, "gopherframe version " GF_VERSION_STRING);
  gfi_tw_list(&t, FMD_COLUMN_ORDERS, TW_STRUCT, (size_t)w->nc);
  for (int c = 0; c < w->nc; c++) {
    gfi_tw_elem_struct_begin(&t);
    gfi_tw_empty_struct(&t, CO_TYPE_ORDER);
    gfi_tw_struct_end(&t);
  }
  gfi_tw_struct_end(&t);
  gf_status st = gfi_tw_status(&t);
  if (st == GF_OK && v.len > UINT32_MAX)
    st = gf_error_set(w->err, GF_ENOTSUP, "Parquet writer: the footer exceeds 4 GiB");
  if (st == GF_OK) st = out(w, v.data, v.len);
  uint8_t tail[8];
  for (int i = 0; i < 4; i++) tail[i] = (uint8_t)(v.len >> (8 * i));
  memcpy(tail + 4, "PAR1", 4);
  if (st == GF_OK) st = out(w, tail, 8);
  gfi_vec_reset(&v);
  gfi_vec_reset(&scratch);
  return st;
}

/* The ARROW:schema value: base64 of the IPC schema message (of the
 * schema alone), NUL-ended. */
static gf_status arrow_schema(pqw *w, gfi_vec *b64) {
  gf_frame *e = NULL;
  GF_RETURN_NOT_OK(gf_frame_new((gf_schema *)w->schema, NULL, 0, w->p.a, &e, w->err));
  void *msg = NULL;
  size_t len = 0;
  gf_status st = gfi_ipc_schema_message(e, w->p.a, &msg, &len, w->err);
  gf_frame_release(e);
  GF_RETURN_NOT_OK(st);
  st = base64(b64, msg, len, w->err);
  gf_mem_free(msg);
  if (st == GF_OK) st = gfi_vec_append(b64, "", 1, w->err);
  return st;
}

/* After the row groups: the page index, the footer, its length, "PAR1". */
static gf_status write_tail(pqw *w) {
  gfi_vec b64;
  gfi_vec_init(&b64, w->p.a);
  index_pos *ix = NULL;
  int64_t total = w->nrg * w->nc;
  gf_status st = arrow_schema(w, &b64);
  if (st == GF_OK) st = gfi_check_stop(&w->par, w->start_ns, NULL, w->err);
  if (st == GF_OK) {
    ix = gfi_calloc(w->p.a, (size_t)gfi_at_least_1((size_t)total) * sizeof *ix);
    if (!ix) st = GF_OOM(w->err, "the Parquet page index list");
  }
  if (st == GF_OK) st = write_page_index(w, ix);
  if (st == GF_OK) st = write_footer(w, ix, (const char *)b64.data);
  gfi_mfree(w->p.a, ix, (size_t)gfi_at_least_1((size_t)total) * sizeof *ix);
  gfi_vec_reset(&b64);
  return st;
}

/* Sets up a write of `schema` with options `o` under loaded options
 * `par`: parameters checked, column descriptions made. pqw_release frees
 * what it made, also after a failure. */
static gf_status pqw_init(pqw *w, const gf_schema *schema, const gf_parquet_write_options *o,
                          const gf_parallel_options *par, gf_error *err) {
  memset(w, 0, sizeof *w);
  w->schema = schema;
  w->par = *par;
  w->err = err;
  w->start_ns = gfi_now_ns();
  w->p.a = gfi_alloc_or_default(par->allocator);
  w->p.codec = codec_of(o->compression);
  w->p.level = o->compression_level;
  w->p.page_bytes = o->data_page_bytes > 0 ? o->data_page_bytes : DEFAULT_PAGE_BYTES;
  w->p.page_rows = o->data_page_rows > 0 ? o->data_page_rows : DEFAULT_PAGE_ROWS;
  w->p.dict_bytes = o->dictionary_page_bytes > 0 ? o->dictionary_page_bytes : DEFAULT_DICT_BYTES;
  w->p.dictionary = !o->no_dictionary;
  w->p.statistics = !o->no_statistics;
  if (w->p.codec < 0)
    return gf_error_set(err, GF_EINVAL, "Parquet writer: unknown compression %d",
                        (int)o->compression);
  if (!gfi_pqw_codec_available(w->p.codec))
    return gf_error_set(err, GF_ENOTSUP, "Parquet writer: %s compression is not available "
                        "(built without it; see GF_WITH_* in CMakeLists.txt)",
                        gfi_pqw_codec_name(w->p.codec));
  if (w->p.dict_bytes > INT32_MAX || w->p.page_bytes > INT32_MAX || w->p.page_rows > INT32_MAX)
    return gf_error_set(err, GF_EINVAL, "Parquet writer: page and dictionary limits must be "
                        "below 2 GiB");
  w->rg_rows = o->row_group_rows > 0 ? o->row_group_rows : DEFAULT_ROW_GROUP_ROWS;
  if (w->rg_rows > INT32_MAX) w->rg_rows = INT32_MAX;
  w->nc = gf_schema_num_fields(schema);
  w->cols = gfi_calloc(w->p.a, (size_t)gfi_at_least_1((size_t)w->nc) * sizeof *w->cols);
  if (!w->cols) return GF_OOM(err, "Parquet column descriptions");
  for (int c = 0; c < w->nc; c++) GF_RETURN_NOT_OK(make_colspec(schema, c, &w->cols[c], err));
  return GF_OK;
}

static void pqw_release(pqw *w) {
  if (w->chunks) {
    for (int64_t k = 0; k < w->nrg * w->nc; k++) gfi_pqw_chunk_free(w->p.a, &w->chunks[k]);
    gfi_mfree(w->p.a, w->chunks,
              (size_t)gfi_at_least_1((size_t)(w->cap_rg * w->nc)) * sizeof *w->chunks);
  }
  if (w->cols) {
    for (int c = 0; c < w->nc; c++)
      if (w->cols[c].dict_rank)
        gfi_mfree(w->p.a, w->cols[c].dict_rank,
                  gfi_at_least_1(w->cols[c].dict_len) * sizeof(int32_t));
    gfi_mfree(w->p.a, w->cols, (size_t)gfi_at_least_1((size_t)w->nc) * sizeof *w->cols);
  }
  memset(w, 0, sizeof *w);
}

/* gf_write_parquet under a loaded call context. */
static gf_status write_parquet_in(const gf_frame *f, const char *path,
                                  const gf_parquet_write_options *o, gf_parallel_options *par,
                                  gf_error *err) {
  pqw w;
  gf_status st = pqw_init(&w, gf_frame_schema(f), o, par, err);
  /* A column of a non-nullable field that holds nulls anyway is
   * OPTIONAL. */
  for (int c = 0; c < w.nc && st == GF_OK; c++)
    if (!w.cols[c].optional && holds_nulls(f, c)) w.cols[c].optional = true;
  int64_t rows = gf_frame_num_rows(f);
  int64_t nrg = w.nc > 0 ? (rows + w.rg_rows - 1) / w.rg_rows : 0;
  gfi_atomic_file af;
  bool opened = false;
  if (st == GF_OK) {
    st = gfi_atomic_file_open(path, w.p.a, &af, err);
    opened = st == GF_OK;
  }
  if (st == GF_OK) {
    w.file = &af;
    w.total_rows = rows;
    st = out(&w, "PAR1", 4);
  }
  if (st == GF_OK) st = write_row_groups(&w, f, 0, nrg);
  if (st == GF_OK) st = write_tail(&w);
  if (opened) {
    if (st == GF_OK) st = gfi_atomic_file_commit(&af, err);
    else gfi_atomic_file_abort(&af);
  }
  pqw_release(&w);
  return st;
}

gf_status gf_write_parquet(const gf_frame *f, const char *path, const gf_parquet_write_options *o,
                           gf_error *err) {
  if (!f || !path)
    return gf_error_set(err, GF_EINVAL, "Parquet writer: %s is NULL", f ? "path" : "frame");
  gf_parquet_write_options lo;
  gf_parquet_write_options_init(&lo);
  if (o) memcpy(&lo, o, o->size && o->size < sizeof lo ? o->size : sizeof lo);
  lo.size = sizeof lo;
  gf_parallel_options par;
  gfi_ctx call;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, lo.parallel, &par, err));
  return gfi_ctx_end(&call, write_parquet_in(f, path, &lo, &par, err), err);
}

/* ---- the streaming writer (exec/sink_parquet.c) ------------------------ */

struct gfi_pqw_stream {
  pqw w;
  gfi_atomic_file file;
  bool open;
};

gf_status gfi_pqw_stream_open(const gf_schema *schema, const char *path,
                              const gf_parquet_write_options *o, const gf_parallel_options *po,
                              gfi_pqw_stream **res, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gf_parquet_write_options lo;
  gf_parquet_write_options_init(&lo);
  if (o) memcpy(&lo, o, o->size && o->size < sizeof lo ? o->size : sizeof lo);
  lo.size = sizeof lo;
  gfi_pqw_stream *s = gfi_calloc(a, sizeof *s);
  if (!s) return GF_OOM(err, "a Parquet stream writer");
  gf_status st = pqw_init(&s->w, schema, &lo, po, err);
  if (st == GF_OK) st = gfi_atomic_file_open(path, a, &s->file, err);
  if (st == GF_OK) {
    s->open = true;
    s->w.file = &s->file;
    st = out(&s->w, "PAR1", 4);
  }
  if (st != GF_OK) {
    gfi_pqw_stream_free(s);
    return st;
  }
  *res = s;
  return GF_OK;
}

int64_t gfi_pqw_stream_row_group_rows(const gfi_pqw_stream *s) { return s->w.rg_rows; }

bool gfi_pqw_stream_optional(const gfi_pqw_stream *s, int col) {
  return s->w.cols[col].optional;
}

gf_status gfi_pqw_stream_write(gfi_pqw_stream *s, const gf_frame *f, bool last, gf_error *err) {
  pqw *w = &s->w;
  w->err = err;
  int64_t rows = gf_frame_num_rows(f);
  int64_t n = last ? (rows + w->rg_rows - 1) / w->rg_rows : rows / w->rg_rows;
  if (w->nc == 0) n = 0;
  if (!last && n * w->rg_rows != rows)
    return gf_error_set(err, GF_EINTERNAL, "Parquet stream writer: %lld rows are not whole "
                        "row groups of %lld", (long long)rows, (long long)w->rg_rows);
  GF_RETURN_NOT_OK(write_row_groups(w, f, w->nrg, n));
  w->total_rows += rows;
  return GF_OK;
}

gf_status gfi_pqw_stream_finish(gfi_pqw_stream *s, gf_error *err) {
  s->w.err = err;
  GF_RETURN_NOT_OK(write_tail(&s->w));
  s->open = false;
  return gfi_atomic_file_commit(&s->file, err);
}

void gfi_pqw_stream_free(gfi_pqw_stream *s) {
  if (!s) return;
  const gf_allocator *a = s->w.p.a ? s->w.p.a : gfi_alloc_or_default(s->w.par.allocator);
  if (s->open) gfi_atomic_file_abort(&s->file);
  pqw_release(&s->w);
  gfi_mfree(a, s, sizeof *s);
}
