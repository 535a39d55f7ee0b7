/* Deterministic random arrays and frames for tests (see gf_test_data.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/builder_internal.h"
#include "gf_test_data.h"

uint64_t gft_rand_next(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static double rand_unit(uint64_t *s) {
  return (double)(gft_rand_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [lo, hi]. */
static int64_t rand_range(uint64_t *s, int64_t lo, int64_t hi) {
  uint64_t span = (uint64_t)hi - (uint64_t)lo + 1u;
  uint64_t r = span ? gft_rand_next(s) % span : gft_rand_next(s);
  return (int64_t)((uint64_t)lo + r);
}

int gft_all_types(gf_datatype *out, int max) {
  gf_datatype all[GFT_MAX_TYPES];
  int n = 0;
  for (int id = GF_TYPE_NULL; id <= GF_TYPE_LARGE_BINARY; id++)
    all[n++] = gf_type((gf_type_id)id);
  all[n++] = gf_type_fixed_size_binary(5);
  all[n++] = gf_type(GF_TYPE_DATE32);
  all[n++] = gf_type(GF_TYPE_DATE64);
  all[n++] = gf_type_time(GF_TYPE_TIME32, GF_UNIT_SECOND);
  all[n++] = gf_type_time(GF_TYPE_TIME32, GF_UNIT_MILLI);
  all[n++] = gf_type_time(GF_TYPE_TIME64, GF_UNIT_MICRO);
  all[n++] = gf_type_time(GF_TYPE_TIME64, GF_UNIT_NANO);
  all[n++] = gf_type_timestamp(GF_UNIT_SECOND, false, 0);
  all[n++] = gf_type_timestamp(GF_UNIT_MILLI, true, 0);
  all[n++] = gf_type_timestamp(GF_UNIT_MICRO, true, 330);
  all[n++] = gf_type_timestamp(GF_UNIT_NANO, true, -480);
  {
    gf_datatype named; /* a zone from the tz database (tzdata is a test dependency) */
    if (gf_type_timestamp_zone(GF_UNIT_MICRO, "US/Eastern", &named, NULL) == GF_OK)
      all[n++] = named;
  }
  all[n++] = gf_type_duration(GF_UNIT_SECOND);
  all[n++] = gf_type_duration(GF_UNIT_NANO);
  all[n++] = gf_type_dictionary(gf_type(GF_TYPE_UTF8));
  all[n++] = gf_type_dictionary(gf_type(GF_TYPE_INT32));
  all[n++] = gf_type_dictionary(gf_type(GF_TYPE_LARGE_BINARY));
  all[n++] = gf_type_decimal128(20, 3);
  all[n++] = gf_type_decimal256(40, 5);
  if (n > max) n = max;
  if (n > 0) memcpy(out, all, sizeof(gf_datatype) * (size_t)n);
  return n;
}

static const int64_t k_units_per_sec[] = {1, 1000, 1000000, 1000000000};

