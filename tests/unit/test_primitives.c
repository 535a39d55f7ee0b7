/* Shared primitives, each against a naive reference written here: UTF-8
 * validation (a decode-then-check decoder), calendar conversion (walking
 * the calendar one day at a time) and bitmap operations (bit-by-bit loops). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/core_internal.h"
#include "core/utf8.h"

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* ---- UTF-8 -------------------------------------------------------------- */

/* The reference: decode each sequence by its lead byte's bit pattern alone,
 * then reject what RFC 3629 forbids by looking at the decoded code point
 * (too long for its value, a surrogate, past U+10FFFF). Returns the position
 * of the first bad sequence or -1. */
static int64_t ref_utf8_error_at(const uint8_t *s, int64_t n) {
  int64_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    int len;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (n - i < len) return i;
    for (int k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return i;
    i += len;
  }
  return -1;
}

/* Checks one byte string at the start and after an ASCII run long enough to
 * take the eight-byte path first, in an exactly sized heap block so that
 * ASan catches a read past n. */
static void check_utf8(const uint8_t *s, int64_t n) {
  enum { PAD = 11 };
  uint8_t *b = malloc((size_t)n + PAD + 1);
  assert_non_null(b);
  memcpy(b, s, (size_t)n);
  int64_t want = ref_utf8_error_at(b, n);
  int64_t got = gfi_utf8_error_at(b, n);
  if (got != want) fail_msg("n=%lld: got %lld, want %lld", (long long)n, (long long)got, (long long)want);
  memset(b, 'a', PAD);
  memcpy(b + PAD, s, (size_t)n);
  got = gfi_utf8_error_at(b, n + PAD);
  assert_int_equal(got, want < 0 ? -1 : want + PAD);
  assert_int_equal(gfi_utf8_valid((const char *)b, n + PAD), want < 0);
  free(b);
}

static void utf8_every_short_sequence_matches_reference(void **state) {
  (void)state;
  uint8_t s[4];
  /* Every 1-, 2- and 3-byte string. */
  for (int a = 0; a < 256; a++) {
    s[0] = (uint8_t)a;
    check_utf8(s, 1);
    for (int b = 0; b < 256; b++) {
      s[1] = (uint8_t)b;
      check_utf8(s, 2);
      for (int c = 0; c < 256; c++) {
        s[2] = (uint8_t)c;
        if (ref_utf8_error_at(s, 3) != gfi_utf8_error_at(s, 3))
          fail_msg("%02x %02x %02x", a, b, c);
      }
    }
  }
}

