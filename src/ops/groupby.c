/*
 * gf_group_by: resolves the aggregate specs, chooses the grouping and
 * aggregation paths (groupby_internal.h) from the data only (never from the
 * worker count, so results cannot depend on it), orders the groups and
 * builds the output frame.
 */
#include <stdio.h>
#include <string.h>

#include "data/builder_internal.h"
#include "exec/exec_internal.h"
#include "exec/arena.h"
#include "ops/groupby_internal.h"

/* Block path limits: direct slots / groups and partial states overall. */
#define BLOCK_MAX_HANDLES 65536
#define BLOCK_MAX_CELLS (INT64_C(1) << 22)

void gf_groupby_options_init(gf_groupby_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
}

static const char *kind_name(gf_agg_kind k) {
  static const char *const names[] = {"count", "count", "sum", "mean", "min", "max", "first", "last",
                                      "var", "std", "median", "quantile", "n_unique", "corr", "top_k"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

static bool is_temporal(gf_type_id id) { return id >= GF_TYPE_DATE32 && id <= GF_TYPE_DURATION; }

static char *dup_str(const gf_allocator *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *d = gfi_malloc(a, n);
  if (d) memcpy(d, s, n);
  return d;
}

static void free_aggs(gb_agg *aggs, int n, const gf_allocator *a) {
  if (!aggs) return;
  for (int i = 0; i < n; i++) {
    gfi_gb_agg_free_results(&aggs[i], a);
    if (aggs[i].rank) gfi_mfree(a, aggs[i].rank, sizeof *aggs[i].rank * (size_t)(aggs[i].rank_n ? aggs[i].rank_n : 1));
    if (aggs[i].name) gfi_mfree(a, aggs[i].name, strlen(aggs[i].name) + 1);
  }
  gfi_mfree(a, aggs, sizeof *aggs * (size_t)(n ? n : 1));
}

/* Checks one spec against the schema and fills `ag`. */
static gf_status resolve(const gf_frame *f, const gf_agg_spec *sp, const char *name, gb_agg *ag,
                         const gf_allocator *a, gf_error *err) {
  memset(ag, 0, sizeof *ag);
  ag->kind = sp->kind;
  ag->col = ag->col2 = -1;
  ag->q = sp->q;
  ag->k = sp->k;
  if ((unsigned)sp->kind > GF_AGG_TOP_K)
    return gf_error_set(err, GF_EINVAL, "group-by: unknown aggregate kind %d", (int)sp->kind);
  char defname[600];
  const char *kn = kind_name(sp->kind);
  if (sp->kind != GF_AGG_COUNT_ALL) {
    if (!sp->column) return gf_error_set(err, GF_EINVAL, "%s: missing input column", kn);
    ag->col = gf_schema_find(f->schema, sp->column);
    if (ag->col < 0) return gf_error_set(err, GF_EINVAL, "%s: unknown column '%.300s'", kn, sp->column);
    ag->type = f->schema->fields[ag->col].type;
    ag->vc = gfi_gb_value_class(ag->type);
  } else {
    ag->type = gf_type(GF_TYPE_INT64);
    ag->vc = GB_VC_INT;
  }
  if (sp->kind == GF_AGG_CORR) {
    if (!sp->column2) return gf_error_set(err, GF_EINVAL, "corr: missing second column");
    ag->col2 = gf_schema_find(f->schema, sp->column2);
    if (ag->col2 < 0) return gf_error_set(err, GF_EINVAL, "corr: unknown column '%.300s'", sp->column2);
    ag->vc2 = gfi_gb_value_class(f->schema->fields[ag->col2].type);
  }
  if (sp->kind == GF_AGG_QUANTILE)
    snprintf(defname, sizeof defname, "quantile(%.250s, %g)", sp->column, sp->q);
  else if (sp->kind == GF_AGG_CORR)
    snprintf(defname, sizeof defname, "corr(%.250s, %.250s)", sp->column, sp->column2);
  else if (sp->kind == GF_AGG_TOP_K)
    snprintf(defname, sizeof defname, "top_k(%.250s, %d)", sp->column, sp->k);
  else if (sp->kind == GF_AGG_COUNT_ALL)
    snprintf(defname, sizeof defname, "count");
  else
    snprintf(defname, sizeof defname, "%s(%.250s)", kn, sp->column);
  ag->name = dup_str(a, name ? name : sp->name ? sp->name : defname);
  if (!ag->name) return GF_OOM(err, "an aggregate name");
  /* Messages name the aggregate as the user wrote it: an internal name of a
   * rewritten aggregate ("__gf_agg_<i>", agg_parse.c) becomes "sum(s)". */
  char who_buf[700];
  const char *who = ag->name;
  if (strncmp(ag->name, "__gf_agg_", 9) == 0) {
    snprintf(who_buf, sizeof who_buf, "%s(%.300s%s%.300s)", kind_name(sp->kind),
             sp->column ? sp->column : "", sp->column2 ? ", " : "", sp->column2 ? sp->column2 : "");
    who = who_buf;
  }
  /* Types each aggregate accepts. */
  bool numeric = ag->vc == GB_VC_INT || ag->vc == GB_VC_U64 || ag->vc == GB_VC_FLOAT || ag->vc == GB_VC_NULL;
  bool temporal = is_temporal(ag->type.id);
  char tn[64];
  /* Decimals: sum (decimal128(38, s)) and mean (float64) exactly; the
   * statistical aggregates want a cast to float64 first. */
  if (ag->vc == GB_VC_DEC) {
    gf_type_format(ag->type, tn, sizeof tn);
    bool sum_mean = sp->kind == GF_AGG_SUM || sp->kind == GF_AGG_MEAN;
    if (sum_mean && ag->type.id == GF_TYPE_DECIMAL256)
      return gf_error_set(err, GF_ENOTSUP, "%s: %s is not supported on column '%.300s' of type %s (cast to decimal128)",
                          who, kn, sp->column, tn);
    if (!sum_mean && sp->kind != GF_AGG_MIN && sp->kind != GF_AGG_MAX && sp->kind != GF_AGG_COUNT &&
        sp->kind != GF_AGG_FIRST && sp->kind != GF_AGG_LAST && sp->kind != GF_AGG_N_UNIQUE)
      return gf_error_set(err, GF_ETYPE, "%s: cannot aggregate column '%.300s' of type %s (cast it to float64)",
                          who, sp->column, tn);
    if (sp->kind == GF_AGG_CORR && ag->vc2 == GB_VC_DEC)
      return gf_error_set(err, GF_ETYPE, "%s: cannot aggregate column '%.300s' of type %s (cast it to float64)",
                          who, sp->column2, tn);
    return GF_OK;
  }
  switch (sp->kind) {
    case GF_AGG_SUM:
    case GF_AGG_MEAN:
    case GF_AGG_VAR:
    case GF_AGG_STD:
    case GF_AGG_MEDIAN:
    case GF_AGG_QUANTILE:
    case GF_AGG_CORR:
      if (!numeric || temporal || (ag->type.id == GF_TYPE_BOOL && sp->kind != GF_AGG_SUM && sp->kind != GF_AGG_MEAN))
        return gf_error_set(err, GF_ETYPE, "%s: cannot aggregate column '%.300s' of type %s", who,
                            sp->column, gf_type_format(ag->type, tn, sizeof tn));
      if (sp->kind == GF_AGG_CORR) {
        gf_datatype t2 = f->schema->fields[ag->col2].type;
        bool ok2 = (ag->vc2 == GB_VC_INT || ag->vc2 == GB_VC_U64 || ag->vc2 == GB_VC_FLOAT || ag->vc2 == GB_VC_NULL) &&
                   !is_temporal(t2.id) && t2.id != GF_TYPE_BOOL;
        if (!ok2)
          return gf_error_set(err, GF_ETYPE, "%s: cannot aggregate column '%.300s' of type %s", who,
                              sp->column2, gf_type_format(t2, tn, sizeof tn));
      }
      if (sp->kind == GF_AGG_QUANTILE && !(sp->q >= 0.0 && sp->q <= 1.0))
        return gf_error_set(err, GF_EINVAL, "%s: the quantile must be in [0, 1]", who);
      break;
    case GF_AGG_TOP_K:
      if (!(ag->vc == GB_VC_INT || ag->vc == GB_VC_U64 || ag->vc == GB_VC_FLOAT))
        return gf_error_set(err, GF_ETYPE, "%s: cannot take top_k of column '%.300s' of type %s", who,
                            sp->column, gf_type_format(ag->type, tn, sizeof tn));
      if (sp->k < 1 || sp->k > 1000000)
        return gf_error_set(err, GF_EINVAL, "%s: k must be between 1 and 1000000", who);
      break;
    default: break;
  }
  if (ag->vc == GB_VC_DICT && f->num_batches > 0 &&
      (sp->kind == GF_AGG_MIN || sp->kind == GF_AGG_MAX || sp->kind == GF_AGG_N_UNIQUE)) {
    const gf_array *d = f->columns[(size_t)ag->col]->dictionary;
    ag->rank_n = d ? d->length : 0;
    if (d) GF_RETURN_NOT_OK(gfi_gb_dict_rank(d, a, &ag->rank, err));
  }
  return GF_OK;
}

/* ---- output ------------------------------------------------------------- */

/* Array of `t` (int64 or float64) from vals[order[i]] with validity. */
static gf_status make_numeric(gf_datatype t, const int64_t *vi, const double *vf, const uint8_t *valid,
                              const int64_t *order, int64_t G, const gf_allocator *a, gf_array **out,
                              gf_error *err) {
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  if (gfi_buffer_alloc(a, (size_t)G * 8, &bufs[1]) != GF_OK) return GF_OOM(err, "an aggregate column");
  int64_t nulls = 0;
  for (int64_t i = 0; i < G; i++) nulls += !valid[order[i]];
  if (nulls && gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(G), &bufs[0]) != GF_OK) {
    gf_buffer_release(bufs[1]);
    return GF_OOM(err, "an aggregate column");
  }
  uint8_t *vb = bufs[0] ? gf_buffer_mutable_data(bufs[0]) : NULL;
  if (vi) {
    int64_t *d = gf_buffer_mutable_data(bufs[1]);
    for (int64_t i = 0; i < G; i++) {
      int64_t h = order[i];
      d[i] = valid[h] ? vi[h] : 0;
      if (vb && valid[h]) gfi_bit_set(vb, i);
    }
  } else {
    double *d = gf_buffer_mutable_data(bufs[1]);
    for (int64_t i = 0; i < G; i++) {
      int64_t h = order[i];
      d[i] = valid[h] ? vf[h] : 0.0;
      if (vb && valid[h]) gfi_bit_set(vb, i);
    }
  }
  return gfi_array_make(a, t, G, 0, nulls, bufs, NULL, out, err);
}

/* decimal128(38, scale) array of the sums vd[order[i]] with validity. */
static gf_status make_decimal(int32_t scale, const gf_decimal128 *vd, const uint8_t *valid,
                              const int64_t *order, int64_t G, const gf_allocator *a,
                              gf_array **out, gf_error *err) {
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  if (gfi_buffer_alloc(a, (size_t)G * 16, &bufs[1]) != GF_OK) return GF_OOM(err, "an aggregate column");
  int64_t nulls = 0;
  for (int64_t i = 0; i < G; i++) nulls += !valid[order[i]];
  if (nulls && gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(G), &bufs[0]) != GF_OK) {
    gf_buffer_release(bufs[1]);
    return GF_OOM(err, "an aggregate column");
  }
  uint8_t *vb = bufs[0] ? gf_buffer_mutable_data(bufs[0]) : NULL;
  uint8_t *d = gf_buffer_mutable_data(bufs[1]);
  for (int64_t i = 0; i < G; i++) {
    int64_t h = order[i];
    gf_decimal128 z = {0, 0}, v = valid[h] ? vd[h] : z;
    memcpy(d + 16 * i, &v.lo, 8); /* little-endian: low half first */
    memcpy(d + 16 * i + 8, &v.hi, 8);
    if (vb && valid[h]) gfi_bit_set(vb, i);
  }
  return gfi_array_make(a, gf_type_decimal128(38, scale), G, 0, nulls, bufs, NULL, out, err);
}

