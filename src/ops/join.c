/*
 * gf_join: inner, left, right, full, semi and anti joins.
 *
 * Keys of both sides are prepared per row (join_keys.c), a hash table is
 * built over one side and probed by the other in parallel (join_hash.c),
 * giving row-number pairs (-1 = no row), from which every output column is
 * taken in parallel (take.c). Left, semi and anti joins always build on the
 * right, so probing the left rows in order yields left order directly;
 * inner, right and full joins build on the smaller side, and when that is
 * the left one the pairs (found in right order) are put in left order by a
 * stable radix sort on the left row number, which keeps each left row's
 * matches in right order. The documented order (sort_join.h) thus holds
 * for any worker count.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "ops/sort_join_internal.h"

static const char *const kind_names[] = {"inner", "left", "right", "full", "semi", "anti"};

const char *gf_join_kind_name(gf_join_kind how) {
  return (unsigned)how < 6 ? kind_names[how] : "unknown";
}

gf_status gf_join_kind_parse(const char *name, gf_join_kind *out, gf_error *err) {
  if (!name || !out) return gf_error_set(err, GF_EINVAL, "gf_join_kind_parse: NULL argument");
  char low[16];
  size_t n = strlen(name);
  if (n < sizeof low) {
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)name[i]);
    if (strcmp(low, "outer") == 0) {
      *out = GF_JOIN_FULL;
      return GF_OK;
    }
    for (int k = 0; k < 6; k++)
      if (strcmp(low, kind_names[k]) == 0) {
        *out = (gf_join_kind)k;
        return GF_OK;
      }
  }
  return gf_error_set(err, GF_EINVAL,
                      "unknown join kind '%s' (expected inner, left, right, full, semi or anti)",
                      name);
}

void gf_join_options_init(gf_join_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->size = sizeof *o;
  o->suffix = "_right";
}

static bool is_int(gf_type_id id) { return id >= GF_TYPE_INT8 && id <= GF_TYPE_UINT64; }
static bool is_signed_int(gf_type_id id) { return id >= GF_TYPE_INT8 && id <= GF_TYPE_INT64; }
static bool is_temporal(gf_type_id id) { return id >= GF_TYPE_DATE32 && id <= GF_TYPE_DURATION; }

/* Comparison class of a key pair, or -1 when the types cannot be compared. */
static int key_class(gf_datatype lt, gf_datatype rt, bool *big_l, bool *big_r) {
  gf_datatype l = gf_type_value(lt), r = gf_type_value(rt);
  *big_l = *big_r = false;
  if (l.id == GF_TYPE_NULL || r.id == GF_TYPE_NULL) return GFI_JC_NULL;
  if (is_int(l.id) && is_int(r.id)) {
    *big_l = l.id == GF_TYPE_UINT64 && is_signed_int(r.id);
    *big_r = r.id == GF_TYPE_UINT64 && is_signed_int(l.id);
    return GFI_JC_INT;
  }
  bool lf = l.id == GF_TYPE_FLOAT32 || l.id == GF_TYPE_FLOAT64;
  bool rf = r.id == GF_TYPE_FLOAT32 || r.id == GF_TYPE_FLOAT64;
  if (lf && rf) return GFI_JC_FLOAT;
  bool ls = l.id == GF_TYPE_UTF8 || l.id == GF_TYPE_LARGE_UTF8;
  bool rs = r.id == GF_TYPE_UTF8 || r.id == GF_TYPE_LARGE_UTF8;
  bool lb = l.id == GF_TYPE_BINARY || l.id == GF_TYPE_LARGE_BINARY;
  bool rb = r.id == GF_TYPE_BINARY || r.id == GF_TYPE_LARGE_BINARY;
  if ((ls && rs) || (lb && rb)) return GFI_JC_BYTES;
  if (l.id == GF_TYPE_FIXED_SIZE_BINARY && r.id == GF_TYPE_FIXED_SIZE_BINARY &&
      l.byte_width == r.byte_width)
    return GFI_JC_BYTES;
  /* Decimals match by their raw bytes: same width and scale (precision may
   * differ, the values are sign-extended alike). */
  if ((l.id == GF_TYPE_DECIMAL128 || l.id == GF_TYPE_DECIMAL256) && l.id == r.id &&
      l.scale == r.scale)
    return GFI_JC_BYTES;
  if (l.id == GF_TYPE_BOOL && r.id == GF_TYPE_BOOL) return GFI_JC_INT;
  if (is_temporal(l.id) && gf_type_equals(l, r)) return GFI_JC_INT;
  return -1;
}

int gfi_join_key_class(gf_datatype lt, gf_datatype rt, bool *big_l, bool *big_r) {
  return key_class(lt, rt, big_l, big_r);
}

