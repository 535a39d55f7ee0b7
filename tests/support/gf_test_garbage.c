/* Arrays with garbage under their nulls, imported zero-copy (see
 * gf_test_garbage.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gf_test_data.h"
#include "gf_test_garbage.h"

static _Atomic int64_t g_made;

/* The producer's side of one imported array: the buffers it hands over,
 * freed together by the release callback. */
typedef struct garbage_holder {
  const void *buffers[3];
  void *owned[3];
  struct ArrowArray dict; /* dictionary columns: the clean dictionary, exported */
} garbage_holder;

static void garbage_release(struct ArrowArray *arr) {
  garbage_holder *h = arr->private_data;
  /* A parent releases its dictionary (the C Data interface's rule). */
  if (h->dict.release) h->dict.release(&h->dict);
  for (int i = 0; i < 3; i++) free(h->owned[i]);
  free(h);
  arr->release = NULL;
}

/* `size` bytes of noise, rounded up to 64 so the padding is noise too. */
static uint8_t *noise(size_t size, uint64_t *s) {
  size_t cap = (size + 63) / 64 * 64 + 64;
  uint8_t *p = malloc(cap);
  if (!p) fail_msg("out of memory");
  for (size_t i = 0; i < cap; i += 8) {
    uint64_t r = gft_rand_next(s);
    memcpy(p + i, &r, 8);
  }
  return p;
}

