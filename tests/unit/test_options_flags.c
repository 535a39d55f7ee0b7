/* gf_parallel_options.flags: every public entry point loads options the same
 * way and refuses bits outside GF_PARALLEL_FLAGS_KNOWN, naming the bit; no
 * internal state rides in the flag word any more (bit 29 used to mean "the
 * timeout is an absolute deadline", so a caller setting it with a long
 * timeout timed out at once). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec_internal.h"
#include "gf_test_data.h"

/* Bits tried: the two that used to be internal, the sign bit, one just
 * past the known flags. */
static const unsigned kBadBits[] = {29, 30, 31, 1};

/* Options with bit `bit` set and a timeout far away. */
static gf_parallel_options bad_options(unsigned bit) {
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.flags = 1u << bit;
  o.timeout_ms = 100000;
  o.num_workers = 2;
  o.min_parallel_rows = 0;
  return o;
}

/* The refusal names the bit, its value and the known flags. */
static void assert_refused(gf_status st, const gf_error *err, unsigned bit) {
  assert_int_equal(st, GF_EINVAL);
  char want[64];
  snprintf(want, sizeof want, "unknown bit %u (0x%x)", bit, 1u << bit);
  if (!strstr(err->message, want) || !strstr(err->message, "gf_parallel_options.flags") ||
      !strstr(err->message, "GF_PIN_THREADS"))
    fail_msg("message \"%s\" does not name bit %u and the known flags", err->message, bit);
}

static gf_status noop_kernel(void *user, const gf_chunk_spec *c, gf_task_ctx *ctx) {
  (void)user;
  (void)c;
  (void)ctx;
  return GF_OK;
}

/* A small frame: int64 columns c0 (key) and c1. */
static gf_frame *small_frame(void) {
  gf_datatype t[2] = {gf_type(GF_TYPE_INT64), gf_type(GF_TYPE_INT64)};
  gf_frame *f = NULL;
  assert_int_equal(gft_random_frame(t, 2, 1000, 2, 0.0, 7, NULL, &f), GF_OK);
  return f;
}

static void test_loader_refuses_unknown_bits_and_keeps_known_ones(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof kBadBits / sizeof kBadBits[0]; i++) {
    gf_parallel_options o = bad_options(kBadBits[i]), out;
    gf_error err;
    assert_refused(gfi_options_load(&o, &out, &err), &err, kBadBits[i]);
    gfi_ctx call;
    assert_refused(gfi_ctx_load(&call, &o, &out, &err), &err, kBadBits[i]);
    /* A known flag next to an unknown one is still refused. */
    o.flags |= GF_PIN_THREADS;
    assert_refused(gfi_options_load(&o, &out, &err), &err, kBadBits[i]);
  }
  gf_parallel_options o;
  gf_parallel_options_init(&o);
  o.flags = GF_PARALLEL_FLAGS_KNOWN;
  gf_parallel_options out;
  assert_int_equal(gfi_options_load(&o, &out, NULL), GF_OK);
  assert_int_equal(out.flags, GF_PIN_THREADS);
  /* The lowest unknown bit is the one named. */
  o.flags = (1u << 29) | (1u << 5);
  gf_error err;
  assert_refused(gfi_options_load(&o, &out, &err), &err, 5);
}

/* The runtime's own entry points. */
static void test_runtime_entry_points_refuse_unknown_bits(void **state) {
  (void)state;
  gf_chunk_spec chunks[2] = {{0, 10, 0}, {10, 20, 1}};
  for (size_t i = 0; i < sizeof kBadBits / sizeof kBadBits[0]; i++) {
    unsigned bit = kBadBits[i];
    gf_parallel_options o = bad_options(bit);
    gf_error err;
    assert_refused(gf_run_chunks(chunks, 2, noop_kernel, NULL, &o, &err), &err, bit);
    assert_refused(gf_parallel_for(100, 8, false, noop_kernel, NULL, &o, &err), &err, bit);
    assert_refused(gf_parallel_for(100, 8, true, noop_kernel, NULL, &o, &err), &err, bit);
    gf_chunk_spec *plan = NULL;
    int64_t n = 0;
    assert_refused(gf_plan_chunks(100, 8, &o, &plan, &n, &err), &err, bit);
    assert_null(plan);
    /* With nothing to do the options are still checked. */
    assert_refused(gf_run_chunks(NULL, 0, noop_kernel, NULL, &o, &err), &err, bit);
    assert_refused(gf_parallel_for(0, 8, false, noop_kernel, NULL, &o, &err), &err, bit);
  }
}

