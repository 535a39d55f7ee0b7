/* Golden files: every dataset of arrow-testing's IPC integration dirs
 * (written by Arrow C++) is read as a file and as a stream. Datasets whose
 * types we support are compared value by value with their JSON; the others
 * must fail with GF_ENOTSUP naming what is unsupported. A dataset in
 * neither list fails the test: nothing is skipped silently.
 * GF_ARROW_TESTING points at the arrow-testing checkout. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

/* ---- a tiny JSON reader (test only) ---------------------------------- */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
  jtype t;
  bool b;
  char *s;       /* J_STR: decoded UTF-8; J_NUM: the literal text */
  size_t slen;
  struct jval *items; /* J_ARR / J_OBJ values */
  char **keys;        /* J_OBJ */
  size_t n;
} jval;

typedef struct jparser {
  const char *p, *end;
} jparser;

static void jskip(jparser *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
    j->p++;
}

static void jfree(jval *v) {
  free(v->s);
  for (size_t i = 0; i < v->n; i++) {
    jfree(&v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
}

static void put_utf8(char *out, size_t *n, unsigned cp) {
  if (cp < 0x80) {
    out[(*n)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*n)++] = (char)(0xC0 | cp >> 6);
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[(*n)++] = (char)(0xE0 | cp >> 12);
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    out[(*n)++] = (char)(0xF0 | cp >> 18);
    out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[(*n)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static unsigned hex4(const char *p) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 32) - 'a' + 10);
  }
  return v;
}

static bool jstring(jparser *j, char **out, size_t *len) {
  j->p++; /* opening quote */
  const char *q = j->p;
  while (q < j->end && *q != '"') q += *q == '\\' ? 2 : 1;
  if (q >= j->end) return false;
  char *s = malloc((size_t)(q - j->p) + 1);
  size_t n = 0;
  while (j->p < q) {
    char c = *j->p++;
    if (c != '\\') {
      s[n++] = c;
      continue;
    }
    c = *j->p++;
    switch (c) {
      case 'n': s[n++] = '\n'; break;
      case 't': s[n++] = '\t'; break;
      case 'r': s[n++] = '\r'; break;
      case 'b': s[n++] = '\b'; break;
      case 'f': s[n++] = '\f'; break;
      case 'u': {
        unsigned cp = hex4(j->p);
        j->p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && j->p + 6 <= q && j->p[0] == '\\') {
          unsigned lo = hex4(j->p + 2);
          j->p += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        put_utf8(s, &n, cp);
        break;
      }
      default: s[n++] = c; break;
    }
  }
  j->p = q + 1;
  s[n] = 0;
  *out = s;
  *len = n;
  return true;
}

static bool jparse(jparser *j, jval *v, int depth) {
  memset(v, 0, sizeof *v);
  jskip(j);
  if (j->p >= j->end || depth > 64) return false;
  char c = *j->p;
  if (c == '{' || c == '[') {
    v->t = c == '{' ? J_OBJ : J_ARR;
    j->p++;
    size_t cap = 0;
    for (;;) {
      jskip(j);
      if (j->p < j->end && *j->p == (c == '{' ? '}' : ']')) {
        j->p++;
        return true;
      }
      if (v->n == cap) {
        cap = cap ? cap * 2 : 8;
        v->items = realloc(v->items, cap * sizeof *v->items);
        if (c == '{') v->keys = realloc(v->keys, cap * sizeof *v->keys);
      }
      if (c == '{') {
        size_t kl;
        jskip(j);
        if (j->p >= j->end || *j->p != '"' || !jstring(j, &v->keys[v->n], &kl)) return false;
        jskip(j);
        if (j->p >= j->end || *j->p != ':') return false;
        j->p++;
      }
      if (!jparse(j, &v->items[v->n], depth + 1)) return false;
      v->n++;
      jskip(j);
      if (j->p < j->end && *j->p == ',') j->p++;
    }
  }
  if (c == '"') {
    v->t = J_STR;
    return jstring(j, &v->s, &v->slen);
  }
  if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
    v->t = J_BOOL;
    v->b = *j->p == 't';
    j->p += v->b ? 4 : 5;
    return true;
  }
  if (!strncmp(j->p, "null", 4)) {
    j->p += 4;
    return true;
  }
  const char *q = j->p;
  while (q < j->end && strchr("+-0123456789.eE", *q)) q++;
  if (q == j->p) return false;
  v->t = J_NUM;
  v->slen = (size_t)(q - j->p);
  v->s = malloc(v->slen + 1);
  memcpy(v->s, j->p, v->slen);
  v->s[v->slen] = 0;
  j->p = q;
  return true;
}

