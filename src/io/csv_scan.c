/* Structural indexing of CSV text and the bitmask row splitter (see
 * csv_scan.h for the model). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv_scan.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GFI_CSV_X86 1
#include <immintrin.h>
#else
#define GFI_CSV_X86 0
#endif

/* Bytes indexed per refill: a multiple of 64, so that only the very last
 * block of the input can be partial. One entry per byte at most. */
#define SCAN_WINDOW (32 * 1024)

/* ------------------------------------------------------------------ */
/* Kernel choice                                                       */
/* ------------------------------------------------------------------ */

/* Level and clmul for CPU features `cpu` and GF_CSV_SIMD=`env`. */
int gfi_csv_simd_choose(unsigned cpu, const char *env, bool *clmul) {
  int best = GFI_CSV_SIMD_SWAR;
#if GFI_CSV_X86
  if (cpu & GF_CPU_SSE42) best = GFI_CSV_SIMD_SSE42;
  if ((cpu & GF_CPU_AVX2) && (cpu & GF_CPU_AVX)) best = GFI_CSV_SIMD_AVX2;
  bool cl = (cpu & GF_CPU_PCLMUL) != 0;
#else
  bool cl = false;
#endif
  int cap = GFI_CSV_SIMD_AVX2;
  if (env && *env) {
    if (!strcmp(env, "off") || !strcmp(env, "swar") || !strcmp(env, "0") ||
        !strcmp(env, "none")) {
      cap = GFI_CSV_SIMD_SWAR;
      cl = false; /* the fully portable path */
    } else if (!strcmp(env, "sse42") || !strcmp(env, "sse4.2")) {
      cap = GFI_CSV_SIMD_SSE42;
    } else if (!strcmp(env, "noclmul")) {
      cl = false;
    }
  }
  *clmul = cl;
  return best < cap ? best : cap;
}

static atomic_int chosen = -1; /* level + 4 * clmul, or -1 before the first use */

static int load_choice(void) {
  int v = atomic_load_explicit(&chosen, memory_order_relaxed);
  if (v < 0) {
    bool cl;
    int lv = gfi_csv_simd_choose(gf_cpu_features(), getenv("GF_CSV_SIMD"), &cl);
    v = lv + (cl ? 4 : 0);
    atomic_store_explicit(&chosen, v, memory_order_relaxed); /* same value in every thread */
  }
  return v;
}

void gfi_csv_simd_force(int level, bool clmul) {
  atomic_store(&chosen, level < 0 ? -1 : level + (clmul ? 4 : 0));
}

int gfi_csv_simd_level(void) { return load_choice() & 3; }

bool gfi_csv_simd_clmul(void) { return (load_choice() & 4) != 0; }

/* ------------------------------------------------------------------ */
/* Block kernels                                                       */
/* ------------------------------------------------------------------ */

/* High bit of every byte of w equal to the byte repeated in pat (exact:
 * no false positives from borrows). */
static inline uint64_t byte_eq(uint64_t w, uint64_t pat) {
  uint64_t x = w ^ pat;
  uint64_t t = ((x & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | x;
  return ~t & 0x8080808080808080ull;
}

/* Gathers the high bits of the 8 bytes (as byte_eq leaves them) into the
 * low 8 bits: lane k moves to bit 56 + k of the product, and no two partial
 * products share a bit, so nothing carries. */
static inline uint64_t pack8(uint64_t hi) {
  return ((hi >> 7) * 0x0102040810204080ull) >> 56;
}

/* Portable kernel: eight 64-bit words. */
static void masks_swar(const char *p, char delim, char quote, gfi_csv_masks *m) {
  const uint64_t ones = 0x0101010101010101ull;
  const uint64_t dp = ones * (uint8_t)delim, np = ones * (uint8_t)'\n',
                 qp = ones * (uint8_t)quote;
  uint64_t d = 0, n = 0, q = 0;
  for (int k = 0; k < 8; k++) {
    uint64_t w;
    memcpy(&w, p + 8 * k, 8);
    d |= pack8(byte_eq(w, dp)) << (8 * k);
    n |= pack8(byte_eq(w, np)) << (8 * k);
    q |= pack8(byte_eq(w, qp)) << (8 * k);
  }
  m->delim = d;
  m->nl = n;
  m->quote = q;
}

#if GFI_CSV_X86
/* SSE4.2 level: four 16-byte compares per character class. */
__attribute__((target("sse4.2"))) static void masks_sse42(const char *p, char delim,
                                                          char quote, gfi_csv_masks *m) {
  const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n'), vq = _mm_set1_epi8(quote);
  uint64_t d = 0, n = 0, q = 0;
  for (int k = 0; k < 4; k++) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    d |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vd)) << (16 * k);
    n |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vn)) << (16 * k);
    q |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq)) << (16 * k);
  }
  m->delim = d;
  m->nl = n;
  m->quote = q;
}