static void set_bit(uint8_t *bits, int64_t i, bool v) {
  if (v) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
  else bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

static bool is_var_width(gf_type_id id) {
  return id == GF_TYPE_UTF8 || id == GF_TYPE_LARGE_UTF8 || id == GF_TYPE_BINARY ||
         id == GF_TYPE_LARGE_BINARY;
}

static bool is_large(gf_type_id id) {
  return id == GF_TYPE_LARGE_UTF8 || id == GF_TYPE_LARGE_BINARY;
}

/* Offsets and bytes of a string column: visible valid slots copy `clean`,
 * every other slot (nulls and the hidden lead) gets 1..9 random bytes, so
 * a kernel that reads under a null sees a plausible but wrong string. */
static void fill_strings(const gf_array *clean, int64_t lead, uint64_t *s, garbage_holder *h) {
  int64_t n = gf_array_length(clean), total = lead + n;
  bool large = is_large(gf_array_type(clean).id);
  size_t bytes = 0;
  for (int64_t j = 0; j < total; j++) {
    int64_t len = 0;
    if (j >= lead && !gf_array_is_null(clean, j - lead)) gf_array_get_bytes(clean, j - lead, &len);
    else len = 9;
    bytes += (size_t)len;
  }
  uint8_t *offs = noise((size_t)(total + 1) * (large ? 8 : 4), s);
  uint8_t *data = noise(bytes + 1, s);
  int64_t pos = 0;
  for (int64_t j = 0; j <= total; j++) {
    if (large) memcpy(offs + j * 8, &pos, 8);
    else {
      int32_t p32 = (int32_t)pos;
      memcpy(offs + j * 4, &p32, 4);
    }
    if (j == total) break;
    if (j >= lead && !gf_array_is_null(clean, j - lead)) {
      int64_t len = 0;
      const char *v = gf_array_get_bytes(clean, j - lead, &len);
      if (len > 0) memcpy(data + pos, v, (size_t)len);
      pos += len;
    } else {
      pos += 1 + (int64_t)(gft_rand_next(s) % 9); /* the noise already there */
    }
  }
  h->owned[1] = offs;
  h->owned[2] = data;
}

/* The value buffer of a fixed-width column: noise, with the visible valid
 * slots copied from `clean` (bit-packed for bool). */
static void fill_fixed(const gf_array *clean, int64_t lead, int bits, uint64_t *s,
                       garbage_holder *h) {
  int64_t n = gf_array_length(clean), total = lead + n;
  if (bits == 1) {
    uint8_t *vals = noise((size_t)(total + 7) / 8, s);
    for (int64_t i = 0; i < n; i++)
      if (!gf_array_is_null(clean, i)) set_bit(vals, lead + i, gf_array_get_bool(clean, i));
    h->owned[1] = vals;
    return;
  }
  size_t w = (size_t)bits / 8;
  uint8_t *vals = noise((size_t)total * w, s);
  const uint8_t *src = gf_array_buffer(clean, 1);
  int64_t coff = gf_array_offset(clean);
  for (int64_t i = 0; i < n; i++)
    if (!gf_array_is_null(clean, i))
      memcpy(vals + (size_t)(lead + i) * w, src + (size_t)(coff + i) * w, w);
  h->owned[1] = vals;
}

gf_array *gft_garbage_array(const gf_array *clean, int64_t lead, uint64_t seed) {
  gf_datatype t = gf_array_type(clean);
  int bits = gf_type_bit_width(t);
  bool var = is_var_width(t.id);
  if (t.id == GF_TYPE_NULL || (!var && bits <= 0))
    return gf_array_retain((gf_array *)clean);
  uint64_t s = seed * 0x9E3779B97F4A7C15u + 0x51u;
  int64_t n = gf_array_length(clean), total = lead + n;
  garbage_holder *h = calloc(1, sizeof *h);
  if (!h) fail_msg("out of memory");
  /* Validity: random in the lead and the padding, exact where visible. */
  uint8_t *valid = noise((size_t)(total + 7) / 8, &s);
  for (int64_t i = 0; i < n; i++) set_bit(valid, lead + i, !gf_array_is_null(clean, i));
  h->owned[0] = valid;
  if (var) fill_strings(clean, lead, &s, h);
  else fill_fixed(clean, lead, bits, &s, h);
  for (int i = 0; i < 3; i++) h->buffers[i] = h->owned[i];
  gf_error err;
  if (t.id == GF_TYPE_DICTIONARY &&
      gf_array_export(gf_array_dictionary(clean), &h->dict, NULL, &err) != GF_OK)
    fail_msg("export of a dictionary: %s", err.message);

  struct ArrowArray arr = {0};
  arr.length = n;
  arr.offset = lead;
  arr.null_count = (gft_rand_next(&s) & 1) ? -1 : gf_array_null_count(clean);
  arr.n_buffers = var ? 3 : 2;
  arr.buffers = h->buffers;
  arr.dictionary = t.id == GF_TYPE_DICTIONARY ? &h->dict : NULL;
  arr.release = garbage_release;
  arr.private_data = h;
  struct ArrowSchema schema;
  if (gf_type_export(t, "g", true, &schema, &err) != GF_OK) fail_msg("export type: %s", err.message);
  gf_array *out = NULL;
  /* Layout checks only: UTF-8 validity of the noise under nulls is not
   * something a producer promises. */
  gf_status st = gf_array_import(&arr, &schema, GF_IMPORT_CHECK_LAYOUT, &out, &err);
  schema.release(&schema);
  if (st != GF_OK) {
    garbage_release(&arr);
    fail_msg("import of a garbage array: %s", err.message);
  }
  atomic_fetch_add(&g_made, 1);
  return out;
}

gf_frame *gft_garbage_frame(const gf_frame *clean, uint64_t seed) {
  int nb = gf_frame_num_batches(clean), nc = gf_frame_num_columns(clean);
  gf_array **cols = calloc((size_t)(nb > 0 ? nb : 1) * (size_t)(nc > 0 ? nc : 1), sizeof *cols);
  if (!cols) fail_msg("out of memory");
  uint64_t s = seed ^ 0xC0FFEEu;
  for (int b = 0; b < nb; b++)
    for (int c = 0; c < nc; c++)
      cols[b * nc + c] = gft_garbage_array(gf_frame_column(clean, b, c),
                                           (int64_t)(gft_rand_next(&s) % 71), gft_rand_next(&s));
  gf_frame *out = NULL;
  gf_error err;
  if (gf_frame_new(gf_frame_schema(clean), cols, nb, NULL, &out, &err) != GF_OK)
    fail_msg("frame of garbage arrays: %s", err.message);
  for (int i = 0; i < nb * nc; i++) gf_array_release(cols[i]);
  free(cols);
  return out;
}

int64_t gft_garbage_arrays_made(void) { return atomic_load(&g_made); }
