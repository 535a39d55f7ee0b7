/*
 * Dictionary unification: gives several dictionary arrays one shared
 * dictionary (values in order of first appearance) and remaps their codes.
 * Used by concat, frames and the chunked readers.
 */
#include <string.h>

#include "data/builder_internal.h"

/* Per-input remapping state. `map` may be shared between inputs with the
 * same dictionary object (then `owns_map` is false for the later ones). */
typedef struct unify_input {
  int32_t *map;      /* old code -> new code, -1 = the value is null */
  int64_t map_len;
  bool owns_map;
  bool identity;     /* map[j] == j for every j */
} unify_input;

static void free_inputs(const gf_allocator *a, unify_input *u, int n) {
  if (!u) return;
  for (int i = 0; i < n; i++)
    if (u[i].owns_map && u[i].map)
      gfi_mfree(a, u[i].map, sizeof(int32_t) * (size_t)(u[i].map_len ? u[i].map_len : 1));
  gfi_mfree(a, u, sizeof(unify_input) * (size_t)n);
}

/* Remaps the codes of `src` through `map` into a new array over `dict`.
 * Codes whose value is null (or out of range) become null slots. */
static gf_status remap_codes(const gf_allocator *a, const gf_array *src,
                             const int32_t *map, int64_t map_len,
                             gf_array *dict, gf_array **out, gf_error *err) {
  int64_t n = src->length;
  gf_buffer *bufs[3] = {NULL, NULL, NULL};
  if (gfi_buffer_alloc(a, (size_t)n * 4, &bufs[1]) != GF_OK)
    return GF_OOM(err, "dictionary codes");
  if (gfi_buffer_alloc(a, (size_t)gfi_bitmap_bytes(n), &bufs[0]) != GF_OK) {
    gf_buffer_release(bufs[1]);
    return GF_OOM(err, "dictionary validity");
  }
  int32_t *codes = gf_buffer_mutable_data(bufs[1]);
  uint8_t *valid = gf_buffer_mutable_data(bufs[0]);
  const int32_t *old = (const int32_t *)gfi_buf(src, 1);
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; i++) {
    int32_t c = -1;
    if (gfi_is_valid(src, i)) {
      int32_t o = old[src->offset + i];
      if (o >= 0 && o < map_len) c = map[o];
    }
    if (c < 0) {
      nulls++;
    } else {
      codes[i] = c;
      gfi_bit_set(valid, i);
    }
  }
  return gfi_array_make(a, src->type, n, 0, nulls, bufs, dict, out, err);
}

/* See array_internal.h. */
gf_status gfi_dictionary_unify(gf_array *const *in, int n,
                               const gf_allocator *a, gf_array **out,
                               gf_error *err) {
  return gfi_dictionary_unify_max(in, n, -1, a, out, err);
}

