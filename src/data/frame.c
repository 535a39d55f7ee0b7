/* Frames: a schema plus record batches whose columns share chunk
 * boundaries. Immutable and refcounted; slicing is zero-copy, concat keeps
 * batches, and every frame holds one dictionary per dictionary column. */
#include <string.h>

#include "data/array_internal.h"

/* Allocates an empty frame shell with room for nb batches (columns zeroed,
 * schema retained). */
static gf_status frame_alloc(const gf_allocator *a, gf_schema *schema, int nb,
                             gf_frame **out, gf_error *err) {
  int ncols = schema->n;
  gf_frame *f = gfi_calloc(a, sizeof *f);
  if (!f) return GF_OOM(err, "a frame");
  f->allocator = a;
  f->num_batches = nb;
  f->batch_offsets = gfi_calloc(a, sizeof(int64_t) * ((size_t)nb + 1));
  size_t ncells = (size_t)nb * (size_t)ncols;
  if (ncells) f->columns = gfi_calloc(a, sizeof(gf_array *) * ncells);
  if (!f->batch_offsets || (ncells && !f->columns)) {
    gfi_mfree(a, f->batch_offsets, sizeof(int64_t) * ((size_t)nb + 1));
    gfi_mfree(a, f->columns, sizeof(gf_array *) * ncells);
    gfi_mfree(a, f, sizeof *f);
    return GF_OOM(err, "a frame");
  }
  gfi_ref_init(&f->ref);
  f->schema = gf_schema_retain(schema);
  *out = f;
  return GF_OK;
}

/* Releases everything a frame (possibly partly filled) holds. */
static void frame_destroy(gf_frame *f) {
  const gf_allocator *a = f->allocator;
  size_t ncells = (size_t)f->num_batches * (size_t)f->schema->n;
  for (size_t k = 0; k < ncells; k++) gf_array_release(f->columns[k]);
  gfi_mfree(a, f->columns, sizeof(gf_array *) * ncells);
  gfi_mfree(a, f->batch_offsets, sizeof(int64_t) * ((size_t)f->num_batches + 1));
  gf_schema_release(f->schema);
  gfi_mfree(a, f, sizeof *f);
}

/* Gives column c the same dictionary in every batch of f (codes remapped)
 * when its batches use different dictionary objects. */
static gf_status unify_column(gf_frame *f, int c, gf_error *err) {
  int nb = f->num_batches, ncols = f->schema->n;
  bool differ = false;
  for (int b = 1; b < nb; b++)
    if (f->columns[(size_t)b * ncols + c]->dictionary !=
        f->columns[c]->dictionary)
      differ = true;
  if (!differ) return GF_OK;
  size_t bytes = sizeof(gf_array *) * (size_t)nb;
  gf_array **in = gfi_malloc(f->allocator, bytes);
  gf_array **res = gfi_malloc(f->allocator, bytes);
  if (!in || !res) {
    gfi_mfree(f->allocator, in, bytes);
    gfi_mfree(f->allocator, res, bytes);
    return GF_OOM(err, "dictionary unification");
  }
  for (int b = 0; b < nb; b++) in[b] = f->columns[(size_t)b * ncols + c];
  gf_status st = gfi_dictionary_unify(in, nb, f->allocator, res, err);
  if (st == GF_OK) {
    for (int b = 0; b < nb; b++) {
      gf_array_release(f->columns[(size_t)b * ncols + c]);
      f->columns[(size_t)b * ncols + c] = res[b];
    }
  }
  gfi_mfree(f->allocator, in, bytes);
  gfi_mfree(f->allocator, res, bytes);
  return st;
}

/* Builds a frame from already validated batches (`cols` batch-major, each
 * retained here), computing batch offsets and unifying dictionaries. */
