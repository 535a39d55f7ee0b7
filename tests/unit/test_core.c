/* Core: status codes, errors, allocators, buffers, bitmaps, CPU features,
 * locale-independent number formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "gf_test_locale.h"
#include "gopherframe/testing.h"

static void status_names_and_strings_cover_every_code(void **state) {
  (void)state;
  for (int s = GF_OK; s <= GF_EINTERNAL; s++) {
    assert_non_null(gf_status_name((gf_status)s));
    assert_string_not_equal(gf_status_name((gf_status)s), "GF_E?");
  }
  assert_string_equal(gf_status_name(GF_ENOMEM), "GF_ENOMEM");
  assert_string_equal(gf_status_string(GF_ENOMEM), "out of memory");
  assert_string_equal(gf_status_name((gf_status)999), "GF_E?");
  assert_string_equal(gf_version(), GF_VERSION_STRING);
}

static void error_set_formats_message_and_tolerates_null(void **state) {
  (void)state;
  gf_error err;
  gf_error_clear(&err);
  assert_int_equal(err.code, GF_OK);
  assert_int_equal(gf_error_set(&err, GF_EPARSE, "line %d, column %d: bad", 3, 7), GF_EPARSE);
  assert_int_equal(err.code, GF_EPARSE);
  assert_string_equal(err.message, "line 3, column 7: bad");
  assert_int_equal(gf_error_set(NULL, GF_EIO, "x"), GF_EIO);
  gf_error_clear(NULL);
  /* An over-long message is truncated, still NUL-terminated. */
  char big[3000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  gf_error_set(&err, GF_EINVAL, "%s", big);
  assert_int_equal(strlen(err.message), GF_ERROR_MESSAGE_SIZE - 1);
}

static void default_allocator_honours_alignment(void **state) {
  (void)state;
  for (size_t al = 1; al <= 4096; al *= 2) {
    void *p = gf_alloc(NULL, 100, al);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % (al < sizeof(void *) ? 1 : al), 0);
    p = gf_realloc(NULL, p, 100, 5000, al);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % (al < sizeof(void *) ? 1 : al), 0);
    gf_free(NULL, p, 5000, al);
  }
  gf_free(NULL, NULL, 0, 0);
}

static void tracking_allocator_counts_and_enforces_limit(void **state) {
  (void)state;
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(NULL, 1000, &t, NULL), GF_OK);
  const gf_allocator *a = gf_tracking_allocator_get(t);
  void *p = gf_alloc(a, 600, 64);
  assert_non_null(p);
  assert_int_equal(gf_tracking_allocator_current(t), 600);
  assert_null(gf_alloc(a, 500, 64)); /* 1100 > 1000 */
  assert_int_equal(gf_tracking_allocator_refusals(t), 1);
  assert_int_equal(gf_tracking_allocator_current(t), 600);
  void *q = gf_alloc(a, 400, 64);
  assert_non_null(q);
  assert_int_equal(gf_tracking_allocator_peak(t), 1000);
  assert_null(gf_realloc(a, q, 400, 401, 64)); /* growing past the limit fails, q intact */
  /* A shrink is charged old + new too (the aligned realloc copies). */
  assert_null(gf_realloc(a, q, 400, 100, 64));
  gf_free(a, p, 600, 64);
  p = gf_alloc(a, 500, 64);
  q = gf_realloc(a, q, 400, 100, 64);
  assert_non_null(q);
  assert_int_equal(gf_tracking_allocator_current(t), 600);
  gf_free(a, p, 500, 64);
  p = gf_alloc(a, 600, 64);
  gf_free(a, p, 600, 64);
  gf_free(a, q, 100, 64);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  assert_int_equal(gf_tracking_allocator_peak(t), 1000);
  gf_tracking_allocator_reset_peak(t);
  assert_int_equal(gf_tracking_allocator_peak(t), 0);
  assert_int_equal(gf_tracking_allocator_limit(t), 1000);
  gf_tracking_allocator_free(t);
  gf_error err;
  assert_int_equal(gf_tracking_allocator_new(NULL, -1, &t, &err), GF_EINVAL);
  assert_non_null(strstr(err.message, "negative limit"));
}

