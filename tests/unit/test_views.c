/* Utf8View / BinaryView (issue 16, item 2): C Data import and IPC read
 * convert views to utf8/binary after validating them, export on request
 * gives views back; and nested types are refused naming the type and the
 * field (item 4). References: files written by pyarrow
 * (tests/data/views/make_views.py) with their expected values, and arrays
 * built here by hand with the values kept beside them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/cdata_internal.h"
#include "data/view_internal.h"
#include "gf_test_sweep.h"
#include "gopherframe.h"
#include "gopherframe/testing.h"

/* Release callbacks of producer structs this file owns (defined below). */
static void batch_release(struct ArrowArray *a);
static void schema_noop_release(struct ArrowSchema *s);

/* ---- reference values ----------------------------------------------------- */

/* One expected value: NULL or bytes. */
typedef struct ref_value {
  bool null;
  size_t len;
  char *bytes;
} ref_value;

/* Decodes "x<hex>" into a fresh ref_value (or "NULL"). */
static ref_value ref_parse(const char *tok) {
  ref_value v = {0};
  if (strcmp(tok, "NULL") == 0) {
    v.null = true;
    return v;
  }
  assert_true(tok[0] == 'x');
  size_t n = (strlen(tok) - 1) / 2;
  v.bytes = malloc(n ? n : 1);
  assert_non_null(v.bytes);
  for (size_t i = 0; i < n; i++) {
    unsigned b;
    assert_int_equal(sscanf(tok + 1 + 2 * i, "%2x", &b), 1);
    v.bytes[i] = (char)b;
  }
  v.len = n;
  return v;
}

/* Asserts element i of `a` equals `v`. */
static void check_value(const gf_array *a, int64_t i, const ref_value *v,
                         const char *what) {
  if (v->null) {
    if (!gf_array_is_null(a, i)) fail_msg("%s row %lld: expected null", what, (long long)i);
    return;
  }
  if (gf_array_is_null(a, i)) fail_msg("%s row %lld: unexpected null", what, (long long)i);
  int64_t len = -1;
  const char *b = gf_array_get_bytes(a, i, &len);
  if (len != (int64_t)v->len || (len > 0 && memcmp(b, v->bytes, v->len) != 0))
    fail_msg("%s row %lld: value differs (length %lld, expected %zu)", what,
             (long long)i, (long long)len, v->len);
}

static char *data_path(const char *name) {
  const char *base = getenv("GF_TEST_DATA");
  assert_non_null(base);
  size_t n = strlen(base) + strlen(name) + 16;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/views/%s", base, name);
  return p;
}

/* ---- IPC read of pyarrow's view files -------------------------------------- */

/* The expected values of views_expected.txt for column `col`, all batches
 * in order; *n receives the count. */
static ref_value *ipc_expected(int col, int *n) {
  char *path = data_path("views_expected.txt");
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  free(path);
  ref_value *out = NULL;
  int cap = 0, cnt = 0;
  int b, c, r;
  char tok[4096];
  while (fscanf(f, "%d %d %d %4095s", &b, &c, &r, tok) == 4) {
    if (c != col) continue;
    if (cnt == cap) {
      cap = cap ? cap * 2 : 64;
      out = realloc(out, sizeof *out * (size_t)cap);
      assert_non_null(out);
    }
    out[cnt++] = ref_parse(tok);
  }
  fclose(f);
  *n = cnt;
  return out;
}

static void ref_free(ref_value *v, int n) {
  for (int i = 0; i < n; i++) free(v[i].bytes);
  free(v);
}

/* Checks every column of a frame read from views.arrow(s) against the
 * expected values, and the types: views became utf8/binary. */
static void check_views_frame(const gf_frame *f) {
  const gf_schema *s = gf_frame_schema(f);
  assert_int_equal(gf_schema_num_fields(s), 4);
  const gf_type_id want[4] = {GF_TYPE_UTF8, GF_TYPE_BINARY, GF_TYPE_UTF8, GF_TYPE_UTF8};
  for (int c = 0; c < 4; c++) {
    assert_int_equal(gf_schema_field(s, c)->type.id, want[c]);
    int n = 0;
    ref_value *ref = ipc_expected(c, &n);
    assert_int_equal(n, 65);
    assert_int_equal(gf_frame_num_rows(f), n);
    int k = 0;
    for (int b = 0; b < gf_frame_num_batches(f); b++) {
      const gf_array *a = gf_frame_column(f, b, c);
      assert_int_equal(gf_array_validate(a, true, NULL), GF_OK);
      for (int64_t i = 0; i < gf_array_length(a); i++, k++)
        check_value(a, i, &ref[k], gf_schema_field(s, c)->name);
    }
    assert_int_equal(k, n);
    ref_free(ref, n);
  }
}

/* pyarrow's Utf8View/BinaryView IPC file and stream (several data buffers,
 * nulls over garbage views, an empty batch) read value for value, at every
 * validation level. */
static void ipc_views_read_as_utf8_and_binary(void **state) {
  (void)state;
  const char *files[] = {"views.arrow", "views.arrows"};
  const gf_ipc_validation levels[] = {GF_IPC_VALIDATE_FULL, GF_IPC_VALIDATE_NO_UTF8,
                                      GF_IPC_VALIDATE_METADATA_ONLY};
  for (int fi = 0; fi < 2; fi++)
    for (int li = 0; li < 3; li++) {
      char *path = data_path(files[fi]);
      gf_ipc_read_options o;
      gf_ipc_read_options_init(&o);
      o.validation = levels[li];
      gf_frame *f = NULL;
      gf_error err;
      gf_status st = gf_read_ipc(path, &o, &f, &err);
      if (st != GF_OK) fail_msg("%s: %s", files[fi], err.message);
      check_views_frame(f);
      gf_frame_release(f);
      free(path);
    }
}