/* Output names: left names, then right names with the suffix on clashes. */
typedef struct names {
  const char **name; /* ncols */
  char **owned;      /* suffixed names (ncols, mostly NULL) */
  int n;
} names;

static bool name_taken(const names *nm, int upto, const char *s) {
  for (int i = 0; i < upto; i++)
    if (strcmp(nm->name[i], s) == 0) return true;
  return false;
}

static void names_free(const gf_allocator *a, names *nm, int cap) {
  for (int i = 0; nm->owned && i < cap; i++)
    if (nm->owned[i]) gfi_mfree(a, nm->owned[i], strlen(nm->owned[i]) + 1);
  if (nm->owned) gfi_mfree(a, nm->owned, sizeof *nm->owned * (size_t)(cap ? cap : 1));
  if (nm->name) gfi_mfree(a, (void *)nm->name, sizeof *nm->name * (size_t)(cap ? cap : 1));
}

/* What one output row costs at least: its row numbers (two while both
 * sides are gathered) plus the data buffer of each fixed-width column, so
 * an output over the memory limit is refused before it is made. */
static int64_t min_row_bytes(const gfi_take_col *tc, int ncols, bool pairs) {
  int64_t bits = 0;
  for (int c = 0; c < ncols; c++) {
    int w = gf_type_bit_width(tc[c].f->schema->fields[tc[c].col].type);
    if (w > 1) bits += w;
  }
  return (pairs ? 16 : 8) + bits / 8;
}

/* Puts pairs found by probing the right side (prow = right, brow = left)
 * into left order: pairs with a left row sorted stably by it, then the
 * right rows without a left row in right order. Rewrites both arrays in place. */
static gf_status to_left_order(int64_t **pl, int64_t **pr, int64_t n,
                               const gf_parallel_options *o, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(o->allocator);
  int64_t *left = *pl, *right = *pr;
  size_t rb = sizeof(int64_t) * (size_t)(n ? n : 1);
  uint64_t *keys = gfi_malloc(a, rb);
  int64_t *vals = gfi_malloc(a, rb);
  int64_t *tail = gfi_malloc(a, rb);
  gf_status st = GF_OK;
  if (!keys || !vals || !tail) st = GF_OOM(err, "join order");
  int64_t h = 0, t = 0;
  if (st == GF_OK) {
    /* A skewed join makes n huge: these loops check the deadline too. */
    for (int64_t i = 0; i < n; i++) {
      if ((i & 0xFFFF) == 0xFFFF && (st = gfi_check_stop(o, 0, NULL, err)) != GF_OK) break;
      if (left[i] < 0) {
        tail[t++] = right[i];
      } else {
        keys[h] = (uint64_t)left[i];
        vals[h++] = right[i];
      }
    }
    if (st == GF_OK) st = gfi_radix_sort(keys, vals, h, o, err);
  }
  if (st == GF_OK) {
    for (int64_t i = 0; i < h; i++) {
      if ((i & 0xFFFF) == 0xFFFF && (st = gfi_check_stop(o, 0, NULL, err)) != GF_OK) break;
      left[i] = (int64_t)keys[i];
      right[i] = vals[i];
    }
    for (int64_t i = 0; st == GF_OK && i < t; i++) {
      left[h + i] = -1;
      right[h + i] = tail[i];
    }
  }
  if (keys) gfi_mfree(a, keys, rb);
  if (vals) gfi_mfree(a, vals, rb);
  if (tail) gfi_mfree(a, tail, rb);
  return st;
}

/* The whole join in memory; with `pre` the row pairs are given (taken
 * over: allocated through the loaded allocator of `opts`, which must be a
 * nested call's) and only the output is built. */
