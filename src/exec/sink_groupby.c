/*
 * The streaming group-by sink (exec/stream_internal.h, docs/STREAMING.md).
 *
 * Batches arrive in input order with the absolute position of their first
 * row, so group ids follow first appearance exactly as gf_group_by's do,
 * and every aggregate sees its group's values in row order. The values
 * equal the eager operator's bit for bit:
 *  - count, min, max, first, last and integer sums do not depend on the
 *    order of combination (min/max keep the first extreme row, with the
 *    eager key order: gfi_gb_load_key);
 *  - float sums and means do. gf_group_by takes one of two paths from the
 *    data alone: with at most 65,536 groups and groups x blocks <= 2^22 it
 *    sums each 65,536-row reduction block (absolute positions) from 0 and
 *    combines the partial sums in block order; otherwise it sums every
 *    group's rows in row order. The sink keeps both (a per-block partial
 *    folded into a combined sum as each block ends, and a running row-order
 *    sum) and picks at the end, when the row and group counts are known,
 *    the one the eager call would have taken. An integer sum's overflow is
 *    tracked both ways likewise.
 * Output columns are built in the types of the eager group-by over an
 * empty frame of the same schema; sort_keys reorders the groups with the
 * eager operator itself; the items of the aggregate list are computed by
 * gf_group_by_list's own second half.
 *
 * Modules: this file (the sink interface, decoding and folding runs of
 * rows, the output), sink_groupby_state.c (string tables, group table,
 * per-group state sizes), sink_groupby_spill.c (the spilled mode); their
 * shared types are in sink_groupby_internal.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "exec/sink_groupby_internal.h"

/* Raw value bits of element i of a fixed-width array: the value of an
 * integer or bool (sign- or zero-extended), the bits of a float. */
static int64_t raw_bits(const gf_array *x, int64_t i) {
  const uint8_t *d = gfi_buf(x, 1);
  int64_t k = x->offset + i;
  switch (x->type.id) {
    case GF_TYPE_BOOL: return gfi_bit_get(d, k);
    case GF_TYPE_INT8: return ((const int8_t *)d)[k];
    case GF_TYPE_INT16: return ((const int16_t *)d)[k];
    case GF_TYPE_INT32: case GF_TYPE_DATE32: return ((const int32_t *)d)[k];
    case GF_TYPE_UINT8: return ((const uint8_t *)d)[k];
    case GF_TYPE_UINT16: return ((const uint16_t *)d)[k];
    case GF_TYPE_UINT32: return ((const uint32_t *)d)[k];
    case GF_TYPE_FLOAT32: {
      uint32_t u;
      memcpy(&u, d + 4 * k, 4);
      return (int64_t)u;
    }
    default: {
      int64_t v;
      memcpy(&v, d + 8 * k, 8);
      return v;
    }
  }
}

/* Folds an aggregate's open block partial into its combined sum (the
 * eager block path's combine, in block order). */
static void close_block(const acol *c, st_sum *s) {
  if (s->blk < 0) return;
  if (s->pn) {
    if (c->isfloat) s->c.f = s->cn ? s->c.f + s->p.f : s->p.f;
    else s->ovf_blk |= __builtin_add_overflow(s->c.i, s->p.i, &s->c.i);
    s->cn += s->pn;
  } else if (!c->isfloat) {
    s->ovf_blk |= __builtin_add_overflow(s->c.i, s->p.i, &s->c.i);
  }
  s->pn = 0;
  if (c->isfloat) s->p.f = 0.0;
  else s->p.i = 0;
  s->blk = -1;
}

/* ---- push ----------------------------------------------------------------- */

/* Decodes rows [lo, lo + len) of batch b, at absolute position `pos0` (of
 * row lo), into the record columns g->rc (len <= SUBN): what folding them
 * into the groups needs, and all that a spilled run keeps of them. */