/* Reads a whole file into memory. */
static uint8_t *slurp(const char *name, size_t *len) {
  char *path = data_path(name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  free(path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *d = malloc((size_t)n);
  assert_non_null(d);
  assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return d;
}

typedef struct ipc_sweep {
  const uint8_t *data;
  size_t len;
} ipc_sweep;

static gf_status ipc_read_once(void *user, const gf_allocator *a) {
  ipc_sweep *s = user;
  gf_parallel_options par;
  gf_parallel_options_init(&par);
  par.allocator = a;
  gf_ipc_read_options o;
  gf_ipc_read_options_init(&o);
  o.parallel = &par;
  gf_frame *f = NULL;
  gf_status st = gf_read_ipc_file_buffer(s->data, s->len, &o, &f, NULL);
  if (st == GF_OK) {
    check_views_frame(f);
    gf_frame_release(f);
  } else {
    assert_null(f);
  }
  return st;
}

/* Every allocation of reading the view file failed in turn: GF_ENOMEM,
 * nothing leaked. */
static void ipc_views_survive_allocation_failures(void **state) {
  (void)state;
  ipc_sweep s;
  s.data = slurp("views.arrow", &s.len);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts cnt = {0};
  gft_alloc_sweep("IPC view read", fa, ipc_read_once, &s, &cnt);
  gft_sweep_print("IPC view read", &cnt);
  assert_true(cnt.failing[0] > 0);
  gf_failing_allocator_free(fa);
  free((void *)s.data);
}

/* Views that all point at one long string (4,000 rows x 1,000 bytes over
 * a 1,000-byte data buffer) convert to far more bytes than the producer
 * holds: a tracking allocator's limit bounds that copy (GF_ENOMEM, the
 * producer untouched); without one every row gets the string. */
static void cdata_view_amplification_is_bounded_by_the_memory_limit(void **state) {
  (void)state;
  enum { ROWS = 4000, LEN = 1000 };
  uint8_t *data = malloc(LEN);
  for (int i = 0; i < LEN; i++) data[i] = (uint8_t)('a' + i % 26);
  uint8_t *views = calloc(ROWS, 16);
  for (int i = 0; i < ROWS; i++) {
    int32_t len = LEN, idx = 0, off = 0;
    memcpy(views + i * 16, &len, 4);
    memcpy(views + i * 16 + 4, data, 4);
    memcpy(views + i * 16 + 8, &idx, 4);
    memcpy(views + i * 16 + 12, &off, 4);
  }
  int64_t sizes[1] = {LEN};
  for (int limited = 0; limited < 2; limited++) {
    const void *ptrs[4] = {NULL, views, data, sizes};
    struct ArrowArray arr = {0};
    arr.length = ROWS;
    arr.n_buffers = 4;
    arr.buffers = ptrs;
    arr.release = batch_release;
    struct ArrowSchema sch = {0};
    sch.format = "vu";
    sch.name = "s";
    sch.release = schema_noop_release;
    gf_tracking_allocator *ta = NULL;
    assert_int_equal(gf_tracking_allocator_new(NULL, limited ? 1 << 20 : 0, &ta, NULL), GF_OK);
    gf_array *a = NULL;
    gf_error err;
    gf_status st = gf_array_import_with(&arr, &sch, GF_IMPORT_CHECK_FULL,
                                        gf_tracking_allocator_get(ta), &a, &err);
    if (limited) {
      assert_int_equal(st, GF_ENOMEM);
      assert_null(a);
      assert_non_null(arr.release);
    } else {
      if (st != GF_OK) fail_msg("%s", err.message);
      assert_int_equal(gf_array_length(a), ROWS);
      int64_t l;
      gf_array_get_bytes(a, ROWS - 1, &l);
      assert_int_equal(l, LEN);
      gf_array_release(a);
    }
    gf_tracking_allocator_free(ta);
  }
  free(views);
  free(data);
}

/* Patches the first occurrence of `find` (n bytes) in buf with `repl`. */
static bool patch(uint8_t *buf, size_t len, const void *find, const void *repl,
                  size_t n) {
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(buf + i, find, n) == 0) {
      memcpy(buf + i, repl, n);
      return true;
    }
  return false;
}

/* Corrupted view bodies: a string byte made invalid UTF-8 (and the prefix
 * with it) is refused as GF_EINVAL naming the column and the row; never a
 * crash. */
static void ipc_corrupt_views_fail_cleanly(void **state) {
  (void)state;
  size_t len;
  uint8_t *d = slurp("views.arrow", &len);
  /* "thirteen" strings sit out of line; turn the second byte of one into
   * 0xFF in the data buffer only (its view prefix keeps 'h'): the prefix
   * check fires. */
  assert_true(patch(d + 512, len - 512, "thirteen000", "t\xffirteen000", 11));
  gf_frame *f = NULL;
  gf_error err;
  gf_status st = gf_read_ipc_file_buffer(d, len, NULL, &f, &err);
  assert_int_equal(st, GF_EINVAL);
  assert_null(f);
  assert_non_null(strstr(err.message, "column '"));
  assert_non_null(strstr(err.message, "row "));
  assert_non_null(strstr(err.message, "prefix"));
  free(d);
}

/* ---- C Data: pyarrow's own export, dumped raw ------------------------------- */

/* An ArrowArray rebuilt from a cdata_*.bin dump, owning its buffers. */
typedef struct dumped {
  struct ArrowArray arr;
  struct ArrowSchema sch;
  char format[16];
  int64_t nb;
  void **mem;
  const void **ptrs;
  int releases;
} dumped;

static void dumped_release(struct ArrowArray *a) {
  dumped *d = a->private_data;
  for (int64_t i = 0; i < d->nb; i++) free(d->mem[i]);
  free(d->mem);
  free(d->ptrs);
  d->releases++;
  a->release = NULL;
}

static void schema_noop_release(struct ArrowSchema *s) { s->release = NULL; }

static void dumped_load(const char *name, dumped *d) {
  memset(d, 0, sizeof *d);
  size_t len;
  uint8_t *raw = slurp(name, &len);
  assert_true(len > 6 && memcmp(raw, "GFCD1\n", 6) == 0);
  size_t p = 6;
  size_t k = 0;
  while (raw[p] != '\n') d->format[k++] = (char)raw[p++];
  p++;
  int64_t hdr[4];
  memcpy(hdr, raw + p, 32);
  p += 32;
  d->nb = hdr[3];
  d->mem = calloc((size_t)d->nb, sizeof *d->mem);
  d->ptrs = calloc((size_t)d->nb, sizeof *d->ptrs);
  for (int64_t i = 0; i < d->nb; i++) {
    int64_t sz;
    memcpy(&sz, raw + p, 8);
    p += 8;
    if (sz < 0) continue;
    d->mem[i] = malloc(sz ? (size_t)sz : 1);
    memcpy(d->mem[i], raw + p, (size_t)sz);
    d->ptrs[i] = d->mem[i];
    p += (size_t)sz;
  }
  assert_int_equal(p, len);
  free(raw);
  d->arr.length = hdr[0];
  d->arr.null_count = hdr[1];
  d->arr.offset = hdr[2];
  d->arr.n_buffers = d->nb;
  d->arr.buffers = d->ptrs;
  d->arr.release = dumped_release;
  d->arr.private_data = d;
  d->sch.format = d->format;
  d->sch.name = "v";
  d->sch.flags = ARROW_FLAG_NULLABLE;
  d->sch.release = schema_noop_release;
}

/* The expected values of one dump in cdata_expected.txt. */
static ref_value *cdata_expected(const char *name, int *n) {
  char *path = data_path("cdata_expected.txt");
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  free(path);
  char tok[4096];
  int cnt = 0;
  ref_value *out = NULL;
  while (fscanf(f, "%4095s %d", tok, &cnt) == 2) {
    bool mine = strcmp(tok, name) == 0;
    if (mine) out = calloc((size_t)(cnt ? cnt : 1), sizeof *out);
    for (int i = 0; i < cnt; i++) {
      assert_int_equal(fscanf(f, "%4095s", tok), 1);
      if (mine) out[i] = ref_parse(tok);
    }
    if (mine) break;
  }
  fclose(f);
  assert_non_null(out);
  *n = cnt;
  return out;
}

/* pyarrow's C Data exports of Utf8View/BinaryView (plain, sliced with an
 * offset, three data buffers with garbage under nulls, empty) import value
 * for value; the producer's array is released by the import (the bytes
 * were copied). */
static void cdata_pyarrow_views_import(void **state) {
  (void)state;
  const char *names[] = {"cdata_utf8view", "cdata_utf8view_sliced",
                         "cdata_binaryview_multi", "cdata_utf8view_empty"};
  const gf_import_check checks[] = {GF_IMPORT_CHECK_LAYOUT, GF_IMPORT_CHECK_FULL};
  for (int i = 0; i < 4; i++)
    for (int ci = 0; ci < 2; ci++) {
      char file[64];
      snprintf(file, sizeof file, "%s.bin", names[i]);
      dumped d;
      dumped_load(file, &d);
      int n = 0;
      ref_value *ref = cdata_expected(names[i], &n);
      gf_array *a = NULL;
      gf_error err;
      gf_status st = gf_array_import(&d.arr, &d.sch, checks[ci], &a, &err);
      if (st != GF_OK) fail_msg("%s: %s", names[i], err.message);
      assert_null(d.arr.release);
      assert_int_equal(d.releases, 1);
      bool bin = strcmp(d.format, "vz") == 0;
      assert_int_equal(gf_array_type(a).id, bin ? GF_TYPE_BINARY : GF_TYPE_UTF8);
      assert_int_equal(gf_array_length(a), n);
      assert_int_equal(gf_array_validate(a, true, NULL), GF_OK);
      for (int64_t r = 0; r < n; r++) check_value(a, r, &ref[r], names[i]);
      gf_array_release(a);
      ref_free(ref, n);
    }
}

/* ---- C Data: hand-built views ---------------------------------------------- */

#define MAXB 6

/* A hand-built view array: `nrows` values (NULL = null), strings longer
 * than 12 bytes spread round-robin over `ndata` data buffers behind a
 * 3-byte gap each; null slots hold garbage views; `lead` leading rows
 * (garbage, valid or not) precede the visible ones (ArrowArray.offset). */
typedef struct hand {
  struct ArrowArray arr;
  struct ArrowSchema sch;
  uint8_t *validity, *views;
  uint8_t *data[MAXB];
  int64_t sizes[MAXB + 1];
  const void *ptrs[MAXB + 3];
  int releases;
} hand;

static void hand_release(struct ArrowArray *a) {
  hand *h = a->private_data;
  h->releases++;
  a->release = NULL;
}

static void hand_free(hand *h) {
  free(h->validity);
  free(h->views);
  for (int i = 0; i < MAXB; i++) free(h->data[i]);
}

static void put_i32(uint8_t *p, int32_t v) { memcpy(p, &v, 4); }

static void hand_build(hand *h, const char *format, const char *const *vals,
                       int nrows, int lead, int ndata) {
  memset(h, 0, sizeof *h);
  int n = nrows + lead;
  h->validity = calloc((size_t)(n / 8 + 1), 1);
  h->views = calloc((size_t)(n ? n : 1), 16);
  size_t used[MAXB] = {0};
  for (int k = 0; k < ndata; k++) h->data[k] = calloc(4096, 1);
  for (int i = 0; i < n; i++) {
    uint8_t *v = h->views + (size_t)i * 16;
    const char *s = i < lead ? (i % 2 ? "lead-garbage-long-string" : NULL) : vals[i - lead];
    if (s == NULL) {
      /* Garbage: a negative length and a buffer index far away. */
      put_i32(v, -7);
      put_i32(v + 8, 9999);
      put_i32(v + 12, -1);
      continue;
    }
    h->validity[i / 8] |= (uint8_t)(1u << (i % 8));
    int32_t len = (int32_t)strlen(s);
    put_i32(v, len);
    if (len <= 12) {
      memcpy(v + 4, s, (size_t)len);
      continue;
    }
    int k = i % ndata;
    size_t off = used[k] + 3;
    memcpy(h->data[k] + off, s, (size_t)len);
    used[k] = off + (size_t)len;
    memcpy(v + 4, s, 4);
    put_i32(v + 8, k);
    put_i32(v + 12, (int32_t)off);
  }
  h->ptrs[0] = h->validity;
  h->ptrs[1] = h->views;
  for (int k = 0; k < ndata; k++) {
    h->ptrs[2 + k] = h->data[k];
    h->sizes[k] = (int64_t)used[k];
  }
  h->ptrs[2 + ndata] = h->sizes;
  h->arr.length = nrows;
  h->arr.offset = lead;
  h->arr.null_count = -1;
  h->arr.n_buffers = 3 + ndata;
  h->arr.buffers = h->ptrs;
  h->arr.release = hand_release;
  h->arr.private_data = h;
  h->sch.format = format;
  h->sch.name = "s";
  h->sch.flags = ARROW_FLAG_NULLABLE;
  h->sch.release = schema_noop_release;
}

static const char *const hand_vals[] = {
    "",  "a",  "twelve bytes", "thirteen byte", NULL, "h\xc3\xa9llo w\xc3\xb6rld, a long one",
    NULL, "0123456789abcdefghij", "xyz", "another fairly long string value", "", NULL,
    "exactly-12ch", "exactly-13chr"};
#define NHAND ((int)(sizeof hand_vals / sizeof hand_vals[0]))

/* Compares an imported array with hand_vals[first .. first+n). */
static void expect_hand(const gf_array *a, int first, int n) {
  assert_int_equal(gf_array_length(a), n);
  for (int i = 0; i < n; i++) {
    const char *s = hand_vals[first + i];
    ref_value v = {s == NULL, s ? strlen(s) : 0, (char *)s};
    check_value(a, i, &v, "hand-built");
  }
}

/* Inline (<= 12 bytes) and out-of-line strings over 1, 2 and 5 data
 * buffers, nulls holding garbage views, leading garbage rows before the
 * offset, both view formats and both check levels, then an empty array and
 * an all-null one: values equal the reference, stats and validation hold,
 * the producer is released exactly once. */
static void cdata_hand_built_views_import(void **state) {
  (void)state;
  const char *formats[] = {"vu", "vz"};
  const int ndatas[] = {1, 2, 5};
  const int leads[] = {0, 3, 9};
  for (int fi = 0; fi < 2; fi++)
    for (int di = 0; di < 3; di++)
      for (int li = 0; li < 3; li++)
        for (int check = 0; check < 2; check++) {
          hand h;
          hand_build(&h, formats[fi], hand_vals, NHAND, leads[li], ndatas[di]);
          gf_array *a = NULL;
          gf_error err;
          gf_status st = gf_array_import(&h.arr, &h.sch, (gf_import_check)check, &a, &err);
          if (st != GF_OK) fail_msg("%s: %s", formats[fi], err.message);
          assert_int_equal(h.releases, 1);
          assert_int_equal(gf_array_type(a).id, fi == 0 ? GF_TYPE_UTF8 : GF_TYPE_BINARY);
          assert_int_equal(gf_array_null_count(a), 3);
          assert_int_equal(gf_array_stats(a)->null_count, 3);
          assert_int_equal(gf_array_validate(a, fi == 0, NULL), GF_OK);
          expect_hand(a, 0, NHAND);
          gf_array_release(a);
          hand_free(&h);
        }
  /* Empty, with NULL views and no data buffers. */
  hand h;
  hand_build(&h, "vu", hand_vals, 0, 0, 1);
  h.ptrs[1] = NULL;
  gf_array *a = NULL;
  assert_int_equal(gf_array_import(&h.arr, &h.sch, GF_IMPORT_CHECK_FULL, &a, NULL), GF_OK);
  assert_int_equal(gf_array_length(a), 0);
  gf_array_release(a);
  hand_free(&h);
  /* All null: every view garbage. */
  const char *nulls[5] = {NULL, NULL, NULL, NULL, NULL};
  hand_build(&h, "vu", nulls, 5, 2, 1);
  assert_int_equal(gf_array_import(&h.arr, &h.sch, GF_IMPORT_CHECK_FULL, &a, NULL), GF_OK);
  assert_int_equal(gf_array_null_count(a), 5);
  gf_array_release(a);
  hand_free(&h);
}

/* Past the small limit the result is large_utf8/large_binary with the same
 * values (the limit is lowered here; the library uses 2^31-1). */
static void cdata_views_past_int32_become_large(void **state) {
  (void)state;
  for (int fi = 0; fi < 2; fi++) {
    hand h;
    hand_build(&h, fi ? "vz" : "vu", hand_vals, NHAND, 2, 2);
    gf_array *a = NULL;
    gf_error err;
    gf_status st = gfi_cdata_import_array(&h.arr, &h.sch, GF_IMPORT_CHECK_FULL, NULL, 20,
                                          &a, &err);
    if (st != GF_OK) fail_msg("%s", err.message);
    assert_int_equal(gf_array_type(a).id, fi ? GF_TYPE_LARGE_BINARY : GF_TYPE_LARGE_UTF8);
    assert_int_equal(gf_array_validate(a, true, NULL), GF_OK);
    expect_hand(a, 0, NHAND);
    /* Widening a small twin gives an equal array. */
    hand h2;
    hand_build(&h2, fi ? "vz" : "vu", hand_vals, NHAND, 2, 2);
    gf_array *small = NULL, *wide = NULL, *sl = NULL;
    assert_int_equal(gf_array_import(&h2.arr, &h2.sch, GF_IMPORT_CHECK_FULL, &small, NULL),
                     GF_OK);
    assert_int_equal(gf_array_slice(small, 0, NHAND, &sl, NULL), GF_OK);
    assert_int_equal(gfi_array_widen(NULL, sl, NULL, &wide, NULL), GF_OK);
    assert_true(gf_array_equals(wide, a));
    gf_array *sl2 = NULL, *wide2 = NULL;
    assert_int_equal(gf_array_slice(small, 3, 6, &sl2, NULL), GF_OK);
    assert_int_equal(gfi_array_widen(NULL, sl2, NULL, &wide2, NULL), GF_OK);
    expect_hand(wide2, 3, 6);
    gf_array_release(wide2);
    gf_array_release(sl2);
    gf_array_release(wide);
    gf_array_release(sl);
    gf_array_release(small);
    gf_array_release(a);
    hand_free(&h);
    hand_free(&h2);
  }
}

/* A column whose batches came out small and large (gfi_view_unify_columns):
 * every batch becomes large and so does the schema; other columns stay. */
static void unify_widens_the_other_batches(void **state) {
  (void)state;
  gf_array *cols[4];
  for (int b = 0; b < 2; b++) {
    hand h;
    hand_build(&h, "vu", hand_vals, NHAND, 0, 1);
    assert_int_equal(gfi_cdata_import_array(&h.arr, &h.sch, GF_IMPORT_CHECK_FULL, NULL,
                                            b == 1 ? 10 : 0, &cols[b * 2], NULL),
                     GF_OK);
    hand_free(&h);
    hand_build(&h, "vz", hand_vals, NHAND, 0, 1);
    assert_int_equal(gf_array_import(&h.arr, &h.sch, GF_IMPORT_CHECK_FULL, &cols[b * 2 + 1],
                                     NULL),
                     GF_OK);
    hand_free(&h);
  }
  gf_field fields[2] = {{"s", gf_type(GF_TYPE_UTF8), true},
                        {"b", gf_type(GF_TYPE_BINARY), true}};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(fields, 2, &s, NULL), GF_OK);
  assert_int_equal(gfi_view_unify_columns(NULL, &s, cols, 2, 2, NULL), GF_OK);
  assert_int_equal(gf_schema_field(s, 0)->type.id, GF_TYPE_LARGE_UTF8);
  assert_int_equal(gf_schema_field(s, 1)->type.id, GF_TYPE_BINARY);
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_new(s, cols, 2, NULL, &f, NULL), GF_OK);
  for (int b = 0; b < 2; b++) {
    expect_hand(gf_frame_column(f, b, 0), 0, NHAND);
    assert_int_equal(gf_array_type(gf_frame_column(f, b, 0)).id, GF_TYPE_LARGE_UTF8);
  }
  gf_frame_release(f);
  gf_schema_release(s);
  for (int i = 0; i < 4; i++) gf_array_release(cols[i]);
}