/* Bit 29 with a long timeout used to time out at once; now it is refused,
 * and the same options without it run. */
static void test_bit_29_with_long_timeout_is_refused_not_timed_out(void **state) {
  (void)state;
  gf_parallel_options o = bad_options(29);
  gf_error err;
  gf_status st = gf_parallel_for(1000, 8, false, noop_kernel, NULL, &o, &err);
  assert_int_not_equal(st, GF_ETIMEDOUT);
  assert_refused(st, &err, 29);
  o.flags = 0;
  assert_int_equal(gf_parallel_for(1000, 8, false, noop_kernel, NULL, &o, &err), GF_OK);
  /* Loaded options carry nothing in the flag word either. */
  gfi_ctx call;
  gf_parallel_options loaded;
  assert_int_equal(gfi_ctx_load(&call, &o, &loaded, NULL), GF_OK);
  assert_int_equal(loaded.flags, 0);
  assert_int_equal(loaded.timeout_ms, 100000);
  assert_int_equal(gf_parallel_for(1000, 8, false, noop_kernel, NULL, &loaded, &err), GF_OK);
}

/* Loaded options reach the user's token through the call token, also in
 * copies (a phase with other min_parallel_rows), and the context's
 * statistics mode decides whether runtime calls add up. */
static void test_loaded_options_carry_token_and_stats_mode(void **state) {
  (void)state;
  gf_cancel *tok = NULL;
  assert_int_equal(gf_cancel_new(&tok, NULL), GF_OK);
  gf_exec_stats stats;
  gf_parallel_options user;
  gf_parallel_options_init(&user);
  user.cancel = tok;
  user.stats = &stats;
  user.num_workers = 2;
  gfi_ctx call;
  gf_parallel_options o;
  assert_int_equal(gfi_ctx_load(&call, &user, &o, NULL), GF_OK);
  assert_ptr_equal(call.user_cancel, tok);
  assert_ptr_not_equal(o.cancel, tok);
  gf_parallel_options phase = o;
  phase.min_parallel_rows = 0;
  assert_false(gf_cancel_requested(phase.cancel));
  /* Replacing: two calls of 100 rows report the last one. */
  memset(&stats, 0, sizeof stats);
  assert_int_equal(gf_parallel_for(100, 8, false, noop_kernel, NULL, &phase, NULL), GF_OK);
  assert_int_equal(gf_parallel_for(100, 8, false, noop_kernel, NULL, &phase, NULL), GF_OK);
  assert_int_equal(stats.rows, 100);
  /* Accumulating (as a group-by sets it after loading): they add up. */
  memset(&stats, 0, sizeof stats);
  call.stats_accumulate = true;
  assert_int_equal(gf_parallel_for(100, 8, false, noop_kernel, NULL, &phase, NULL), GF_OK);
  assert_int_equal(gf_parallel_for(100, 8, false, noop_kernel, NULL, &phase, NULL), GF_OK);
  assert_int_equal(stats.rows, 200);
  gf_cancel_request(tok);
  assert_true(gf_cancel_requested(phase.cancel));
  gf_error err;
  assert_int_equal(gf_parallel_for(100, 8, false, noop_kernel, NULL, &phase, &err),
                   GF_ECANCELED);
  assert_int_equal(gfi_check_stop(&phase, 0, NULL, &err), GF_ECANCELED);
  gf_cancel_free(tok);
}

/* Frame operators: filter, sort, group-by, evaluate, with_columns, join,
 * the fused pipeline. */
