/*
 * Streaming hash join: an in-memory build side probed batch by batch
 * (join_stream.h, docs/STREAMING.md).
 *
 * gf_join's documented order is: pairs with a left row by left row, each
 * left row's matches by right row (left and full joins give a left row
 * without match one row with nulls), then - right and full joins - the
 * right rows that matched no left row, in right order. Probing the table
 * of the whole right side with one batch of left rows gives exactly that
 * order restricted to the batch's rows (gfi_jtable_probe: probe order,
 * each row's matches in build order), so batch outputs in batch order are
 * the in-memory output's rows in order. The right rows without a match
 * are only known after the last batch: one flag per right row, set from
 * every batch's pairs, collects them. The output rows are gathered by
 * gf_join's own code (gfi_join_mem with the pairs given), so names,
 * nullability and values are the in-memory join's.
 */
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/join_stream.h"
#include "ops/sort_join_internal.h"

#define MAX_KEYS 64

struct gfi_join_stream {
  gf_frame *right;
  gf_schema *lschema;
  const char *const *left_on;
  const char *const *right_on;
  int nkeys;
  gf_join_kind how;
  const char *suffix;
  int lcols[MAX_KEYS], rcols[MAX_KEYS], cls[MAX_KEYS];
  bool bigl[MAX_KEYS], bigr[MAX_KEYS];
  bool with_hash;
  gfi_jside rs;
  bool rmade;
  gfi_jtable *table;
  uint8_t *matched; /* right and full joins: right row matched by some batch */
  int64_t nright;
  bool finished;
  gf_parallel_options o;
  const gf_allocator *a;
};

void gfi_join_stream_free(gfi_join_stream *j) {
  if (!j) return;
  if (j->table) gfi_jtable_free(j->table);
  if (j->rmade) gfi_jside_free(&j->rs);
  if (j->matched) gfi_mfree(j->a, j->matched, (size_t)(j->nright ? j->nright : 1));
  gf_frame_release(j->right);
  gf_schema_release(j->lschema);
  gfi_mfree(j->a, j, sizeof *j);
}

gf_status gfi_join_stream_new(const gf_frame *right, const gf_schema *left_schema,
                              const char *const *left_on, const char *const *right_on, int nkeys,
                              gf_join_kind how, const char *suffix, const gf_parallel_options *lo,
                              gfi_join_stream **out, gf_error *err) {
  if (!right || !left_schema || !out || !left_on || !right_on)
    return gf_error_set(err, GF_EINVAL, "streaming join: NULL argument");
  if (nkeys < 1) return gf_error_set(err, GF_EINVAL, "gf_join: no join keys");
  if (nkeys > MAX_KEYS) return gf_error_set(err, GF_EINVAL, "gf_join: more than 64 keys");
  if ((unsigned)how > GF_JOIN_ANTI)
    return gf_error_set(err, GF_EINVAL, "gf_join: unknown join kind %d", (int)how);
  const gf_allocator *a = gfi_alloc_or_default(lo->allocator);
  gfi_join_stream *j = gfi_calloc(a, sizeof *j);
  if (!j) return GF_OOM(err, "streaming join state");
  j->a = a;
  j->o = *lo;
  j->right = gf_frame_retain((gf_frame *)right);
  j->lschema = gf_schema_retain((gf_schema *)left_schema);
  j->left_on = left_on;
  j->right_on = right_on;
  j->nkeys = nkeys;
  j->how = how;
  j->suffix = suffix;
  j->nright = gf_frame_num_rows(right);
  gf_status st = GF_OK;
  /* The keys, checked as gf_join checks them (same messages). */
  for (int k = 0; k < nkeys && st == GF_OK; k++) {
    if (!left_on[k] || !right_on[k]) {
      st = gf_error_set(err, GF_EINVAL, "gf_join: NULL key name");
      break;
    }
    j->lcols[k] = gf_schema_find(left_schema, left_on[k]);
    j->rcols[k] = gf_schema_find(right->schema, right_on[k]);
    if (j->lcols[k] < 0) {
      st = gf_error_set(err, GF_EINVAL, "join: no column '%s' on the left", left_on[k]);
      break;
    }
    if (j->rcols[k] < 0) {
      st = gf_error_set(err, GF_EINVAL, "join: no column '%s' on the right", right_on[k]);
      break;
    }
    gf_datatype lt = left_schema->fields[j->lcols[k]].type;
    gf_datatype rt = right->schema->fields[j->rcols[k]].type;
    j->cls[k] = gfi_join_key_class(lt, rt, &j->bigl[k], &j->bigr[k]);
    if (j->cls[k] < 0) {
      char a1[64], a2[64];
      st = gf_error_set(err, GF_ETYPE, "join: cannot compare key '%s' (%s) with '%s' (%s)",
                        left_on[k], gf_type_format(lt, a1, sizeof a1), right_on[k],
                        gf_type_format(rt, a2, sizeof a2));
    }
  }
  j->with_hash = nkeys > 1 || j->cls[0] == GFI_JC_BYTES || j->cls[0] == GFI_JC_NULL;
  /* The build side: its prepared keys and hash table live until free. */
  if (st == GF_OK) {
    st = gfi_jside_make(right, j->rcols, j->cls, nkeys, j->bigr, j->with_hash, &j->o, &j->rs, err);
    j->rmade = st == GF_OK;
  }
  if (st == GF_OK) st = gfi_jtable_build(&j->rs, &j->o, &j->table, err);
  if (st == GF_OK && (how == GF_JOIN_RIGHT || how == GF_JOIN_FULL)) {
    j->matched = gfi_calloc(a, (size_t)(j->nright ? j->nright : 1));
    if (!j->matched) st = GF_OOM(err, "streaming join match flags");
  }
  if (st != GF_OK) {
    gfi_join_stream_free(j);
    return st;
  }
  *out = j;
  return GF_OK;
}