static const jval *jget(const jval *o, const char *key) {
  if (!o || o->t != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (!strcmp(o->keys[i], key)) return &o->items[i];
  return NULL;
}

/* Reads and parses a gzipped JSON file (through gzip -dc). */
static bool load_json_gz(const char *path, jval *out) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "gzip -dc '%.1000s'", path);
  FILE *f = popen(cmd, "r");
  if (!f) return false;
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) buf = realloc(buf, cap *= 2);
  }
  int rc = pclose(f);
  jparser j = {buf, buf + len};
  bool ok = rc == 0 && jparse(&j, out, 0);
  free(buf);
  return ok;
}

/* ---- comparing a frame with the JSON -------------------------------- */

static int64_t jint(const jval *v) { return strtoll(v->s, NULL, 10); }
static uint64_t juint(const jval *v) { return strtoull(v->s, NULL, 10); }

static int hexval(char c) {
  return c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
}

/* True when element i of the JSON column is valid. */
static bool jvalid(const jval *col, size_t i) {
  const jval *v = jget(col, "VALIDITY");
  if (!v) return false; /* null columns have no VALIDITY */
  return i < v->n && jint(&v->items[i]) != 0;
}

static int64_t values_checked;

/* The JSON text of an unscaled decimal ("-12345") as `width` bytes of
 * little-endian two's complement, by schoolbook multiply-by-ten on bytes
 * (independent of the library's 128/256-bit code). */
static void decimal_bytes(const char *txt, int width, uint8_t *out) {
  memset(out, 0, (size_t)width);
  bool neg = *txt == '-';
  if (neg || *txt == '+') txt++;
  for (; *txt; txt++) {
    unsigned carry = (unsigned)(*txt - '0');
    for (int k = 0; k < width; k++) {
      unsigned v = out[k] * 10u + carry;
      out[k] = (uint8_t)(v & 0xFF);
      carry = v >> 8;
    }
  }
  if (neg) { /* two's complement: invert and add one */
    unsigned carry = 1;
    for (int k = 0; k < width; k++) {
      unsigned v = (uint8_t)~out[k] + carry;
      out[k] = (uint8_t)(v & 0xFF);
      carry = v >> 8;
    }
  }
}

/* Compares value i of `a` (not a dictionary) with JSON value `e`. */
static void check_value(const char *ds, const char *col, const gf_array *a,
                        int64_t i, const jval *e) {
  gf_datatype t = gf_array_type(a);
  values_checked++;
  char where[1400];
  snprintf(where, sizeof where, "%.900s: column %.200s row %lld", ds, col, (long long)i);
  switch (t.id) {
    case GF_TYPE_BOOL:
      if (gf_array_get_bool(a, i) != e->b) fail_msg("%s: bool differs", where);
      break;
    case GF_TYPE_INT8: case GF_TYPE_INT16: case GF_TYPE_INT32: case GF_TYPE_INT64:
    case GF_TYPE_UINT8: case GF_TYPE_UINT16: case GF_TYPE_UINT32:
    case GF_TYPE_DATE32: case GF_TYPE_DATE64: case GF_TYPE_TIME32:
    case GF_TYPE_TIME64: case GF_TYPE_TIMESTAMP: case GF_TYPE_DURATION:
      if (gf_array_get_int64(a, i) != jint(e))
        fail_msg("%s: %lld != %s", where, (long long)gf_array_get_int64(a, i), e->s);
      break;
    case GF_TYPE_UINT64:
      if (gf_array_get_uint64(a, i) != juint(e))
        fail_msg("%s: %llu != %s", where, (unsigned long long)gf_array_get_uint64(a, i), e->s);
      break;
    case GF_TYPE_FLOAT32: case GF_TYPE_FLOAT64: {
      double x = gf_array_get_double(a, i), y = strtod(e->s, NULL);
      double tol = (t.id == GF_TYPE_FLOAT32 ? 1e-6 : 1e-12) * (fabs(y) > 1 ? fabs(y) : 1);
      if (fabs(x - y) > tol) fail_msg("%s: %.17g != %s", where, x, e->s);
      break;
    }
    case GF_TYPE_UTF8: case GF_TYPE_LARGE_UTF8: {
      int64_t n;
      const char *p = gf_array_get_bytes(a, i, &n);
      if ((size_t)n != e->slen || memcmp(p, e->s, (size_t)n) != 0)
        fail_msg("%s: string '%.*s' != '%s'", where, (int)n, p, e->s);
      break;
    }
    case GF_TYPE_BINARY: case GF_TYPE_LARGE_BINARY:
    case GF_TYPE_FIXED_SIZE_BINARY: {
      int64_t n;
      const uint8_t *p = (const uint8_t *)gf_array_get_bytes(a, i, &n);
      if ((size_t)n * 2 != e->slen) fail_msg("%s: binary length %lld", where, (long long)n);
      for (int64_t k = 0; k < n; k++)
        if (p[k] != (uint8_t)(hexval(e->s[2 * k]) * 16 + hexval(e->s[2 * k + 1])))
          fail_msg("%s: binary byte %lld differs", where, (long long)k);
      break;
    }
    case GF_TYPE_DECIMAL128: case GF_TYPE_DECIMAL256: {
      int64_t n;
      const uint8_t *p = (const uint8_t *)gf_array_get_bytes(a, i, &n);
      uint8_t want[32];
      int w = t.id == GF_TYPE_DECIMAL128 ? 16 : 32;
      assert_int_equal(n, w);
      decimal_bytes(e->s, w, want);
      if (memcmp(p, want, (size_t)w) != 0) fail_msg("%s: decimal differs from %s", where, e->s);
      break;
    }
    default:
      fail_msg("%s: unexpected type %s", where, gf_type_id_name(t.id));
  }
}