static gf_status unify_once(void *user, const gf_allocator *a) {
  (void)user;
  gf_array *cols[2];
  for (int b = 0; b < 2; b++) {
    hand h;
    hand_build(&h, "vu", hand_vals, NHAND, 1, 2);
    assert_int_equal(gfi_cdata_import_array(&h.arr, &h.sch, GF_IMPORT_CHECK_FULL, NULL,
                                            b == 0 ? 10 : 0, &cols[b], NULL),
                     GF_OK);
    hand_free(&h);
  }
  gf_field fields[1] = {{"s", gf_type(GF_TYPE_UTF8), true}};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(fields, 1, &s, NULL), GF_OK);
  gf_status st = gfi_view_unify_columns(a, &s, cols, 2, 1, NULL);
  if (st == GF_OK) {
    assert_int_equal(gf_schema_field(s, 0)->type.id, GF_TYPE_LARGE_UTF8);
    for (int b = 0; b < 2; b++) {
      assert_int_equal(gf_array_type(cols[b]).id, GF_TYPE_LARGE_UTF8);
      expect_hand(cols[b], 0, NHAND);
    }
  }
  gf_schema_release(s);
  for (int b = 0; b < 2; b++) gf_array_release(cols[b]);
  return st;
}

/* Every allocation of widening a column failed in turn: GF_ENOMEM, nothing
 * leaked. */