/* A parent allocator that records the peak of live bytes it really holds,
 * independently of the tracker under test. */
struct metered {
  gf_allocator iface;
  long long live, peak;
};

static void *metered_allocate(void *ctx, size_t size, size_t alignment) {
  struct metered *m = ctx;
  void *p = gf_alloc(NULL, size, alignment);
  if (p && (m->live += (long long)size) > m->peak) m->peak = m->live;
  return p;
}

static void metered_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  struct metered *m = ctx;
  gf_free(NULL, ptr, size, alignment);
  m->live -= (long long)size;
}

static void tracking_realloc_is_charged_old_plus_new(void **state) {
  (void)state;
  /* No reallocate: gf_realloc moves by allocate + copy + deallocate, the
   * way the default does for 64-byte alignment. */
  struct metered m = {{metered_allocate, NULL, metered_deallocate, NULL}, 0, 0};
  m.iface.ctx = &m;
  const int64_t limit = 10000;
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(&m.iface, limit, &t, NULL), GF_OK);
  const gf_allocator *a = gf_tracking_allocator_get(t);
  size_t size = 4000;
  unsigned char *p = gf_alloc(a, size, 64);
  assert_non_null(p);
  for (size_t i = 0; i < size; i++) p[i] = (unsigned char)(i * 7);
  /* 4000 + 6000 = 10000 fits exactly; 6000 + 6001 does not, though 6001 < limit. */
  p = gf_realloc(a, p, size, 6000, 64);
  assert_non_null(p);
  size = 6000;
  assert_int_equal(gf_tracking_allocator_peak(t), 10000);
  assert_null(gf_realloc(a, p, size, 6001, 64));
  assert_int_equal(gf_tracking_allocator_refusals(t), 1);
  assert_int_equal(gf_tracking_allocator_current(t), 6000);
  assert_int_equal(m.live, 6000); /* nothing leaked */
  for (size_t i = 0; i < 4000; i++) assert_int_equal(p[i], (unsigned char)(i * 7));
  /* Many growth steps: what the parent really held never passed the limit. */
  for (size_t want = 100; want < 20000; want = want * 3 / 2) {
    unsigned char *q = gf_realloc(a, p, size, want, 64);
    if (q) {
      p = q;
      size = want;
    }
    assert_true(m.peak <= limit);
    assert_int_equal(gf_tracking_allocator_current(t), (int64_t)size);
  }
  gf_free(a, p, size, 64);
  assert_int_equal(m.live, 0);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  assert_true(gf_tracking_allocator_peak(t) <= limit);
  gf_tracking_allocator_free(t);
}

struct hammer {
  const gf_allocator *a;
};

static void *hammer_thread(void *arg) {
  struct hammer *h = arg;
  for (int i = 0; i < 20000; i++) {
    void *p = gf_alloc(h->a, 64 + (size_t)(i % 7) * 8, 64);
    if (p) gf_free(h->a, p, 64 + (size_t)(i % 7) * 8, 64);
  }
  return NULL;
}

static void tracking_allocator_is_thread_safe(void **state) {
  (void)state;
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(NULL, 0, &t, NULL), GF_OK);
  struct hammer h = {gf_tracking_allocator_get(t)};
  pthread_t th[4];
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, hammer_thread, &h);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  assert_true(gf_tracking_allocator_peak(t) >= 64);
  assert_true(gf_tracking_allocator_peak(t) <= 4 * 112);
  gf_tracking_allocator_free(t);
}