/* Appends one random (valid) value of non-dictionary type `t`. */
static gf_status append_random(gf_builder *b, gf_datatype t, uint64_t *s) {
  switch (t.id) {
    case GF_TYPE_BOOL: return gf_builder_append_bool(b, gft_rand_next(s) & 1, NULL);
    case GF_TYPE_INT8: return gf_builder_append_int64(b, rand_range(s, INT8_MIN, INT8_MAX), NULL);
    case GF_TYPE_INT16: return gf_builder_append_int64(b, rand_range(s, INT16_MIN, INT16_MAX), NULL);
    case GF_TYPE_INT32:
    case GF_TYPE_INT64: return gf_builder_append_int64(b, rand_range(s, -1000000000, 1000000000), NULL);
    case GF_TYPE_UINT8: return gf_builder_append_int64(b, rand_range(s, 0, UINT8_MAX), NULL);
    case GF_TYPE_UINT16: return gf_builder_append_int64(b, rand_range(s, 0, UINT16_MAX), NULL);
    case GF_TYPE_UINT32:
    case GF_TYPE_UINT64: return gf_builder_append_uint64(b, (uint64_t)rand_range(s, 0, 2000000000), NULL);
    case GF_TYPE_FLOAT32:
    case GF_TYPE_FLOAT64: {
      double v = (gft_rand_next(s) % 10 == 0)
                     ? 0.0
                     : (double)rand_range(s, -1000000000, 999999999) / 1000.0;
      return gf_builder_append_double(b, v, NULL);
    }
    case GF_TYPE_UTF8:
    case GF_TYPE_LARGE_UTF8: {
      static const char alnum[] =
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
      char buf[64];
      int len = 0, chars = (int)rand_range(s, 0, 12);
      for (int k = 0; k < chars; k++) {
        uint64_t r = gft_rand_next(s) % 40;
        if (r == 0) {
          memcpy(buf + len, "\xc3\xa9", 2); /* é */
          len += 2;
        } else if (r == 1) {
          memcpy(buf + len, "\xe6\x97\xa5", 3); /* 日 */
          len += 3;
        } else {
          buf[len++] = alnum[gft_rand_next(s) % (sizeof alnum - 1)];
        }
      }
      return gf_builder_append_bytes(b, buf, len, NULL);
    }
    case GF_TYPE_BINARY:
    case GF_TYPE_LARGE_BINARY:
    case GF_TYPE_FIXED_SIZE_BINARY: {
      uint8_t buf[64];
      int len = t.id == GF_TYPE_FIXED_SIZE_BINARY
                    ? (t.byte_width < 64 ? t.byte_width : 64)
                    : (int)rand_range(s, 0, 16);
      for (int k = 0; k < len; k++) buf[k] = (uint8_t)gft_rand_next(s);
      if (t.id == GF_TYPE_FIXED_SIZE_BINARY && t.byte_width > 64) {
        /* Wide fixed-size values: repeat the pattern. */
        uint8_t big[4096];
        int w = t.byte_width < 4096 ? t.byte_width : 4096;
        for (int k = 0; k < w; k++) big[k] = buf[k % 64];
        return gf_builder_append_bytes(b, big, w, NULL);
      }
      return gf_builder_append_bytes(b, buf, len, NULL);
    }
    case GF_TYPE_DATE32: return gf_builder_append_int64(b, rand_range(s, 0, 20000), NULL);
    case GF_TYPE_DATE64:
      return gf_builder_append_int64(b, rand_range(s, 0, 20000) * 86400000, NULL);
    case GF_TYPE_TIME32:
    case GF_TYPE_TIME64:
      return gf_builder_append_int64(
          b, rand_range(s, 0, 86400 * k_units_per_sec[t.unit] - 1), NULL);
    case GF_TYPE_TIMESTAMP: {
      int64_t sec = rand_range(s, 946684800, 1893456000); /* 2000..2030 */
      int64_t ups = k_units_per_sec[t.unit];
      return gf_builder_append_int64(b, sec * ups + rand_range(s, 0, ups - 1), NULL);
    }
    case GF_TYPE_DURATION:
      return gf_builder_append_int64(b, rand_range(s, -1000000000, 1000000000), NULL);
    case GF_TYPE_DECIMAL128:
    case GF_TYPE_DECIMAL256: {
      /* Up to 18 random digits (within any precision >= 18 used here),
       * sign-extended to the width. */
      int64_t v = rand_range(s, -999999999999999999, 999999999999999999);
      if (gft_rand_next(s) % 8 == 0) v %= 1000;
      uint8_t raw[32];
      memcpy(raw, &v, 8);
      memset(raw + 8, v < 0 ? 0xff : 0, 24);
      return gf_builder_append_bytes(b, raw, t.id == GF_TYPE_DECIMAL128 ? 16 : 32, NULL);
    }
    default:
      return GF_ENOTSUP;
  }
}

gf_status gft_random_array(gf_datatype t, int64_t n, double null_prob,
                           uint64_t seed, const gf_allocator *a,
                           gf_array **out) {
  uint64_t s = seed ^ UINT64_C(0x5DEECE66D);
  gf_builder *b = NULL;
  gf_array *pool = NULL;
  gf_status st = gf_builder_new(t, a, &b, NULL);
  if (st != GF_OK) return st;
  if (t.id == GF_TYPE_DICTIONARY) {
    int64_t np = n / 8 > 0 ? n / 8 : 1;
    st = gft_random_array(gf_type_value(t), np, 0.0, gft_rand_next(&s), a,
                          &pool);
  }
  for (int64_t i = 0; i < n && st == GF_OK; i++) {
    if (t.id == GF_TYPE_NULL || (null_prob > 0 && rand_unit(&s) < null_prob)) {
      st = gf_builder_append_null(b, NULL);
    } else if (pool) {
      int64_t k = (int64_t)(gft_rand_next(&s) % (uint64_t)pool->length);
      st = gfi_builder_append_from(b, pool, k, NULL, NULL);
    } else {
      st = append_random(b, t, &s);
    }
  }
  if (st == GF_OK) st = gf_builder_finish(b, out, NULL);
  gf_array_release(pool);
  gf_builder_free(b);
  return st;
}