static gf_status frame_assemble(gf_schema *schema, gf_array *const *cols, int nb,
                                const gf_allocator *a, gf_frame **out,
                                gf_error *err) {
  int ncols = schema->n;
  /* Lengths are each >= 0; their sum must stay within GF_MAX_ROWS (a null
   * column may claim any length). */
  int64_t total = 0;
  for (int b = 0; b < nb && ncols > 0; b++) {
    int64_t len = cols[(size_t)b * ncols]->length;
    if (len > GF_MAX_ROWS - total)
      return gf_error_set(err, GF_ENOTSUP, "frame of more than GF_MAX_ROWS (2^40) rows "
                          "(batch %d brings the total past it)", b);
    total += len;
  }
  gf_frame *f;
  GF_RETURN_NOT_OK(frame_alloc(a, schema, nb, &f, err));
  int64_t rows = 0;
  for (int b = 0; b < nb; b++) {
    f->batch_offsets[b] = rows;
    if (ncols > 0) rows += cols[(size_t)b * ncols]->length;
    for (int c = 0; c < ncols; c++)
      f->columns[(size_t)b * ncols + c] = gf_array_retain(cols[(size_t)b * ncols + c]);
  }
  f->batch_offsets[nb] = rows;
  f->num_rows = rows;
  if (nb > 1) {
    for (int c = 0; c < ncols; c++) {
      if (schema->fields[c].type.id != GF_TYPE_DICTIONARY) continue;
      gf_status st = unify_column(f, c, err);
      if (st != GF_OK) {
        frame_destroy(f);
        return st;
      }
    }
  }
  *out = f;
  return GF_OK;
}

/* Checks batch b's columns against the schema: present, of the field's
 * type, of one length, and without nulls where the field is not nullable. */
static gf_status check_batch(const gf_schema *schema, gf_array *const *cols, int b,
                             const char *fn, gf_error *err) {
  int ncols = schema->n;
  for (int c = 0; c < ncols; c++) {
    const gf_field *fld = &schema->fields[c];
    const gf_array *arr = cols[(size_t)b * ncols + c];
    if (!arr)
      return gf_error_set(err, GF_EINVAL, "%s: column '%s' of batch %d is NULL",
                          fn, fld->name, b);
    if (!gf_type_equals(arr->type, fld->type)) {
      char want[96], got[96];
      gf_type_format(fld->type, want, sizeof want);
      gf_type_format(arr->type, got, sizeof got);
      return gf_error_set(err, GF_ETYPE,
                          "%s: column '%s' of batch %d has type %s but the schema says %s",
                          fn, fld->name, b, got, want);
    }
    const gf_array *first = cols[(size_t)b * ncols];
    if (arr->length != first->length)
      return gf_error_set(err, GF_EINVAL,
                          "%s: batch %d has columns of unequal length: '%s' has %lld rows, '%s' has %lld",
                          fn, b, schema->fields[0].name, (long long)first->length,
                          fld->name, (long long)arr->length);
    if (!fld->nullable && arr->null_count > 0)
      return gf_error_set(err, GF_EINVAL,
                          "%s: column '%s' is not nullable but batch %d has %lld nulls",
                          fn, fld->name, b, (long long)arr->null_count);
  }
  return GF_OK;
}

/* Builds a frame from num_batches batches of schema->n columns each
 * (retained). Types must equal the schema's, lengths must agree within a
 * batch; dictionary columns get one dictionary for the whole frame. */
gf_status gf_frame_new(gf_schema *schema, gf_array *const *columns, int num_batches,
                       const gf_allocator *alloc, gf_frame **out, gf_error *err) {
  if (!schema || !out)
    return gf_error_set(err, GF_EINVAL, "gf_frame_new: %s is NULL", schema ? "out" : "schema");
  if (num_batches < 0)
    return gf_error_set(err, GF_EINVAL, "gf_frame_new: negative batch count %d", num_batches);
  if (num_batches > 0 && schema->n > 0 && !columns)
    return gf_error_set(err, GF_EINVAL, "gf_frame_new: columns is NULL but %d batches were given",
                        num_batches);
  for (int b = 0; b < num_batches; b++)
    GF_RETURN_NOT_OK(check_batch(schema, columns, b, "gf_frame_new", err));
  return frame_assemble(schema, columns, num_batches, gfi_alloc_or_default(alloc), out, err);
}

/* One-batch frame from named columns (all fields nullable). Memory comes
 * from the first column's allocator, so the frame lives where its data does. */