/* An all-null array of `t` with `n` elements. */
static gf_status make_nulls(gf_datatype t, int64_t n, const gf_allocator *a, gf_array **out, gf_error *err) {
  gf_builder *b;
  GF_RETURN_NOT_OK(gf_builder_new(t, a, &b, err));
  gf_status st = GF_OK;
  for (int64_t i = 0; i < n && st == GF_OK; i++) st = gf_builder_append_null(b, err);
  if (st == GF_OK) st = gf_builder_finish(b, out, err);
  gf_builder_free(b);
  return st;
}

typedef struct sort_ctx {
  const gb_view *v;
  const gb_ctx *c;
  const int64_t *first;
} sort_ctx;

/* Orders groups (by index) by their key values. */
static int cmp_groups(void *ctx, int64_t x, int64_t y) {
  const sort_ctx *s = ctx;
  for (int k = 0; k < s->c->nkeys; k++) {
    int r = gfi_gb_cmp_rows(s->v, s->c->keys[k].col, s->first[x], s->first[y]);
    if (r) return r;
  }
  return x < y ? -1 : x > y;
}

typedef struct out_cols {
  int n;
  gf_field *fields;
  gf_array **cols;
} out_cols;

static gf_status build_frame(out_cols *oc, const gf_allocator *a, gf_frame **out, gf_error *err) {
  gf_schema *schema;
  GF_RETURN_NOT_OK(gf_schema_new(oc->fields, oc->n, &schema, err));
  gf_status st = gf_frame_new(schema, oc->cols, 1, a, out, err);
  gf_schema_release(schema);
  return st;
}

