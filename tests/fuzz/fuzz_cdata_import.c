/* libFuzzer target: Arrow C Data Interface import with full validation.
 *
 * The input bytes drive the construction of an ArrowSchema/ArrowArray pair:
 * the format string (from a table of supported and unsupported formats, or
 * raw bytes), length, offset, null count, number of buffers, which buffers
 * are NULL, buffer contents (offsets included), and an optional dictionary.
 * Every non-NULL buffer is owned memory at least as large as the Arrow
 * layout implies for (offset + length) and the buffer's role, and variable-
 * width data buffers are as large as the largest offset, so a conforming
 * importer can never read out of bounds: any sanitizer report is a bug in
 * the importer. Successful imports must validate, format, and survive an
 * export -> import round trip unchanged. Seed corpus: tests/fuzz/corpus/cdata/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gopherframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Cursor over the fuzz input; reads past the end give zeros. */
typedef struct input {
  const uint8_t *p;
  size_t n, pos;
} input;

static uint8_t take(input *in) { return in->pos < in->n ? in->p[in->pos++] : 0; }

/* Layout of a format: bits per value of buffer 1 (1 = bool bitmap), width of
 * variable-size offsets (0, 32 or 64), and the buffer count Arrow expects.
 * View formats ("vu", "vz") are laid out by build_views instead. */
typedef struct kind {
  const char *format;
  int bits;
  int var;
  int nbuf;
} kind;

/* Utf8View/BinaryView: buffers validity, views, nbuf - 3 data buffers and
 * their sizes. Decided by the format text, raw ones included, because the
 * importer trusts the sizes buffer and must be given true sizes. */
static bool is_view_format(const char *f) {
  return f[0] == 'v' && (f[1] == 'u' || f[1] == 'z') && f[2] == '\0';
}

static const kind KINDS[] = {
    {"n", 0, 0, 0},     {"b", 1, 0, 2},      {"c", 8, 0, 2},
    {"C", 8, 0, 2},     {"s", 16, 0, 2},     {"S", 16, 0, 2},
    {"i", 32, 0, 2},    {"I", 32, 0, 2},     {"l", 64, 0, 2},
    {"L", 64, 0, 2},    {"f", 32, 0, 2},     {"g", 64, 0, 2},
    {"u", 0, 32, 3},    {"U", 0, 64, 3},     {"z", 0, 32, 3},
    {"Z", 0, 64, 3},    {"w:5", 40, 0, 2},   {"w:1", 8, 0, 2},
    {"tdD", 32, 0, 2},  {"tdm", 64, 0, 2},   {"tts", 32, 0, 2},
    {"ttm", 32, 0, 2},  {"ttu", 64, 0, 2},   {"ttn", 64, 0, 2},
    {"tsu:", 64, 0, 2}, {"tss:UTC", 64, 0, 2}, {"tsn:+05:30", 64, 0, 2},
    {"tsm:-08:00", 64, 0, 2}, {"tDs", 64, 0, 2}, {"tDn", 64, 0, 2},
    {"e", 16, 0, 2},    {"d:10,2", 128, 0, 2}, {"+s", 0, 0, 1},
    {"vu", 128, 0, 3},  {"tsu:Mars/Base", 64, 0, 2}, {"w:", 8, 0, 2},
    /* Named zones (tz database) and hostile zone names. */
    {"tsu:US/Eastern", 64, 0, 2}, {"tsn:Europe/Paris", 64, 0, 2},
    {"tss:../../etc/passwd", 64, 0, 2}, {"tsm:/etc/localtime", 64, 0, 2},
    {"d:38,10", 128, 0, 2}, {"d:76,5,256", 256, 0, 2}, {"d:5,0,128", 128, 0, 2},
    {"d:3,-1", 128, 0, 2}, {"d:40,2", 128, 0, 2},
};
#define NKINDS ((int)(sizeof KINDS / sizeof KINDS[0]))

/* Picked when the dictionary selector byte is in [160, 192) (no dictionary
 * then): kept apart from KINDS so that the seeds and regressions written
 * before it keep their meaning (they index KINDS modulo its size). */
static const kind VIEW_KINDS[] = {
    {"vu", 128, 0, 4}, {"vu", 128, 0, 5}, {"vz", 128, 0, 4},
    {"vz", 128, 0, 6}, {"vu", 128, 0, 3}, {"+l", 0, 0, 1},
    {"+r", 0, 0, 0},         {"+vl", 0, 0, 1}};
#define NVIEW_KINDS ((int)(sizeof VIEW_KINDS / sizeof VIEW_KINDS[0]))