static void test_frame_operators_refuse_unknown_bits(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  gf_expr *pred = NULL;
  assert_int_equal(gf_expr_parse("c1 > 0", &pred, NULL), GF_OK);
  for (size_t i = 0; i < sizeof kBadBits / sizeof kBadBits[0]; i++) {
    unsigned bit = kBadBits[i];
    gf_parallel_options o = bad_options(bit);
    gf_error err;
    gf_frame *out = NULL;
    assert_refused(gf_filter(f, pred, &o, &out, &err), &err, bit);
    assert_null(out);
    gf_sort_key key = {"c1", false, false};
    assert_refused(gf_sort(f, &key, 1, 0, &o, &out, &err), &err, bit);
    int64_t *perm = NULL;
    assert_refused(gf_sort_indices(f, &key, 1, &o, &perm, &err), &err, bit);
    assert_refused(gf_evaluate(f, pred, "p", &o, &out, &err), &err, bit);
    const char *name = "p";
    gf_expr *e = pred;
    assert_refused(gf_with_columns(f, &name, &e, 1, &o, &out, &err), &err, bit);
    gf_groupby_options go;
    gf_groupby_options_init(&go);
    go.parallel = &o;
    const char *keys[1] = {"c0"};
    gf_agg_spec spec = {GF_AGG_SUM, "c1", NULL, 0, 0, NULL};
    assert_refused(gf_group_by(f, keys, 1, &spec, 1, &go, &out, &err), &err, bit);
    assert_refused(gf_group_by_text(f, keys, 1, "sum(c1)", &go, &out, &err), &err, bit);
    gf_join_options jo;
    gf_join_options_init(&jo);
    jo.parallel = &o;
    assert_refused(gf_join(f, f, keys, keys, 1, GF_JOIN_INNER, &jo, &out, &err), &err, bit);
    assert_null(out);
    gf_pipeline *p = NULL;
    assert_int_equal(gf_pipeline_new(&p, NULL), GF_OK);
    assert_int_equal(gf_pipeline_add_filter(p, pred, NULL), GF_OK);
    assert_refused(gf_pipeline_run(p, f, &o, &out, &err), &err, bit);
    assert_null(out);
    gf_pipeline_free(p);
  }
  gf_expr_release(pred);
  gf_frame_release(f);
}

/* Readers and writers: CSV read (buffer), CSV write, IPC write and read. */
static void test_readers_and_writers_refuse_unknown_bits(void **state) {
  (void)state;
  gf_frame *f = small_frame();
  void *ipc = NULL;
  size_t ipc_len = 0;
  assert_int_equal(gf_write_ipc_memory(f, true, NULL, &ipc, &ipc_len, NULL), GF_OK);
  const char csv[] = "a,b\n1,2\n3,4\n";
  for (size_t i = 0; i < sizeof kBadBits / sizeof kBadBits[0]; i++) {
    unsigned bit = kBadBits[i];
    gf_parallel_options o = bad_options(bit);
    gf_error err;
    gf_frame *out = NULL;
    gf_csv_read_options ro;
    gf_csv_read_options_init(&ro);
    ro.parallel = &o;
    assert_refused(gf_read_csv_buffer(csv, sizeof csv - 1, "t.csv", &ro, &out, &err), &err, bit);
    assert_null(out);
    char *text = NULL;
    size_t text_len = 0;
    FILE *mem = open_memstream(&text, &text_len);
    assert_non_null(mem);
    gf_csv_write_options wo;
    gf_csv_write_options_init(&wo);
    wo.parallel = &o;
    assert_refused(gf_write_csv_stream(f, mem, &wo, &err), &err, bit);
    fclose(mem);
    assert_int_equal(text_len, 0); /* refused before the header was written */
    free(text);
    gf_ipc_write_options iw;
    gf_ipc_write_options_init(&iw);
    iw.parallel = &o;
    void *bytes = NULL;
    size_t len = 0;
    assert_refused(gf_write_ipc_memory(f, true, &iw, &bytes, &len, &err), &err, bit);
    assert_null(bytes);
    gf_ipc_read_options ir;
    gf_ipc_read_options_init(&ir);
    ir.parallel = &o;
    assert_refused(gf_read_ipc_file_buffer(ipc, ipc_len, &ir, &out, &err), &err, bit);
    assert_null(out);
  }
  gf_mem_free(ipc);
  gf_frame_release(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loader_refuses_unknown_bits_and_keeps_known_ones),
      cmocka_unit_test(test_runtime_entry_points_refuse_unknown_bits),
      cmocka_unit_test(test_bit_29_with_long_timeout_is_refused_not_timed_out),
      cmocka_unit_test(test_loaded_options_carry_token_and_stats_mode),
      cmocka_unit_test(test_frame_operators_refuse_unknown_bits),
      cmocka_unit_test(test_readers_and_writers_refuse_unknown_bits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