/* Builds keys + aggregate columns for groups in `order` (handles) with
 * group first rows `first` (parallel to order). */
static gf_status build_output(gb_ctx *c, gb_agg *aggs, int naggs, const int64_t *order,
                              const int64_t *first, int64_t G, out_cols *oc, gf_error *err) {
  const gf_allocator *a = c->a;
  const gf_frame *f = c->v.f;
  bool topk = naggs > 0 && aggs[0].kind == GF_AGG_TOP_K;
  int64_t T = G;
  int64_t *rows = NULL, *grp = NULL;
  gf_status st = GF_OK;
  if (topk) {
    T = 0;
    for (int64_t i = 0; i < G; i++) {
      int64_t mg = 0;
      for (int j = 0; j < naggs; j++)
        if (aggs[j].rcnt[order[i]] > mg) mg = aggs[j].rcnt[order[i]];
      T += mg;
    }
  }
  /* Gather indexes: arena scratch (exec/arena.h), reused across calls. */
  rows = gfi_scratch_alloc(a, sizeof *rows * (size_t)(T ? T : 1));
  grp = gfi_scratch_alloc(a, sizeof *grp * (size_t)(T ? T : 1));
  if (!rows || !grp) st = GF_OOM(err, "group-by output");
  if (st == GF_OK) {
    /* grp[t] = index into order of output row t. */
    int64_t t = 0;
    for (int64_t i = 0; i < G; i++) {
      int64_t mg = 1;
      if (topk) {
        mg = 0;
        for (int j = 0; j < naggs; j++)
          if (aggs[j].rcnt[order[i]] > mg) mg = aggs[j].rcnt[order[i]];
      }
      for (int64_t q = 0; q < mg; q++) grp[t++] = i;
    }
  }
  /* Every key column takes the same rows: the first row of each group. */
  if (st == GF_OK && c->nkeys > 0) {
    int kc[64], *kcols = c->nkeys <= 64 ? kc : gfi_malloc(a, sizeof(int) * (size_t)c->nkeys);
    if (!kcols) st = GF_OOM(err, "group-by output");
    for (int k = 0; st == GF_OK && k < c->nkeys; k++) kcols[k] = c->keys[k].col;
    for (int64_t t = 0; st == GF_OK && t < T; t++) rows[t] = first[grp[t]];
    if (st == GF_OK) st = gfi_gb_take_columns(&c->v, kcols, c->nkeys, rows, T, c->po, a, &oc->cols[oc->n], err);
    for (int k = 0; st == GF_OK && k < c->nkeys; k++) {
      oc->fields[oc->n] = f->schema->fields[c->keys[k].col];
      oc->fields[oc->n].nullable = true;
      oc->n++;
    }
    if (kcols && kcols != kc) gfi_mfree(a, kcols, sizeof(int) * (size_t)c->nkeys);
  }
  for (int j = 0; j < naggs && st == GF_OK; j++) {
    /* One column of G rows per step: a single worker stops in between. */
    st = gfi_check_stop(c->po, 0, NULL, err);
    if (st != GF_OK) break;
    gb_agg *ag = &aggs[j];
    gf_field fl = {ag->name, ag->type, true};
    gf_array *arr = NULL;
    switch (ag->res) {
      case GB_RES_I64:
        fl.type = gf_type(GF_TYPE_INT64);
        st = make_numeric(fl.type, ag->ri, NULL, ag->valid, order, G, a, &arr, err);
        break;
      case GB_RES_F64:
        fl.type = gf_type(GF_TYPE_FLOAT64);
        st = make_numeric(fl.type, NULL, ag->rf, ag->valid, order, G, a, &arr, err);
        break;
      case GB_RES_DEC:
        fl.type = gf_type_decimal128(38, ag->type.scale);
        st = make_decimal(ag->type.scale, ag->rd, ag->valid, order, G, a, &arr, err);
        break;
      case GB_RES_ROW: {
        bool any_row = true;
        for (int64_t i = 0; i < G; i++) {
          int64_t r = ag->rrow[order[i]];
          rows[i] = r >= 0 ? r : first[i];
          if (rows[i] < 0) any_row = false;
        }
        st = any_row ? gfi_gb_take(&c->v, ag->col, rows, G, a, &arr, err)
                     : make_nulls(ag->type, G, a, &arr, err);
        break;
      }
      case GB_RES_TOPK: {
        int64_t t = 0;
        for (int64_t i = 0; i < G; i++) {
          int64_t h = order[i];
          int64_t q = 0;
          while (t < T && grp[t] == i) {
            rows[t] = q < ag->rcnt[h] ? ag->rrow[h * ag->k + q] : ag->rnull[h];
            if (rows[t] < 0) rows[t] = first[i];
            q++;
            t++;
          }
        }
        st = gfi_gb_take(&c->v, ag->col, rows, T, a, &arr, err);
        break;
      }
      default: st = gf_error_set(err, GF_EINTERNAL, "group-by: unknown result kind");
    }
    if (st == GF_OK) {
      oc->fields[oc->n] = fl;
      oc->cols[oc->n++] = arr;
    }
  }
  if (rows) gfi_scratch_free(a, rows, sizeof *rows * (size_t)(T ? T : 1));
  if (grp) gfi_scratch_free(a, grp, sizeof *grp * (size_t)(T ? T : 1));
  return st;
}