gf_status gf_frame_from_columns(const char *const *names, gf_array *const *columns, int n,
                                gf_frame **out, gf_error *err) {
  if (!out || n < 0 || (n > 0 && (!names || !columns)))
    return gf_error_set(err, GF_EINVAL, "gf_frame_from_columns: %s",
                        !out ? "out is NULL" : n < 0 ? "negative column count"
                                                     : "names or columns is NULL");
  for (int c = 0; c < n; c++) {
    if (!names[c] || !columns[c])
      return gf_error_set(err, GF_EINVAL, "gf_frame_from_columns: %s %d is NULL",
                          names[c] ? "column" : "name", c);
  }
  const gf_allocator *a = n > 0 ? columns[0]->allocator : gf_default_allocator();
  a = gfi_alloc_or_default(a);
  gf_field *fields = NULL;
  size_t bytes = sizeof(gf_field) * (size_t)(n > 0 ? n : 1);
  fields = gfi_malloc(a, bytes);
  if (!fields) return GF_OOM(err, "frame fields");
  for (int c = 0; c < n; c++) {
    fields[c].name = names[c];
    fields[c].type = columns[c]->type;
    fields[c].nullable = true;
  }
  gf_schema *schema = NULL;
  gf_status st = gf_schema_new(fields, n, &schema, err);
  gfi_mfree(a, fields, bytes);
  if (st != GF_OK) return st;
  st = gf_frame_new(schema, columns, n > 0 ? 1 : 0, a, out, err);
  gf_schema_release(schema);
  return st;
}

/* Adds a reference; NULL allowed. */
gf_frame *gf_frame_retain(gf_frame *f) {
  if (f) gfi_ref_inc(&f->ref);
  return f;
}

/* Drops a reference, freeing the frame with the last one; NULL allowed. */
void gf_frame_release(gf_frame *f) {
  if (f && gfi_ref_dec(&f->ref)) frame_destroy(f);
}

gf_schema *gf_frame_schema(const gf_frame *f) { return f ? f->schema : NULL; }

int64_t gf_frame_num_rows(const gf_frame *f) { return f ? f->num_rows : 0; }

int gf_frame_num_columns(const gf_frame *f) { return f ? f->schema->n : 0; }

int gf_frame_num_batches(const gf_frame *f) { return f ? f->num_batches : 0; }

/* Rows of batch `batch`; 0 when out of range. */
int64_t gf_frame_batch_rows(const gf_frame *f, int batch) {
  if (!f || batch < 0 || batch >= f->num_batches) return 0;
  return f->batch_offsets[batch + 1] - f->batch_offsets[batch];
}

/* Borrowed column; NULL when out of range. */
gf_array *gf_frame_column(const gf_frame *f, int batch, int col) {
  if (!f || batch < 0 || batch >= f->num_batches || col < 0 || col >= f->schema->n)
    return NULL;
  return f->columns[(size_t)batch * f->schema->n + col];
}

/* First row of `batch` (batch == num_batches gives num_rows); -1 when out
 * of range. */
