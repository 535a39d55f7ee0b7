/*
 * Full layout validation of an array (and its dictionary), for arrays that
 * come from outside (Arrow C Data import, IPC) and for tests. Messages name
 * the element index that is wrong.
 */
#include <string.h>

#include "core/utf8.h"
#include "data/builder_internal.h"

static int64_t bsize(const gf_array *a, int i) {
  return a->buffers[i] ? (int64_t)gf_buffer_size(a->buffers[i]) : 0;
}

/* Checks offsets and (optionally) UTF-8 of a variable-width array. */
static gf_status validate_var_width(const gf_array *a, bool check_utf8,
                                    gf_error *err) {
  bool large = gfi_type_is_large(a->type.id);
  int64_t osz = large ? 8 : 4;
  int64_t end = a->offset + a->length;
  if (a->length == 0 && !a->buffers[1]) return GF_OK;
  if (!a->buffers[1])
    return gf_error_set(err, GF_EINVAL, "%s array has no offsets buffer",
                        gf_type_id_name(a->type.id));
  if (bsize(a, 1) < (end + 1) * osz)
    return gf_error_set(err, GF_EINVAL,
                        "offsets buffer has %lld bytes, needs %lld for "
                        "offset %lld + length %lld",
                        (long long)bsize(a, 1), (long long)((end + 1) * osz),
                        (long long)a->offset, (long long)a->length);
  const uint8_t *o = gfi_buf(a, 1);
  const uint8_t *data = gfi_buf(a, 2);
  int64_t dsize = bsize(a, 2);
  int64_t prev = large ? ((const int64_t *)o)[a->offset]
                       : ((const int32_t *)o)[a->offset];
  if (prev < 0)
    return gf_error_set(err, GF_EINVAL, "offset of element 0 is negative (%lld)",
                        (long long)prev);
  for (int64_t i = 0; i < a->length; i++) {
    int64_t k = a->offset + i + 1;
    int64_t cur = large ? ((const int64_t *)o)[k] : ((const int32_t *)o)[k];
    if (cur < prev)
      return gf_error_set(err, GF_EINVAL,
                          "offsets not monotonic at element %lld (%lld < %lld)",
                          (long long)i, (long long)cur, (long long)prev);
    if (cur > dsize)
      return gf_error_set(err, GF_EINVAL,
                          "element %lld ends at byte %lld, past the %lld-byte "
                          "data buffer",
                          (long long)i, (long long)cur, (long long)dsize);
    if (check_utf8 && cur > prev &&
        (a->type.id == GF_TYPE_UTF8 || a->type.id == GF_TYPE_LARGE_UTF8) &&
        gfi_is_valid(a, i)) {
      int64_t bad = gfi_utf8_error_at(data + prev, cur - prev);
      if (bad >= 0)
        return gf_error_set(err, GF_EINVAL,
                            "invalid UTF-8 in element %lld at byte %lld",
                            (long long)i, (long long)bad);
    }
    prev = cur;
  }
  return GF_OK;
}

/* See data.h. */
gf_status gf_array_validate(const gf_array *a, bool check_utf8,
                            gf_error *err) {
  if (!a) return gf_error_set(err, GF_EINVAL, "NULL array");
  GF_RETURN_NOT_OK(gf_type_validate(a->type, err));
  gf_type_id id = a->type.id;
  if (a->length < 0 || a->offset < 0)
    return gf_error_set(err, GF_EINVAL, "negative length or offset");
  if (a->null_count < 0 || a->null_count > a->length)
    return gf_error_set(err, GF_EINVAL,
                        "null count %lld outside [0, length %lld]",
                        (long long)a->null_count, (long long)a->length);
  int64_t end = a->offset + a->length;
  int nbuf = gfi_type_num_buffers(a->type);
  for (int k = nbuf; k < 3; k++)
    if (a->buffers[k])
      return gf_error_set(err, GF_EINVAL, "%s array has an unexpected buffer %d",
                          gf_type_id_name(id), k);
  if (id == GF_TYPE_NULL) {
    if (a->buffers[0])
      return gf_error_set(err, GF_EINVAL, "null array has a validity buffer");
    if (a->null_count != a->length)
      return gf_error_set(err, GF_EINVAL,
                          "null array must have null count == length");
    return GF_OK;
  }
  if ((id == GF_TYPE_DICTIONARY) != (a->dictionary != NULL))
    return gf_error_set(err, GF_EINVAL,
                        id == GF_TYPE_DICTIONARY
                            ? "dictionary array has no dictionary"
                            : "non-dictionary array has a dictionary");

  /* Validity bitmap. */
  const uint8_t *v = gfi_buf(a, 0);
  if (a->null_count > 0 && !v)
    return gf_error_set(err, GF_EINVAL,
                        "null count is %lld but there is no validity bitmap",
                        (long long)a->null_count);
  if (v) {
    if (bsize(a, 0) < gfi_bitmap_bytes(end))
      return gf_error_set(err, GF_EINVAL,
                          "validity buffer has %lld bytes, needs %lld",
                          (long long)bsize(a, 0),
                          (long long)gfi_bitmap_bytes(end));
    int64_t nulls = a->length - gfi_bitmap_count(v, a->offset, a->length);
    if (nulls != a->null_count)
      return gf_error_set(err, GF_EINVAL,
                          "null count is %lld but the bitmap has %lld nulls",
                          (long long)a->null_count, (long long)nulls);
  }

  if (gfi_type_is_var_width(id)) return validate_var_width(a, check_utf8, err);

  int64_t need = id == GF_TYPE_BOOL ? gfi_bitmap_bytes(end)
                                    : end * gfi_type_byte_width(a->type);
  if (a->length > 0 && !a->buffers[1])
    return gf_error_set(err, GF_EINVAL, "%s array has no data buffer",
                        gf_type_id_name(id));
  if (a->length > 0 && bsize(a, 1) < need)
    return gf_error_set(err, GF_EINVAL,
                        "data buffer has %lld bytes, needs %lld for offset "
                        "%lld + length %lld",
                        (long long)bsize(a, 1), (long long)need,
                        (long long)a->offset, (long long)a->length);

  if (id == GF_TYPE_DICTIONARY) {
    const gf_array *d = a->dictionary;
    if (!gf_type_equals(d->type, gf_type_value(a->type))) {
      char t1[96], t2[96];
      return gf_error_set(err, GF_EINVAL,
                          "dictionary of type %s does not match %s",
                          gf_type_format(d->type, t1, sizeof t1),
                          gf_type_format(a->type, t2, sizeof t2));
    }
    const int32_t *codes = (const int32_t *)gfi_buf(a, 1);
    for (int64_t i = 0; i < a->length; i++) {
      if (!gfi_is_valid(a, i)) continue;
      int32_t c = codes[a->offset + i];
      if (c < 0 || c >= d->length)
        return gf_error_set(err, GF_EINVAL,
                            "dictionary code %d at element %lld is outside "
                            "[0, %lld)",
                            (int)c, (long long)i, (long long)d->length);
    }
    gf_error sub;
    gf_status st = gf_array_validate(d, check_utf8, &sub);
    if (st != GF_OK)
      return gf_error_set(err, st, "dictionary: %s", sub.message);
  }
  return GF_OK;
}