static void unify_survives_allocation_failures(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts cnt = {0};
  gft_alloc_sweep("view column widening", fa, unify_once, NULL, &cnt);
  gft_sweep_print("view column widening", &cnt);
  assert_true(cnt.failing[0] > 0);
  gf_failing_allocator_free(fa);
}

/* One malformation of a hand-built array and the words its error must
 * hold. */
typedef struct bad_case {
  const char *what;
  void (*apply)(hand *h);
  const char *words[3];
} bad_case;

/* Row 3 (lead 0) is "thirteen byte", out of line in buffer 3 % 2 = 1. */
static void bad_index(hand *h) { put_i32(h->views + 3 * 16 + 8, 2); }
static void bad_negative_index(hand *h) { put_i32(h->views + 3 * 16 + 8, -1); }
static void bad_past_end(hand *h) { put_i32(h->views + 3 * 16 + 12, (int32_t)h->sizes[1] - 5); }
static void bad_negative_offset(hand *h) { put_i32(h->views + 3 * 16 + 12, -4); }
static void bad_length(hand *h) { put_i32(h->views + 3 * 16, -2); }
static void bad_prefix(hand *h) { h->views[3 * 16 + 5] ^= 0x20; }
static void bad_utf8_inline(hand *h) { h->views[1 * 16 + 4] = 0xC3; } /* "a" -> lone lead byte */
static void bad_utf8_data(hand *h) {
  /* Row 5 "h\xc3\xa9llo w\xc3\xb6rld..." is out of line in buffer 1: break the ö. */
  int32_t off;
  memcpy(&off, h->views + 5 * 16 + 12, 4);
  h->data[1][off + 9] = 0x41; /* past the 4-byte prefix */
}
static void bad_sizes_null(hand *h) { h->ptrs[h->arr.n_buffers - 1] = NULL; }
static void bad_n_buffers(hand *h) { h->arr.n_buffers = 2; }
static void bad_views_null(hand *h) { h->ptrs[1] = NULL; }
static void bad_negative_size(hand *h) { h->sizes[0] = -1; }

/* Malformed views fail with GF_EINVAL naming the field, the row and what is
 * wrong; the producer's array is left untouched (not released). */