int gfi_frame_batch_of_row(const gf_frame *f, int64_t row) {
  int lo = 0, hi = f->num_batches - 1;
  while (lo < hi) {
    int mid = lo + (hi - lo + 1) / 2;
    if (f->batch_offsets[mid] <= row)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

int64_t gf_frame_batch_offset(const gf_frame *f, int batch) {
  if (!f || batch < 0 || batch > f->num_batches) return -1;
  return f->batch_offsets[batch];
}

/* Zero-copy slice [offset, offset+length): batches wholly inside are
 * retained as they are, the (at most two) partly covered ones are sliced,
 * empty batches are dropped. An empty slice keeps one empty batch so the
 * columns' dictionaries survive. Out-of-range requests fail with GF_EINVAL. */
gf_status gf_frame_slice(const gf_frame *f, int64_t offset, int64_t length,
                         gf_frame **out, gf_error *err) {
  if (!f || !out)
    return gf_error_set(err, GF_EINVAL, "gf_frame_slice: %s is NULL", f ? "out" : "frame");
  if (offset < 0 || length < 0 || offset > f->num_rows || length > f->num_rows - offset)
    return gf_error_set(err, GF_EINVAL,
                        "gf_frame_slice: rows [%lld, %lld + %lld) are outside the frame's %lld rows",
                        (long long)offset, (long long)offset, (long long)length,
                        (long long)f->num_rows);
  int ncols = f->schema->n;
  int64_t end = offset + length;
  int first = -1, nb = 0;
  for (int b = 0; b < f->num_batches; b++) {
    int64_t lo = f->batch_offsets[b], hi = f->batch_offsets[b + 1];
    if (hi > lo && hi > offset && lo < end) {
      if (first < 0) first = b;
      nb++;
    }
  }
  bool empty = nb == 0 && f->num_batches > 0 && ncols > 0;
  if (empty) {
    first = 0;
    nb = 1;
  }
  gf_frame *res;
  GF_RETURN_NOT_OK(frame_alloc(f->allocator, f->schema, nb, &res, err));
  int k = 0;
  int64_t rows = 0;
  for (int b = first; k < nb; b++) {
    int64_t lo = f->batch_offsets[b], hi = f->batch_offsets[b + 1];
    if (!empty && !(hi > lo && hi > offset && lo < end)) continue;
    int64_t s = empty ? 0 : (offset > lo ? offset - lo : 0);
    int64_t e = empty ? 0 : (end < hi ? end - lo : hi - lo);
    res->batch_offsets[k] = rows;
    for (int c = 0; c < ncols; c++) {
      gf_array *src = f->columns[(size_t)b * ncols + c];
      gf_array **dst = &res->columns[(size_t)k * ncols + c];
      if (s == 0 && e == hi - lo) {
        *dst = gf_array_retain(src);
      } else {
        gf_status st = gf_array_slice(src, s, e - s, dst, err);
        if (st != GF_OK) {
          frame_destroy(res);
          return st;
        }
      }
    }
    rows += e - s;
    k++;
  }
  res->batch_offsets[nb] = rows;
  res->num_rows = rows;
  *out = res;
  return GF_OK;
}

/* Appends frames with equal schemas: the result holds every input batch in
 * order (arrays shared, not copied); dictionary columns are unified. */
gf_status gf_frame_concat(gf_frame *const *frames, int n, const gf_allocator *alloc,
                          gf_frame **out, gf_error *err) {
  if (!frames || !out || n <= 0)
    return gf_error_set(err, GF_EINVAL, "gf_frame_concat: %s",
                        !out ? "out is NULL" : "no frames given");
  for (int k = 0; k < n; k++) {
    if (!frames[k])
      return gf_error_set(err, GF_EINVAL, "gf_frame_concat: frame %d is NULL", k);
    if (k > 0 && !gf_schema_equals(frames[k]->schema, frames[0]->schema))
      return gf_error_set(err, GF_ETYPE,
                          "gf_frame_concat: the schema of frame %d differs from that of frame 0",
                          k);
  }
  const gf_allocator *a = gfi_alloc_or_default(alloc);
  gf_schema *schema = frames[0]->schema;
  int ncols = schema->n;
  int64_t nb64 = 0;
  for (int k = 0; k < n; k++) nb64 += frames[k]->num_batches;
  if (nb64 > INT32_MAX)
    return gf_error_set(err, GF_ERANGE, "gf_frame_concat: too many batches (%lld)",
                        (long long)nb64);
  int nb = (int)nb64;
  size_t bytes = sizeof(gf_array *) * ((size_t)nb * (size_t)ncols + 1);
  gf_array **cols = gfi_malloc(a, bytes);
  if (!cols) return GF_OOM(err, "frame concat");
  size_t pos = 0;
  for (int k = 0; k < n; k++) {
    size_t cells = (size_t)frames[k]->num_batches * (size_t)ncols;
    if (cells) memcpy(cols + pos, frames[k]->columns, cells * sizeof(gf_array *));
    pos += cells;
  }
  gf_frame *res = NULL;
  gf_status st = frame_assemble(schema, cols, nb, a, &res, err);
  gfi_mfree(a, cols, bytes);
  if (st != GF_OK) return st;
  *out = res;
  return GF_OK;
}

/* Copies all rows into one batch (gf_array_concat per column). A frame
 * without batches or columns is returned retained. */
gf_status gf_frame_combine_batches(const gf_frame *f, const gf_allocator *alloc,
                                   gf_frame **out, gf_error *err) {
  if (!f || !out)
    return gf_error_set(err, GF_EINVAL, "gf_frame_combine_batches: %s is NULL",
                        f ? "out" : "frame");
  int ncols = f->schema->n, nb = f->num_batches;
  if (nb == 0 || ncols == 0) {
    *out = gf_frame_retain((gf_frame *)f);
    return GF_OK;
  }
  const gf_allocator *a = gfi_alloc_or_default(alloc);
  size_t in_bytes = sizeof(gf_array *) * (size_t)nb;
  size_t res_bytes = sizeof(gf_array *) * (size_t)ncols;
  const gf_array **in = gfi_malloc(a, in_bytes);
  gf_array **res = gfi_calloc(a, res_bytes);
  gf_status st = GF_OK;
  if (!in || !res) st = GF_OOM(err, "combining batches");
  for (int c = 0; st == GF_OK && c < ncols; c++) {
    for (int b = 0; b < nb; b++) in[b] = f->columns[(size_t)b * ncols + c];
    st = gf_array_concat(in, nb, a, &res[c], err);
  }
  gf_frame *frame = NULL;
  if (st == GF_OK) st = frame_assemble(f->schema, res, 1, a, &frame, err);
  if (res)
    for (int c = 0; c < ncols; c++) gf_array_release(res[c]);
  gfi_mfree(a, res, res_bytes);
  gfi_mfree(a, (void *)in, in_bytes);
  if (st == GF_OK) *out = frame;
  return st;
}

/* Equality of value i of x and value j of y (arrays of one type); floats
 * compare bitwise, dictionary columns by their values. */
static bool values_equal(const gf_array *x, int64_t i, const gf_array *y, int64_t j) {
  bool nx = gf_array_is_null(x, i), ny = gf_array_is_null(y, j);
  if (nx || ny) return nx == ny;
  switch (x->type.id) {
    case GF_TYPE_NULL: return true;
    case GF_TYPE_BOOL: return gf_array_get_bool(x, i) == gf_array_get_bool(y, j);
    case GF_TYPE_UINT8:
    case GF_TYPE_UINT16:
    case GF_TYPE_UINT32:
    case GF_TYPE_UINT64: return gf_array_get_uint64(x, i) == gf_array_get_uint64(y, j);
    case GF_TYPE_FLOAT32:
    case GF_TYPE_FLOAT64: {
      double dx = gf_array_get_double(x, i), dy = gf_array_get_double(y, j);
      return memcmp(&dx, &dy, sizeof dx) == 0;
    }
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8:
    case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY:
    case GF_TYPE_FIXED_SIZE_BINARY:
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256: {
      int64_t lx = 0, ly = 0;
      const char *px = gf_array_get_bytes(x, i, &lx);
      const char *py = gf_array_get_bytes(y, j, &ly);
      return lx == ly && (lx == 0 || memcmp(px, py, (size_t)lx) == 0);
    }
    case GF_TYPE_DICTIONARY: {
      int64_t cx = gf_array_get_int64(x, i), cy = gf_array_get_int64(y, j);
      if (x->dictionary == y->dictionary) return cx == cy;
      if (!x->dictionary || !y->dictionary || cx < 0 || cy < 0 ||
          cx >= x->dictionary->length || cy >= y->dictionary->length)
        return false;
      return values_equal(x->dictionary, cx, y->dictionary, cy);
    }
    default: return gf_array_get_int64(x, i) == gf_array_get_int64(y, j);
  }
}

/* Walks a frame's rows batch by batch, skipping empty batches. */
typedef struct cursor {
  const gf_frame *f;
  int batch;
  int64_t row; /* within the batch */
} cursor;

static int64_t cursor_left(cursor *k) {
  while (k->batch < k->f->num_batches &&
         k->row >= gf_frame_batch_rows(k->f, k->batch)) {
    k->batch++;
    k->row = 0;
  }
  return k->batch < k->f->num_batches ? gf_frame_batch_rows(k->f, k->batch) - k->row : 0;
}

/* Same schema and the same values row by row; batch boundaries may differ. */
bool gf_frame_equals(const gf_frame *a, const gf_frame *b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (!gf_schema_equals(a->schema, b->schema) || a->num_rows != b->num_rows) return false;
  int ncols = a->schema->n;
  if (ncols == 0) return true;
  cursor ka = {a, 0, 0}, kb = {b, 0, 0};
  for (;;) {
    int64_t la = cursor_left(&ka), lb = cursor_left(&kb);
    if (la == 0 || lb == 0) return la == lb;
    int64_t n = la < lb ? la : lb;
    for (int c = 0; c < ncols; c++) {
      const gf_array *x = a->columns[(size_t)ka.batch * ncols + c];
      const gf_array *y = b->columns[(size_t)kb.batch * ncols + c];
      for (int64_t r = 0; r < n; r++)
        if (!values_equal(x, ka.row + r, y, kb.row + r)) return false;
    }
    ka.row += n;
    kb.row += n;
  }
}