static gf_status decode_run(gbsink *g, const gf_frame *f, int b, int64_t lo, int64_t len,
                            int64_t pos0, gf_error *err) {
  const gf_allocator *a = g->a;
  int nk = g->nkeys;
  uint64_t kb[SUBN * 8];
  int64_t kr[SUBN * 8];
  uint8_t kv[SUBN * 8];
  bool knull[8];
  if (nk > 8) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: more than 8 keys");
  for (int k = 0; k < nk; k++) {
    const gf_array *x = gf_frame_column(f, b, g->kc[k].col);
    knull[k] = gfi_gb_load_valid(x, lo, len, NULL, 0, kv + (size_t)k * SUBN);
    if (g->kc[k].kind == 0) {
      gfi_key_load_bits(x, lo, len, kb + (size_t)k * SUBN);
      for (int64_t j = 0; j < len; j++) kr[(size_t)k * SUBN + (size_t)j] = raw_bits(x, lo + j);
    } else if (g->kc[k].kind == 1) {
      const int32_t *o = (const int32_t *)gfi_buf(x, 1);
      const char *s = (const char *)gfi_buf(x, 2);
      for (int64_t j = 0; j < len; j++) {
        int64_t e = x->offset + lo + j, id = 0;
        if (!knull[k] || kv[(size_t)k * SUBN + (size_t)j])
          GF_RETURN_NOT_OK(gfi_gbs_strtab_id(a, &g->kc[k].st, s + o[e], o[e + 1] - o[e], &id, err));
        kb[(size_t)k * SUBN + (size_t)j] = (uint64_t)id;
        kr[(size_t)k * SUBN + (size_t)j] = id;
      }
    } else {
      /* Dictionary: equal values, equal keys, whatever the batch's
       * dictionary; the output keeps the code (stable across batches). */
      const gf_array *d = x->dictionary;
      if (!g->kc[k].dict_fixed && g->kc[k].dict != d) {
        if (g->kc[k].dict) g->kc[k].mixed = true;
        gf_array_release(g->kc[k].dict);
        g->kc[k].dict = gf_array_retain((gf_array *)d);
      }
      const int32_t *codes = (const int32_t *)gfi_buf(x, 1);
      const int32_t *o = d ? (const int32_t *)gfi_buf(d, 1) : NULL;
      const char *s = d ? (const char *)gfi_buf(d, 2) : NULL;
      for (int64_t j = 0; j < len; j++) {
        int64_t e = x->offset + lo + j, id = 0;
        int32_t c = codes ? codes[e] : 0;
        bool valid = (!knull[k] || kv[(size_t)k * SUBN + (size_t)j]) && d && c >= 0 && c < d->length;
        if (valid && !gfi_is_valid(d, c)) valid = false;
        if (valid) {
          int64_t de = d->offset + c;
          GF_RETURN_NOT_OK(gfi_gbs_strtab_id(a, &g->kc[k].st, s + o[de], o[de + 1] - o[de], &id, err));
        } else {
          if (!knull[k]) {
            memset(kv + (size_t)k * SUBN, 1, (size_t)len);
            knull[k] = true;
          }
          kv[(size_t)k * SUBN + (size_t)j] = 0;
        }
        kb[(size_t)k * SUBN + (size_t)j] = (uint64_t)id;
        kr[(size_t)k * SUBN + (size_t)j] = c;
      }
    }
  }
  int64_t **rc = g->rc;
  for (int64_t j = 0; j < len; j++) {
    uint64_t nulls = 0;
    for (int k = 0; k < nk; k++) {
      bool valid = !knull[k] || kv[(size_t)k * SUBN + (size_t)j];
      rc[RC_KEY(g, k)][j] = valid ? (int64_t)kb[(size_t)k * SUBN + (size_t)j] : 0;
      rc[RC_RAW(g, k)][j] = valid ? kr[(size_t)k * SUBN + (size_t)j] : 0;
      if (!valid) nulls |= UINT64_C(1) << k;
    }
    rc[RC_POS][j] = pos0 + j;
    rc[RC_NULLS][j] = (int64_t)nulls;
    rc[RC_VM(g)][j] = 0;
  }
  /* Aggregate inputs: zeros under nulls (a spilled run holds no garbage). */
  for (int i = 0; i < g->naggs; i++) {
    acol *c = &g->ac[i];
    int64_t *av = rc[RC_AV(g, i)], *ar = rc[RC_AR(g, i)];
    memset(av, 0, sizeof *av * (size_t)len);
    memset(ar, 0, sizeof *ar * (size_t)len);
    if (c->kind == GF_AGG_COUNT_ALL) continue;
    const gf_array *x = gf_frame_column(f, b, c->col);
    uint8_t valid[SUBN];
    bool nulls = gfi_gb_load_valid(x, lo, len, NULL, 0, valid);
    uint64_t bit = UINT64_C(1) << i;
    for (int64_t j = 0; j < len; j++)
      if (!nulls || valid[j]) rc[RC_VM(g)][j] |= (int64_t)bit;
    if (c->kind == GF_AGG_COUNT) continue;
    if (c->kind == GF_AGG_SUM || c->kind == GF_AGG_MEAN) {
      if (c->isfloat) {
        double v[SUBN];
        gfi_gb_load_f64(x, lo, len, NULL, 0, v);
        for (int64_t j = 0; j < len; j++)
          if (!nulls || valid[j]) memcpy(&av[j], &v[j], 8);
      } else {
        int64_t v[SUBN];
        gfi_gb_load_i64(x, lo, len, NULL, 0, v);
        for (int64_t j = 0; j < len; j++)
          if (!nulls || valid[j]) av[j] = v[j];
      }
      continue;
    }
    if (c->kind == GF_AGG_MIN || c->kind == GF_AGG_MAX) {
      int64_t key[SUBN];
      gfi_gb_load_key(x, lo, len, NULL, 0, NULL, key);
      for (int64_t j = 0; j < len; j++)
        if (!nulls || valid[j]) {
          av[j] = key[j];
          ar[j] = raw_bits(x, lo + j);
        }
      continue;
    }
    for (int64_t j = 0; j < len; j++)
      if (!nulls || valid[j]) ar[j] = raw_bits(x, lo + j);
  }
  return GF_OK;
}

