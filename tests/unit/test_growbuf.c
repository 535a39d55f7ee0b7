/* gfi_vec, the growable buffer, and gf_mem_free's caller-owned blocks:
 * contents checked against a plain fixed array filled by a naive loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/core_internal.h"
#include "gopherframe/testing.h"

enum { REF_SIZE = 200000 };
static uint8_t ref[REF_SIZE];

/* Appends pieces of growing length (1..97 bytes, then runs of one byte),
 * the reference array getting the same bytes by a plain loop. Returns the
 * status of the first failing call and the number of bytes appended. */
static gf_status fill(gfi_vec *v, size_t *n_out, gf_error *err) {
  size_t n = 0;
  uint8_t piece[97];
  for (int step = 0; n + 2 * sizeof piece < REF_SIZE; step++) {
    size_t len = (size_t)(step % 97) + 1;
    if (step % 3 == 2) {
      uint8_t b = (uint8_t)step;
      gf_status st = gfi_vec_append_n(v, b, len, err);
      if (st != GF_OK) {
        *n_out = n;
        return st;
      }
      for (size_t k = 0; k < len; k++) ref[n++] = b;
    } else {
      for (size_t k = 0; k < len; k++) piece[k] = (uint8_t)(step * 31 + (int)k);
      gf_status st = gfi_vec_append(v, piece, len, err);
      if (st != GF_OK) {
        *n_out = n;
        return st;
      }
      for (size_t k = 0; k < len; k++) ref[n++] = piece[k];
    }
  }
  *n_out = n;
  return GF_OK;
}

static void appends_past_capacity_many_times(void **state) {
  (void)state;
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(NULL, 0, &t, NULL), GF_OK);
  gfi_vec v;
  gfi_vec_init(&v, gf_tracking_allocator_get(t));
  assert_null(v.data);
  size_t n, grows = 0, last_cap = 0;
  assert_int_equal(fill(&v, &n, NULL), GF_OK);
  assert_int_equal(v.len, n);
  assert_true(v.cap >= n);
  assert_memory_equal(v.data, ref, n);
  /* Doubling: the capacity is a power of two times 64, and far fewer grows
   * than appends happened. */
  for (size_t c = 64; c < v.cap; c *= 2) grows++;
  assert_true(grows < 20);
  last_cap = v.cap;
  assert_int_equal(v.cap & (v.cap - 1), 0);
  assert_int_equal(gf_tracking_allocator_current(t), (int64_t)last_cap);
  /* resize: shrinking keeps the capacity, growing zeroes. */
  assert_int_equal(gfi_vec_resize(&v, 10, NULL), GF_OK);
  assert_int_equal(v.len, 10);
  assert_int_equal(v.cap, last_cap);
  assert_int_equal(gfi_vec_resize(&v, 5000, NULL), GF_OK);
  assert_memory_equal(v.data, ref, 10);
  for (size_t i = 10; i < 5000; i++) assert_int_equal(v.data[i], 0);
  assert_int_equal(gfi_vec_terminate(&v, NULL), GF_OK);
  assert_int_equal(v.len, 5000);
  assert_int_equal(v.data[5000], 0);
  gfi_vec_reset(&v);
  assert_null(v.data);
  assert_int_equal(v.len, 0);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  /* Reusable after reset. */
  assert_int_equal(gfi_vec_append(&v, "ab", 2, NULL), GF_OK);
  assert_int_equal(gfi_vec_append(&v, NULL, 0, NULL), GF_OK);
  assert_memory_equal(v.data, "ab", 2);
  gfi_vec_reset(&v);
  gf_tracking_allocator_free(t);
}

static void overflowing_sizes_are_refused_with_a_message(void **state) {
  (void)state;
  /* Counted by a failing allocator that never fails: absurd sizes are
   * refused before the allocator is asked. */
  gf_failing_allocator *f;
  assert_int_equal(gf_failing_allocator_new(NULL, &f, NULL), GF_OK);
  gfi_vec v;
  gfi_vec_init(&v, gf_failing_allocator_get(f));
  gf_error err;
  assert_int_equal(gfi_vec_append(&v, "xyz", 3, NULL), GF_OK);
  int64_t asked = gf_failing_allocator_attempts(f);
  assert_int_equal(gfi_vec_reserve(&v, SIZE_MAX - 1, &err), GF_ENOMEM);
  assert_non_null(strstr(err.message, "overflow"));
  assert_int_equal(gfi_vec_reserve(&v, SIZE_MAX / 2 + 1, &err), GF_ENOMEM);
  assert_int_equal(gfi_vec_append_n(&v, 1, SIZE_MAX - 2, &err), GF_ENOMEM);
  assert_int_equal(gfi_vec_resize(&v, SIZE_MAX, &err), GF_ENOMEM);
  assert_int_equal(gfi_vec_reserve(&v, (size_t)PTRDIFF_MAX, &err), GF_ENOMEM);
  assert_non_null(strstr(err.message, "overflow"));
  assert_int_equal(gf_failing_allocator_attempts(f), asked);
  /* The contents survive every refusal. */
  assert_int_equal(v.len, 3);
  assert_memory_equal(v.data, "xyz", 3);
  /* A limit refusal names the size asked for. */
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(NULL, 1000, &t, NULL), GF_OK);
  gfi_vec w;
  gfi_vec_init(&w, gf_tracking_allocator_get(t));
  assert_int_equal(gfi_vec_reserve(&w, 5000, &err), GF_ENOMEM);
  assert_non_null(strstr(err.message, "8192 bytes"));
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  gfi_vec_reset(&w);
  gf_tracking_allocator_free(t);
  gfi_vec_reset(&v);
  assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
  gf_failing_allocator_free(f);
}