gf_status gfi_join_mem(const gf_frame *left, const gf_frame *right,
                       const char *const *left_on, const char *const *right_on, int nkeys,
                       gf_join_kind how, const gf_join_options *opts, gfi_join_pairs *pre,
                       bool *gathering, gf_frame **out, gf_error *err) {
  if (gathering) *gathering = false;
  if (!left || !right || !out || (nkeys > 0 && (!left_on || !right_on)))
    return gf_error_set(err, GF_EINVAL, "gf_join: NULL argument");
  if (nkeys < 1) return gf_error_set(err, GF_EINVAL, "gf_join: no join keys");
  if ((unsigned)how > GF_JOIN_ANTI)
    return gf_error_set(err, GF_EINVAL, "gf_join: unknown join kind %d", (int)how);
  gf_join_options jo;
  gf_join_options_init(&jo);
  if (opts) {
    size_t n = opts->size && opts->size < sizeof jo ? opts->size : sizeof jo;
    memcpy(&jo, opts, n);
    if (!jo.suffix) jo.suffix = "_right";
  }
  /* Keys. */
  int lcols[64], rcols[64], cls[64];
  bool bigl[64], bigr[64];
  if (nkeys > 64) return gf_error_set(err, GF_EINVAL, "gf_join: more than 64 keys");
  for (int k = 0; k < nkeys; k++) {
    if (!left_on[k] || !right_on[k]) return gf_error_set(err, GF_EINVAL, "gf_join: NULL key name");
    lcols[k] = gf_schema_find(left->schema, left_on[k]);
    rcols[k] = gf_schema_find(right->schema, right_on[k]);
    if (lcols[k] < 0)
      return gf_error_set(err, GF_EINVAL, "join: no column '%s' on the left", left_on[k]);
    if (rcols[k] < 0)
      return gf_error_set(err, GF_EINVAL, "join: no column '%s' on the right", right_on[k]);
    gf_datatype lt = left->schema->fields[lcols[k]].type, rt = right->schema->fields[rcols[k]].type;
    cls[k] = key_class(lt, rt, &bigl[k], &bigr[k]);
    if (cls[k] < 0) {
      char a1[64], a2[64];
      return gf_error_set(err, GF_ETYPE, "join: cannot compare key '%s' (%s) with '%s' (%s)",
                          left_on[k], gf_type_format(lt, a1, sizeof a1), right_on[k],
                          gf_type_format(rt, a2, sizeof a2));
    }
  }

  /* A memory limit covers the whole join, output included: the context's
   * tracked allocator (gfi_ctx_load; the runtime's own tracker would see
   * one phase). Every return from here on goes through gfi_ctx_end. */
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, jo.parallel, &o, err));
  int64_t limit = call.limit;
  const gfi_call_alloc *tracked = call.limiter;
  const gf_allocator *a = gfi_alloc_or_default(o.allocator);

  /* Output columns. */
  int nl = left->schema->n, nr = right->schema->n;
  bool with_right = how != GF_JOIN_SEMI && how != GF_JOIN_ANTI;
  bool keep_right_keys = how == GF_JOIN_RIGHT || how == GF_JOIN_FULL;
  int cap = nl + (with_right ? nr : 0);
  names nm = {NULL, NULL, 0};
  gf_status st = GF_OK;
  nm.name = gfi_malloc(a, sizeof *nm.name * (size_t)(cap ? cap : 1));
  nm.owned = gfi_calloc(a, sizeof *nm.owned * (size_t)(cap ? cap : 1));
  gfi_take_col *tc = gfi_malloc(a, sizeof *tc * (size_t)(cap ? cap : 1));
  if (!nm.name || !nm.owned || !tc) st = GF_OOM(err, "join output columns");
  int nout = 0;
  for (int c = 0; st == GF_OK && c < nl; c++) {
    const char *nml = left->schema->fields[c].name;
    nm.name[nout] = nml;
    tc[nout++] =
        (gfi_take_col){left, c, NULL, nml, how == GF_JOIN_RIGHT || how == GF_JOIN_FULL, false};
  }
  int first_right = nout;
  for (int c = 0; st == GF_OK && with_right && c < nr; c++) {
    bool is_key = false;
    for (int k = 0; k < nkeys; k++) is_key |= rcols[k] == c;
    if (is_key && !keep_right_keys) continue;
    const char *nmr = right->schema->fields[c].name;
    if (name_taken(&nm, nout, nmr)) {
      size_t l1 = strlen(nmr), l2 = strlen(jo.suffix);
      char *s = gfi_malloc(a, l1 + l2 + 1);
      if (!s) {
        st = GF_OOM(err, "join column name");
        break;
      }
      memcpy(s, nmr, l1);
      memcpy(s + l1, jo.suffix, l2 + 1);
      nm.owned[nout] = s;
      nmr = s;
      if (name_taken(&nm, nout, nmr)) {
        st = gf_error_set(err, GF_EINVAL, "join: output column name '%s' is taken twice", nmr);
        break;
      }
    }
    nm.name[nout] = nmr;
    tc[nout++] =
        (gfi_take_col){right, c, NULL, nmr, how == GF_JOIN_LEFT || how == GF_JOIN_FULL, false};
  }

  /* Build and probe. */
  bool build_left = !pre && (how == GF_JOIN_INNER || how == GF_JOIN_RIGHT || how == GF_JOIN_FULL) &&
                    left->num_rows < right->num_rows;
  bool with_hash = nkeys > 1 || cls[0] == GFI_JC_BYTES || cls[0] == GFI_JC_NULL;
  gfi_jside ls, rs;
  memset(&ls, 0, sizeof ls);
  memset(&rs, 0, sizeof rs);
  bool lmade = false, rmade = false;
  if (st == GF_OK && !pre) {
    st = gfi_jside_make(left, lcols, cls, nkeys, bigl, with_hash, &o, &ls, err);
    lmade = st == GF_OK;
  }
  if (st == GF_OK && !pre) {
    st = gfi_jside_make(right, rcols, cls, nkeys, bigr, with_hash, &o, &rs, err);
    rmade = st == GF_OK;
  }
  gfi_jtable *table = NULL;
  if (st == GF_OK && !pre) st = gfi_jtable_build(build_left ? &ls : &rs, &o, &table, err);
  gfi_probe_mode mode = GFI_PROBE_INNER;
  bool unmatched = false;
  if (build_left) {
    mode = how == GF_JOIN_INNER ? GFI_PROBE_INNER : GFI_PROBE_OUTER;
    unmatched = how == GF_JOIN_FULL;
  } else {
    switch (how) {
      case GF_JOIN_INNER: mode = GFI_PROBE_INNER; break;
      case GF_JOIN_LEFT: mode = GFI_PROBE_OUTER; break;
      case GF_JOIN_RIGHT: mode = GFI_PROBE_INNER; unmatched = true; break;
      case GF_JOIN_FULL: mode = GFI_PROBE_OUTER; unmatched = true; break;
      case GF_JOIN_SEMI: mode = GFI_PROBE_SEMI; break;
      case GF_JOIN_ANTI: mode = GFI_PROBE_ANTI; break;
    }
  }
  int64_t *prow = NULL, *brow = NULL, count = 0;
  if (pre) {
    prow = pre->l;
    brow = pre->r;
    count = pre->count;
    pre->l = pre->r = NULL;
  } else if (st == GF_OK)
    st = gfi_jtable_probe(table, build_left ? &rs : &ls, mode, unmatched,
                          min_row_bytes(tc, nout, with_right), limit, &o, &prow, &brow, &count,
                          err);
  if (table) gfi_jtable_free(table);
  if (lmade) gfi_jside_free(&ls);
  if (rmade) gfi_jside_free(&rs);
  int64_t *lidx = build_left ? brow : prow, *ridx = build_left ? prow : brow;
  if (st == GF_OK && build_left) st = to_left_order(&lidx, &ridx, count, &o, err);

  /* Gather. */
  if (st == GF_OK && gathering) *gathering = true;
  if (st == GF_OK) {
    for (int c = 0; c < nout; c++) tc[c].idx = c < first_right ? lidx : ridx;
    st = gfi_take_frame(tc, nout, count, &o, out, err);
  }
  size_t rb = sizeof(int64_t) * (size_t)(count ? count : 1);
  if (prow) gfi_mfree(a, prow, rb);
  if (brow) gfi_mfree(a, brow, rb);
  if (tc) gfi_mfree(a, tc, sizeof *tc * (size_t)(cap ? cap : 1));
  names_free(a, &nm, cap);
  /* A refusal deep inside (a gather, a sort) reports the limit it hit. */
  if (st == GF_ENOMEM && tracked && gfi_call_alloc_refusals(tracked) > 0 && err &&
      !strstr(err->message, "memory limit")) {
    char was[GF_ERROR_MESSAGE_SIZE];
    snprintf(was, sizeof was, "%s", err->message);
    gf_error_set(err, GF_ENOMEM, "join: memory limit of %lld bytes exceeded (%s)",
                 (long long)limit, was);
  }
  return gfi_ctx_end(&call, st, err);
}