/* AVX2 level: two 32-byte compares per character class. */
__attribute__((target("avx2"))) static void masks_avx2(const char *p, char delim, char quote,
                                                       gfi_csv_masks *m) {
  const __m256i vd = _mm256_set1_epi8(delim), vn = _mm256_set1_epi8('\n'),
                vq = _mm256_set1_epi8(quote);
  __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)p);
  __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
#define GFI_MM(x, v) ((uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8((x), (v))))
  m->delim = GFI_MM(a, vd) | GFI_MM(b, vd) << 32;
  m->nl = GFI_MM(a, vn) | GFI_MM(b, vn) << 32;
  m->quote = GFI_MM(a, vq) | GFI_MM(b, vq) << 32;
#undef GFI_MM
}

/* Prefix-XOR as one carry-less multiply by all ones. */
__attribute__((target("pclmul,sse2"))) static uint64_t prefix_xor_clmul(uint64_t x) {
  __m128i v = _mm_clmulepi64_si128(_mm_set_epi64x(0, (long long)x), _mm_set1_epi8((char)0xFF), 0);
  return (uint64_t)_mm_cvtsi128_si64(v);
}
#endif

void gfi_csv_block_masks(int level, const char *p, char delim, char quote, gfi_csv_masks *m) {
#if GFI_CSV_X86
  if (level >= GFI_CSV_SIMD_AVX2) {
    masks_avx2(p, delim, quote, m);
    return;
  }
  if (level == GFI_CSV_SIMD_SSE42) {
    masks_sse42(p, delim, quote, m);
    return;
  }
#endif
  (void)level;
  masks_swar(p, delim, quote, m);
}