static void cdata_malformed_views_fail_cleanly(void **state) {
  (void)state;
  const bad_case cases[] = {
      {"buffer index", bad_index, {"field 's'", "row 3", "buffer index 2"}},
      {"negative index", bad_negative_index, {"row 3", "buffer index -1", NULL}},
      {"past the end", bad_past_end, {"row 3", "outside data buffer 1", NULL}},
      {"negative offset", bad_negative_offset, {"row 3", "offset -4", NULL}},
      {"negative length", bad_length, {"row 3", "length -2", NULL}},
      {"prefix", bad_prefix, {"row 3", "prefix", NULL}},
      {"utf8 inline", bad_utf8_inline, {"row 1", "UTF-8", NULL}},
      {"utf8 data", bad_utf8_data, {"row 5", "UTF-8", NULL}},
      {"sizes NULL", bad_sizes_null, {"field 's'", "variadic buffer sizes", NULL}},
      {"n_buffers", bad_n_buffers, {"field 's'", "n_buffers is 2", NULL}},
      {"views NULL", bad_views_null, {"views", NULL, NULL}},
      {"negative size", bad_negative_size, {"data buffer 0", "negative size", NULL}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    hand h;
    hand_build(&h, "vu", hand_vals, NHAND, 0, 2);
    cases[c].apply(&h);
    gf_array *a = NULL;
    gf_error err;
    gf_error_clear(&err);
    gf_status st = gf_array_import(&h.arr, &h.sch, GF_IMPORT_CHECK_LAYOUT, &a, &err);
    if (st != GF_EINVAL) fail_msg("%s: status %d (%s)", cases[c].what, (int)st, err.message);
    assert_null(a);
    assert_non_null(h.arr.release);
    assert_int_equal(h.releases, 0);
    for (int w = 0; w < 3 && cases[c].words[w]; w++)
      if (strstr(err.message, cases[c].words[w]) == NULL)
        fail_msg("%s: '%s' not in: %s", cases[c].what, cases[c].words[w], err.message);
    hand_free(&h);
  }
}

static gf_status cdata_import_once(void *user, const gf_allocator *a) {
  (void)user;
  hand h;
  hand_build(&h, "vu", hand_vals, NHAND, 4, 3);
  gf_array *out = NULL;
  gf_status st = gf_array_import_with(&h.arr, &h.sch, GF_IMPORT_CHECK_FULL, a, &out, NULL);
  if (st == GF_OK) {
    expect_hand(out, 0, NHAND);
    gf_array_release(out);
    assert_int_equal(h.releases, 1);
  } else {
    assert_null(out);
    assert_int_equal(h.releases, 0);
  }
  hand_free(&h);
  return st;
}

/* Every allocation of a view import failed in turn: GF_ENOMEM, the
 * producer untouched, nothing leaked. */
static void cdata_views_survive_allocation_failures(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts cnt = {0};
  gft_alloc_sweep("C Data view import", fa, cdata_import_once, NULL, &cnt);
  gft_sweep_print("C Data view import", &cnt);
  assert_true(cnt.failing[0] > 0);
  gf_failing_allocator_free(fa);
}

/* ---- C Data stream of record batches with view columns ---------------------- */

typedef struct view_stream {
  hand cols[2][2]; /* [batch][column]: "vu" then "vz" */
  struct ArrowArray *children[2][2];
  struct ArrowSchema child_sch[2];
  struct ArrowSchema *child_ptrs[2];
  const void *struct_bufs[1];
  int next;
} view_stream;

static void batch_release(struct ArrowArray *a) { a->release = NULL; }

static int vs_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  view_stream *v = s->private_data;
  memset(out, 0, sizeof *out);
  out->format = "+s";
  out->name = "";
  out->n_children = 2;
  out->children = v->child_ptrs;
  out->release = schema_noop_release;
  return 0;
}

static int vs_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  view_stream *v = s->private_data;
  memset(out, 0, sizeof *out);
  if (v->next == 2) return 0;
  int b = v->next++;
  out->length = NHAND - 2;
  out->offset = 1; /* the struct itself is sliced too */
  out->n_buffers = 1;
  out->buffers = v->struct_bufs;
  out->n_children = 2;
  out->children = v->children[b];
  out->release = batch_release;
  return 0;
}

static const char *vs_last_error(struct ArrowArrayStream *s) {
  (void)s;
  return NULL;
}
static void vs_release(struct ArrowArrayStream *s) { s->release = NULL; }

/* Builds the producer side of a view stream: two batches of a Utf8View
 * and a BinaryView column (1 and 2 data buffers). */
static void view_stream_init(view_stream *v, struct ArrowArrayStream *s) {
  memset(v, 0, sizeof *v);
  static const char *const fmts[2] = {"vu", "vz"};
  static const char *const names[2] = {"text", "blob"};
  for (int c = 0; c < 2; c++) {
    v->child_sch[c].format = fmts[c];
    v->child_sch[c].name = names[c];
    v->child_sch[c].flags = ARROW_FLAG_NULLABLE;
    v->child_sch[c].release = schema_noop_release;
    v->child_ptrs[c] = &v->child_sch[c];
    for (int b = 0; b < 2; b++) {
      hand_build(&v->cols[b][c], fmts[c], hand_vals, NHAND, 0, b + 1);
      v->children[b][c] = &v->cols[b][c].arr;
    }
  }
  *s = (struct ArrowArrayStream){vs_get_schema, vs_get_next, vs_last_error, vs_release, v};
}

static void view_stream_free(view_stream *v) {
  for (int b = 0; b < 2; b++)
    for (int c = 0; c < 2; c++) hand_free(&v->cols[b][c]);
}

/* Checks a frame imported from view_stream_init's stream. */
static void check_view_stream_frame(const gf_frame *f) {
  assert_int_equal(gf_schema_field(gf_frame_schema(f), 0)->type.id, GF_TYPE_UTF8);
  assert_int_equal(gf_schema_field(gf_frame_schema(f), 1)->type.id, GF_TYPE_BINARY);
  assert_int_equal(gf_frame_num_rows(f), 2 * (NHAND - 2));
  int64_t row = 0;
  for (int b = 0; b < gf_frame_num_batches(f); b++) {
    const gf_array *a = gf_frame_column(f, b, 0);
    for (int64_t i = 0; i < gf_array_length(a); i++, row++) {
      const char *sv = hand_vals[1 + row % (NHAND - 2)];
      ref_value r = {sv == NULL, sv ? strlen(sv) : 0, (char *)sv};
      check_value(a, i, &r, "stream text");
      check_value(gf_frame_column(f, b, 1), i, &r, "stream blob");
    }
  }
}

/* A C stream of two record batches with a Utf8View and a BinaryView column
 * (the struct sliced by one row) imports into a frame of utf8 and binary
 * columns with the values. */
static void cdata_stream_with_view_columns(void **state) {
  (void)state;
  view_stream v;
  struct ArrowArrayStream s;
  view_stream_init(&v, &s);
  gf_frame *f = NULL;
  gf_error err;
  gf_status st = gf_frame_import_stream(&s, GF_IMPORT_CHECK_FULL, &f, &err);
  if (st != GF_OK) fail_msg("%s", err.message);
  check_view_stream_frame(f);
  gf_frame_release(f);
  view_stream_free(&v);
}

static gf_status stream_import_once(void *user, const gf_allocator *a) {
  (void)user;
  view_stream v;
  struct ArrowArrayStream s;
  view_stream_init(&v, &s);
  gf_frame *f = NULL;
  gf_status st = gf_frame_import_stream_with(&s, GF_IMPORT_CHECK_FULL, a, &f, NULL);
  if (st == GF_OK) {
    check_view_stream_frame(f);
    gf_frame_release(f);
  } else {
    assert_null(f);
  }
  view_stream_free(&v);
  return st;
}

/* Every allocation of importing the view stream failed in turn: GF_ENOMEM,
 * nothing leaked. */
static void cdata_view_stream_survives_allocation_failures(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts cnt = {0};
  gft_alloc_sweep("C Data view stream import", fa, stream_import_once, NULL, &cnt);
  gft_sweep_print("C Data view stream import", &cnt);
  assert_true(cnt.failing[0] > 0);
  gf_failing_allocator_free(fa);
}

/* ---- export as views --------------------------------------------------------- */

/* Reads view i of an exported view array as bytes (the consumer's side,
 * written from the specification here, independent of the library). */
static const uint8_t *read_view(const struct ArrowArray *arr, int64_t i, int32_t *len) {
  const uint8_t *v = (const uint8_t *)arr->buffers[1] + (arr->offset + i) * 16;
  memcpy(len, v, 4);
  if (*len <= 12) return v + 4;
  int32_t bi, off;
  memcpy(&bi, v + 8, 4);
  memcpy(&off, v + 12, 4);
  const int64_t *sizes = arr->buffers[arr->n_buffers - 1];
  assert_true(bi >= 0 && bi < arr->n_buffers - 3);
  assert_true(off >= 0 && off + *len <= sizes[bi]);
  const uint8_t *s = (const uint8_t *)arr->buffers[2 + bi] + off;
  assert_memory_equal(s, v + 4, 4);
  return s;
}