/* The growth rule checked against its specification: at least the
 * request; the start (max(cap, min, 1)) when that suffices; otherwise the
 * request itself, or the start doubled the fewest times that reach it. */
static void grow_capacity_doubles_and_never_wraps(void **state) {
  (void)state;
  const size_t caps[] = {0, 1, 32, 64, 1000, SIZE_MAX / 4, SIZE_MAX / 2 + 1};
  const size_t needs[] = {0, 1, 33, 65, 4097, SIZE_MAX / 2, SIZE_MAX / 2 + 2, SIZE_MAX};
  const size_t mins[] = {0, 32, 256};
  for (size_t i = 0; i < 7; i++)
    for (size_t j = 0; j < 8; j++)
      for (size_t k = 0; k < 3; k++) {
        size_t start = caps[i] > mins[k] ? caps[i] : mins[k];
        if (!start) start = 1;
        size_t got = gfi_grow_capacity(caps[i], needs[j], mins[k]);
        assert_true(got >= needs[j]);
        if (start >= needs[j]) {
          assert_true(got == start);
          continue;
        }
        if (got == needs[j]) continue;
        size_t m = got / start;
        assert_int_equal(got % start, 0);
        assert_int_equal(m & (m - 1), 0);    /* start times a power of two */
        assert_true(got / 2 < needs[j]);     /* the fewest doublings */
      }
  assert_int_equal(gfi_grow_capacity(0, 1, 0), 1);
  assert_int_equal(gfi_grow_capacity(64, 65, 64), 128);
  assert_int_equal(gfi_grow_capacity(0, 5000, 256), 8192);
  assert_int_equal(gfi_grow_capacity(SIZE_MAX / 2 + 1, SIZE_MAX - 5, 0), SIZE_MAX - 5);
}

static void take_moves_ownership_out(void **state) {
  (void)state;
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(NULL, 0, &t, NULL), GF_OK);
  const gf_allocator *a = gf_tracking_allocator_get(t);
  gfi_vec v;
  gfi_vec_init(&v, a);
  assert_null(gfi_vec_take(&v)); /* nothing reserved, nothing to own */
  assert_int_equal(gfi_vec_append(&v, "hello", 5, NULL), GF_OK);
  size_t cap = v.cap;
  char *p = gfi_vec_take(&v);
  assert_null(v.data);
  assert_int_equal(v.cap, 0);
  gfi_vec_reset(&v); /* no-op: the block is not the vector's any more */
  assert_int_equal(gf_tracking_allocator_current(t), (int64_t)cap);
  assert_memory_equal(p, "hello", 5);
  gf_free(a, p, cap, 16);
  assert_int_equal(gf_tracking_allocator_current(t), 0);

  /* Owned: 64-byte aligned, freed by pointer alone, counted while alive. */
  gfi_vec_init_owned(&v, a);
  size_t n;
  assert_int_equal(fill(&v, &n, NULL), GF_OK);
  uint8_t *q = gfi_vec_take(&v);
  assert_int_equal((uintptr_t)q % 64, 0);
  assert_memory_equal(q, ref, n);
  assert_true(gf_tracking_allocator_current(t) > (int64_t)n);
  gf_mem_free(q);
  gf_mem_free(NULL);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  void *z = gfi_owned_alloc(a, 0);
  assert_non_null(z);
  assert_int_equal((uintptr_t)z % 64, 0);
  gf_mem_free(z);
  assert_int_equal(gf_tracking_allocator_current(t), 0);
  gf_tracking_allocator_free(t);
}

static void every_allocation_failure_is_clean(void **state) {
  (void)state;
  gf_failing_allocator *f;
  assert_int_equal(gf_failing_allocator_new(NULL, &f, NULL), GF_OK);
  const gf_allocator *a = gf_failing_allocator_get(f);
  for (int owned = 0; owned < 2; owned++) {
    gf_failing_allocator_arm(f, 0, false);
    gfi_vec v;
    if (owned) gfi_vec_init_owned(&v, a); else gfi_vec_init(&v, a);
    size_t n;
    assert_int_equal(fill(&v, &n, NULL), GF_OK);
    gfi_vec_reset(&v);
    int64_t total = gf_failing_allocator_attempts(f);
    assert_true(total > 5);
    for (int64_t at = 1; at <= total; at++) {
      gf_failing_allocator_arm(f, at, false);
      if (owned) gfi_vec_init_owned(&v, a); else gfi_vec_init(&v, a);
      gf_error err;
      assert_int_equal(fill(&v, &n, &err), GF_ENOMEM);
      assert_non_null(strstr(err.message, "bytes"));
      /* What was appended before the failure is intact. */
      assert_int_equal(v.len, n);
      if (n) assert_memory_equal(v.data, ref, n);
      gfi_vec_reset(&v);
      assert_int_equal(gf_failing_allocator_live_blocks(f), 0);
    }
  }
  gf_failing_allocator_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(appends_past_capacity_many_times),
      cmocka_unit_test(overflowing_sizes_are_refused_with_a_message),
      cmocka_unit_test(grow_capacity_doubles_and_never_wraps),
      cmocka_unit_test(take_moves_ownership_out),
      cmocka_unit_test(every_allocation_failure_is_clean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