/* Folds n decoded rows (record columns rc, each row at its own absolute
 * position, positions increasing) into the groups: group ids first (new
 * groups in order of appearance), then every aggregate row by row. */
gf_status gfi_gbs_fold_run(gbsink *g, int64_t *const *rc, int64_t n, gf_error *err) {
  int nk = g->nkeys;
  int64_t *gid = g->gid;
  const int64_t *pos = rc[RC_POS];
  for (int64_t j = 0; j < n; j++) {
    uint64_t key[8];
    int64_t raw[8];
    for (int k = 0; k < nk; k++) {
      key[k] = (uint64_t)rc[RC_KEY(g, k)][j];
      raw[k] = rc[RC_RAW(g, k)][j];
    }
    GF_RETURN_NOT_OK(gfi_gbs_group_of(g, key, (uint64_t)rc[RC_NULLS][j], raw, pos[j], &gid[j], err));
    g->grows[gid[j]]++;
  }
  const int64_t *vm = rc[RC_VM(g)];
  for (int i = 0; i < g->naggs; i++) {
    acol *c = &g->ac[i];
    if (c->kind == GF_AGG_COUNT_ALL) continue;
    const int64_t *av = rc[RC_AV(g, i)], *ar = rc[RC_AR(g, i)];
    uint64_t bit = UINT64_C(1) << i;
    if (c->kind == GF_AGG_COUNT) {
      for (int64_t j = 0; j < n; j++) *cnt_at(c, gid[j]) += ((uint64_t)vm[j] & bit) != 0;
      continue;
    }
    if (c->kind == GF_AGG_SUM || c->kind == GF_AGG_MEAN) {
      for (int64_t j = 0; j < n; j++) {
        st_sum *s = sum_at(c, gid[j]);
        int64_t blk = pos[j] / GF_REDUCTION_BLOCK_ROWS;
        if (s->blk != blk) {
          close_block(c, s);
          s->blk = blk;
        }
        bool ok = ((uint64_t)vm[j] & bit) != 0;
        if (c->isfloat) {
          double v;
          memcpy(&v, &av[j], 8);
          double add = ok ? v : -0.0;
          s->p.f += add;
          s->r.f += add;
        } else {
          int64_t add = ok ? av[j] : 0;
          if (c->isu64 && ok && av[j] < 0) s->ovf_row = s->ovf_blk = true;
          s->ovf_blk |= __builtin_add_overflow(s->p.i, add, &s->p.i);
          s->ovf_row |= __builtin_add_overflow(s->r.i, add, &s->r.i);
        }
        s->pn += ok;
        s->n += ok;
      }
      continue;
    }
    if (c->kind == GF_AGG_MIN || c->kind == GF_AGG_MAX) {
      bool mx = c->kind == GF_AGG_MAX;
      for (int64_t j = 0; j < n; j++) {
        if (!((uint64_t)vm[j] & bit)) continue;
        st_ext *s = ext_at(c, gid[j]);
        if (!s->has || (mx ? av[j] > s->key : av[j] < s->key)) {
          s->has = true;
          s->key = av[j];
          s->val = ar[j];
        }
      }
      continue;
    }
    /* first / last */
    bool last = c->kind == GF_AGG_LAST;
    for (int64_t j = 0; j < n; j++) {
      if (!((uint64_t)vm[j] & bit)) continue;
      st_pick *s = pick_at(c, gid[j]);
      if (last || !s->has) {
        s->has = true;
        s->val = ar[j];
      }
    }
  }
  return GF_OK;
}


/* ---- push ----------------------------------------------------------------- */

static gf_status gb_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  gbsink *g = k->state;
  int64_t at = pos;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    int64_t n = gf_frame_batch_rows(f, b);
    for (int64_t lo = 0; lo < n; lo += SUBN) {
      int64_t len = n - lo < SUBN ? n - lo : SUBN;
      GF_RETURN_NOT_OK(decode_run(g, f, b, lo, len, at + lo, err));
      if (!g->sp) {
        bool spill = false;
        GF_RETURN_NOT_OK(gfi_gbs_room_for(g, len, &spill, err));
        if (spill) GF_RETURN_NOT_OK(gfi_gbs_spill_start(g, err));
      }
      if (g->sp) GF_RETURN_NOT_OK(gfi_gbs_spill_rows(g, len, err));
      else GF_RETURN_NOT_OK(gfi_gbs_fold_run(g, g->rc, len, err));
    }
    at += n;
  }
  g->rows = at;
  return gfi_check_stop(g->po, 0, NULL, err);
}

