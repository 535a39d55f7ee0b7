/*
 * The Parquet file sink (exec/stream_internal.h): batches are kept (zero
 * copy) until they make whole row groups; those are encoded in parallel
 * over columns and row groups (io/pq_write.c's stream writer) and appended
 * to a temporary file beside the target; finish writes the last, maybe
 * short, row group, the page index and the footer, then renames the file
 * over the target. A failed or cancelled run (free before finish) removes
 * the temporary file, so no partial file is ever left.
 *
 * The bytes equal gf_write_parquet's of the collected result: row group k
 * holds rows [k * R, (k + 1) * R) of the input either way, and a chunk's
 * encoding depends only on the values of its rows (dictionary columns by
 * value: their pages list the entries in order of first use, statistics
 * compare values). One difference is refused instead of followed: a
 * non-nullable field whose data holds nulls, which gf_write_parquet writes
 * OPTIONAL after seeing the whole frame; the sink decides REQUIRED from
 * the schema before the end (row groups go out as they fill), so it fails
 * naming the column and row.
 *
 * Memory: at most one wave of row groups (about 16 column chunks) of
 * input plus the batch that completes it, and each chunk's metadata.
 */
#include <string.h>

#include "exec/stream_internal.h"
#include "data/array_internal.h"
#include "io/pq_write_internal.h"

typedef struct pqsink {
  const gf_allocator *a;
  gf_schema *schema;
  gfi_pqw_stream *w;
  gf_frame **pending; /* batches not yet written, in order */
  int npending, cap_pending;
  int64_t pending_rows;
  int64_t flush_rows; /* write once this many rows are pending */
  int64_t seen_rows;  /* rows pushed so far (error messages) */
} pqsink;

static void release_pending(pqsink *s) {
  for (int i = 0; i < s->npending; i++) gf_frame_release(s->pending[i]);
  s->npending = 0;
  s->pending_rows = 0;
}

static void pqsink_free(gfi_sink *k) {
  if (!k) return;
  pqsink *s = k->state;
  if (s) {
    release_pending(s);
    gfi_mfree(s->a, s->pending, (size_t)s->cap_pending * sizeof *s->pending);
    gfi_pqw_stream_free(s->w);
    gf_schema_release(s->schema);
    gfi_mfree(s->a, s, sizeof *s);
  }
  gfi_mfree(NULL, k, sizeof *k);
}

/* GF_EINVAL when batch `f` has nulls in a column written REQUIRED. */
static gf_status check_nulls(pqsink *s, const gf_frame *f, gf_error *err) {
  int nc = gf_frame_num_columns(f);
  for (int c = 0; c < nc; c++) {
    if (gfi_pqw_stream_optional(s->w, c)) continue;
    for (int b = 0; b < gf_frame_num_batches(f); b++) {
      const gf_array *a = gf_frame_column(f, b, c);
      bool nulls = a->null_count > 0 || (a->dictionary && a->dictionary->null_count > 0);
      if (!nulls) continue;
      return gf_error_set(err, GF_EINVAL,
                          "Parquet sink: column '%s' is declared non-nullable but the batch "
                          "starting at row %lld holds nulls (the sink writes the column REQUIRED, "
                          "decided from the schema before the end); make the field nullable "
                          "or write the collected frame with gf_write_parquet",
                          gf_schema_field(s->schema, c)->name,
                          (long long)(s->seen_rows + gf_frame_batch_offset(f, b)));
    }
  }
  return GF_OK;
}

/* Writes the pending rows: the whole row groups among them, or all of
 * them with `last`; keeps the rest pending. */