/* The JSON data column of dictionary `id`. */
static const jval *dict_column(const jval *root, int64_t id) {
  const jval *ds = jget(root, "dictionaries");
  for (size_t i = 0; ds && i < ds->n; i++)
    if (jint(jget(&ds->items[i], "id")) == id) {
      const jval *cols = jget(jget(&ds->items[i], "data"), "columns");
      return cols && cols->n ? &cols->items[0] : NULL;
    }
  return NULL;
}

/* A timestamp field's unit and zone as the JSON gives them: the zone text
 * ("UTC", "US/Eastern") must come back as written. */
static void check_timestamp_type(const char *ds, const gf_field *fld, const jval *jt) {
  const jval *name = jt ? jget(jt, "name") : NULL;
  if (!name || strcmp(name->s, "timestamp") != 0) return;
  gf_datatype t = gf_type_value(fld->type);
  if (t.id != GF_TYPE_TIMESTAMP) fail_msg("%s: field %s is not a timestamp", ds, fld->name);
  static const char *const units[] = {"SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND"};
  if (strcmp(units[t.unit], jget(jt, "unit")->s) != 0)
    fail_msg("%s: field %s has unit %s", ds, fld->name, units[t.unit]);
  const jval *tz = jget(jt, "timezone");
  char buf[256];
  gf_type_format(t, buf, sizeof buf);
  if (!tz) {
    if (t.has_timezone) fail_msg("%s: field %s: %s has a zone", ds, fld->name, buf);
    return;
  }
  char want[256];
  snprintf(want, sizeof want, "timestamp[%s, %s]",
           t.unit == GF_UNIT_SECOND ? "s" : t.unit == GF_UNIT_MILLI ? "ms"
           : t.unit == GF_UNIT_MICRO ? "us" : "ns", tz->s);
  if (strcmp(buf, want) != 0) fail_msg("%s: field %s is %s, expected %s", ds, fld->name, buf, want);
  if (strcmp(tz->s, "UTC") != 0 &&
      (!gf_type_timezone_name(t) || strcmp(gf_type_timezone_name(t), tz->s) != 0))
    fail_msg("%s: field %s: zone name is not %s", ds, fld->name, tz->s);
}