/* A fixed-width array of type t from raw bits vals[] (valid[] bytes). */
static gf_status make_fixed(const gf_allocator *a, gf_datatype t, const int64_t *vals,
                            const uint8_t *valid, int64_t n, gf_array **out, gf_error *err) {
  gf_buffer *b[3] = {NULL, NULL, NULL};
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; i++) nulls += !valid[i];
  bool isbool = t.id == GF_TYPE_BOOL;
  int w = isbool ? 0 : gfi_type_byte_width(t);
  size_t bytes = isbool ? (size_t)gfi_bitmap_bytes(n) : (size_t)w * (size_t)n;
  if (gfi_buffer_alloc(a, bytes ? bytes : 1, &b[1]) != GF_OK) return GF_OOM(err, "group-by output");
  uint8_t *d = gf_buffer_mutable_data(b[1]);
  memset(d, 0, bytes ? bytes : 1);
  if (nulls) {
    size_t vb = (size_t)gfi_bitmap_bytes(n);
    if (gfi_buffer_alloc(a, vb ? vb : 1, &b[0]) != GF_OK) {
      gf_buffer_release(b[1]);
      return GF_OOM(err, "group-by output");
    }
    memset(gf_buffer_mutable_data(b[0]), 0, vb ? vb : 1);
  }
  uint8_t *vbits = b[0] ? gf_buffer_mutable_data(b[0]) : NULL;
  for (int64_t i = 0; i < n; i++) {
    int64_t v = valid[i] ? vals[i] : 0;
    if (vbits && valid[i]) gfi_bit_set(vbits, i);
    if (isbool) {
      if (v) gfi_bit_set(d, i);
    } else if (w == 1) {
      int8_t x = (int8_t)v;
      memcpy(d + i, &x, 1);
    } else if (w == 2) {
      int16_t x = (int16_t)v;
      memcpy(d + 2 * i, &x, 2);
    } else if (w == 4) {
      int32_t x = (int32_t)v;
      memcpy(d + 4 * i, &x, 4);
    } else {
      memcpy(d + 8 * i, &v, 8);
    }
  }
  return gfi_array_make(a, t, n, 0, nulls, b, NULL, out, err);
}

/* A utf8 array of the strings ids[] of table t. */
static gf_status make_utf8(const gf_allocator *a, const strtab *t, const int64_t *ids,
                           const uint8_t *valid, int64_t n, gf_array **out, gf_error *err) {
  int64_t bytes = 0, nulls = 0;
  for (int64_t i = 0; i < n; i++) {
    if (valid[i]) bytes += t->off[ids[i] + 1] - t->off[ids[i]];
    else nulls++;
  }
  if (bytes > INT32_MAX) return gf_error_set(err, GF_ENOTSUP, "group-by keys exceed 2 GiB");
  gf_buffer *b[3] = {NULL, NULL, NULL};
  size_t vb = (size_t)gfi_bitmap_bytes(n);
  if (gfi_buffer_alloc(a, sizeof(int32_t) * (size_t)(n + 1), &b[1]) != GF_OK ||
      gfi_buffer_alloc(a, (size_t)(bytes ? bytes : 1), &b[2]) != GF_OK ||
      (nulls && gfi_buffer_alloc(a, vb ? vb : 1, &b[0]) != GF_OK)) {
    for (int i = 0; i < 3; i++) gf_buffer_release(b[i]);
    return GF_OOM(err, "group-by output");
  }
  int32_t *o = gf_buffer_mutable_data(b[1]);
  char *s = gf_buffer_mutable_data(b[2]);
  uint8_t *v = b[0] ? gf_buffer_mutable_data(b[0]) : NULL;
  if (v) memset(v, 0, vb ? vb : 1);
  int64_t at = 0;
  o[0] = 0;
  for (int64_t i = 0; i < n; i++) {
    if (valid[i]) {
      int64_t l = t->off[ids[i] + 1] - t->off[ids[i]];
      memcpy(s + at, t->bytes + t->off[ids[i]], (size_t)l);
      at += l;
      if (v) gfi_bit_set(v, i);
    }
    o[i + 1] = (int32_t)at;
  }
  return gfi_array_make(a, gf_type(GF_TYPE_UTF8), n, 0, nulls, b, NULL, out, err);
}

/* A dictionary array of codes[] over `dict`. */
static gf_status make_dict(const gf_allocator *a, gf_datatype t, gf_array *dict, const int64_t *codes,
                           const uint8_t *valid, int64_t n, gf_array **out, gf_error *err) {
  gf_array *c = NULL;
  GF_RETURN_NOT_OK(make_fixed(a, gf_type(GF_TYPE_INT32), codes, valid, n, &c, err));
  gf_buffer *b[3] = {gf_buffer_retain(c->buffers[0]), gf_buffer_retain(c->buffers[1]), NULL};
  gf_status st = gfi_array_make(a, t, n, 0, c->null_count, b, dict, out, err);
  gf_array_release(c);
  return st;
}

/* The eager group-by over an empty frame of the sink's input: the output
 * schema (and the whole answer for no rows). */