/* See array_internal.h. */
gf_status gfi_dictionary_unify_max(gf_array *const *in, int n, int64_t max_values,
                                   const gf_allocator *a, gf_array **out, gf_error *err) {
  if (!in || !out || n < 1)
    return gf_error_set(err, GF_EINVAL, "gfi_dictionary_unify: bad arguments");
  for (int i = 0; i < n; i++) {
    if (!in[i] || in[i]->type.id != GF_TYPE_DICTIONARY || !in[i]->dictionary)
      return gf_error_set(err, GF_ETYPE, "input %d is not a dictionary array",
                          i);
    if (!gf_type_equals(in[i]->type, in[0]->type)) {
      char t0[96], ti[96];
      return gf_error_set(err, GF_ETYPE,
                          "cannot unify %s with %s (input %d)",
                          gf_type_format(in[0]->type, t0, sizeof t0),
                          gf_type_format(in[i]->type, ti, sizeof ti), i);
    }
  }
  bool shared = true;
  for (int i = 1; i < n; i++)
    if (in[i]->dictionary != in[0]->dictionary) shared = false;
  if (shared) {
    bool over = max_values >= 0 && in[0]->dictionary->length > max_values;
    for (int i = 0; i < n; i++) out[i] = over ? NULL : gf_array_retain(in[i]);
    return GF_OK;
  }

  a = gfi_alloc_or_default(a);
  gf_status st = GF_OK;
  gf_builder *db = NULL;
  gf_array *codes_tmp = NULL, *merged = NULL;
  gf_array **res = NULL;
  unify_input *u = gfi_calloc(a, sizeof(unify_input) * (size_t)n);
  if (!u) return GF_OOM(err, "dictionary unification state");
  res = gfi_calloc(a, sizeof(gf_array *) * (size_t)n);
  if (!res) {
    st = GF_OOM(err, "dictionary unification results");
    goto done;
  }
  st = gf_builder_new(in[0]->type, a, &db, err);
  if (st != GF_OK) goto done;

  /* Merge the dictionaries in input order, recording each remapping. */
  int64_t values = 0; /* in the merged dictionary so far */
  bool over = false;
  for (int i = 0; i < n && !over; i++) {
    const gf_array *d = in[i]->dictionary;
    int k = 0;
    while (k < i && in[k]->dictionary != d) k++;
    if (k < i) {
      u[i] = u[k];
      u[i].owns_map = false;
      continue;
    }
    u[i].map_len = d->length;
    u[i].owns_map = true;
    u[i].map = gfi_malloc(a, sizeof(int32_t) * (size_t)(d->length ? d->length : 1));
    if (!u[i].map) {
      st = GF_OOM(err, "dictionary code map");
      goto done;
    }
    u[i].identity = true;
    for (int64_t j = 0; j < d->length; j++) {
      int32_t code = -1;
      if (gfi_is_valid(d, j)) {
        st = gfi_builder_append_from(db, d, j, &code, err);
        if (st != GF_OK) goto done;
      }
      u[i].map[j] = code;
      if (code != j) u[i].identity = false;
      if (code >= values) values = (int64_t)code + 1;
    }
    over = max_values >= 0 && values > max_values;
  }
  if (over) {
    for (int i = 0; i < n; i++) out[i] = NULL;
    goto done;
  }
  st = gf_builder_finish(db, &codes_tmp, err);
  if (st != GF_OK) goto done;
  /* When the first dictionary already holds every value, keep it. */
  if (u[0].identity && in[0]->dictionary->length ==
                           codes_tmp->dictionary->length)
    merged = gf_array_retain(in[0]->dictionary);
  else
    merged = gf_array_retain(codes_tmp->dictionary);

  for (int i = 0; i < n; i++) {
    const gf_array *src = in[i];
    if (u[i].identity && src->dictionary == merged) {
      res[i] = gf_array_retain(in[i]);
    } else if (u[i].identity) {
      /* Same codes, new dictionary: share the code buffers. */
      gf_buffer *bufs[3] = {NULL, NULL, NULL};
      for (int k = 0; k < 2; k++)
        if (src->buffers[k]) bufs[k] = gf_buffer_retain(src->buffers[k]);
      st = gfi_array_make(a, src->type, src->length, src->offset,
                          src->null_count, bufs, merged, &res[i], err);
    } else {
      st = remap_codes(a, src, u[i].map, u[i].map_len, merged, &res[i], err);
    }
    if (st != GF_OK) goto done;
  }
  for (int i = 0; i < n; i++) out[i] = res[i];
  gfi_mfree(a, res, sizeof(gf_array *) * (size_t)n);
  res = NULL;

done:
  if (res) {
    for (int i = 0; i < n; i++) gf_array_release(res[i]);
    gfi_mfree(a, res, sizeof(gf_array *) * (size_t)n);
  }
  gf_array_release(merged);
  gf_array_release(codes_tmp);
  gf_builder_free(db);
  free_inputs(a, u, n);
  return st;
}