/* Owned memory of one ArrowArray (buffers, buffer array, dictionary). */
typedef struct holder {
  void *blocks[8];
  int nblocks;
} holder;

/* The producer's release: frees what this array owns, and the dictionary
 * unless the consumer moved it out (its release then is NULL). */
static void release_array(struct ArrowArray *a) {
  holder *h = a->private_data;
  for (int i = 0; i < h->nblocks; i++) free(h->blocks[i]);
  if (a->dictionary) {
    if (a->dictionary->release) a->dictionary->release(a->dictionary);
    free(a->dictionary);
  }
  free((void *)a->buffers);
  free(h);
  a->release = NULL;
}

static void release_schema(struct ArrowSchema *s) { s->release = NULL; }

/* A length or offset: mostly small, sometimes extreme. */
static int64_t pick_int(input *in, int small_max) {
  static const int64_t extreme[] = {-1, INT64_MAX, INT64_MIN, (int64_t)1 << 40,
                                    (int64_t)INT32_MAX + 1, INT64_MAX / 8,
                                    INT64_MAX / 4 + 1, 1 << 20};
  uint8_t b = take(in);
  if (b >= 248) return extreme[b - 248];
  return b % (small_max + 1);
}

/* Bytes buffer i needs for `k` at (offset + length) elements, or -1 when the
 * element count is negative, overflows or is too large to allocate (the
 * buffer is then NULL). */
static int64_t buffer_bytes(const kind *k, int i, int64_t elems) {
  if (elems < 0 || elems > (1 << 16)) return -1;
  if (i == 0) return (elems + 7) / 8;
  if (i == 1) {
    if (k->var) return (elems + 1) * (k->var / 8);
    int64_t bytes = (elems * k->bits + 7) / 8;
    return bytes > (1 << 18) ? -1 : bytes;
  }
  return 16;
}

/* Fills the buffers of a view array from the input: data buffers of 0..63
 * input bytes each (each may stay NULL), the sizes buffer
 * holding their true sizes (a producer may not lie about those: the
 * importer trusts them as it trusts buffer lengths), and views that are
 * mostly plausible (inline of 0..13 bytes, or out of line into one of the
 * data buffers with the right prefix) and sometimes not (bad index, offset
 * or length past the buffer, wrong prefix, negative length); then the
 * validity bitmap and the views (either may be NULL). */
static bool build_views(input *in, struct ArrowArray *a, holder *h,
                        int64_t elems) {
  int64_t nd = a->n_buffers - 3;
  uint8_t *data[4] = {NULL, NULL, NULL, NULL};
  int64_t sizes[4] = {0, 0, 0, 0};
  if (nd > 4) return true; /* sizes stay NULL: refused */
  for (int64_t d = 0; d < nd; d++) {
    sizes[d] = take(in) % 64;
    data[d] = malloc((size_t)sizes[d] + 1);
    if (!data[d]) return false;
    h->blocks[h->nblocks++] = data[d];
    for (int64_t j = 0; j < sizes[d]; j++) data[d][j] = take(in);
    if ((take(in) & 15) != 0) a->buffers[2 + d] = data[d];
  }
  if ((take(in) & 15) != 0) {
    int64_t *sz = calloc((size_t)(nd + 1), sizeof *sz);
    if (!sz) return false;
    h->blocks[h->nblocks++] = sz;
    memcpy(sz, sizes, (size_t)nd * sizeof *sz);
    a->buffers[a->n_buffers - 1] = sz;
  }
  if (elems < 0 || elems > (1 << 12)) return true;
  if ((take(in) & 15) != 0) {
    int64_t vb = (elems + 7) / 8;
    uint8_t *v = malloc((size_t)vb + 1);
    if (!v) return false;
    h->blocks[h->nblocks++] = v;
    for (int64_t j = 0; j < vb; j++) v[j] = take(in);
    a->buffers[0] = v;
  }
  if ((take(in) & 15) == 0) return true; /* NULL views */
  uint8_t *views = calloc((size_t)(elems ? elems : 1), 16);
  if (!views) return false;
  h->blocks[h->nblocks++] = views;
  for (int64_t i = 0; i < elems; i++) {
    uint8_t *v = views + i * 16;
    uint8_t m = take(in);
    int32_t len, idx, off;
    if (m < 128 || nd == 0) {
      len = m % 14; /* 13: "inline" bytes read as an out-of-line view */
      memcpy(v, &len, 4);
      for (int j = 0; j < 12 && j < len; j++) v[4 + j] = take(in);
      continue;
    }
    idx = (int32_t)(take(in) % (nd + 1));
    if (m == 255) idx = -1;
    off = take(in) % 64;
    len = 13 + take(in) % 40;
    if (m == 254) len = -len;
    memcpy(v, &len, 4);
    memcpy(v + 8, &idx, 4);
    memcpy(v + 12, &off, 4);
    bool fits = idx >= 0 && idx < nd && off + 4 <= sizes[idx];
    if (fits && m != 253)
      memcpy(v + 4, data[idx] + off, 4);
    else
      for (int j = 0; j < 4; j++) v[4 + j] = take(in);
  }
  a->buffers[1] = views;
  return true;
}