gf_status gfi_gbs_empty_agg(gbsink *g, gf_frame **out, gf_error *err) {
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  go.parallel = g->po;
  gf_frame *empty = NULL;
  gf_status st = gf_frame_new(g->schema, NULL, 0, g->a, &empty, err);
  if (st == GF_OK)
    st = gfi_group_by_named(empty, (const char *const *)g->keys, g->nkeys, g->specs, g->naggs,
                            g->inames, &go, out, err);
  gf_frame_release(empty);
  return st;
}

/* The aggregated frame (schema os) of groups [0, G) of the table; float
 * and integer sums take the block path when `blockpath` (decided from the
 * whole result's group and row counts). */
gf_status gfi_gbs_build_agg(gbsink *g, const gf_schema *os, int64_t G, bool blockpath,
                            gf_frame **out, gf_error *err) {
  const gf_allocator *a = g->a;
  gf_status st = GF_OK;
  int nc = gf_schema_num_fields(os);
  gf_array **cols = gfi_calloc(a, sizeof *cols * (size_t)(nc ? nc : 1));
  int64_t *vals = gfi_malloc(a, sizeof *vals * (size_t)(G ? G : 1));
  uint8_t *valid = gfi_malloc(a, (size_t)(G ? G : 1));
  if (!cols || !vals || !valid) st = GF_OOM(err, "group-by output");
  size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
  for (int j = 0; j < nc && st == GF_OK; j++) {
    gf_datatype t = gf_schema_field(os, j)->type;
    if (j < g->nkeys) {
      kcol *kc = &g->kc[j];
      for (int64_t q = 0; q < G; q++) {
        valid[q] = !(g->gnull[q] >> j & 1);
        vals[q] = kc->ri >= 0 ? g->graw[(size_t)q * (size_t)g->nraw + (size_t)kc->ri]
                              : (int64_t)g->gkey[(size_t)q * nk + (size_t)j];
      }
      if (kc->kind == 0) st = make_fixed(a, t, vals, valid, G, &cols[j], err);
      else if (kc->kind == 1) st = make_utf8(a, &kc->st, vals, valid, G, &cols[j], err);
      else if (kc->dict_fixed || !kc->mixed) st = make_dict(a, t, kc->dict, vals, valid, G, &cols[j], err);
      else {
        /* Batches with dictionaries of their own (codes not comparable):
         * a dictionary of the values met (built once: every batch of a
         * spilled result shares it), codes = their ids. */
        if (!kc->mdict) {
          int64_t *ids = gfi_malloc(a, sizeof *ids * (size_t)(kc->st.n ? kc->st.n : 1));
          uint8_t *all = gfi_malloc(a, (size_t)(kc->st.n ? kc->st.n : 1));
          if (!ids || !all) st = GF_OOM(err, "group-by output");
          for (int64_t i = 0; st == GF_OK && i < kc->st.n; i++) {
            ids[i] = i;
            all[i] = 1;
          }
          if (st == GF_OK) st = make_utf8(a, &kc->st, ids, all, kc->st.n, &kc->mdict, err);
          if (ids) gfi_mfree(a, ids, sizeof *ids * (size_t)(kc->st.n ? kc->st.n : 1));
          if (all) gfi_mfree(a, all, (size_t)(kc->st.n ? kc->st.n : 1));
        }
        for (int64_t q = 0; st == GF_OK && q < G; q++) vals[q] = (int64_t)g->gkey[(size_t)q * nk + (size_t)j];
        if (st == GF_OK) st = make_dict(a, t, kc->mdict, vals, valid, G, &cols[j], err);
      }
      continue;
    }
    acol *c = &g->ac[j - g->nkeys];
    for (int64_t q = 0; q < G && st == GF_OK; q++) {
      switch (c->kind) {
        case GF_AGG_COUNT_ALL: vals[q] = g->grows[q]; valid[q] = 1; break;
        case GF_AGG_COUNT: vals[q] = *cnt_at(c, q); valid[q] = 1; break;
        case GF_AGG_MIN:
        case GF_AGG_MAX: valid[q] = ext_at(c, q)->has; vals[q] = ext_at(c, q)->val; break;
        case GF_AGG_SUM:
        case GF_AGG_MEAN: {
          st_sum *s = sum_at(c, q);
          close_block(c, s);
          valid[q] = s->n > 0;
          if (c->isfloat) {
            double sum = blockpath ? s->c.f : s->r.f;
            double r = c->kind == GF_AGG_MEAN ? (s->n ? sum / (double)s->n : 0.0) : sum;
            memcpy(&vals[q], &r, 8);
          } else {
            if (blockpath ? s->ovf_blk : s->ovf_row) {
              st = gf_error_set(err, GF_ERANGE, "integer overflow in %s: the sum does not fit in int64",
                                gf_schema_field(os, j)->name);
              break;
            }
            vals[q] = blockpath ? s->c.i : s->r.i;
          }
          break;
        }
        default: valid[q] = pick_at(c, q)->has; vals[q] = pick_at(c, q)->val; break;
      }
    }
    if (st == GF_OK) st = make_fixed(a, t, vals, valid, G, &cols[j], err);
  }
  if (st == GF_OK) st = gf_frame_new((gf_schema *)os, cols, 1, a, out, err);
  for (int j = 0; cols && j < nc; j++) gf_array_release(cols[j]);
  if (cols) gfi_mfree(a, cols, sizeof *cols * (size_t)(nc ? nc : 1));
  if (vals) gfi_mfree(a, vals, sizeof *vals * (size_t)(G ? G : 1));
  if (valid) gfi_mfree(a, valid, (size_t)(G ? G : 1));
  return st;
}