gf_status gfi_gb_check_keys(const gf_frame *f, const char *const *keys, int nkeys,
                            const char *fn, gf_error *err) {
  if (f->num_rows > INT32_MAX)
    return gf_error_set(err, GF_ENOTSUP, "%s: frames over 2^31-1 rows are not supported", fn);
  for (int i = 0; i < nkeys; i++) {
    if (!keys[i]) return gf_error_set(err, GF_EINVAL, "%s: key %d is NULL", fn, i);
    if (gf_schema_find(f->schema, keys[i]) < 0)
      return gf_error_set(err, GF_EINVAL, "%s: unknown key column '%.300s'", fn, keys[i]);
    for (int k = 0; k < i; k++)
      if (strcmp(keys[k], keys[i]) == 0)
        return gf_error_set(err, GF_EINVAL, "%s: key '%.300s' given twice", fn, keys[i]);
  }
  return GF_OK;
}

gf_status gfi_gb_call_begin(const gf_parallel_options *opts, gf_parallel_options *po,
                            gb_call *call, gf_error *err) {
  GF_RETURN_NOT_OK(gfi_ctx_load(&call->ctx, opts, po, err));
  call->start_ns = gfi_now_ns();
  /* One group-by is several runtime calls: the statistics add up. */
  call->user_stats = po->stats;
  if (call->user_stats) {
    memset(call->user_stats, 0, sizeof *call->user_stats);
    call->ctx.stats_accumulate = true;
  }
  /* A memory limit covers everything: the call context's tracked
   * allocator (gfi_ctx_load). */
  return GF_OK;
}