/* Fills `a` from the input for kind `k`; `depth` 0 may get a dictionary of
 * kind `dict_kind` (NULL = none). Returns false when memory runs out. */
static bool build(input *in, const kind *k, const kind *dict_kind,
                  struct ArrowArray *a) {
  memset(a, 0, sizeof *a);
  holder *h = calloc(1, sizeof *h);
  if (!h) return false;
  a->private_data = h;
  a->release = release_array;
  a->length = pick_int(in, 40);
  a->offset = pick_int(in, 9);
  uint8_t nc = take(in);
  a->null_count = nc < 128 ? -1 : nc < 192 ? 0 : (int64_t)(nc % 8) - 1;
  uint8_t nb = take(in);
  a->n_buffers = nb < 224 ? k->nbuf : nb % 5;
  if (a->n_buffers > 0) {
    a->buffers = calloc((size_t)a->n_buffers, sizeof(void *));
    if (!a->buffers) return false;
  }
  int64_t elems = a->length < 0 || a->offset < 0 || a->length > INT64_MAX - a->offset
                      ? -1
                      : a->length + a->offset;
  int64_t max_off = 0;
  bool view = is_view_format(k->format) && a->n_buffers >= 3;
  if (view && !build_views(in, a, h, elems)) return false;
  for (int i = 0; i < a->n_buffers && !view; i++) {
    uint8_t f = take(in);
    if ((f & 15) == 0) continue; /* NULL buffer */
    int64_t bytes;
    if (i == 2 && k->var)
      bytes = max_off;
    else
      bytes = buffer_bytes(k, i, elems);
    if (bytes < 0) continue;
    uint8_t *buf = malloc((size_t)bytes + 1);
    if (!buf) return false;
    h->blocks[h->nblocks++] = buf;
    for (int64_t j = 0; j < bytes; j++) buf[j] = take(in);
    if (i == 1 && k->var) {
      /* Offsets: keep values small so the data buffer can cover them all;
       * negative and decreasing values stay (validation must catch them). */
      int64_t n = bytes / (k->var / 8);
      for (int64_t j = 0; j < n; j++) {
        int64_t v;
        if (k->var == 32) {
          int32_t w;
          memcpy(&w, buf + 4 * j, 4);
          if (w > 4096 || w < -4096) w %= 4097;
          memcpy(buf + 4 * j, &w, 4);
          v = w;
        } else {
          int64_t w;
          memcpy(&w, buf + 8 * j, 8);
          if (w > 4096 || w < -4096) w %= 4097;
          memcpy(buf + 8 * j, &w, 8);
          v = w;
        }
        if (v > max_off) max_off = v;
      }
    }
    a->buffers[i] = buf;
  }
  if (dict_kind) {
    a->dictionary = malloc(sizeof *a->dictionary);
    if (!a->dictionary) return false;
    if (!build(in, dict_kind, NULL, a->dictionary)) {
      free(a->dictionary);
      a->dictionary = NULL;
      return false;
    }
  }
  return true;
}

/* Checks an imported array: valid, readable, and unchanged by a round trip
 * through export and import. */