static void utf8_four_byte_sequences_match_reference(void **state) {
  (void)state;
  /* Every lead and second byte; the last two bytes from values on both
   * sides of the continuation range. */
  static const uint8_t edge[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90,
                                 0x9F, 0xA0, 0xBF, 0xC0, 0xF4, 0xFF};
  uint8_t s[4];
  for (int a = 0; a < 256; a++)
    for (int b = 0; b < 256; b++)
      for (size_t c = 0; c < sizeof edge; c++)
        for (size_t d = 0; d < sizeof edge; d++) {
          s[0] = (uint8_t)a, s[1] = (uint8_t)b, s[2] = edge[c], s[3] = edge[d];
          if (ref_utf8_error_at(s, 4) != gfi_utf8_error_at(s, 4))
            fail_msg("%02x %02x %02x %02x", a, b, edge[c], edge[d]);
        }
  /* Every code point's own 4-byte encoding, valid or not. */
  for (uint32_t cp = 0; cp < 0x200000; cp++) {
    s[0] = (uint8_t)(0xF0 | cp >> 18);
    s[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    s[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    s[3] = (uint8_t)(0x80 | (cp & 0x3F));
    bool valid = cp >= 0x10000 && cp <= 0x10FFFF;
    assert_int_equal(gfi_utf8_error_at(s, 4), valid ? -1 : 0);
  }
}

/* Random strings mixing ASCII runs, valid characters of every length and
 * stray bytes, so errors land at any position and after fast-path runs. */
static void utf8_random_strings_match_reference(void **state) {
  (void)state;
  uint64_t seed = 0x9E3779B97F4A7C15u;
  uint8_t s[160];
  for (int iter = 0; iter < 200000; iter++) {
    int64_t n = 0, target = (int64_t)(rng_next(&seed) % 120);
    bool clean = rng_next(&seed) % 3 == 0;
    while (n < target) {
      uint64_t r = rng_next(&seed);
      switch (r % 8) {
        case 0: case 1: case 2: { /* an ASCII run */
          int run = (int)((r >> 8) % 20);
          for (int k = 0; k < run; k++) s[n++] = (uint8_t)(' ' + (r >> (k % 48)) % 90);
          break;
        }
        case 3: s[n++] = 0xC3, s[n++] = 0xA9; break;             /* é */
        case 4: s[n++] = 0xE6, s[n++] = 0x97, s[n++] = 0xA5; break; /* 日 */
        case 5: s[n++] = 0xF0, s[n++] = 0x9F, s[n++] = 0x98, s[n++] = 0x80; break;
        case 6: s[n++] = 0xEF, s[n++] = 0xBF, s[n++] = 0xBF; break; /* U+FFFF */
        default:
          if (!clean) s[n++] = (uint8_t)(r >> 16);
          break;
      }
    }
    /* Sometimes cut the string inside a character. */
    if (n > 2 && rng_next(&seed) % 4 == 0) n -= (int64_t)(rng_next(&seed) % 3);
    check_utf8(s, n);
  }
  assert_int_equal(gfi_utf8_error_at(NULL, 0), -1);
}

/* ---- calendar ----------------------------------------------------------- */

static int ref_days_in_month(int64_t y, int m) {
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : mdays[m - 1];
}

/* Walks day by day from 1970-01-01 in both directions over years
 * -1000..3000, checking both conversions on every day. */
static void calendar_every_day_matches_day_by_day_walk(void **state) {
  (void)state;
  int64_t y = 1970, day = 0;
  unsigned m = 1, d = 1;
  while (y < 3001) {
    assert_int_equal(gfi_days_from_civil(y, m, d), day);
    int64_t yy;
    unsigned mm, dd;
    gfi_civil_from_days(day, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d) fail_msg("day %lld", (long long)day);
    if (d == 1) assert_int_equal(gfi_days_in_month(y, m), ref_days_in_month(y, (int)m));
    day++;
    if ((int)++d > ref_days_in_month(y, (int)m)) {
      d = 1;
      if (++m > 12) m = 1, y++;
    }
  }
  y = 1970, m = 1, d = 1, day = 0;
  while (y >= -1000) {
    int64_t yy;
    unsigned mm, dd;
    gfi_civil_from_days(day, &yy, &mm, &dd);
    if (yy != y || mm != m || dd != d) fail_msg("day %lld", (long long)day);
    assert_int_equal(gfi_days_from_civil(y, m, d), day);
    day--;
    if (--d == 0) {
      if (--m == 0) m = 12, y--;
      d = (unsigned)ref_days_in_month(y, (int)m);
    }
  }
  assert_int_equal(gfi_days_in_month(2000, 0), 0);
  assert_int_equal(gfi_days_in_month(2000, 13), 0);
}

/* Far years, sampled: the day count of January 1st is the sum of year
 * lengths from 1970. */
static void calendar_far_years_match_summed_year_lengths(void **state) {
  (void)state;
  static const int64_t years[] = {-300001, -99999, -4713, -1, 0, 1, 9999, 10000, 123457, 300000};
  for (size_t k = 0; k < sizeof years / sizeof years[0]; k++) {
    int64_t target = years[k], days = 0;
    for (int64_t y = 1970; y < target; y++) days += 365 + (ref_days_in_month(y, 2) == 29);
    for (int64_t y = 1969; y >= target; y--) days -= 365 + (ref_days_in_month(y, 2) == 29);
    assert_int_equal(gfi_days_from_civil(target, 1, 1), days);
    int64_t yy;
    unsigned mm, dd;
    gfi_civil_from_days(days - 1, &yy, &mm, &dd);
    assert_int_equal(yy, target - 1);
    assert_int_equal(mm, 12);
    assert_int_equal(dd, 31);
  }
}

/* Round trips at the extremes the header promises (|z| < 2^62), where no
 * walk can reach: the date of z maps back to z, and the day after it is
 * the next date. */
static void calendar_round_trips_at_the_extremes(void **state) {
  (void)state;
  static const int64_t zs[] = {(INT64_C(1) << 62) - 1, -(INT64_C(1) << 62) + 1,
                               INT64_C(106751991167300), -INT64_C(106751991167301),
                               INT32_MAX, INT32_MIN, INT64_C(1) << 40, -(INT64_C(1) << 40)};
  for (size_t k = 0; k < sizeof zs / sizeof zs[0]; k++) {
    int64_t y, y2;
    unsigned m, d, m2, d2;
    gfi_civil_from_days(zs[k], &y, &m, &d);
    assert_true(m >= 1 && m <= 12 && d >= 1 && (int)d <= ref_days_in_month(y, (int)m));
    assert_int_equal(gfi_days_from_civil(y, m, d), zs[k]);
    gfi_civil_from_days(zs[k] - 1, &y2, &m2, &d2);
    if (d > 1) {
      assert_true(y2 == y && m2 == m && d2 == d - 1);
    } else {
      assert_int_equal(d2, (unsigned)ref_days_in_month(y2, (int)m2));
      assert_true(m > 1 ? (y2 == y && m2 == m - 1) : (y2 == y - 1 && m2 == 12));
    }
  }
}

/* Time-of-day split for every unit: the parts rebuild the value exactly
 * and are in range, including before 1970 and at the int64 limits. */
static void calendar_time_split_every_unit(void **state) {
  (void)state;
  static const int64_t per[4] = {1, 1000, 1000000, 1000000000};
  uint64_t seed = 12345;
  for (int u = GF_UNIT_SECOND; u <= GF_UNIT_NANO; u++) {
    assert_int_equal(gfi_unit_per_second((gf_time_unit)u), per[u]);
    for (int iter = 0; iter < 100000; iter++) {
      int64_t v;
      switch (iter) {
        case 0: v = INT64_MIN; break;
        case 1: v = INT64_MAX; break;
        case 2: v = -1; break;
        case 3: v = 0; break;
        default:
          v = (int64_t)rng_next(&seed) >> (rng_next(&seed) % 40);
          break;
      }
      int64_t days, sod, frac;
      gfi_time_split(v, (gf_time_unit)u, &days, &sod, &frac);
      assert_true(sod >= 0 && sod < 86400);
      assert_true(frac >= 0 && frac < per[u]);
      /* Rebuild in 128 bits: days * 86400 * per can exceed int64. */
      __int128 back = ((__int128)days * 86400 + sod) * per[u] + frac;
      assert_true(back == (__int128)v);
    }
  }
  int64_t days, sod, frac;
  gfi_time_split(-1, GF_UNIT_NANO, &days, &sod, &frac);
  assert_int_equal(days, -1);
  assert_int_equal(sod, 86399);
  assert_int_equal(frac, 999999999);
}

/* ---- bitmaps ------------------------------------------------------------ */

static bool ref_bit(const uint8_t *b, int64_t i) { return (b[i / 8] >> (i % 8)) & 1; }

static void bitmap_ops_match_bit_by_bit_loops(void **state) {
  (void)state;
  enum { NBYTES = 48 };
  uint64_t seed = 777;
  for (int iter = 0; iter < 20000; iter++) {
    /* Exactly sized blocks so ASan sees any read or write past the range. */
    uint8_t *src = malloc(NBYTES), *dst = malloc(NBYTES), *want = malloc(NBYTES);
    assert_true(src && dst && want);
    for (int k = 0; k < NBYTES; k++) src[k] = (uint8_t)rng_next(&seed);
    for (int k = 0; k < NBYTES; k++) dst[k] = want[k] = (uint8_t)rng_next(&seed);
    int64_t off = (int64_t)(rng_next(&seed) % (NBYTES * 8));
    int64_t len = (int64_t)(rng_next(&seed) % (NBYTES * 8 - (uint64_t)off + 1));
    int64_t count = 0;
    for (int64_t i = off; i < off + len; i++) count += ref_bit(src, i);
    assert_int_equal(gfi_bitmap_count(src, off, len), count);

    int64_t doff = (int64_t)(rng_next(&seed) % (NBYTES * 8 - (uint64_t)len + 1));
    for (int64_t i = 0; i < len; i++) {
      uint8_t bit = (uint8_t)(1u << ((doff + i) % 8));
      if (ref_bit(src, off + i)) want[(doff + i) / 8] |= bit;
      else want[(doff + i) / 8] &= (uint8_t)~bit;
    }
    gfi_bitmap_copy(dst, doff, src, off, len);
    assert_memory_equal(dst, want, NBYTES);

    for (int64_t i = off; i < off + len; i++) want[i / 8] |= (uint8_t)(1u << (i % 8));
    memcpy(dst, want, NBYTES);
    for (int64_t i = off; i < off + len; i++) dst[i / 8] &= (uint8_t)~(1u << (i % 8));
    gfi_bitmap_set_range(dst, off, len);
    assert_memory_equal(dst, want, NBYTES);
    free(src);
    free(dst);
    free(want);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(utf8_every_short_sequence_matches_reference),
      cmocka_unit_test(utf8_four_byte_sequences_match_reference),
      cmocka_unit_test(utf8_random_strings_match_reference),
      cmocka_unit_test(calendar_every_day_matches_day_by_day_walk),
      cmocka_unit_test(calendar_far_years_match_summed_year_lengths),
      cmocka_unit_test(calendar_round_trips_at_the_extremes),
      cmocka_unit_test(calendar_time_split_every_unit),
      cmocka_unit_test(bitmap_ops_match_bit_by_bit_loops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
