/* A memory limit holds for what really is allocated: under a tracking
 * allocator with limit L, the parent allocator below it (which counts the
 * bytes it really hands out, independently of the tracker) never holds
 * more than L, whether the operation succeeds or fails with GF_ENOMEM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

/* Counts live bytes and their peak; thread-safe (readers run in parallel).
 * No reallocate, so that every move is allocate + copy + free, as the
 * default allocator does for 64-byte alignment. */
typedef struct metered {
  gf_allocator iface;
  atomic_llong live, peak;
} metered;

static void *m_allocate(void *ctx, size_t size, size_t alignment) {
  metered *m = ctx;
  void *p = gf_alloc(NULL, size, alignment);
  if (!p) return NULL;
  long long now = atomic_fetch_add(&m->live, (long long)size) + (long long)size;
  long long pk = atomic_load(&m->peak);
  while (now > pk && !atomic_compare_exchange_weak(&m->peak, &pk, now)) {
  }
  return p;
}

static void m_deallocate(void *ctx, void *ptr, size_t size, size_t alignment) {
  metered *m = ctx;
  gf_free(NULL, ptr, size, alignment);
  atomic_fetch_sub(&m->live, (long long)size);
}

static void metered_init(metered *m) {
  m->iface = (gf_allocator){m_allocate, NULL, m_deallocate, m};
  atomic_init(&m->live, 0);
  atomic_init(&m->peak, 0);
}

/* A tracker with `limit` over a fresh meter. */
static gf_tracking_allocator *limited(metered *m, int64_t limit) {
  metered_init(m);
  gf_tracking_allocator *t;
  assert_int_equal(gf_tracking_allocator_new(&m->iface, limit, &t, NULL), GF_OK);
  return t;
}

static void builder_growth_stays_under_the_limit(void **state) {
  (void)state;
  const int64_t limits[] = {70 * 1024, 300 * 1024, 1 << 20};
  for (size_t k = 0; k < sizeof limits / sizeof *limits; k++) {
    for (int strings = 0; strings < 2; strings++) {
      metered m;
      gf_tracking_allocator *t = limited(&m, limits[k]);
      gf_builder *b;
      gf_datatype ty = gf_type(strings ? GF_TYPE_UTF8 : GF_TYPE_INT64);
      assert_int_equal(gf_builder_new(ty, gf_tracking_allocator_get(t), &b, NULL), GF_OK);
      gf_status st = GF_OK;
      int64_t n = 0;
      gf_error err;
      while (st == GF_OK && n < 10 * 1000 * 1000) {
        st = strings ? gf_builder_append_string(b, "twelve bytes", &err)
                     : gf_builder_append_int64(b, n, &err);
        n++;
      }
      assert_int_equal(st, GF_ENOMEM); /* the limit, not the loop, stopped it */
      assert_true(atomic_load(&m.peak) <= limits[k]);
      gf_builder_free(b);
      assert_int_equal(atomic_load(&m.live), 0);
      gf_tracking_allocator_free(t);
    }
  }
}

/* CSV text of `rows` rows: an int, a float and a string column. */
static char *csv_text(int rows, size_t *len) {
  size_t cap = (size_t)rows * 48 + 64, n = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  n += (size_t)snprintf(s, cap, "a,b,c\n");
  for (int i = 0; i < rows; i++)
    n += (size_t)snprintf(s + n, cap - n, "%d,%d.25,name_%d\n", i, i % 977, i % 5003);
  *len = n;
  return s;
}

static void csv_read_ipc_write_and_print_stay_under_the_limit(void **state) {
  (void)state;
  size_t len;
  char *text = csv_text(60000, &len);
  int fits = 0, refused = 0;
  for (int64_t limit = 256 * 1024; limit <= 16 << 20; limit = limit * 3 / 2) {
    metered m;
    gf_tracking_allocator *t = limited(&m, limit);
    gf_parallel_options po;
    gf_parallel_options_init(&po);
    po.allocator = gf_tracking_allocator_get(t);
    po.num_workers = 2;
    gf_csv_read_options ro;
    gf_csv_read_options_init(&ro);
    ro.parallel = &po;
    gf_frame *f = NULL;
    gf_error err;
    gf_status st = gf_read_csv_buffer(text, len, "mem.csv", &ro, &f, &err);
    if (st == GF_OK) {
      gf_ipc_write_options wo;
      gf_ipc_write_options_init(&wo);
      wo.parallel = &po;
      void *bytes = NULL;
      size_t n = 0;
      st = gf_write_ipc_memory(f, true, &wo, &bytes, &n, &err);
      if (st == GF_OK) {
        /* The result counts against the limit until it is freed. */
        assert_true(gf_tracking_allocator_current(t) >= (int64_t)n);
        gf_mem_free(bytes);
      }
      char *shown = NULL;
      gf_print_options pr;
      gf_print_options_init(&pr);
      pr.max_rows = -1;
      gf_status pst = gf_frame_format(f, &pr, &shown, &err);
      if (pst == GF_OK) gf_mem_free(shown);
      else assert_int_equal(pst, GF_ENOMEM);
      gf_frame_release(f);
    }
    if (st == GF_OK) fits++;
    else {
      assert_int_equal(st, GF_ENOMEM);
      refused++;
    }
    assert_true(atomic_load(&m.peak) <= limit);
    assert_int_equal(atomic_load(&m.live), 0);
    gf_tracking_allocator_free(t);
  }
  assert_true(fits > 0);
  assert_true(refused > 0);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(builder_growth_stays_under_the_limit),
      cmocka_unit_test(csv_read_ipc_write_and_print_stay_under_the_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