/* Compares one read frame with the JSON of the dataset. */
static void compare(const char *ds, const gf_frame *f, const jval *root) {
  const jval *fields = jget(jget(root, "schema"), "fields");
  const jval *batches = jget(root, "batches");
  assert_non_null(fields);
  assert_non_null(batches);
  const gf_schema *s = gf_frame_schema(f);
  assert_int_equal(gf_schema_num_fields(s), fields->n);
  for (size_t c = 0; c < fields->n; c++) {
    const jval *fname = jget(&fields->items[c], "name");
    if (strcmp(gf_schema_field(s, (int)c)->name, fname->s) != 0)
      fail_msg("%s: field %zu is '%s', expected '%s'", ds, c,
               gf_schema_field(s, (int)c)->name, fname->s);
    const jval *nullable = jget(&fields->items[c], "nullable");
    assert_int_equal(gf_schema_field(s, (int)c)->nullable, nullable->b);
    check_timestamp_type(ds, gf_schema_field(s, (int)c), jget(&fields->items[c], "type"));
    const jval *jt = jget(&fields->items[c], "type");
    if (!strcmp(jget(jt, "name")->s, "decimal")) {
      gf_datatype t = gf_schema_field(s, (int)c)->type;
      const jval *bw = jget(jt, "bitWidth");
      assert_int_equal(t.id, bw && jint(bw) == 256 ? GF_TYPE_DECIMAL256 : GF_TYPE_DECIMAL128);
      assert_int_equal(t.precision, jint(jget(jt, "precision")));
      assert_int_equal(t.scale, jint(jget(jt, "scale")));
    }
  }
  if ((size_t)gf_frame_num_batches(f) != batches->n)
    fail_msg("%s: %d batches, expected %zu", ds, gf_frame_num_batches(f), batches->n);
  for (size_t b = 0; b < batches->n; b++) {
    const jval *cols = jget(&batches->items[b], "columns");
    assert_int_equal(gf_frame_batch_rows(f, (int)b), jint(jget(&batches->items[b], "count")));
    for (size_t c = 0; c < cols->n; c++) {
      const jval *jc = &cols->items[c];
      const gf_array *a = gf_frame_column(f, (int)b, (int)c);
      size_t count = (size_t)jint(jget(jc, "count"));
      assert_int_equal(gf_array_length(a), count);
      const jval *data = jget(jc, "DATA");
      const jval *dictenc = jget(&fields->items[c], "dictionary");
      const jval *dcol = dictenc ? dict_column(root, jint(jget(dictenc, "id"))) : NULL;
      for (size_t i = 0; i < count; i++) {
        bool valid = jvalid(jc, i);
        const gf_array *va = a;
        int64_t vi = (int64_t)i;
        const jval *e = data ? &data->items[i] : NULL;
        if (dictenc && valid) {
          assert_non_null(dcol);
          size_t code = (size_t)jint(e);
          valid = jvalid(dcol, code);
          e = &jget(dcol, "DATA")->items[code];
          va = gf_array_dictionary(a);
          vi = gf_array_get_int64(a, (int64_t)i);
        }
        bool is_null = gf_array_is_null(a, (int64_t)i) || gf_array_is_null(va, vi);
        if (is_null != !valid)
          fail_msg("%s: batch %zu column %s row %zu: null is %d, expected %d", ds,
                   b, gf_schema_field(s, (int)c)->name, i, is_null, !valid);
        if (valid) check_value(ds, gf_schema_field(s, (int)c)->name, va, vi, e);
      }
    }
  }
}

/* ---- the datasets ---------------------------------------------------- */

typedef struct expectation {
  const char *name;
  const char *unsupported; /* NULL = must read and match; else a word of the
                              GF_ENOTSUP message */
  bool seen;
} expectation;

static expectation expected[] = {
    {"generated_primitive", NULL, false},
    {"generated_primitive_no_batches", NULL, false},
    {"generated_primitive_zerolength", NULL, false},
    {"generated_primitive_large_offsets", NULL, false},
    {"generated_null", NULL, false},
    {"generated_null_trivial", NULL, false},
    {"generated_dictionary", NULL, false},
    {"generated_dictionary_unsigned", NULL, false},
    /* Extension types are read as their storage types. */
    {"generated_extension", NULL, false},
    {"generated_lz4", NULL, false},
    {"generated_uncompressible_lz4", NULL, false},
    {"generated_zstd", NULL, false},
    {"generated_uncompressible_zstd", NULL, false},
    {"generated_custom_metadata", "list", false},
    {"generated_datetime", NULL, false},
    {"generated_decimal", NULL, false},
    {"generated_decimal256", NULL, false},
    {"generated_duplicate_fieldnames", "duplicate", false},
    {"generated_interval", "interval", false},
    {"generated_map", "map", false},
    {"generated_map_non_canonical", "map", false},
    {"generated_nested", "list", false},
    {"generated_nested_dictionary", "list", false},
    {"generated_nested_large_offsets", "large_list", false},
    {"generated_recursive_nested", "list", false},
    {"generated_union", "union", false},
};

