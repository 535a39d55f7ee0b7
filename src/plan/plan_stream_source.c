/*
 * The source of a streaming run (plan/plan_internal.h, docs/STREAMING.md):
 * which scan nodes stream, and the gfi_source each opens with the run's
 * loaded options. Split from the driver (plan_stream.c) so that sources
 * can be added without touching the sink side.
 *
 *   scan_csv      one regular file: gfi_source_csv, window by window;
 *   scan_ipc      one regular Arrow IPC file: gfi_source_ipc, record batch
 *                 by record batch (footer-indexed, read ahead in parallel),
 *                 or in the stream format gfi_source_ipc_stream, message
 *                 by message;
 *   scan_parquet  one regular file: gfi_source_parquet, row group by row
 *                 group, pruned by the pushed predicate's statistics;
 *   from_stream   an ArrowArrayStream not yet consumed: gfi_source_arrow_stream,
 *                 batch by batch, on the calling thread;
 *   frame         (tests, `force`) zero-copy slices.
 *
 * With two or more workers the file and frame sources are prefetched
 * (source_prefetch.c). A source whose data was read whole when the plan
 * was built (a pipe), several CSV files or a scan_files source does not stream: the run is materialised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "exec/stream_internal.h"
#include "plan/plan_internal.h"

/* Default bytes of CSV per window; with a memory limit at most 1/16 of it
 * (a window's parsed columns take a few times its bytes). */
#define WINDOW_BYTES ((int64_t)16 << 20)
#define WINDOW_MIN ((int64_t)1 << 20)

/* True when `path` starts with the IPC file magic "ARROW1" (else it is
 * read as the stream format, message by message, as gf_read_ipc does). */
static bool is_ipc_file(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return false;
  char m[6];
  size_t n = fread(m, 1, sizeof m, fp);
  fclose(fp);
  return n == sizeof m && memcmp(m, "ARROW1", 6) == 0;
}

bool gfi_plan_stream_source_ok(const gf_plan *p, bool force) {
  switch (p->kind) {
  case GF_PLAN_CSV:
    return p->csv->npaths == 1 && !(p->csv->mem && p->csv->mem[0]);
  case GF_PLAN_IPC:
    return !p->ipc->mem;
  case GF_PLAN_PARQUET:
    return !p->pq->mem;
  case GF_PLAN_STREAM:
    return !atomic_load(&p->stream->consumed);
  case GF_PLAN_FRAME:
    return force;
  default:
    return false;
  }
}

/* The CSV source's frame-wide dictionaries, through the generic hook. */
static gf_array *csv_dictionary(gfi_source *s, int c) { return gfi_source_csv_dictionary(s, c); }

/* Read-ahead of the file sources: one batch per worker. */
static int ahead_of(const gf_parallel_options *lo) {
  int w = lo->num_workers > 0 ? lo->num_workers : gf_default_num_workers();
  return w < 1 ? 1 : w > GFI_SOURCE_MAX_AHEAD ? GFI_SOURCE_MAX_AHEAD : w;
}

/* With two or more workers, the next batch is made while the driver runs
 * the current one (source_prefetch.c): one batch ready ahead. With one
 * worker the run stays on the calling thread. On failure the source is
 * freed. */
static gf_status prefetch(const gf_parallel_options *lo, gfi_source **s, gf_error *err) {
  /* GF_STREAM_PREFETCH=0 turns it off: a diagnostic, and the "before" of
   * bench/stream_sources.sh (the results are the same either way). */
  const char *env = getenv("GF_STREAM_PREFETCH");
  if (ahead_of(lo) < 2 || (env && strcmp(env, "0") == 0)) return GF_OK;
  gfi_source *w = NULL;
  gf_status st = gfi_source_prefetch(*s, 1, &w, err);
  if (st != GF_OK) {
    (*s)->free(*s);
    *s = NULL;
    return st;
  }
  *s = w;
  return GF_OK;
}

gf_status gfi_plan_stream_source(const gf_plan *src, const gf_parallel_options *lo,
                                 int64_t window, gfi_source **out, gf_error *err) {
  *out = NULL;
  const char *const *proj = src->nproj >= 0 ? (const char *const *)src->proj : NULL;
  gf_status st = GF_OK;
  switch (src->kind) {
  case GF_PLAN_CSV: {
    gf_csv_read_options ro = src->csv->o;
    if (proj) {
      ro.columns = proj;
      ro.num_columns = src->nproj;
    }
    int64_t w = window > 0 ? window : WINDOW_BYTES;
    int64_t lim = gfi_memory_limit(lo);
    if (window <= 0 && lim > 0 && lim / 16 < w) w = lim / 16 > WINDOW_MIN ? lim / 16 : WINDOW_MIN;
    st = gfi_source_csv(src->csv->paths[0], &ro, lo, w, out, err);
    if (st == GF_OK) (*out)->dictionary = csv_dictionary;
    return st == GF_OK ? prefetch(lo, out, err) : st;
  }
  case GF_PLAN_IPC:
    if (is_ipc_file(src->ipc->path))
      st = gfi_source_ipc(src->ipc->path, &src->ipc->o, proj, src->nproj, lo, ahead_of(lo), out, err);
    else
      st = gfi_source_ipc_stream(src->ipc->path, &src->ipc->o, proj, src->nproj, lo, out, err);
    break;
  case GF_PLAN_PARQUET: {
    gf_parquet_read_options ro = src->pq->o;
    if (proj) {
      ro.columns = proj;
      ro.num_columns = src->nproj;
    }
    ro.predicate = src->pred; /* pruning only: the steps filter the rows */
    ro.row_groups_skipped = NULL;
    int64_t skipped = 0;
    st = gfi_source_parquet(src->pq->path, &ro, lo, ahead_of(lo), &skipped, out, err);
    if (st == GF_OK) atomic_store(&src->pq->skipped, skipped);
    break;
  }
  case GF_PLAN_STREAM:
    /* Not prefetched: the producer's callbacks stay on this thread. */
    st = gfi_source_arrow_stream(&src->stream->stream, &src->stream->consumed, proj, src->nproj, lo,
                                 out, err);
    if (st == GF_OK && !gf_schema_equals((*out)->schema, src->schema)) {
      (*out)->free(*out);
      *out = NULL;
      return gf_error_set(err, GF_ENOTSUP, "the stream's schema is not the plan's");
    }
    return st;
  case GF_PLAN_FRAME: {
    gf_frame *f = gf_frame_retain(src->frame);
    if (proj) {
      gf_frame *sel = NULL;
      st = gf_select(f, proj, src->nproj, &sel, err);
      gf_frame_release(f);
      f = sel;
    }
    if (st == GF_OK) st = gfi_source_frame(f, window, out, err);
    gf_frame_release(f);
    return st == GF_OK ? prefetch(lo, out, err) : st;
  }
  default:
    return gf_error_set(err, GF_ENOTSUP, "this source does not stream");
  }
  /* The file sources take their schema from the file as the plan did
   * when it was built; should they differ (the file changed since), the
   * run is materialised, which reports the change as it always did. */
  if (st == GF_OK && !gf_schema_equals((*out)->schema, src->schema)) {
    (*out)->free(*out);
    *out = NULL;
    return gf_error_set(err, GF_ENOTSUP, "the file's schema is not the plan's");
  }
  return st == GF_OK ? prefetch(lo, out, err) : st;
}