/* The output rows of the pairs (taken over; freed here whatever happens)
 * of left frame `left`. */
static gf_status gather(gfi_join_stream *j, const gf_frame *left, gfi_join_pairs *pairs,
                        gf_frame **out, gf_error *err) {
  gf_join_options jo;
  gf_join_options_init(&jo);
  gf_parallel_options po = j->o;
  po.stats = NULL;
  jo.parallel = &po;
  if (j->suffix) jo.suffix = j->suffix;
  gf_status st = gfi_join_mem(left, j->right, j->left_on, j->right_on, j->nkeys, j->how, &jo, pairs,
                              NULL, out, err);
  /* gfi_join_mem takes the arrays over once it gets that far. */
  size_t rb = sizeof(int64_t) * (size_t)(pairs->count ? pairs->count : 1);
  if (pairs->l) gfi_mfree(j->a, pairs->l, rb);
  if (pairs->r) gfi_mfree(j->a, pairs->r, rb);
  pairs->l = pairs->r = NULL;
  return st;
}

gf_status gfi_join_stream_probe(gfi_join_stream *j, const gf_frame *batch, gf_frame **out,
                                gf_error *err) {
  if (!j || !batch || !out) return gf_error_set(err, GF_EINVAL, "streaming join: NULL argument");
  if (j->finished) return gf_error_set(err, GF_EINVAL, "streaming join: probe after finish");
  if (!gf_schema_equals(batch->schema, j->lschema))
    return gf_error_set(err, GF_EINVAL, "streaming join: a left batch of another schema");
  gfi_probe_mode mode = GFI_PROBE_INNER;
  switch (j->how) {
  case GF_JOIN_INNER:
  case GF_JOIN_RIGHT: mode = GFI_PROBE_INNER; break;
  case GF_JOIN_LEFT:
  case GF_JOIN_FULL: mode = GFI_PROBE_OUTER; break;
  case GF_JOIN_SEMI: mode = GFI_PROBE_SEMI; break;
  case GF_JOIN_ANTI: mode = GFI_PROBE_ANTI; break;
  }
  gfi_jside ls;
  memset(&ls, 0, sizeof ls);
  gf_status st =
      gfi_jside_make(batch, j->lcols, j->cls, j->nkeys, j->bigl, j->with_hash, &j->o, &ls, err);
  if (st != GF_OK) return st;
  gfi_join_pairs pairs = {NULL, NULL, 0};
  /* The output's size is checked by the memory limit's allocator as it is
   * gathered (a batch's output, not the whole join's). */
  st = gfi_jtable_probe(j->table, &ls, mode, false, 0, 0, &j->o, &pairs.l, &pairs.r, &pairs.count,
                        err);
  gfi_jside_free(&ls);
  if (st != GF_OK) return st;
  if (j->matched)
    for (int64_t i = 0; i < pairs.count; i++)
      if (pairs.r[i] >= 0) j->matched[pairs.r[i]] = 1;
  return gather(j, batch, &pairs, out, err);
}

gf_status gfi_join_stream_finish(gfi_join_stream *j, gf_frame **out, gf_error *err) {
  if (!j || !out) return gf_error_set(err, GF_EINVAL, "streaming join: NULL argument");
  *out = NULL;
  if (j->finished) return gf_error_set(err, GF_EINVAL, "streaming join: finished twice");
  j->finished = true;
  if (!j->matched) return GF_OK;
  int64_t m = 0;
  for (int64_t i = 0; i < j->nright; i++) m += !j->matched[i];
  if (m == 0) return GF_OK;
  size_t rb = sizeof(int64_t) * (size_t)m;
  gfi_join_pairs pairs = {gfi_malloc(j->a, rb), gfi_malloc(j->a, rb), m};
  gf_frame *empty = NULL;
  gf_status st = GF_OK;
  if (!pairs.l || !pairs.r) st = GF_OOM(err, "streaming join unmatched rows");
  for (int64_t i = 0, w = 0; st == GF_OK && i < j->nright; i++)
    if (!j->matched[i]) {
      pairs.l[w] = -1;
      pairs.r[w++] = i;
    }
  /* Left columns of these rows are all null: gathered from no rows. */
  if (st == GF_OK) st = gf_frame_new(j->lschema, NULL, 0, j->a, &empty, err);
  if (st == GF_OK) {
    st = gather(j, empty, &pairs, out, err);
    gf_frame_release(empty);
    return st;
  }
  if (pairs.l) gfi_mfree(j->a, pairs.l, rb);
  if (pairs.r) gfi_mfree(j->a, pairs.r, rb);
  return st;
}