gf_status gfi_gb_call_end(gb_call *call, int64_t rows, gf_status st, gf_error *err) {
  gf_exec_stats *s = call->user_stats;
  if (st == GF_OK && s) {
    if (s->size == 0) { /* no runtime call was needed */
      s->size = sizeof *s;
      s->workers_used = 1;
    }
    s->rows = rows;
    s->wall_ns = gfi_now_ns() - call->start_ns;
  }
  return gfi_ctx_end(&call->ctx, st, err);
}

/* The whole group-by in memory with output names `names` (NULL = the
 * specs' names); `force_part` keeps it on the partition path. */
gf_status gfi_gb_group_by_mem(const gf_frame *f, const char *const *keys, int nkeys,
                              const gf_agg_spec *specs, int nspecs, const char *const *names,
                              const gf_groupby_options *opts, bool force_part, bool *building,
                              gf_frame **out, gf_error *err) {
  if (building) *building = false;
  if (!f || !out || nkeys < 0 || nspecs < 0 || (nkeys > 0 && !keys) || (nspecs > 0 && !specs))
    return gf_error_set(err, GF_EINVAL, "gf_group_by: invalid argument");
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  if (opts) {
    size_t sz = opts->size && opts->size < sizeof go ? opts->size : sizeof go;
    memcpy(&go, opts, sz);
  }
  gf_parallel_options po;
  GF_RETURN_NOT_OK(gfi_options_load(go.parallel, &po, err));
  GF_RETURN_NOT_OK(gfi_gb_check_keys(f, keys, nkeys, "gf_group_by", err));
  int ntop = 0;
  for (int i = 0; i < nspecs; i++) ntop += specs[i].kind == GF_AGG_TOP_K;
  if (ntop > 0) {
    for (int i = 0; i < nspecs; i++)
      if (specs[i].kind != GF_AGG_TOP_K || specs[i].k != specs[0].k)
        return gf_error_set(err, GF_EINVAL,
                            "top_k returns one row per value, so it combines only with the group "
                            "keys and other top_k of the same k (aggregate %d is not top_k(.., %d))",
                            i, specs[0].k);
  }
  gb_call call;
  GF_RETURN_NOT_OK(gfi_gb_call_begin(go.parallel, &po, &call, err));
  int64_t start_ns = call.start_ns;
  const gf_allocator *a = gfi_alloc_or_default(po.allocator);
  gb_ctx c;
  gfi_gb_ctx_init(&c, f, &po, nkeys);
  gb_agg *aggs = gfi_calloc(a, sizeof *aggs * (size_t)(nspecs ? nspecs : 1));
  c.keys = gfi_calloc(a, sizeof *c.keys * (size_t)(nkeys ? nkeys : 1));
  gb_groups g;
  memset(&g, 0, sizeof g);
  int64_t *order = NULL, *first = NULL, G = 0;
  out_cols oc = {0, NULL, NULL};
  int ncols = nkeys + nspecs;
  gf_status st = GF_OK;
  if (!aggs || !c.keys) st = GF_OOM(err, "group-by state");
  for (int i = 0; i < nspecs && st == GF_OK; i++)
    st = resolve(f, &specs[i], names ? names[i] : NULL, &aggs[i], a, err);
  if (st == GF_OK) {
    for (int i = 0; i < nkeys; i++) c.keys[i].col = gf_schema_find(f->schema, keys[i]);
    st = gfi_gb_keys_canon(&c, err);
  }
  if (st == GF_OK) {
    bool direct, dec = true;
    int64_t nslots;
    gfi_gb_keys_analyse(&c, &direct, &nslots);
    for (int i = 0; i < nspecs; i++) dec = dec && gfi_gb_agg_decomposable(aggs[i].kind, aggs[i].vc);
    int64_t nblocks = gf_reduction_blocks(f->num_rows);
    if (nblocks < 1) nblocks = 1;
    if (!force_part && direct && dec && nslots <= BLOCK_MAX_HANDLES && nslots * nblocks <= BLOCK_MAX_CELLS) {
      g.direct = true;
      g.nslots = nslots;
      st = gfi_gb_agg_blocks(&c, &g, aggs, nspecs, &order, err);
    } else {
      st = gfi_gb_groups_compute(&c, direct, nslots, &g, err);
      if (st == GF_OK) st = gfi_check_stop(&po, start_ns, NULL, err);
      if (st == GF_OK) {
        if (!force_part && dec && g.ngroups <= BLOCK_MAX_HANDLES && g.ngroups * nblocks <= BLOCK_MAX_CELLS) {
          st = gfi_gb_agg_blocks(&c, &g, aggs, nspecs, &order, err);
        } else {
          st = gfi_gb_agg_partitions(&c, &g, aggs, nspecs, err);
          if (st == GF_OK) {
            order = gfi_scratch_alloc(a, sizeof *order * (size_t)(g.ngroups ? g.ngroups : 1));
            if (!order) st = GF_OOM(err, "group-by order");
            else for (int64_t k = 0; k < g.ngroups; k++) order[k] = k;
          }
        }
      }
    }
    G = g.ngroups;
  }
  if (st == GF_OK) st = gfi_check_stop(&po, start_ns, NULL, err);
  if (st == GF_OK) {
    first = gfi_scratch_alloc(a, sizeof *first * (size_t)(G ? G : 1));
    if (!first) st = GF_OOM(err, "group-by output order");
    else memcpy(first, g.first_row, sizeof *first * (size_t)G);
  }
  if (st == GF_OK && go.sort_keys && nkeys > 0 && G > 1) {
    /* Sort group indices by key, then permute order and first rows. */
    int64_t *perm = gfi_malloc(a, sizeof *perm * (size_t)G);
    int64_t *tmp = gfi_malloc(a, sizeof *tmp * (size_t)G);
    if (!perm || !tmp) {
      st = GF_OOM(err, "group-by sort");
    } else {
      for (int64_t i = 0; i < G; i++) perm[i] = i;
      sort_ctx sc = {&c.v, &c, g.first_row};
      st = gfi_gb_sort_i64(perm, G, cmp_groups, &sc, &po, a, err);
      if (st == GF_OK) {
        for (int64_t i = 0; i < G; i++) tmp[i] = order[perm[i]];
        memcpy(order, tmp, sizeof *tmp * (size_t)G);
        for (int64_t i = 0; i < G; i++) first[i] = g.first_row[perm[i]];
      }
    }
    if (perm) gfi_mfree(a, perm, sizeof *perm * (size_t)G);
    if (tmp) gfi_mfree(a, tmp, sizeof *tmp * (size_t)G);
  }
  if (st == GF_OK) {
    oc.fields = gfi_malloc(a, sizeof *oc.fields * (size_t)(ncols ? ncols : 1));
    oc.cols = gfi_calloc(a, sizeof *oc.cols * (size_t)(ncols ? ncols : 1));
    if (!oc.fields || !oc.cols) st = GF_OOM(err, "group-by output");
  }
  if (st == GF_OK && building) *building = true;
  if (st == GF_OK) st = build_output(&c, aggs, nspecs, order, first, G, &oc, err);
  if (st == GF_OK) st = build_frame(&oc, a, out, err);
  if (oc.cols) {
    for (int i = 0; i < oc.n; i++) gf_array_release(oc.cols[i]);
    gfi_mfree(a, oc.cols, sizeof *oc.cols * (size_t)(ncols ? ncols : 1));
  }
  if (oc.fields) gfi_mfree(a, oc.fields, sizeof *oc.fields * (size_t)(ncols ? ncols : 1));
  if (order) gfi_scratch_free(a, order, sizeof *order * (size_t)(G ? G : 1));
  if (first) gfi_scratch_free(a, first, sizeof *first * (size_t)(G ? G : 1));
  gfi_gb_groups_free(&g, a, f->num_rows);
  free_aggs(aggs, nspecs, a);
  gfi_gb_keys_free(&c);
  if (c.keys) gfi_mfree(a, c.keys, sizeof *c.keys * (size_t)(nkeys ? nkeys : 1));
  return gfi_gb_call_end(&call, f->num_rows, st, err);
}