/* Shift-xor fallback: log2(64) doubling steps. */
static inline uint64_t prefix_xor_shift(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

uint64_t gfi_csv_prefix_xor(uint64_t x, bool clmul) {
#if GFI_CSV_X86
  if (clmul) return prefix_xor_clmul(x);
#endif
  (void)clmul;
  return prefix_xor_shift(x);
}

/* ------------------------------------------------------------------ */
/* Counting (pass 1 of the reader)                                     */
/* ------------------------------------------------------------------ */

void gfi_csv_count_masks(int level, const char *p, size_t n, char quote, bool quoting,
                         int64_t *quotes, int64_t *newlines) {
  int64_t q = 0, nl = 0;
  size_t i = 0;
  gfi_csv_masks m;
  /* The delimiter slot is unused here: '\n' never counts twice. */
  for (; i + 64 <= n; i += 64) {
    gfi_csv_block_masks(level, p + i, '\n', quote, &m);
    nl += __builtin_popcountll(m.nl);
    q += __builtin_popcountll(m.quote);
  }
  for (; i < n; i++) {
    nl += p[i] == '\n';
    q += p[i] == quote;
  }
  *quotes = quoting ? q : 0;
  *newlines = nl;
}

/* ------------------------------------------------------------------ */
/* Splitter                                                            */
/* ------------------------------------------------------------------ */

gf_status gfi_csv_splitter_init(gfi_csv_splitter *s, const gfi_csv_dialect *d,
                                const char *start, const char *end, gfi_csv_tokenizer *tok,
                                int level, bool clmul, const gf_allocator *a) {
  memset(s, 0, sizeof *s);
  s->d = *d;
  if (level < 0) {
    level = gfi_csv_simd_level();
    clmul = gfi_csv_simd_clmul();
  }
  s->level = level;
  s->clmul = clmul;
  s->pos = s->scanned = s->wbase = start;
  s->end = end;
  s->tok = tok;
  s->alloc = gfi_alloc_or_default(a);
  size_t span = (size_t)(end - start);
  s->cap = span < SCAN_WINDOW ? span + 1 : SCAN_WINDOW;
  s->idx = gfi_malloc(s->alloc, s->cap * sizeof *s->idx);
  return s->idx ? GF_OK : GF_ENOMEM;
}

void gfi_csv_splitter_free(gfi_csv_splitter *s) {
  if (s->idx) gfi_mfree(s->alloc, s->idx, s->cap * sizeof *s->idx);
  s->idx = NULL;
}

/* Appends the entries of one block at offset `off` of the window: the
 * separators outside quotes and every quote; `valid` masks the bytes that
 * belong to the input. */
static inline void index_block(gfi_csv_splitter *s, const char *p, uint32_t off,
                               uint64_t valid) {
  gfi_csv_masks m;
  gfi_csv_block_masks(s->level, p, s->d.delim, s->d.quote, &m);
  uint64_t q = s->d.quoting ? m.quote & valid : 0;
  uint64_t inside = gfi_csv_prefix_xor(q, s->clmul) ^ s->inq;
  s->inq = (uint64_t)((int64_t)inside >> 63); /* all ones when the block ends inside */
  uint64_t all = (((m.delim | m.nl) & ~inside) | q) & valid;
  uint32_t *o = s->idx + s->n;
  while (all) {
    *o++ = off + (uint32_t)__builtin_ctzll(all);
    all &= all - 1;
  }
  s->n = (size_t)(o - s->idx);
}

/* Indexes the next window; false at the end of the input. */
static bool refill(gfi_csv_splitter *s) {
  if (s->scanned >= s->end) return false;
  size_t avail = (size_t)(s->end - s->scanned);
  size_t w = avail < SCAN_WINDOW ? avail : SCAN_WINDOW;
  s->wbase = s->scanned;
  s->n = s->i = 0;
  size_t off = 0;
  for (; off + 64 <= w; off += 64) index_block(s, s->scanned + off, (uint32_t)off, ~0ull);
  if (off < w) {
    /* The last partial block: copied, so no load reaches past the input. */
    char buf[64];
    memset(buf, 0, sizeof buf);
    memcpy(buf, s->scanned + off, w - off);
    index_block(s, buf, (uint32_t)off, (1ull << (w - off)) - 1);
  }
  s->scanned += w;
  return true;
}

/* The next separator or quote, or NULL at the end of the input. */
static inline const char *next_entry(gfi_csv_splitter *s) {
  while (s->i == s->n)
    if (!refill(s)) return NULL;
  return s->wbase + s->idx[s->i++];
}

/* Stores a plain field. */
static inline void put_field(gfi_csv_field *fields, int max_fields, int nf, const char *p,
                             int64_t len) {
  if (fields && nf < max_fields) {
    gfi_csv_field *f = &fields[nf];
    f->p = p;
    f->len = len;
    f->raw = p;
    f->quoted = false;
  }
}

gf_status gfi_csv_splitter_next(gfi_csv_splitter *s, gfi_csv_field *fields, int max_fields,
                                gfi_csv_row *row) {
  const char delim = s->d.delim;
  const char *fs = s->pos, *rend = NULL;
  int nf = 0;
  bool quoted = false;
  int64_t len = 0;
  row->bad = NULL;
  row->newlines = 0;
  row->kind = GFI_CSV_ROW;
  for (;;) {
    const char *q = next_entry(s);
    if (!q) {
      rend = s->end;
      if (quoted) break;
      len = s->end - fs;
      if (len > 0 && s->end[-1] == '\r') len--;
      put_field(fields, max_fields, nf++, fs, len);
      row->next = s->end;
      break;
    }
    char c = *q;
    if (c == delim) {
      if (!quoted) {
        put_field(fields, max_fields, nf++, fs, q - fs);
        fs = q + 1;
      }
      continue;
    }
    if (c != '\n') { /* a quote: the scalar tokenizer reads this row */
      quoted = true;
      continue;
    }
    rend = q + 1;
    if (quoted) break;
    len = q - fs;
    if (len > 0 && q[-1] == '\r') len--;
    put_field(fields, max_fields, nf++, fs, len);
    row->newlines = 1;
    row->next = q + 1;
    break;
  }
  if (quoted) {
    gf_status st = gfi_csv_next_row(s->tok, s->pos, s->end, fields, max_fields, row);
    if (st == GF_OK && row->next != rend) return GF_EINTERNAL; /* the two models disagree */
    s->pos = row->next;
    return st;
  }
  row->nfields = nf;
  if (nf == 1 && len == 0) row->kind = GFI_CSV_BLANK;
  s->pos = row->next;
  return GF_OK;
}