static void failing_allocator_fails_nth_once_or_persistently(void **state) {
  (void)state;
  gf_failing_allocator *f;
  assert_int_equal(gf_failing_allocator_new(NULL, &f, NULL), GF_OK);
  const gf_allocator *a = gf_failing_allocator_get(f);
  gf_failing_allocator_arm(f, 2, false);
  void *p1 = gf_alloc(a, 10, 16), *p2 = gf_alloc(a, 10, 16), *p3 = gf_alloc(a, 10, 16);
  assert_non_null(p1);
  assert_null(p2);
  assert_non_null(p3);
  assert_int_equal(gf_failing_allocator_attempts(f), 3);
  assert_int_equal(gf_failing_allocator_failures(f), 1);
  assert_int_equal(gf_failing_allocator_live_blocks(f), 2);
  assert_int_equal(gf_failing_allocator_live_bytes(f), 20);
  gf_failing_allocator_arm(f, 1, true);
  assert_null(gf_alloc(a, 10, 16));
  assert_null(gf_alloc(a, 10, 16));
  assert_null(gf_realloc(a, p1, 10, 20, 16));
  assert_int_equal(gf_failing_allocator_failures(f), 3);
  gf_failing_allocator_arm(f, 0, false);
  p1 = gf_realloc(a, p1, 10, 30, 16);
  assert_non_null(p1);
  assert_int_equal(gf_failing_allocator_live_bytes(f), 40);
  gf_free(a, p1, 30, 16);
  gf_free(a, p3, 10, 16);
  assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
  assert_int_equal(gf_failing_allocator_live_bytes(f), 0);
  gf_failing_allocator_free(f);
}

static void buffers_are_aligned_padded_and_zeroed(void **state) {
  (void)state;
  gf_buffer *b;
  assert_int_equal(gf_buffer_new(NULL, 100, &b, NULL), GF_OK);
  assert_int_equal((uintptr_t)gf_buffer_data(b) % 64, 0);
  assert_int_equal(gf_buffer_size(b), 100);
  assert_int_equal(gfi_buffer_capacity(b), 128);
  const uint8_t *d = gf_buffer_data(b);
  for (int i = 0; i < 128; i++) assert_int_equal(d[i], 0);
  memset(gf_buffer_mutable_data(b), 0xAB, 100);
  assert_int_equal(gfi_buffer_resize(b, 1000), GF_OK);
  d = gf_buffer_data(b);
  assert_int_equal(d[99], 0xAB);
  for (size_t i = 100; i < gfi_buffer_capacity(b); i++) assert_int_equal(d[i], 0);
  gfi_buffer_set_size(b, 50); /* shrinking zeroes the cut tail */
  for (size_t i = 50; i < 100; i++) assert_int_equal(d[i], 0);
  assert_ptr_equal(gf_buffer_retain(b), b);
  gf_buffer_release(b);
  gf_buffer_release(b);
  gf_buffer_release(NULL);
}

static int release_calls;
static void count_release(void *owner) {
  release_calls++;
  free(owner);
}

static void wrapped_buffer_keeps_owner_until_last_release(void **state) {
  (void)state;
  char *mem = malloc(16);
  strcpy(mem, "hello");
  gf_buffer *b;
  release_calls = 0;
  assert_int_equal(gf_buffer_wrap(mem, 6, count_release, mem, &b, NULL), GF_OK);
  gf_buffer_retain(b);
  gf_buffer_release(b);
  assert_int_equal(release_calls, 0);
  assert_string_equal(gf_buffer_data(b), "hello");
  gf_buffer_release(b);
  assert_int_equal(release_calls, 1);
  gf_error err;
  assert_int_equal(gf_buffer_wrap(NULL, 5, NULL, NULL, &b, &err), GF_EINVAL);
}

static void buffer_allocation_failure_leaks_nothing(void **state) {
  (void)state;
  gf_failing_allocator *f;
  assert_int_equal(gf_failing_allocator_new(NULL, &f, NULL), GF_OK);
  for (int n = 1;; n++) {
    gf_failing_allocator_arm(f, n, false);
    gf_buffer *b = NULL;
    gf_error err;
    gf_status st = gf_buffer_new(gf_failing_allocator_get(f), 77, &b, &err);
    if (st == GF_OK) {
      gf_buffer_release(b);
      assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
      break;
    }
    assert_int_equal(st, GF_ENOMEM);
    assert_null(b);
    assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
  }
  gf_failing_allocator_free(f);
}