/* The group-by: in memory, or spilled (groupby_spill.c) when the memory
 * limit refuses the in-memory run or the test hook asks for it. */
static gf_status group_by_core(const gf_frame *f, const char *const *keys, int nkeys,
                               const gf_agg_spec *specs, int nspecs, const char *const *names,
                               const gf_groupby_options *opts, gf_frame **out, gf_error *err) {
  bool args = f && out && nkeys >= 0 && nspecs >= 0 && (nkeys == 0 || keys) &&
              (nspecs == 0 || specs);
  gf_groupby_options go;
  gf_groupby_options_init(&go);
  if (opts) memcpy(&go, opts, opts->size && opts->size < sizeof go ? opts->size : sizeof go);
  bool can = args && gfi_gb_spill_eligible(f, nkeys, specs, nspecs, go.sort_keys);
  if (can && gfi_gb_test_spill_parts() > 0)
    return gfi_gb_spilled(f, keys, nkeys, specs, nspecs, names, opts, out, err);
  bool building = false;
  gf_status st =
      gfi_gb_group_by_mem(f, keys, nkeys, specs, nspecs, names, opts, false, &building, out, err);
  /* Refused while building the output: partitions would not make it any
   * smaller. */
  if (st != GF_ENOMEM || !can || building) return st;
  gf_parallel_options po;
  if (gfi_options_load(go.parallel, &po, NULL) != GF_OK || gfi_memory_limit(&po) <= 0) return st;
  /* Everything of the in-memory attempt is freed: try in pieces. */
  return gfi_gb_spilled(f, keys, nkeys, specs, nspecs, names, opts, out, err);
}

gf_status gf_group_by(const gf_frame *f, const char *const *keys, int nkeys,
                      const gf_agg_spec *specs, int nspecs, const gf_groupby_options *opts,
                      gf_frame **out, gf_error *err) {
  return group_by_core(f, keys, nkeys, specs, nspecs, NULL, opts, out, err);
}

/* Used by the aggregate-expression layer (agg_parse.c). */
gf_status gfi_group_by_named(const gf_frame *f, const char *const *keys, int nkeys,
                             const gf_agg_spec *specs, int nspecs, const char *const *names,
                             const gf_groupby_options *opts, gf_frame **out, gf_error *err);
gf_status gfi_group_by_named(const gf_frame *f, const char *const *keys, int nkeys,
                             const gf_agg_spec *specs, int nspecs, const char *const *names,
                             const gf_groupby_options *opts, gf_frame **out, gf_error *err) {
  return group_by_core(f, keys, nkeys, specs, nspecs, names, opts, out, err);
}