/* Whether the eager operator would take its block path for G groups. */
bool gfi_gbs_block_path(const gbsink *g, int64_t G) {
  int64_t nblocks = gf_reduction_blocks(g->rows);
  if (nblocks < 1) nblocks = 1;
  return G <= BLOCK_MAX_HANDLES && G * nblocks <= BLOCK_MAX_CELLS;
}

/* The in-memory result: the groups' frame, sorted by key when asked, and
 * the aggregate list's items over it. */
static gf_status gb_finish_mem(gbsink *g, gf_frame **out, gf_error *err) {
  const gf_allocator *a = g->a;
  gf_frame *e_out = NULL;
  GF_RETURN_NOT_OK(gfi_gbs_empty_agg(g, &e_out, err));
  gf_status st = GF_OK;
  gf_frame *agg = NULL;
  if (g->rows == 0) {
    agg = e_out;
    e_out = NULL;
  } else {
    int64_t G = g->ng;
    st = gfi_gbs_build_agg(g, gf_frame_schema(e_out), G, gfi_gbs_block_path(g, G), &agg, err);
    if (st == GF_OK && g->sort_keys && g->nkeys > 0 && G > 1) {
      /* The eager operator orders the groups: first() of each single-row
       * group is its value. */
      gf_agg_spec *fs = gfi_calloc(a, sizeof *fs * (size_t)(g->naggs ? g->naggs : 1));
      if (!fs) st = GF_OOM(err, "group-by sort");
      for (int i = 0; st == GF_OK && i < g->naggs; i++) {
        fs[i].kind = GF_AGG_FIRST;
        fs[i].column = g->inames[i];
      }
      gf_frame *sorted = NULL;
      gf_groupby_options so;
      gf_groupby_options_init(&so);
      so.parallel = g->po;
      so.sort_keys = true;
      if (st == GF_OK)
        st = gfi_group_by_named(agg, (const char *const *)g->keys, g->nkeys, fs, g->naggs, g->inames,
                                &so, &sorted, err);
      if (fs) gfi_mfree(a, fs, sizeof *fs * (size_t)(g->naggs ? g->naggs : 1));
      if (st == GF_OK) {
        gf_frame_release(agg);
        agg = sorted;
      }
    }
  }
  gf_frame_release(e_out);
  if (st == GF_OK) st = gfi_group_by_list_post(agg, (const char *const *)g->keys, g->nkeys, g->list, g->po,
                                               out, err);
  gf_frame_release(agg);
  return st;
}



/* finish_into (exec/stream_internal.h): a spilled result is merged into
 * `next` batch by batch (never whole in memory); an in-memory one is
 * built and pushed as one frame. */
static gf_status gb_finish_into(gfi_sink *k, gfi_sink *next, gf_error *err) {
  gbsink *g = k->state;
  if (g->sp) {
    GF_RETURN_NOT_OK(gfi_gbs_spill_aggregate(g, err));
    return gfi_gbs_spill_emit(g, next, err);
  }
  gf_frame *res = NULL;
  GF_RETURN_NOT_OK(gb_finish_mem(g, &res, err));
  gf_status st = gf_frame_num_rows(res) > 0 ? next->push(next, res, 0, err) : GF_OK;
  gf_frame_release(res);
  return st;
}

gf_status gfi_sink_group_by_schema(gfi_sink *k, gf_schema **out, gf_error *err) {
  gbsink *g = k->state;
  gf_frame *e_out = NULL, *e_post = NULL;
  gf_status st = gfi_gbs_empty_agg(g, &e_out, err);
  if (st == GF_OK)
    st = gfi_group_by_list_post(e_out, (const char *const *)g->keys, g->nkeys, g->list, g->po, &e_post, err);
  if (st == GF_OK) *out = gf_schema_retain(gf_frame_schema(e_post));
  gf_frame_release(e_out);
  gf_frame_release(e_post);
  return st;
}

