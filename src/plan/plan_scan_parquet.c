/*
 * The Parquet plan source (gf_plan_scan_parquet): the schema comes from the
 * footer when the plan is built; a run reads only the projected columns'
 * chunks and hands the pushed predicate to the reader, which skips the row
 * groups whose statistics rule it out and filters the rows by late
 * materialisation (filter_rows). The predicate stays on the source node,
 * so the run still filters the rows read (bind_sources in plan_exec.c),
 * exactly as for the CSV and IPC scans.
 */
#include <string.h>
#include <sys/stat.h>

#include "plan/plan_internal.h"

void gfi_pq_src_release(gfi_pq_src *s) {
  if (!s || !gfi_ref_dec(&s->ref)) return;
  gfi_plan_strfree(s->path);
  gfi_plan_names_free(s->columns, s->o.num_columns);
  gf_frame_release(s->mem);
  gfi_mfree(NULL, s, sizeof *s);
}

/* A source record for `path` with a deep copy of the caller's options
 * (NULL = defaults; a shorter struct accepted), or NULL when out of
 * memory. */
static gfi_pq_src *pq_src_new(const char *path, const gf_parquet_read_options *o) {
  gfi_pq_src *s = gfi_calloc(NULL, sizeof *s);
  if (!s) return NULL;
  gfi_ref_init(&s->ref);
  atomic_init(&s->skipped, -1);
  if (o)
    memcpy(&s->o, o, o->size && o->size < sizeof s->o ? o->size : sizeof s->o);
  else
    gf_parquet_read_options_init(&s->o);
  s->o.size = sizeof s->o;
  s->o.predicate = NULL;
  s->o.parallel = NULL;
  s->o.row_groups_skipped = NULL;
  s->o.page_rows_skipped = NULL;
  const char *const *user_cols = s->o.columns;
  int ncols = user_cols ? s->o.num_columns : 0;
  s->o.columns = NULL;
  s->o.num_columns = 0;
  s->path = gfi_plan_strdup(path);
  bool ok = s->path != NULL;
  if (ok && user_cols) {
    s->columns = gfi_plan_names_copy(user_cols, ncols);
    if (s->columns) {
      s->o.columns = (const char *const *)s->columns;
      s->o.num_columns = ncols;
    } else {
      ok = false;
    }
  }
  if (!ok) {
    gfi_pq_src_release(s);
    return NULL;
  }
  return s;
}

/* The options of a build-time read: the caller's `b` (NULL = defaults;
 * a shorter struct is accepted) without its statistics. */
static void build_options(const gf_parallel_options *b, gf_parallel_options *po) {
  gf_parallel_options_init(po);
  if (b) memcpy(po, b, b->size && b->size < sizeof *po ? b->size : sizeof *po);
  po->size = sizeof *po;
  po->stats = NULL;
}

gf_status gf_plan_scan_parquet_with(const char *path, const gf_parquet_read_options *o,
                                    const gf_parallel_options *build, gf_plan **out,
                                    gf_error *err) {
  if (!path || !out) return gf_error_set(err, GF_EINVAL, "gf_plan_scan_parquet: NULL argument");
  if (o && o->columns && o->num_columns < 0)
    return gf_error_set(err, GF_EINVAL, "gf_plan_scan_parquet: negative num_columns");
  if (o && o->columns)
    for (int i = 0; i < o->num_columns; i++)
      if (!o->columns[i])
        return gf_error_set(err, GF_EINVAL, "gf_plan_scan_parquet: column name %d is NULL", i);
  gf_plan *p = gfi_plan_alloc(GF_PLAN_PARQUET);
  gfi_pq_src *s = p ? pq_src_new(path, o) : NULL;
  if (!s) {
    gf_plan_release(p);
    return GF_OOM(err, "Parquet source");
  }
  p->pq = s;
  gf_parallel_options po;
  build_options(build, &po);
  gf_parquet_read_options so = s->o;
  so.parallel = &po;
  /* A pipe cannot be read twice (nor seeked to its footer): read it whole
   * now; runs start from this frame. A path that cannot be stat'ed is
   * left to the footer read, which reports the error. */
  struct stat sb;
  bool once = stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
  gf_status st;
  if (once) {
    so.input_mode = GF_INPUT_READ;
    st = gf_read_parquet(path, &so, &s->mem, err);
    if (st == GF_OK) p->src_schema = gf_schema_retain(gf_frame_schema(s->mem));
  } else {
    st = gf_parquet_read_schema(path, &so, &p->src_schema, NULL, err);
  }
  if (st != GF_OK) {
    gf_plan_release(p);
    return st;
  }
  return gfi_plan_finish(p, out, err);
}

gf_status gf_plan_scan_parquet(const char *path, const gf_parquet_read_options *o, gf_plan **out,
                               gf_error *err) {
  return gf_plan_scan_parquet_with(path, o, NULL, out, err);
}

gf_status gfi_parquet_read(const gf_plan *p, const gf_parallel_options *o, gf_frame **out,
                           gf_error *err) {
  const gfi_pq_src *s = p->pq;
  if (s->mem) {
    /* Read whole at build (a pipe): the projection is a select of it. */
    if (p->nproj < 0) {
      *out = gf_frame_retain(s->mem);
      return GF_OK;
    }
    return gf_select(s->mem, (const char *const *)p->proj, p->nproj, out, err);
  }
  gf_parquet_read_options ro = s->o;
  ro.parallel = o;
  if (p->nproj >= 0) {
    /* The projection lists source columns in source order; the reader
     * returns them in the order asked, so no select is needed after. */
    ro.columns = (const char *const *)p->proj;
    ro.num_columns = p->nproj;
  }
  /* The reader prunes row groups and filters the rows (late
   * materialisation); the run filters again, a no-op on these rows. */
  ro.predicate = p->pred;
  ro.filter_rows = p->pred != NULL;
  int64_t skipped = 0;
  ro.row_groups_skipped = &skipped;
  gf_status st = gf_read_parquet(s->path, &ro, out, err);
  if (st == GF_OK) atomic_store(&((gfi_pq_src *)s)->skipped, skipped);
  return st;
}

int64_t gf_plan_parquet_row_groups_skipped(const gf_plan *scan) {
  /* Down the first inputs to the source, so a whole plan may be given. */
  while (scan && scan->nin > 0) scan = scan->in[0];
  return scan && scan->pq ? atomic_load(&scan->pq->skipped) : -1;
}