/* Checks an exported view array against array `a` value for value. */
static void check_exported_views(const struct ArrowArray *arr, const gf_array *a) {
  assert_int_equal(arr->length, gf_array_length(a));
  assert_true(arr->n_buffers >= 3);
  for (int64_t i = 0; i < arr->length; i++) {
    const uint8_t *valid = arr->buffers[0];
    bool is_null = valid && !((valid[(arr->offset + i) / 8] >> ((arr->offset + i) % 8)) & 1);
    assert_int_equal(is_null, gf_array_is_null(a, i));
    if (is_null) continue;
    int32_t len;
    const uint8_t *s = read_view(arr, i, &len);
    int64_t want_len;
    const char *want = gf_array_get_bytes(a, i, &want_len);
    assert_int_equal(len, want_len);
    if (len) assert_memory_equal(s, want, (size_t)len);
  }
}

/* GF_EXPORT_STRING_VIEWS: utf8/large_utf8/binary/large_binary (sliced,
 * with nulls) go out as "vu"/"vz" with n_buffers = 3 + data buffers and
 * the sizes last; the views read back (by this test's own reader, and by
 * our import) to the same values; with a small window the data is split
 * over several buffers; without the flag nothing changes. */
static void export_as_views_round_trips(void **state) {
  (void)state;
  const gf_type_id ids[] = {GF_TYPE_UTF8, GF_TYPE_LARGE_UTF8, GF_TYPE_BINARY,
                            GF_TYPE_LARGE_BINARY};
  const int64_t windows[] = {0, 40};
  for (int t = 0; t < 4; t++)
    for (int w = 0; w < 2; w++) {
      gf_builder *b = NULL;
      assert_int_equal(gf_builder_new(gf_type(ids[t]), NULL, &b, NULL), GF_OK);
      for (int r = 0; r < 3; r++)
        for (int i = 0; i < NHAND; i++) {
          if (hand_vals[i] == NULL)
            assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
          else
            assert_int_equal(gf_builder_append_bytes(b, hand_vals[i],
                                                     (int64_t)strlen(hand_vals[i]), NULL),
                             GF_OK);
        }
      gf_array *full = NULL, *a = NULL;
      assert_int_equal(gf_builder_finish(b, &full, NULL), GF_OK);
      gf_builder_free(b);
      assert_int_equal(gf_array_slice(full, 5, 3 * NHAND - 9, &a, NULL), GF_OK);
      gf_cdata_export_options o;
      gf_cdata_export_options_init(&o);
      o.flags = GF_EXPORT_STRING_VIEWS;
      gfi_cdata_view_window_max = windows[w];
      struct ArrowArray arr;
      struct ArrowSchema sch;
      assert_int_equal(gf_array_export_with(a, &o, &arr, &sch, NULL), GF_OK);
      gfi_cdata_view_window_max = 0;
      bool str = ids[t] == GF_TYPE_UTF8 || ids[t] == GF_TYPE_LARGE_UTF8;
      assert_string_equal(sch.format, str ? "vu" : "vz");
      if (windows[w] > 0) assert_true(arr.n_buffers > 4);
      else assert_int_equal(arr.n_buffers, 4);
      check_exported_views(&arr, a);
      gf_array *back = NULL;
      gf_error err;
      gf_status st = gf_array_import(&arr, &sch, GF_IMPORT_CHECK_FULL, &back, &err);
      if (st != GF_OK) fail_msg("%s", err.message);
      assert_int_equal(gf_array_type(back).id, str ? GF_TYPE_UTF8 : GF_TYPE_BINARY);
      for (int64_t i = 0; i < gf_array_length(a); i++) {
        int64_t l1, l2;
        assert_int_equal(gf_array_is_null(a, i), gf_array_is_null(back, i));
        if (gf_array_is_null(a, i)) continue;
        const char *p1 = gf_array_get_bytes(a, i, &l1);
        const char *p2 = gf_array_get_bytes(back, i, &l2);
        assert_int_equal(l1, l2);
        if (l1) assert_memory_equal(p1, p2, (size_t)l1);
      }
      gf_array_release(back);
      sch.release(&sch);
      /* Default options: the plain format. */
      assert_int_equal(gf_array_export_with(a, NULL, &arr, &sch, NULL), GF_OK);
      assert_int_equal(arr.n_buffers, 3);
      assert_true(sch.format[0] != 'v');
      arr.release(&arr);
      sch.release(&sch);
      gf_array_release(a);
      gf_array_release(full);
    }
}

static gf_status export_views_once(void *user, const gf_allocator *a) {
  (void)a; /* the export allocates through the array's own allocator */
  const gf_array *arr = user;
  gf_cdata_export_options o;
  gf_cdata_export_options_init(&o);
  o.flags = GF_EXPORT_STRING_VIEWS;
  struct ArrowArray ea;
  struct ArrowSchema es;
  memset(&ea, 0, sizeof ea);
  gf_status st = gf_array_export_with(arr, &o, &ea, &es, NULL);
  if (st == GF_OK) {
    check_exported_views(&ea, arr);
    ea.release(&ea);
    es.release(&es);
  } else {
    assert_null(ea.release);
  }
  return st;
}

/* Every allocation of exporting as views (a sliced array with nulls, so
 * the validity is re-based too) failed in turn: GF_ENOMEM, nothing leaked. */
static void export_as_views_survives_allocation_failures(void **state) {
  (void)state;
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gf_failing_allocator_arm(fa, 0, false);
  const gf_allocator *a = gf_failing_allocator_get(fa);
  gf_builder *b = NULL;
  assert_int_equal(gf_builder_new(gf_type(GF_TYPE_LARGE_UTF8), a, &b, NULL), GF_OK);
  for (int i = 0; i < NHAND; i++) {
    if (hand_vals[i] == NULL) assert_int_equal(gf_builder_append_null(b, NULL), GF_OK);
    else assert_int_equal(gf_builder_append_bytes(b, hand_vals[i], (int64_t)strlen(hand_vals[i]), NULL), GF_OK);
  }
  gf_array *full = NULL, *sl = NULL;
  assert_int_equal(gf_builder_finish(b, &full, NULL), GF_OK);
  gf_builder_free(b);
  assert_int_equal(gf_array_slice(full, 3, NHAND - 4, &sl, NULL), GF_OK);
  gft_sweep_counts cnt = {0};
  gfi_cdata_view_window_max = 30; /* several windows */
  gft_alloc_sweep("C Data view export", fa, export_views_once, sl, &cnt);
  gfi_cdata_view_window_max = 0;
  gft_sweep_print("C Data view export", &cnt);
  assert_true(cnt.failing[0] > 0);
  gf_array_release(sl);
  gf_array_release(full);
  assert_int_equal(gf_failing_allocator_live_blocks(fa), 0);
  gf_failing_allocator_free(fa);
}

/* A whole frame (utf8, binary, int, dictionary<utf8>) exported as a view
 * stream imports back equal to the frame; an empty column exports too. */