gf_status gf_join(const gf_frame *left, const gf_frame *right,
                  const char *const *left_on, const char *const *right_on, int nkeys,
                  gf_join_kind how, const gf_join_options *opts, gf_frame **out,
                  gf_error *err) {
  bool can = left && right && out && nkeys > 0 && nkeys <= 64 && left_on && right_on &&
             (unsigned)how <= GF_JOIN_ANTI && gfi_join_spill_eligible(left, right, left_on,
                                                                      right_on, nkeys);
  if (can && gfi_join_test_spill_parts() > 0)
    return gfi_join_spilled(left, right, left_on, right_on, nkeys, how, opts, out, err);
  bool gathering = false;
  gf_status st = gfi_join_mem(left, right, left_on, right_on, nkeys, how, opts, NULL, &gathering,
                              out, err);
  /* Refused while gathering the output: partitions would not make the
   * output any smaller. */
  if (st != GF_ENOMEM || !can || gathering) return st;
  gf_join_options jo;
  gf_join_options_init(&jo);
  if (opts) memcpy(&jo, opts, opts->size && opts->size < sizeof jo ? opts->size : sizeof jo);
  gf_parallel_options po;
  if (gfi_options_load(jo.parallel, &po, NULL) != GF_OK || gfi_memory_limit(&po) <= 0) return st;
  /* Everything of the in-memory attempt is freed: join partition by
   * partition (join_spill.c). */
  return gfi_join_spilled(left, right, left_on, right_on, nkeys, how, opts, out, err);
}