static gf_status gb_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  gbsink *g = k->state;
  if (!g->sp) return gb_finish_mem(g, out, err);
  /* Spilled: the merged batches collected into one frame. */
  gf_schema *os = NULL;
  gfi_sink *c = NULL;
  gf_status st = gfi_sink_group_by_schema(k, &os, err);
  if (st == GF_OK) st = gfi_sink_collect(os, g->a, &c, err);
  if (st == GF_OK) st = gb_finish_into(k, c, err);
  if (st == GF_OK) st = c->finish(c, out, err);
  if (c) c->free(c);
  gf_schema_release(os);
  return st;
}

/* ---- construction --------------------------------------------------------- */

static void gb_free(gfi_sink *k) {
  if (!k) return;
  gbsink *g = k->state;
  if (g) {
    const gf_allocator *a = g->a;
    size_t nk = (size_t)(g->nkeys ? g->nkeys : 1);
    gfi_gbs_spill_free(g);
    for (int i = 0; g->kc && i < g->nkeys; i++) {
      gfi_gbs_strtab_free(a, &g->kc[i].st);
      gf_array_release(g->kc[i].dict);
      gf_array_release(g->kc[i].mdict);
    }
    for (int i = 0; g->rc && i < g->nrc; i++)
      if (g->rc[i]) gfi_mfree(a, g->rc[i], sizeof(int64_t) * SUBN);
    if (g->rc) gfi_mfree(a, g->rc, sizeof *g->rc * (size_t)g->nrc);
    if (g->gid) gfi_mfree(a, g->gid, sizeof *g->gid * SUBN);
    for (int i = 0; g->keys && i < g->nkeys; i++)
      if (g->keys[i]) gfi_mfree(a, g->keys[i], strlen(g->keys[i]) + 1);
    if (g->keys) gfi_mfree(a, g->keys, sizeof *g->keys * nk);
    if (g->kc) gfi_mfree(a, g->kc, sizeof *g->kc * nk);
    for (int i = 0; g->ac && i < g->naggs; i++)
      if (g->ac[i].s) gfi_mfree(a, g->ac[i].s, g->ac[i].ssz * (size_t)g->gcap);
    if (g->ac) gfi_mfree(a, g->ac, sizeof *g->ac * (size_t)(g->naggs ? g->naggs : 1));
    if (g->gcap) {
      gfi_mfree(a, g->gkey, sizeof *g->gkey * (size_t)g->gcap * nk);
      gfi_mfree(a, g->gnull, sizeof *g->gnull * (size_t)g->gcap);
      gfi_mfree(a, g->graw, gfi_gbs_raw_bytes(g, g->gcap));
      gfi_mfree(a, g->grows, sizeof *g->grows * (size_t)g->gcap);
      gfi_mfree(a, g->gfirst, sizeof *g->gfirst * (size_t)g->gcap);
    }
    if (g->slots) gfi_mfree(a, g->slots, sizeof *g->slots * (size_t)g->nslots);
    gf_schema_release(g->schema);
    gfi_mfree(a, g, sizeof *g);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

void gfi_sink_group_by_set_dictionary(gfi_sink *k, int c, gf_array *dict) {
  gbsink *g = k->state;
  for (int i = 0; i < g->nkeys; i++)
    if (g->kc[i].col == c && g->kc[i].kind == 2 && dict) {
      gf_array_release(g->kc[i].dict);
      g->kc[i].dict = gf_array_retain(dict);
      g->kc[i].dict_fixed = true;
    }
}

static bool is_int(gf_type_id id) {
  return id == GF_TYPE_INT8 || id == GF_TYPE_INT16 || id == GF_TYPE_INT32 || id == GF_TYPE_INT64 ||
         id == GF_TYPE_UINT8 || id == GF_TYPE_UINT16 || id == GF_TYPE_UINT32 || id == GF_TYPE_UINT64;
}

gf_status gfi_sink_group_by(const gf_schema *schema, const char *const *keys, int nkeys,
                            const gf_agg_list *aggs, bool sort_keys,
                            const gf_parallel_options *po, gfi_sink **out, gf_error *err) {
  const gf_agg_spec *specs;
  const char *const *inames;
  int nspecs;
  gfi_agg_list_specs(aggs, &specs, &nspecs, &inames);
  if (nkeys > 8) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: more than 8 keys");
  /* What the sink supports; the rest runs eagerly. */
  for (int i = 0; i < nkeys; i++) {
    int c = gf_schema_find(schema, keys[i]);
    if (c < 0) return gf_error_set(err, GF_EINVAL, "group-by: unknown key '%.300s'", keys[i]);
    gf_datatype t = gf_schema_field(schema, c)->type;
    bool ok = is_int(t.id) || t.id == GF_TYPE_BOOL || t.id == GF_TYPE_FLOAT32 ||
              t.id == GF_TYPE_FLOAT64 || t.id == GF_TYPE_DATE32 || t.id == GF_TYPE_UTF8 ||
              (t.id == GF_TYPE_DICTIONARY && t.value_id == GF_TYPE_UTF8);
    if (!ok) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: key type not supported");
  }
  for (int i = 0; i < nspecs; i++) {
    const gf_agg_spec *sp = &specs[i];
    if (sp->kind == GF_AGG_COUNT_ALL) continue;
    int c = sp->column ? gf_schema_find(schema, sp->column) : -1;
    if (c < 0) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: unknown column");
    gf_type_id id = gf_schema_field(schema, c)->type.id;
    bool num = is_int(id) || id == GF_TYPE_FLOAT32 || id == GF_TYPE_FLOAT64;
    bool ok;
    switch (sp->kind) {
      case GF_AGG_COUNT: ok = true; break;
      case GF_AGG_SUM: case GF_AGG_MEAN: ok = num; break;
      case GF_AGG_MIN: case GF_AGG_MAX: case GF_AGG_FIRST: case GF_AGG_LAST:
        ok = num || id == GF_TYPE_BOOL;
        break;
      default: ok = false; break;
    }
    if (!ok) return gf_error_set(err, GF_ENOTSUP, "streaming group-by: aggregate not supported");
  }
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_sink *k = gfi_calloc(NULL, sizeof *k);
  gbsink *g = gfi_calloc(a, sizeof *g);
  if (!k || !g) {
    if (k) gfi_mfree(NULL, k, sizeof *k);
    if (g) gfi_mfree(a, g, sizeof *g);
    return GF_OOM(err, "a group-by sink");
  }
  k->state = g;
  k->push = gb_push;
  k->finish = gb_finish;
  k->free = gb_free;
  k->finish_into = gb_finish_into;
  g->a = a;
  g->po = po;
  g->schema = gf_schema_retain((gf_schema *)schema);
  g->list = aggs;
  g->specs = specs;
  g->inames = inames;
  g->sort_keys = sort_keys;
  size_t nk = (size_t)(nkeys ? nkeys : 1);
  g->keys = gfi_calloc(a, sizeof *g->keys * nk);
  g->kc = gfi_calloc(a, sizeof *g->kc * nk);
  g->ac = gfi_calloc(a, sizeof *g->ac * (size_t)(nspecs ? nspecs : 1));
  gf_status st = g->keys && g->kc && g->ac ? GF_OK : GF_OOM(err, "a group-by sink");
  if (st == GF_OK) {
    g->nkeys = nkeys;
    g->naggs = nspecs;
  }
  for (int i = 0; i < nkeys && st == GF_OK; i++) {
    size_t n = strlen(keys[i]) + 1;
    g->keys[i] = gfi_malloc(a, n);
    if (!g->keys[i]) {
      st = GF_OOM(err, "a group-by sink");
      break;
    }
    memcpy(g->keys[i], keys[i], n);
    int c = gf_schema_find(schema, keys[i]);
    gf_datatype t = gf_schema_field(schema, c)->type;
    g->kc[i].col = c;
    g->kc[i].kind = t.id == GF_TYPE_UTF8 ? 1 : t.id == GF_TYPE_DICTIONARY ? 2 : 0;
    /* Integer, bool and date keys' equality bits are their raw values
     * (both sign- or zero-extended: gfi_key_load_bits, raw_bits), utf8
     * ids likewise; floats (normalised -0.0/NaN) and dictionary codes
     * keep their raw values apart. */
    bool same = g->kc[i].kind == 1 ||
                (g->kc[i].kind == 0 && t.id != GF_TYPE_FLOAT32 && t.id != GF_TYPE_FLOAT64);
    g->kc[i].ri = same ? -1 : g->nraw++;
  }
  for (int i = 0; i < nspecs && st == GF_OK; i++) {
    acol *c = &g->ac[i];
    c->kind = specs[i].kind;
    c->col = c->kind == GF_AGG_COUNT_ALL ? -1 : gf_schema_find(schema, specs[i].column);
    if (c->col >= 0) {
      c->type = gf_schema_field(schema, c->col)->type;
      c->isu64 = c->type.id == GF_TYPE_UINT64;
      c->isfloat = c->type.id == GF_TYPE_FLOAT32 || c->type.id == GF_TYPE_FLOAT64 ||
                   c->kind == GF_AGG_MEAN;
    }
    c->ssz = gfi_gbs_state_size(c->kind);
  }
  if (st == GF_OK) {
    /* The decoded run's record columns (RC_*) and group ids. */
    int nrc = 3 + 2 * nkeys + 2 * nspecs;
    g->rc = gfi_calloc(a, sizeof *g->rc * (size_t)nrc);
    g->gid = gfi_malloc(a, sizeof *g->gid * SUBN);
    if (!g->rc || !g->gid) st = GF_OOM(err, "a group-by sink");
    else g->nrc = nrc;
    for (int i = 0; st == GF_OK && i < nrc; i++)
      if (!(g->rc[i] = gfi_malloc(a, sizeof(int64_t) * SUBN))) st = GF_OOM(err, "a group-by sink");
  }
  if (st != GF_OK) {
    gb_free(k);
    return st;
  }
  *out = k;
  return GF_OK;
}