static gf_status flush(pqsink *s, bool last, gf_error *err) {
  int64_t R = gfi_pqw_stream_row_group_rows(s->w);
  int64_t whole = last ? s->pending_rows : s->pending_rows / R * R;
  if (whole == 0 && !last) return GF_OK;
  gf_frame *all = NULL, *head = NULL, *rest = NULL;
  gf_status st = GF_OK;
  if (s->npending == 1) {
    all = gf_frame_retain(s->pending[0]);
  } else if (s->npending > 1) {
    /* one frame-wide dictionary per dictionary column, as the encoder wants */
    st = gf_frame_concat(s->pending, s->npending, s->a, &all, err);
  }
  if (st != GF_OK || !all) return st;
  if (whole == s->pending_rows) {
    head = gf_frame_retain(all);
  } else {
    st = gf_frame_slice(all, 0, whole, &head, err);
    if (st == GF_OK) st = gf_frame_slice(all, whole, s->pending_rows - whole, &rest, err);
  }
  if (st == GF_OK) st = gfi_pqw_stream_write(s->w, head, last, err);
  gf_frame_release(head);
  gf_frame_release(all);
  if (st != GF_OK) {
    gf_frame_release(rest);
    return st;
  }
  int64_t left = s->pending_rows - whole;
  release_pending(s);
  if (rest) {
    s->pending[0] = rest;
    s->npending = 1;
    s->pending_rows = left;
  }
  return GF_OK;
}

static gf_status pqsink_push(gfi_sink *k, const gf_frame *f, int64_t pos, gf_error *err) {
  (void)pos; /* batches come in order */
  pqsink *s = k->state;
  int64_t rows = gf_frame_num_rows(f);
  if (rows == 0) return GF_OK;
  GF_RETURN_NOT_OK(check_nulls(s, f, err));
  if (s->npending == s->cap_pending) {
    int nc = s->cap_pending ? 2 * s->cap_pending : 8;
    gf_frame **p = gfi_malloc(s->a, (size_t)nc * sizeof *p);
    if (!p) return GF_OOM(err, "the Parquet sink's batch list");
    if (s->npending) memcpy(p, s->pending, (size_t)s->npending * sizeof *p);
    gfi_mfree(s->a, s->pending, (size_t)s->cap_pending * sizeof *p);
    s->pending = p;
    s->cap_pending = nc;
  }
  s->pending[s->npending++] = gf_frame_retain((gf_frame *)f);
  s->pending_rows += rows;
  s->seen_rows += rows;
  if (s->pending_rows >= s->flush_rows) return flush(s, false, err);
  return GF_OK;
}

static gf_status pqsink_finish(gfi_sink *k, gf_frame **out, gf_error *err) {
  pqsink *s = k->state;
  *out = NULL;
  GF_RETURN_NOT_OK(flush(s, true, err));
  return gfi_pqw_stream_finish(s->w, err);
}

gf_status gfi_sink_parquet_file(const gf_schema *schema, const char *path,
                                const gf_parquet_write_options *o, const gf_parallel_options *po,
                                gfi_sink **out, gf_error *err) {
  const gf_allocator *a = gfi_alloc_or_default(po->allocator);
  gfi_sink *k = gfi_calloc(NULL, sizeof *k);
  pqsink *s = gfi_calloc(a, sizeof *s);
  if (!k || !s) {
    if (k) gfi_mfree(NULL, k, sizeof *k);
    if (s) gfi_mfree(a, s, sizeof *s);
    return GF_OOM(err, "a Parquet sink");
  }
  k->state = s;
  k->push = pqsink_push;
  k->finish = pqsink_finish;
  k->free = pqsink_free;
  k->finish_into = NULL; /* a file sink ends the chain */
  s->a = a;
  s->schema = gf_schema_retain((gf_schema *)schema);
  gf_status st = gfi_pqw_stream_open(schema, path, o, po, &s->w, err);
  if (st == GF_OK) {
    /* A wave of the writer: about 16 chunks over the columns. */
    int nc = gf_schema_num_fields(schema);
    int64_t per_wave = nc > 0 ? (16 + nc - 1) / nc : 1;
    int64_t R = gfi_pqw_stream_row_group_rows(s->w);
    s->flush_rows = R > INT64_MAX / per_wave ? R : per_wave * R;
  }
  if (st != GF_OK) {
    pqsink_free(k);
    return st;
  }
  *out = k;
  return GF_OK;
}