static expectation *find_expectation(const char *name) {
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    if (!strcmp(expected[i].name, name)) return &expected[i];
  return NULL;
}

static bool is_compressed(const char *name) {
  return strstr(name, "lz4") || strstr(name, "zstd");
}

static void check_dataset(const char *dir, const char *name) {
  expectation *x = find_expectation(name);
  if (!x) fail_msg("dataset %s/%s is in neither list of this test", dir, name);
  x->seen = true;
  char path[1400], json[1400];
  snprintf(json, sizeof json, "%.900s/%.200s.json.gz", dir, name);
  jval root;
  bool loaded = !x->unsupported && load_json_gz(json, &root);
  if (!x->unsupported && !loaded) fail_msg("cannot parse %s", json);
  for (int as_file = 0; as_file < 2; as_file++) {
    snprintf(path, sizeof path, "%.900s/%.200s.%s", dir, name, as_file ? "arrow_file" : "stream");
    gf_frame *f = NULL;
    gf_error err;
    gf_error_clear(&err);
    gf_status st = as_file ? gf_read_ipc_file(path, NULL, &f, &err)
                           : gf_read_ipc_stream(path, NULL, &f, &err);
    if (x->unsupported) {
      if (st != GF_ENOTSUP || !strstr(err.message, x->unsupported))
        fail_msg("%s: expected GF_ENOTSUP mentioning '%s', got %s: %s", path,
                 x->unsupported, gf_status_name(st), err.message);
      assert_null(f);
      continue;
    }
    if (st == GF_ENOTSUP && is_compressed(name) &&
        (!gf_ipc_compression_available(GF_IPC_COMPRESSION_LZ4_FRAME) ||
         !gf_ipc_compression_available(GF_IPC_COMPRESSION_ZSTD)) &&
        strstr(err.message, "built without")) {
      /* A build without the codec must say so (checked, not skipped). */
      continue;
    }
    if (st != GF_OK) fail_msg("%s: %s: %s", path, gf_status_name(st), err.message);
    compare(path, f, &root);
    /* And what we read, we write back and read again identically. */
    void *mem;
    size_t len;
    assert_int_equal(gf_write_ipc_memory(f, as_file, NULL, &mem, &len, &err), GF_OK);
    gf_frame *g = NULL;
    st = as_file ? gf_read_ipc_file_buffer(mem, len, NULL, &g, &err)
                 : gf_read_ipc_stream_buffer(mem, len, NULL, &g, &err);
    if (st != GF_OK) fail_msg("%s rewritten: %s", path, err.message);
    assert_true(gf_frame_equals(f, g));
    gf_frame_release(g);
    gf_mem_free(mem);
    gf_frame_release(f);
  }
  if (loaded) jfree(&root);
}

static void every_golden_dataset_reads_or_fails_cleanly(void **state) {
  (void)state;
  const char *base = getenv("GF_ARROW_TESTING");
  if (!base) base = "../shared/arrow-testing";
  char root[1024];
  snprintf(root, sizeof root, "%s/data/arrow-ipc-stream/integration", base);
  DIR *top = opendir(root);
  if (!top) fail_msg("cannot open %s (set GF_ARROW_TESTING)", root);
  struct dirent *d;
  int datasets = 0;
  while ((d = readdir(top))) {
    if (d->d_name[0] == '.') continue;
    char dir[1400];
    snprintf(dir, sizeof dir, "%.900s/%.255s", root, d->d_name);
    DIR *sub = opendir(dir);
    if (!sub) continue;
    struct dirent *e;
    while ((e = readdir(sub))) {
      size_t n = strlen(e->d_name);
      if (n < 9 || strcmp(e->d_name + n - 8, ".json.gz") != 0) continue;
      char name[256];
      snprintf(name, sizeof name, "%.*s", (int)(n - 8), e->d_name);
      check_dataset(dir, name);
      datasets++;
    }
    closedir(sub);
  }
  closedir(top);
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
    if (!expected[i].seen) fail_msg("dataset %s not found under %s", expected[i].name, root);
  assert_true(datasets >= (int)(sizeof expected / sizeof expected[0]));
  /* Guards against a comparison that silently compares nothing. */
  print_message("%d datasets, %lld values compared\n", datasets, (long long)values_checked);
  assert_true(values_checked > 2000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_golden_dataset_reads_or_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