static void check_imported(const gf_array *arr) {
  gf_error verr;
  if (gf_array_validate(arr, true, &verr) != GF_OK) {
    fprintf(stderr, "imported array fails validation: %s\n", verr.message);
    abort();
  }
  /* Null arrays may be huge without memory (no buffers): format a prefix. */
  char buf[64];
  int64_t n = gf_array_length(arr) < 4096 ? gf_array_length(arr) : 4096;
  for (int64_t i = 0; i < n; i++) gf_array_format_value(arr, i, buf, sizeof buf);
  struct ArrowArray ea;
  struct ArrowSchema es;
  if (gf_array_export(arr, &ea, &es, NULL) != GF_OK) return;
  gf_array *back = NULL;
  gf_error err;
  if (gf_array_import(&ea, &es, GF_IMPORT_CHECK_FULL, &back, &err) != GF_OK) {
    fprintf(stderr, "re-import of an export failed: %s\n", err.message);
    abort();
  }
  if (!gf_array_equals(arr, back)) {
    fprintf(stderr, "export/import round trip changed the array\n");
    abort();
  }
  gf_array_release(back);
  es.release(&es);
  /* Exported as views (strings and binaries, dictionary values too) and
   * imported back: the same values (large_* come back small). */
  gf_type_id vid = gf_type_value(gf_array_type(arr)).id;
  if (vid != GF_TYPE_UTF8 && vid != GF_TYPE_BINARY) return;
  gf_cdata_export_options o;
  gf_cdata_export_options_init(&o);
  o.flags = GF_EXPORT_STRING_VIEWS;
  if (gf_array_export_with(arr, &o, &ea, &es, NULL) != GF_OK) return;
  if (gf_array_import(&ea, &es, GF_IMPORT_CHECK_FULL, &back, &err) != GF_OK) {
    fprintf(stderr, "re-import of a view export failed: %s\n", err.message);
    abort();
  }
  if (!gf_array_equals(arr, back)) {
    fprintf(stderr, "view export/import round trip changed the array\n");
    abort();
  }
  gf_array_release(back);
  es.release(&es);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {data, size, 0};
  uint8_t sel = take(&in);
  char raw[13];
  const kind *k = &KINDS[sel % NKINDS];
  kind rawk;
  if (sel >= 240) {
    /* Raw format string from the input, laid out like a table entry. */
    size_t n = take(&in) % 12;
    for (size_t i = 0; i < n; i++) raw[i] = (char)take(&in);
    raw[n] = '\0';
    rawk = KINDS[take(&in) % NKINDS];
    rawk.format = raw;
    /* The importer reads what the format implies, so the buffers must be
     * at least that large whatever the raw text says: 128 bits per value
     * (the widest fixed type) or the w:N width, 64-bit offsets for the
     * variable-size letters (also enough for 32-bit ones). */
    rawk.bits = 128;
    rawk.var = strchr("uzUZ", raw[0]) && raw[0] ? 64 : 0;
    if (raw[0] == 'd' && raw[1] == ':' && strstr(raw, ",256")) rawk.bits = 256;
    if (raw[0] == 'w' && raw[1] == ':') {
      long w = strtol(raw + 2, NULL, 10);
      if (w > 16 && w <= 65536) rawk.bits = (int)(w * 8);
      if (w > 65536) rawk.bits = 1 << 30; /* buffers become NULL */
    }
    k = &rawk;
  }
  uint8_t dsel = take(&in);
  if (sel < 240 && dsel >= 160 && dsel < 192) k = &VIEW_KINDS[sel % NVIEW_KINDS];
  const kind *dict_kind = NULL;
  bool schema_dict = false;
  if (dsel >= 192) {
    dict_kind = &KINDS[dsel % NKINDS];
    schema_dict = true;
    /* Sometimes only one of array and schema has the dictionary. */
    if ((dsel & 7) == 1) dict_kind = NULL;
    if ((dsel & 7) == 2) schema_dict = false;
  }

  struct ArrowSchema dschema = {0};
  struct ArrowSchema schema = {0};
  if (schema_dict) {
    const kind *vk = dict_kind ? dict_kind : &KINDS[dsel % NKINDS];
    dschema.format = vk->format;
    dschema.name = "";
    dschema.flags = ARROW_FLAG_NULLABLE;
    dschema.release = release_schema;
    schema.dictionary = &dschema;
  }
  schema.format = k->format;
  schema.name = "x";
  schema.flags = take(&in) & 7;
  schema.release = release_schema;

  gf_datatype t;
  (void)gf_type_import(&schema, &t, NULL);

  struct ArrowArray arr;
  bool built = build(&in, k, dict_kind, &arr);
  if (built) {
    gf_array *out = NULL;
    gf_import_check chk = (sel & 1) ? GF_IMPORT_CHECK_FULL : GF_IMPORT_CHECK_LAYOUT;
    gf_error err;
    if (gf_array_import(&arr, &schema, chk, &out, &err) == GF_OK) {
      if (arr.release != NULL) {
        fprintf(stderr, "successful import did not take the array\n");
        abort();
      }
      if (chk == GF_IMPORT_CHECK_FULL) check_imported(out);
      gf_array_release(out);
      return 0;
    }
    if (arr.release == NULL) {
      fprintf(stderr, "failed import released the array: %s\n", err.message);
      abort();
    }
  }
  if (arr.release) arr.release(&arr);
  return 0;
}