gf_status gft_random_frame(const gf_datatype *types, int ncols, int64_t rows,
                           int num_batches, double null_prob, uint64_t seed,
                           const gf_allocator *a, gf_frame **out) {
  if (num_batches < 1) num_batches = 1;
  gf_field fields[64];
  char names[64][8];
  if (ncols < 1 || ncols > 64) return GF_EINVAL;
  for (int c = 0; c < ncols; c++) {
    snprintf(names[c], sizeof names[c], "c%d", c);
    fields[c].name = names[c];
    fields[c].type = types[c];
    fields[c].nullable = true;
  }
  gf_schema *schema = NULL;
  gf_status st = gf_schema_new(fields, ncols, &schema, NULL);
  if (st != GF_OK) return st;
  size_t ncells = (size_t)num_batches * (size_t)ncols;
  gf_array **cols = calloc(ncells, sizeof *cols);
  if (!cols) {
    gf_schema_release(schema);
    return GF_ENOMEM;
  }
  uint64_t s = seed;
  for (int bt = 0; bt < num_batches && st == GF_OK; bt++) {
    int64_t lo = rows * bt / num_batches, hi = rows * (bt + 1) / num_batches;
    for (int c = 0; c < ncols && st == GF_OK; c++)
      st = gft_random_array(types[c], hi - lo, null_prob, gft_rand_next(&s), a,
                            &cols[(size_t)bt * (size_t)ncols + (size_t)c]);
  }
  if (st == GF_OK) st = gf_frame_new(schema, cols, num_batches, a, out, NULL);
  for (size_t k = 0; k < ncells; k++) gf_array_release(cols[k]);
  free(cols);
  gf_schema_release(schema);
  return st;
}

gf_array *gft_int64_array(gf_datatype t, const int64_t *values,
                          const bool *valid, int64_t n) {
  gf_builder *b = NULL;
  gf_array *out = NULL;
  gf_error err;
  if (gf_builder_new(t, NULL, &b, &err) != GF_OK) fail_msg("%s", err.message);
  for (int64_t i = 0; i < n; i++) {
    gf_status st = (valid && !valid[i]) ? gf_builder_append_null(b, &err)
                                        : gf_builder_append_int64(b, values[i], &err);
    if (st != GF_OK) fail_msg("element %lld: %s", (long long)i, err.message);
  }
  if (gf_builder_finish(b, &out, &err) != GF_OK) fail_msg("%s", err.message);
  gf_builder_free(b);
  return out;
}

gf_array *gft_double_array(gf_datatype t, const double *values,
                           const bool *valid, int64_t n) {
  gf_builder *b = NULL;
  gf_array *out = NULL;
  gf_error err;
  if (gf_builder_new(t, NULL, &b, &err) != GF_OK) fail_msg("%s", err.message);
  for (int64_t i = 0; i < n; i++) {
    gf_status st = (valid && !valid[i]) ? gf_builder_append_null(b, &err)
                                        : gf_builder_append_double(b, values[i], &err);
    if (st != GF_OK) fail_msg("element %lld: %s", (long long)i, err.message);
  }
  if (gf_builder_finish(b, &out, &err) != GF_OK) fail_msg("%s", err.message);
  gf_builder_free(b);
  return out;
}

gf_array *gft_string_array(gf_datatype t, const char *const *values,
                           int64_t n) {
  gf_builder *b = NULL;
  gf_array *out = NULL;
  gf_error err;
  if (gf_builder_new(t, NULL, &b, &err) != GF_OK) fail_msg("%s", err.message);
  for (int64_t i = 0; i < n; i++) {
    gf_status st = values[i] ? gf_builder_append_string(b, values[i], &err)
                             : gf_builder_append_null(b, &err);
    if (st != GF_OK) fail_msg("element %lld: %s", (long long)i, err.message);
  }
  if (gf_builder_finish(b, &out, &err) != GF_OK) fail_msg("%s", err.message);
  gf_builder_free(b);
  return out;
}
