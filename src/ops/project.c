/*
 * Projection: gf_select (columns by name, zero-copy) and gf_with_columns
 * (computed columns added or replacing others; untouched columns shared).
 */
#include <string.h>

#include "exec/exec_internal.h"
#include "ops/ops_internal.h"

/* Builds a frame from `f`'s batches taking, for output column c, either
 * input column src[c] (src[c] >= 0) or computed[(-src[c]-1)][batch]. */
static gf_status assemble(const gf_frame *f, const gf_field *fields, const int *src,
                          int n, gf_array **const *computed, const gf_allocator *a,
                          gf_frame **out, gf_error *err) {
  gf_schema *schema;
  GF_RETURN_NOT_OK(gf_schema_new(fields, n, &schema, err));
  int nb = f->num_batches, nin = f->schema->n;
  gf_array **cols = NULL;
  if (nb > 0 && n > 0) {
    cols = gfi_malloc(a, sizeof *cols * (size_t)nb * (size_t)n);
    if (!cols) {
      gf_schema_release(schema);
      return GF_OOM(err, "projected columns");
    }
    for (int b = 0; b < nb; b++)
      for (int c = 0; c < n; c++)
        cols[(size_t)b * (size_t)n + (size_t)c] =
            src[c] >= 0 ? f->columns[(size_t)b * (size_t)nin + (size_t)src[c]]
                        : computed[-src[c] - 1][b];
  }
  gf_status st;
  if (n == 0) {
    /* No columns: keep the row count through batches of nothing. */
    st = gf_frame_new(schema, NULL, 0, a, out, err);
  } else {
    st = gf_frame_new(schema, cols, nb, a, out, err);
  }
  if (cols) gfi_mfree(a, cols, sizeof *cols * (size_t)nb * (size_t)n);
  gf_schema_release(schema);
  return st;
}

gf_status gf_select(const gf_frame *f, const char *const *names, int n,
                    gf_frame **out, gf_error *err) {
  if (!f || !out || n < 0 || (n > 0 && !names))
    return gf_error_set(err, GF_EINVAL, "gf_select: invalid argument");
  const gf_allocator *a = gf_default_allocator();
  gf_field *fields = n ? gfi_malloc(a, sizeof *fields * (size_t)n) : NULL;
  int *src = n ? gfi_malloc(a, sizeof *src * (size_t)n) : NULL;
  gf_status st = GF_OK;
  if (n && (!fields || !src)) st = GF_OOM(err, "selection");
  for (int i = 0; i < n && st == GF_OK; i++) {
    if (!names[i]) {
      st = gf_error_set(err, GF_EINVAL, "gf_select: name %d is NULL", i);
      break;
    }
    int c = gf_schema_find(f->schema, names[i]);
    if (c < 0) {
      st = gf_error_set(err, GF_EINVAL, "unknown column '%.300s'", names[i]);
      break;
    }
    for (int k = 0; k < i; k++)
      if (src[k] == c) st = gf_error_set(err, GF_EINVAL, "column '%.300s' selected twice", names[i]);
    src[i] = c;
    fields[i] = *gf_schema_field(f->schema, c);
  }
  if (st == GF_OK) st = assemble(f, fields, src, n, NULL, a, out, err);
  if (fields) gfi_mfree(a, fields, sizeof *fields * (size_t)n);
  if (src) gfi_mfree(a, src, sizeof *src * (size_t)n);
  return st;
}

/* gf_with_columns once its call context is loaded: every return of it goes
 * through gfi_ctx_end in gf_with_columns. */
static gf_status gf_with_columns_loaded(const gf_frame *f, const char *const *names,
                                        gf_expr *const *exprs, int n,
                                        const gf_parallel_options *opts, gf_frame **out,
                                        gf_error *err, gf_parallel_options o) {
  const gf_allocator *a = gfi_alloc_or_default(o.allocator);
  int nin = f->schema->n, nb = f->num_batches;
  for (int i = 0; i < n; i++) {
    if (!names[i] || !exprs[i])
      return gf_error_set(err, GF_EINVAL, "gf_with_columns: entry %d is NULL", i);
    for (int k = 0; k < i; k++)
      if (strcmp(names[k], names[i]) == 0)
        return gf_error_set(err, GF_EINVAL, "column '%.300s' given twice", names[i]);
  }
  /* Bind everything first: type errors before any row is touched. */
  gf_bound_expr **bound = n ? gfi_calloc(a, sizeof *bound * (size_t)n) : NULL;
  gf_array ***computed = n ? gfi_calloc(a, sizeof *computed * (size_t)n) : NULL;
  int nout = nin;
  gf_field *fields = gfi_malloc(a, sizeof *fields * (size_t)(nin + n + 1));
  int *src = gfi_malloc(a, sizeof *src * (size_t)(nin + n + 1));
  gf_status st = GF_OK;
  if ((n && (!bound || !computed)) || !fields || !src) st = GF_OOM(err, "with_columns state");
  for (int i = 0; i < n && st == GF_OK; i++)
    st = gfi_expr_bind(exprs[i], f->schema, a, &bound[i], err);
  for (int i = 0; i < n && st == GF_OK; i++) {
    if (nb > 0) {
      computed[i] = gfi_calloc(a, sizeof(gf_array *) * (size_t)nb);
      if (!computed[i]) {
        st = GF_OOM(err, "computed columns");
        break;
      }
    }
    st = gfi_evaluate_bound(f, bound[i], &o, computed[i], err);
    if (st != GF_OK && computed[i]) {
      gfi_mfree(a, computed[i], sizeof(gf_array *) * (size_t)nb);
      computed[i] = NULL;
    }
  }
  if (st == GF_OK) {
    for (int c = 0; c < nin; c++) {
      fields[c] = *gf_schema_field(f->schema, c);
      src[c] = c;
    }
    for (int i = 0; i < n; i++) {
      int c = gf_schema_find(f->schema, names[i]);
      gf_field fl = {names[i], gf_bound_expr_type(bound[i]), true};
      if (c < 0) c = nout++;
      fields[c] = fl;
      src[c] = -i - 1;
    }
    st = assemble(f, fields, src, nout, (gf_array **const *)computed, a, out, err);
  }
  for (int i = 0; i < n; i++) {
    if (computed && computed[i]) {
      for (int b = 0; b < nb; b++) gf_array_release(computed[i][b]);
      gfi_mfree(a, computed[i], sizeof(gf_array *) * (size_t)nb);
    }
    if (bound) gf_bound_expr_free(bound[i]);
  }
  if (bound) gfi_mfree(a, bound, sizeof *bound * (size_t)n);
  if (computed) gfi_mfree(a, computed, sizeof *computed * (size_t)n);
  if (fields) gfi_mfree(a, fields, sizeof *fields * (size_t)(nin + n + 1));
  if (src) gfi_mfree(a, src, sizeof *src * (size_t)(nin + n + 1));
  return st;
}

gf_status gf_with_columns(const gf_frame *f, const char *const *names,
                          gf_expr *const *exprs, int n,
                          const gf_parallel_options *opts, gf_frame **out,
                          gf_error *err) {
  if (!f || !out || n < 0 || (n > 0 && (!names || !exprs)))
    return gf_error_set(err, GF_EINVAL, "gf_with_columns: invalid argument");
  gfi_ctx call;
  gf_parallel_options o;
  GF_RETURN_NOT_OK(gfi_ctx_load(&call, opts, &o, err));
  return gfi_ctx_end(&call, gf_with_columns_loaded(f, names, exprs, n, opts, out, err, o), err);
}