static void export_stream_as_views_round_trips(void **state) {
  (void)state;
  gf_builder *bs[4];
  gf_datatype types[4] = {gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_BINARY),
                          gf_type(GF_TYPE_INT64),
                          gf_type_dictionary(gf_type(GF_TYPE_UTF8))};
  for (int c = 0; c < 4; c++) assert_int_equal(gf_builder_new(types[c], NULL, &bs[c], NULL), GF_OK);
  for (int i = 0; i < NHAND; i++)
    for (int c = 0; c < 4; c++) {
      if (c == 2) {
        assert_int_equal(gf_builder_append_int64(bs[c], i, NULL), GF_OK);
      } else if (hand_vals[i] == NULL) {
        assert_int_equal(gf_builder_append_null(bs[c], NULL), GF_OK);
      } else {
        assert_int_equal(gf_builder_append_bytes(bs[c], hand_vals[i],
                                                 (int64_t)strlen(hand_vals[i]), NULL),
                         GF_OK);
      }
    }
  gf_array *cols[4];
  for (int c = 0; c < 4; c++) {
    assert_int_equal(gf_builder_finish(bs[c], &cols[c], NULL), GF_OK);
    gf_builder_free(bs[c]);
  }
  gf_field fields[4] = {{"u", types[0], true}, {"b", types[1], true}, {"i", types[2], true},
                        {"d", types[3], true}};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(fields, 4, &s, NULL), GF_OK);
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_new(s, cols, 1, NULL, &f, NULL), GF_OK);
  gf_cdata_export_options o;
  gf_cdata_export_options_init(&o);
  o.flags = GF_EXPORT_STRING_VIEWS;
  struct ArrowArrayStream st;
  assert_int_equal(gf_frame_export_stream_with(f, &o, &st, NULL), GF_OK);
  struct ArrowSchema sch;
  assert_int_equal(st.get_schema(&st, &sch), 0);
  assert_string_equal(sch.children[0]->format, "vu");
  assert_string_equal(sch.children[1]->format, "vz");
  assert_string_equal(sch.children[2]->format, "l");
  assert_string_equal(sch.children[3]->dictionary->format, "vu");
  sch.release(&sch);
  gf_frame *back = NULL;
  gf_error err;
  gf_status rc = gf_frame_import_stream(&st, GF_IMPORT_CHECK_FULL, &back, &err);
  if (rc != GF_OK) fail_msg("%s", err.message);
  assert_true(gf_frame_equals(f, back));
  gf_frame_release(back);
  gf_frame_release(f);
  gf_schema_release(s);
  for (int c = 0; c < 4; c++) gf_array_release(cols[c]);
}

/* ---- IPC write as views -------------------------------------------------------- */

/* Requires every value of `got` to format as the value of `want` at the
 * same row (types may differ: large_* and views come back as utf8). */
static void same_values(const gf_frame *want, const gf_frame *got) {
  assert_int_equal(gf_frame_num_columns(want), gf_frame_num_columns(got));
  assert_int_equal(gf_frame_num_rows(want), gf_frame_num_rows(got));
  for (int c = 0; c < gf_frame_num_columns(want); c++) {
    int bw = 0, bg = 0;
    int64_t iw = 0, ig = 0;
    for (int64_t r = 0; r < gf_frame_num_rows(want); r++) {
      while (iw >= gf_array_length(gf_frame_column(want, bw, c))) { bw++; iw = 0; }
      while (ig >= gf_array_length(gf_frame_column(got, bg, c))) { bg++; ig = 0; }
      const gf_array *aw = gf_frame_column(want, bw, c), *ag = gf_frame_column(got, bg, c);
      assert_int_equal(gf_array_is_null(aw, iw), gf_array_is_null(ag, ig));
      char x[256], y[256];
      gf_array_format_value(aw, iw, x, sizeof x);
      gf_array_format_value(ag, ig, y, sizeof y);
      if (strcmp(x, y) != 0) fail_msg("column %d row %lld: %s vs %s", c, (long long)r, x, y);
      iw++;
      ig++;
    }
  }
}

/* GF_IPC_WRITE_STRING_VIEWS: utf8, large_utf8, binary and dictionary<utf8>
 * columns (nulls, several batches, a sliced frame) written as views, as a
 * file and a stream, uncompressed and compressed, read back with the same
 * values (as utf8/binary); the schema says Utf8View/BinaryView. */
static void ipc_write_views_round_trips(void **state) {
  (void)state;
  gf_datatype types[5] = {gf_type(GF_TYPE_UTF8), gf_type(GF_TYPE_LARGE_UTF8),
                          gf_type(GF_TYPE_BINARY), gf_type_dictionary(gf_type(GF_TYPE_UTF8)),
                          gf_type(GF_TYPE_INT64)};
  gf_array *cols[15];
  for (int b = 0; b < 3; b++)
    for (int c = 0; c < 5; c++) {
      gf_builder *bl = NULL;
      assert_int_equal(gf_builder_new(types[c], NULL, &bl, NULL), GF_OK);
      for (int i = 0; i < NHAND; i++) {
        const char *v = hand_vals[(i + b * 3 + c) % NHAND];
        if (c == 4) assert_int_equal(gf_builder_append_int64(bl, i * 10 + b, NULL), GF_OK);
        else if (v == NULL) assert_int_equal(gf_builder_append_null(bl, NULL), GF_OK);
        else assert_int_equal(gf_builder_append_bytes(bl, v, (int64_t)strlen(v), NULL), GF_OK);
      }
      assert_int_equal(gf_builder_finish(bl, &cols[b * 5 + c], NULL), GF_OK);
      gf_builder_free(bl);
    }
  gf_field fields[5] = {{"u", types[0], true}, {"lu", types[1], true}, {"b", types[2], true},
                        {"d", types[3], true}, {"i", types[4], true}};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(fields, 5, &s, NULL), GF_OK);
  gf_frame *full = NULL, *f = NULL;
  assert_int_equal(gf_frame_new(s, cols, 3, NULL, &full, NULL), GF_OK);
  assert_int_equal(gf_frame_slice(full, 3, 3 * NHAND - 7, &f, NULL), GF_OK);
  for (int file = 0; file < 2; file++)
    for (int comp = 0; comp < 2; comp++) {
      gf_ipc_write_options o;
      gf_ipc_write_options_init(&o);
      o.flags = GF_IPC_WRITE_STRING_VIEWS;
      if (comp) {
        if (!gf_ipc_compression_available(GF_IPC_COMPRESSION_ZSTD)) continue;
        o.compression = GF_IPC_COMPRESSION_ZSTD;
      }
      void *mem = NULL;
      size_t len = 0;
      gf_error err;
      if (gf_write_ipc_memory(f, file, &o, &mem, &len, &err) != GF_OK) fail_msg("%s", err.message);
      gf_frame *back = NULL;
      gf_status st = file ? gf_read_ipc_file_buffer(mem, len, NULL, &back, &err)
                          : gf_read_ipc_stream_buffer(mem, len, NULL, &back, &err);
      if (st != GF_OK) fail_msg("%s", err.message);
      const gf_schema *bs = gf_frame_schema(back);
      assert_int_equal(gf_schema_field(bs, 0)->type.id, GF_TYPE_UTF8);
      assert_int_equal(gf_schema_field(bs, 1)->type.id, GF_TYPE_UTF8);
      assert_int_equal(gf_schema_field(bs, 2)->type.id, GF_TYPE_BINARY);
      assert_int_equal(gf_schema_field(bs, 3)->type.id, GF_TYPE_DICTIONARY);
      same_values(f, back);
      gf_frame_release(back);
      gf_mem_free(mem);
    }
  gf_frame_release(f);
  gf_frame_release(full);
  gf_schema_release(s);
  for (int i = 0; i < 15; i++) gf_array_release(cols[i]);
}