static void bitmap_count_and_copy_at_any_offset(void **state) {
  (void)state;
  uint8_t src[40], dst[40];
  for (int i = 0; i < 40; i++) src[i] = (uint8_t)(i * 37 + 11);
  for (int off = 0; off < 17; off++)
    for (int len = 0; len < 200; len += 13) {
      int64_t expect = 0;
      for (int i = off; i < off + len; i++) expect += gfi_bit_get(src, i);
      assert_int_equal(gfi_bitmap_count(src, off, len), expect);
      for (int doff = 0; doff < 9; doff++) {
        memset(dst, 0x5A, sizeof dst);
        gfi_bitmap_copy(dst, doff, src, off, len);
        for (int i = 0; i < len; i++)
          assert_int_equal(gfi_bit_get(dst, doff + i), gfi_bit_get(src, off + i));
        /* bits outside the target range are untouched */
        for (int i = 0; i < doff; i++) assert_int_equal(gfi_bit_get(dst, i), (0x5A >> (i & 7)) & 1);
      }
    }
  assert_int_equal(gfi_bitmap_bytes(9), 2);
}

static void cpu_features_are_detected_and_maskable(void **state) {
  (void)state;
  unsigned f = gf_cpu_features();
  const char *names = gf_cpu_features_string();
  assert_non_null(names);
  if (f == 0) assert_string_equal(names, "none");
  if (f & GF_CPU_AVX2) assert_non_null(strstr(names, "avx2"));
  assert_int_equal(gf_cpu_features(), f); /* stable */
}

static void number_formatting_round_trips_and_ignores_locale(void **state) {
  (void)state;
  const double values[] = {0.0, -0.0, 1.5, 0.1, 100.0, 1e21, 1.0 / 3.0, 123456.789,
                           5e-324, 1.7976931348623157e308, -2.5e-7};
  const char *expect[] = {"0.0", "-0.0", "1.5", "0.1", "100.0", "1e+21", "0.3333333333333333",
                          "123456.789", "5e-324", "1.7976931348623157e+308", "-2.5e-07"};
  char buf[64];
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) assert_true(gft_set_comma_locale());
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
      int n = gfi_format_double(buf, sizeof buf, values[i]);
      assert_int_equal(n, (int)strlen(buf));
      assert_string_equal(buf, expect[i]);
      assert_true(gfi_strtod(buf, NULL) == values[i]);
    }
    gfi_format_float(buf, sizeof buf, 0.1f);
    assert_string_equal(buf, "0.1");
    gfi_format_double(buf, sizeof buf, NAN);
    assert_string_equal(buf, "NaN");
    gfi_format_double(buf, sizeof buf, -INFINITY);
    assert_string_equal(buf, "-inf");
    char *end;
    assert_true(gfi_strtod("2.75x", &end) == 2.75);
    assert_int_equal(*end, 'x');
  }
  gft_reset_locale();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_names_and_strings_cover_every_code),
      cmocka_unit_test(error_set_formats_message_and_tolerates_null),
      cmocka_unit_test(default_allocator_honours_alignment),
      cmocka_unit_test(tracking_allocator_counts_and_enforces_limit),
      cmocka_unit_test(tracking_allocator_is_thread_safe),
      cmocka_unit_test(tracking_realloc_is_charged_old_plus_new),
      cmocka_unit_test(failing_allocator_fails_nth_once_or_persistently),
      cmocka_unit_test(buffers_are_aligned_padded_and_zeroed),
      cmocka_unit_test(wrapped_buffer_keeps_owner_until_last_release),
      cmocka_unit_test(buffer_allocation_failure_leaks_nothing),
      cmocka_unit_test(bitmap_count_and_copy_at_any_offset),
      cmocka_unit_test(cpu_features_are_detected_and_maskable),
      cmocka_unit_test(number_formatting_round_trips_and_ignores_locale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