static gf_status ipc_write_views_once(void *user, const gf_allocator *a) {
  const gf_frame *f = user;
  gf_parallel_options par;
  gf_parallel_options_init(&par);
  par.allocator = a;
  gf_ipc_write_options o;
  gf_ipc_write_options_init(&o);
  o.flags = GF_IPC_WRITE_STRING_VIEWS;
  o.parallel = &par;
  void *mem = NULL;
  size_t len = 0;
  gf_status st = gf_write_ipc_memory(f, true, &o, &mem, &len, NULL);
  if (st == GF_OK) {
    gf_frame *back = NULL;
    assert_int_equal(gf_read_ipc_file_buffer(mem, len, NULL, &back, NULL), GF_OK);
    same_values(f, back);
    gf_frame_release(back);
    gf_mem_free(mem);
  } else {
    assert_null(mem);
  }
  return st;
}

/* Every allocation of writing a frame as views failed in turn: GF_ENOMEM,
 * nothing leaked. */
static void ipc_write_views_survives_allocation_failures(void **state) {
  (void)state;
  gf_array *cols[2];
  gf_datatype types[2] = {gf_type(GF_TYPE_UTF8), gf_type_dictionary(gf_type(GF_TYPE_BINARY))};
  for (int c = 0; c < 2; c++) {
    gf_builder *bl = NULL;
    assert_int_equal(gf_builder_new(types[c], NULL, &bl, NULL), GF_OK);
    for (int i = 0; i < NHAND; i++) {
      const char *v = hand_vals[i];
      if (v == NULL) assert_int_equal(gf_builder_append_null(bl, NULL), GF_OK);
      else assert_int_equal(gf_builder_append_bytes(bl, v, (int64_t)strlen(v), NULL), GF_OK);
    }
    assert_int_equal(gf_builder_finish(bl, &cols[c], NULL), GF_OK);
    gf_builder_free(bl);
  }
  gf_field fields[2] = {{"u", types[0], true}, {"d", types[1], true}};
  gf_schema *s = NULL;
  assert_int_equal(gf_schema_new(fields, 2, &s, NULL), GF_OK);
  gf_frame *f = NULL;
  assert_int_equal(gf_frame_new(s, cols, 1, NULL, &f, NULL), GF_OK);
  gf_failing_allocator *fa = NULL;
  assert_int_equal(gf_failing_allocator_new(NULL, &fa, NULL), GF_OK);
  gft_sweep_counts cnt = {0};
  gft_alloc_sweep("IPC view write", fa, ipc_write_views_once, f, &cnt);
  gft_sweep_print("IPC view write", &cnt);
  assert_true(cnt.failing[0] > 0);
  gf_failing_allocator_free(fa);
  gf_frame_release(f);
  gf_schema_release(s);
  for (int c = 0; c < 2; c++) gf_array_release(cols[c]);
}

/* ---- nested types are refused naming the type and the field ----------------- */

/* pyarrow's IPC files with a nested column 'n' (after an int column):
 * GF_ENOTSUP naming the Arrow type and the field. */
static void ipc_nested_types_refused_naming_type_and_field(void **state) {
  (void)state;
  const struct {
    const char *file, *type;
  } cases[] = {{"nested_list.arrow", "list"},
               {"nested_large_list.arrow", "large_list"},
               {"nested_fixed_size_list.arrow", "fixed_size_list"},
               {"nested_struct.arrow", "struct"},
               {"nested_map.arrow", "map"},
               {"nested_dense_union.arrow", "union"},
               {"nested_sparse_union.arrow", "union"},
               {"nested_run_end_encoded.arrow", "run_end_encoded"},
               {"nested_list_view.arrow", "list_view"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *path = data_path(cases[i].file);
    gf_frame *f = NULL;
    gf_error err;
    gf_error_clear(&err);
    gf_status st = gf_read_ipc(path, NULL, &f, &err);
    free(path);
    if (st != GF_ENOTSUP) fail_msg("%s: status %d: %s", cases[i].file, (int)st, err.message);
    assert_null(f);
    if (!strstr(err.message, cases[i].type) || !strstr(err.message, "'n'"))
      fail_msg("%s: message lacks the type or the field: %s", cases[i].file, err.message);
  }
}

/* C Data schemas and arrays with nested formats: GF_ENOTSUP naming the
 * type in words and the field, from gf_schema_import, gf_array_import and
 * a stream import. */
static void cdata_nested_types_refused_naming_type_and_field(void **state) {
  (void)state;
  const struct {
    const char *format, *type;
  } cases[] = {{"+l", "list"},           {"+L", "large_list"},
               {"+w:3", "fixed_size_list"}, {"+s", "struct"},
               {"+m", "map"},            {"+ud:0,1", "dense union"},
               {"+us:0,1", "sparse union"}, {"+r", "run_end_encoded"},
               {"+vl", "list_view"},     {"+vL", "large_list_view"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct ArrowSchema child = {0}, id = {0}, top = {0};
    id.format = "i";
    id.name = "id";
    id.release = schema_noop_release;
    child.format = cases[i].format;
    child.name = "nested_col";
    child.release = schema_noop_release;
    struct ArrowSchema *kids[2] = {&id, &child};
    top.format = "+s";
    top.name = "";
    top.n_children = 2;
    top.children = kids;
    top.release = schema_noop_release;
    gf_schema *s = NULL;
    gf_error err;
    gf_error_clear(&err);
    assert_int_equal(gf_schema_import(&top, &s, &err), GF_ENOTSUP);
    if (!strstr(err.message, cases[i].type) || !strstr(err.message, "'nested_col'") ||
        !strstr(err.message, cases[i].format))
      fail_msg("schema %s: %s", cases[i].format, err.message);
    /* A single array of that type. */
    struct ArrowArray arr = {0};
    const void *bufs[2] = {NULL, NULL};
    arr.length = 0;
    arr.n_buffers = 1;
    arr.buffers = bufs;
    arr.release = batch_release;
    gf_array *a = NULL;
    gf_error_clear(&err);
    assert_int_equal(gf_array_import(&arr, &child, GF_IMPORT_CHECK_FULL, &a, &err), GF_ENOTSUP);
    assert_null(a);
    assert_non_null(arr.release);
    if (!strstr(err.message, cases[i].type) || !strstr(err.message, "'nested_col'"))
      fail_msg("array %s: %s", cases[i].format, err.message);
    /* As dictionary values. */
    struct ArrowSchema idx = {0};
    idx.format = "i";
    idx.name = "dict_col";
    idx.dictionary = &child;
    idx.release = schema_noop_release;
    gf_datatype t;
    gf_error_clear(&err);
    assert_int_equal(gf_type_import(&idx, &t, &err), GF_ENOTSUP);
    assert_non_null(strstr(err.message, cases[i].type));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ipc_views_read_as_utf8_and_binary),
      cmocka_unit_test(ipc_views_survive_allocation_failures),
      cmocka_unit_test(ipc_corrupt_views_fail_cleanly),
      cmocka_unit_test(cdata_view_amplification_is_bounded_by_the_memory_limit),
      cmocka_unit_test(cdata_pyarrow_views_import),
      cmocka_unit_test(cdata_hand_built_views_import),
      cmocka_unit_test(cdata_views_past_int32_become_large),
      cmocka_unit_test(unify_widens_the_other_batches),
      cmocka_unit_test(unify_survives_allocation_failures),
      cmocka_unit_test(cdata_malformed_views_fail_cleanly),
      cmocka_unit_test(cdata_views_survive_allocation_failures),
      cmocka_unit_test(cdata_stream_with_view_columns),
      cmocka_unit_test(cdata_view_stream_survives_allocation_failures),
      cmocka_unit_test(export_as_views_round_trips),
      cmocka_unit_test(export_stream_as_views_round_trips),
      cmocka_unit_test(export_as_views_survives_allocation_failures),
      cmocka_unit_test(ipc_write_views_round_trips),
      cmocka_unit_test(ipc_write_views_survives_allocation_failures),
      cmocka_unit_test(ipc_nested_types_refused_naming_type_and_field),
      cmocka_unit_test(cdata_nested_types_refused_naming_type_and_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
